/**
 * The DERMS side of the DNP3 DER profile, free of any stack and any simulator: turn an outstation's
 * points into a normalized sample and a nameplate, a core setpoint into the controls that carry
 * it, and say which points show that it took effect.
 */
import { defaultVoltVarCurveB } from '../../../core/model/control.js';
import type { Nameplate } from '../../../core/model/der.js';
import type { SetpointBody, SetpointKind } from '../../../core/model/setpoint.js';
import type { OperatingState, TelemetrySample } from '../../../core/model/telemetry.js';
import type { DnpCommandStep, StepMode } from './commands.js';
import { curveEncodingProblem, curveHeader, curvePairs, type CurveKind } from './curves.js';
import { describe, fromRaw, indexAt, toRaw, type AiRole, type AoRole, type BiRole, type BoRole, type DerPointMap, type PointRole } from './point-map.js';
import type { PointSnapshot } from './snapshot.js';

/** The ratings the recipes scale by (percent of maxW, of the var rating, of the charge rating). */
export type RatingView = Pick<Nameplate, 'maxW' | 'maxVarInject' | 'maxVarAbsorb' | 'maxChargeW'>;

/** A setpoint as the recipes take it: its body and, for devices with a native ramp, its ramp time. */
export type SetpointInput = SetpointBody & { readonly rampTimeMs?: number | undefined };

// ---- Reading ---------------------------------------------------------------------------------

function readAi(map: DerPointMap, points: PointSnapshot, role: AiRole): number | undefined {
  const p = map.points[role];
  const raw = p === undefined ? undefined : points.ai.get(p.index);
  return p === undefined || raw === undefined ? undefined : fromRaw(p, raw);
}

function readBi(map: DerPointMap, points: PointSnapshot, role: BiRole): boolean | undefined {
  const p = map.points[role];
  return p === undefined ? undefined : points.bi.get(p.index);
}

function pointName(map: DerPointMap, role: PointRole): string {
  const p = map.points[role];
  return p ? describe(role, p) : `${role} (not in the point map)`;
}

export type SampleResult = { readonly sample: TelemetrySample } | { readonly problem: string };

/**
 * A normalized sample from one poll's points. W, var, Hz, a voltage (AI547, else AI553) and at
 * least one connected-state input (BI18-20) are mandatory; available power falls back to what
 * the output shows when AI43-46 are absent.
 */
export function sampleFromPoints(map: DerPointMap, derId: string, timestampMs: number, points: PointSnapshot): SampleResult {
  const a = (r: AiRole): number | undefined => readAi(map, points, r);
  const b = (r: BiRole): boolean | undefined => readBi(map, points, r);
  const w = a('ai.w');
  const q = a('ai.var');
  const hz = a('ai.hz');
  const v = a('ai.vPhaseA') ?? a('ai.vAvgLL');
  const missing: string[] = [];
  if (w === undefined) missing.push(pointName(map, 'ai.w'));
  if (q === undefined) missing.push(pointName(map, 'ai.var'));
  if (hz === undefined) missing.push(pointName(map, 'ai.hz'));
  if (v === undefined) missing.push(`${pointName(map, 'ai.vPhaseA')} or ${pointName(map, 'ai.vAvgLL')}`);
  const conn = [b('bi.connectedIdle'), b('bi.connectedGenerating'), b('bi.connectedCharging')];
  if (conn.every((c) => c === undefined)) missing.push('a connected-state input (bi.connectedIdle / connectedGenerating / connectedCharging)');
  if (w === undefined || q === undefined || hz === undefined || v === undefined || missing.length > 0) return { problem: `missing ${missing.join(', ')}` };

  const connected = conn.some((c) => c === true);
  const availW = a('ai.availW');
  const rated = a('ai.nameplateW');
  // The profile has no "throttled" input: a curtailing mode that holds output clearly below what is available.
  const curtailing = b('bi.activePowerLimitEnabled') === true || b('bi.chargeDischargeEnabled') === true || b('bi.voltWattEnabled') === true;
  const throttled = curtailing && availW !== undefined && rated !== undefined && w < availW - 0.01 * rated;
  const soc = a('ai.soc') ?? a('ai.socActual');
  return {
    sample: {
      derId,
      timestamp: timestampMs,
      w,
      var: q,
      v,
      hz,
      soc,
      connected,
      state: operatingState(connected, throttled, (r) => b(r) === true),
      availWMax: availW ?? (connected ? Math.max(w, 0) : 0),
      availWMin: a('ai.availChargeW') ?? (connected ? Math.min(w, 0) : 0),
      availVarMax: a('ai.availVarInject') ?? (connected ? Math.max(q, 0) : 0),
      availVarMin: a('ai.availVarAbsorb') ?? (connected ? Math.min(q, 0) : 0),
    },
  };
}

