import { interval, Subscription, type Observable } from 'rxjs';
import { DermsError } from '../../core/errors.js';
import type { Clock, LinkState } from '../../core/ports.js';
import { MqttConnection } from '../../protocols/mqtt/connection.js';
import type { BrokerTarget } from '../../protocols/mqtt/url.js';
import {
  checkTopicMRID,
  decodeProfile,
  equipmentMRID,
  openfmbModules,
  parseTopic,
  profileFilter,
  profileTopic,
  type OpenFmbModule,
  type ProfileKind,
  type ProfileMessages,
  type ProfileName,
} from '../../protocols/openfmb/index.js';
import { WireProblems } from '../../protocols/openfmb/problems.js';

/** The profiles the DERMS listens to. */
export type InboundKind = Extract<ProfileKind, 'Reading' | 'Status' | 'Capability'>;
const INBOUND: readonly InboundKind[] = ['Reading', 'Status', 'Capability'];
/**
 * Capability and Status messages kept for equipment nobody has attached yet (a retained capability
 * arrives once, right after subscribing, possibly before the adapters are attached), for this many
 * mRIDs at most.
 */
const MAX_KEPT = 100_000;

/** What the bus hands one attached device (an adapter). */
export interface BusDevice {
  readonly module: OpenFmbModule;
  /** A decoded profile for this device, with the bus clock's time of receipt. */
  onProfile(kind: InboundKind, msg: ProfileMessages[ProfileName], receivedAt: number): void;
  /** Called every sweep with the bus clock's time, to notice silence. */
  sweep(now: number): void;
}

export interface OpenFmbBusOptions {
  readonly broker: BrokerTarget;
  /** Fixed per DERMS instance, so the broker keeps its session (subscriptions, queued capabilities) while it is away. */
  readonly clientId: string;
  readonly clock: Clock;
  /** Modules to listen to; both by default. */
  readonly modules?: readonly OpenFmbModule[];
  /** How often attached devices check for silence, ms (clock time). */
  readonly sweepMs?: number;
  readonly reconnectMs?: number;
  readonly connectTimeoutMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * The DERMS side of one MQTT broker: one connection and one wildcard subscription per profile
 * (`openfmb/<module>/<Profile>/+`) shared by every OpenFMB adapter on that broker, so twenty
 * thousand devices cost one connection, not twenty thousand. Messages are routed by the topic's
 * mRID to the attached device; only those are decoded. Garbage, truncated protobuf, wrong topics,
 * mRIDs nobody attached and payloads that disagree with their topic are counted in `problems` and
 * logged, never thrown. Controls go out with QoS 1.
 */
export class OpenFmbBus {
  private readonly conn: MqttConnection;
  private readonly devices = new Map<string, BusDevice>();
  /** Raw Capability and Status messages for equipment not attached (yet), handed over on attach. */
  private readonly kept = new Map<string, { capability?: [string, Buffer]; status?: [string, Buffer] }>();
  private readonly subs = new Subscription();
  readonly problems: WireProblems;
  readonly stats = { received: 0, delivered: 0, controlsSent: 0 };
  /** The broker connection as a link state. */
  readonly brokerLink$: Observable<LinkState>;
  private readonly ready: Promise<void>;

  constructor(private readonly o: OpenFmbBusOptions) {
    this.problems = new WireProblems(`openfmb bus ${o.clientId}`, o.log);
    this.conn = new MqttConnection({ broker: o.broker, clientId: o.clientId, clean: false, reconnectMs: o.reconnectMs, connectTimeoutMs: o.connectTimeoutMs });
    this.conn.onMessage((topic, payload) => this.route(topic, payload));
    this.brokerLink$ = this.conn.state$ satisfies Observable<LinkState>;
    const filters = (o.modules ?? openfmbModules).flatMap((m) => INBOUND.map((k) => profileFilter(m, k)));
    // Sent now, or when the connection comes up; mqtt.js repeats it after a reconnect that lost the session.
    this.ready = this.conn.subscribe(filters, 1);
    this.ready.catch((e: unknown) => o.log?.(`openfmb bus ${o.clientId}: subscribing failed: ${e instanceof Error ? e.message : String(e)}`));
    this.subs.add(interval(o.sweepMs ?? 1000, o.clock).subscribe(() => this.sweep()));
  }

