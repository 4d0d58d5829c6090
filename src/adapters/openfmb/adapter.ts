import { randomUUID } from 'node:crypto';
import { BehaviorSubject, Subject, type Observable, type Subscription } from 'rxjs';
import type { DerKind } from '../../core/model/der.js';
import type { ApplyOutcome, Setpoint, SetpointBody, SetpointKind } from '../../core/model/setpoint.js';
import type { TelemetrySample } from '../../core/model/telemetry.js';
import type { Clock, DeviceAdapter, DeviceCapabilities, LinkState } from '../../core/ports.js';
import {
  capabilityView,
  discreteControlProfile,
  encodeProfile,
  profileName,
  readingView,
  scheduleControlProfile,
  statusView,
  type CapabilityView,
  type DerPoint,
  type OpenFmbModule,
  type ProfileMessages,
  type ProfileName,
  type ReadingView,
  type StatusView,
} from '../../protocols/openfmb/index.js';
import type { BusDevice, InboundKind, OpenFmbBus } from './bus.js';
import { notReflected, ratingsFrom, sampleFrom, setpointToPoint, type Ratings } from './semantics.js';

export interface OpenFmbAdapterOptions {
  /** How often the device publishes readings; `offlineAfterPeriods` of silence mark the link offline. */
  readonly readingPeriodMs: number;
  readonly offlineAfterPeriods?: number;
  /** How long a control may take to show in the device's status before its write counts as timed out. */
  readonly confirmTimeoutMs?: number;
  /** PV, battery or hybrid; by module when not given (solar: PV, ess: battery). */
  readonly kind?: DerKind | undefined;
  /** Ratings to work with until the device's Capability profile arrives (the registry's nameplate). */
  readonly ratings?: Ratings | undefined;
}

/** One scheduled point: from `startMs` (epoch ms) on, the setpoint holds. */
export interface ScheduledSetpoint {
  readonly startMs: number;
  readonly setpoint: SetpointBody;
}

const ALL_KINDS: ReadonlySet<SetpointKind> = new Set(['activePower', 'reactivePower', 'powerFactor', 'activePowerLimit', 'voltVar', 'voltWatt', 'rampRates', 'connect', 'release']);
const NONE: ReadonlySet<SetpointKind> = new Set();

interface PendingConfirmation {
  readonly point: DerPoint;
  /** Only a status received at or after this time (clock) can confirm. */
  readonly notBefore: number;
  readonly resolve: (o: ApplyOutcome) => void;
  timer: Subscription | null;
}

/**
 * The DERMS side of one OpenFMB device (a PV inverter on solarmodule or a battery on essmodule),
 * through a shared `OpenFmbBus`: the device's Reading profiles, with its latest Status and its
 * Capability, become normalized samples; a setpoint goes out as a DiscreteControl profile (QoS 1)
 * and counts as applied when a status received afterwards shows it, else as timed out. Scheduled
 * setpoints go out as one Control profile (`applySchedule`). The link is offline while the broker
 * is unreachable or the device has been silent for `offlineAfterPeriods` reading periods.
 */
export class OpenFmbAdapter implements DeviceAdapter, BusDevice {
  private readonly samples = new Subject<TelemetrySample>();
  private readonly link = new BehaviorSubject<LinkState>('offline');
  readonly telemetry$: Observable<TelemetrySample> = this.samples.asObservable();
  readonly link$: Observable<LinkState> = this.link.asObservable();
  private readonly detach: () => void;
  private readonly brokerSub: Subscription;
  private readonly pending = new Set<PendingConfirmation>();
  private readonly kind: DerKind;
  private lastReadingAt = -Infinity;
  private closed = false;
  /** The latest of each profile, decoded (for diagnostics and `derms scan`). */
  reading: ReadingView | null = null;
  status: StatusView | null = null;
  capability: CapabilityView | null = null;
  readonly stats = { readings: 0, statuses: 0, samples: 0, incomplete: 0 };

  constructor(
    readonly derId: string,
    readonly target: { readonly mRID: string; readonly module: OpenFmbModule },
    private readonly bus: OpenFmbBus,
    private readonly clock: Clock,
    private readonly o: OpenFmbAdapterOptions,
  ) {
    this.kind = o.kind ?? (target.module === 'solar' ? 'pv' : 'battery');
    this.detach = bus.attach(target.mRID, this);
    this.brokerSub = bus.brokerLink$.subscribe((s) => {
      if (s === 'offline' && this.link.value === 'online') this.link.next('offline');
    });
  }

  get module(): OpenFmbModule {
    return this.target.module;
  }

  /** The ratings in use: the device's capability, else the ones given. */
  ratings(): Ratings | null {
    return (this.capability && ratingsFrom(this.capability)) ?? this.o.ratings ?? null;
  }

  capabilities(): DeviceCapabilities {
    return { setpoints: this.ratings() ? ALL_KINDS : NONE, nativeRamp: false };
  }

