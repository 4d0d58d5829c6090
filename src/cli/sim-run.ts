import cliProgress from 'cli-progress';
import { Simulation, type SimulationSummary } from '../sim/engine.js';
import { loadFleetFile } from '../sim/fleet-file.js';
import { ParallelSimulation } from '../sim/parallel.js';

export interface SimRunOptions {
  readonly fleet: string;
  readonly hours: number;
  readonly fast: boolean;
  readonly json: boolean;
  readonly out: (line: string) => void;
  /** Show a progress bar (on a terminal). */
  readonly progress: boolean;
  /** Worker threads (each runs whole feeders); 1 runs in this thread. */
  readonly workers: number;
}

/** One thread or several, behind the same three calls. */
interface Runner {
  readonly now: number;
  runUntil(tMs: number): Promise<void>;
  summary(): Promise<SimulationSummary>;
  close(): Promise<void>;
}

function singleThread(sim: Simulation): Runner {
  return {
    get now() {
      return sim.now;
    },
    runUntil: async (t) => sim.runUntil(t),
    summary: async () => sim.summary(),
    close: async () => {},
  };
}

export interface SimRunResult extends SimulationSummary {
  readonly fleet: string;
  readonly wallSeconds: number;
  readonly deviceStepsPerSecond: number;
  readonly workers: number;
}

/**
 * `derms sim run`: the simulation alone, no DERMS. Fast mode steps as fast as the CPU allows;
 * otherwise at the fleet file's pace (real time or accelerated).
 */
export async function simRun(o: SimRunOptions): Promise<SimRunResult> {
  const spec = await loadFleetFile(o.fleet);
  const sim: Runner = o.workers > 1 ? await ParallelSimulation.start(spec, o.workers) : singleThread(new Simulation(spec));
  const end = spec.clock.start + o.hours * 3_600_000;
  const totalS = o.hours * 3600;
  const bar = o.progress ? new cliProgress.SingleBar({ format: 'simulating {bar} {percentage}% | {value}/{total} s simulated | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic) : null;
  bar?.start(Math.round(totalS), 0);
  const started = performance.now();
  const mode = o.fast ? 'fast' : spec.clock.mode;
  const factor = mode === 'realtime' ? 1 : spec.clock.speed;
  try {
    while (sim.now + spec.clock.stepMs <= end) {
      if (mode === 'fast') {
        await sim.runUntil(Math.min(end, sim.now + 600_000));
        await new Promise<void>((r) => setImmediate(r)); // let signals and output through
      } else {
        // Keep simulated time at `factor` x the wall time since the start.
        const due = spec.clock.start + (performance.now() - started) * factor;
        await sim.runUntil(Math.min(end, due));
        await new Promise<void>((r) => setTimeout(r, 20));
      }
      bar?.update(Math.round((sim.now - spec.clock.start) / 1000));
    }
  } finally {
    bar?.stop();
  }
  const wallSeconds = (performance.now() - started) / 1000;
  const summary = await sim.summary();
  await sim.close();
  const result: SimRunResult = {
    fleet: o.fleet,
    ...summary,
    wallSeconds,
    workers: o.workers > 1 ? (sim as ParallelSimulation).workerCount : 1,
    deviceStepsPerSecond: (summary.devices * summary.steps) / Math.max(wallSeconds, 1e-9),
  };
  if (o.json) o.out(JSON.stringify(result));
  else o.out(formatSummary(result));
  return result;
}

function formatSummary(r: SimRunResult): string {
  const kwh = (wh: number): string => `${(wh / 1000).toFixed(1)} kWh`;
  const lines = [
    `fleet ${r.fleet}: ${r.devices} devices on ${r.feeders} feeder(s), ${r.workers} thread(s)`,
    `simulated ${r.simulatedSeconds} s in ${r.steps} steps, ${r.wallSeconds.toFixed(2)} s wall (${Math.round(r.deviceStepsPerSecond).toLocaleString('en-US')} device-steps/s)`,
    `  pv:      ${r.byKind.pv.devices} devices, produced ${kwh(r.byKind.pv.producedWh)}`,
    `  battery: ${r.byKind.battery.devices} devices, discharged ${kwh(r.byKind.battery.producedWh)}, charged ${kwh(r.byKind.battery.consumedWh)}`,
    `  hybrid:  ${r.byKind.hybrid.devices} devices, delivered ${kwh(r.byKind.hybrid.producedWh)}, charged ${kwh(r.byKind.hybrid.consumedWh)}`,
    `voltage ${r.voltageMinPu.toFixed(4)} .. ${r.voltageMaxPu.toFixed(4)} pu`,
  ];
  return lines.join('\n');
}
