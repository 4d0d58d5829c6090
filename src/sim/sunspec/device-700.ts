import type { VoltVarCurve, VoltWattCurve } from '../../core/model/control.js';
import type { ControlPatch } from '../controls.js';
import type { SimInverter } from '../inverter.js';
import { capacity, common, enterService, initialCapacitySettings, measureAc, scalesFor, storageCapacity, type DeviceScales, type PointValues } from './values-700.js';

export type WriteResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };

const N_CURVES = 3;
const N_POINTS = 4;
const CRV_COMPLETED = 1;
const CRV_FAILED = 2;
const OVER_EXCITED = 0;
const VAR_MAX_PCT = 1;
const W_MAX_PCT = 0;

/** Layout counts the device serves for the curve models (stored curves, points per curve). */
export const CURVE_COUNTS = { NCrv: N_CURVES, NPt: N_POINTS } as const;

/**
 * The SunSpec 700-series face of a simulated inverter: the values of models 1, 701-706, 713
 * (storage) and 715, and what writes to them do. Writable points keep what was last written (as a
 * real device's registers do); after each write the device's IEEE 1547 settings are derived from
 * all of them together, so a limit and its enable can arrive in separate writes.
 */
export class SunSpec700Face {
  readonly scales: DeviceScales;
  private readonly rw = new Map<number, PointValues>();
  private heartbeat = 0;

  constructor(
    private readonly dev: SimInverter,
    private readonly unitId: number,
  ) {
    this.scales = scalesFor(dev.spec);
    const s = dev.settings();
    this.rw.set(702, initialCapacitySettings(dev.spec));
    this.rw.set(704, {
      PFWInjEna: 0, PFWInjEnaRvrt: 0, PFWInjRvrtTms: 0, PFWAbsEna: 0, PFWAbsEnaRvrt: 0, PFWAbsRvrtTms: 0,
      WMaxLimPctEna: s.activePowerLimitPct === null ? 0 : 1, WMaxLimPct: s.activePowerLimitPct ?? 100, WMaxLimPctRvrt: 100, WMaxLimPctEnaRvrt: 0, WMaxLimPctRvrtTms: 0,
      WSetEna: 0, WSetMod: 1, WSet: 0, WSetRvrt: 0, WSetPct: 0, WSetPctRvrt: 0, WSetEnaRvrt: 0, WSetRvrtTms: 0,
      VarSetEna: 0, VarSetMod: VAR_MAX_PCT, VarSetPri: 0, VarSet: 0, VarSetRvrt: 0, VarSetPct: 0, VarSetPctRvrt: 0, VarSetEnaRvrt: 0, VarSetRvrtTms: 0,
      WRmp: s.rampUpPctPerS, WRmpRef: 1, VarRmp: 0, AntiIslEna: 1,
      'PFWInj.PF': 1, 'PFWInj.Ext': OVER_EXCITED, 'PFWInjRvrt.PF': 1, 'PFWInjRvrt.Ext': OVER_EXCITED,
      'PFWAbs.PF': 1, 'PFWAbs.Ext': OVER_EXCITED, 'PFWAbsRvrt.PF': 1, 'PFWAbsRvrt.Ext': OVER_EXCITED,
      PF_SF: this.scales.PF_SF, WMaxLimPct_SF: -1, WSet_SF: this.scales.W_SF, WSetPct_SF: -1, VarSet_SF: this.scales.Var_SF, VarSetPct_SF: -1,
    });
    this.rw.set(705, { Ena: s.reactiveMode === 'voltVar' ? 1 : 0, AdptCrvReq: 0, AdptCrvRslt: CRV_COMPLETED, RvrtTms: 0, RvrtCrv: 0, ...curvePoints('var', s.voltVarCurve) });
    this.rw.set(706, { Ena: s.voltWattEnabled ? 1 : 0, AdptCrvReq: 0, AdptCrvRslt: CRV_COMPLETED, RvrtTms: 0, RvrtCrv: 0, ...curvePoints('w', s.voltWattCurve) });
    this.rw.set(715, { ControllerHb: 0, AlarmReset: 0, OpCtl: 1 });
  }

