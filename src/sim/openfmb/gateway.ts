import { randomUUID } from 'node:crypto';
import { Subscription } from 'rxjs';
import type { Clock } from '../../core/ports.js';
import { MqttConnection } from '../../protocols/mqtt/connection.js';
import { formatBrokerUrl, type BrokerTarget } from '../../protocols/mqtt/url.js';
import {
  capabilityProfile,
  checkTopicMRID,
  decodeProfile,
  discreteControlView,
  encodeProfile,
  equipmentMRID,
  formatOpenFmbUrl,
  parseTopic,
  profileName,
  profileTopic,
  readingProfile,
  scheduleView,
  statusProfile,
  type DerPoint,
  type Envelope,
  type OpenFmbModule,
  type ProfileKind,
  type ProfileMessages,
  type ProfileName,
} from '../../protocols/openfmb/index.js';
import type { ESSPoint, SolarPoint } from '../../protocols/openfmb/messages.js';
import { WireProblems } from '../../protocols/openfmb/problems.js';
import type { SimInverter } from '../inverter.js';
import { pointToPatch } from './control.js';
import { capabilityFacts, moduleOf, readingValues, statusFacts } from './faces.js';

export interface OpenFmbServedDevice {
  readonly device: SimInverter;
  /** Defaults by kind: solar for PV, ess for batteries and hybrids. */
  readonly module?: OpenFmbModule | undefined;
}

/** One served device as `derms sim serve` lists it. */
export interface OpenFmbEndpoint {
  readonly mRID: string;
  readonly protocol: 'openfmb';
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly module: OpenFmbModule;
  /** The broker, `mqtt://host:port`. */
  readonly broker: string;
}

export interface OpenFmbGatewayOptions {
  readonly broker: BrokerTarget;
  /** Fixed, so the broker keeps this gateway's session (its control subscriptions and queued controls) while it is away. */
  readonly clientId: string;
  /** The simulation clock: publishing periods and scheduled control times run on it. */
  readonly clock: Clock;
  readonly readingPeriodMs?: number;
  /** Status goes out this often, and at once after a control and when the operating state changes. */
  readonly statusPeriodMs?: number;
  readonly connectTimeoutMs?: number;
  readonly reconnectMs?: number;
  readonly log?: (line: string) => void;
}

/** Controls a device out of touch (communication loss) keeps for when it is back, like a broker session would. */
const MAX_HELD = 100;
/** Reading publications are spread over this many slots of each period. */
const SLOTS = 10;

interface Served {
  readonly dev: SimInverter;
  readonly module: OpenFmbModule;
  readonly mRID: string;
  /** Operating state, connection and alarm at the last status: a change publishes a status at once. */
  stateKey: string;
  /** Capability and status are (re)announced in the device's next slot, not in one burst for all. */
  announced: boolean;
  readonly held: (() => void)[];
  schedule: Subscription | null;
}

/**
 * Simulated devices as OpenFMB devices on an MQTT broker, through one connection (as an OpenFMB
 * adapter gateway serves many devices): publishes each device's Reading (QoS 0) and Status
 * profiles at their rates, its Capability at start (retained), and acts on the DiscreteControl
 * (at once) and Control (at its schedule's times) profiles sent to its mRID. Faults are the
 * device's: a communication loss silences it and holds its controls until it is back; a slow
 * device acts late; one that rejects commands leaves its status unchanged. Bad input is counted
 * in `problems` and logged, never thrown.
 */
export class OpenFmbGateway {
  private readonly conn: MqttConnection;
  private readonly served: Served[];
  private readonly byId = new Map<string, Served>();
  private readonly subs = new Subscription();
  private readonly readingPeriod: number;
  private readonly statusEvery: number;
  private tick = 0;
  /** When the slot schedule started (clock ms). */
  private scheduleStart = Number.NaN;
  private slotTimer: Subscription | null = null;
  private closed = false;
  readonly problems: WireProblems;
  readonly stats = { readings: 0, statuses: 0, capabilities: 0, controls: 0, applied: 0, held: 0, heldDropped: 0, publishFailures: 0, slotsOffline: 0, slotsLate: 0 };

  private constructor(
    devices: readonly OpenFmbServedDevice[],
    private readonly o: OpenFmbGatewayOptions,
  ) {
    this.problems = new WireProblems(`openfmb gateway ${o.clientId}`, o.log);
    this.served = devices.map((d) => ({ dev: d.device, module: d.module ?? moduleOf(d.device.spec.kind), mRID: d.device.id, stateKey: '', announced: false, held: [], schedule: null }));
    for (const s of this.served) this.byId.set(checkTopicMRID(s.mRID), s);
    this.readingPeriod = o.readingPeriodMs ?? 1000;
    this.statusEvery = Math.max(1, Math.round((o.statusPeriodMs ?? 5000) / this.readingPeriod));
    this.conn = new MqttConnection({ broker: o.broker, clientId: o.clientId, clean: false, reconnectMs: o.reconnectMs, connectTimeoutMs: o.connectTimeoutMs });
    this.conn.onMessage((topic, payload) => this.onMessage(topic, payload));
  }

