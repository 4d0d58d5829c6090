import { Subject, Subscription, interval, type Observable } from 'rxjs';
import type { Aggregator, DerView } from './aggregator.js';
import { DermsError } from './errors.js';
import { endpointKey } from './model/der.js';
import { isScalarControl, parseDispatch, slotOf, type ControlSlot, type Dispatch, type RampRates } from './model/control.js';
import type { DerFunctionName, DerGroup } from './model/group.js';
import type { ApplyOutcome, Setpoint, SetpointKind } from './model/setpoint.js';
import { planControl, planRelease, type Plan } from './planner/plan.js';
import { memberRamps, rampValueAt, rampDurationMs, type MemberRamp } from './ramp.js';
import { scheduleAt } from './schedule.js';
import type { Clock, DeviceAdapter } from './ports.js';
import type { Registry } from './registry.js';
import type { DispatchEvent, DispatchRecord, DispatchState, MemberRecord, ReplanReason } from './dispatch-events.js';
import type { GroupStatus } from './group-status.js';
import { WriteQueue } from './write-queue.js';

export interface TrackerOptions {
  /** Writes in flight per endpoint (default 1). */
  readonly perEndpointConcurrency?: number;
  /** A write without an answer after this long is timed out (default 5000 ms). */
  readonly applyTimeoutMs?: number;
  /** Period of core-stepped ramps for devices without a native ramp (default 1000 ms). */
  readonly rampStepMs?: number;
  /** A new power setpoint closer than this to the last one is not sent again (default 1 W/var). */
  readonly deadband?: number;
  /** Off target by more than this (absolute, W/var) ... */
  readonly trackingTolerance?: number;
  /** ... or this fraction of the target, for `replanAfterMs`, triggers a re-plan (default 2%). */
  readonly trackingToleranceFraction?: number;
  readonly replanAfterMs?: number;
  /** Points kept in each dispatch's achieved-vs-target series (default 3600). */
  readonly seriesLimit?: number;
}

/** Finds the adapter serving a DER (the telemetry hub). */
export interface AdapterLookup {
  adapter(derId: string): DeviceAdapter | undefined;
}

/** The DERFunction flag a group needs for each control (IEC 61968-5). */
const requiredFunction: Record<Dispatch['control']['kind'], DerFunctionName> = {
  activePower: 'realPowerDispatch',
  reactivePower: 'reactivePowerDispatch',
  powerFactor: 'reactivePowerDispatch',
  activePowerLimit: 'maxRealPowerLimiting',
  voltVar: 'voltVarCurveFunction',
  voltWatt: 'voltWattCurveFunction',
  rampRates: 'rampRateControl',
  connect: 'connectDisconnect',
};

interface MemberTrack {
  requested: Setpoint | null;
  applied: Setpoint | null;
  lastOutcome: ApplyOutcome | null;
  ramp: { from: number; to: number; startedAt: number; limits: MemberRamp } | null;
}

interface Tracked {
  readonly id: string;
  readonly groupId: string;
  readonly dispatch: Dispatch;
  readonly slot: ControlSlot;
  state: DispatchState;
  value: number | null;
  plan: Plan | null;
  readonly exclude: Map<string, string>;
  readonly members: Map<string, MemberTrack>;
  readonly series: { at: number; target: number; achieved: number }[];
  readonly subs: Subscription;
  lastPlanAt: number;
  offTargetSince: number | null;
  replanQueued: ReplanReason | null;
}

/**
 * Runs dispatches: activates them at their schedule's times, plans them into per-DER setpoints,
 * writes those through a bounded per-endpoint queue, records every outcome, and closes the loop,
 * re-planning over healthy members when one rejects, times out, goes stale or the group's output
 * stays off target. Everything it does is published on `events$`.
 */
export class DispatchTracker {
  private readonly dispatches = new Map<string, Tracked>();
  private readonly queue: WriteQueue;
  private readonly eventsSubject = new Subject<DispatchEvent>();
  readonly events$: Observable<DispatchEvent> = this.eventsSubject.asObservable();
  private readonly subs = new Subscription();
  private readonly o: Required<TrackerOptions>;

