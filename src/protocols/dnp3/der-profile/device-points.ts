/**
 * The outstation side of the DER profile for a simulated inverter: every point value the device
 * publishes, from its measurements, its settings and the control state the DNP3 controls build up
 * (staged values and curve slots, see control-model.ts). Pure: no sockets, no clock.
 */
import type { Nameplate } from '../../../core/model/der.js';
import type { DeviceSettingsView, Measurements } from '../../../sim/inverter.js';
import { curvePairs, emptySlot, encodeCurve, type CurveSlot } from './curves.js';
import { fromRaw, indexAt, toRaw, type AiRole, type AoRole, type BiRole, type BoRole, type CounterRole, type DerPointMap } from './point-map.js';
import { emptySnapshot, type PointSnapshot } from './snapshot.js';

/** Control state that lives in the outstation rather than in the device's settings. */
export interface ControlView {
  /** AO88 while the limit is off (BO17 off): the limit BO17 will switch on, %. */
  readonly stagedLimitPct: number;
  /** AO93 while the target is off (BO18 off), % of maxW (>= 0) or of maxChargeW (< 0). */
  readonly stagedTargetPct: number;
  /** AO84 / AO91: ramp times applied with the next limit / target, seconds. */
  readonly limitRampS: number;
  readonly targetRampS: number;
  /** AO244, AO217, AO173 (1-based slots). */
  readonly editSlot: number;
  readonly voltVarSlot: number;
  readonly voltWattSlot: number;
  /** Slots whose curve the device's volt-var / volt-watt settings came from. */
  readonly appliedVoltVarSlot: number;
  readonly appliedVoltWattSlot: number;
  /** Slot contents (index 0 = slot 1) and whether each holds edits not yet applied. */
  readonly slots: readonly CurveSlot[];
  readonly dirty: readonly boolean[];
}

export type TargetRatings = Pick<Nameplate, 'maxW' | 'maxChargeW'>;

/** Active power target as a percentage: of maxW when generating, of maxChargeW when charging. */
export function targetPct(w: number, n: TargetRatings): number {
  const ref = w >= 0 ? n.maxW : n.maxChargeW;
  return ref > 0 ? (w / ref) * 100 : 0;
}
export function targetW(pct: number, n: TargetRatings): number {
  return (pct / 100) * (pct >= 0 ? n.maxW : n.maxChargeW);
}

/** The control state of a device no master has commanded yet: everything as its settings say. */
export function initialControlView(map: DerPointMap, s: DeviceSettingsView, n: TargetRatings): ControlView {
  const c = map.curves;
  const slots = Array.from({ length: c.slots }, () => emptySlot(c.maxPoints));
  slots[c.voltVarSlot - 1] = encodeCurve(map, 'voltVar', curvePairs('voltVar', s.voltVarCurve));
  slots[c.voltWattSlot - 1] = encodeCurve(map, 'voltWatt', curvePairs('voltWatt', s.voltWattCurve));
  return {
    stagedLimitPct: s.activePowerLimitPct ?? 100,
    stagedTargetPct: s.activePowerSetpointW === null ? 0 : targetPct(s.activePowerSetpointW, n),
    limitRampS: 0,
    targetRampS: 0,
    editSlot: c.voltVarSlot,
    voltVarSlot: c.voltVarSlot,
    voltWattSlot: c.voltWattSlot,
    appliedVoltVarSlot: c.voltVarSlot,
    appliedVoltWattSlot: c.voltWattSlot,
    slots,
    dirty: slots.map(() => false),
  };
}

/**
 * What slot `no` holds. A slot a function's curve came from, and not edited since, shows the
 * device's setting itself, so a device that acknowledged but did not take a curve is caught by
 * the read-back.
 */
export function slotContent(map: DerPointMap, view: ControlView, s: DeviceSettingsView, no: number): CurveSlot {
  const slot = view.slots[no - 1]!;
  if (view.dirty[no - 1]) return slot;
  if (no === view.appliedVoltVarSlot && slot.modeType === map.curves.voltVarModeType) return encodeCurve(map, 'voltVar', curvePairs('voltVar', s.voltVarCurve));
  if (no === view.appliedVoltWattSlot && slot.modeType === map.curves.voltWattModeType) return encodeCurve(map, 'voltWatt', curvePairs('voltWatt', s.voltWattCurve));
  return slot;
}

