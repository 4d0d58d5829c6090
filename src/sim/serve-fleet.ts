import type { Simulation } from './engine.js';
import type { FleetSpec } from './fleet-spec.js';
import { SunSpecServers } from './sunspec/server.js';

/** One served device: where the DERMS reaches it. */
export interface ServedEndpoint {
  readonly mRID: string;
  /** The fleet file's protocol, or `in-process` for devices whose protocol server does not exist yet. */
  readonly protocol: 'sunspec' | 'dnp3' | 'openfmb' | 'in-process';
  readonly url: string;
}

export interface ServedFleet {
  readonly endpoints: readonly ServedEndpoint[];
  /** One line per protocol, for the operator. */
  readonly summary: ReadonlyMap<string, string>;
  close(): Promise<void>;
}

/**
 * Serve every simulated device on its protocol on real sockets (SunSpec Modbus TCP: a port per
 * device or gateway ports by unit id). Devices whose protocol has no server yet are reached in
 * process, and the summary says so.
 */
export async function serveFleet(sim: Simulation, fleet: FleetSpec, o: { host: string; basePort?: number }): Promise<ServedFleet> {
  const endpoints: ServedEndpoint[] = [];
  const summary = new Map<string, string>();
  const sunspec = fleet.devices.filter((d) => d.protocol === 'sunspec');
  const servers = await SunSpecServers.start(
    sunspec.map((d) => ({ device: sim.device(d.id), profile: d.endpoint.sunspecProfile ?? '700', mode: d.endpoint.sunspecMode ?? 'port' })),
    { host: o.host, basePort: o.basePort ?? 0 },
  );
  for (const e of servers.endpoints()) endpoints.push({ mRID: e.mRID, protocol: 'sunspec', url: e.url });
  if (sunspec.length) {
    const ports = new Set(servers.endpoints().map((e) => e.port)).size;
    summary.set('sunspec', `${sunspec.length} SunSpec Modbus TCP device(s) on ${ports} port(s) of ${o.host}`);
  }
  const rest = fleet.devices.filter((d) => d.protocol !== 'sunspec');
  for (const d of rest) endpoints.push({ mRID: d.id, protocol: 'in-process', url: `in-process:${d.id}` });
  if (rest.length) {
    const byProtocol = new Map<string, number>();
    for (const d of rest) byProtocol.set(d.protocol, (byProtocol.get(d.protocol) ?? 0) + 1);
    summary.set('in-process', `${rest.length} device(s) reached in process (${[...byProtocol].map(([p, n]) => `${n} ${p}`).join(', ')}: their protocol servers are not built yet)`);
  }
  return { endpoints, summary, close: () => servers.close() };
}
