/**
 * The analog and binary outputs of one simulated DER outstation: validates each control, turns the
 * accepted ones into ControlPatch writes on the device, and keeps the state the profile holds in
 * the outstation (values staged until their enable, curve slots being edited).
 *
 * Select only validates. Operate and direct operate execute; pairing a select with its operate
 * (same objects, next sequence, within the timeout) is the stack's job, not this model's.
 */
import type { DeviceSettingsView } from '../../../sim/inverter.js';
import type { ControlPatch, ControlResult } from '../../../sim/controls.js';
import { CommandStatus, type CommandOutcome, type ControlMode, type CrobOp, type CrobTripClose } from './commands.js';
import { decodeCurve, type CurveKind, type CurveSlot } from './curves.js';
import { initialControlView, slotContent, targetW, type ControlView, type TargetRatings } from './device-points.js';
import { describe, fromRaw, indexAt, type AoRole, type BoRole, type DerPointMap, type PointDef, type PointRole } from './point-map.js';

/** The device a model drives: its current settings, and the write that changes them. */
export interface DeviceBinding {
  settings(): DeviceSettingsView;
  apply(patch: ControlPatch): ControlResult;
}

/** What an accepted control does: a device write (or none) and the outstation state it leaves. */
interface Effect {
  readonly patch: ControlPatch | null;
  readonly commit: () => void;
}
interface Refusal {
  readonly status: CommandStatus;
  readonly reason: string;
}
type Outcome = Effect | Refusal;

interface Control<H> {
  readonly role: PointRole;
  readonly def: PointDef;
  readonly k: number;
  readonly handle: H;
}

const SUCCESS: CommandOutcome = { status: CommandStatus.SUCCESS, reason: null };
const effect = (patch: ControlPatch | null, commit: () => void = () => {}): Effect => ({ patch, commit });
const refuse = (status: CommandStatus, reason: string): Refusal => ({ status, reason });

type MutableSlot = { -readonly [K in keyof CurveSlot]: CurveSlot[K] extends readonly number[] ? number[] : CurveSlot[K] };

export class DerControlModel {
  private stagedLimitPct: number;
  private stagedTargetPct: number;
  private limitRampS: number;
  private targetRampS: number;
  private editSlot: number;
  private voltVarSlot: number;
  private voltWattSlot: number;
  private appliedVoltVarSlot: number;
  private appliedVoltWattSlot: number;
  private readonly slots: MutableSlot[];
  private readonly dirty: boolean[];
  private readonly analogs = new Map<number, Control<(value: number, raw: number, k: number) => Outcome>>();
  private readonly binaries = new Map<number, Control<(on: boolean) => Outcome>>();

  constructor(
    private readonly map: DerPointMap,
    private readonly ratings: TargetRatings,
    private readonly device: DeviceBinding,
  ) {
    const v = initialControlView(map, device.settings(), ratings);
    this.stagedLimitPct = v.stagedLimitPct;
    this.stagedTargetPct = v.stagedTargetPct;
    this.limitRampS = v.limitRampS;
    this.targetRampS = v.targetRampS;
    this.editSlot = v.editSlot;
    this.voltVarSlot = v.voltVarSlot;
    this.voltWattSlot = v.voltWattSlot;
    this.appliedVoltVarSlot = v.appliedVoltVarSlot;
    this.appliedVoltWattSlot = v.appliedVoltWattSlot;
    this.slots = v.slots.map(copySlot);
    this.dirty = [...v.dirty];
    this.registerAnalogs();
    this.registerBinaries();
  }

  /** An analog output (g41) with raw value `raw`. */
  analog(index: number, raw: number, mode: ControlMode): CommandOutcome {
    const c = this.analogs.get(index);
    if (!c) return this.result(refuse(CommandStatus.NOT_SUPPORTED, `AO${index} is not a control of this device`), mode);
    const name = describe(c.role, c.def, c.k);
    if (!Number.isInteger(raw)) return this.result(refuse(CommandStatus.FORMAT_ERROR, `${name}: ${raw} is not an integer`), mode);
    if (c.def.selectRequired && mode === 'direct') return this.result(refuse(CommandStatus.NO_SELECT, `${name} needs select before operate`), mode);
    const value = fromRaw(c.def, raw);
    const range = c.def.range;
    if (range && (value < range[0] || value > range[1])) {
      return this.result(refuse(CommandStatus.OUT_OF_RANGE, `${name}: ${value} outside ${range[0]}..${range[1]}${c.def.units ? ` ${c.def.units}` : ''}`), mode);
    }
    return this.result(c.handle(value, raw, c.k), mode);
  }

