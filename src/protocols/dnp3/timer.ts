import type { SchedulerLike, Subscription } from 'rxjs';

/** One restartable timer on an injected scheduler (virtual time in tests). */
export class Timer {
  private sub: Subscription | null = null;
  private token: object | null = null;

  constructor(private readonly scheduler: SchedulerLike) {}

  get active(): boolean {
    return this.token !== null;
  }

  start(ms: number, fn: () => void): void {
    this.cancel();
    const token = {};
    this.token = token;
    const sub = this.scheduler.schedule(() => {
      if (this.token !== token) return;
      this.token = null;
      this.sub = null;
      fn();
    }, Math.max(0, ms));
    // A synchronous scheduler may have run it already.
    if (this.token === token) this.sub = sub;
  }

  cancel(): void {
    this.token = null;
    const s = this.sub;
    this.sub = null;
    s?.unsubscribe();
  }
}