const INT32_MIN = -2_147_483_648;
const INT32_MAX = 2_147_483_647;
const int32 = (x: number): number => Math.max(INT32_MIN, Math.min(INT32_MAX, x));
const NORMAL_CATEGORY = { A: 1, B: 2 } as const;
const ABNORMAL_CATEGORY = { I: 1, II: 2, III: 3 } as const;

/**
 * Raw values of every point the device publishes (AI, BI, AO status, BO status, counters).
 * `control` is the outstation's control state; without it, that of a device nobody commanded.
 */
export function pointsFromDevice(map: DerPointMap, m: Measurements, s: DeviceSettingsView, n: Nameplate, control?: ControlView): PointSnapshot {
  const view = control ?? initialControlView(map, s, n);
  const out = emptySnapshot();
  const pts = map.points;
  const ai = (role: AiRole, value: number): void => {
    const p = pts[role];
    if (p) out.ai.set(p.index, int32(toRaw(p, value)));
  };
  const ao = (role: AoRole, value: number): void => {
    const p = pts[role];
    if (p) out.aoStatus.set(p.index, int32(toRaw(p, value)));
  };
  const bi = (role: BiRole, on: boolean): void => {
    const p = pts[role];
    if (p) out.bi.set(p.index, on);
  };
  const bo = (role: BoRole, on: boolean): void => {
    const p = pts[role];
    if (p) out.boStatus.set(p.index, on);
  };
  const counter = (role: CounterRole, wh: number): void => {
    const p = pts[role];
    if (p) out.counters.set(p.index, Math.floor(toRaw(p, wh)) % 2 ** 32);
  };
  /** An analog output and the input that reads it back, both from one engineering value. */
  const both = (aoRole: AoRole, aiRole: AiRole, value: number): void => {
    ao(aoRole, value);
    ai(aiRole, value);
  };

  // Nameplate.
  ai('ai.nameplateW', n.maxW);
  ai('ai.nameplateChargeW', -n.maxChargeW);
  ai('ai.nameplateVarInject', n.maxVarInject);
  ai('ai.nameplateVarAbsorb', -n.maxVarAbsorb);
  ai('ai.nameplateVA', n.maxVA);
  ai('ai.nameplateWh', n.energyCapacityWh);
  ai('ai.normalCategory', NORMAL_CATEGORY[n.normalCategory]);
  ai('ai.abnormalCategory', ABNORMAL_CATEGORY[n.abnormalCategory]);
  ai('ai.vRef', n.nominalV);

  // Meter, availability, storage.
  ai('ai.hz', m.hz);
  ai('ai.w', m.w);
  ai('ai.var', m.var);
  ai('ai.pf', m.var < 0 ? -m.pf : m.pf);
  ai('ai.va', m.va);
  ai('ai.vPhaseA', m.v);
  ai('ai.vAvgLL', m.v);
  ai('ai.availW', m.availWMax);
  ai('ai.availChargeW', m.availWMin);
  ai('ai.availVarInject', m.availVarMax);
  ai('ai.availVarAbsorb', m.availVarMin);
  if (m.soc !== null) {
    ai('ai.soc', m.soc);
    ai('ai.socActual', m.soc);
  }
  counter('counter.exportedWh', m.exportedWh);
  counter('counter.importedWh', m.importedWh);

  // Operating state. Connected-state inputs follow the W a master reads, so they agree with it.
  const energized = m.connected;
  const wPoint = pts['ai.w'];
  const wSeen = wPoint ? fromRaw(wPoint, toRaw(wPoint, m.w)) : m.w;
  bi('bi.alarmP1', m.state === 'tripped');
  bi('bi.starting', m.state === 'starting');
  bi('bi.stopping', false);
  bi('bi.started', m.state === 'running');
  bi('bi.stopped', !energized);
  bi('bi.connectedIdle', energized && wSeen === 0);
  bi('bi.connectedGenerating', energized && wSeen > 0);
  bi('bi.connectedCharging', energized && wSeen < 0);
  bi('bi.offAvailable', m.state === 'waiting');
  bi('bi.offNotAvailable', m.state === 'off' || m.state === 'tripped');
  bi('bi.switchClosed', s.permitService);
  bo('bo.connect', s.permitService);

  // Functions: enables (BO status and their BI read-backs), values (AO status and AI read-backs).
  const absorbing = s.pfExcitation === 'absorbing';
  const modes: [BoRole, BiRole, boolean][] = [
    ['bo.pfExcitationGen', 'bi.pfExcitationGen', absorbing],
    ['bo.pfExcitationCharge', 'bi.pfExcitationCharge', absorbing],
    ['bo.activePowerLimitEnable', 'bi.activePowerLimitEnabled', s.activePowerLimitPct !== null],
    ['bo.chargeDischargeEnable', 'bi.chargeDischargeEnabled', s.activePowerSetpointW !== null],
    ['bo.voltWattEnable', 'bi.voltWattEnabled', s.voltWattEnabled],
    ['bo.constantVarEnable', 'bi.constantVarEnabled', s.reactiveMode === 'constantVar'],
    ['bo.fixedPfEnable', 'bi.fixedPfEnabled', s.reactiveMode === 'constantPf'],
    ['bo.voltVarEnable', 'bi.voltVarEnabled', s.reactiveMode === 'voltVar'],
  ];
  for (const [b, i, on] of modes) {
    bo(b, on);
    bi(i, on);
  }
  bi('bi.freqWattEnabled', s.freqWattEnabled);

  both('ao.activePowerLimitRampTime', 'ai.activePowerLimitRampTime', view.limitRampS);
  both('ao.activePowerLimitGen', 'ai.activePowerLimitGen', s.activePowerLimitPct ?? view.stagedLimitPct);
  both('ao.activePowerTargetRampTime', 'ai.activePowerTargetRampTime', view.targetRampS);
  both('ao.activePowerTarget', 'ai.activePowerTarget', s.activePowerSetpointW === null ? view.stagedTargetPct : targetPct(s.activePowerSetpointW, n));
  both('ao.rampUp', 'ai.rampUp', s.rampUpPctPerS);
  both('ao.rampDown', 'ai.rampDown', s.rampDownPctPerS);
  both('ao.constantVarTarget', 'ai.constantVarTarget', s.constantVarPct);
  both('ao.pfGen', 'ai.pfGen', s.pf);
  both('ao.pfCharge', 'ai.pfCharge', s.pf);
  both('ao.voltVarCurveIndex', 'ai.voltVarCurveIndex', view.voltVarSlot);
  both('ao.voltWattCurveIndex', 'ai.voltWattCurveIndex', view.voltWattSlot);

  // The curve being edited (AO244..AO248 and the point block; the AI328.. block reads it back).
  const slot = slotContent(map, view, s, view.editSlot);
  both('ao.curveEditSelector', 'ai.curveEditSelector', view.editSlot);
  both('ao.curveModeType', 'ai.curveModeType', slot.modeType);
  both('ao.curvePointCount', 'ai.curvePointCount', slot.n);
  both('ao.curveXUnits', 'ai.curveXUnits', slot.xUnits);
  both('ao.curveYUnits', 'ai.curveYUnits', slot.yUnits);
  const blocks = [
    ['ao.curveX', 'ai.curveX', slot.x],
    ['ao.curveY', 'ai.curveY', slot.y],
  ] as const;
  for (const [aoRole, aiRole, raws] of blocks) {
    const aoP = pts[aoRole];
    const aiP = pts[aiRole];
    raws.forEach((raw, k) => {
      if (aoP) out.aoStatus.set(indexAt(aoP, k), raw);
      if (aoP && aiP && k < (aiP.repeat?.count ?? 1)) out.ai.set(indexAt(aiP, k), int32(toRaw(aiP, fromRaw(aoP, raw))));
    });
  }
  return out;
}