  get online(): boolean {
    return this.conn.online;
  }

  get url(): string {
    return this.conn.url;
  }

  /** Resolves once connected and subscribed; rejects (UNAVAILABLE) after `timeoutMs`. */
  async whenReady(timeoutMs: number): Promise<void> {
    const started = Date.now();
    await this.conn.whenOnline(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DermsError('UNAVAILABLE', `MQTT broker ${this.url} did not acknowledge the subscriptions within ${timeoutMs} ms`)), Math.max(0, timeoutMs - (Date.now() - started)));
    });
    try {
      await Promise.race([this.ready, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Route the profiles of equipment `mRID` to `device`; returns the detach function. */
  attach(mRID: string, device: BusDevice): () => void {
    checkTopicMRID(mRID);
    if (this.devices.has(mRID)) throw new Error(`equipment ${mRID} is already attached to this bus`);
    this.devices.set(mRID, device);
    const kept = this.kept.get(mRID);
    if (kept) {
      this.kept.delete(mRID);
      for (const m of [kept.capability, kept.status]) if (m) this.route(m[0], m[1], true);
    }
    return () => {
      if (this.devices.get(mRID) === device) this.devices.delete(mRID);
    };
  }

  /** Publish a control profile (QoS 1): resolves when the broker has it. */
  async publishControl(module: OpenFmbModule, kind: 'Control' | 'DiscreteControl', mRID: string, bytes: Uint8Array): Promise<void> {
    await this.conn.publish(profileTopic(module, kind, mRID), bytes, { qos: 1 });
    this.stats.controlsSent++;
  }

  async close(): Promise<void> {
    this.subs.unsubscribe();
    this.devices.clear();
    this.kept.clear();
    await this.conn.close();
  }

  private route(topic: string, payload: Buffer, replay = false): void {
    if (!replay) this.stats.received++;
    const t = parseTopic(topic);
    if (!t || !(INBOUND as readonly string[]).includes(t.profile.kind)) return this.problems.note('wrongTopic', topic);
    const device = this.devices.get(t.mRID);
    if (!device) return this.keep(t.mRID, t.profile.kind, topic, payload);
    if (device.module !== t.profile.module) return this.problems.note('mismatch', `${topic}: ${t.mRID} is attached as ${device.module}`);
    let msg: ProfileMessages[ProfileName];
    try {
      msg = decodeProfile(t.profile.name, payload);
    } catch (e) {
      return this.problems.note('malformed', `${topic}: ${e instanceof Error ? e.message : String(e)}`);
    }
    const equipment = equipmentMRID(t.profile.name, msg);
    if (equipment !== t.mRID) return this.problems.note('mismatch', `${topic}: the payload is for equipment ${JSON.stringify(equipment ?? null)}`);
    this.stats.delivered++;
    device.onProfile(t.profile.kind as InboundKind, msg, this.o.clock.now());
  }

  private keep(mRID: string, kind: ProfileKind, topic: string, payload: Buffer): void {
    const k = this.kept.get(mRID) ?? (this.kept.size < MAX_KEPT ? {} : null);
    if (!k || (kind !== 'Capability' && kind !== 'Status')) return this.problems.note('unknownDevice', topic);
    if (kind === 'Capability') k.capability = [topic, payload];
    else k.status = [topic, payload];
    this.kept.set(mRID, k);
  }

  private sweep(): void {
    const now = this.o.clock.now();
    for (const d of this.devices.values()) d.sweep(now);
  }
}
