import { rename, writeFile } from 'node:fs/promises';
import { VirtualClock } from '../core/virtual-clock.js';
import { Simulation } from '../sim/engine.js';
import { loadFleetFile } from '../sim/fleet-file.js';
import { pace } from '../sim/pacer.js';
import { SunSpecServers, type SunSpecEndpoint } from '../sim/sunspec/server.js';

export interface SimServeOptions {
  readonly fleet: string;
  readonly endpoints?: string | undefined;
  readonly host: string;
  readonly basePort: number;
  readonly speed?: number | undefined;
  /** Stop after this many simulated seconds (tests); until a signal otherwise. */
  readonly durationS?: number | undefined;
  readonly out: (line: string) => void;
  /** Resolves once the servers listen, with the endpoint list. */
  readonly onReady?: (endpoints: readonly SunSpecEndpoint[]) => void;
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
  const list = servers.endpoints();
  if (o.endpoints) {
    await writeFile(`${o.endpoints}.tmp`, JSON.stringify(list, null, 2) + '\n');
    await rename(`${o.endpoints}.tmp`, o.endpoints);
  }
  const others = spec.devices.length - sunspec.length;
  o.out(`serving ${list.length} SunSpec Modbus TCP device(s) on ${o.host}${o.endpoints ? `; endpoints in ${o.endpoints}` : ''}`);
  if (others > 0) o.out(`${others} device(s) on DNP3 / OpenFMB / in-process are simulated but not served yet (their protocol servers are still to come)`);
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
    o.out('stopped');
  }
}