  async apply(sp: Setpoint): Promise<ApplyOutcome> {
    const checked = this.check(sp);
    if (typeof checked === 'string') return { status: 'rejected', reason: checked };
    const env = { mRID: this.target.mRID, messageId: randomUUID(), timeMs: this.clock.now() };
    const msg = discreteControlProfile(this.target.module, env, checked);
    return this.send('DiscreteControl', encodeProfile(profileName(this.target.module, 'DiscreteControl'), msg as ProfileMessages[ProfileName]), checked, env.timeMs);
  }

  /**
   * Send a schedule as one OpenFMB Control profile: the device applies each point at its start
   * time. The outcome is the first point's: the one in force now if any is, else the first to
   * come, confirmed by a status received from its start time on.
   */
  async applySchedule(points: readonly ScheduledSetpoint[]): Promise<ApplyOutcome> {
    if (points.length === 0) return { status: 'rejected', reason: 'an empty schedule' };
    const sorted = [...points].sort((a, b) => a.startMs - b.startMs);
    const converted: { startMs: number; point: DerPoint }[] = [];
    for (const p of sorted) {
      const c = this.check({ ...p.setpoint, derId: this.derId });
      if (typeof c === 'string') return { status: 'rejected', reason: `point at ${new Date(p.startMs).toISOString()}: ${c}` };
      converted.push({ startMs: p.startMs, point: c });
    }
    const now = this.clock.now();
    const first = converted.filter((p) => p.startMs <= now).at(-1) ?? converted[0]!;
    const env = { mRID: this.target.mRID, messageId: randomUUID(), timeMs: now };
    const msg = scheduleControlProfile(this.target.module, env, converted);
    return this.send('Control', encodeProfile(profileName(this.target.module, 'Control'), msg as ProfileMessages[ProfileName]), first.point, Math.max(now, first.startMs));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.detach();
    this.brokerSub.unsubscribe();
    for (const p of [...this.pending]) p.resolve({ status: 'rejected', reason: 'adapter closed' });
    this.link.next('offline');
    this.samples.complete();
    this.link.complete();
  }

  // ---------------------------------------------------------------------------------------------
  // From the bus

  onProfile(kind: InboundKind, msg: ProfileMessages[ProfileName], receivedAt: number): void {
    if (this.closed) return;
    switch (kind) {
      case 'Capability':
        this.capability = capabilityView(msg as ProfileMessages['SolarCapabilityProfile']);
        return;
      case 'Status':
        this.stats.statuses++;
        this.status = statusView(msg as ProfileMessages['SolarStatusProfile']);
        this.confirm(receivedAt);
        return;
      case 'Reading':
        this.stats.readings++;
        this.reading = readingView(msg as ProfileMessages['SolarReadingProfile']);
        this.lastReadingAt = receivedAt;
        if (this.link.value === 'offline' && this.bus.online) this.link.next('online');
        this.emit(receivedAt);
        return;
    }
  }

  sweep(now: number): void {
    if (this.link.value === 'online' && now - this.lastReadingAt > (this.o.offlineAfterPeriods ?? 3) * this.o.readingPeriodMs) this.link.next('offline');
  }

  // ---------------------------------------------------------------------------------------------

  /** The point for a setpoint, or why it cannot be sent now. */
  private check(sp: Setpoint): DerPoint | string {
    if (this.closed) return 'adapter closed';
    if (!this.bus.online) return `not connected to the MQTT broker ${this.bus.url}`;
    const r = this.ratings();
    if (!r) return 'no Capability profile from the device yet (its ratings are unknown)';
    return setpointToPoint(sp, r, this.kind);
  }

  private send(kind: 'Control' | 'DiscreteControl', bytes: Uint8Array, point: DerPoint, notBefore: number): Promise<ApplyOutcome> {
    return new Promise((resolve) => {
      const p: PendingConfirmation = {
        point,
        notBefore,
        timer: null,
        resolve: (o) => {
          if (!this.pending.delete(p)) return;
          p.timer?.unsubscribe();
          resolve(o);
        },
      };
      // Registered before publishing: the device can answer before the broker's PUBACK is back.
      this.pending.add(p);
      p.timer = this.clock.schedule(() => p.resolve({ status: 'timedOut' }), notBefore - this.clock.now() + (this.o.confirmTimeoutMs ?? 5000));
      this.bus.publishControl(this.target.module, kind, this.target.mRID, bytes).catch((e: unknown) => p.resolve({ status: 'rejected', reason: e instanceof Error ? e.message : String(e) }));
    });
  }

  /** Settle every pending write the latest status (received at `at`) shows. */
  private confirm(at: number): void {
    if (this.pending.size === 0) return;
    for (const p of [...this.pending]) {
      if (at >= p.notBefore && notReflected(p.point, this.status?.point) === null) p.resolve({ status: 'applied' });
    }
  }

  private emit(receivedAt: number): void {
    const r = this.ratings();
    if (!r || !this.status || !this.reading) return;
    const s = sampleFrom(this.derId, this.reading.timeMs ?? receivedAt, this.reading, this.status, r, this.kind);
    if (!s) {
      this.stats.incomplete++;
      return;
    }
    this.stats.samples++;
    this.samples.next(s);
  }
}
