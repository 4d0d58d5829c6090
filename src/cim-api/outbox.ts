import { Subject, type Observable } from 'rxjs';

/**
 * Messages the DERMS sends on its own (EventMessages to the DMS, asynchronous replies) wait in an
 * Outbox until their endpoint takes them. The in-memory outbox here is bounded and observable:
 * when full it drops the oldest message, counts it and announces it on `dropped$`; it never
 * drops one silently. A durable outbox (src/store) implements the same interface, which is why
 * its methods return promises.
 */

export interface OutboundMessage {
  readonly id: string;
  /** Where it goes (an http or https URL). */
  readonly endpoint: string;
  /** What it is, for logs and stats: `ChangedDERGroupStatuses`, `AsyncReply`, ... */
  readonly kind: string;
  readonly body: string;
  readonly contentType: string;
  /** A newer message with the same key replaces a queued older one (a status superseded by a newer one). */
  readonly coalesceKey?: string | undefined;
  /** Wall-clock ms when queued. */
  readonly queuedAt: number;
}

export interface Outbox {
  put(m: OutboundMessage): Promise<void>;
  /** The oldest message waiting for `endpoint`, left in place. */
  peek(endpoint: string): Promise<OutboundMessage | undefined>;
  /** Remove a message: delivered, or refused by its endpoint. */
  remove(id: string): Promise<void>;
  /** Endpoints with messages waiting. */
  endpoints(): Promise<string[]>;
  readonly stats: OutboxCounters;
  readonly dropped$: Observable<DroppedMessage>;
}

export interface OutboxCounters {
  readonly capacity: number;
  readonly depth: number;
  readonly enqueued: number;
  /** Replaced by a newer message with the same coalesce key (not lost: superseded). */
  readonly coalesced: number;
  /** Dropped because the outbox was full. */
  readonly dropped: number;
  readonly depthByEndpoint: Readonly<Record<string, number>>;
}

export interface DroppedMessage {
  readonly message: OutboundMessage;
  readonly reason: string;
}

/** Bounded in-memory outbox: FIFO per endpoint, oldest dropped first when full. */
export class MemoryOutbox implements Outbox {
  private readonly queues = new Map<string, OutboundMessage[]>();
  private readonly byId = new Map<string, OutboundMessage>();
  private readonly droppedSubject = new Subject<DroppedMessage>();
  readonly dropped$ = this.droppedSubject.asObservable();
  private enqueued = 0;
  private coalesced = 0;
  private dropped = 0;

  constructor(readonly capacity = 10_000) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError('outbox capacity must be a positive integer');
  }

  async put(m: OutboundMessage): Promise<void> {
    let q = this.queues.get(m.endpoint);
    if (!q) this.queues.set(m.endpoint, (q = []));
    this.enqueued++;
    if (m.coalesceKey !== undefined) {
      // Index 0 may be in flight; only messages behind it are replaced.
      const i = q.findIndex((x, k) => k > 0 && x.coalesceKey === m.coalesceKey);
      if (i > 0) {
        this.byId.delete(q[i]!.id);
        q[i] = m;
        this.byId.set(m.id, m);
        this.coalesced++;
        return;
      }
    }
    if (this.byId.size >= this.capacity && !this.dropOldest()) {
      // Every waiting message is at the head of its queue (maybe in flight): the new one goes.
      this.drop(m);
      return;
    }
    q.push(m);
    this.byId.set(m.id, m);
  }

  async peek(endpoint: string): Promise<OutboundMessage | undefined> {
    return this.queues.get(endpoint)?.[0];
  }

  async remove(id: string): Promise<void> {
    const m = this.byId.get(id);
    if (!m) return;
    this.byId.delete(id);
    const q = this.queues.get(m.endpoint)!;
    const i = q.indexOf(m);
    if (i >= 0) q.splice(i, 1);
  }

  async endpoints(): Promise<string[]> {
    return [...this.queues].filter(([, q]) => q.length > 0).map(([e]) => e);
  }

  get stats(): OutboxCounters {
    const depthByEndpoint: Record<string, number> = {};
    for (const [e, q] of this.queues) if (q.length) depthByEndpoint[e] = q.length;
    return { capacity: this.capacity, depth: this.byId.size, enqueued: this.enqueued, coalesced: this.coalesced, dropped: this.dropped, depthByEndpoint };
  }

  /** Drop the oldest message that is not at the head of its queue (a head may be in flight). */
  private dropOldest(): boolean {
    let oldest: OutboundMessage | undefined;
    for (const q of this.queues.values()) {
      const m = q[1];
      if (m && (!oldest || m.queuedAt < oldest.queuedAt)) oldest = m;
    }
    if (!oldest) return false;
    this.byId.delete(oldest.id);
    const q = this.queues.get(oldest.endpoint)!;
    q.splice(q.indexOf(oldest), 1);
    this.drop(oldest);
    return true;
  }

  private drop(m: OutboundMessage): void {
    this.dropped++;
    this.droppedSubject.next({ message: m, reason: `outbox full (${this.capacity} messages)` });
  }
}