function operatingState(connected: boolean, throttled: boolean, on: (r: BiRole) => boolean): OperatingState {
  if (on('bi.stopping')) return 'shutting-down';
  if (!connected) {
    if (on('bi.alarmP1')) return 'fault';
    return on('bi.offAvailable') ? 'standby' : 'off';
  }
  if (on('bi.starting')) return 'starting';
  return throttled ? 'throttled' : 'running';
}

export type NameplateResult = { readonly nameplate: Nameplate; readonly storage: boolean } | { readonly problem: string };

const NORMAL_CATEGORY: Record<number, Nameplate['normalCategory']> = { 1: 'A', 2: 'B' };
const ABNORMAL_CATEGORY: Record<number, Nameplate['abnormalCategory']> = { 1: 'I', 2: 'II', 3: 'III' };

/** The nameplate an outstation declares (AI4-23, AI29), for discovery. */
export function nameplateFromPoints(map: DerPointMap, points: PointSnapshot): NameplateResult {
  const a = (r: AiRole): number | undefined => readAi(map, points, r);
  const maxW = a('ai.nameplateW');
  const maxVA = a('ai.nameplateVA');
  const nominalV = a('ai.vRef');
  const missing = (
    [
      ['ai.nameplateW', maxW],
      ['ai.nameplateVA', maxVA],
      ['ai.vRef', nominalV],
    ] as const
  ).filter(([, x]) => x === undefined);
  if (maxW === undefined || maxVA === undefined || nominalV === undefined) return { problem: `missing ${missing.map(([r]) => pointName(map, r)).join(', ')}` };
  if (!(nominalV > 0)) return { problem: `reference voltage ${nominalV} V is not positive` };
  const maxChargeW = Math.abs(a('ai.nameplateChargeW') ?? 0);
  const energyCapacityWh = a('ai.nameplateWh') ?? 0;
  const storage = maxChargeW > 0 || energyCapacityWh > 0;
  return {
    storage,
    nameplate: {
      maxW,
      maxVA,
      maxVarInject: a('ai.nameplateVarInject') ?? 0,
      maxVarAbsorb: Math.abs(a('ai.nameplateVarAbsorb') ?? 0),
      maxChargeW,
      // The profile rates generation and discharge with one point.
      maxDischargeW: storage ? maxW : 0,
      energyCapacityWh,
      nominalV,
      normalCategory: NORMAL_CATEGORY[a('ai.normalCategory') ?? 0] ?? 'B',
      abnormalCategory: ABNORMAL_CATEGORY[a('ai.abnormalCategory') ?? 0] ?? 'II',
    },
  };
}

// ---- Commanding ------------------------------------------------------------------------------

/**
 * A point that shows a command took effect, and the raw value it must read. Analog tolerance is in
 * raw counts: one step of the point's scaling, the most two roundings of one value can differ.
 */
export type ReadBackCheck =
  | { readonly source: 'aoStatus'; readonly role: AoRole; readonly index: number; readonly expect: number; readonly tolerance: number }
  | { readonly source: 'boStatus'; readonly role: BoRole; readonly index: number; readonly expect: boolean }
  | { readonly source: 'bi'; readonly role: BiRole; readonly index: number; readonly expect: boolean };

export type Rejected = { readonly rejected: string };