  /** A CROB (g12v1): LATCH_ON / LATCH_OFF, or PULSE_ON with CLOSE / TRIP, switch a binary output on / off. */
  binary(index: number, op: CrobOp, mode: ControlMode, tripClose?: CrobTripClose): CommandOutcome {
    const c = this.binaries.get(index);
    if (!c) return this.result(refuse(CommandStatus.NOT_SUPPORTED, `BO${index} is not a control of this device`), mode);
    const name = describe(c.role, c.def);
    const on = switchesOn(op, tripClose);
    if (on === null) return this.result(refuse(CommandStatus.NOT_SUPPORTED, `${name}: ${op}${tripClose ? `/${tripClose}` : ''} is not supported (LATCH_ON, LATCH_OFF, PULSE_ON with CLOSE or TRIP)`), mode);
    if (c.def.selectRequired && mode === 'direct') return this.result(refuse(CommandStatus.NO_SELECT, `${name} needs select before operate`), mode);
    return this.result(c.handle(on), mode);
  }

  /** The outstation's control state, for pointsFromDevice. */
  view(): ControlView {
    return {
      stagedLimitPct: this.stagedLimitPct,
      stagedTargetPct: this.stagedTargetPct,
      limitRampS: this.limitRampS,
      targetRampS: this.targetRampS,
      editSlot: this.editSlot,
      voltVarSlot: this.voltVarSlot,
      voltWattSlot: this.voltWattSlot,
      appliedVoltVarSlot: this.appliedVoltVarSlot,
      appliedVoltWattSlot: this.appliedVoltWattSlot,
      slots: this.slots.map(copySlot),
      dirty: [...this.dirty],
    };
  }

  private result(o: Outcome, mode: ControlMode): CommandOutcome {
    if ('status' in o) return { status: o.status, reason: o.reason };
    if (mode === 'select') return SUCCESS;
    if (o.patch) {
      const r = this.device.apply(o.patch);
      if (!r.ok) return { status: CommandStatus.HARDWARE_ERROR, reason: `the device refused: ${r.reason}` };
    }
    o.commit();
    return SUCCESS;
  }

  private registerAnalogs(): void {
    const s = (): DeviceSettingsView => this.device.settings();
    const c = this.map.curves;
    const handlers: Partial<Record<AoRole, (value: number, raw: number, k: number) => Outcome>> = {
      'ao.activePowerLimitRampTime': (v) => effect(null, () => (this.limitRampS = v)),
      'ao.activePowerLimitGen': (v) => effect(s().activePowerLimitPct !== null ? { activePowerLimitPct: v, rampTimeS: this.limitRampS } : null, () => (this.stagedLimitPct = v)),
      'ao.activePowerTargetRampTime': (v) => effect(null, () => (this.targetRampS = v)),
      'ao.activePowerTarget': (v) => {
        if (v < 0 && !(this.ratings.maxChargeW > 0)) return refuse(CommandStatus.OUT_OF_RANGE, `a charging target (${v} %) needs storage; this DER has no charge rating`);
        const patch = s().activePowerSetpointW !== null ? { activePowerSetpointW: targetW(v, this.ratings), rampTimeS: this.targetRampS } : null;
        return effect(patch, () => (this.stagedTargetPct = v));
      },
      'ao.rampUp': (v) => effect({ rampUpPctPerS: v }),
      'ao.rampDown': (v) => effect({ rampDownPctPerS: v }),
      'ao.constantVarTarget': (v) => effect({ constantVarPct: v }),
      // One power factor on the simulated inverter: the charging PF is the same setting.
      'ao.pfGen': (v) => effect({ pf: v }),
      'ao.pfCharge': (v) => effect({ pf: v }),
      'ao.voltVarCurveIndex': (v) => this.slotNumber(v) ?? (s().reactiveMode === 'voltVar' ? this.applyCurve('voltVar', v) : effect(null, () => (this.voltVarSlot = v))),
      'ao.voltWattCurveIndex': (v) => this.slotNumber(v) ?? (s().voltWattEnabled ? this.applyCurve('voltWatt', v) : effect(null, () => (this.voltWattSlot = v))),
      'ao.curveEditSelector': (v) => this.slotNumber(v) ?? effect(null, () => (this.editSlot = v)),
      'ao.curveModeType': (v) => this.oneOf(v, [0, c.voltVarModeType, c.voltWattModeType], 'mode type') ?? this.edit((slot) => (slot.modeType = v)),
      'ao.curveXUnits': (v) => this.oneOf(v, [0, c.xUnitsPercentVoltage], 'X units') ?? this.edit((slot) => (slot.xUnits = v)),
      'ao.curveYUnits': (v) => this.oneOf(v, [0, c.yUnitsPercentVar, c.yUnitsPercentW], 'Y units') ?? this.edit((slot) => (slot.yUnits = v)),
      'ao.curvePointCount': (v) =>
        Number.isInteger(v) && v >= 0 && v <= c.maxPoints ? this.edit((slot) => (slot.n = v)) : refuse(CommandStatus.OUT_OF_RANGE, `${v} points; a curve has 0..${c.maxPoints}`),
      // Points are kept raw, in the block's own scaling, exactly as written.
      'ao.curveX': (_v, raw, k) => this.edit((slot) => (slot.x[k] = raw)),
      'ao.curveY': (_v, raw, k) => this.edit((slot) => (slot.y[k] = raw)),
    };
    for (const [role, handle] of Object.entries(handlers) as [AoRole, (value: number, raw: number, k: number) => Outcome][]) {
      const def = this.map.points[role];
      if (!def) continue;
      const count = role === 'ao.curveX' || role === 'ao.curveY' ? c.maxPoints : 1;
      for (let k = 0; k < count; k++) this.analogs.set(indexAt(def, k), { role, def, k, handle });
    }
  }

