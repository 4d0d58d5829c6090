/** Enumerations of IEC 61968-100 and the 61968-5 draft profiles, as literal strings. */

export const verbs = ['cancel', 'canceled', 'change', 'changed', 'create', 'created', 'close', 'closed', 'delete', 'deleted', 'get', 'reply', 'execute', 'executed'] as const;
export type Verb = (typeof verbs)[number];

export const derParameterKinds = [
  'activePower',
  'apparentPower',
  'reactivePower',
  'highFilterBiDirectionalRegulation',
  'lowFilterBiDirectionalRegulation',
  'highFilterUpRegulation',
  'lowFilterUpRegulation',
  'highFilterDownRegulation',
  'lowFilterDownRegulation',
  'increasingRampRate',
  'decreasingRampRate',
  'voltage',
] as const;
export type DerParameterKind = (typeof derParameterKinds)[number];

export const derUnitSymbols = [
  'A', 'Ah', 'As', 'Btu', 'Hz', 'Q', 'Qh', 'V', 'VA', 'VAh', 'VAr', 'VArh', 'VPerVA', 'VPerVAr', 'Vh', 'Vs',
  'W', 'WPerA', 'WPers', 'Wh', 'deg', 'degC', 'h', 'min', 'ohm', 'ohmPerm', 'ohmm', 'onePerHz', 's', 'therm',
] as const;
export type DerUnitSymbol = (typeof derUnitSymbols)[number];

/** UnitMultiplier literals and their powers of ten. */
export const unitMultipliers = {
  y: -24, z: -21, a: -18, f: -15, p: -12, n: -9, micro: -6, m: -3, c: -2, d: -1, none: 0,
  da: 1, h: 2, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18, Z: 21, Y: 24,
} as const;
export type UnitMultiplier = keyof typeof unitMultipliers;
export const unitMultiplierNames = Object.keys(unitMultipliers) as [UnitMultiplier, ...UnitMultiplier[]];

export const flowDirectionKinds = [
  'forward', 'lagging', 'leading', 'net', 'none', 'q1minusQ4', 'q1plusQ2', 'q1plusQ3', 'q1plusQ4', 'q2minusQ3', 'q2plusQ3',
  'q2plusQ4', 'q3minusQ2', 'q3plusQ4', 'quadrant1', 'quadrant2', 'quadrant3', 'quadrant4', 'reverse', 'total', 'totalByPhase',
] as const;

export const timeIntervalKinds = ['Y', 'M', 'D', 'h', 'm', 's'] as const;
export type TimeIntervalKind = (typeof timeIntervalKinds)[number];

export const curveStyleKinds = ['constantYValue', 'straightLineYValues'] as const;
export type CurveStyleKind = (typeof curveStyleKinds)[number];

export const replyResults = ['OK', 'PARTIAL', 'FAILED'] as const;
export type ReplyResult = (typeof replyResults)[number];

/** The unit each dispatchable or monitorable parameter is given in (before the multiplier). */
export const unitOfParameter: Partial<Record<DerParameterKind, DerUnitSymbol>> = {
  activePower: 'W',
  reactivePower: 'VAr',
  apparentPower: 'VA',
  increasingRampRate: 'WPers',
  decreasingRampRate: 'WPers',
  voltage: 'V',
};

/** A value given with a multiplier, in base units (k 250 -> 250000). */
export function fromMultiplier(value: number, m: UnitMultiplier): number {
  const p = unitMultipliers[m];
  return p === 0 ? value : p > 0 ? value * 10 ** p : value / 10 ** -p;
}

/** A base-unit value expressed with a multiplier (250000, k -> 250). */
export function toMultiplier(value: number, m: UnitMultiplier): number {
  const p = unitMultipliers[m];
  return p === 0 ? value : p > 0 ? value / 10 ** p : value * 10 ** -p;
}

/** IEC 61968-9 EndDeviceControlType / EndDeviceEventType codes for DER connect and disconnect. */
export const EndDeviceCodes = {
  connect: '2.31.0.18',
  disconnect: '2.31.0.23',
  connected: '2.31.0.42',
  disconnected: '2.31.0.68',
} as const;

/** Duration of `n` intervals of a fixed-length TimeIntervalKind, ms; undefined for months and years. */
export function fixedIntervalMs(unit: TimeIntervalKind, n: number): number | undefined {
  const ms: Partial<Record<TimeIntervalKind, number>> = { s: 1000, m: 60_000, h: 3_600_000, D: 86_400_000 };
  const u = ms[unit];
  return u === undefined ? undefined : u * n;
}
