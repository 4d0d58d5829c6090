import { Subject, type Observable } from 'rxjs';
import type { DroppedMessage, OutboundMessage, Outbox as CimOutbox, OutboxCounters } from '../cim-api/outbox.js';
import type { DermsStore } from '../store/store.js';

/** Outbox topic of the CIM facade's pushes; the key is the DMS endpoint. */
export const CIM_PUSH_TOPIC = 'cim.push';

/**
 * The CIM facade's push queue (its `Outbox` interface) on the durable store: messages to the DMS
 * survive a restart (`Deliverer.resume()` picks them up), FIFO per endpoint. As in the in-memory
 * queue, a newer message with a coalesce key replaces an older one still waiting behind its
 * endpoint's head (the new one goes to the back), and when full the oldest waiting message that is
 * not a head is dropped and announced. Counters are kept in memory for this process (the queue has
 * one sender), starting from what the store holds.
 */
export class DurableCimOutbox implements CimOutbox {
  private readonly droppedSubject = new Subject<DroppedMessage>();
  readonly dropped$: Observable<DroppedMessage> = this.droppedSubject.asObservable();
  private enqueued = 0;
  private coalesced = 0;
  private dropped = 0;

  private constructor(
    private readonly store: DermsStore,
    readonly capacity: number,
    private readonly depths: Map<string, number>,
  ) {}

  static async open(store: DermsStore, o: { capacity?: number } = {}): Promise<DurableCimOutbox> {
    const capacity = o.capacity ?? 100_000;
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError('outbox capacity must be a positive integer');
    return new DurableCimOutbox(store, capacity, new Map(Object.entries(await store.outbox.depthByKey(CIM_PUSH_TOPIC))));
  }

  async put(m: OutboundMessage): Promise<void> {
    const outcome = await this.store.transaction(async (tx) => {
      const replaced = m.coalesceKey === undefined ? 0 : await tx.outbox.supersede(CIM_PUSH_TOPIC, m.endpoint, m.coalesceKey);
      let evicted: OutboundMessage | undefined;
      if (replaced === 0 && this.depth() >= this.capacity) {
        evicted = (await tx.outbox.dropOldestQueued(CIM_PUSH_TOPIC))?.payload as OutboundMessage | undefined;
        // Every waiting message heads its endpoint's queue (may be in flight): the new one goes.
        if (!evicted) return { replaced, evicted: undefined, kept: false };
      }
      await tx.outbox.enqueue({ topic: CIM_PUSH_TOPIC, key: m.endpoint, payload: m, extId: m.id, ...(m.coalesceKey !== undefined ? { coalesceKey: m.coalesceKey } : {}) });
      return { replaced, evicted, kept: true };
    });
    this.enqueued++;
    if (outcome.replaced > 0) {
      this.coalesced += outcome.replaced;
      this.add(m.endpoint, -outcome.replaced);
    }
    if (outcome.evicted) {
      this.add(outcome.evicted.endpoint, -1);
      this.drop(outcome.evicted);
    }
    if (outcome.kept) this.add(m.endpoint, 1);
    else this.drop(m);
  }

  async peek(endpoint: string): Promise<OutboundMessage | undefined> {
    return (await this.store.outbox.head(CIM_PUSH_TOPIC, endpoint))?.payload as OutboundMessage | undefined;
  }

  async remove(id: string): Promise<void> {
    const endpoint = await this.store.outbox.settle(CIM_PUSH_TOPIC, id);
    if (endpoint) this.add(endpoint, -1);
  }

  async endpoints(): Promise<string[]> {
    return Object.keys(await this.store.outbox.depthByKey(CIM_PUSH_TOPIC));
  }

  get stats(): OutboxCounters {
    return {
      capacity: this.capacity,
      depth: this.depth(),
      enqueued: this.enqueued,
      coalesced: this.coalesced,
      dropped: this.dropped,
      depthByEndpoint: Object.fromEntries([...this.depths].filter(([, n]) => n > 0)),
    };
  }

  private depth(): number {
    let n = 0;
    for (const d of this.depths.values()) n += d;
    return n;
  }

  private add(endpoint: string, n: number): void {
    this.depths.set(endpoint, (this.depths.get(endpoint) ?? 0) + n);
  }

  private drop(m: OutboundMessage): void {
    this.dropped++;
    this.droppedSubject.next({ message: m, reason: `outbox full (${this.capacity} messages)` });
  }
}
