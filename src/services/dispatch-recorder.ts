import type { Observable, Subscription } from 'rxjs';
import type { DispatchEvent } from '../core/dispatch-events.js';

/**
 * Writes the tracker's dispatch events to the store in order: events arriving while a write is in
 * flight are batched into the next transaction; a failed write is retried (after `retryMs`) with
 * the events kept, so the log has no holes.
 */
export class DispatchRecorder {
  private queue: DispatchEvent[] = [];
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(
    private readonly store: { readonly dispatches: { record(events: readonly DispatchEvent[]): Promise<void> } },
    private readonly o: { retryMs?: number; onError?: (e: unknown) => void } = {},
  ) {}

  attach(events$: Observable<DispatchEvent>): Subscription {
    return events$.subscribe((e) => this.record(e));
  }

  record(e: DispatchEvent): void {
    if (this.closed) return;
    this.queue.push(e);
    this.running ??= this.drain();
  }

  /** Resolves when every event recorded so far is written. */
  async flush(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stop taking events after writing the ones already taken. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue;
        this.queue = [];
        try {
          await this.store.dispatches.record(batch);
        } catch (e) {
          this.o.onError?.(e);
          this.queue = [...batch, ...this.queue];
          await new Promise((r) => setTimeout(r, this.o.retryMs ?? 1000));
        }
      }
    } finally {
      this.running = null;
    }
  }
}
