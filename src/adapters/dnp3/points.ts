/**
 * The glue between the DNP3 stack's values and commands and the DER profile's: measurements into
 * a raw point snapshot, recipe steps into master commands, read-back checks into a READ.
 */
import { OpType, Qualifier, TripClose, type BlockSpec, type MasterCommand, type Measurement } from '../../protocols/dnp3/index.js';
import { emptySnapshot, type DnpCommandStep, type MutablePointSnapshot, type ReadBackCheck } from '../../protocols/dnp3/der-profile/index.js';

/** The ONLINE quality flag: without it a point's value is not valid (never set since restart, or off line). */
const ONLINE = 0x01;

/**
 * Record one measurement in a snapshot (raw value, by kind and index). A point that is not
 * ONLINE leaves the snapshot: an outstation serves every index of its database, and one the
 * device never set (a PV inverter's state of charge, say) must not read as a value.
 */
export function putMeasurement(s: MutablePointSnapshot, m: Measurement): void {
  const online = (m.flags & ONLINE) !== 0;
  const put = <T>(map: Map<number, T>, v: T): void => void (online ? map.set(m.index, v) : map.delete(m.index));
  switch (m.kind) {
    case 'analogInput':
      return put(s.ai, Number(m.value));
    case 'binaryInput':
      return put(s.bi, m.value === true);
    case 'analogOutputStatus':
      return put(s.aoStatus, Number(m.value));
    case 'binaryOutputStatus':
      return put(s.boStatus, m.value === true);
    case 'counter':
      return put(s.counters, Number(m.value));
  }
}

/** A snapshot of measurements (later ones win). */
export function snapshotOf(ms: readonly Measurement[]): MutablePointSnapshot {
  const s = emptySnapshot();
  for (const m of ms) putMeasurement(s, m);
  return s;
}

/** The stack's command for a recipe step: analog outputs as g41v1 (32-bit), CROBs with their op and trip/close. */
export function masterCommand(step: DnpCommandStep): MasterCommand {
  if (step.type === 'analog') return { type: 'analogOutput', index: step.index, value: step.value, variation: 1 };
  return { type: 'crob', index: step.index, opType: OpType[step.op], tripClose: step.tripClose ? TripClose[step.tripClose] : TripClose.NUL };
}

/** `AO88 (ao.activePowerLimitGen)` */
export function stepLabel(step: DnpCommandStep): string {
  return `${step.type === 'analog' ? 'AO' : 'BO'}${step.index} (${step.role})`;
}

const GROUP: Record<ReadBackCheck['source'], number> = { aoStatus: 40, boStatus: 10, bi: 1 };

/** A READ of exactly the points the checks look at (static values, each point's own variation). */
export function readBackHeaders(checks: readonly ReadBackCheck[]): BlockSpec[] {
  const bySource = new Map<ReadBackCheck['source'], Set<number>>();
  for (const c of checks) {
    let set = bySource.get(c.source);
    if (!set) bySource.set(c.source, (set = new Set()));
    set.add(c.index);
  }
  return [...bySource].map(([source, set]) => ({ group: GROUP[source], variation: 0, qualifier: Qualifier.INDEX_16, indices: [...set].sort((a, b) => a - b) }));
}
