import type { DerKind, Nameplate } from '../../core/model/der.js';
import type { SetpointBody } from '../../core/model/setpoint.js';
import type { OperatingState, TelemetrySample } from '../../core/model/telemetry.js';
import { HealthKind, OperatingStateKind, StateKind } from '../../protocols/openfmb/messages.js';
import { wPerSToKwPerMin, type CapabilityView, type DerPoint, type DerPointStatus, type ReadingView, type StatusView } from '../../protocols/openfmb/index.js';

/** The ratings the adapter works with: from the device's Capability profile, or given up front. */
export type Ratings = Pick<Nameplate, 'maxW' | 'maxVA' | 'maxVarInject' | 'maxVarAbsorb' | 'nominalV' | 'maxChargeW' | 'maxDischargeW' | 'energyCapacityWh'>;

/** Ratings from a capability view; null until it names at least the active-power rating. */
export function ratingsFrom(c: CapabilityView): Ratings | null {
  if (!c.maxW) return null;
  return {
    maxW: c.maxW,
    maxVA: c.maxVA || c.maxW,
    maxVarInject: c.maxVarInject ?? 0,
    maxVarAbsorb: c.maxVarAbsorb ?? 0,
    nominalV: c.nominalV || 240,
    maxChargeW: c.maxChargeW ?? 0,
    maxDischargeW: c.maxDischargeW ?? 0,
    energyCapacityWh: c.energyCapacityWh ?? 0,
  };
}

const OPERATING: Readonly<Record<number, OperatingState>> = {
  [OperatingStateKind.OperatingStateKind_off]: 'off',
  [OperatingStateKind.OperatingStateKind_disconnected_and_standby]: 'standby',
  [OperatingStateKind.OperatingStateKind_disconnected_and_available]: 'standby',
  [OperatingStateKind.OperatingStateKind_disconnected_and_authorized]: 'standby',
  [OperatingStateKind.OperatingStateKind_starting_and_synchronizing]: 'starting',
  [OperatingStateKind.OperatingStateKind_connected_and_idle]: 'running',
  [OperatingStateKind.OperatingStateKind_connected_and_generating]: 'running',
  [OperatingStateKind.OperatingStateKind_connected_and_consuming]: 'running',
  [OperatingStateKind.OperatingStateKind_stopping]: 'shutting-down',
  [OperatingStateKind.OperatingStateKind_disconnected_and_blocked]: 'off',
  [OperatingStateKind.OperatingStateKind_disconnected_and_in_maintenance]: 'off',
  [OperatingStateKind.OperatingStateKind_ceased_to_energize]: 'standby',
  [OperatingStateKind.OperatingStateKind_failed]: 'fault',
};

/** Output within this fraction of the rating of an active-power cap counts as held at the cap. */
const AT_CAP = 0.01;

/**
 * The operating state a status tells: the solar OperatingState when present; otherwise (ESS) from
 * health, the commanded state, grid synchronism and standby. OpenFMB has no "throttled": it is
 * inferred when output sits at an enabled active-power limit, or a PV inverter follows a setpoint.
 */
export function operatingState(st: StatusView, w: number, r: Ratings, pv: boolean): OperatingState {
  let s: OperatingState;
  if (st.health === HealthKind.HealthKind_Alarm) s = 'fault';
  else if (st.operatingState !== undefined && OPERATING[st.operatingState]) s = OPERATING[st.operatingState]!;
  else if (st.point?.state?.value === StateKind.StateKind_off) s = 'off';
  else if (st.standby || st.connected === false) s = 'standby';
  else s = 'running';
  if (s !== 'running') return s;
  const lim = st.point?.limitWOperation;
  if (lim?.maxLimParameter?.modEna && w >= (lim.wMaxSptVal ?? 0) - AT_CAP * r.maxW && (lim.wMaxSptVal ?? 0) < r.maxW - AT_CAP * r.maxW) return 'throttled';
  if (pv && st.point?.realPwrSetPointEnabled?.stVal) return 'throttled';
  return s;
}

/**
 * A normalized sample from the latest reading and status. OpenFMB readings carry no available
 * power, so, as for a SunSpec device without model 122: a PV input runs at its maximum power point
 * unless held (then up to its rating is taken as available, an upper bound); storage can go to its
 * charge and discharge ratings unless empty or full. Null when the reading lacks W, V or Hz.
 */
