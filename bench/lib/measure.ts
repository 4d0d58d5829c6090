import { readFileSync } from 'node:fs';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Machine } from './types.js';

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() || 'unknown',
    cores: cpus.length,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    memoryGB: round(os.totalmem() / 2 ** 30, 1),
  };
}

/** Wall-clock milliseconds, monotonic. Fine in a benchmark; never in the core or its tests. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function median(xs: readonly number[]): number {
  return percentile(xs, 50);
}

/** Percentile with linear interpolation between closest ranks. */
/** The largest of `xs` (NaN when empty); unlike Math.max(...xs), fine for arrays of any length. */
export function maxOf(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  let m = -Infinity;
  for (const x of xs) if (x > m) m = x;
  return m;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const pos = ((s.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

let gcFn: (() => void) | null | undefined;

/** Run a full garbage collection when the runtime lets us; returns whether it ran. */
export function collectGarbage(): boolean {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      const g: unknown = vm.runInNewContext('gc');
      gcFn = typeof g === 'function' ? (g as () => void) : null;
    } catch {
      gcFn = null;
    }
  }
  if (!gcFn) return false;
  gcFn();
  return true;
}

/** Heap in use, in MB, after a full GC when one can be forced. */
export function heapUsedMB(): number {
  collectGarbage();
  return round(process.memoryUsage().heapUsed / 2 ** 20, 1);
}

/** Deterministic PRNG (mulberry32), so every run measures the same fleet. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Uniform in [lo, hi). */
  between(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

/** The soft limit on open files (each simulated device costs sockets on both sides). */
export function fileDescriptorLimit(): number {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: assume a generous limit
  }
  return 65_536;
}

export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A count for log lines and notes: 12,345. */
export function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

/** A ratio as a percentage for log lines: `100 %` when whole, else with `digits` decimals. */
export function pct(x: number, digits = 2): string {
  return `${(100 * x).toFixed(x === 1 ? 0 : digits)} %`;
}
