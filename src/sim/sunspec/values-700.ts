import type { DeviceSpec } from '../fleet-spec.js';
import type { Measurements, DeviceSettingsView } from '../inverter.js';
import { scaleFactorFor } from './scale.js';

/** Point values by path, in SunSpec units (W, V, Hz, %, s), null = not implemented. */
export type PointValues = Record<string, number | string | null>;

const INV_ST: Record<string, number> = { off: 0, sleeping: 1, starting: 2, running: 3, throttled: 4, 'shutting-down': 5, fault: 6, standby: 7 };
const ENABLED = 1;
const DISABLED = 0;

/** Scale factors one device uses for its life (static in the 700 series). */
export interface DeviceScales {
  readonly W_SF: number;
  readonly VA_SF: number;
  readonly Var_SF: number;
  readonly A_SF: number;
  readonly V_SF: number;
  readonly PF_SF: number;
  readonly Hz_SF: number;
  readonly Tmp_SF: number;
  readonly TotWh_SF: number;
}

export function scalesFor(spec: DeviceSpec): DeviceScales {
  const n = spec.nameplate;
  const power = scaleFactorFor(n.maxVA * 1.2);
  return {
    W_SF: power,
    VA_SF: power,
    Var_SF: power,
    A_SF: scaleFactorFor((n.maxVA / n.nominalV) * 1.2, 32767, -2),
    V_SF: -1,
    PF_SF: -3,
    Hz_SF: -3,
    Tmp_SF: -1,
    TotWh_SF: 0,
  };
}

/** Model 1, common: who the device is. */
export function common(spec: DeviceSpec, unitId: number): PointValues {
  return {
    Mn: 'derms-sim',
    Md: `sim-${spec.kind}-${Math.round(spec.nameplate.maxW / 100) / 10}kW`,
    Opt: spec.kind,
    Vr: '0.1.0',
    SN: spec.id.slice(0, 32),
    DA: unitId,
  };
}

/** Model 701, DER AC measurement. Single-phase devices report on L1 and the totals. */
export function measureAc(m: Measurements, sc: DeviceScales): PointValues {
  const a = m.v > 0 ? m.va / m.v : 0;
  // PF carries the sign of the reactive power: negative when absorbing (under-excited).
  const pf = m.var < 0 ? -m.pf : m.pf;
  const throttled = m.operatingState === 'throttled';
  return {
    ACType: 0,
    St: m.connected ? 1 : 0,
    InvSt: INV_ST[m.operatingState] ?? 0,
    ConnSt: m.connected ? 1 : 0,
    Alrm: m.state === 'tripped' ? 1 << 4 : 0,
    DERMode: 1 << 0,
    W: m.w,
    VA: m.va,
    Var: m.var,
    PF: pf,
    A: a,
    LLV: null,
    LNV: m.v,
    Hz: m.hz,
    TotWhInj: Math.floor(m.exportedWh),
    TotWhAbs: Math.floor(m.importedWh),
    TotVarhInj: null,
    TotVarhAbs: null,
    TmpAmb: null,
    TmpCab: null,
    TmpSnk: null,
    TmpTrns: null,
    TmpSw: null,
    TmpOt: null,
    WL1: m.w,
    VAL1: m.va,
    VarL1: m.var,
    PFL1: pf,
    AL1: a,
    VL1L2: null,
    VL1: m.v,
    TotWhInjL1: Math.floor(m.exportedWh),
    TotWhAbsL1: Math.floor(m.importedWh),
    ThrotPct: throttled && m.availWMax > 0 ? Math.max(0, Math.min(100, Math.round((1 - m.w / m.availWMax) * 100))) : 0,
    ThrotSrc: throttled ? 1 << 0 : 0,
    ...sc,
    MnAlrmInfo: m.state === 'tripped' ? 'tripped' : null,
  };
}

