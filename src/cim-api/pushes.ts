import { Subject, Subscription, interval, type Observable } from 'rxjs';
import type { GroupStatus } from '../core/group-status.js';
import type { ApplyOutcome } from '../core/model/setpoint.js';
import type { RegistryChange } from '../core/registry.js';
import type { Encoding } from './decode.js';
import { encodeMessage, type OutMessage } from './envelope.js';
import { EndDeviceCodes, fixedIntervalMs, type TimeIntervalKind, type Verb } from './enums.js';
import type { ControlListener } from './handlers/context.js';
import type { CimNamespaces, ProfileName } from './namespaces.js';
import type { Deliverer } from './outbox.js';
import { deletedGroupEl, derGroupForecastsEl, derGroupStatusesEl, derGroupsEl, forecastEl, groupEl, statusGroupEl, type ForecastParameter, type RenderContext } from './payloads.js';
import type { CimSystem } from './system.js';
import { builder, type El } from './tree.js';

export const pushKinds = ['statuses', 'forecasts', 'groups', 'endDeviceEvents'] as const;
export type PushKind = (typeof pushKinds)[number];

export interface PushEndpoint {
  readonly url: string;
  /** Default xml (the wrapper EventMessage); soap11 wraps it in a SOAP 1.1 envelope. */
  readonly encoding?: Exclude<Encoding, 'soap12'> | undefined;
  /** What this endpoint receives (default everything). */
  readonly kinds?: readonly PushKind[] | undefined;
}

export interface PushOptions {
  readonly endpoints?: readonly PushEndpoint[];
  /** Every group's status, every this many ms of the system clock (default 60 000; 0: off). */
  readonly statusPeriodMs?: number;
  /** A group's status also goes out when it changes this much (false: only periodic). */
  readonly statusChange?:
    | false
    | {
        /** Least change of active or reactive power that counts, W / var (default 1000). */
        readonly minDelta?: number;
        /** ... or this fraction of the group's installed rating, whichever is larger (default 0.05). */
        readonly minDeltaFraction?: number;
        /** Least time between two change pushes of one group, ms (default 5000). */
        readonly minIntervalMs?: number;
      };
  /** Forecasts of every group, every this many ms (default 900 000; 0: off). */
  readonly forecastPeriodMs?: number;
  readonly forecast?: {
    readonly intervals?: number;
    readonly intervalDuration?: number;
    readonly intervalUnit?: Exclude<TimeIntervalKind, 'M' | 'Y'>;
    readonly parameters?: readonly ForecastParameter[];
  };
  /** Groups per periodic status message (default 100). */
  readonly statusesPerMessage?: number;
}

export interface EndDeviceEventRecord {
  readonly derId: string;
  readonly connected: boolean;
  readonly at: number;
  readonly correlationId: string | undefined;
}

interface Pushed {
  readonly w: number;
  readonly q: number;
  readonly state: string;
  readonly at: number;
}

const CORRELATION_MEMORY = 10_000;

/**
 * The DERMS's own messages to the DMS: `changed DERGroupStatuses` (periodically and when a group
 * moves significantly), `created DERGroupForecasts` (periodically), `created / changed / deleted
 * DERGroups` (whatever changed the registry: the DMS, customer services, an operator) and
 * `created EndDeviceEvents` (each device's connect / disconnect acknowledgment, with the
 * control's CorrelationID). Messages go to every configured endpoint through the Deliverer.
 */
export class PushPublisher implements ControlListener {
  private readonly subs = new Subscription();
  private readonly pushed = new Map<string, Pushed>();
  private readonly deferred = new Map<string, Subscription>();
  private readonly correlation = new Map<string, string | undefined>();
  private readonly eventsSubject = new Subject<EndDeviceEventRecord>();
  /** Every EndDeviceEvent produced (also when no endpoint is configured), for the live stream. */
  readonly endDeviceEvents$: Observable<EndDeviceEventRecord> = this.eventsSubject.asObservable();
  private readonly endpoints: readonly PushEndpoint[];

  constructor(
    private readonly system: CimSystem,
    private readonly render: RenderContext,
    private readonly ns: CimNamespaces,
    private readonly prefixes: ReadonlyMap<string, string>,
    private readonly deliverer: Deliverer,
    private readonly newId: () => string,
    private readonly source: string,
    private readonly o: PushOptions,
  ) {
    this.endpoints = o.endpoints ?? [];
  }

