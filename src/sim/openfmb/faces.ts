import type { OperatingState } from '../../core/model/telemetry.js';
import { OperatingStateKind, StateKind } from '../../protocols/openfmb/messages.js';
import { wPerSToKwPerMin, type CapabilityFacts, type DerPointStatus, type OpenFmbModule, type ReadingValues, type StatusFacts } from '../../protocols/openfmb/index.js';
import type { DeviceSpec } from '../fleet-spec.js';
import type { DeviceSettingsView, Measurements, SimInverter } from '../inverter.js';

/**
 * What a simulated inverter shows in OpenFMB profiles: its measurements as a reading, its state
 * and settings as a status, its nameplate as a capability. Absolute units on the wire (W, var, V);
 * the device's settings are percentages of its ratings, converted here.
 */

/** A PV inverter speaks solarmodule; a battery or a hybrid essmodule (its status carries the SoC). */
export function moduleOf(kind: DeviceSpec['kind']): OpenFmbModule {
  return kind === 'pv' ? 'solar' : 'ess';
}

export function readingValues(m: Measurements): ReadingValues {
  return { w: m.w, var: m.var, va: m.va, pf: m.w < 0 ? -m.pf : m.pf, v: m.v, hz: m.hz, exportedWh: m.exportedWh, importedWh: m.importedWh };
}

/** Output this close to zero (fraction of the rating) counts as idle. */
const IDLE_FRACTION = 0.001;

function operatingStateKind(state: OperatingState, w: number, maxW: number): number {
  switch (state) {
    case 'off':
      return OperatingStateKind.OperatingStateKind_off;
    case 'standby':
    case 'sleeping':
      return OperatingStateKind.OperatingStateKind_disconnected_and_standby;
    case 'starting':
      return OperatingStateKind.OperatingStateKind_starting_and_synchronizing;
    case 'shutting-down':
      return OperatingStateKind.OperatingStateKind_stopping;
    case 'fault':
      return OperatingStateKind.OperatingStateKind_failed;
    case 'running':
    case 'throttled':
      if (w > IDLE_FRACTION * maxW) return OperatingStateKind.OperatingStateKind_connected_and_generating;
      if (w < -IDLE_FRACTION * maxW) return OperatingStateKind.OperatingStateKind_connected_and_consuming;
      return OperatingStateKind.OperatingStateKind_connected_and_idle;
  }
}

/** The device's function settings as a point status (what a control is confirmed against). */
export function pointStatus(s: DeviceSettingsView, n: DeviceSpec['nameplate']): DerPointStatus {
  const varOf = (pct: number): number => (pct / 100) * (pct >= 0 ? n.maxVarInject : n.maxVarAbsorb);
  const volts = (pct: number): number => (pct / 100) * n.nominalV;
  return {
    realPwrSetPointEnabled: { stVal: s.activePowerSetpointW !== null },
    reactivePwrSetPointEnabled: { stVal: s.reactiveMode !== 'none' },
    limitWOperation: { maxLimParameter: { modEna: s.activePowerLimitPct !== null }, wMaxSptVal: ((s.activePowerLimitPct ?? 100) / 100) * n.maxW },
    vArOperation: { modEna: s.reactiveMode === 'constantVar', varParameter: { varTgtSpt: varOf(s.constantVarPct) } },
    pFOperation: {
      ctlVal: s.reactiveMode === 'constantPf',
      pFParameter: { modEna: s.reactiveMode === 'constantPf', pFExtSet: s.pfExcitation === 'injecting', pFGnTgtMxVal: s.pf },
    },
    voltVarOperation: {
      crvPts: s.voltVarCurve.map((p) => ({ voltVal: volts(p.v), varVal: varOf(p.var) })),
      vVarParameter: { modEna: s.reactiveMode === 'voltVar', VRef: n.nominalV },
    },
    voltWOperation: {
      crvPts: s.voltWattCurve.map((p) => ({ voltVal: volts(p.v), wVal: (p.w / 100) * n.maxW })),
      voltWParameter: { modEna: s.voltWattEnabled },
    },
    rampRates: {
      positiveRealPowerKWPerMin: { value: wPerSToKwPerMin((s.rampUpPctPerS / 100) * n.maxW) },
      negativeRealPowerKWPerMin: { value: wPerSToKwPerMin((s.rampDownPctPerS / 100) * n.maxW) },
    },
    state: { value: s.permitService ? StateKind.StateKind_on : StateKind.StateKind_off },
  };
}

export function statusFacts(dev: SimInverter, m: Measurements = dev.measurements()): StatusFacts {
  const n = dev.spec.nameplate;
  return {
    operatingState: operatingStateKind(m.operatingState, m.w, n.maxW),
    connected: m.connected,
    alarm: m.operatingState === 'fault',
    standby: m.operatingState === 'standby',
    soc: m.soc ?? undefined,
    whAvail: m.storedWh ?? undefined,
    point: pointStatus(dev.settings(), n),
  };
}

export function capabilityFacts(spec: DeviceSpec): CapabilityFacts {
  const n = spec.nameplate;
  const storage = spec.kind !== 'pv';
  return {
    maxW: n.maxW,
    maxVA: n.maxVA,
    maxVarInject: n.maxVarInject,
    maxVarAbsorb: n.maxVarAbsorb,
    nominalV: n.nominalV,
    nominalHz: 60,
    normalCategory: n.normalCategory,
    abnormalCategory: n.abnormalCategory,
    ...(storage ? { maxChargeW: n.maxChargeW, maxDischargeW: n.maxDischargeW || n.maxW, energyCapacityWh: n.energyCapacityWh } : {}),
    vendor: 'derms-sim',
    model: `simulated ${spec.kind}`,
    serial: spec.id,
  };
}
