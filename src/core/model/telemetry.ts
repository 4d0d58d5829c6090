import type { Der } from './der.js';
import { hasStorage } from './der.js';

export const operatingStates = ['off', 'sleeping', 'starting', 'running', 'throttled', 'shutting-down', 'fault', 'standby'] as const;
export type OperatingState = (typeof operatingStates)[number];

/**
 * One normalized reading of one DER, in SI units (W, var, V, Hz, percent), generation positive,
 * charging and absorption negative. The `avail*` fields are the absolute bounds the DER can reach
 * right now (for PV: what the sun allows; for storage: what SoC allows); headroom is derived.
 */
export interface TelemetrySample {
  readonly derId: string;
  /** Epoch milliseconds at which the device measured this. */
  readonly timestamp: number;
  readonly w: number;
  readonly var: number;
  readonly v: number;
  readonly hz: number;
  /** State of charge in percent; storage DERs only. */
  readonly soc?: number | undefined;
  readonly connected: boolean;
  readonly state: OperatingState;
  readonly availWMax: number;
  readonly availWMin: number;
  readonly availVarMax: number;
  readonly availVarMin: number;
}

const stateSet: ReadonlySet<string> = new Set(operatingStates);

/** Slack on nameplate checks: meters read a little over rating, and ratings are rounded. */
const RATING_SLACK = 1.1;

/**
 * Why `s` is not physically plausible for `der`, or null when it is. This runs once per sample on
 * the hot path, so it is plain comparisons rather than a schema library.
 */
export function sampleProblem(s: TelemetrySample, der: Der): string | null {
  const n = der.nameplate;
  if (!Number.isFinite(s.timestamp) || s.timestamp <= 0) return 'timestamp is not a positive finite number';
  if (!Number.isFinite(s.w) || !Number.isFinite(s.var)) return 'w or var is not finite';
  if (!Number.isFinite(s.v) || !Number.isFinite(s.hz)) return 'v or hz is not finite';
  const vaLimit = n.maxVA * RATING_SLACK + 1;
  if (Math.abs(s.w) > vaLimit) return `w ${s.w} outside +-${n.maxVA} VA rating`;
  if (Math.abs(s.var) > vaLimit) return `var ${s.var} outside +-${n.maxVA} VA rating`;
  if (s.v < 0 || s.v > n.nominalV * 2) return `v ${s.v} outside 0..${n.nominalV * 2}`;
  if (s.hz < 0 || s.hz > 100) return `hz ${s.hz} outside 0..100`;
  if (s.soc !== undefined && !(s.soc >= 0 && s.soc <= 100)) return `soc ${s.soc} outside 0..100`;
  if (s.soc !== undefined && !hasStorage(der)) return 'soc reported by a DER without storage';
  if (!(Number.isFinite(s.availWMax) && Number.isFinite(s.availWMin) && Number.isFinite(s.availVarMax) && Number.isFinite(s.availVarMin))) {
    return 'available power bounds are not finite';
  }
  if (s.availWMin > s.availWMax + 1e-9) return 'availWMin exceeds availWMax';
  if (s.availVarMin > s.availVarMax + 1e-9) return 'availVarMin exceeds availVarMax';
  if (Math.abs(s.availWMax) > vaLimit || Math.abs(s.availWMin) > vaLimit) return 'available W outside the VA rating';
  if (Math.abs(s.availVarMax) > vaLimit || Math.abs(s.availVarMin) > vaLimit) return 'available var outside the VA rating';
  if (typeof s.connected !== 'boolean') return 'connected is not a boolean';
  if (!stateSet.has(s.state)) return `unknown operating state ${String(s.state)}`;
  return null;
}