  start(): this {
    const s = this.system;
    this.subs.add(s.tracker.events$.subscribe((e) => {
      if (e.type === 'outcome' && e.setpoint.kind === 'connect' && this.correlation.has(e.dispatchId)) {
        if (e.outcome.status === 'applied') this.endDeviceEvent(e.derId, e.setpoint.connected, this.correlation.get(e.dispatchId), e.at);
      }
    }));
    if (!this.endpoints.length) return this;
    if (this.wants('groups')) this.subs.add(s.registry.changes$.subscribe((c) => this.onRegistry(c)));
    if (this.wants('statuses')) {
      if (this.o.statusChange !== false) this.subs.add(s.aggregator.status$.subscribe((st) => this.onStatus(st)));
      const period = this.o.statusPeriodMs ?? 60_000;
      if (period > 0) this.subs.add(interval(period, s.clock).subscribe(() => this.pushAllStatuses()));
    }
    const fPeriod = this.o.forecastPeriodMs ?? 900_000;
    if (this.wants('forecasts') && s.forecaster && fPeriod > 0) this.subs.add(interval(fPeriod, s.clock).subscribe(() => this.pushForecasts()));
    return this;
  }

  stop(): void {
    this.subs.unsubscribe();
    for (const d of this.deferred.values()) d.unsubscribe();
    this.deferred.clear();
  }

  // ControlListener ------------------------------------------------------------------------

  groupControl(dispatchId: string, correlationId: string | undefined): void {
    this.correlation.set(dispatchId, correlationId);
    if (this.correlation.size > CORRELATION_MEMORY) this.correlation.delete(this.correlation.keys().next().value!);
  }

  deviceControlled(derId: string, connected: boolean, correlationId: string | undefined, outcome: ApplyOutcome): void {
    if (outcome.status === 'applied') this.endDeviceEvent(derId, connected, correlationId, this.system.clock.now());
  }

  // Pushes ---------------------------------------------------------------------------------

  /** Status of every group now, in messages of `statusesPerMessage` groups. */
  pushAllStatuses(): void {
    const per = this.o.statusesPerMessage ?? 100;
    let batch: El[] = [];
    const flush = (): void => {
      if (batch.length) this.publish('statuses', 'changed', 'DERGroupStatuses', derGroupStatusesEl(this.render, batch));
      batch = [];
    };
    for (const g of this.system.registry.allGroups()) {
      const st = this.system.aggregator.status(g.mRID);
      if (!st) continue;
      batch.push(statusGroupEl(this.render, g, st));
      this.remember(st);
      if (batch.length >= per) flush();
    }
    flush();
  }

  /** A forecast of every group from the start of the next interval. */
  pushForecasts(): void {
    const f = this.system.forecaster;
    if (!f) return;
    const fo = this.o.forecast ?? {};
    const unit = fo.intervalUnit ?? 'm';
    const duration = fo.intervalDuration ?? 15;
    const count = fo.intervals ?? 4;
    const parameters = fo.parameters ?? ['activePower'];
    const intervalMs = fixedIntervalMs(unit, duration)!;
    const now = this.system.clock.now();
    const start = Math.ceil(now / intervalMs) * intervalMs;
    for (const g of this.system.registry.allGroups()) {
      let forecast;
      try {
        forecast = f.forecast(g, start, intervalMs, count, now);
      } catch {
        continue; // a group that cannot be forecast (a member without a site) is left out
      }
      const el = forecastEl(this.render, g, parameters, [{ start, intervalDuration: duration, intervalUnit: unit, curveStyle: 'constantYValue', forecast }], this.newId(), now);
      this.publish('forecasts', 'created', 'DERGroupForecasts', derGroupForecastsEl(this.render, [el]), undefined, `forecast:${g.mRID}`);
    }
  }

  private onRegistry(c: RegistryChange): void {
    const r = this.render;
    if (c.type === 'groupCreated') this.publish('groups', 'created', 'DERGroups', derGroupsEl(r, [groupEl(r, c.group)]));
    else if (c.type === 'groupChanged') this.publish('groups', 'changed', 'DERGroups', derGroupsEl(r, [groupEl(r, c.group)]));
    else if (c.type === 'groupDeleted') {
      this.pushed.delete(c.group.mRID);
      this.deferred.get(c.group.mRID)?.unsubscribe();
      this.deferred.delete(c.group.mRID);
      this.publish('groups', 'deleted', 'DERGroups', derGroupsEl(r, [deletedGroupEl(r, c.group)]));
    }
  }

