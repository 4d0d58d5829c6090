import { Dnp3Adapter } from '../adapters/dnp3/adapter.js';
import { InProcessAdapter } from '../adapters/in-process.js';
import { OpenFmbAdapter } from '../adapters/openfmb/adapter.js';
import { OpenFmbBus } from '../adapters/openfmb/bus.js';
import { SunSpecAdapter } from '../adapters/sunspec/adapter.js';
import { ModbusTcpPool } from '../adapters/sunspec/modbus-tcp.js';
import { openModbus } from '../adapters/sunspec/open.js';
import { DermsError } from '../core/errors.js';
import { nameplateSchema, type Der, type DerInput } from '../core/model/der.js';
import type { Clock, DeviceAdapter } from '../core/ports.js';
import { formatDnp3Url, parseDnp3Url } from '../protocols/dnp3/url.js';
import { formatModbusUrl, parseModbusUrl } from '../protocols/modbus-url.js';
import { formatBrokerUrl, parseBrokerUrl, type BrokerTarget } from '../protocols/mqtt/url.js';
import { formatOpenFmbUrl, parseOpenFmbUrl } from '../protocols/openfmb/url.js';
import type { Simulation } from '../sim/engine.js';
import { InProcessLink } from '../sim/in-process-link.js';
import type { SystemMetrics } from './metrics.js';

export type DeviceProtocol = 'sunspec' | 'dnp3' | 'openfmb' | 'in-process';

/** A device the system manages: its registration and where to reach it. */
export interface DeviceEntry {
  readonly der: DerInput;
  readonly protocol: DeviceProtocol;
  readonly url: string;
}

export interface AdapterContext {
  readonly clock: Clock;
  readonly sim: Simulation | null;
  readonly pollPeriodMs: number;
  /** Virtual seconds per real second of `clock`: wire timeouts kept on it are stretched by this. */
  readonly speed?: number;
  readonly metrics?: SystemMetrics;
  /** MQTT client id prefix of this DERMS (fixed, so brokers keep its sessions across restarts). */
  readonly clientId?: string;
  /** Modbus TCP requests in flight per connection (default 1). */
  readonly modbusInFlight?: number | undefined;
  readonly log?: (line: string) => void;
}

/** The registry endpoint a device URL stands for. */
export function endpointOf(protocol: DeviceProtocol, url: string, mRID: string): DerInput['endpoint'] {
  switch (protocol) {
    case 'sunspec': {
      const t = parseModbusUrl(url);
      return t.kind === 'tcp' ? { protocol: 'sunspec-tcp', host: t.host, port: t.port, unitId: t.unit } : { protocol: 'sunspec-rtu', path: t.path, baudRate: t.baudRate, unitId: t.unit };
    }
    case 'openfmb': {
      const t = parseOpenFmbUrl(url);
      if (!t.module) throw new DermsError('INVALID_INPUT', `${url}: give the OpenFMB module (?module=solar or ?module=ess)`);
      return { protocol: 'openfmb', broker: formatBrokerUrl(t.broker), equipmentMRID: t.mRID, module: t.module };
    }
    case 'dnp3':
      return { protocol: 'dnp3', ...parseDnp3Url(url) };
    case 'in-process':
      return { protocol: 'in-process', device: mRID };
  }
}

/** Where to reach a registered DER, from its registry endpoint. */
export function entryFromDer(der: Der): DeviceEntry {
  const e = der.endpoint;
  switch (e.protocol) {
    case 'sunspec-tcp':
      return { der, protocol: 'sunspec', url: formatModbusUrl({ kind: 'tcp', host: e.host, port: e.port, unit: e.unitId }) };
    case 'sunspec-rtu':
      return { der, protocol: 'sunspec', url: formatModbusUrl({ kind: 'rtu', path: e.path, baudRate: e.baudRate, parity: 'none', unit: e.unitId }) };
    case 'dnp3':
      return { der, protocol: 'dnp3', url: formatDnp3Url({ host: e.host, port: e.port, outstation: e.outstation, master: e.master }) };
    case 'openfmb': {
      if (!e.broker) throw new DermsError('INVALID_INPUT', `${der.mRID}: an OpenFMB endpoint needs its broker URL`);
      const b = parseBrokerUrl(e.broker);
      return { der, protocol: 'openfmb', url: formatOpenFmbUrl({ host: b.host, port: b.port, tls: b.tls !== null, mRID: e.equipmentMRID, module: e.module }) };
    }
    case 'in-process':
      return { der, protocol: 'in-process', url: `in-process:${e.device}` };
  }
}

