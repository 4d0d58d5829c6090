import { Dnp3Error } from '../errors.js';
import { Flags } from '../app/codes.js';
import { KIND_INFO, POINT_KINDS, type PointKind } from '../points.js';
import type { EventBuffer, EventClass } from './event-buffer.js';

/** How one point reports. */
export interface PointConfig {
  /** Event class 1..3, or 0 for static only. Default: 1 for inputs and counters, 0 for output statuses. */
  readonly eventClass?: 0 | 1 | 2 | 3;
  /** Variation for static reads (and g60v1). Default per kind: g1v2, g10v2, g20v1, g30v1, g40v1. */
  readonly staticVariation?: number;
  /** Variation of its events. Default per kind: g2v2, g11v2, g22v1, g32v3, g42v3. */
  readonly eventVariation?: number;
  /** Analogs and counters: an event needs a change strictly greater than this. Default 0. */
  readonly deadband?: number;
}

/** Points per kind: a count (all with the kind's defaults) or one config per index. Indexes are 0..n-1. */
export type PointsConfig = Partial<Record<PointKind, number | readonly PointConfig[]>>;

export interface DatabaseConfig {
  readonly points: PointsConfig;
  /** Defaults for points of a kind that their own config does not set. */
  readonly defaults?: Partial<Record<PointKind, PointConfig>>;
}

export interface PointState {
  readonly value: boolean | number;
  readonly flags: number;
  /** When the value last changed (device time, epoch ms). */
  readonly time: number;
}

interface Point {
  value: boolean | number;
  flags: number;
  time: number;
  /** The value the last event reported (the deadband reference). */
  reported: boolean | number;
  readonly eventClass: 0 | 1 | 2 | 3;
  readonly staticVariation: number;
  readonly eventVariation: number;
  readonly deadband: number;
}

/** What an update does about events: detect by change and deadband, always make one, or none. */
export type EventMode = 'detect' | 'force' | 'suppress';

export interface UpdateOptions {
  /** Quality flags (bits 0-6). Default ONLINE. */
  readonly flags?: number;
  /** Time of the change, epoch ms. Default: the outstation's clock. */
  readonly time?: number;
  readonly event?: EventMode;
}

/** Points start as "restart" quality (not yet known) with value 0/false, until first updated. */
const INITIAL_FLAGS = Flags.RESTART;

/**
 * The outstation's point values with their reporting configuration. An update that changes a
 * binary, moves an analog or counter past its deadband, or changes the flags, becomes an event in
 * its class buffer.
 */
export class PointDatabase {
  private readonly points: Record<PointKind, Point[]>;

  constructor(
    cfg: DatabaseConfig,
    private readonly events: EventBuffer,
    private readonly onEvent: (c: EventClass) => void,
    now: number,
  ) {
    this.points = Object.fromEntries(POINT_KINDS.map((k) => [k, build(k, cfg.points[k], cfg.defaults?.[k], now)])) as Record<PointKind, Point[]>;
  }

  count(kind: PointKind): number {
    return this.points[kind].length;
  }

  get(kind: PointKind, index: number): PointState | undefined {
    const p = this.points[kind][index];
    return p && { value: p.value, flags: p.flags, time: p.time };
  }

  staticVariation(kind: PointKind, index: number): number {
    return this.points[kind][index]!.staticVariation;
  }

  /** Set a value; false when the index does not exist. */
  update(kind: PointKind, index: number, value: boolean | number, now: number, o: UpdateOptions = {}): boolean {
    const p = this.points[kind][index];
    if (!p) return false;
    const type = KIND_INFO[kind].valueType;
    const v = type === 'binary' ? Boolean(value) : Number(value);
    const flags = (o.flags ?? Flags.ONLINE) & 0x7f;
    const time = o.time ?? now;
    const mode = o.event ?? 'detect';
    const flagsChanged = flags !== p.flags;
    const changed = type === 'binary' ? v !== p.reported : Math.abs((v as number) - (p.reported as number)) > p.deadband || Number.isNaN(v) !== Number.isNaN(p.reported);
    if (v !== p.value) p.time = time;
    p.value = v;
    p.flags = flags;
    if (mode === 'suppress' || p.eventClass === 0) {
      if (mode === 'suppress') p.reported = v;
      return true;
    }
    if (mode === 'force' || changed || flagsChanged) {
      p.reported = v;
      this.events.add({ eventClass: p.eventClass, kind, index, variation: p.eventVariation, value: v, flags, time });
      this.onEvent(p.eventClass);
    }
    return true;
  }

  /** Every point of a kind, for static reads. */
  all(kind: PointKind): readonly Readonly<Point>[] {
    return this.points[kind];
  }
}

function build(kind: PointKind, spec: number | readonly PointConfig[] | undefined, defaults: PointConfig | undefined, now: number): Point[] {
  const info = KIND_INFO[kind];
  const list: readonly PointConfig[] = typeof spec === 'number' ? Array.from({ length: spec }, () => ({})) : (spec ?? []);
  if (list.length > 0x10000) throw new Dnp3Error('CONFIG', `${kind}: ${list.length} points (at most 65536)`);
  return list.map((c, i) => {
    const m = { ...defaults, ...c };
    const eventClass = m.eventClass ?? (kind === 'binaryOutputStatus' || kind === 'analogOutputStatus' ? 0 : 1);
    const staticVariation = m.staticVariation ?? info.defaultStatic;
    const eventVariation = m.eventVariation ?? info.defaultEvent;
    if (!info.staticVariations.includes(staticVariation)) throw new Dnp3Error('CONFIG', `${kind} ${i}: static variation g${info.staticGroup}v${staticVariation} not supported`);
    if (!info.eventVariations.includes(eventVariation)) throw new Dnp3Error('CONFIG', `${kind} ${i}: event variation g${info.eventGroup}v${eventVariation} not supported`);
    if (![0, 1, 2, 3].includes(eventClass)) throw new Dnp3Error('CONFIG', `${kind} ${i}: event class ${String(eventClass)}`);
    const value = info.valueType === 'binary' ? false : 0;
    return { value, flags: INITIAL_FLAGS, time: now, reported: value, eventClass, staticVariation, eventVariation, deadband: m.deadband ?? 0 };
  });
}