export function sampleFrom(derId: string, timestamp: number, rd: ReadingView, st: StatusView, r: Ratings, kind: DerKind): TelemetrySample | null {
  if (rd.w === undefined || rd.v === undefined || rd.hz === undefined) return null;
  const w = rd.w;
  const pv = kind === 'pv' || kind === 'hybrid';
  const storage = kind === 'battery' || kind === 'hybrid';
  const state = operatingState(st, w, r, kind === 'pv');
  const connected = st.connected ?? (state === 'running' || state === 'throttled' || state === 'starting');
  const soc = storage && st.soc !== undefined ? Math.max(0, Math.min(100, st.soc)) : undefined;
  const canDischarge = storage && (soc === undefined || soc > 0.5) ? r.maxDischargeW || r.maxW : 0;
  const canCharge = storage && (soc === undefined || soc < 99.5) ? r.maxChargeW : 0;
  const pvAvail = state === 'throttled' ? r.maxW : Math.max(0, w);
  const availWMax = connected ? Math.min(r.maxW, (pv ? pvAvail : 0) + canDischarge) : 0;
  const circle = Math.sqrt(Math.max(0, r.maxVA * r.maxVA - w * w));
  return {
    derId,
    timestamp,
    w,
    var: rd.var ?? 0,
    v: rd.v,
    hz: rd.hz,
    soc,
    connected,
    state,
    availWMax: Math.max(availWMax, connected && canCharge > 0 ? -canCharge : 0),
    availWMin: connected && canCharge > 0 ? -canCharge : 0,
    availVarMax: connected ? Math.min(r.maxVarInject, circle) : 0,
    availVarMin: connected ? -Math.min(r.maxVarAbsorb, circle) : 0,
  };
}

/**
 * The control point that carries a setpoint (absolute W, var, V; ramp rates in kW/min), or why it
 * cannot be sent. Curves are in percent of nominal voltage and of the ratings inside, absolute on
 * the wire, so they need the device's ratings.
 */
export function setpointToPoint(sp: SetpointBody, r: Ratings, kind: DerKind): DerPoint | string {
  const varAbs = (pct: number): number => (pct / 100) * (pct >= 0 ? r.maxVarInject : r.maxVarAbsorb);
  const volts = (pct: number): number => (pct / 100) * r.nominalV;
  switch (sp.kind) {
    case 'activePower':
      if (sp.w < 0 && kind === 'pv') return `a PV inverter cannot take ${sp.w} W`;
      return { wOperation: { modEna: true, wParameter: { wSpt: sp.w } } };
    case 'activePowerLimit':
      return { limitWOperation: { maxLimParameter: { modEna: true }, wMaxSptVal: sp.w } };
    case 'reactivePower':
      return { vArOperation: { modEna: true, varParameter: { varTgtSpt: sp.var } } };
    case 'powerFactor':
      return { pFOperation: { ctlVal: true, pFParameter: { modEna: true, pFExtSet: sp.excitation === 'injecting', pFGnTgtMxVal: sp.pf } } };
    case 'voltVar':
      return { voltVarOperation: { crvPts: sp.curve.map((p) => ({ voltVal: volts(p.v), varVal: varAbs(p.var) })), vVarParameter: { modEna: true, VRef: r.nominalV } } };
    case 'voltWatt':
      return { voltWOperation: { crvPts: sp.curve.map((p) => ({ voltVal: volts(p.v), wVal: (p.w / 100) * r.maxW })), voltWParameter: { modEna: true } } };
    case 'rampRates':
      if (sp.increasingWPerS === null && sp.decreasingWPerS === null) return 'no ramp rate given';
      return {
        rampRates: {
          ...(sp.increasingWPerS === null ? {} : { positiveRealPowerKWPerMin: { value: wPerSToKwPerMin(sp.increasingWPerS) } }),
          ...(sp.decreasingWPerS === null ? {} : { negativeRealPowerKWPerMin: { value: wPerSToKwPerMin(sp.decreasingWPerS) } }),
        },
      };
    case 'connect':
      return { state: { value: sp.connected ? StateKind.StateKind_on : StateKind.StateKind_off } };
    case 'release':
      switch (sp.slot) {
        case 'activePower':
          return { wOperation: { modEna: false } };
        case 'activePowerLimit':
          return { limitWOperation: { maxLimParameter: { modEna: false } } };
        case 'reactive':
          return { vArOperation: { modEna: false }, pFOperation: { ctlVal: false, pFParameter: { modEna: false } }, voltVarOperation: { vVarParameter: { modEna: false } } };
        case 'voltWatt':
          return { voltWOperation: { voltWParameter: { modEna: false } } };
        case 'rampRates':
          // 0 kW/min: no normal ramp-rate limit.
          return { rampRates: { positiveRealPowerKWPerMin: { value: 0 }, negativeRealPowerKWPerMin: { value: 0 } } };
        case 'connect':
          return { state: { value: StateKind.StateKind_on } };
      }
  }
}

