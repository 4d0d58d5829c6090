/**
 * The outstation point database of a simulated DER: one point per index up to the highest the
 * point map uses, each with the event class and deadband that make its events meaningful. A
 * steady device is quiet: measurements report only moves past a deadband scaled to its ratings;
 * nameplate values, settings read-backs and output statuses report every change (they change
 * only when commanded).
 */
import type { Nameplate } from '../../core/model/der.js';
import type { DatabaseConfig, PointConfig, PointKind } from '../../protocols/dnp3/index.js';
import { occupied, type DerPointMap, type PointRole, type PointType } from '../../protocols/dnp3/der-profile/index.js';

const KIND: Record<PointType, PointKind> = { AI: 'analogInput', BI: 'binaryInput', AO: 'analogOutputStatus', BO: 'binaryOutputStatus', counter: 'counter' };

/** Event classes: state changes first (1), measurements (2), settings, statuses and energy (3). */
const CLASS_STATE = 1;
const CLASS_MEASURED = 2;
const CLASS_SETTINGS = 3;

/** Deadbands of the measured inputs, in engineering units, from the device's ratings. */
function measuredDeadbands(n: Nameplate): Partial<Record<PointRole, number>> {
  const power = 0.005 * n.maxVA;
  const volts = 0.002 * n.nominalV;
  return {
    'ai.w': power,
    'ai.var': power,
    'ai.va': power,
    'ai.availW': power,
    'ai.availChargeW': power,
    'ai.availVarInject': power,
    'ai.availVarAbsorb': power,
    'ai.vPhaseA': volts,
    'ai.vAvgLL': volts,
    'ai.hz': 0.01,
    'ai.pf': 0.01,
    'ai.soc': 0.2,
    'ai.socActual': 0.2,
  };
}

/** Energy counters report every 1 % of an hour at full power. */
const counterDeadbandWh = (n: Nameplate): number => Math.max(1, n.maxW / 100);

/** Per-kind point configuration for a device of this nameplate under this map. */
export function derDatabase(map: DerPointMap, n: Nameplate): DatabaseConfig {
  const lists: Record<PointKind, PointConfig[]> = { analogInput: [], binaryInput: [], analogOutputStatus: [], binaryOutputStatus: [], counter: [] };
  const measured = measuredDeadbands(n);
  for (const [role, def] of Object.entries(map.points) as [PointRole, NonNullable<DerPointMap['points'][PointRole]>][]) {
    const kind = KIND[def.type];
    const scale = Math.abs(def.multiplier);
    let cfg: PointConfig;
    if (def.type === 'BI') cfg = { eventClass: CLASS_STATE };
    else if (def.type === 'counter') cfg = { eventClass: CLASS_SETTINGS, deadband: counterDeadbandWh(n) * scale };
    else if (def.type === 'AI' && measured[role] !== undefined) cfg = { eventClass: CLASS_MEASURED, deadband: measured[role] * scale };
    else cfg = { eventClass: CLASS_SETTINGS, deadband: 0 };
    for (const index of occupied(def)) lists[kind][index] = cfg;
  }
  // Indexes the map leaves unused exist (indexes are 0..n-1) but never report events.
  const points = Object.fromEntries(Object.entries(lists).map(([k, l]) => [k, Array.from(l, (c) => c ?? { eventClass: 0 })])) as Record<PointKind, PointConfig[]>;
  return { points };
}
