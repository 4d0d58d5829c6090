import type { ServerResponse } from 'node:http';
import { Subscription } from 'rxjs';
import type { DispatchEvent } from '../../core/dispatch-events.js';
import type { GroupStatus } from '../../core/group-status.js';
import type { ApplyOutcome, Setpoint } from '../../core/model/setpoint.js';
import type { DashboardCore, DashboardOptions } from './deps.js';
import { fleetCounts, type FleetCounts } from './views.js';

/** One point of a group's charts: its status, and the targets of its live dispatches then. */
export interface HistoryPoint {
  readonly at: number;
  readonly w: number;
  readonly var: number;
  readonly socPct: number | null;
  readonly availableMaxW: number;
  readonly availableMinW: number;
  readonly headroomUpW: number;
  readonly headroomDownW: number;
  /** Group active-power target (activePower dispatch), W. */
  readonly targetW: number | null;
  /** Group active-power limit (activePowerLimit dispatch), W. */
  readonly limitW: number | null;
  /** Group reactive-power target (reactivePower dispatch), var. */
  readonly targetVar: number | null;
}

export interface LastOutcome {
  readonly dispatchId: string;
  readonly at: number;
  readonly setpoint: Setpoint;
  readonly outcome: ApplyOutcome;
}

export interface DispatchEnd {
  readonly state: string;
  readonly reason: string;
  readonly at: number;
}

type TargetSlot = 'targetW' | 'limitW' | 'targetVar';
type Targets = Record<TargetSlot, number | null>;

const slotOfKind: Partial<Record<string, TargetSlot>> = { activePower: 'targetW', activePowerLimit: 'limitW', reactivePower: 'targetVar' };
/** Dispatch ids remembered per group for the detail view (newest last). */
const DISPATCHES_KEPT = 20;
/** Dispatch events sent in one push at most; a burst beyond is counted, not sent. */
const EVENTS_PER_PUSH = 500;

/**
 * What the dashboard remembers while it runs, and its live stream. From the core's streams it keeps
 * each group's recent status points (with the targets in force) for the charts, each DER's last
 * setpoint outcome, and each group's recent dispatches; it pushes what changed to every stream
 * client on a wall-clock period, so a fast virtual clock does not flood the browser (each push
 * carries every point recorded since the previous one).
 */
export class LiveFeed {
  private readonly history = new Map<string, HistoryPoint[]>();
  private readonly targets = new Map<string, Targets>();
  /** Live dispatches that set a chart target: dispatch id -> group and slot. */
  private readonly targeting = new Map<string, { groupId: string; slot: TargetSlot }>();
  private readonly outcomes = new Map<string, LastOutcome>();
  private readonly dispatchesOf = new Map<string, string[]>();
  private readonly ends = new Map<string, DispatchEnd>();
  private readonly subs = new Subscription();
  private readonly clients = new Set<ServerResponse>();
  private readonly pendingPoints = new Map<string, HistoryPoint[]>();
  private pendingEvents: DispatchEvent[] = [];
  private droppedEvents = 0;
  private registryChanged = false;
  private pushTimer: NodeJS.Timeout | null = null;
  private beatTimer: NodeJS.Timeout | null = null;
  private readonly historyLimit: number;
  private readonly pushMs: number;
  private readonly beatMs: number;

  constructor(
    private readonly core: DashboardCore,
    private readonly protocolOf: (derId: string) => string,
    o: DashboardOptions = {},
  ) {
    this.historyLimit = o.historyPoints ?? 900;
    this.pushMs = o.streamIntervalMs ?? 500;
    this.beatMs = o.heartbeatMs ?? 15_000;
    this.subs.add(core.aggregator.status$.subscribe((s) => this.onStatus(s)));
    this.subs.add(core.tracker.events$.subscribe((e) => this.onDispatchEvent(e)));
    this.subs.add(
      core.registry.changes$.subscribe((c) => {
        this.registryChanged = true;
        if (c.type === 'groupDeleted') {
          this.history.delete(c.group.mRID);
          this.targets.delete(c.group.mRID);
        }
      }),
    );
  }

  historyOf(groupId: string): readonly HistoryPoint[] {
    return this.history.get(groupId) ?? [];
  }

  lastOutcome(derId: string): LastOutcome | undefined {
    return this.outcomes.get(derId);
  }

  /** Dispatch ids of a group seen since the dashboard started, newest last. */
  recentDispatches(groupId: string): readonly string[] {
    return this.dispatchesOf.get(groupId) ?? [];
  }