  private registerBinaries(): void {
    const s = (): DeviceSettingsView => this.device.settings();
    const reactiveOff = (mode: DeviceSettingsView['reactiveMode']): Effect => effect(s().reactiveMode === mode ? { reactiveMode: 'none' } : null);
    const handlers: Partial<Record<BoRole, (on: boolean) => Outcome>> = {
      'bo.connect': (on) => effect({ permitService: on }),
      // One excitation on the simulated inverter: the charging one is the same setting.
      'bo.pfExcitationGen': (on) => effect({ pfExcitation: on ? 'absorbing' : 'injecting' }),
      'bo.pfExcitationCharge': (on) => effect({ pfExcitation: on ? 'absorbing' : 'injecting' }),
      'bo.activePowerLimitEnable': (on) => effect(on ? { activePowerLimitPct: this.stagedLimitPct, rampTimeS: this.limitRampS } : { activePowerLimitPct: null }),
      'bo.chargeDischargeEnable': (on) => effect(on ? { activePowerSetpointW: targetW(this.stagedTargetPct, this.ratings), rampTimeS: this.targetRampS } : { activePowerSetpointW: null }),
      'bo.voltWattEnable': (on) => (on ? this.applyCurve('voltWatt', this.voltWattSlot) : effect({ voltWattEnabled: false })),
      'bo.constantVarEnable': (on) => (on ? effect({ reactiveMode: 'constantVar' }) : reactiveOff('constantVar')),
      'bo.fixedPfEnable': (on) => (on ? effect({ reactiveMode: 'constantPf' }) : reactiveOff('constantPf')),
      'bo.voltVarEnable': (on) => (on ? this.applyCurve('voltVar', this.voltVarSlot) : reactiveOff('voltVar')),
    };
    for (const [role, handle] of Object.entries(handlers) as [BoRole, (on: boolean) => Outcome][]) {
      const def = this.map.points[role];
      if (def) this.binaries.set(def.index, { role, def, k: 0, handle });
    }
  }

  private slotNumber(v: number): Refusal | null {
    const n = this.map.curves.slots;
    return Number.isInteger(v) && v >= 1 && v <= n ? null : refuse(CommandStatus.OUT_OF_RANGE, `curve slot ${v}; this device has slots 1..${n}`);
  }

  private oneOf(v: number, allowed: readonly number[], what: string): Refusal | null {
    return allowed.includes(v) ? null : refuse(CommandStatus.OUT_OF_RANGE, `${what} ${v} is not supported (${allowed.join(', ')})`);
  }

  /** Stage an edit of the selected slot, starting from what the slot shows now. */
  private edit(change: (slot: MutableSlot) => void): Effect {
    return effect(null, () => {
      const i = this.editSlot - 1;
      const slot = copySlot(slotContent(this.map, this.view(), this.device.settings(), this.editSlot));
      change(slot);
      this.slots[i] = slot;
      this.dirty[i] = true;
    });
  }

  /** Give a function the curve in slot `no`: validated as a curve of that kind, then written to the device. */
  private applyCurve(kind: CurveKind, no: number): Outcome {
    const content = slotContent(this.map, this.view(), this.device.settings(), no);
    const commit = (): void => {
      this.slots[no - 1] = copySlot(content);
      this.dirty[no - 1] = false;
      if (kind === 'voltVar') this.voltVarSlot = this.appliedVoltVarSlot = no;
      else this.voltWattSlot = this.appliedVoltWattSlot = no;
    };
    if (kind === 'voltVar') {
      const curve = decodeCurve(this.map, content, 'voltVar');
      if (typeof curve === 'string') return refuse(CommandStatus.OUT_OF_RANGE, `curve slot ${no}: ${curve}`);
      return effect({ reactiveMode: 'voltVar', voltVarCurve: curve }, commit);
    }
    const curve = decodeCurve(this.map, content, 'voltWatt');
    if (typeof curve === 'string') return refuse(CommandStatus.OUT_OF_RANGE, `curve slot ${no}: ${curve}`);
    return effect({ voltWattEnabled: true, voltWattCurve: curve }, commit);
  }
}

function switchesOn(op: CrobOp, tripClose: CrobTripClose | undefined): boolean | null {
  if (tripClose === undefined && op === 'LATCH_ON') return true;
  if (tripClose === undefined && op === 'LATCH_OFF') return false;
  if (op === 'PULSE_ON' && tripClose !== undefined) return tripClose === 'CLOSE';
  return null;
}

function copySlot(s: CurveSlot): MutableSlot {
  return { modeType: s.modeType, xUnits: s.xUnits, yUnits: s.yUnits, n: s.n, x: [...s.x], y: [...s.y] };
}
