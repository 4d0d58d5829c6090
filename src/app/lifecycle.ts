/**
 * The parts of a running system in the order they came up, stopped in reverse: what is stopped
 * first (polling, the clock) keeps later steps (flushing the store, closing sockets) quiet.
 */
export class Lifecycle {
  private readonly parts: { name: string; stop: () => Promise<void> | void }[] = [];

  add(name: string, stop: () => Promise<void> | void): void {
    this.parts.push({ name, stop });
  }

  /** Stop every part, newest first; a part that fails or hangs past `timeoutMs` is reported and skipped. */
  async stopAll(timeoutMs: number, report: (name: string, problem: string) => void = () => undefined): Promise<void> {
    while (this.parts.length) {
      const p = this.parts.pop()!;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
      try {
        const r = await Promise.race([Promise.resolve().then(p.stop), timeout]);
        if (r === 'timeout') report(p.name, `did not stop within ${timeoutMs} ms`);
      } catch (e) {
        report(p.name, e instanceof Error ? e.message : String(e));
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