  constructor(
    private readonly registry: Registry,
    private readonly aggregator: Aggregator,
    private readonly adapters: AdapterLookup,
    private readonly clock: Clock,
    options: TrackerOptions = {},
  ) {
    this.o = {
      perEndpointConcurrency: options.perEndpointConcurrency ?? 1,
      applyTimeoutMs: options.applyTimeoutMs ?? 5000,
      rampStepMs: options.rampStepMs ?? 1000,
      deadband: options.deadband ?? 1,
      trackingTolerance: options.trackingTolerance ?? 100,
      trackingToleranceFraction: options.trackingToleranceFraction ?? 0.02,
      replanAfterMs: options.replanAfterMs ?? 10_000,
      seriesLimit: options.seriesLimit ?? 3600,
    };
    this.queue = new WriteQueue(clock, this.o.perEndpointConcurrency, this.o.applyTimeoutMs);
    this.subs.add(aggregator.freshness$.subscribe((f) => this.onFreshness(f.derId, f.to)));
    this.subs.add(aggregator.status$.subscribe((s) => this.onStatus(s)));
    this.subs.add(
      registry.changes$.subscribe((c) => {
        if (c.type === 'groupChanged') this.forGroup(c.group.mRID, (t) => this.queueReplan(t, 'membership'));
        if (c.type === 'groupDeleted') this.forGroup(c.group.mRID, (t) => this.end(t, 'cancelled', 'group deleted', false));
      }),
    );
  }

  /**
   * Accept a dispatch: validate it, supersede any live dispatch of the same group and function,
   * and activate it now or at its schedule's start. Throws DermsError on bad input.
   */
  submit(input: unknown): DispatchRecord {
    const dispatch = parseDispatch(input);
    if (this.dispatches.has(dispatch.mRID)) throw new DermsError('ALREADY_EXISTS', `dispatch ${JSON.stringify(dispatch.mRID)} already exists`);
    const group = this.registry.requireGroup(dispatch.groupId);
    const fn = requiredFunction[dispatch.control.kind];
    if (!group.functions[fn]) {
      throw new DermsError('UNSUPPORTED', `group ${group.mRID} does not enable ${fn}, which ${dispatch.control.kind} needs`);
    }
    const slot = slotOf(dispatch.control.kind);
    for (const t of this.dispatches.values()) {
      if (t.groupId === group.mRID && t.slot === slot && isLive(t.state)) this.end(t, 'superseded', `superseded by ${dispatch.mRID}`, false);
    }
    const t: Tracked = {
      id: dispatch.mRID,
      groupId: group.mRID,
      dispatch,
      slot,
      state: 'scheduled',
      value: null,
      plan: null,
      exclude: new Map(),
      members: new Map(),
      series: [],
      subs: new Subscription(),
      lastPlanAt: -Infinity,
      offTargetSince: null,
      replanQueued: null,
    };
    this.dispatches.set(t.id, t);
    this.emit({ type: 'accepted', dispatchId: t.id, groupId: t.groupId, at: this.clock.now(), dispatch });
    if (dispatch.schedule) this.runSchedule(t);
    else this.activate(t, isScalarControl(dispatch.control) ? (dispatch.control.value ?? null) : null, 'activated');
    if (this.o.rampStepMs > 0) t.subs.add(interval(this.o.rampStepMs, this.clock).subscribe(() => this.stepRamps(t)));
    return this.record(t.id)!;
  }

  /** Stop a dispatch and return its function to each member's default. */
  cancel(dispatchId: string, reason = 'cancelled'): DispatchRecord {
    const t = this.dispatches.get(dispatchId);
    if (!t) throw new DermsError('NOT_FOUND', `dispatch ${JSON.stringify(dispatchId)} does not exist`);
    if (!isLive(t.state)) throw new DermsError('CONFLICT', `dispatch ${dispatchId} already ${t.state}`);
    this.end(t, 'cancelled', reason, true);
    return this.record(dispatchId)!;
  }

  /** Live dispatch of a group's function, if any. */
  live(groupId: string, slot?: ControlSlot): DispatchRecord[] {
    return [...this.dispatches.values()].filter((t) => t.groupId === groupId && isLive(t.state) && (!slot || t.slot === slot)).map((t) => this.record(t.id)!);
  }