  /** The models this device serves, in chain order (model 1 first). */
  models(): number[] {
    return [1, 701, 702, 703, 704, 705, 706, ...(this.dev.spec.kind === 'pv' ? [] : [713]), 715];
  }

  /** Advance device-side counters once per simulated second. */
  tick(): void {
    this.heartbeat = (this.heartbeat + 1) >>> 0;
  }

  read(model: number): PointValues {
    const m = this.dev.measurements();
    switch (model) {
      case 1:
        return common(this.dev.spec, this.unitId);
      case 701:
        return measureAc(m, this.scales);
      case 702:
        return capacity(this.dev.spec, this.scales, this.rw.get(702)!);
      case 703:
        return enterService(this.dev.settings(), 0);
      case 704:
        return { ...this.rw.get(704)!, ...this.controlsFromSettings(), WMaxLimPctRvrtRem: 0, WSetRvrtRem: 0, VarSetRvrtRem: 0, PFWInjRvrtRem: 0, PFWAbsRvrtRem: 0 };
      case 705:
        return { ...this.rw.get(705)!, Ena: this.dev.settings().reactiveMode === 'voltVar' ? 1 : 0, NCrv: N_CURVES, NPt: N_POINTS, RvrtRem: 0, V_SF: -1, DeptRef_SF: -1, RspTms_SF: 0 };
      case 706:
        return { ...this.rw.get(706)!, Ena: this.dev.settings().voltWattEnabled ? 1 : 0, NCrv: N_CURVES, NPt: N_POINTS, RvrtRem: 0, V_SF: -1, DeptRef_SF: -1, RspTms_SF: 0 };
      case 713:
        return storageCapacity(this.dev.spec, m);
      case 715:
        return { ...this.rw.get(715)!, LocRemCtl: 0, DERHb: this.heartbeat };
      default:
        return {};
    }
  }

  /**
   * Apply new values of writable points of one model. All or nothing: when the resulting
   * settings are invalid nothing changes and the reason is returned (a Modbus illegal-value).
   */
  write(model: number, changed: PointValues): WriteResult {
    if (model === 703) return this.toResult(this.dev.update(enterServicePatch(changed)));
    if (!this.rw.has(model)) return { ok: false, reason: `model ${model} has no writable points here` };
    const pct = changed.WMaxLimPct;
    if (model === 704 && pct !== undefined && !(Number(pct) >= 0 && Number(pct) <= 100)) return { ok: false, reason: `WMaxLimPct ${pct} is outside 0..100 %` };
    // Start from what the device does now (another face or the DERMS may have changed it).
    for (const m of [704, 705, 706]) this.rw.set(m, this.read(m));
    const before = this.rw.get(model)!;
    const next = { ...before, ...changed };
    if (model === 705 || model === 706) {
      if (Object.keys(changed).some((k) => k.startsWith('Crv[1].') && changed[k] !== before[k])) {
        return { ok: false, reason: 'curve 1 is the active curve and read-only: write a stored curve and request it with AdptCrvReq' };
      }
      const adopted = adoptCurve(next);
      if (!adopted.ok) {
        this.rw.set(model, { ...next, AdptCrvRslt: CRV_FAILED, AdptCrvReq: 0 });
        return { ok: true }; // the request was taken; its failure shows in AdptCrvRslt
      }
    }
    this.rw.set(model, next);
    const r = this.dev.update(this.patch());
    if (!r.ok) {
      this.rw.set(model, before);
      return { ok: false, reason: r.reason };
    }
    return { ok: true };
  }

