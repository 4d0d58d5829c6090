import type { ControlPatch } from '../controls.js';
import type { SimInverter } from '../inverter.js';
import type { WriteResult } from './device-700.js';
import { scaleFactorFor } from './scale.js';
import { common, scalesFor, type DeviceScales, type PointValues } from './values-700.js';

/** Stored curves the legacy curve models (126, 132) serve, and points used of the 20 per curve. */
export const LEGACY_CURVES = 4;
const ST: Record<string, number> = { off: 1, sleeping: 2, starting: 3, running: 4, throttled: 5, 'shutting-down': 6, fault: 7, standby: 8 };
/** Seconds from the Unix epoch to 2000-01-01, SunSpec's time origin. */
const SUNSPEC_EPOCH_S = 946_684_800;
/** Nominal DC bus voltage reported by the simulated PV input. */
const DC_BUS_V = 400;

/**
 * The legacy SunSpec face of a simulated inverter: models 1, 101 (single phase), 120, 121, 122,
 * 123, 124 (storage), 126 and 132. Control points mirror the device's settings, as in the 700
 * face, so either face (or the DERMS) may change the device and both read the same state.
 */
export class SunSpecLegacyFace {
  readonly scales: DeviceScales;
  private readonly stored = new Map<number, PointValues>();

  constructor(
    private readonly dev: SimInverter,
    private readonly unitId: number,
  ) {
    this.scales = scalesFor(dev.spec);
    const n = dev.spec.nameplate;
    this.stored.set(121, {
      WMax: n.maxW, VRef: n.nominalV, VRefOfs: 0, VMax: n.nominalV * 1.1, VMin: n.nominalV * 0.88, VAMax: n.maxVA,
      VArMaxQ1: n.maxVarInject, VArMaxQ2: n.maxVarInject, VArMaxQ3: -n.maxVarAbsorb, VArMaxQ4: -n.maxVarAbsorb,
      PFMinQ1: 0.9, PFMinQ2: 0.9, PFMinQ3: -0.9, PFMinQ4: -0.9, VArAct: 1, ClcTotVA: 1, MaxRmpRte: 100, ECPNomHz: 60, ConnPh: 1,
    });
    this.stored.set(123, { Conn_WinTms: 0, Conn_RvrtTms: 0, WMaxLimPct_WinTms: 0, WMaxLimPct_RvrtTms: 0, WMaxLimPct_RmpTms: 0, OutPFSet_WinTms: 0, OutPFSet_RvrtTms: 0, OutPFSet_RmpTms: 0, VArWMaxPct: 0, VArMaxPct: 0, VArAvalPct: 0, VArPct_WinTms: 0, VArPct_RvrtTms: 0, VArPct_RmpTms: 0, VArPct_Mod: 2, OutPFSet: 1, WMaxLimPct: 100 });
    this.stored.set(124, { WChaMax: n.maxChargeW, WChaGra: 100, WDisChaGra: 100, StorCtl_Mod: 0, VAChaMax: n.maxChargeW, MinRsvPct: dev.spec.battery?.minReservePct ?? 0, OutWRte: 0, InWRte: 0, InOutWRte_WinTms: 0, InOutWRte_RvrtTms: 0, InOutWRte_RmpTms: 0, ChaGriSet: 1 });
    const s = dev.settings();
    this.stored.set(126, { ActCrv: 1, WinTms: 0, RvrtTms: 0, RmpTms: 0, ...legacyCurves('VAr', s.voltVarCurve.map((p) => [p.v, p.var])) });
    this.stored.set(132, { ActCrv: 1, WinTms: 0, RvrtTms: 0, RmpTms: 0, ...legacyCurves('W', s.voltWattCurve.map((p) => [p.v, p.w])) });
  }

  models(): number[] {
    return [1, 101, 120, 121, 122, 123, ...(this.dev.spec.kind === 'pv' ? [] : [124]), 126, 132];
  }

