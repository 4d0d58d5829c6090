import { readFileSync } from 'node:fs';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { BehaviorSubject, Subject, type Observable } from 'rxjs';
import { DermsError } from '../../core/errors.js';
import { formatBrokerUrl, type BrokerTarget } from './url.js';

export type QoS = 0 | 1;
export type ConnectionState = 'online' | 'offline';

export interface MqttConnectionOptions {
  readonly broker: BrokerTarget;
  /**
   * Fixed per party (a simulator gateway, a DERMS bus), so that with `clean: false` the broker
   * keeps the session — subscriptions and QoS 1 messages — while the party is away.
   */
  readonly clientId: string;
  /** false: a persistent session (the default). */
  readonly clean?: boolean;
  /** Wait between reconnection attempts, ms. */
  readonly reconnectMs?: number;
  readonly connectTimeoutMs?: number;
  readonly keepaliveS?: number;
  /** MQTT 5 only: how long the broker keeps the session after a disconnect, seconds. */
  readonly sessionExpiryS?: number;
}

/**
 * Topic filters per SUBSCRIBE packet. Small, because aedes stores a persistent session's whole
 * packet of subscriptions once per subscription in it (quadratic in the packet's size: 4,000
 * filters in packets of 1,000 take 4 s, in packets of 50 0.4 s); other brokers do not mind.
 */
const SUBSCRIBE_BATCH = 50;

/**
 * One MQTT client connection (mqtt.js), shared by everything one party publishes and receives:
 * reconnects on its own after a broker restart or a network failure, resubscribes when the broker
 * lost the session, drops QoS 0 publishes while offline (readings are worth nothing late) and
 * queues QoS 1 ones (controls) until the broker has them. One message handler receives every
 * message; it must not throw (a throwing handler's error is counted, not propagated).
 */
export class MqttConnection {
  private readonly client: MqttClient;
  private readonly state = new BehaviorSubject<ConnectionState>('offline');
  readonly state$: Observable<ConnectionState> = this.state.asObservable();
  /** Emits when a connection without reconnection (`reconnectMs: 0`) ends: nobody will bring it back. */
  private readonly gaveUp = new Subject<void>();
  private handler: (topic: string, payload: Buffer) => void = () => undefined;
  private closed = false;
  /** Last connection error, for messages. */
  lastError: string | null = null;
  readonly stats = { connects: 0, disconnects: 0, received: 0, published: 0, handlerErrors: 0 };

  constructor(readonly o: MqttConnectionOptions) {
    this.client = mqtt.connect(clientOptions(o));
    this.client.on('connect', () => {
      this.stats.connects++;
      this.lastError = null;
      this.state.next('online');
    });
    this.client.on('close', () => {
      if (this.state.value === 'online') this.stats.disconnects++;
      if (this.state.value !== 'offline') this.state.next('offline');
      if (o.reconnectMs === 0) this.gaveUp.next();
    });
    this.client.on('error', (e) => {
      this.lastError = e.message;
    });
    this.client.on('message', (topic, payload) => {
      this.stats.received++;
      try {
        this.handler(topic, payload);
      } catch {
        this.stats.handlerErrors++;
      }
    });
  }

  /** The broker, as `mqtt://host:port` (no credentials). */
  get url(): string {
    return formatBrokerUrl(this.o.broker);
  }

  get online(): boolean {
    return this.state.value === 'online';
  }

  onMessage(handler: (topic: string, payload: Buffer) => void): void {
    this.handler = handler;
  }

  /** Resolves once connected; rejects (UNAVAILABLE) when not connected within `timeoutMs`. */
  whenOnline(timeoutMs: number): Promise<void> {
    if (this.online) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const fail = (why: string): void => {
        clearTimeout(timer);
        sub.unsubscribe();
        gaveUp.unsubscribe();
        reject(new DermsError('UNAVAILABLE', `MQTT broker ${this.url} ${why}${this.lastError ? `: ${this.lastError}` : ''}`));
      };
      const timer = setTimeout(() => fail(`not reachable within ${timeoutMs} ms`), timeoutMs);
      const gaveUp = this.gaveUp.subscribe(() => fail('not reachable'));
      const sub = this.state.subscribe((s) => {
        if (s !== 'online') return;
        clearTimeout(timer);
        gaveUp.unsubscribe();
        queueMicrotask(() => sub.unsubscribe());
        resolve();
      });
    });
  }

  /**
   * Subscribe to `filters` (kept for resubscription after a reconnect). While offline the request
   * waits for the connection. Rejects when the broker refuses a filter.
   */
  async subscribe(filters: readonly string[], qos: QoS): Promise<void> {
    if (filters.length === 0) return;
    const granted = await this.client.subscribeAsync([...filters], { qos });
    const refused = granted.filter((g) => g.qos === 128).map((g) => g.topic);
    if (refused.length > 0) throw new DermsError('UNAVAILABLE', `broker ${this.url} refused subscription to ${refused.slice(0, 3).join(', ')}${refused.length > 3 ? ` and ${refused.length - 3} more` : ''}`);
  }

  /**
   * Publish. QoS 0 resolves once written (dropped when offline); QoS 1 resolves when the broker
   * acknowledges (PUBACK), queued until then across reconnects.
   */
  publish(topic: string, payload: Uint8Array, opts: { qos: QoS; retain?: boolean }): Promise<void> {
    const buf = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
    return new Promise((resolve, reject) => {
      this.client.publish(topic, buf, { qos: opts.qos, retain: opts.retain ?? false }, (err) => {
        if (err) reject(new DermsError('UNAVAILABLE', `publish to ${topic} failed: ${err.message}`));
        else {
          this.stats.published++;
          resolve();
        }
      });
    });
  }

  /** Disconnect cleanly (the broker keeps a persistent session for the next connection). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.client.endAsync(true);
    this.state.next('offline');
    this.state.complete();
    this.gaveUp.complete();
  }
}

function clientOptions(o: MqttConnectionOptions): IClientOptions {
  const b = o.broker;
  const tls = b.tls;
  const read = (path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (e) {
      throw new DermsError('INVALID_INPUT', `cannot read TLS file ${path}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  return {
    protocol: tls ? 'mqtts' : 'mqtt',
    host: b.host,
    port: b.port,
    username: b.username,
    password: b.password,
    protocolVersion: b.protocolVersion,
    clientId: o.clientId,
    clean: o.clean ?? false,
    reconnectPeriod: o.reconnectMs ?? 1000,
    connectTimeout: o.connectTimeoutMs ?? 5000,
    keepalive: o.keepaliveS ?? 30,
    queueQoSZero: false,
    resubscribe: true,
    subscribeBatchSize: SUBSCRIBE_BATCH,
    ...(b.protocolVersion === 5 && !(o.clean ?? false) ? { properties: { sessionExpiryInterval: o.sessionExpiryS ?? 3600 } } : {}),
    ...(tls ? { ca: read(tls.caFile), cert: read(tls.certFile), key: read(tls.keyFile), rejectUnauthorized: tls.rejectUnauthorized } : {}),
  };
}
