import { rename, writeFile } from 'node:fs/promises';
import { VirtualClock } from '../core/virtual-clock.js';
import { EmbeddedBroker } from '../protocols/mqtt/broker.js';
import { parseBrokerUrl } from '../protocols/mqtt/url.js';
import { Simulation } from '../sim/engine.js';
import { loadFleetFile } from '../sim/fleet-file.js';
import { OpenFmbGateway, type OpenFmbEndpoint } from '../sim/openfmb/gateway.js';
import { pace } from '../sim/pacer.js';
import { SunSpecServers, type SunSpecEndpoint } from '../sim/sunspec/server.js';

export interface SimServeOptions {
  readonly fleet: string;
  readonly endpoints?: string | undefined;
  readonly host: string;
  readonly basePort: number;
  /** OpenFMB devices: `embedded` (default) starts an MQTT broker here; else an external broker's URL (mqtt://, mqtts://). */
  readonly mqtt?: string | undefined;
  /** TCP port of the embedded broker (0: any free port). */
  readonly mqttPort?: number | undefined;
  readonly speed?: number | undefined;
  /** Stop after this many simulated seconds (tests); until a signal otherwise. */
  readonly durationS?: number | undefined;
  readonly out: (line: string) => void;
  /** Called once the servers listen, with the endpoint list (a method: callers may take one protocol's endpoints). */
  onReady?(endpoints: readonly (SunSpecEndpoint | OpenFmbEndpoint)[]): void;
  readonly signal?: AbortSignal | undefined;
}

/**
 * `derms sim serve`: the device side only. Steps the fleet on its clock and serves every device
 * on its protocol; writes the endpoint list (mRID, protocol, url) for `derms scan` and the DERMS.
 */
export async function simServe(o: SimServeOptions): Promise<void> {
  const spec = await loadFleetFile(o.fleet);
  const clock = new VirtualClock(spec.clock.start);
  const sim = new Simulation(spec);
  const sub = sim.attach(clock);
  const sunspec = spec.devices.filter((d) => d.protocol === 'sunspec');
  const servers = await SunSpecServers.start(
    sunspec.map((d) => ({ device: sim.device(d.id), profile: d.endpoint.sunspecProfile ?? '700', mode: d.endpoint.sunspecMode ?? 'port' })),
    { host: o.host, basePort: o.basePort },
  );
  const openfmb = spec.devices.filter((d) => d.protocol === 'openfmb');
  const external = o.mqtt !== undefined && o.mqtt !== 'embedded' ? parseBrokerUrl(o.mqtt) : null;
  let broker: EmbeddedBroker | null = null;
  let gateway: OpenFmbGateway | null = null;
  try {
    if (openfmb.length && !external) broker = await EmbeddedBroker.start({ host: o.host, port: o.mqttPort ?? 0 });
    if (openfmb.length) {
      const clientId = `derms-sim-${spec.name}`.replace(/[^\w.-]/g, '_');
      gateway = await OpenFmbGateway.start(openfmb.map((d) => ({ device: sim.device(d.id) })), { broker: external ?? broker!.target(), clientId, clock, log: o.out });
    }
  } catch (e) {
    await broker?.close();
    await servers.close();
    throw e;
  }
  const list = [...servers.endpoints(), ...(gateway?.endpoints() ?? [])];
  if (o.endpoints) {
    await writeFile(`${o.endpoints}.tmp`, JSON.stringify(list, null, 2) + '\n');
    await rename(`${o.endpoints}.tmp`, o.endpoints);
  }
  const others = spec.devices.length - sunspec.length - openfmb.length;
  o.out(`serving ${sunspec.length} SunSpec Modbus TCP device(s) on ${o.host}${o.endpoints ? `; endpoints in ${o.endpoints}` : ''}`);
  if (gateway) o.out(`serving ${openfmb.length} OpenFMB device(s) through ${broker ? `the embedded MQTT broker ${broker.url}` : `the MQTT broker ${gateway.endpoints()[0]!.broker}`}`);
  if (others > 0) o.out(`${others} device(s) on DNP3 / in-process are simulated but not served yet (their protocol servers are still to come)`);
  o.onReady?.(list);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  o.signal?.addEventListener('abort', onSignal);
  try {
    const speed = o.speed ?? (spec.clock.mode === 'accelerated' ? spec.clock.speed : 1);
    const untilMs = o.durationS === undefined ? Infinity : spec.clock.start + o.durationS * 1000;
    await pace(clock, { mode: speed === 1 ? 'realtime' : 'accelerated', speed, untilMs, signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    sub.unsubscribe();
    await servers.close();
    await gateway?.close();
    await broker?.close();
    o.out('stopped');
  }
}