export interface RetryOptions {
  /** First wait after a failed attempt, ms (default 1000). */
  readonly initialMs?: number;
  /** Longest wait, ms (default 60 000). */
  readonly maxMs?: number;
  readonly factor?: number;
  /** One attempt's time limit, ms (default 10 000). */
  readonly attemptTimeoutMs?: number;
}

export interface EndpointState {
  readonly delivered: number;
  readonly failedAttempts: number;
  /** Answered 2xx with a FAILED Reply: taken off the outbox, counted, announced. */
  readonly refused: number;
  readonly lastError: string | null;
  readonly lastDeliveredAt: number | null;
  /** Wall-clock ms of the next attempt while backing off. */
  readonly retryAt: number | null;
}

export type DeliveryEvent =
  | { readonly type: 'delivered'; readonly message: OutboundMessage; readonly status: number; readonly body: string }
  /** The outbox itself failed (a durable store down): the message may not be kept. */
  | { readonly type: 'outboxError'; readonly endpoint: string; readonly error: string }
  | { readonly type: 'failed'; readonly message: OutboundMessage; readonly error: string; readonly retryInMs: number }
  | { readonly type: 'refused'; readonly message: OutboundMessage; readonly status: number; readonly body: string };

/** Judges an endpoint's 2xx answer: true when it refuses the message (a FAILED Reply). */
export type RefusalCheck = (status: number, body: string) => boolean;

/**
 * Delivers an outbox's messages over HTTP POST, in order per endpoint, one at a time; a failed
 * attempt (network error, timeout, non-2xx) is retried with exponential backoff until the
 * endpoint takes it. Backoff uses wall-clock timers: the peer is a real network service.
 */
export class Deliverer {
  private readonly state = new Map<string, { busy: boolean; again: boolean; timer: NodeJS.Timeout | null; backoffMs: number; s: EndpointState }>();
  private readonly eventsSubject = new Subject<DeliveryEvent>();
  readonly events$ = this.eventsSubject.asObservable();
  private stopped = false;
  private readonly o: Required<RetryOptions>;

  constructor(
    readonly outbox: Outbox,
    retry: RetryOptions = {},
    private readonly isRefusal: RefusalCheck = () => false,
  ) {
    this.o = { initialMs: retry.initialMs ?? 1000, maxMs: retry.maxMs ?? 60_000, factor: retry.factor ?? 2, attemptTimeoutMs: retry.attemptTimeoutMs ?? 10_000 };
  }

  /** Queue `m` and start delivering it; never rejects (an outbox failure is an `outboxError` event). */
  async send(m: OutboundMessage): Promise<void> {
    try {
      await this.outbox.put(m);
    } catch (e) {
      this.eventsSubject.next({ type: 'outboxError', endpoint: m.endpoint, error: `could not queue ${m.kind}: ${errorText(e)}` });
      return;
    }
    this.kick(m.endpoint);
  }