/** Collects the steps and read-back checks of one setpoint; the first problem rejects it. */
class Recipe {
  readonly steps: DnpCommandStep[] = [];
  /** By point, so a point written twice is checked for its last value. */
  private readonly checks = new Map<string, ReadBackCheck>();
  problem: string | null = null;

  constructor(private readonly map: DerPointMap) {}

  fail(reason: string): this {
    this.problem ??= reason;
    return this;
  }

  has(role: PointRole): boolean {
    return this.map.points[role] !== undefined;
  }

  /** Write `value` (engineering units) to an analog output, element `k` of a block. */
  analog(role: AoRole, value: number, k = 0): void {
    const p = this.map.points[role];
    if (!p) return void this.fail(`the point map has no ${role}`);
    if (!Number.isFinite(value)) return void this.fail(`${describe(role, p, k)}: ${value} is not a number`);
    const [lo, hi] = p.range ?? [-Infinity, Infinity];
    const units = p.units ? ` ${p.units}` : '';
    if (value < lo - 1e-9 || value > hi + 1e-9) return void this.fail(`${round(value)}${units} is outside ${lo}..${hi}${units} of ${describe(role, p, k)}`);
    const raw = toRaw(p, value);
    const index = indexAt(p, k);
    this.steps.push({ type: 'analog', role, index, value: raw, mode: 'direct' });
    this.checks.set(`ao:${index}`, { source: 'aoStatus', role, index, expect: raw, tolerance: 1 });
  }

  crob(role: BoRole, on: boolean): void {
    const p = this.map.points[role];
    if (!p) return void this.fail(`the point map has no ${role}`);
    const mode: StepMode = p.selectRequired ? 'select-operate' : 'direct';
    this.steps.push({ type: 'crob', role, index: p.index, op: on ? 'LATCH_ON' : 'LATCH_OFF', mode });
    this.checks.set(`bo:${p.index}`, { source: 'boStatus', role, index: p.index, expect: on });
  }

  /** A mode the device may also have: switched only where the map has it. */
  crobIfMapped(role: BoRole, on: boolean): void {
    if (this.has(role)) this.crob(role, on);
  }

  /** A binary input that must read `expect` afterwards, where the map has it. */
  bi(role: BiRole, expect: boolean): void {
    const p = this.map.points[role];
    if (p) this.checks.set(`bi:${p.index}`, { source: 'bi', role, index: p.index, expect });
  }

  /** Ramp time first, so the device moves over it; 0 when none is given (the value persists on the device). */
  rampTime(role: AoRole, ms: number | undefined): void {
    if (this.has(role)) this.analog(role, (ms ?? 0) / 1000);
  }

  /** Curve edit in the profile's order: select slot, header, points, count, then the function's curve index. */
  curve(kind: CurveKind, pairs: [number, number][], indexRole: AoRole, slot: number): void {
    const problem = curveEncodingProblem(this.map, pairs);
    if (problem) return void this.fail(problem);
    const h = curveHeader(this.map, kind);
    this.analog('ao.curveEditSelector', slot);
    this.analog('ao.curveModeType', h.modeType);
    this.analog('ao.curveXUnits', h.xUnits);
    this.analog('ao.curveYUnits', h.yUnits);
    pairs.forEach(([x, y], i) => {
      this.analog('ao.curveX', x, i);
      this.analog('ao.curveY', y, i);
    });
    this.analog('ao.curvePointCount', pairs.length);
    this.analog(indexRole, slot);
  }

  result(): { steps: DnpCommandStep[]; checks: ReadBackCheck[] } | Rejected {
    return this.problem !== null ? { rejected: this.problem } : { steps: this.steps, checks: [...this.checks.values()] };
  }
}

const round = (x: number): number => Math.round(x * 1e6) / 1e6;