  record(dispatchId: string): DispatchRecord | undefined {
    const t = this.dispatches.get(dispatchId);
    if (!t) return undefined;
    const members: MemberRecord[] = [];
    const group = this.registry.group(t.groupId);
    const ids = new Set([...(group?.members ?? []), ...t.members.keys()]);
    const planExcluded = new Map(t.plan?.excluded.map((e) => [e.derId, e.reason]));
    for (const derId of ids) {
      const m = t.members.get(derId);
      members.push({
        derId,
        requested: m?.requested ?? null,
        applied: m?.applied ?? null,
        lastOutcome: m?.lastOutcome ?? null,
        achieved: this.measured(t, this.aggregator.view(derId)),
        excluded: t.exclude.get(derId) ?? planExcluded.get(derId) ?? null,
      });
    }
    return {
      dispatchId: t.id,
      groupId: t.groupId,
      dispatch: t.dispatch,
      state: t.state,
      value: t.value,
      target: t.plan?.target ?? null,
      achievable: t.plan?.achievable ?? null,
      shortfall: t.plan?.shortfall ?? 0,
      members,
      series: [...t.series],
    };
  }

  /** Writes waiting or in flight. */
  get backlog(): number {
    return this.queue.backlog;
  }

  stop(): void {
    this.subs.unsubscribe();
    for (const t of this.dispatches.values()) t.subs.unsubscribe();
  }

  private runSchedule(t: Tracked): void {
    const s = t.dispatch.schedule!;
    const step = (): void => {
      if (!isLive(t.state)) return;
      const now = this.clock.now();
      const st = scheduleAt(s, now);
      if (st.phase === 'pending') {
        t.subs.add(this.clock.schedule(step, st.startsAt - now));
      } else if (st.phase === 'active') {
        if (t.value === null || Math.abs(st.value - t.value) > 1e-9 || t.state === 'scheduled') {
          this.activate(t, st.value, t.state === 'scheduled' ? 'activated' : 'schedule');
        }
        t.subs.add(this.clock.schedule(step, Math.max(1, st.nextChangeAt - now)));
      } else if (t.state === 'scheduled') {
        this.end(t, 'completed', 'schedule ended before it could start', false);
      } else {
        const restore = t.dispatch.onEnd === 'restoreDefault';
        this.end(t, 'completed', restore ? 'schedule ended; default restored' : 'schedule ended; last value held', restore);
      }
    };
    step();
  }

  private activate(t: Tracked, value: number | null, reason: ReplanReason): void {
    t.state = 'active';
    t.value = value;
    this.replan(t, reason);
  }

  private queueReplan(t: Tracked, reason: ReplanReason): void {
    if (t.state !== 'active' || t.replanQueued) return;
    t.replanQueued = reason;
    // Coalesce a burst (many members failing at once) into one plan at this instant.
    t.subs.add(
      this.clock.schedule(() => {
        const r = t.replanQueued;
        t.replanQueued = null;
        if (r && t.state === 'active') this.replan(t, r);
      }, 0),
    );
  }

  private replan(t: Tracked, reason: ReplanReason): void {
    const group = this.registry.group(t.groupId);
    if (!group) return;
    const members = this.views(group);
    const plan = planControl({
      dispatchId: t.id,
      control: t.dispatch.control,
      value: t.value ?? undefined,
      policy: t.dispatch.policy,
      priorities: t.dispatch.priorities,
      members,
      supports: (id, kind) => this.supports(id, kind),
      exclude: t.exclude,
      plannedW: t.slot === 'reactive' ? this.plannedActive(t.groupId) : undefined,
    });
    t.plan = plan;
    t.lastPlanAt = this.clock.now();
    t.offTargetSince = null;
    let sent = 0;
    const ramp = t.slot === 'activePower' ? this.groupRamp(t.groupId) : null;
    const moves: { sp: Setpoint & { kind: 'activePower' }; from: number }[] = [];
    for (const sp of plan.setpoints) {
      const m = this.member(t, sp.derId);
      if (sameSetpoint(m.requested, sp, this.o.deadband)) continue;
      if (ramp && sp.kind === 'activePower') {
        moves.push({ sp, from: this.currentW(sp.derId, m) });
        continue;
      }
      m.requested = sp;
      m.ramp = null;
      this.write(t, sp);
      sent++;
    }
    if (ramp && moves.length) sent += this.startRamps(t, ramp, moves);
    this.emit({
      type: 'planned',
      dispatchId: t.id,
      groupId: t.groupId,
      at: this.clock.now(),
      reason,
      value: t.value,
      target: plan.target,
      achievable: plan.achievable,
      shortfall: plan.shortfall,
      setpoints: sent,
      excluded: plan.excluded,
    });
  }

