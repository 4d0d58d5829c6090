import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { DermsError } from '../core/errors.js';
import type { SimulationSummary, KindTotals } from './engine.js';
import type { FaultKind, FleetSpec } from './fleet-spec.js';
import type { Measurements } from './inverter.js';
import type { WorkerReply, WorkerRequest } from './parallel-protocol.js';

/** Split feeders over `n` bins, largest first into the lightest bin, balancing device counts. */
export function partitionFeeders(spec: FleetSpec, n: number): string[][] {
  const count = new Map(spec.feeders.map((f) => [f.id, 0]));
  for (const d of spec.devices) count.set(d.feeder, (count.get(d.feeder) ?? 0) + 1);
  const bins = Array.from({ length: Math.max(1, Math.min(n, spec.feeders.length)) }, () => ({ ids: [] as string[], load: 0 }));
  const order = [...spec.feeders].sort((a, b) => count.get(b.id)! - count.get(a.id)! || a.id.localeCompare(b.id));
  for (const f of order) {
    const bin = bins.reduce((best, b) => (b.load < best.load ? b : best));
    bin.ids.push(f.id);
    bin.load += count.get(f.id)!;
  }
  return bins.map((b) => b.ids);
}

class WorkerHandle {
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  constructor(private readonly worker: Worker) {
    worker.on('message', (r: WorkerReply) => {
      const p = this.pending;
      this.pending = null;
      if (!p) return;
      if (r.type === 'error') p.reject(new DermsError('UNAVAILABLE', `simulation worker: ${r.message}`));
      else p.resolve(r);
    });
    worker.on('error', (e) => this.fail(e));
    worker.on('exit', (code) => code !== 0 && this.fail(new Error(`simulation worker exited with code ${code}`)));
  }
  /** The first message a worker sends: ready, or why not. */
  ready(): Promise<WorkerReply> {
    return new Promise((resolve, reject) => (this.pending = { resolve, reject }));
  }
  request(m: WorkerRequest): Promise<WorkerReply> {
    const reply = new Promise<WorkerReply>((resolve, reject) => (this.pending = { resolve, reject }));
    this.worker.postMessage(m);
    return reply;
  }
  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close' } satisfies WorkerRequest);
    await this.worker.terminate();
  }
  private fail(e: Error): void {
    const p = this.pending;
    this.pending = null;
    p?.reject(e);
  }
}

/**
 * A fleet run over worker threads, each owning whole feeders. Workers step in lockstep chunks
 * (`runUntil` returns when all reached the time), so the result is the same as one thread's: every
 * device's numbers to the bit, fleet totals up to the order of summation.
 */
export class ParallelSimulation {
  private constructor(
    readonly spec: FleetSpec,
    private readonly workers: WorkerHandle[],
    private t: number,
  ) {}

  static async start(spec: FleetSpec, workers = availableParallelism()): Promise<ParallelSimulation> {
    const parts = partitionFeeders(spec, workers);
    const handles = parts.map((feeders) => new WorkerHandle(spawnWorker({ spec, feeders })));
    try {
      await Promise.all(handles.map((h) => h.ready()));
    } catch (e) {
      await Promise.allSettled(handles.map((h) => h.close()));
      throw e;
    }
    return new ParallelSimulation(spec, handles, spec.clock.start);
  }

  get now(): number {
    return this.t;
  }
  get workerCount(): number {
    return this.workers.length;
  }

  /** Advance every partition to `tMs`, `chunkMs` at a time (progress after each chunk). */
  async runUntil(tMs: number, onProgress?: (now: number) => void, chunkMs = 60_000): Promise<void> {
    while (this.t + this.spec.clock.stepMs <= tMs) {
      const until = Math.min(tMs, this.t + chunkMs);
      const replies = await Promise.all(this.workers.map((w) => w.request({ type: 'run', untilMs: until })));
      this.t = Math.max(...replies.map((r) => (r.type === 'ran' ? r.now : this.t)));
      onProgress?.(this.t);
    }
  }

  /** Current measurements of the named devices, wherever they run. */
  async measurements(ids: readonly string[]): Promise<Map<string, Measurements>> {
    const replies = await Promise.all(this.workers.map((w) => w.request({ type: 'measure', ids })));
    return new Map(replies.flatMap((r) => (r.type === 'measurements' ? r.measurements.map((x) => [x.id, x.m] as const) : [])));
  }

  async fault(ids: readonly string[], kind: FaultKind, on: boolean, durationS: number | null = null, magnitude = 0): Promise<void> {
    await Promise.all(this.workers.map((w) => w.request({ type: 'fault', ids, kind, on, durationS, magnitude })));
  }

  async summary(): Promise<SimulationSummary> {
    const parts = (await Promise.all(this.workers.map((w) => w.request({ type: 'summary' })))).flatMap((r) => (r.type === 'summary' ? [r.summary] : []));
    const add = (k: 'pv' | 'battery' | 'hybrid'): KindTotals => ({
      devices: parts.reduce((s, p) => s + p.byKind[k].devices, 0),
      producedWh: parts.reduce((s, p) => s + p.byKind[k].producedWh, 0),
      consumedWh: parts.reduce((s, p) => s + p.byKind[k].consumedWh, 0),
    });
    return {
      devices: parts.reduce((s, p) => s + p.devices, 0),
      feeders: parts.reduce((s, p) => s + p.feeders, 0),
      steps: parts[0]?.steps ?? 0,
      simulatedSeconds: parts[0]?.simulatedSeconds ?? 0,
      byKind: { pv: add('pv'), battery: add('battery'), hybrid: add('hybrid') },
      voltageMinPu: Math.min(...parts.map((p) => p.voltageMinPu)),
      voltageMaxPu: Math.max(...parts.map((p) => p.voltageMaxPu)),
    };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.close()));
  }
}

/** Start a worker on the built JavaScript, or, under the test runner, on the TypeScript through tsx. */
function spawnWorker(workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./worker.js', import.meta.url), { workerData });
  const src = new URL('./worker.ts', import.meta.url).href;
  const boot = `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(src)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