  /** Connect, subscribe to the controls of its modules, start publishing (each device announces itself in its first slot). */
  static async start(devices: readonly OpenFmbServedDevice[], o: OpenFmbGatewayOptions): Promise<OpenFmbGateway> {
    const g = new OpenFmbGateway(devices, o);
    try {
      await g.conn.whenOnline(o.connectTimeoutMs ?? 5000);
      // One wildcard per module and control profile, not one filter per device: brokers (aedes in
      // particular) slow down badly with tens of thousands of filters in a persistent session, and
      // QoS 1 controls are still queued for the session while the gateway is away. Controls for
      // equipment this gateway does not serve are counted as unknown devices.
      const modules = [...new Set(g.served.map((s) => s.module))];
      const filters = modules.flatMap((m) => (['Control', 'DiscreteControl'] as const).map((k) => profileTopic(m, k, '+')));
      await g.conn.subscribe(filters, 1);
    } catch (e) {
      await g.conn.close();
      throw e;
    }
    // After a reconnect the broker may have lost everything retained: announce again.
    g.subs.add(
      g.conn.state$.subscribe((s) => {
        if (s === 'online') for (const d of g.served) d.announced = false;
      }),
    );
    g.scheduleStart = o.clock.now();
    g.nextSlot(g.scheduleStart);
    return g;
  }

  endpoints(): OpenFmbEndpoint[] {
    const b = this.o.broker;
    return this.served.map((s) => ({
      mRID: s.mRID,
      protocol: 'openfmb',
      url: formatOpenFmbUrl({ host: b.host, port: b.port, tls: b.tls !== null, mRID: s.mRID, module: s.module }),
      host: b.host,
      port: b.port,
      module: s.module,
      broker: formatBrokerUrl(b),
    }));
  }

  get online(): boolean {
    return this.conn.online;
  }

  /**
   * When each served device's readings are due (clock ms): its first slot, then every reading
   * period; a reading is published at or after its due time (a late slot runs at once, the next
   * ones keep time).
   */
  readingSchedules(): { readonly mRID: string; readonly firstDueMs: number }[] {
    return this.served.map((s, i) => ({ mRID: s.mRID, firstDueMs: this.scheduleStart + (((i % SLOTS) + 1) * this.readingPeriod) / SLOTS }));
  }