  /** Begin ramped moves: native ramps get one write with a ramp time; others are stepped. */
  private startRamps(t: Tracked, rates: RampRates, moves: { sp: Setpoint & { kind: 'activePower' }; from: number }[]): number {
    const limits = memberRamps(
      rates,
      moves.map((mv) => ({ der: this.registry.requireDer(mv.sp.derId), from: mv.from, to: mv.sp.w })),
    );
    const now = this.clock.now();
    let sent = 0;
    moves.forEach((mv, i) => {
      const m = this.member(t, mv.sp.derId);
      m.requested = mv.sp;
      const lim = limits[i]!;
      const native = this.adapters.adapter(mv.sp.derId)?.capabilities().nativeRamp ?? false;
      const duration = rampDurationMs(mv.from, mv.sp.w, lim);
      if (native || duration === 0) {
        m.ramp = null;
        this.write(t, duration > 0 ? { ...mv.sp, rampTimeMs: duration } : mv.sp);
      } else {
        m.ramp = { from: mv.from, to: mv.sp.w, startedAt: now, limits: lim };
        const first = rampValueAt(mv.from, mv.sp.w, lim, Math.min(this.o.rampStepMs, duration));
        this.write(t, { ...mv.sp, w: first });
      }
      sent++;
    });
    return sent;
  }

  private stepRamps(t: Tracked): void {
    if (t.state !== 'active') return;
    const now = this.clock.now();
    for (const m of t.members.values()) {
      if (!m.ramp || !m.requested || m.requested.kind !== 'activePower') continue;
      const elapsed = now - m.ramp.startedAt + this.o.rampStepMs;
      const w = rampValueAt(m.ramp.from, m.ramp.to, m.ramp.limits, elapsed);
      this.write(t, { ...m.requested, w });
      if (w === m.ramp.to) m.ramp = null;
    }
  }

  private write(t: Tracked, sp: Setpoint): void {
    const adapter = this.adapters.adapter(sp.derId);
    const der = this.registry.der(sp.derId);
    if (!adapter || !der) {
      this.onOutcome(t, sp, { status: 'rejected', reason: 'no adapter for this DER' });
      return;
    }
    this.queue.submit(endpointKey(der.endpoint), `${sp.derId}/${t.slot}`, adapter, sp, (o) => {
      if (o) this.onOutcome(t, sp, o);
    });
  }

  private onOutcome(t: Tracked, sp: Setpoint, outcome: ApplyOutcome): void {
    const m = this.member(t, sp.derId);
    m.lastOutcome = outcome;
    if (outcome.status === 'applied') m.applied = sp;
    this.emit({ type: 'outcome', dispatchId: t.id, groupId: t.groupId, at: this.clock.now(), derId: sp.derId, setpoint: sp, outcome });
    if (outcome.status !== 'applied' && t.state === 'active' && sp.kind !== 'release') {
      t.exclude.set(sp.derId, outcome.status === 'timedOut' ? 'timed out' : `rejected: ${outcome.reason}`);
      m.ramp = null;
      this.queueReplan(t, 'member-failed');
    }
  }

  private onFreshness(derId: string, to: string): void {
    for (const gid of this.registry.groupsOf(derId)) {
      this.forGroup(gid, (t) => {
        if (!isAllocated(t)) {
          // Configuration controls: a member coming back gets its setpoint again.
          if (to === 'fresh') this.queueReplan(t, 'member-recovered');
          return;
        }
        this.queueReplan(t, to === 'fresh' ? 'member-recovered' : 'member-stale');
      });
    }
  }

  /** Record achieved vs target, and re-plan a dispatch that stays off target. */
  private onStatus(s: GroupStatus): void {
    this.forGroup(s.groupId, (t) => {
      if (t.state !== 'active' || !t.plan || t.plan.target === null || !isAllocated(t)) return;
      const achieved = t.slot === 'reactive' ? s.reactivePowerVar : s.activePowerW;
      const target = t.plan.target;
      t.series.push({ at: s.at, target, achieved });
      if (t.series.length > this.o.seriesLimit) t.series.shift();
      this.emit({ type: 'progress', dispatchId: t.id, groupId: t.groupId, at: s.at, target, achieved });
      const reachable = t.plan.achievable ?? target;
      const tol = Math.max(this.o.trackingTolerance, Math.abs(reachable) * this.o.trackingToleranceFraction);
      const ramping = [...t.members.values()].some((m) => m.ramp);
      if (Math.abs(achieved - reachable) <= tol || ramping) {
        t.offTargetSince = null;
      } else if (t.offTargetSince === null) {
        t.offTargetSince = s.at;
      } else if (s.at - t.offTargetSince >= this.o.replanAfterMs && s.at - t.lastPlanAt >= this.o.replanAfterMs) {
        this.queueReplan(t, 'tracking');
      }
    });
  }