function plan(map: DerPointMap, sp: SetpointInput, n: RatingView): Recipe {
  const r = new Recipe(map);
  const storage = n.maxChargeW > 0;
  switch (sp.kind) {
    case 'activePower': {
      if (sp.w < 0 && !storage) return r.fail(`a charging setpoint (${sp.w} W) needs storage; this DER has no charge rating`);
      const ref = sp.w >= 0 ? n.maxW : n.maxChargeW;
      if (!(ref > 0)) return r.fail('the DER has no active power rating to scale the target by');
      r.rampTime('ao.activePowerTargetRampTime', sp.rampTimeMs);
      r.analog('ao.activePowerTarget', (sp.w / ref) * 100);
      r.crob('bo.chargeDischargeEnable', true);
      r.bi('bi.chargeDischargeEnabled', true);
      return r;
    }
    case 'activePowerLimit':
      r.rampTime('ao.activePowerLimitRampTime', sp.rampTimeMs);
      r.analog('ao.activePowerLimitGen', sp.pct);
      r.crob('bo.activePowerLimitEnable', true);
      r.bi('bi.activePowerLimitEnabled', true);
      return r;
    case 'reactivePower': {
      const ref = sp.var >= 0 ? n.maxVarInject : n.maxVarAbsorb;
      if (!(ref > 0)) return r.fail(`the DER has no var ${sp.var >= 0 ? 'injection' : 'absorption'} rating`);
      r.analog('ao.constantVarTarget', (sp.var / ref) * 100);
      // One reactive mode at a time (IEEE 1547): the others off before this one goes on.
      r.crobIfMapped('bo.fixedPfEnable', false);
      r.crobIfMapped('bo.voltVarEnable', false);
      r.crob('bo.constantVarEnable', true);
      reactiveModeInputs(r, 'bi.constantVarEnabled');
      return r;
    }
    case 'powerFactor': {
      const absorbing = sp.excitation === 'absorbing';
      r.analog('ao.pfGen', sp.pf);
      r.crob('bo.pfExcitationGen', absorbing);
      if (storage && r.has('ao.pfCharge')) r.analog('ao.pfCharge', sp.pf);
      if (storage) r.crobIfMapped('bo.pfExcitationCharge', absorbing);
      r.crobIfMapped('bo.constantVarEnable', false);
      r.crobIfMapped('bo.voltVarEnable', false);
      r.crob('bo.fixedPfEnable', true);
      r.bi('bi.pfExcitationGen', absorbing);
      if (storage) r.bi('bi.pfExcitationCharge', absorbing);
      reactiveModeInputs(r, 'bi.fixedPfEnabled');
      return r;
    }
    case 'voltVar':
      r.curve('voltVar', curvePairs('voltVar', sp.curve), 'ao.voltVarCurveIndex', map.curves.voltVarSlot);
      r.crobIfMapped('bo.constantVarEnable', false);
      r.crobIfMapped('bo.fixedPfEnable', false);
      r.crob('bo.voltVarEnable', true);
      reactiveModeInputs(r, 'bi.voltVarEnabled');
      return r;
    case 'voltWatt':
      r.curve('voltWatt', curvePairs('voltWatt', sp.curve), 'ao.voltWattCurveIndex', map.curves.voltWattSlot);
      r.crob('bo.voltWattEnable', true);
      r.bi('bi.voltWattEnabled', true);
      return r;
    case 'rampRates':
      for (const [role, wPerS] of [
        ['ao.rampUp', sp.increasingWPerS],
        ['ao.rampDown', sp.decreasingWPerS],
      ] as const) {
        if (wPerS === null) continue;
        if (!(n.maxW > 0)) return r.fail('the DER has no active power rating to scale ramp rates by');
        r.analog(role, (wPerS / n.maxW) * 100);
      }
      return r;
    case 'connect':
      r.crob('bo.connect', sp.connected);
      r.bi('bi.switchClosed', sp.connected);
      return r;
    case 'release':
      switch (sp.slot) {
        case 'activePower':
          r.crob('bo.chargeDischargeEnable', false);
          r.bi('bi.chargeDischargeEnabled', false);
          return r;
        case 'activePowerLimit':
          r.crob('bo.activePowerLimitEnable', false);
          r.bi('bi.activePowerLimitEnabled', false);
          return r;
        case 'reactive':
          if (!(['bo.constantVarEnable', 'bo.fixedPfEnable', 'bo.voltVarEnable'] as const).some((x) => r.has(x))) return r.fail('the point map has no reactive mode to release');
          r.crobIfMapped('bo.constantVarEnable', false);
          r.crobIfMapped('bo.fixedPfEnable', false);
          r.crobIfMapped('bo.voltVarEnable', false);
          reactiveModeInputs(r, null);
          return r;
        case 'voltWatt':
          r.crob('bo.voltWattEnable', false);
          r.bi('bi.voltWattEnabled', false);
          return r;
        case 'rampRates':
          r.analog('ao.rampUp', 0);
          r.analog('ao.rampDown', 0);
          return r;
        case 'connect':
          r.crob('bo.connect', true);
          r.bi('bi.switchClosed', true);
          return r;
      }
  }
}