  /** The broker connection's counters (connects, disconnects, messages). */
  get connectionStats(): Readonly<MqttConnection['stats']> {
    return this.conn.stats;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.subs.unsubscribe();
    this.slotTimer?.unsubscribe();
    for (const s of this.served) s.schedule?.unsubscribe();
    await this.conn.close();
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing

  /**
   * Slot k runs at start + k slot lengths on the clock, not one slot length after the last one
   * ran, so publishing keeps its rate however long a slot takes (a late slot runs at once).
   */
  private nextSlot(start: number): void {
    if (this.closed) return;
    const due = start + ((this.tick + 1) * this.readingPeriod) / SLOTS;
    this.slotTimer = this.o.clock.schedule(() => {
      // A slot a whole period late: its readings count for the next period (the host is overloaded).
      if (this.o.clock.now() - due >= this.readingPeriod) this.stats.slotsLate++;
      this.publishSlot();
      this.nextSlot(start);
    }, Math.max(0, due - this.o.clock.now()));
  }

  /** One slot of the period: readings of every SLOTS-th device, their status when due (and capability when new), held controls. */
  private publishSlot(): void {
    const slot = this.tick % SLOTS;
    const statusDue = Math.floor(this.tick / SLOTS) % this.statusEvery === 0;
    this.tick++;
    if (!this.conn.online) {
      this.stats.slotsOffline++;
      return;
    }
    for (let i = slot; i < this.served.length; i += SLOTS) {
      const s = this.served[i]!;
      if (s.dev.faults.commsLoss) continue;
      if (s.held.length > 0) for (const act of s.held.splice(0)) act();
      const fresh = !s.announced;
      if (fresh) {
        s.announced = true;
        this.publish(s, 'Capability', capabilityProfile(s.module, this.envelope(s), capabilityFacts(s.dev.spec)), 1, true);
        this.stats.capabilities++;
      }
      const m = s.dev.measurements();
      this.publish(s, 'Reading', readingProfile(s.module, this.envelope(s), readingValues(m)), 0, false);
      this.stats.readings++;
      const key = `${m.operatingState}|${m.connected}`;
      if (fresh || statusDue || key !== s.stateKey) this.publishStatus(s, m);
    }
  }

  private publishStatus(s: Served, m = s.dev.measurements()): void {
    s.stateKey = `${m.operatingState}|${m.connected}`;
    this.publish(s, 'Status', statusProfile(s.module, this.envelope(s), statusFacts(s.dev, m)), 0, false);
    this.stats.statuses++;
  }

  private publish<K extends ProfileKind>(s: Served, kind: K, msg: object, qos: 0 | 1, retain: boolean): void {
    const name = profileName(s.module, kind);
    const bytes = encodeProfile(name, msg as ProfileMessages[ProfileName]);
    this.conn.publish(profileTopic(s.module, kind, s.mRID), bytes, { qos, retain }).catch(() => {
      this.stats.publishFailures++;
    });
  }

  private envelope(s: Served): Envelope {
    return { mRID: s.mRID, name: s.dev.spec.name, messageId: randomUUID(), timeMs: this.o.clock.now() };
  }

  // ---------------------------------------------------------------------------------------------
  // Controls

  private onMessage(topic: string, payload: Buffer): void {
    const t = parseTopic(topic);
    if (!t || (t.profile.kind !== 'Control' && t.profile.kind !== 'DiscreteControl')) return this.problems.note('wrongTopic', topic);
    const s = this.byId.get(t.mRID);
    if (!s) return this.problems.note('unknownDevice', topic);
    if (t.profile.module !== s.module) return this.problems.note('mismatch', `${topic}: ${s.mRID} speaks ${s.module}`);
    let msg: ProfileMessages['SolarControlProfile' | 'ESSControlProfile' | 'SolarDiscreteControlProfile' | 'ESSDiscreteControlProfile'];
    try {
      msg = decodeProfile(t.profile.name as 'SolarControlProfile', payload);
    } catch (e) {
      return this.problems.note('malformed', `${topic}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const equipment = equipmentMRID(t.profile.name, msg);
    if (equipment !== t.mRID) return this.problems.note('mismatch', `${topic}: the payload is for equipment ${JSON.stringify(equipment ?? null)}`);
    this.stats.controls++;
    const act = t.profile.kind === 'DiscreteControl' ? (): void => this.discrete(s, msg as never) : (): void => this.scheduled(s, msg as never);
    const f = s.dev.faults;
    if (f.commsLoss) this.hold(s, act);
    else if (f.responseDelayMs > 0) this.o.clock.schedule(act, f.responseDelayMs);
    else act();
  }

  private hold(s: Served, act: () => void): void {
    if (s.held.length >= MAX_HELD) {
      s.held.shift();
      this.stats.heldDropped++;
    }
    s.held.push(act);
    this.stats.held++;
  }

  private discrete(s: Served, msg: ProfileMessages['SolarDiscreteControlProfile'] | ProfileMessages['ESSDiscreteControlProfile']): void {
    const v = discreteControlView(msg);
    if (v.blocked) return this.problems.note('blocked', `discrete control ${v.controlId ?? ''} for ${s.mRID}`);
    if (!v.point) this.problems.note('rejected', `discrete control ${v.controlId ?? ''} for ${s.mRID} has no control point`);
    else this.apply(s, v.point, v.controlId);
    this.publishStatus(s);
  }

  /** A schedule replaces the device's pending one; points already due apply now, in order. */
  private scheduled(s: Served, msg: ProfileMessages['SolarControlProfile'] | ProfileMessages['ESSControlProfile']): void {
    const v = scheduleView(msg);
    if (v.blocked) return this.problems.note('blocked', `scheduled control ${v.controlId ?? ''} for ${s.mRID}`);
    const dry = v.points.map((p) => pointToPatch(p.point, s.dev.spec.nameplate, s.dev.settings()));
    const bad = dry.find((r) => !r.ok);
    if (v.problems.length > 0 || v.points.length === 0 || (bad && !bad.ok)) {
      const why = v.problems[0] ?? (bad && !bad.ok ? bad.reason : 'no schedule points');
      this.problems.note('rejected', `scheduled control ${v.controlId ?? ''} for ${s.mRID}: ${why}`);
      return this.publishStatus(s);
    }
    s.schedule?.unsubscribe();
    const pending = new Subscription();
    s.schedule = pending;
    const now = this.o.clock.now();
    for (const p of v.points) {
      if (p.startMs <= now) this.apply(s, p.point, v.controlId);
      else
        pending.add(
          this.o.clock.schedule(() => {
            if (s.dev.faults.commsLoss) this.hold(s, () => this.apply(s, p.point, v.controlId));
            else {
              this.apply(s, p.point, v.controlId);
              this.publishStatus(s);
            }
          }, p.startMs - now),
        );
    }
    this.publishStatus(s);
  }

  private apply(s: Served, point: DerPoint | SolarPoint | ESSPoint, controlId: string | undefined): void {
    const r = pointToPatch(point, s.dev.spec.nameplate, s.dev.settings());
    const u = r.ok ? s.dev.update(r.patch) : r;
    if (u.ok) this.stats.applied++;
    else this.problems.note('rejected', `control ${controlId ?? ''} for ${s.mRID}: ${u.reason}`);
  }
}
