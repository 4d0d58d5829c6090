import type { ControlSlot, Excitation, VoltVarCurve, VoltWattCurve } from './control.js';

/** What one DER is told to do, in SI units. `release` returns a slot to the device's default. */
export type SetpointBody =
  | { readonly kind: 'activePower'; readonly w: number }
  | { readonly kind: 'reactivePower'; readonly var: number }
  | { readonly kind: 'powerFactor'; readonly pf: number; readonly excitation: Excitation }
  | { readonly kind: 'activePowerLimit'; readonly w: number; readonly pct: number }
  | { readonly kind: 'voltVar'; readonly curve: VoltVarCurve }
  | { readonly kind: 'voltWatt'; readonly curve: VoltWattCurve }
  | { readonly kind: 'rampRates'; readonly increasingWPerS: number | null; readonly decreasingWPerS: number | null }
  | { readonly kind: 'connect'; readonly connected: boolean }
  | { readonly kind: 'release'; readonly slot: ControlSlot };

export type SetpointKind = SetpointBody['kind'];

export type Setpoint = SetpointBody & {
  readonly derId: string;
  /** The dispatch this setpoint serves, when it serves one. */
  readonly dispatchId?: string | undefined;
  /**
   * Time over which the device should move to the new value, for devices with a native ramp
   * (SunSpec `*_RmpTms`/`WRmp`); otherwise the core steps the setpoint itself.
   */
  readonly rampTimeMs?: number | undefined;
};

export type ApplyOutcome =
  | { readonly status: 'applied' }
  | { readonly status: 'rejected'; readonly reason: string }
  | { readonly status: 'timedOut' };