/** Exactly one reactive mode input on (or none). */
function reactiveModeInputs(r: Recipe, on: BiRole | null): void {
  for (const role of ['bi.constantVarEnabled', 'bi.fixedPfEnabled', 'bi.voltVarEnabled'] as const) r.bi(role, role === on);
}

/** The controls that carry `setpoint`, in order, or why this map / DER cannot express it. */
export function commandsForSetpoint(map: DerPointMap, setpoint: SetpointInput, nameplate: RatingView): DnpCommandStep[] | Rejected {
  const r = plan(map, setpoint, nameplate).result();
  return 'rejected' in r ? r : r.steps;
}

/** The points, and values, that show `setpoint` took effect once its commands succeeded. */
export function readBackChecks(map: DerPointMap, setpoint: SetpointInput, nameplate: RatingView): ReadBackCheck[] | Rejected {
  const r = plan(map, setpoint, nameplate).result();
  return 'rejected' in r ? r : r.checks;
}

/** The first check `points` fails, said plainly, or null when all pass. */
export function readBackMismatch(checks: readonly ReadBackCheck[], points: PointSnapshot): string | null {
  for (const c of checks) {
    const label = `${c.source === 'aoStatus' ? 'AO' : c.source === 'boStatus' ? 'BO' : 'BI'}${c.index} (${c.role})`;
    if (c.source === 'aoStatus') {
      const got = points.aoStatus.get(c.index);
      if (got === undefined) return `${label} status not reported`;
      if (Math.abs(got - c.expect) > c.tolerance) return `${label} reads ${got}, expected ${c.expect} ±${c.tolerance}`;
    } else {
      const got = (c.source === 'boStatus' ? points.boStatus : points.bi).get(c.index);
      if (got === undefined) return `${label} not reported`;
      if (got !== c.expect) return `${label} reads ${got ? 'on' : 'off'}, expected ${c.expect ? 'on' : 'off'}`;
    }
  }
  return null;
}

/** One setpoint of each kind, to ask whether a map and nameplate can carry that kind at all. */
const probes: readonly SetpointBody[] = [
  { kind: 'activePower', w: 0 },
  { kind: 'activePowerLimit', w: 0, pct: 100 },
  { kind: 'reactivePower', var: 0 },
  { kind: 'powerFactor', pf: 1, excitation: 'injecting' },
  { kind: 'voltVar', curve: defaultVoltVarCurveB },
  { kind: 'voltWatt', curve: [{ v: 106, w: 100 }, { v: 110, w: 20 }] },
  { kind: 'rampRates', increasingWPerS: 0, decreasingWPerS: 0 },
  { kind: 'connect', connected: true },
  { kind: 'release', slot: 'activePower' },
  { kind: 'release', slot: 'reactive' },
];

/** Setpoint kinds this map can carry to a DER with these ratings (the adapter's capabilities). */
export function setpointKindsFor(map: DerPointMap, nameplate: RatingView): ReadonlySet<SetpointKind> {
  return new Set(probes.filter((sp) => plan(map, sp, nameplate).problem === null).map((sp) => sp.kind));
}

/** Whether the map carries ramp times for limits and targets (the core then passes `rampTimeMs`). */
export function hasNativeRamp(map: DerPointMap): boolean {
  return map.points['ao.activePowerLimitRampTime'] !== undefined && map.points['ao.activePowerTargetRampTime'] !== undefined;
}