  endOf(dispatchId: string): DispatchEnd | undefined {
    return this.ends.get(dispatchId);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Take over a response as an event stream until the client goes away or the feed closes. */
  addClient(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // Proxies (nginx) would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    this.clients.add(res);
    const drop = (): void => {
      this.clients.delete(res);
      if (this.clients.size === 0) this.stopTimers();
    };
    res.on('close', drop);
    res.on('error', drop);
    // The first push describes the present; later ones what changed.
    this.send(res, 'fleet', this.fleet());
    this.startTimers();
  }

  close(): void {
    this.subs.unsubscribe();
    this.stopTimers();
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private onStatus(s: GroupStatus): void {
    const t = this.targets.get(s.groupId);
    const p: HistoryPoint = {
      at: s.at,
      w: s.activePowerW,
      var: s.reactivePowerVar,
      socPct: s.storage?.socPct ?? null,
      availableMaxW: s.availableMaxW,
      availableMinW: s.availableMinW,
      headroomUpW: s.headroomUpW,
      headroomDownW: s.headroomDownW,
      targetW: t?.targetW ?? null,
      limitW: t?.limitW ?? null,
      targetVar: t?.targetVar ?? null,
    };
    push(this.history, s.groupId, p, this.historyLimit);
    if (this.clients.size > 0) push(this.pendingPoints, s.groupId, p, this.historyLimit);
  }

  private onDispatchEvent(e: DispatchEvent): void {
    switch (e.type) {
      case 'accepted': {
        const list = this.dispatchesOf.get(e.groupId) ?? [];
        list.push(e.dispatchId);
        if (list.length > DISPATCHES_KEPT) this.ends.delete(list.shift()!);
        this.dispatchesOf.set(e.groupId, list);
        const slot = slotOfKind[e.dispatch.control.kind];
        if (slot) this.targeting.set(e.dispatchId, { groupId: e.groupId, slot });
        break;
      }
      case 'planned': {
        const tg = this.targeting.get(e.dispatchId);
        if (tg) this.setTarget(tg.groupId, tg.slot, e.target);
        break;
      }
      case 'outcome':
        this.outcomes.set(e.derId, { dispatchId: e.dispatchId, at: e.at, setpoint: e.setpoint, outcome: e.outcome });
        break;
      case 'ended': {
        this.ends.set(e.dispatchId, { state: e.state, reason: e.reason, at: e.at });
        const tg = this.targeting.get(e.dispatchId);
        if (tg) this.setTarget(tg.groupId, tg.slot, null);
        this.targeting.delete(e.dispatchId);
        break;
      }
      case 'progress':
        break;
    }
    if (this.clients.size === 0 || e.type === 'progress') return;
    if (this.pendingEvents.length < EVENTS_PER_PUSH) this.pendingEvents.push(e);
    else this.droppedEvents++;
  }

  private setTarget(groupId: string, slot: TargetSlot, value: number | null): void {
    const t = this.targets.get(groupId) ?? { targetW: null, limitW: null, targetVar: null };
    t[slot] = value;
    this.targets.set(groupId, t);
  }

  private fleet(): FleetCounts & { now: number } {
    return { now: this.core.clock.now(), ...fleetCounts(this.core, this.protocolOf) };
  }

  private flush(): void {
    if (this.clients.size === 0) return;
    const now = this.core.clock.now();
    if (this.pendingPoints.size > 0) {
      const groups: Record<string, { points: HistoryPoint[]; status: GroupStatus | undefined }> = {};
      for (const [id, points] of this.pendingPoints) groups[id] = { points, status: this.core.aggregator.status(id) };
      this.broadcast('status', { now, groups });
      this.pendingPoints.clear();
    }
    if (this.pendingEvents.length > 0) {
      this.broadcast('dispatch', { now, events: this.pendingEvents, dropped: this.droppedEvents });
      this.pendingEvents = [];
      this.droppedEvents = 0;
    }
    if (this.registryChanged) {
      this.broadcast('registry', { now });
      this.registryChanged = false;
    }
    this.broadcast('fleet', this.fleet());
  }

  private broadcast(event: string, data: unknown): void {
    const frame = sseFrame(event, data);
    for (const res of this.clients) res.write(frame);
  }

  private send(res: ServerResponse, event: string, data: unknown): void {
    res.write(sseFrame(event, data));
  }

  private startTimers(): void {
    if (this.pushTimer) return;
    this.pushTimer = setInterval(() => this.flush(), this.pushMs);
    this.beatTimer = setInterval(() => {
      for (const res of this.clients) res.write(': heartbeat\n\n');
    }, this.beatMs);
    // Neither timer alone should keep a process alive that has nothing else to do.
    this.pushTimer.unref();
    this.beatTimer.unref();
  }

  private stopTimers(): void {
    if (this.pushTimer) clearInterval(this.pushTimer);
    if (this.beatTimer) clearInterval(this.beatTimer);
    this.pushTimer = this.beatTimer = null;
    this.pendingPoints.clear();
    this.pendingEvents = [];
    this.droppedEvents = 0;
  }
}

function push<T>(m: Map<string, T[]>, key: string, value: T, limit: number): void {
  let list = m.get(key);
  if (!list) m.set(key, (list = []));
  list.push(value);
  if (list.length > limit) list.splice(0, list.length - limit);
}

/** One server-sent event; JSON has no raw newlines, so one data line carries it. */
export function sseFrame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
