import { controlSchema, type Control, type Schedule, type VoltVarCurve } from '../../core/model/control.js';
import type { DerGroup } from '../../core/model/group.js';
import { parseWith } from '../../core/model/validate.js';
import { ReplyCode, fault, type CimError, type IdRef } from '../codes.js';
import { fromMultiplier, unitOfParameter, type UnitMultiplier } from '../enums.js';
import { derGroupDispatchesSchema, dispatchRefsSchema, parseProfile, type DispatchInput, type DispatchParameterInput, type DispatchScheduleInput, type Ref } from '../schema.js';
import { formatNumber } from '../tree.js';
import { attempt, payloadDoc, refId, resolveGroup, tooMany, type HandlerContext, type HandlerResult, type Outcome } from './context.js';
import { parseCurve } from './groups.js';

/**
 * create DERGroupDispatches: activePower and reactivePower follow their DispatchSchedule in the
 * core; ramp rates and voltage (a volt-var curve centred on the target) are followed by
 * ConfigSchedules; a VoltVarCurve / VoltWattCurve extension element assigns a curve.
 */
export function createDispatches(ctx: HandlerContext): HandlerResult {
  const doc = parseProfile(derGroupDispatchesSchema, payloadDoc(ctx, 'DERGroupDispatches'), 'Payload/DERGroupDispatches');
  tooMany(ctx, doc.DERGroupDispatch.length, 'DERGroupDispatch');
  return {
    outcomes: doc.DERGroupDispatch.map((d) => {
      const id: IdRef | undefined = d.mRID ? { value: d.mRID, kind: 'uuid', objectType: 'DERGroupDispatch' } : refId(groupRef(d), 'DERGroup');
      return attempt(ctx, id, () => dispatchOne(ctx, d));
    }),
  };
}

/**
 * The group a dispatch targets: EndDeviceGroup/mRID, then EndDeviceGroup/Names, and only when
 * both are absent the dispatch's own Names (some DMS put the group name there).
 */
function groupRef(d: DispatchInput): Ref {
  const g = d.EndDeviceGroup;
  return g.mRID || g.Names.length ? g : { mRID: undefined, Names: d.Names };
}

function dispatchOne(ctx: HandlerContext, d: DispatchInput): Outcome {
  const group = resolveGroup(ctx, groupRef(d));
  const mRID = d.mRID ?? ctx.newId();
  const id: IdRef = { value: mRID, kind: 'uuid', objectType: 'DERGroupDispatch' };
  const tracker = ctx.system.tracker;
  const e = d.EndDeviceGroup;
  if (e.VoltVarCurve) {
    tracker.submit({ mRID, groupId: group.mRID, control: { kind: 'voltVar', curve: parseCurve(e.VoltVarCurve, 'voltVar') } });
    return { ok: true, id };
  }
  if (e.VoltWattCurve) {
    tracker.submit({ mRID, groupId: group.mRID, control: { kind: 'voltWatt', curve: parseCurve(e.VoltWattCurve, 'voltWatt') } });
    return { ok: true, id };
  }
  const p = e.DERMonitorableParameter!;
  const expected = unitOfParameter[p.DERParameter];
  if (!expected || p.DERParameter === 'apparentPower') throw fault(ReplyCode.businessRule, `dispatch of ${p.DERParameter} is not supported (activePower, reactivePower, increasingRampRate, decreasingRampRate, voltage)`);
  if (p.yUnit !== expected) throw fault(ReplyCode.invalidSchema, `yUnit ${p.yUnit} does not fit DERParameter ${p.DERParameter} (expected ${expected})`);
  if (p.DispatchSchedule.length > 1) throw fault(ReplyCode.businessRule, 'one DispatchSchedule per DERMonitorableParameter is supported; send one DERGroupDispatch per schedule');
  const schedule = toSchedule(p.DispatchSchedule[0]!, p.yMultiplier);
  switch (p.DERParameter) {
    case 'activePower':
    case 'reactivePower': {
      const control: Control = p.DERParameter === 'activePower' ? { kind: 'activePower', unit: 'W' } : { kind: 'reactivePower', unit: 'var' };
      const rec = tracker.submit({ mRID, groupId: group.mRID, control, schedule });
      if (rec.state === 'completed') throw fault(ReplyCode.businessRule, 'the DispatchSchedule ended before now; nothing was dispatched');
      const warnings: CimError[] = [];
      if (rec.target !== null && rec.achievable !== null && Math.abs(rec.shortfall) > Math.max(1, Math.abs(rec.target) * 1e-3)) {
        const unit = p.DERParameter === 'activePower' ? 'W' : 'var';
        warnings.push({
          code: ReplyCode.ok,
          level: 'WARNING',
          reason: 'target not fully achievable now; the shortfall is tracked',
          details: `target ${formatNumber(rec.target)} ${unit}, achievable ${formatNumber(rec.achievable)} ${unit}, shortfall ${formatNumber(rec.shortfall)} ${unit}`,
          id,
        });
      }
      return { ok: true, id, warnings };
    }
    case 'increasingRampRate':
    case 'decreasingRampRate': {
      const dir = p.DERParameter === 'increasingRampRate' ? 'increasing' : 'decreasing';
      const control = (value: number): Control => {
        const live = tracker.live(group.mRID, 'rampRates')[0]?.dispatch.control;
        const other = live?.kind === 'rampRates' && live.rates.unit === 'W/s' ? live.rates : undefined;
        return { kind: 'rampRates', rates: { ...(other ? { increasing: other.increasing, decreasing: other.decreasing } : {}), [dir]: value, unit: 'W/s' } };
      };
      check(schedule, control);
      ctx.configSchedules.start({ id: mRID, groupId: group.mRID, schedule, control }, `${group.mRID}/${dir}RampRate`);
      return { ok: true, id };
    }
    case 'voltage': {
      const base = baseVoltage(group, ctx, p);
      const control = (value: number): Control => ({ kind: 'voltVar', curve: regulationCurve(ctx, (value / base) * 100) });
      check(schedule, control);
      ctx.configSchedules.start({ id: mRID, groupId: group.mRID, schedule, control }, `${group.mRID}/voltage`);
      return { ok: true, id };
    }
  }
  throw fault(ReplyCode.businessRule, `dispatch of ${p.DERParameter} is not supported`);
}

