import type { ApplyOutcome, Setpoint, SetpointKind } from '../core/model/setpoint.js';
import type { TelemetrySample } from '../core/model/telemetry.js';
import type { InProcessDevice } from '../protocols/in-process.js';
import type { ControlPatch } from './controls.js';
import type { SimInverter } from './inverter.js';

const ACCEPTS: ReadonlySet<SetpointKind> = new Set(['activePower', 'reactivePower', 'powerFactor', 'activePowerLimit', 'voltVar', 'voltWatt', 'rampRates', 'connect', 'release']);

/** A simulated inverter seen through the in-process "wire". */
export class InProcessLink implements InProcessDevice {
  readonly accepts = ACCEPTS;

  constructor(private readonly dev: SimInverter) {}

  get id(): string {
    return this.dev.id;
  }
  get responseDelayMs(): number {
    return this.dev.faults.responseDelayMs;
  }

  read(): TelemetrySample | null {
    if (this.dev.faults.commsLoss) return null;
    const m = this.dev.measurements();
    return {
      derId: this.dev.id,
      timestamp: m.timestamp,
      w: m.w,
      var: m.var,
      v: m.v,
      hz: m.hz,
      soc: m.soc ?? undefined,
      connected: m.connected,
      state: m.operatingState,
      availWMax: m.availWMax,
      availWMin: m.availWMin,
      availVarMax: m.availVarMax,
      availVarMin: m.availVarMin,
    };
  }

  write(sp: Setpoint): ApplyOutcome | null {
    if (this.dev.faults.commsLoss) return null;
    const r = this.dev.update(setpointToPatch(sp, this.dev.spec.nameplate));
    return r.ok ? { status: 'applied' } : { status: 'rejected', reason: r.reason };
  }
}

/** The device settings a core setpoint stands for (what a protocol adapter writes over its wire). */
export function setpointToPatch(sp: Setpoint, n: { maxW: number; maxVarInject: number; maxVarAbsorb: number }): ControlPatch {
  const pctOf = (x: number, of: number): number => (of > 0 ? (x / of) * 100 : 0);
  switch (sp.kind) {
    case 'activePower':
      return { activePowerSetpointW: sp.w };
    case 'activePowerLimit':
      return { activePowerLimitPct: sp.pct };
    case 'reactivePower':
      return { reactiveMode: 'constantVar', constantVarPct: pctOf(sp.var, sp.var >= 0 ? n.maxVarInject : n.maxVarAbsorb) };
    case 'powerFactor':
      return { reactiveMode: 'constantPf', pf: sp.pf, pfExcitation: sp.excitation };
    case 'voltVar':
      return { reactiveMode: 'voltVar', voltVarCurve: [...sp.curve] };
    case 'voltWatt':
      return { voltWattEnabled: true, voltWattCurve: [...sp.curve] };
    case 'rampRates':
      return {
        ...(sp.increasingWPerS === null ? {} : { rampUpPctPerS: pctOf(sp.increasingWPerS, n.maxW) }),
        ...(sp.decreasingWPerS === null ? {} : { rampDownPctPerS: pctOf(sp.decreasingWPerS, n.maxW) }),
      };
    case 'connect':
      return { permitService: sp.connected };
    case 'release':
      switch (sp.slot) {
        case 'activePower':
          return { activePowerSetpointW: null };
        case 'activePowerLimit':
          return { activePowerLimitPct: null };
        case 'reactive':
          return { reactiveMode: 'none' };
        case 'voltWatt':
          return { voltWattEnabled: false };
        case 'rampRates':
          return { rampUpPctPerS: 0, rampDownPctPerS: 0 };
        case 'connect':
          return { permitService: true };
      }
  }
}
