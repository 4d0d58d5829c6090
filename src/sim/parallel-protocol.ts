import type { SimulationSummary } from './engine.js';
import type { FaultKind } from './fleet-spec.js';
import type { Measurements } from './inverter.js';

/** Messages between ParallelSimulation and its workers. */
export type WorkerRequest =
  | { readonly type: 'run'; readonly untilMs: number }
  | { readonly type: 'summary' }
  | { readonly type: 'measure'; readonly ids: readonly string[] }
  | { readonly type: 'fault'; readonly ids: readonly string[]; readonly kind: FaultKind; readonly on: boolean; readonly durationS: number | null; readonly magnitude: number }
  | { readonly type: 'close' };

export type WorkerReply =
  | { readonly type: 'ready'; readonly devices: number }
  | { readonly type: 'ran'; readonly now: number }
  | { readonly type: 'summary'; readonly summary: SimulationSummary }
  | { readonly type: 'measurements'; readonly measurements: ReadonlyArray<{ readonly id: string; readonly m: Measurements }> }
  | { readonly type: 'ok' }
  | { readonly type: 'error'; readonly message: string };
