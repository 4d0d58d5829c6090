import type { VirtualClock } from '../core/virtual-clock.js';

export type PaceMode = 'realtime' | 'accelerated' | 'fast';

export interface PaceOptions {
  readonly mode: PaceMode;
  /** Virtual seconds per real second in accelerated mode. */
  readonly speed: number;
  /** Stop at this virtual time (Infinity: until `signal` aborts). */
  readonly untilMs: number;
  readonly signal?: AbortSignal | undefined;
  /** Called after each chunk of virtual time, for progress display. */
  readonly onProgress?: ((nowMs: number) => void) | undefined;
}

const TICK_MS = 50;
/** Virtual time handed to the clock at once in fast mode before yielding to I/O. */
const FAST_CHUNK_MS = 60_000;

/**
 * Drive a virtual clock from the wall clock: 1:1 (realtime), `speed`:1 (accelerated) or as fast
 * as the CPU allows (fast, in chunks so sockets and signals are still served). Everything that
 * runs on the clock (simulator, core) sees the same, deterministic sequence of times whatever
 * the pace.
 */
export async function pace(clock: VirtualClock, o: PaceOptions): Promise<void> {
  const factor = o.mode === 'realtime' ? 1 : o.speed;
  const aborted = (): boolean => o.signal?.aborted === true;
  if (o.mode === 'fast') {
    while (clock.now() < o.untilMs && !aborted()) {
      await clock.advanceTo(Math.min(o.untilMs, clock.now() + FAST_CHUNK_MS));
      o.onProgress?.(clock.now());
      await new Promise<void>((r) => setImmediate(r));
    }
    return;
  }
  let wall = performance.now();
  while (clock.now() < o.untilMs && !aborted()) {
    await new Promise<void>((r) => setTimeout(r, TICK_MS));
    const now = performance.now();
    const target = Math.min(o.untilMs, clock.now() + (now - wall) * factor);
    wall = now;
    await clock.advanceTo(target);
    o.onProgress?.(clock.now());
  }
}
