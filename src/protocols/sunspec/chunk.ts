/** Splitting register reads and writes into Modbus-sized requests. */
import { SunSpecError } from './errors.js';

/** Most registers in one read (FC 0x03). */
export const MAX_READ = 125;
/** Most registers in one write (FC 0x10). */
export const MAX_WRITE = 123;

export interface RegisterRange {
  readonly address: number;
  readonly count: number;
}

/**
 * Reads covering `ranges`: overlapping or touching ranges merge (a model chain becomes one run),
 * gaps are never read (they may be unmapped), and every read holds at most `max` registers.
 */
export function chunkReads(ranges: readonly RegisterRange[], max = MAX_READ): RegisterRange[] {
  if (!(Number.isInteger(max) && max >= 1)) throw new RangeError(`max must be a positive integer, not ${max}`);
  const sorted = ranges.filter((r) => r.count > 0).sort((a, b) => a.address - b.address);
  const runs: { address: number; end: number }[] = [];
  for (const r of sorted) {
    const last = runs[runs.length - 1];
    if (last && r.address <= last.end) last.end = Math.max(last.end, r.address + r.count);
    else runs.push({ address: r.address, end: r.address + r.count });
  }
  const out: RegisterRange[] = [];
  for (const run of runs) {
    for (let a = run.address; a < run.end; a += max) out.push({ address: a, count: Math.min(max, run.end - a) });
  }
  return out;
}

export interface RegisterWrite {
  readonly address: number;
  readonly values: Uint16Array;
}

/**
 * Split one contiguous write into requests of at most `max` registers. `canSplitAt(address)` says
 * where a request may end (the start of a point outside a sync group, say); by default anywhere.
 * A run of more than `max` registers with no allowed split is a RangeError.
 */
export function chunkWrites(address: number, values: Uint16Array, max = MAX_WRITE, canSplitAt: (address: number) => boolean = () => true): RegisterWrite[] {
  const out: RegisterWrite[] = [];
  let start = 0;
  while (values.length - start > max) {
    let cut = start + max;
    while (cut > start && !canSplitAt(address + cut)) cut--;
    if (cut === start) throw new SunSpecError('RANGE', `no allowed split within ${max} registers after address ${address + start}`);
    out.push({ address: address + start, values: values.subarray(start, cut) });
    start = cut;
  }
  if (values.length > start) out.push({ address: address + start, values: values.subarray(start) });
  return out;
}
