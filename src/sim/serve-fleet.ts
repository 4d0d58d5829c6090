import type { Clock } from '../core/ports.js';
import { EmbeddedBroker } from '../protocols/mqtt/broker.js';
import { formatBrokerUrl, parseBrokerUrl } from '../protocols/mqtt/url.js';
import type { Simulation } from './engine.js';
import type { FleetSpec } from './fleet-spec.js';
import { Dnp3Servers, type Dnp3Endpoint } from './dnp3/servers.js';
import { OpenFmbGateway, type OpenFmbEndpoint } from './openfmb/gateway.js';
import { SunSpecServers, type SunSpecEndpoint } from './sunspec/server.js';

/** One served device: where a DERMS reaches it (the list `derms sim serve --endpoints` writes). */
export type FleetEndpoint = SunSpecEndpoint | Dnp3Endpoint | OpenFmbEndpoint;

export interface ServeFleetOptions {
  readonly host: string;
  /** First TCP port for per-device servers (0: any free port). */
  readonly basePort?: number;
  /** OpenFMB devices: `embedded` (default) starts an MQTT broker here; else an external broker's URL. */
  readonly mqtt?: string | undefined;
  /** TCP port of the embedded broker (0: any free port). */
  readonly mqttPort?: number | undefined;
  readonly log?: (line: string) => void;
}

export interface ServedFleet {
  readonly endpoints: readonly FleetEndpoint[];
  /** Devices whose protocol has no server here (reach them in process). */
  readonly unserved: readonly string[];
  /** One line per protocol, for the operator. */
  readonly summary: ReadonlyMap<string, string>;
  /** The embedded MQTT broker's URL, when one was started. */
  readonly embeddedBroker: string | null;
  close(): Promise<void>;
}

/**
 * Serve every simulated device on its protocol on real sockets: SunSpec Modbus TCP (a port per
 * device or gateway ports by unit id), DNP3 outstations (ports shared by link address) and
 * OpenFMB over MQTT (through an embedded broker or an external one). Used by `derms sim serve`
 * and `derms start`.
 */
export async function serveFleet(sim: Simulation, fleet: FleetSpec, clock: Clock, o: ServeFleetOptions): Promise<ServedFleet> {
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  };
  const summary = new Map<string, string>();
  const endpoints: FleetEndpoint[] = [];
  let embeddedBroker: string | null = null;
  try {
    const sunspec = fleet.devices.filter((d) => d.protocol === 'sunspec');
    if (sunspec.length) {
      const servers = await SunSpecServers.start(
        sunspec.map((d) => ({ device: sim.device(d.id), profile: d.endpoint.sunspecProfile ?? '700', mode: d.endpoint.sunspecMode ?? 'port' })),
        { host: o.host, basePort: o.basePort ?? 0 },
      );
      closers.push(() => servers.close());
      endpoints.push(...servers.endpoints());
      const ports = new Set(servers.endpoints().map((e) => e.port)).size;
      summary.set('sunspec', `${sunspec.length} SunSpec Modbus TCP device(s) on ${ports} port(s) of ${o.host}`);
    }

    const dnp3 = fleet.devices.filter((d) => d.protocol === 'dnp3');
    if (dnp3.length) {
      // Outstations share ports by link address unless the file pins a port; published values follow each simulation step.
      const servers = await Dnp3Servers.start(
        dnp3.map((d) => ({ device: sim.device(d.id), outstation: d.endpoint.outstation, mode: d.endpoint.port !== undefined ? ('port' as const) : ('shared' as const), port: d.endpoint.port })),
        { host: o.host, refreshMs: fleet.clock.stepMs, refreshOn: clock },
      );
      closers.push(() => servers.close());
      endpoints.push(...servers.endpoints());
      const ports = new Set(servers.endpoints().map((e) => e.port)).size;
      summary.set('dnp3', `${dnp3.length} DNP3 outstation(s) on ${ports} port(s) of ${o.host}`);
    }

    const openfmb = fleet.devices.filter((d) => d.protocol === 'openfmb');
    if (openfmb.length) {
      const external = o.mqtt !== undefined && o.mqtt !== 'embedded' ? parseBrokerUrl(o.mqtt) : null;
      let target = external;
      if (!target) {
        const broker = await EmbeddedBroker.start({ host: o.host, port: o.mqttPort ?? 0 });
        closers.push(() => broker.close());
        embeddedBroker = broker.url;
        target = broker.target();
        summary.set('mqtt', `embedded MQTT broker on ${broker.url}`);
      }
      const clientId = `derms-sim-${fleet.name}`.replace(/[^\w.-]/g, '_');
      const gateway = await OpenFmbGateway.start(
        openfmb.map((d) => ({ device: sim.device(d.id) })),
        { broker: target, clientId, clock, ...(o.log ? { log: o.log } : {}) },
      );
      closers.push(() => gateway.close());
      endpoints.push(...gateway.endpoints());
      summary.set('openfmb', `${openfmb.length} OpenFMB device(s) publishing through ${external ? `the MQTT broker ${formatBrokerUrl(external)}` : 'the embedded broker'}`);
    }
  } catch (e) {
    await close();
    throw e;
  }
  const served = new Set(endpoints.map((e) => e.mRID));
  const unserved = fleet.devices.filter((d) => !served.has(d.id)).map((d) => d.id);
  if (unserved.length) {
    const byProtocol = new Map<string, number>();
    for (const d of fleet.devices) if (!served.has(d.id)) byProtocol.set(d.protocol, (byProtocol.get(d.protocol) ?? 0) + 1);
    summary.set('unserved', `${unserved.length} device(s) without a protocol server here (${[...byProtocol].map(([p, n]) => `${n} ${p}`).join(', ')})`);
  }
  return { endpoints, unserved, summary, embeddedBroker, close };
}
