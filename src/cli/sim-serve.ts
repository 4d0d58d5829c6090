import { rename, writeFile } from 'node:fs/promises';
import { VirtualClock } from '../core/virtual-clock.js';
import { Simulation } from '../sim/engine.js';
import { loadFleetFile } from '../sim/fleet-file.js';
import { pace } from '../sim/pacer.js';
import { serveFleet, type FleetEndpoint, type ServedFleet } from '../sim/serve-fleet.js';

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
  onReady?(endpoints: readonly FleetEndpoint[]): void;
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
  let served: ServedFleet;
  try {
    served = await serveFleet(sim, spec, clock, { host: o.host, basePort: o.basePort, mqtt: o.mqtt, mqttPort: o.mqttPort, log: o.out });
  } catch (e) {
    sub.unsubscribe();
    throw e;
  }
  const list = served.endpoints;
  if (o.endpoints) {
    await writeFile(`${o.endpoints}.tmp`, JSON.stringify(list, null, 2) + '\n');
    await rename(`${o.endpoints}.tmp`, o.endpoints);
  }
  for (const line of served.summary.values()) o.out(`serving: ${line}`);
  if (o.endpoints) o.out(`endpoints in ${o.endpoints}`);
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
    await served.close();
    o.out('stopped');
  }
}
