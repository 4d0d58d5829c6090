import { z } from 'zod';

/**
 * The result of one benchmark suite, as stored in `bench/results/<suite>.json` and rendered into
 * one section of `docs/benchmarks.md`. Every suite (core, sunspec, dnp3, ...) produces one of these;
 * the renderer knows nothing suite-specific.
 */

export const machineSchema = z.object({
  /** CPU model of the first logical core, from os.cpus(). */
  cpu: z.string(),
  /** Logical cores, from os.cpus(). */
  cores: z.number().int(),
  node: z.string(),
  /** OS type, release and architecture. */
  os: z.string(),
  memoryGB: z.number(),
});
export type Machine = z.infer<typeof machineSchema>;

export const targetSchema = z.object({
  op: z.enum(['>=', '>', '<=', '<']),
  value: z.number(),
  /** Where the target comes from, e.g. an issue or the design page. */
  source: z.string().optional(),
});
export type Target = z.infer<typeof targetSchema>;

/** One row of the figures table: how to show `metrics[key]`, and its target if it has one. */
export const figureSchema = z.object({
  key: z.string(),
  label: z.string(),
  unit: z.string(),
  /** Fraction digits when shown. */
  digits: z.number().int().min(0).max(6),
  target: targetSchema.optional(),
});
export type Figure = z.infer<typeof figureSchema>;

export const workloadSchema = z.object({ name: z.string(), description: z.string() });
export type Workload = z.infer<typeof workloadSchema>;

export const suiteResultSchema = z.object({
  schema: z.literal(1),
  suite: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string(),
  /** ISO 8601 time the suite finished. */
  date: z.string(),
  machine: machineSchema,
  /** Workload parameters the figures were measured with. */
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  workloads: z.array(workloadSchema),
  /**
   * Where the workloads ran, when not all on Node's main thread (the page's default sentence),
   * e.g. devices in a worker thread and the DERMS side on the main thread.
   */
  threading: z.string().optional(),
  figures: z.array(figureSchema),
  /** Every measured number, flat; what `--json` prints. Arrays hold per-run values. */
  metrics: z.record(z.string(), z.union([z.number(), z.array(z.number())])),
});
export type SuiteResult = z.infer<typeof suiteResultSchema>;

export interface SuiteOptions {
  /** Smaller workloads for a smoke test; results are then not written. */
  readonly quick: boolean;
  /** Measured runs, overriding the suite default. */
  readonly runs: number | undefined;
  /** Samples (or operations) per measured run, overriding the suite default. */
  readonly samples: number | undefined;
  /** Progress output; goes to stderr so stdout stays machine-readable. */
  readonly log: (message: string) => void;
}

export interface Suite {
  readonly name: string;
  readonly title: string;
  run(options: SuiteOptions): Promise<SuiteResult>;
}

export function targetMet(value: number, t: Target): boolean {
  switch (t.op) {
    case '>=':
      return value >= t.value;
    case '>':
      return value > t.value;
    case '<=':
      return value <= t.value;
    case '<':
      return value < t.value;
  }
}

/** A fatal benchmark problem (a sanity check failed): the figures would be meaningless. */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure';
}
