import { BehaviorSubject, Subject, type Observable, type Subscription } from 'rxjs';
import { isDermsError } from '../../core/errors.js';
import type { ApplyOutcome, Setpoint } from '../../core/model/setpoint.js';
import type { TelemetrySample } from '../../core/model/telemetry.js';
import type { Clock, DeviceAdapter, DeviceCapabilities, LinkState } from '../../core/ports.js';
import type { ModbusTarget } from '../../protocols/modbus-url.js';
import { ModelRegistry } from '../../protocols/sunspec/index.js';
import { SunSpecClient } from './client.js';
import type { RegisterTransport } from './modbus-transport.js';
import { openModbus } from './open.js';
import { capabilitiesFrom, readBackMismatch, sampleFrom, writesFor, type SunSpecCapabilities } from './semantics.js';

export interface SunSpecAdapterOptions {
  readonly pollPeriodMs: number;
  /** No answer to one request after this long is a timeout. */
  readonly requestTimeoutMs?: number;
  /** Reconnect back-off: first wait and cap. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly registry?: ModelRegistry;
  /** How to open the connection (default `openModbus`: TCP connections shared per host:port; tests substitute transports). */
  readonly open?: (target: ModbusTarget, timeoutMs: number) => Promise<RegisterTransport>;
  /** How long to wait for a curve handshake (AdptCrvRslt). */
  readonly handshakeTimeoutMs?: number;
  /** Told how long each poll took (wall time, ms) and whether it succeeded, for metrics. */
  readonly onPoll?: (ms: number, ok: boolean) => void;
}

/** Models polled for telemetry when the device has them (the rest is read at discovery). */
const POLLED = [701, 713, 101, 102, 103, 111, 112, 113, 122, 124];

/**
 * The DERMS side of a SunSpec Modbus device (TCP or RTU): discovers it, polls its measurements at
 * a fixed period into normalized samples, and writes setpoints through the 700-series models (or
 * the legacy ones), reading each write back: the comparison is the outcome. Connection problems
 * mark the link offline and reconnect with exponential back-off; nothing here throws.
 */
export class SunSpecAdapter implements DeviceAdapter {
  private readonly samples = new Subject<TelemetrySample>();
  private readonly link = new BehaviorSubject<LinkState>('offline');
  readonly telemetry$: Observable<TelemetrySample> = this.samples.asObservable();
  readonly link$: Observable<LinkState> = this.link.asObservable();
  private client: SunSpecClient | null = null;
  private caps: SunSpecCapabilities | null = null;
  private timer: Subscription | null = null;
  private backoff: number;
  private closed = false;
  private polling = false;
  /** Why the device is degraded, when it is. */
  lastError: string | null = null;

  constructor(
    readonly derId: string,
    readonly target: ModbusTarget,
    private readonly clock: Clock,
    private readonly o: SunSpecAdapterOptions,
  ) {
    this.backoff = o.backoffMs ?? 1000;
    this.schedule(0, () => void this.connect());
  }

  capabilities(): DeviceCapabilities {
    return { setpoints: this.caps?.setpoints ?? new Set(), nativeRamp: this.caps?.nativeRamp ?? false };
  }

  async apply(sp: Setpoint): Promise<ApplyOutcome> {
    const client = this.client;
    const caps = this.caps;
    if (!client || !caps) return { status: 'rejected', reason: `not connected${this.lastError ? `: ${this.lastError}` : ''}` };
    const writes = writesFor(sp, caps);
    if (typeof writes === 'string') return { status: 'rejected', reason: writes };
    try {
      for (const w of writes) {
        const back = (await client.write(w.model, w.values)).readBack;
        if (w.awaitPoint) {
          const ok = await this.awaitPoint(client, w.model, w.awaitPoint);
          if (!ok) return { status: 'rejected', reason: `model ${w.model}: ${w.awaitPoint.path} did not reach ${w.awaitPoint.equals}` };
          continue;
        }
        const mismatch = readBackMismatch(w.values, back.values as Record<string, number>, (p) => client.quantum(w.model, p));
        if (mismatch) return { status: 'rejected', reason: `read-back of model ${w.model}: ${mismatch}` };
      }
      return { status: 'applied' };
    } catch (e) {
      if (isDermsError(e) && e.code === 'TIMEOUT') {
        void this.fail(e.message);
        return { status: 'timedOut' };
      }
      const msg = e instanceof Error ? e.message : String(e);
      if (isDermsError(e) && e.code === 'UNAVAILABLE' && !('exceptionCode' in e)) void this.fail(msg);
      return { status: 'rejected', reason: msg };
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.timer?.unsubscribe();
    await this.client?.close();
    this.client = null;
    this.link.next('offline');
    this.samples.complete();
    this.link.complete();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const timeout = this.o.requestTimeoutMs ?? 2000;
    try {
      const transport = await (this.o.open ?? openModbus)(this.target, timeout);
      const client = await SunSpecClient.discover(transport, this.o.registry).catch(async (e: unknown) => {
        await transport.close();
        throw e;
      });
      if (this.closed) return void client.close();
      const values = await client.readValues([...client.models.keys()]);
      this.client = client;
      this.caps = capabilitiesFrom(values);
      this.lastError = null;
      this.backoff = this.o.backoffMs ?? 1000;
      this.link.next('online');
      this.emit(values);
      this.timer = this.clock.schedule(() => void this.poll(), this.o.pollPeriodMs);
    } catch (e) {
      await this.fail(e instanceof Error ? e.message : String(e));
    }
  }

  private async poll(): Promise<void> {
    if (this.closed || !this.client) return;
    this.timer = this.clock.schedule(() => void this.poll(), this.o.pollPeriodMs);
    if (this.polling) return; // the previous poll is still waiting: skip rather than pile up
    this.polling = true;
    const started = performance.now();
    try {
      const client = this.client;
      this.emit(await client.poll(POLLED.filter((id) => client.has(id))));
      this.o.onPoll?.(performance.now() - started, true);
    } catch (e) {
      this.o.onPoll?.(performance.now() - started, false);
      await this.fail(e instanceof Error ? e.message : String(e));
    } finally {
      this.polling = false;
    }
  }

  private emit(values: Map<number, Record<string, unknown>>): void {
    if (!this.caps) return;
    const s = sampleFrom(this.derId, this.clock.now(), values as never, this.caps);
    if (s) this.samples.next(s);
  }

  /** Mark degraded, drop the connection, and reconnect after the back-off. */
  private async fail(reason: string): Promise<void> {
    this.lastError = reason;
    if (this.link.value !== 'offline') this.link.next('offline');
    this.timer?.unsubscribe();
    const c = this.client;
    this.client = null;
    await c?.close().catch(() => undefined);
    if (this.closed) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.o.maxBackoffMs ?? 30_000, this.backoff * 2);
    this.schedule(wait, () => void this.connect());
  }

  private schedule(ms: number, fn: () => void): void {
    this.timer = this.clock.schedule(fn, ms);
  }

  private async awaitPoint(client: SunSpecClient, model: number, p: { path: string; equals: number; failIf?: number }): Promise<boolean> {
    const deadline = this.clock.now() + (this.o.handshakeTimeoutMs ?? 5000);
    for (;;) {
      const v = Number((await client.read([model])).get(model)?.values[p.path]);
      if (v === p.equals) return true;
      if (p.failIf !== undefined && v === p.failIf) return false;
      if (this.clock.now() >= deadline) return false;
      await new Promise<void>((r) => this.clock.schedule(() => r(), 200));
    }
  }
}
