import { interval, type Subscription } from 'rxjs';
import type { Clock } from '../core/ports.js';
import type { Outbox, OutboxMessage } from './outbox.js';

/** Delivers one message; a throw (or rejection) is a failed attempt, retried with backoff. */
export type OutboxHandler = (m: OutboxMessage) => Promise<void>;

export interface OutboxRelayOptions {
  /** Identifies this relay's leases (one per process). */
  readonly worker: string;
  readonly pollMs?: number;
  readonly batch?: number;
  /** How long a claimed message is ours before another relay may take it. */
  readonly leaseMs?: number;
  readonly onError?: (e: unknown, m: OutboxMessage | null) => void;
}

/**
 * Takes messages from the outbox and hands each to the handler for its topic: acked when the
 * handler resolves, failed (retried later, dead after too many attempts) when it throws. Delivery
 * is at least once, in id order per key; handlers should be idempotent.
 */
export class OutboxRelay {
  private timer: Subscription | null = null;
  private busy: Promise<number> | null = null;

  constructor(
    private readonly outbox: Outbox,
    private readonly handlers: Readonly<Record<string, OutboxHandler>>,
    private readonly o: OutboxRelayOptions,
  ) {}

  start(clock: Clock): this {
    this.timer ??= interval(this.o.pollMs ?? 1000, clock).subscribe(() => void this.drain());
    return this;
  }

  async stop(): Promise<void> {
    this.timer?.unsubscribe();
    this.timer = null;
    await this.busy;
  }

  /** Deliver what is ready now, batch after batch; resolves to how many were delivered. */
  drain(): Promise<number> {
    this.busy ??= this.run().finally(() => (this.busy = null));
    return this.busy;
  }

  private async run(): Promise<number> {
    let delivered = 0;
    const topics = Object.keys(this.handlers);
    for (;;) {
      let batch: OutboxMessage[];
      try {
        batch = await this.outbox.claim({ worker: this.o.worker, topics, limit: this.o.batch ?? 20, leaseMs: this.o.leaseMs ?? 30_000 });
      } catch (e) {
        this.o.onError?.(e, null);
        return delivered;
      }
      if (batch.length === 0) return delivered;
      for (const m of batch) {
        try {
          await this.handlers[m.topic]!(m);
          await this.outbox.ack(m.id, this.o.worker);
          delivered++;
        } catch (e) {
          this.o.onError?.(e, m);
          await this.outbox.fail(m.id, this.o.worker, e instanceof Error ? e.message : String(e)).catch((f: unknown) => this.o.onError?.(f, m));
        }
      }
    }
  }
}

/** A handler that POSTs each message as JSON to a URL (a webhook); any status but 2xx is a failure. */
export function webhookHandler(url: string, o: { timeoutMs?: number; headers?: Record<string, string> } = {}): OutboxHandler {
  return async (m) => {
    const r = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': `outbox-${m.id}`, ...o.headers },
      body: JSON.stringify({ id: m.id, topic: m.topic, key: m.key, payload: m.payload, createdAt: m.createdAt }),
      signal: AbortSignal.timeout(o.timeoutMs ?? 10_000),
    });
    if (!r.ok) throw new Error(`${url} answered ${r.status} ${r.statusText}`);
  };
}