  /**
   * On each aggregated status: push when it moved enough since the last push of that group. A
   * significant change inside `minIntervalMs` of the last push is pushed when the interval is up
   * (with the status of that moment), so a group that settles is not left unreported.
   */
  private onStatus(st: GroupStatus): void {
    const c = this.o.statusChange || {};
    const last = this.pushed.get(st.groupId);
    if (last && !this.significant(st, last)) return;
    const minInterval = c.minIntervalMs ?? 5000;
    if (last && st.at - last.at < minInterval) {
      if (!this.deferred.has(st.groupId)) {
        const id = st.groupId;
        this.deferred.set(
          id,
          this.system.clock.schedule(() => {
            this.deferred.delete(id);
            const now = this.system.aggregator.status(id);
            const prev = this.pushed.get(id);
            if (now && (!prev || this.significant(now, prev))) this.pushStatus(now);
          }, last.at + minInterval - st.at),
        );
      }
      return;
    }
    this.pushStatus(st);
  }

  private significant(st: GroupStatus, last: Pushed): boolean {
    const c = this.o.statusChange || {};
    const fraction = c.minDeltaFraction ?? 0.05;
    const min = c.minDelta ?? 1000;
    const wTol = Math.max(min, fraction * Math.max(st.installedMaxW, -st.installedMinW));
    const qTol = Math.max(min, fraction * Math.max(st.installedMaxVar, -st.installedMinVar));
    return Math.abs(st.activePowerW - last.w) >= wTol || Math.abs(st.reactivePowerVar - last.q) >= qTol || stateKey(st) !== last.state;
  }

  private pushStatus(st: GroupStatus): void {
    const g = this.system.registry.group(st.groupId);
    if (!g) return;
    this.remember(st);
    const doc = derGroupStatusesEl(this.render, [statusGroupEl(this.render, g, st)]);
    // A new group's first status comes from inside the registry change, before this publisher
    // has announced the group: send it after the notification.
    queueMicrotask(() => this.publish('statuses', 'changed', 'DERGroupStatuses', doc, undefined, `status:${g.mRID}`));
  }

  private remember(st: GroupStatus): void {
    this.pushed.set(st.groupId, { w: st.activePowerW, q: st.reactivePowerVar, state: stateKey(st), at: st.at });
  }

  private endDeviceEvent(derId: string, connected: boolean, correlationId: string | undefined, at: number): void {
    this.eventsSubject.next({ derId, connected, at, correlationId });
    if (!this.wants('endDeviceEvents')) return;
    const p = builder(this.ns.profiles.EndDeviceEvents);
    const doc = p('EndDeviceEvents', [
      p.list('EndDeviceEvent', [
        p('mRID', this.newId()),
        p('createdDateTime', new Date(at).toISOString()),
        p.list('Assets', [p('mRID', derId)]),
        p('EndDeviceEventType', undefined, { ref: connected ? EndDeviceCodes.connected : EndDeviceCodes.disconnected }),
      ]),
    ]);
    this.publish('endDeviceEvents', 'created', 'EndDeviceEvents', doc, correlationId);
  }

  private wants(kind: PushKind): boolean {
    return this.endpoints.some((e) => !e.kinds || e.kinds.includes(kind));
  }

  private publish(kind: PushKind, verb: Verb, noun: ProfileName, payload: El, correlationId?: string, coalesceKey?: string): void {
    const messageId = this.newId();
    const msg: OutMessage = {
      root: { name: `${verb[0]!.toUpperCase()}${verb.slice(1)}${noun}`, ns: this.ns.wrappers[noun] },
      header: { verb, noun, timestamp: this.system.clock.now(), messageId, correlationId, source: this.source },
      payload: [payload],
    };
    const encoded = new Map<string, ReturnType<typeof encodeMessage>>();
    for (const e of this.endpoints) {
      if (e.kinds && !e.kinds.includes(kind)) continue;
      const enc = e.encoding ?? 'xml';
      let body = encoded.get(enc);
      if (!body) encoded.set(enc, (body = encodeMessage(msg, enc, this.ns, this.prefixes)));
      void this.deliverer.send({
        id: `${messageId}@${e.url}`,
        endpoint: e.url,
        kind: msg.root.name,
        body: body.body,
        contentType: body.contentType,
        coalesceKey,
        queuedAt: Date.now(),
      });
    }
  }
}

function stateKey(st: GroupStatus): string {
  const m = st.members;
  return `${st.version.major}.${st.version.minor}.${st.version.revision}|${m.total}|${m.reporting}|${m.stale}|${m.offline}|${m.disconnected}`;
}
