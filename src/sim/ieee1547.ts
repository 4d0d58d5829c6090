import { defaultVoltVarCurveB, type VoltVarCurve, type VoltWattCurve } from '../core/model/control.js';
import type { Nameplate } from '../core/model/der.js';
import type { Ieee1547Settings } from './fleet-spec.js';

/** IEEE 1547-2018 category A default volt-var curve (Table 7): 25 % var at 0.9 / 1.1 pu. */
export const defaultVoltVarCurveA: VoltVarCurve = [
  { v: 90, var: 25 },
  { v: 100, var: 0 },
  { v: 100.01, var: 0 },
  { v: 110, var: -25 },
];

/** Default volt-watt curve (Table 10): full power to 1.06 pu, down to 20 % at 1.10 pu. */
export const defaultVoltWattCurve: VoltWattCurve = [
  { v: 106, w: 100 },
  { v: 110, w: 20 },
];

/** Function settings as shipped: the standard's defaults for the DER's normal category. */
export function defaultSettings(nameplate: Pick<Nameplate, 'normalCategory'>): Ieee1547Settings {
  const b = nameplate.normalCategory === 'B';
  return {
    activePowerLimitPct: null,
    reactiveMode: 'none',
    pf: 1,
    pfExcitation: 'injecting',
    constantVarPct: 0,
    voltVarCurve: b ? defaultVoltVarCurveB : defaultVoltVarCurveA,
    voltVarResponseS: b ? 5 : 10,
    voltWattEnabled: false,
    voltWattCurve: defaultVoltWattCurve,
    voltWattResponseS: 10,
    freqWattEnabled: true, // frequency droop is mandatory in 1547-2018
    fwDbOverHz: 0.036,
    fwDbUnderHz: 0.036,
    fwKOver: 0.05,
    fwKUnder: 0.05,
    fwResponseS: 5,
    // Normal ramp rate: adjustable and off (0) unless set; the enter-service ramp is separate.
    rampUpPctPerS: 0,
    rampDownPctPerS: 0,
    esVMinPu: 0.917,
    esVMaxPu: 1.05,
    esFMinHz: 59.5,
    esFMaxHz: 60.1,
    esDelayS: 300,
    esRandomWindowS: 300,
    esRampS: 300,
    activePowerResponseS: 2,
  };
}

/** Trip thresholds and clearing times (category II voltage, frequency defaults of Tables 11 and 13). */
export interface TripSetting {
  /** Per unit of nominal voltage, or Hz. */
  readonly threshold: number;
  readonly clearingS: number;
  readonly above: boolean;
  readonly quantity: 'v' | 'hz';
}

export const defaultTripSettings: readonly TripSetting[] = [
  { quantity: 'v', above: true, threshold: 1.2, clearingS: 0.16 },
  { quantity: 'v', above: true, threshold: 1.1, clearingS: 2 },
  { quantity: 'v', above: false, threshold: 0.7, clearingS: 10 },
  { quantity: 'v', above: false, threshold: 0.45, clearingS: 0.16 },
  { quantity: 'hz', above: true, threshold: 62, clearingS: 0.16 },
  { quantity: 'hz', above: true, threshold: 61.2, clearingS: 300 },
  { quantity: 'hz', above: false, threshold: 58.5, clearingS: 300 },
  { quantity: 'hz', above: false, threshold: 56.5, clearingS: 0.16 },
];

/** Piecewise-linear y(x) over points sorted by x, held flat beyond the ends. */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  const n = xs.length;
  if (x <= xs[0]!) return ys[0]!;
  if (x >= xs[n - 1]!) return ys[n - 1]!;
  for (let i = 1; i < n; i++) {
    if (x <= xs[i]!) {
      const x0 = xs[i - 1]!;
      const y0 = ys[i - 1]!;
      return y0 + ((ys[i]! - y0) * (x - x0)) / (xs[i]! - x0);
    }
  }
  return ys[n - 1]!;
}

/** First-order lag factor for one step of `dtS` toward a response reaching 90 % at `responseS`. */
export function lagAlpha(dtS: number, responseS: number): number {
  if (responseS <= 0) return 1;
  return 1 - Math.exp((-dtS * Math.LN10) / responseS);
}