/** Model 702, DER capacity: ratings from the nameplate, settings as last written. */
export function capacity(spec: DeviceSpec, sc: DeviceScales, settings: PointValues): PointValues {
  const n = spec.nameplate;
  const storage = spec.kind !== 'pv';
  return {
    WMaxRtg: n.maxW,
    WOvrExtRtg: n.maxW,
    WOvrExtRtgPF: 1,
    WUndExtRtg: n.maxW,
    WUndExtRtgPF: 1,
    VAMaxRtg: n.maxVA,
    VarMaxInjRtg: n.maxVarInject,
    VarMaxAbsRtg: n.maxVarAbsorb,
    WChaRteMaxRtg: storage ? n.maxChargeW : null,
    WDisChaRteMaxRtg: storage ? n.maxDischargeW : null,
    VAChaRteMaxRtg: storage ? n.maxChargeW : null,
    VADisChaRteMaxRtg: storage ? n.maxDischargeW : null,
    VNomRtg: n.nominalV,
    VMaxRtg: n.nominalV * 1.1,
    VMinRtg: n.nominalV * 0.88,
    AMaxRtg: (n.maxVA / n.nominalV) * 1.1,
    PFOvrExtRtg: 0.9,
    PFUndExtRtg: 0.9,
    ReactSusceptRtg: null,
    NorOpCatRtg: n.normalCategory === 'A' ? 0 : 1,
    AbnOpCatRtg: { I: 0, II: 1, III: 2 }[n.abnormalCategory],
    // Supported control modes: max W, fixed W, fixed var, fixed PF, volt-var, freq-watt, volt-watt.
    CtrlModes: (1 << 0) | (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 10),
    IntIslandCatRtg: 0,
    ...settings,
    W_SF: sc.W_SF,
    PF_SF: sc.PF_SF,
    VA_SF: sc.VA_SF,
    Var_SF: sc.Var_SF,
    V_SF: sc.V_SF,
    A_SF: sc.A_SF,
    S_SF: 0,
  };
}

/** 702 settings and the ratings they start from (a device ships with its settings at its ratings). */
const SETTING_OF_RATING: Record<string, string> = {
  WMax: 'WMaxRtg', WMaxOvrExt: 'WOvrExtRtg', WOvrExtPF: 'WOvrExtRtgPF', WMaxUndExt: 'WUndExtRtg', WUndExtPF: 'WUndExtRtgPF',
  VAMax: 'VAMaxRtg', VarMaxInj: 'VarMaxInjRtg', VarMaxAbs: 'VarMaxAbsRtg', WChaRteMax: 'WChaRteMaxRtg', WDisChaRteMax: 'WDisChaRteMaxRtg',
  VAChaRteMax: 'VAChaRteMaxRtg', VADisChaRteMax: 'VADisChaRteMaxRtg', VNom: 'VNomRtg', VMax: 'VMaxRtg', VMin: 'VMinRtg', AMax: 'AMaxRtg',
  PFOvrExt: 'PFOvrExtRtg', PFUndExt: 'PFUndExtRtg', IntIslandCat: 'IntIslandCatRtg',
};

/** The writable part of 702 a device starts with: its ratings. */
export function initialCapacitySettings(spec: DeviceSpec): PointValues {
  const ratings = capacity(spec, scalesFor(spec), {});
  return Object.fromEntries(Object.entries(SETTING_OF_RATING).map(([setting, rating]) => [setting, ratings[rating] ?? null]));
}

/** Model 703, enter service, from the device's settings. */
export function enterService(s: DeviceSettingsView, remainingS: number): PointValues {
  return {
    ES: s.permitService ? ENABLED : DISABLED,
    ESVHi: s.esVMaxPu * 100,
    ESVLo: s.esVMinPu * 100,
    ESHzHi: s.esFMaxHz,
    ESHzLo: s.esFMinHz,
    ESDlyTms: s.esDelayS,
    ESRndTms: s.esRandomWindowS,
    ESRmpTms: s.esRampS,
    ESDlyRemTms: Math.max(0, Math.round(remainingS)),
    V_SF: -2,
    Hz_SF: -3,
  };
}

/** Model 713, storage capacity. */
export function storageCapacity(spec: DeviceSpec, m: Measurements): PointValues {
  const cap = spec.nameplate.energyCapacityWh;
  return {
    WHRtg: cap,
    WHAvail: m.storedWh === null ? null : m.storedWh,
    SoC: m.soc,
    SoH: 100,
    Sta: m.state === 'tripped' ? 1 : 0,
    WH_SF: scaleFactorFor(cap, 65535),
    Pct_SF: -1,
  };
}
