import type { Nameplate } from '../../core/model/der.js';
import type { Setpoint, SetpointKind } from '../../core/model/setpoint.js';
import type { OperatingState, TelemetrySample } from '../../core/model/telemetry.js';

/** Point values of one model, by point path, in SunSpec units after scale factors. */
export type ModelValues = Record<string, number | string | bigint | null | undefined>;
/** Everything read from a device, by model id. */
export type DeviceValues = ReadonlyMap<number, ModelValues>;

/** One write the adapter makes: points of one model, written together then read back. */
export interface PointWrite {
  readonly model: number;
  readonly values: Readonly<Record<string, number>>;
  /** Wait until this point reads this value before the next write (the 705/706 curve handshake). */
  readonly awaitPoint?: { readonly path: string; readonly equals: number; readonly failIf?: number } | undefined;
}

const num = (v: ModelValues[string]): number | null => (v === null || v === undefined ? null : typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : null);

const INV_ST_700: readonly OperatingState[] = ['off', 'sleeping', 'starting', 'running', 'throttled', 'shutting-down', 'fault', 'standby'];
const ST_LEGACY: Record<number, OperatingState> = { 1: 'off', 2: 'sleeping', 3: 'starting', 4: 'running', 5: 'throttled', 6: 'shutting-down', 7: 'fault', 8: 'standby' };

/** What a discovered device offers, from the models it serves (120/121/702/713 in particular). */
export interface SunSpecCapabilities {
  readonly models: ReadonlySet<number>;
  readonly nameplate: Pick<Nameplate, 'maxW' | 'maxVA' | 'maxVarInject' | 'maxVarAbsorb' | 'maxChargeW' | 'maxDischargeW' | 'energyCapacityWh' | 'nominalV'>;
  readonly storage: boolean;
  /** Whether the device has a PV input (a PV or hybrid inverter). */
  readonly pv: boolean;
  readonly setpoints: ReadonlySet<SetpointKind>;
  /**
   * Active power moves carry a ramp time the device follows itself: the legacy 123
   * (WMaxLimPct_RmpTms) and 124 (InOutWRte_RmpTms) controls have one; 704, preferred when
   * present, has only a rate, so then the core steps the setpoint.
   */
  readonly nativeRamp: boolean;
}

export function capabilitiesFrom(v: DeviceValues): SunSpecCapabilities {
  const models = new Set(v.keys());
  const c702 = v.get(702);
  const c120 = v.get(120);
  const c121 = v.get(121);
  const c713 = v.get(713);
  const maxW = num(c702?.WMaxRtg) ?? num(c120?.WRtg) ?? num(c121?.WMax) ?? 0;
  const maxVA = num(c702?.VAMaxRtg) ?? num(c120?.VARtg) ?? maxW;
  const storage = models.has(713) || models.has(124) || num(c120?.DERTyp) === 82;
  const derTyp = num(c120?.DERTyp);
  // 120 says it; else a storage device is taken as battery-only unless its options name PV.
  const opt = String(v.get(1)?.Opt ?? '').toLowerCase();
  const pv = derTyp !== null ? derTyp === 4 || derTyp === 82 : !storage || /pv|hybrid|solar/.test(opt);
  const nameplate = {
    maxW,
    maxVA,
    maxVarInject: num(c702?.VarMaxInjRtg) ?? num(c120?.VArRtgQ1) ?? 0,
    maxVarAbsorb: Math.abs(num(c702?.VarMaxAbsRtg) ?? num(c120?.VArRtgQ4) ?? 0),
    maxChargeW: storage ? (num(c702?.WChaRteMaxRtg) ?? num(c120?.MaxChaRte) ?? 0) : 0,
    maxDischargeW: storage ? (num(c702?.WDisChaRteMaxRtg) ?? num(c120?.MaxDisChaRte) ?? 0) : 0,
    energyCapacityWh: storage ? (num(c713?.WHRtg) ?? num(c120?.WHRtg) ?? 0) : 0,
    nominalV: num(c702?.VNomRtg) ?? num(c121?.VRef) ?? 240,
  };
  const has = (m: number): boolean => models.has(m);
  const kinds = new Set<SetpointKind>();
  if (has(704) || has(123) || (storage && has(124))) kinds.add('activePower');
  if (has(704) || has(123)) ['activePowerLimit', 'reactivePower', 'powerFactor', 'release'].forEach((k) => kinds.add(k as SetpointKind));
  if (has(705) || has(126)) kinds.add('voltVar');
  if (has(706) || has(132)) kinds.add('voltWatt');
  if (has(704) || has(121)) kinds.add('rampRates');
  if (has(703) || has(715) || has(123)) kinds.add('connect');
  const nativeRamp = !has(704) && (has(123) || (storage && has(124)));
  return { models, nameplate, storage, pv, setpoints: kinds, nativeRamp };
}