function toSchedule(s: DispatchScheduleInput, m: UnitMultiplier): Schedule {
  const points = [...s.DERCurveData].sort((a, b) => a.intervalNumber - b.intervalNumber).map((c) => ({ interval: c.intervalNumber, value: fromMultiplier(c.nominalYValue, m) }));
  for (let i = 1; i < points.length; i++) {
    if (points[i]!.interval === points[i - 1]!.interval) throw fault(ReplyCode.invalidSchema, `DERCurveData intervalNumber ${points[i]!.interval} appears twice`);
  }
  return {
    start: s.startTime,
    intervalDuration: s.timeIntervalDuration,
    intervalUnit: s.timeIntervalUnit,
    curveStyle: s.curveStyleKind,
    points,
    stepMs: 60_000,
  };
}

/** Every value of a schedule makes a valid control (checked now, not when the interval comes). */
function check(s: Schedule, control: (value: number) => Control): void {
  for (const p of s.points) parseWith(controlSchema, control(p.value), `control for interval ${p.interval}`);
}

/**
 * The voltage a `voltage` dispatch is relative to: the x:baseVoltage extension element (same
 * unit and multiplier as the values), else the nominal voltage all members share.
 */
function baseVoltage(group: DerGroup, ctx: HandlerContext, p: DispatchParameterInput): number {
  if (p.baseVoltage !== undefined) {
    if (!(p.baseVoltage > 0)) throw fault(ReplyCode.invalidSchema, 'baseVoltage must be positive');
    return fromMultiplier(p.baseVoltage, p.yMultiplier);
  }
  const nominals = new Set(group.members.map((m) => ctx.registry.der(m)?.nameplate.nominalV).filter((v): v is number => v !== undefined));
  if (nominals.size !== 1) {
    throw fault(ReplyCode.mandatoryMissing, nominals.size === 0 ? 'the group has no members to take a nominal voltage from' : `members have different nominal voltages (${[...nominals].join(', ')} V): give the base in an x:baseVoltage element`);
  }
  return [...nominals][0]!;
}

/** A volt-var curve that holds the voltage near `targetPct` (% of nominal). */
function regulationCurve(ctx: HandlerContext, targetPct: number): VoltVarCurve {
  const { deadbandPct: d, fullResponsePct: f, maxVarPct: q } = ctx.voltage;
  if (!(targetPct >= 80 && targetPct <= 120)) {
    throw fault(ReplyCode.invalidSchema, `a voltage target of ${formatNumber(targetPct)} % of the base voltage is outside 80..120 %: check yMultiplier and the base voltage`);
  }
  return [
    { v: targetPct - f, var: q },
    { v: targetPct - d, var: 0 },
    { v: targetPct + d, var: 0 },
    { v: targetPct + f, var: -q },
  ];
}

/** cancel DERGroupDispatches: stop each named dispatch and restore the members' default. */
export function cancelDispatches(ctx: HandlerContext): HandlerResult {
  const doc = parseProfile(dispatchRefsSchema, payloadDoc(ctx, 'DERGroupDispatches'), 'Payload/DERGroupDispatches');
  tooMany(ctx, doc.DERGroupDispatch.length, 'DERGroupDispatch');
  return {
    outcomes: doc.DERGroupDispatch.map((d) => {
      const name = d.mRID ?? d.Names[0]?.name;
      const id: IdRef | undefined = name === undefined ? undefined : { value: name, kind: d.mRID ? 'uuid' : 'name', objectType: 'DERGroupDispatch' };
      return attempt(ctx, id, () => {
        if (name === undefined) throw fault(ReplyCode.mandatoryMissing, 'DERGroupDispatch names no dispatch: give mRID or Names/name');
        const reason = `cancelled by ${ctx.message.header.source ?? 'the DMS'}`;
        if (ctx.configSchedules.has(name)) ctx.configSchedules.cancel(name, reason);
        else ctx.system.tracker.cancel(name, reason);
        return { ok: true, id };
      });
    }),
  };
}