/** Two values equal after float32 on the wire and the device's percent conversions. */
function near(a: number | undefined, b: number | undefined): boolean {
  const x = a ?? 0;
  const y = b ?? 0;
  return Math.abs(x - y) <= 1e-3 + 1e-4 * Math.max(Math.abs(x), Math.abs(y));
}

/**
 * Why a status does not (yet) show what `p` asked for, or null when it does: each function the
 * point sets, enabled or not, with its values. An OpenFMB status carries no active-power setpoint
 * value, so an active-power setpoint shows only as `realPwrSetPointEnabled`.
 */
export function notReflected(p: DerPoint, s: DerPointStatus | undefined): string | null {
  if (!s) return 'the status has no point status';
  if (p.wOperation) {
    const want = p.wOperation.modEna === true;
    if ((s.realPwrSetPointEnabled?.stVal ?? false) !== want) return `real power setpoint ${want ? 'not' : 'still'} enabled`;
  }
  if (p.limitWOperation) {
    const want = p.limitWOperation.maxLimParameter?.modEna === true;
    const l = s.limitWOperation;
    if ((l?.maxLimParameter?.modEna ?? false) !== want) return `active power limit ${want ? 'not' : 'still'} enabled`;
    if (want && !near(l?.wMaxSptVal, p.limitWOperation.wMaxSptVal)) return `active power limit ${l?.wMaxSptVal ?? 0} W, not ${p.limitWOperation.wMaxSptVal ?? 0} W`;
  }
  if (p.vArOperation) {
    const want = p.vArOperation.modEna === true;
    const v = s.vArOperation;
    if ((v?.modEna ?? false) !== want) return `constant var ${want ? 'not' : 'still'} enabled`;
    if (want && !near(v?.varParameter?.varTgtSpt, p.vArOperation.varParameter?.varTgtSpt)) return `constant var ${v?.varParameter?.varTgtSpt ?? 0}, not ${p.vArOperation.varParameter?.varTgtSpt ?? 0}`;
  }
  if (p.pFOperation) {
    const on = (x: DerPoint['pFOperation']): boolean => x?.ctlVal === true || x?.pFParameter?.modEna === true;
    const want = on(p.pFOperation);
    if (on(s.pFOperation) !== want) return `constant power factor ${want ? 'not' : 'still'} enabled`;
    const a = s.pFOperation?.pFParameter;
    const b = p.pFOperation.pFParameter;
    if (want && (!near(a?.pFGnTgtMxVal, b?.pFGnTgtMxVal) || (a?.pFExtSet ?? false) !== (b?.pFExtSet ?? false))) return 'a different power factor';
  }
  if (p.voltVarOperation) {
    const want = p.voltVarOperation.vVarParameter?.modEna === true;
    if ((s.voltVarOperation?.vVarParameter?.modEna ?? false) !== want) return `volt-var ${want ? 'not' : 'still'} enabled`;
    if (!sameCurve(p.voltVarOperation.crvPts, s.voltVarOperation?.crvPts, (c) => [c.voltVal, c.varVal])) return 'a different volt-var curve';
  }
  if (p.voltWOperation) {
    const want = p.voltWOperation.voltWParameter?.modEna === true;
    if ((s.voltWOperation?.voltWParameter?.modEna ?? false) !== want) return `volt-watt ${want ? 'not' : 'still'} enabled`;
    if (!sameCurve(p.voltWOperation.crvPts, s.voltWOperation?.crvPts, (c) => [c.voltVal, c.wVal])) return 'a different volt-watt curve';
  }
  if (p.rampRates) {
    const a = p.rampRates;
    const b = s.rampRates;
    if (a.positiveRealPowerKWPerMin && !near(b?.positiveRealPowerKWPerMin?.value, a.positiveRealPowerKWPerMin.value)) return 'a different increasing ramp rate';
    if (a.negativeRealPowerKWPerMin && !near(b?.negativeRealPowerKWPerMin?.value, a.negativeRealPowerKWPerMin.value)) return 'a different decreasing ramp rate';
  }
  if (p.state && (s.state?.value ?? StateKind.StateKind_UNDEFINED) !== (p.state.value ?? StateKind.StateKind_UNDEFINED)) return `state ${s.state?.value ?? 0}, not ${p.state.value ?? 0}`;
  return null;
}

/** A curve sent (when it was) equals the one reported. */
function sameCurve<P>(sent: readonly P[] | undefined, got: readonly P[] | undefined, xy: (p: P) => [number | undefined, number | undefined]): boolean {
  if (!sent?.length) return true;
  if (!got || got.length !== sent.length) return false;
  return sent.every((p, i) => {
    const [x1, y1] = xy(p);
    const [x2, y2] = xy(got[i]!);
    return near(x1, x2) && near(y1, y2);
  });
}
