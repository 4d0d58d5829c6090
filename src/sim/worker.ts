/**
 * A worker thread running one partition of a fleet (whole feeders, so partitions never exchange
 * power flows). Driven by ParallelSimulation over the message port.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Simulation } from './engine.js';
import type { FleetSpec } from './fleet-spec.js';
import type { WorkerReply, WorkerRequest } from './parallel-protocol.js';

const { spec, feeders } = workerData as { spec: FleetSpec; feeders: string[] };
const port = parentPort!;
let sim: Simulation;
try {
  sim = new Simulation(spec, { only: feeders });
  port.postMessage({ type: 'ready', devices: sim.devices.length } satisfies WorkerReply);
} catch (e) {
  port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
  process.exit(1);
}

port.on('message', (m: WorkerRequest) => {
  try {
    switch (m.type) {
      case 'run':
        sim.runUntil(m.untilMs);
        return port.postMessage({ type: 'ran', now: sim.now } satisfies WorkerReply);
      case 'summary':
        return port.postMessage({ type: 'summary', summary: sim.summary() } satisfies WorkerReply);
      case 'measure': {
        const ids = m.ids.filter((id) => sim.has(id));
        return port.postMessage({ type: 'measurements', measurements: ids.map((id) => ({ id, m: sim.device(id).measurements() })) } satisfies WorkerReply);
      }
      case 'fault':
        if (m.on) sim.injectFault(m.ids.filter((id) => sim.has(id)), m.kind, m.durationS, m.magnitude);
        else sim.clearFault(m.ids.filter((id) => sim.has(id)), m.kind);
        return port.postMessage({ type: 'ok' } satisfies WorkerReply);
      case 'close':
        return port.close();
    }
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
  }
});