  /** The 704 points that mirror device settings, so every face reads the same state. */
  private controlsFromSettings(): PointValues {
    const s = this.dev.settings();
    const n = this.dev.spec.nameplate;
    const out: PointValues = {
      WMaxLimPctEna: s.activePowerLimitPct === null ? 0 : 1,
      WSetEna: s.activePowerSetpointW === null ? 0 : 1,
      PFWInjEna: s.reactiveMode === 'constantPf' ? 1 : 0,
      VarSetEna: s.reactiveMode === 'constantVar' ? 1 : 0,
      WRmp: s.rampUpPctPerS,
    };
    if (s.activePowerLimitPct !== null) out.WMaxLimPct = s.activePowerLimitPct;
    const stored = this.rw.get(704)!;
    if (s.activePowerSetpointW !== null) {
      // Keep the mode the setpoint was written in, unless the device now does something else.
      const wMax = Number(this.rw.get(702)!.WMax ?? n.maxW);
      const implied = stored.WSetMod === W_MAX_PCT ? (Number(stored.WSetPct) / 100) * wMax : Number(stored.WSet);
      if (Math.abs(implied - s.activePowerSetpointW) > 0.5) {
        out.WSetMod = 1;
        out.WSet = s.activePowerSetpointW;
      }
    }
    if (s.reactiveMode === 'constantPf') {
      out['PFWInj.PF'] = s.pf;
      out['PFWInj.Ext'] = s.pfExcitation === 'injecting' ? OVER_EXCITED : 1;
    }
    if (s.reactiveMode === 'constantVar' && Math.abs(varPct(stored, n) - s.constantVarPct) > 1e-6) {
      out.VarSetMod = VAR_MAX_PCT;
      out.VarSetPct = s.constantVarPct;
    }
    return out;
  }

  /** IEEE 1547 settings implied by everything written to 704, 705, 706 and 715. */
  private patch(): ControlPatch {
    const c = this.rw.get(704)!;
    const vv = this.rw.get(705)!;
    const vw = this.rw.get(706)!;
    const op = this.rw.get(715)!;
    const wMax = Number(this.rw.get(702)!.WMax ?? this.dev.spec.nameplate.maxW);
    const n = this.dev.spec.nameplate;
    if (c.PFWInjEna === 1 && c.VarSetEna === 1) {
      // Both written enabled in one go: the later-defined (var) mode wins, as the model orders them.
      c.PFWInjEna = 0;
    }
    const patch: ControlPatch = {
      activePowerLimitPct: c.WMaxLimPctEna === 1 ? Number(c.WMaxLimPct) : null,
      activePowerSetpointW: c.WSetEna === 1 ? (c.WSetMod === W_MAX_PCT ? (Number(c.WSetPct) / 100) * wMax : Number(c.WSet)) : null,
      rampUpPctPerS: Number(c.WRmp ?? 0),
      rampDownPctPerS: Number(c.WRmp ?? 0),
      voltWattEnabled: vw.Ena === 1,
      voltWattCurve: activeCurve(vw, 'w') as VoltWattCurve,
      voltVarCurve: activeCurve(vv, 'var') as VoltVarCurve,
      permitService: op.OpCtl !== 0,
    };
    if (c.VarSetEna === 1) {
      const pct = varPct(c, n);
      return { ...patch, reactiveMode: 'constantVar', constantVarPct: Math.max(-100, Math.min(100, pct)) };
    }
    if (c.PFWInjEna === 1 || c.PFWAbsEna === 1) {
      const g = c.PFWInjEna === 1 ? 'PFWInj' : 'PFWAbs';
      return { ...patch, reactiveMode: 'constantPf', pf: Number(c[`${g}.PF`]), pfExcitation: c[`${g}.Ext`] === OVER_EXCITED ? 'injecting' : 'absorbing' };
    }
    return { ...patch, reactiveMode: vv.Ena === 1 ? 'voltVar' : 'none' };
  }

  private toResult(r: { ok: true } | { ok: false; reason: string }): WriteResult {
    return r.ok ? { ok: true } : { ok: false, reason: r.reason };
  }
}

/** VarSet in the mode chosen by VarSetMod, as percent of the var rating in its direction. */
function varPct(c: PointValues, n: { maxW: number; maxVA: number; maxVarInject: number; maxVarAbsorb: number }): number {
  const pct = Number(c.VarSetPct);
  const varsOf = (v: number): number => (v / (v >= 0 ? n.maxVarInject : n.maxVarAbsorb)) * 100;
  switch (c.VarSetMod) {
    case 4: // VARS
      return varsOf(Number(c.VarSet));
    case 0: // % of WMax
      return varsOf((pct / 100) * n.maxW);
    case 3: // % of VAMax
      return varsOf((pct / 100) * n.maxVA);
    default: // % of var max (or available: the same for this device)
      return pct;
  }
}