  read(model: number): PointValues {
    const m = this.dev.measurements();
    const s = this.dev.settings();
    const n = this.dev.spec.nameplate;
    const sc = this.scales;
    switch (model) {
      case 1:
        return common(this.dev.spec, this.unitId);
      case 101: {
        const a = m.v > 0 ? m.va / m.v : 0;
        return {
          A: a, AphA: a, AphB: null, AphC: null, A_SF: sc.A_SF,
          PPVphAB: null, PPVphBC: null, PPVphCA: null, PhVphA: m.v, PhVphB: null, PhVphC: null, V_SF: sc.V_SF,
          W: m.w, W_SF: sc.W_SF, Hz: m.hz, Hz_SF: -2, VA: m.va, VA_SF: sc.VA_SF, VAr: m.var, VAr_SF: sc.Var_SF,
          // Legacy PF is a percentage, negative when absorbing.
          PF: (m.var < 0 ? -m.pf : m.pf) * 100, PF_SF: -1,
          WH: Math.floor(m.exportedWh) % 2 ** 32, WH_SF: 0,
          DCA: m.pvDcW / DC_BUS_V, DCA_SF: -2, DCV: m.pvDcW > 0 ? DC_BUS_V : 0, DCV_SF: -1, DCW: m.pvDcW, DCW_SF: scaleFactorFor(n.maxVA * 1.5),
          TmpCab: null, TmpSnk: null, TmpTrns: null, TmpOt: null, Tmp_SF: -1,
          St: ST[m.operatingState] ?? 1, StVnd: null, Evt1: m.state === 'tripped' ? 1 << 4 : 0, Evt2: 0, EvtVnd1: null, EvtVnd2: null, EvtVnd3: null, EvtVnd4: null,
        };
      }
      case 120: {
        const storage = this.dev.spec.kind !== 'pv';
        return {
          // 120 knows PV and PV with storage; a battery alone has no DERTyp.
          DERTyp: this.dev.spec.kind === 'pv' ? 4 : this.dev.spec.kind === 'hybrid' ? 82 : null, WRtg: n.maxW, WRtg_SF: sc.W_SF, VARtg: n.maxVA, VARtg_SF: sc.VA_SF,
          VArRtgQ1: n.maxVarInject, VArRtgQ2: n.maxVarInject, VArRtgQ3: -n.maxVarAbsorb, VArRtgQ4: -n.maxVarAbsorb, VArRtg_SF: sc.Var_SF,
          ARtg: (n.maxVA / n.nominalV) * 1.1, ARtg_SF: sc.A_SF, PFRtgQ1: 0.9, PFRtgQ2: 0.9, PFRtgQ3: -0.9, PFRtgQ4: -0.9, PFRtg_SF: -3,
          WHRtg: storage ? n.energyCapacityWh : null, WHRtg_SF: storage ? scaleFactorFor(n.energyCapacityWh, 65535) : 0,
          AhrRtg: null, AhrRtg_SF: 0,
          MaxChaRte: storage ? n.maxChargeW : null, MaxChaRte_SF: sc.W_SF, MaxDisChaRte: storage ? n.maxDischargeW : null, MaxDisChaRte_SF: sc.W_SF,
        };
      }
      case 121:
        return {
          ...this.stored.get(121)!, WGra: s.rampUpPctPerS,
          WMax_SF: sc.W_SF, VRef_SF: -1, VRefOfs_SF: -1, VMinMax_SF: -1, VAMax_SF: sc.VA_SF, VArMax_SF: sc.Var_SF, WGra_SF: -2, PFMin_SF: -3, MaxRmpRte_SF: 0, ECPNomHz_SF: -2,
        };
      case 122: {
        const bits = (m.connected ? 1 : 0) | 2 | (m.connected ? 4 : 0);
        const storage = this.dev.spec.kind !== 'pv';
        return {
          PVConn: this.dev.spec.kind === 'battery' ? 0 : bits, StorConn: storage ? bits : 0, ECPConn: m.connected ? 1 : 0,
          ActWh: Math.floor(m.exportedWh), ActVAh: null, ActVArhQ1: null, ActVArhQ2: null, ActVArhQ3: null, ActVArhQ4: null,
          VArAval: m.availVarMax, VArAval_SF: sc.Var_SF, WAval: Math.max(0, m.availWMax), WAval_SF: sc.W_SF,
          StSetLimMsk: 0,
          StActCtl: (s.activePowerSetpointW !== null || s.activePowerLimitPct !== null ? 1 : 0) | (s.reactiveMode === 'constantVar' ? 2 : 0) | (s.reactiveMode === 'constantPf' ? 4 : 0) | (s.reactiveMode === 'voltVar' ? 8 : 0) | (s.voltWattEnabled ? 1 << 10 : 0),
          TmSrc: 'RTC', Tms: Math.max(0, Math.floor(m.timestamp / 1000) - SUNSPEC_EPOCH_S), RtSt: 0, Ris: null, Ris_SF: 0,
        };
      }
      case 123: {
        const st = this.stored.get(123)!;
        const pfStored = Number(st.OutPFSet);
        return {
          ...st,
          Conn: s.permitService ? 1 : 0,
          WMaxLimPct: s.activePowerLimitPct ?? st.WMaxLimPct ?? 100,
          WMaxLim_Ena: s.activePowerLimitPct === null ? 0 : 1,
          OutPFSet: s.reactiveMode === 'constantPf' ? (s.pfExcitation === 'injecting' ? s.pf : -s.pf) : pfStored,
          OutPFSet_Ena: s.reactiveMode === 'constantPf' ? 1 : 0,
          ...(s.reactiveMode === 'constantVar' ? { VArMaxPct: s.constantVarPct, VArPct_Mod: 2 } : {}),
          VArPct_Ena: s.reactiveMode === 'constantVar' ? 1 : 0,
          WMaxLimPct_SF: -1, OutPFSet_SF: -3, VArPct_SF: -1,
        };
      }
      case 124: {
        const st = this.stored.get(124)!;
        const sp = s.activePowerSetpointW;
        const chaSt = m.soc === null ? 1 : m.soc <= (this.dev.spec.battery?.minReservePct ?? 0) + 0.1 ? 2 : m.soc >= (this.dev.spec.battery?.maxSocPct ?? 100) - 0.1 ? 5 : m.w > 1 ? 3 : m.w < -1 ? 4 : 6;
        // Keep the registers as written while they still say what the device does.
        const mod = Number(st.StorCtl_Mod);
        const implied = mod & 1 ? -(Number(st.InWRte) / 100) * n.maxChargeW : mod & 2 ? (Number(st.OutWRte) / 100) * n.maxDischargeW : null;
        const consistent = implied === null ? sp === null : sp !== null && Math.abs(implied - sp) < 0.5;
        return {
          ...st,
          ...(consistent
            ? {}
            : {
                StorCtl_Mod: sp === null ? 0 : sp < 0 ? 1 : 2,
                ...(sp !== null && sp < 0 ? { InWRte: (-sp / n.maxChargeW) * 100 } : {}),
                ...(sp !== null && sp >= 0 ? { OutWRte: (sp / n.maxDischargeW) * 100 } : {}),
              }),
          ChaState: m.soc, StorAval: null, InBatV: null, ChaSt: chaSt,
          WChaMax_SF: sc.W_SF, WChaDisChaGra_SF: 0, VAChaMax_SF: sc.VA_SF, MinRsvPct_SF: -1, ChaState_SF: -1, StorAval_SF: 0, InBatV_SF: -1, InOutWRte_SF: -1,
        };
      }
      case 126:
        return { ...this.stored.get(126)!, ModEna: s.reactiveMode === 'voltVar' ? 1 : 0, NCrv: LEGACY_CURVES, NPt: 20, V_SF: -1, DeptRef_SF: -1, RmpIncDec_SF: 0 };
      case 132:
        return { ...this.stored.get(132)!, ModEna: s.voltWattEnabled ? 1 : 0, NCrv: LEGACY_CURVES, NPt: 20, V_SF: -1, DeptRef_SF: -1, RmpIncDec_SF: 0 };
      default:
        return {};
    }
  }