/** A normalized sample from whatever the device serves: 701 (+702, 713) or 101 (+122, 124). */
export function sampleFrom(derId: string, timestamp: number, v: DeviceValues, caps: SunSpecCapabilities): TelemetrySample | null {
  const n = caps.nameplate;
  const m701 = v.get(701);
  const m101 = v.get(101) ?? v.get(102) ?? v.get(103) ?? v.get(111) ?? v.get(112) ?? v.get(113);
  let w: number, q: number, volts: number, hz: number, state: OperatingState, connected: boolean;
  if (m701) {
    w = num(m701.W) ?? 0;
    q = num(m701.Var) ?? 0;
    volts = num(m701.LNV) ?? num(m701.LLV) ?? 0;
    hz = num(m701.Hz) ?? 0;
    state = INV_ST_700[num(m701.InvSt) ?? 0] ?? 'off';
    connected = num(m701.ConnSt) === 1;
  } else if (m101) {
    w = num(m101.W) ?? 0;
    q = num(m101.VAr) ?? 0;
    volts = num(m101.PhVphA) ?? num(m101.PPVphAB) ?? 0;
    hz = num(m101.Hz) ?? 0;
    state = ST_LEGACY[num(m101.St) ?? 1] ?? 'off';
    const ecp = num(v.get(122)?.ECPConn);
    connected = ecp === null ? state !== 'off' && state !== 'fault' : (ecp & 1) === 1;
  } else {
    return null;
  }
  const soc = caps.storage ? (num(v.get(713)?.SoC) ?? num(v.get(124)?.ChaState) ?? undefined) : undefined;
  // Available power: 122 says it; otherwise what output and throttling imply (PV runs at MPPT unless throttled).
  const wAval = num(v.get(122)?.WAval);
  const throt = num(m701?.ThrotPct) ?? 0;
  const pvAvail = wAval ?? (state === 'throttled' && throt < 100 ? Math.max(w, w / (1 - throt / 100)) : Math.max(0, w));
  const canDischarge = caps.storage && (soc === undefined || soc > 0.5) ? n.maxDischargeW : 0;
  const canCharge = caps.storage && (soc === undefined || soc < 99.5) ? n.maxChargeW : 0;
  const availWMax = connected ? Math.min(n.maxW || Infinity, (caps.pv ? pvAvail : 0) + canDischarge) : 0;
  const circle = Math.sqrt(Math.max(0, n.maxVA * n.maxVA - w * w));
  return {
    derId,
    timestamp,
    w,
    var: q,
    v: volts,
    hz,
    soc: soc === undefined ? undefined : Math.max(0, Math.min(100, soc)),
    connected,
    state,
    availWMax: Math.max(availWMax, connected ? -canCharge : 0),
    availWMin: connected ? -canCharge : 0,
    availVarMax: connected ? Math.min(n.maxVarInject, circle) : 0,
    availVarMin: connected ? -Math.min(n.maxVarAbsorb, circle) : 0,
  };
}

