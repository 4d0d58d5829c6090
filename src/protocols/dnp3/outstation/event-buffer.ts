import type { PointKind } from '../points.js';

export type EventClass = 1 | 2 | 3;

/** An event waiting in the outstation to be reported and confirmed. */
export interface StoredEvent {
  readonly id: number;
  readonly eventClass: EventClass;
  readonly kind: PointKind;
  readonly index: number;
  readonly variation: number;
  readonly value: boolean | number;
  readonly flags: number;
  readonly time: number;
  /** Which response carries it now: none, the solicited one, or the unsolicited one. */
  selectedBy: null | 'solicited' | 'unsolicited';
}

export interface EventBufferStats {
  added: number;
  released: number;
  /** Events dropped because their class buffer was full (the oldest goes). */
  dropped: number;
}

/**
 * Per-class bounded event queues. Events stay until a CONFIRM releases them; a full class drops
 * its oldest event and raises the overflow indication until a later confirm releases events.
 */
export class EventBuffer {
  private readonly queues: Record<EventClass, StoredEvent[]> = { 1: [], 2: [], 3: [] };
  private nextId = 1;
  overflow = false;
  readonly stats: EventBufferStats = { added: 0, released: 0, dropped: 0 };

  constructor(private readonly capacity: Readonly<Record<EventClass, number>>) {}

  add(e: Omit<StoredEvent, 'id' | 'selectedBy'>): void {
    const q = this.queues[e.eventClass];
    if (this.capacity[e.eventClass] <= 0) {
      // A class given no buffer reports no events; that is configuration, not overflow.
      this.stats.dropped++;
      return;
    }
    while (q.length >= this.capacity[e.eventClass]) {
      q.shift();
      this.stats.dropped++;
      this.overflow = true;
    }
    q.push({ ...e, id: this.nextId++, selectedBy: null });
    this.stats.added++;
  }

  /** Unselected events of the given classes (optionally of one kind), oldest first, marked as selected by `owner`. */
  select(classes: readonly EventClass[], owner: 'solicited' | 'unsolicited', filter: (e: StoredEvent) => boolean = () => true, limit = Infinity): StoredEvent[] {
    const picked = classes
      .flatMap((c) => this.queues[c])
      .filter((e) => e.selectedBy === null && filter(e))
      .sort((a, b) => a.id - b.id)
      .slice(0, limit);
    for (const e of picked) e.selectedBy = owner;
    return picked;
  }

  /** Put events selected by `owner` (but not released) back for the next response. */
  unselect(owner: 'solicited' | 'unsolicited', ids?: ReadonlySet<number>): void {
    for (const c of [1, 2, 3] as const) for (const e of this.queues[c]) if (e.selectedBy === owner && (!ids || ids.has(e.id))) e.selectedBy = null;
  }

  /** Drop confirmed events. Releasing any ends the overflow indication. */
  release(ids: ReadonlySet<number>): void {
    if (ids.size === 0) return;
    for (const c of [1, 2, 3] as const) {
      const q = this.queues[c];
      const keep = q.filter((e) => !ids.has(e.id));
      this.stats.released += q.length - keep.length;
      this.queues[c] = keep;
    }
    this.overflow = false;
  }

  /** Events of a class not currently selected by any response. */
  pending(c: EventClass): number {
    let n = 0;
    for (const e of this.queues[c]) if (e.selectedBy === null) n++;
    return n;
  }

  size(c: EventClass): number {
    return this.queues[c].length;
  }

  clear(): void {
    for (const c of [1, 2, 3] as const) this.queues[c] = [];
    this.overflow = false;
  }
}