  /** Start (or resume) delivery to every endpoint with messages waiting. */
  async resume(): Promise<void> {
    for (const e of await this.outbox.endpoints()) this.kick(e);
  }

  endpointStates(): Record<string, EndpointState> {
    return Object.fromEntries([...this.state].map(([e, x]) => [e, x.s]));
  }

  stop(): void {
    this.stopped = true;
    for (const x of this.state.values()) if (x.timer) clearTimeout(x.timer);
  }

  private entry(endpoint: string) {
    let x = this.state.get(endpoint);
    if (!x) {
      x = { busy: false, again: false, timer: null, backoffMs: 0, s: { delivered: 0, failedAttempts: 0, refused: 0, lastError: null, lastDeliveredAt: null, retryAt: null } };
      this.state.set(endpoint, x);
    }
    return x;
  }

  private kick(endpoint: string): void {
    const x = this.entry(endpoint);
    if (x.timer || this.stopped) return;
    if (x.busy) {
      // A message put while the drain was finishing: look again when it has.
      x.again = true;
      return;
    }
    x.busy = true;
    x.again = false;
    void this.drain(endpoint)
      .catch((e: unknown) => {
        // The outbox failed: report, then try again after a pause like a failed delivery.
        this.eventsSubject.next({ type: 'outboxError', endpoint, error: errorText(e) });
        this.backOff(endpoint);
      })
      .finally(() => {
        x.busy = false;
        if (x.again) this.kick(endpoint);
      });
  }

  /** Wait before the next attempt at `endpoint`, longer each time; returns the wait. */
  private backOff(endpoint: string): number {
    const x = this.entry(endpoint);
    x.backoffMs = x.backoffMs === 0 ? this.o.initialMs : Math.min(this.o.maxMs, x.backoffMs * this.o.factor);
    if (!this.stopped && !x.timer) {
      x.timer = setTimeout(() => {
        x.timer = null;
        this.kick(endpoint);
      }, x.backoffMs);
      x.timer.unref();
    }
    return x.backoffMs;
  }

  private async drain(endpoint: string): Promise<void> {
    const x = this.entry(endpoint);
    for (;;) {
      if (this.stopped) return;
      const m = await this.outbox.peek(endpoint);
      if (!m) return;
      let status = 0;
      let body = '';
      let error: string | null = null;
      try {
        const res = await fetch(m.endpoint, {
          method: 'POST',
          headers: { 'content-type': m.contentType },
          body: m.body,
          signal: AbortSignal.timeout(this.o.attemptTimeoutMs),
        });
        status = res.status;
        body = await res.text();
        if (status < 200 || status >= 300) error = `HTTP ${status}`;
      } catch (e) {
        error = errorText(e);
      }
      if (error === null) {
        await this.outbox.remove(m.id);
        x.backoffMs = 0;
        let refused = false;
        try {
          refused = this.isRefusal(status, body);
        } catch {
          refused = false; // an answer we cannot read is taken as an acknowledgment
        }
        x.s = refused ? { ...x.s, refused: x.s.refused + 1, retryAt: null } : { ...x.s, delivered: x.s.delivered + 1, lastDeliveredAt: Date.now(), retryAt: null };
        this.eventsSubject.next(refused ? { type: 'refused', message: m, status, body } : { type: 'delivered', message: m, status, body });
        continue;
      }
      const wait = this.backOff(endpoint);
      x.s = { ...x.s, failedAttempts: x.s.failedAttempts + 1, lastError: error, retryAt: Date.now() + wait };
      this.eventsSubject.next({ type: 'failed', message: m, error, retryInMs: wait });
      return;
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? (e.cause instanceof Error ? `${e.message}: ${e.cause.message}` : e.message) : String(e);
}
