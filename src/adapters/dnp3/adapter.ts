import { BehaviorSubject, Subject, type Observable, type Subscription } from 'rxjs';
import type { Nameplate } from '../../core/model/der.js';
import type { ApplyOutcome, Setpoint } from '../../core/model/setpoint.js';
import type { TelemetrySample } from '../../core/model/telemetry.js';
import type { Clock, DeviceAdapter, DeviceCapabilities, LinkState } from '../../core/ports.js';
import { CommandStatus, commandStatusName, Dnp3Master, TcpClientChannel, type ByteChannel, type Dnp3Error, type Dnp3Target, type MeasurementBatch } from '../../protocols/dnp3/index.js';
import {
  commandsForSetpoint,
  defaultDerPointMap,
  emptySnapshot,
  hasNativeRamp,
  nameplateFromPoints,
  readBackChecks,
  readBackMismatch,
  sampleFromPoints,
  setpointKindsFor,
  type AiRole,
  type DerPointMap,
} from '../../protocols/dnp3/der-profile/index.js';
import { masterCommand, putMeasurement, readBackHeaders, stepLabel } from './points.js';

export interface Dnp3AdapterOptions {
  /** Event poll (classes 1, 2 and 3) period. Default 1000. */
  readonly eventPollMs?: number;
  /** Integrity poll period (also after a restart or an event buffer overflow). Default 60 000. */
  readonly integrityPollMs?: number;
  /** Wait this long for a response. Default 2000. */
  readonly responseTimeoutMs?: number;
  /** Identical resends of a request after a response timeout. Default 1. */
  readonly maxRetries?: number;
  /** Let the outstation report events unsolicited (enabled after the startup integrity poll). Default true. */
  readonly unsolicited?: boolean;
  /** The device's point map (a lab's overrides); default the built-in DER profile map. */
  readonly pointMap?: DerPointMap;
  /** TCP reconnect back-off: first wait and cap. Defaults 1000 and 30 000. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly connectTimeoutMs?: number;
  /** Told how long each event poll took (wall time, ms), whether it succeeded, and when it was due (clock time), for metrics. */
  readonly onPoll?: (ms: number, ok: boolean, dueAt: number) => void;
  /** How to reach the outstation; default TCP (reconnecting with the back-off). Tests substitute in-memory channels. */
  readonly channel?: (target: Dnp3Target) => ByteChannel;
}

export interface Dnp3AdapterStats {
  /** Event polls sent. */
  polls: number;
  /** Event polls not sent because the last one was still out (or the process stalled past their time). */
  skipped: number;
  /** Event polls that failed (timeout, connection lost, refused). */
  failed: number;
  samples: number;
}

/** Analog inputs that declare the nameplate: a change means capabilities are to be worked out again. */
const NAMEPLATE_ROLES: readonly AiRole[] = ['ai.nameplateW', 'ai.nameplateChargeW', 'ai.nameplateVarInject', 'ai.nameplateVarAbsorb', 'ai.nameplateVA', 'ai.nameplateWh', 'ai.normalCategory', 'ai.abnormalCategory', 'ai.vRef'];

/**
 * The DERMS side of a DNP3 outstation under the DER profile: one master over TCP, with the startup
 * sequence and integrity polls (at startup, every `integrityPollMs`, after a restart or lost
 * events), an event poll every `eventPollMs` and unsolicited reports. Points become normalized
 * samples after every poll and report; the nameplate and capabilities come from the integrity
 * poll. A setpoint runs its recipe's controls in order (direct operate, or select then operate),
 * stops at the first refusal, then reads the statuses back: the comparison is the outcome.
 * Response timeouts mark the link offline (the TCP connection may stay up while the device is
 * silent); the next answer brings it back. Nothing here throws.
 */
