import type { VoltVarCurve, VoltWattCurve } from '../../core/model/control.js';
import type { ESSPoint, SolarPoint } from '../../protocols/openfmb/messages.js';
import { StateKind } from '../../protocols/openfmb/messages.js';
import { kwPerMinToWPerS } from '../../protocols/openfmb/index.js';
import type { ControlPatch } from '../controls.js';
import type { DeviceSpec } from '../fleet-spec.js';
import type { DeviceSettingsView } from '../inverter.js';

export type PatchResult = { readonly ok: true; readonly patch: ControlPatch } | { readonly ok: false; readonly reason: string };

/** Rounding slack for values that went through float32 on the wire, in percent. */
const PCT_SLACK = 0.01;

/**
 * The device settings an OpenFMB control point asks for (the inverse of `pointStatus`): absolute
 * W, var and V become percentages of this device's ratings. Functions the point carries but the
 * simulated inverter does not have (frequency-watt and trip curves by control, watt-var, black
 * start, the ESS functions) make the whole point fail: a device applies a control whole or not at all.
 */
export function pointToPatch(p: SolarPoint | ESSPoint, n: DeviceSpec['nameplate'], current: Pick<DeviceSettingsView, 'reactiveMode'>): PatchResult {
  const unsupported = unsupportedParts(p);
  if (unsupported.length > 0) return { ok: false, reason: `not supported by this device: ${unsupported.join(', ')}` };
  const patch: { -readonly [K in keyof ControlPatch]: ControlPatch[K] } = {};
  const pct = (x: number, of: number): number => (of > 0 ? (x / of) * 100 : 0);
  const varPct = (v: number): number => pct(v, v >= 0 ? n.maxVarInject : n.maxVarAbsorb);

  if (p.state) {
    const s = p.state.value ?? StateKind.StateKind_UNDEFINED;
    if (s === StateKind.StateKind_on) patch.permitService = true;
    else if (s === StateKind.StateKind_off) patch.permitService = false;
    else if (s === StateKind.StateKind_standby) return { ok: false, reason: 'state standby is not supported (on or off)' };
  }

  if (p.wOperation) patch.activePowerSetpointW = p.wOperation.modEna ? (p.wOperation.wParameter?.wSpt ?? 0) : null;

  const lim = p.limitWOperation;
  if (lim) {
    if (lim.maxLimParameter?.modEna) {
      const limitPct = pct(lim.wMaxSptVal ?? 0, n.maxW);
      if (limitPct < -PCT_SLACK || limitPct > 100 + PCT_SLACK) return { ok: false, reason: `active power limit ${lim.wMaxSptVal ?? 0} W outside 0..${n.maxW} W` };
      patch.activePowerLimitPct = Math.min(100, Math.max(0, limitPct));
    } else patch.activePowerLimitPct = null;
  }

  // One reactive-power mode at a time (IEEE 1547); a disabled one ends the mode if it is the current one.
  const pf = p.pFOperation;
  const modes = [
    { mode: 'constantVar' as const, sent: p.vArOperation !== undefined, on: p.vArOperation?.modEna === true },
    { mode: 'constantPf' as const, sent: pf !== undefined, on: pf?.ctlVal === true || pf?.pFParameter?.modEna === true },
    { mode: 'voltVar' as const, sent: p.voltVarOperation !== undefined, on: p.voltVarOperation?.vVarParameter?.modEna === true },
  ];
  const on = modes.filter((m) => m.on);
  if (on.length > 1) return { ok: false, reason: `one reactive power mode at a time (got ${on.map((m) => m.mode).join(' and ')})` };
  if (on[0]) patch.reactiveMode = on[0].mode;
  else if (modes.some((m) => m.sent && m.mode === current.reactiveMode)) patch.reactiveMode = 'none';
  if (p.vArOperation?.modEna) {
    const v = varPct(p.vArOperation.varParameter?.varTgtSpt ?? 0);
    if (Math.abs(v) > 100 + PCT_SLACK) return { ok: false, reason: `reactive power ${p.vArOperation.varParameter?.varTgtSpt ?? 0} var outside the device's var rating` };
    patch.constantVarPct = Math.max(-100, Math.min(100, v));
  }
  if (on[0]?.mode === 'constantPf') {
    patch.pf = Math.abs(pf?.pFParameter?.pFGnTgtMxVal ?? 0);
    patch.pfExcitation = pf?.pFParameter?.pFExtSet ? 'injecting' : 'absorbing';
  }
  const vv = p.voltVarOperation;
  if (vv?.crvPts?.length) {
    const vRef = vv.vVarParameter?.VRef || n.nominalV;
    patch.voltVarCurve = vv.crvPts.map((c) => ({ v: pct(c.voltVal ?? 0, vRef), var: varPct(c.varVal ?? 0) })) as VoltVarCurve;
  }

  const vw = p.voltWOperation;
  if (vw) {
    patch.voltWattEnabled = vw.voltWParameter?.modEna === true;
    if (vw.crvPts?.length) patch.voltWattCurve = vw.crvPts.map((c) => ({ v: pct(c.voltVal ?? 0, n.nominalV), w: pct(c.wVal ?? 0, n.maxW) })) as VoltWattCurve;
  }

  const rr = p.rampRates;
  if (rr?.positiveRealPowerKWPerMin) patch.rampUpPctPerS = pct(kwPerMinToWPerS(rr.positiveRealPowerKWPerMin.value ?? 0), n.maxW);
  if (rr?.negativeRealPowerKWPerMin) patch.rampDownPctPerS = pct(kwPerMinToWPerS(rr.negativeRealPowerKWPerMin.value ?? 0), n.maxW);

  return { ok: true, patch };
}