/** Stored curve values: curve 1 is the active (read-only) one, the others start as copies. */
function curvePoints(y: 'var' | 'w', curve: readonly { v: number; var?: number; w?: number }[]): PointValues {
  const out: PointValues = {};
  for (let c = 1; c <= N_CURVES; c++) {
    out[`Crv[${c}].ActPt`] = Math.min(curve.length, N_POINTS);
    out[`Crv[${c}].DeptRef`] = y === 'var' ? VAR_MAX_PCT : W_MAX_PCT;
    out[`Crv[${c}].ReadOnly`] = c === 1 ? 1 : 0;
    if (y === 'var') {
      out[`Crv[${c}].Pri`] = 1;
      out[`Crv[${c}].VRef`] = 100;
      out[`Crv[${c}].VRefAuto`] = 100;
      out[`Crv[${c}].VRefAutoEna`] = 0;
      out[`Crv[${c}].VRefAutoTms`] = 0;
    }
    out[`Crv[${c}].RspTms`] = y === 'var' ? 5 : 10;
    for (let p = 1; p <= N_POINTS; p++) {
      const pt = curve[Math.min(p, curve.length) - 1]!;
      out[`Crv[${c}].Pt[${p}].V`] = pt.v;
      out[`Crv[${c}].Pt[${p}].${y === 'var' ? 'Var' : 'W'}`] = y === 'var' ? pt.var! : pt.w!;
    }
  }
  return out;
}

function activeCurve(vals: PointValues, y: 'var' | 'w'): { v: number; var?: number; w?: number }[] {
  const n = Math.max(2, Math.min(N_POINTS, Number(vals['Crv[1].ActPt'] ?? N_POINTS)));
  return Array.from({ length: n }, (_, i) => {
    const v = Number(vals[`Crv[1].Pt[${i + 1}].V`]);
    const yv = Number(vals[`Crv[1].Pt[${i + 1}].${y === 'var' ? 'Var' : 'W'}`]);
    return y === 'var' ? { v, var: yv } : { v, w: yv };
  });
}

/** The 705/706 handshake: AdptCrvReq = n copies stored curve n into curve 1 (the active one). */
function adoptCurve(vals: PointValues): WriteResult {
  const req = Number(vals.AdptCrvReq ?? 0);
  if (req === 0) return { ok: true };
  vals.AdptCrvReq = 0;
  if (!(req >= 1 && req <= N_CURVES)) return { ok: false, reason: `no stored curve ${req}` };
  const n = Number(vals[`Crv[${req}].ActPt`]);
  if (!(n >= 2 && n <= N_POINTS)) return { ok: false, reason: `curve ${req} has ${n} active points` };
  for (let p = 2; p <= n; p++) {
    if (Number(vals[`Crv[${req}].Pt[${p}].V`]) <= Number(vals[`Crv[${req}].Pt[${p - 1}].V`])) return { ok: false, reason: 'voltages must increase' };
  }
  for (const key of Object.keys(vals)) {
    const m = /^Crv\[(\d+)\]\.(.+)$/.exec(key);
    if (m && Number(m[1]) === req && m[2] !== 'ReadOnly') vals[`Crv[1].${m[2]}`] = vals[key]!;
  }
  vals.AdptCrvRslt = CRV_COMPLETED;
  return { ok: true };
}

function enterServicePatch(c: PointValues): ControlPatch {
  const p: ControlPatch = {};
  if (c.ES !== undefined) p.permitService = c.ES === 1;
  if (c.ESVHi !== undefined) p.esVMaxPu = Number(c.ESVHi) / 100;
  if (c.ESVLo !== undefined) p.esVMinPu = Number(c.ESVLo) / 100;
  if (c.ESHzHi !== undefined) p.esFMaxHz = Number(c.ESHzHi);
  if (c.ESHzLo !== undefined) p.esFMinHz = Number(c.ESHzLo);
  if (c.ESDlyTms !== undefined) p.esDelayS = Number(c.ESDlyTms);
  if (c.ESRndTms !== undefined) p.esRandomWindowS = Number(c.ESRndTms);
  if (c.ESRmpTms !== undefined) p.esRampS = Number(c.ESRmpTms);
  return p;
}