export class Dnp3Adapter implements DeviceAdapter {
  private readonly samples = new Subject<TelemetrySample>();
  private readonly link = new BehaviorSubject<LinkState>('offline');
  readonly telemetry$: Observable<TelemetrySample> = this.samples.asObservable();
  readonly link$: Observable<LinkState> = this.link.asObservable();
  /** The association, for diagnostics and benchmarks (stats, direct reads). */
  readonly master: Dnp3Master;
  private readonly map: DerPointMap;
  private readonly points = emptySnapshot();
  private readonly nameplateIndexes: ReadonlySet<number>;
  private readonly eventPollMs: number;
  private plate: { nameplate: Nameplate; storage: boolean } | null = null;
  private caps: DeviceCapabilities = { setpoints: new Set(), nativeRamp: false };
  private nameplateDirty = true;
  private pollTimer: Subscription | null = null;
  private polling = false;
  private integrityAsked = false;
  private connectedOnce = false;
  private writes: Promise<unknown> = Promise.resolve();
  private readonly counters: Dnp3AdapterStats = { polls: 0, skipped: 0, failed: 0, samples: 0 };
  private readonly subs: Subscription[] = [];
  private closed = false;
  /** Why the device is degraded, when it is. */
  lastError: string | null = null;

  constructor(
    readonly derId: string,
    readonly target: Dnp3Target,
    private readonly clock: Clock,
    private readonly o: Dnp3AdapterOptions = {},
  ) {
    this.map = o.pointMap ?? defaultDerPointMap;
    this.eventPollMs = o.eventPollMs ?? 1000;
    this.nameplateIndexes = new Set(NAMEPLATE_ROLES.flatMap((r) => this.map.points[r]?.index ?? []));
    const channel =
      o.channel?.(target) ??
      new TcpClientChannel({
        host: target.host,
        port: target.port,
        scheduler: clock,
        minBackoffMs: o.backoffMs ?? 1000,
        maxBackoffMs: o.maxBackoffMs ?? 30_000,
        connectTimeoutMs: o.connectTimeoutMs ?? 5000,
      });
    this.master = new Dnp3Master(channel, {
      localAddress: target.master,
      remoteAddress: target.outstation,
      scheduler: clock,
      responseTimeoutMs: o.responseTimeoutMs ?? 2000,
      maxRetries: o.maxRetries ?? 1,
      integrityPeriodMs: o.integrityPollMs ?? 60_000,
      unsolicited: o.unsolicited ?? true,
    });
    this.subs.push(
      this.master.batches$.subscribe((b) => this.onBatch(b)),
      this.master.online$.subscribe((up) => (up ? this.onConnected() : this.onDisconnected())),
    );
  }

  capabilities(): DeviceCapabilities {
    return this.caps;
  }

  /** What the outstation declares (AI4-23, AI29), once an integrity poll brought it. */
  nameplate(): { readonly nameplate: Nameplate; readonly storage: boolean } | null {
    return this.plate;
  }

  stats(): Dnp3AdapterStats {
    return { ...this.counters };
  }

  /** Setpoints run one at a time, each to its read-back. */
  apply(sp: Setpoint): Promise<ApplyOutcome> {
    const run = this.writes.then(() => this.applyNow(sp));
    this.writes = run.catch(() => undefined);
    return run;
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.pollTimer?.unsubscribe();
    for (const s of this.subs) s.unsubscribe();
    this.master.close();
    if (this.link.value !== 'offline') this.link.next('offline');
    this.samples.complete();
    this.link.complete();
    return Promise.resolve();
  }

  // ---- polling --------------------------------------------------------------------------------

  private onConnected(): void {
    if (this.closed) return;
    this.connectedOnce = true;
    this.integrityAsked = false;
    // The first poll queues behind the master's startup sequence (integrity poll first).
    this.pollTimer?.unsubscribe();
    this.pollGrid(this.clock.now(), 0);
  }

  /** Event polls due at start + k x period: a late timer does not push the later ones back. */
  private pollGrid(start: number, k: number): void {
    const due = start + k * this.eventPollMs;
    this.pollTimer = this.clock.schedule(
      () => {
        // The next grid point still ahead; points a stalled process slept through are skipped, and counted.
        const next = Math.max(k + 1, Math.floor((this.clock.now() - start) / this.eventPollMs) + 1);
        this.counters.skipped += next - k - 1;
        this.pollGrid(start, next);
        void this.poll(due);
      },
      Math.max(0, due - this.clock.now()),
    );
  }

  private onDisconnected(): void {
    this.pollTimer?.unsubscribe();
    this.pollTimer = null;
    if (this.closed) return;
    this.offline(this.connectedOnce ? 'connection lost' : `no connection to ${this.target.host}:${this.target.port} yet`);
  }