/** Functions a point enables that the simulated inverter cannot be told over OpenFMB. */
export function unsupportedParts(p: SolarPoint | ESSPoint): string[] {
  const out: string[] = [];
  const hz = p.hzWOperation;
  if (hz?.overHzWParameter?.modEna || hz?.underHzWParameter?.modEna) out.push('hzWOperation');
  if (p.wVarOperation?.wVarParameter?.modEna) out.push('wVarOperation');
  if (p.tmHzTripOperation?.overCrvPts?.length || p.tmHzTripOperation?.underCrvPts?.length) out.push('tmHzTripOperation');
  if (p.tmVoltTripOperation?.overCrvPts?.length || p.tmVoltTripOperation?.underCrvPts?.length) out.push('tmVoltTripOperation');
  if (p.enterServiceOperation) out.push('enterServiceOperation');
  if (p.blackStartEnabled?.ctlVal) out.push('blackStartEnabled');
  if (p.rampRates?.positiveReactivePowerKVArPerMin || p.rampRates?.negativeReactivePowerKVArPerMin) out.push('reactive power ramp rates');
  if ('function' in p && p.function) {
    const f = p.function;
    const on = [
      f.capacityFirming?.capacityFirmingCtl?.value && 'capacityFirming',
      f.frequencyRegulation?.frequencyRegulationCtl?.value && 'frequencyRegulation',
      f.peakShaving?.peakShavingCtl?.value && 'peakShaving',
      f.socLimit?.socLimitCtl?.value && 'socLimit',
      f.socManagement?.socManagementCtl?.value && 'socManagement',
      f.voltageDroop?.voltageDroopCtl?.value && 'voltageDroop',
      f.voltagePI?.voltagePICtl?.value && 'voltagePI',
    ].filter((x): x is string => typeof x === 'string');
    out.push(...on.map((x) => `function.${x}`));
  }
  if ('transToIslndOnGridLossEnabled' in p && p.transToIslndOnGridLossEnabled?.ctlVal) out.push('transToIslndOnGridLossEnabled');
  return out;
}