/** The point writes that carry a setpoint, preferring the 700-series models. */
export function writesFor(sp: Setpoint, caps: SunSpecCapabilities): PointWrite[] | string {
  const has = (m: number): boolean => caps.models.has(m);
  const n = caps.nameplate;
  // Written every time on the legacy active-power paths, so a ramp time left from an earlier move does not linger.
  const rampS = Math.min(65_535, Math.ceil((sp.rampTimeMs ?? 0) / 1000));
  switch (sp.kind) {
    case 'activePower':
      if (has(704)) return [{ model: 704, values: { WSetMod: 1, WSet: sp.w, WSetEna: 1 } }];
      if (caps.storage && has(124)) {
        return sp.w < 0
          ? [{ model: 124, values: { InOutWRte_RmpTms: rampS, InWRte: (-sp.w / n.maxChargeW) * 100, StorCtl_Mod: 1 } }]
          : [{ model: 124, values: { InOutWRte_RmpTms: rampS, OutWRte: (sp.w / n.maxDischargeW) * 100, StorCtl_Mod: 2 } }];
      }
      if (has(123) && sp.w >= 0) return [{ model: 123, values: { WMaxLimPct_RmpTms: rampS, WMaxLimPct: (sp.w / n.maxW) * 100, WMaxLim_Ena: 1 } }];
      return 'no SunSpec model here carries an active-power setpoint';
    case 'activePowerLimit':
      if (has(704)) return [{ model: 704, values: { WMaxLimPct: sp.pct, WMaxLimPctEna: 1 } }];
      if (has(123)) return [{ model: 123, values: { WMaxLimPct_RmpTms: rampS, WMaxLimPct: sp.pct, WMaxLim_Ena: 1 } }];
      return 'no SunSpec model here carries an active-power limit';
    case 'reactivePower':
      if (has(704)) return [{ model: 704, values: { VarSetMod: 4, VarSet: sp.var, PFWInjEna: 0, VarSetEna: 1 } }];
      if (has(123)) {
        const pct = (sp.var / (sp.var >= 0 ? n.maxVarInject : n.maxVarAbsorb)) * 100;
        return [{ model: 123, values: { VArPct_Mod: 2, VArMaxPct: pct, OutPFSet_Ena: 0, VArPct_Ena: 1 } }];
      }
      return 'no SunSpec model here carries reactive power';
    case 'powerFactor':
      if (has(704)) return [{ model: 704, values: { 'PFWInj.PF': sp.pf, 'PFWInj.Ext': sp.excitation === 'injecting' ? 0 : 1, VarSetEna: 0, PFWInjEna: 1 } }];
      if (has(123)) return [{ model: 123, values: { OutPFSet: sp.excitation === 'injecting' ? sp.pf : -sp.pf, VArPct_Ena: 0, OutPFSet_Ena: 1 } }];
      return 'no SunSpec model here carries a power factor';
    case 'voltVar':
    case 'voltWatt': {
      const vv = sp.kind === 'voltVar';
      const pts = vv ? sp.curve.map((p) => [p.v, p.var] as const) : sp.curve.map((p) => [p.v, p.w] as const);
      const m7 = vv ? 705 : 706;
      const mLegacy = vv ? 126 : 132;
      if (has(m7)) {
        const values: Record<string, number> = { 'Crv[2].ActPt': pts.length };
        pts.forEach(([x, y], i) => {
          values[`Crv[2].Pt[${i + 1}].V`] = x;
          values[`Crv[2].Pt[${i + 1}].${vv ? 'Var' : 'W'}`] = y;
        });
        return [
          // Fixed PF / var would keep precedence over the curve: switch them off first.
          ...(vv && has(704) ? [{ model: 704, values: { PFWInjEna: 0, VarSetEna: 0 } }] : []),
          { model: m7, values },
          { model: m7, values: { AdptCrvReq: 2 }, awaitPoint: { path: 'AdptCrvRslt', equals: 1, failIf: 2 } },
          { model: m7, values: { Ena: 1 } },
        ];
      }
      if (has(mLegacy)) {
        const values: Record<string, number> = { 'curve[1].ActPt': pts.length };
        pts.forEach(([x, y], i) => {
          values[`curve[1].V${i + 1}`] = x;
          values[`curve[1].${vv ? 'VAr' : 'W'}${i + 1}`] = y;
        });
        return [
          ...(vv && has(123) ? [{ model: 123, values: { OutPFSet_Ena: 0, VArPct_Ena: 0 } }] : []),
          { model: mLegacy, values },
          { model: mLegacy, values: { ActCrv: 1, ModEna: 1 } },
        ];
      }
      return `no SunSpec model here carries a ${vv ? 'volt-var' : 'volt-watt'} curve`;
    }
    case 'rampRates': {
      const pct = (x: number | null): number => (x === null ? 0 : (x / n.maxW) * 100);
      const rate = Math.max(pct(sp.increasingWPerS), pct(sp.decreasingWPerS));
      if (has(704)) return [{ model: 704, values: { WRmp: rate } }];
      if (has(121)) return [{ model: 121, values: { WGra: rate } }];
      return 'no SunSpec model here carries a ramp rate';
    }
    case 'connect':
      if (has(703)) return [{ model: 703, values: { ES: sp.connected ? 1 : 0 } }];
      if (has(123)) return [{ model: 123, values: { Conn: sp.connected ? 1 : 0 } }];
      if (has(715)) return [{ model: 715, values: { OpCtl: sp.connected ? 1 : 0 } }];
      return 'no SunSpec model here carries connect / disconnect';
    case 'release':
      switch (sp.slot) {
        case 'activePower':
          if (has(704)) return [{ model: 704, values: { WSetEna: 0 } }];
          if (has(124)) return [{ model: 124, values: { StorCtl_Mod: 0 } }];
          if (has(123)) return [{ model: 123, values: { WMaxLim_Ena: 0 } }];
          return [];
        case 'activePowerLimit':
          return has(704) ? [{ model: 704, values: { WMaxLimPctEna: 0 } }] : has(123) ? [{ model: 123, values: { WMaxLim_Ena: 0 } }] : [];
        case 'reactive':
          if (has(704)) return [{ model: 704, values: { VarSetEna: 0, PFWInjEna: 0 } }, ...(has(705) ? [{ model: 705, values: { Ena: 0 } }] : [])];
          if (has(123)) return [{ model: 123, values: { VArPct_Ena: 0, OutPFSet_Ena: 0 } }, ...(has(126) ? [{ model: 126, values: { ModEna: 0 } }] : [])];
          return [];
        case 'voltWatt':
          return has(706) ? [{ model: 706, values: { Ena: 0 } }] : has(132) ? [{ model: 132, values: { ModEna: 0 } }] : [];
        case 'rampRates':
          return has(704) ? [{ model: 704, values: { WRmp: 0 } }] : has(121) ? [{ model: 121, values: { WGra: 0 } }] : [];
        case 'connect':
          return has(703) ? [{ model: 703, values: { ES: 1 } }] : has(123) ? [{ model: 123, values: { Conn: 1 } }] : [];
      }
  }
}

/**
 * Whether what was read back matches what was written, within the resolution of each point
 * (`quantum`, from its scale factor). Returns the first mismatch, or null.
 */
export function readBackMismatch(written: Readonly<Record<string, number>>, read: ModelValues, quantum: (path: string) => number): string | null {
  for (const [path, want] of Object.entries(written)) {
    if (path === 'AdptCrvReq') continue; // a request register the device clears when done
    const got = num(read[path]);
    const q = quantum(path);
    if (got === null || Math.abs(got - want) > q / 2 + 1e-9) return `${path}: wrote ${want}, read back ${got === null ? 'not implemented' : got}`;
  }
  return null;
}