  private async poll(due: number): Promise<void> {
    if (this.closed || !this.master.online) return;
    if (this.polling) {
      // The last poll is still out (retrying): skip rather than pile up.
      this.counters.skipped++;
      return;
    }
    this.polling = true;
    this.counters.polls++;
    const started = performance.now();
    const r = await this.master.classPoll([1, 2, 3]);
    this.polling = false;
    this.o.onPoll?.(performance.now() - started, r.ok, due);
    if (this.closed) return;
    if (r.ok) this.answered();
    else {
      this.counters.failed++;
      this.failed(r.error);
    }
  }

  private onBatch(b: MeasurementBatch): void {
    for (const m of b.measurements) {
      putMeasurement(this.points, m);
      if (m.kind === 'analogInput' && this.nameplateIndexes.has(m.index)) this.nameplateDirty = true;
    }
    if (b.unsolicited && !this.closed) this.answered();
  }

  /** The outstation answered: work out the nameplate if it changed, come online, emit a sample. */
  private answered(): void {
    if (this.nameplateDirty) this.discover();
    if (!this.plate) return;
    const r = sampleFromPoints(this.map, this.derId, this.clock.now(), this.points);
    if ('problem' in r) {
      this.lastError = `telemetry: ${r.problem}`;
      return;
    }
    if (this.link.value !== 'online') {
      this.lastError = null;
      this.link.next('online');
    }
    this.counters.samples++;
    this.samples.next(r.sample);
  }

  private discover(): void {
    this.nameplateDirty = false;
    const r = nameplateFromPoints(this.map, this.points);
    if ('problem' in r) {
      this.plate = null;
      this.caps = { setpoints: new Set(), nativeRamp: false };
      this.offline(`nameplate: ${r.problem}`);
      // The points may simply not have come yet (the startup integrity poll failed): ask once per connection.
      if (!this.integrityAsked) {
        this.integrityAsked = true;
        void this.master.integrityPoll();
      }
      return;
    }
    this.plate = r;
    this.caps = { setpoints: setpointKindsFor(this.map, r.nameplate), nativeRamp: hasNativeRamp(this.map) };
  }

  private failed(e: Dnp3Error): void {
    if (e.reason === 'TIMEOUT') this.offline(e.message);
    else if (e.reason !== 'OFFLINE' && e.reason !== 'CLOSED') this.lastError = e.message;
  }

  private offline(reason: string): void {
    this.lastError = reason;
    if (this.link.value !== 'offline') this.link.next('offline');
  }

  // ---- commands -------------------------------------------------------------------------------

  private async applyNow(sp: Setpoint): Promise<ApplyOutcome> {
    const plate = this.plate;
    if (this.closed || !this.master.online || !plate) return { status: 'rejected', reason: `not connected${this.lastError ? `: ${this.lastError}` : ''}` };
    const steps = commandsForSetpoint(this.map, sp, plate.nameplate);
    if ('rejected' in steps) return { status: 'rejected', reason: steps.rejected };
    const checks = readBackChecks(this.map, sp, plate.nameplate);
    if ('rejected' in checks) return { status: 'rejected', reason: checks.rejected };
    for (const step of steps) {
      const cmd = masterCommand(step);
      const r = step.mode === 'select-operate' ? await this.master.selectOperate(cmd) : await this.master.directOperate(cmd);
      if (r.error) return this.commandFailed(`${stepLabel(step)}: `, r.error);
      const status = r.statuses[0] ?? CommandStatus.UNDEFINED;
      if (status !== CommandStatus.SUCCESS) return { status: 'rejected', reason: `${stepLabel(step)}: the outstation answered ${commandStatusName(status)} (${status})` };
    }
    if (checks.length === 0) return { status: 'applied' };
    const rb = await this.master.read(readBackHeaders(checks));
    if (!rb.ok) return this.commandFailed('read-back: ', rb.error);
    const mismatch = readBackMismatch(checks, this.points);
    return mismatch ? { status: 'rejected', reason: `read-back: ${mismatch}` } : { status: 'applied' };
  }

  private commandFailed(what: string, e: Dnp3Error): ApplyOutcome {
    if (e.reason === 'TIMEOUT') {
      this.offline(e.message);
      return { status: 'timedOut' };
    }
    return { status: 'rejected', reason: `${what}${e.message}` };
  }
}