  private end(t: Tracked, state: 'completed' | 'superseded' | 'cancelled', reason: string, restore: boolean): void {
    t.state = state;
    t.subs.unsubscribe();
    for (const m of t.members.values()) m.ramp = null;
    if (restore) {
      const group = this.registry.group(t.groupId);
      if (group) {
        const releases = planRelease({ dispatchId: t.id, members: this.views(group), supports: (id, k) => this.supports(id, k) }, t.slot);
        for (const sp of releases) {
          this.member(t, sp.derId).requested = sp;
          this.write(t, sp);
        }
      }
    }
    this.emit({ type: 'ended', dispatchId: t.id, groupId: t.groupId, at: this.clock.now(), state, reason });
  }

  private forGroup(groupId: string, fn: (t: Tracked) => void): void {
    for (const t of [...this.dispatches.values()]) if (t.groupId === groupId && isLive(t.state)) fn(t);
  }

  private views(group: DerGroup): DerView[] {
    return group.members.map((id) => this.aggregator.view(id)).filter((v): v is DerView => v !== undefined);
  }

  private supports(derId: string, kind: SetpointKind): boolean {
    const a = this.adapters.adapter(derId);
    return a !== undefined && a.capabilities().setpoints.has(kind);
  }

  private member(t: Tracked, derId: string): MemberTrack {
    let m = t.members.get(derId);
    if (!m) t.members.set(derId, (m = { requested: null, applied: null, lastOutcome: null, ramp: null }));
    return m;
  }

  /** Ramp rates in force for a group, from its live rampRates dispatch. */
  private groupRamp(groupId: string): RampRates | null {
    for (const t of this.dispatches.values()) {
      if (t.groupId === groupId && t.slot === 'rampRates' && t.state === 'active' && t.dispatch.control.kind === 'rampRates') return t.dispatch.control.rates;
    }
    return null;
  }

  /** Active power each member of a group is being driven to, for the reactive VA circle. */
  private plannedActive(groupId: string): Map<string, number> | undefined {
    for (const t of this.dispatches.values()) {
      if (t.groupId !== groupId || t.slot !== 'activePower' || t.state !== 'active') continue;
      const out = new Map<string, number>();
      for (const [id, m] of t.members) if (m.requested?.kind === 'activePower') out.set(id, m.requested.w);
      return out;
    }
    return undefined;
  }

  private currentW(derId: string, m: MemberTrack): number {
    const v = this.aggregator.view(derId);
    if (v?.freshness === 'fresh' && v.sample) return v.sample.w;
    return m.requested?.kind === 'activePower' ? m.requested.w : 0;
  }

  private measured(t: Tracked, v: DerView | undefined): number | null {
    if (!v || v.freshness !== 'fresh' || !v.sample) return null;
    if (t.slot === 'activePower' || t.slot === 'activePowerLimit') return v.sample.w;
    if (t.slot === 'reactive') return v.sample.var;
    return null;
  }

  private emit(e: DispatchEvent): void {
    this.eventsSubject.next(e);
  }
}

function isLive(s: DispatchState): boolean {
  return s === 'scheduled' || s === 'active';
}

/** Controls whose group target is split over members (and so re-planned on failure). */
function isAllocated(t: Tracked): boolean {
  return t.dispatch.control.kind === 'activePower' || t.dispatch.control.kind === 'reactivePower';
}

function sameSetpoint(a: Setpoint | null, b: Setpoint, deadband: number): boolean {
  if (!a || a.kind !== b.kind) return false;
  if (a.kind === 'activePower' && b.kind === 'activePower') return Math.abs(a.w - b.w) < deadband;
  if (a.kind === 'reactivePower' && b.kind === 'reactivePower') return Math.abs(a.var - b.var) < deadband;
  const strip = (s: Setpoint): string => JSON.stringify({ ...s, dispatchId: undefined, rampTimeMs: undefined });
  return strip(a) === strip(b);
}