/**
 * Opens the DERMS-side adapter for each device over its protocol, sharing what is shared (one
 * MQTT connection per broker for every OpenFMB device on it, one Modbus TCP connection per
 * host:port for every SunSpec unit behind it), and closes it all again.
 */
export class DeviceAdapters {
  private readonly adapters: DeviceAdapter[] = [];
  private readonly buses = new Map<string, OpenFmbBus>();
  private readonly modbus: ModbusTcpPool;

  constructor(private readonly ctx: AdapterContext) {
    this.modbus = new ModbusTcpPool({ maxInFlight: ctx.modbusInFlight ?? 1 });
  }

  /** An adapter this object closes with the rest. */
  open(d: DeviceEntry): DeviceAdapter {
    const a = this.create(d);
    this.adapters.push(a);
    return a;
  }

  /** Close one adapter opened here (a DER removed from the registry). */
  async closeOne(a: DeviceAdapter | undefined): Promise<void> {
    const i = a ? this.adapters.indexOf(a) : -1;
    if (i < 0) return;
    this.adapters.splice(i, 1);
    await a!.close().catch(() => undefined);
  }

  /** Close every adapter (stops polling), then the shared connections. */
  async close(): Promise<void> {
    await Promise.all(this.adapters.splice(0).map((a) => a.close().catch(() => undefined)));
    await Promise.all([...this.buses.values()].map((b) => b.close().catch(() => undefined)));
    this.buses.clear();
    await this.modbus.close();
  }

  /** An adapter the caller closes (a one-off check); shared connections are still shared. */
  create(d: DeviceEntry): DeviceAdapter {
    const id = d.der.mRID;
    const ctx = this.ctx;
    switch (d.protocol) {
      case 'sunspec':
        return new SunSpecAdapter(id, parseModbusUrl(d.url), ctx.clock, {
          pollPeriodMs: ctx.pollPeriodMs,
          requestTimeoutMs: 2000,
          open: (target, timeoutMs) => openModbus(target, timeoutMs, this.modbus),
          onPoll: (ms, ok) => ok && ctx.metrics?.pollLatency('sunspec', ms / 1000),
        });
      case 'openfmb': {
        const t = parseOpenFmbUrl(d.url);
        return new OpenFmbAdapter(id, { mRID: t.mRID, module: t.module ?? (d.der.kind === 'pv' ? 'solar' : 'ess') }, this.bus(t.broker), ctx.clock, {
          readingPeriodMs: ctx.pollPeriodMs,
          kind: d.der.kind === 'other' ? undefined : d.der.kind,
          ratings: nameplateSchema.parse(d.der.nameplate),
        });
      }
      case 'dnp3':
        return new Dnp3Adapter(id, parseDnp3Url(d.url), ctx.clock, {
          eventPollMs: ctx.pollPeriodMs,
          // The master's timers run on the (possibly accelerated) clock; the wire does not.
          responseTimeoutMs: 2000 * (ctx.speed ?? 1),
          connectTimeoutMs: 5000 * (ctx.speed ?? 1),
          onPoll: (ms, ok) => ok && ctx.metrics?.pollLatency('dnp3', ms / 1000),
        });
      case 'in-process': {
        if (!ctx.sim?.has(id)) throw new DermsError('NOT_FOUND', `no simulated device ${id} to reach in process`);
        return new InProcessAdapter(id, new InProcessLink(ctx.sim.device(id)), ctx.clock, { pollPeriodMs: ctx.pollPeriodMs, timeoutMs: 3000 });
      }
    }
  }

  private bus(broker: BrokerTarget): OpenFmbBus {
    const key = `${formatBrokerUrl(broker)}|${broker.username ?? ''}`;
    let bus = this.buses.get(key);
    if (!bus) {
      const clientId = `${this.ctx.clientId ?? 'derms'}-${this.buses.size + 1}`;
      bus = new OpenFmbBus({ broker, clientId, clock: this.ctx.clock, ...(this.ctx.log ? { log: this.ctx.log } : {}) });
      this.buses.set(key, bus);
    }
    return bus;
  }
}