  write(model: number, changed: PointValues): WriteResult {
    if (![121, 123, 124, 126, 132].includes(model)) return { ok: false, reason: `model ${model} has no writable points here` };
    const next = { ...this.read(model), ...changed };
    const patch = this.patchFor(model, next);
    if (typeof patch === 'string') return { ok: false, reason: patch };
    // A stored ramp time applies whenever the limit (123) or the storage rate (124) changes.
    const rampS = Number(model === 123 ? next.WMaxLimPct_RmpTms : model === 124 ? next.InOutWRte_RmpTms : 0) || 0;
    const r = this.dev.update(rampS > 0 ? { ...patch, rampTimeS: rampS } : patch);
    if (!r.ok) return r;
    const keep = Object.fromEntries(Object.entries(next).filter(([k]) => !k.endsWith('_SF')));
    this.stored.set(model, keep);
    return { ok: true };
  }

  /** The device settings a legacy model's points stand for, or why they are not acceptable. */
  private patchFor(model: number, v: PointValues): ControlPatch | string {
    const n = this.dev.spec.nameplate;
    switch (model) {
      case 121:
        return { rampUpPctPerS: Number(v.WGra), rampDownPctPerS: Number(v.WGra) };
      case 123: {
        const p: ControlPatch = { permitService: v.Conn === 1, activePowerLimitPct: v.WMaxLim_Ena === 1 ? Number(v.WMaxLimPct) : null };
        if (v.VArPct_Ena === 1) {
          const mod = Number(v.VArPct_Mod);
          const pct = mod === 1 ? ((Number(v.VArWMaxPct) / 100) * n.maxW / n.maxVarInject) * 100 : mod === 3 ? Number(v.VArAvalPct) : Number(v.VArMaxPct);
          return { ...p, reactiveMode: 'constantVar', constantVarPct: pct };
        }
        if (v.OutPFSet_Ena === 1) {
          const pf = Number(v.OutPFSet);
          if (!(Math.abs(pf) > 0 && Math.abs(pf) <= 1)) return `OutPFSet ${pf} is not a power factor`;
          return { ...p, reactiveMode: 'constantPf', pf: Math.abs(pf), pfExcitation: pf >= 0 ? 'injecting' : 'absorbing' };
        }
        const s = this.dev.settings();
        // Leaving fixed PF / var returns to the curve mode if one is enabled.
        return { ...p, reactiveMode: s.reactiveMode === 'voltVar' ? 'voltVar' : 'none' };
      }
      case 124: {
        const mod = Number(v.StorCtl_Mod);
        if (mod & 1) return { activePowerSetpointW: -(Number(v.InWRte) / 100) * n.maxChargeW };
        if (mod & 2) return { activePowerSetpointW: (Number(v.OutWRte) / 100) * n.maxDischargeW };
        return { activePowerSetpointW: null };
      }
      case 126:
      case 132: {
        const y = model === 126 ? 'VAr' : 'W';
        const enabled = (Number(v.ModEna) & 1) === 1;
        const crv = Number(v.ActCrv);
        if (!enabled) return model === 126 ? { reactiveMode: this.dev.settings().reactiveMode === 'voltVar' ? 'none' : this.dev.settings().reactiveMode } : { voltWattEnabled: false };
        if (!(crv >= 1 && crv <= LEGACY_CURVES)) return `ActCrv ${crv} is not a stored curve`;
        const npt = Number(v[`curve[${crv}].ActPt`]);
        if (!(npt >= 2 && npt <= 10)) return `curve ${crv} has ${npt} active points (2 to 10 used)`;
        const pts = Array.from({ length: npt }, (_, i) => ({ v: Number(v[`curve[${crv}].V${i + 1}`]), y: Number(v[`curve[${crv}].${y}${i + 1}`]) }));
        return model === 126
          ? { reactiveMode: 'voltVar', voltVarCurve: pts.map((p) => ({ v: p.v, var: p.y })) }
          : { voltWattEnabled: true, voltWattCurve: pts.map((p) => ({ v: p.v, w: p.y })) };
      }
    }
    return `model ${model} is not writable`;
  }
}

/** Stored legacy curves, each a copy of the device's default curve. */
function legacyCurves(y: 'VAr' | 'W', pts: readonly (readonly [number, number])[]): PointValues {
  const out: PointValues = {};
  for (let c = 1; c <= LEGACY_CURVES; c++) {
    out[`curve[${c}].ActPt`] = pts.length;
    out[`curve[${c}].DeptRef`] = y === 'VAr' ? 2 : 1;
    pts.forEach(([v, yv], i) => {
      out[`curve[${c}].V${i + 1}`] = v;
      out[`curve[${c}].${y}${i + 1}`] = yv;
    });
    out[`curve[${c}].CrvNam`] = `default ${c}`;
    out[`curve[${c}].ReadOnly`] = 0;
  }
  return out;
}
