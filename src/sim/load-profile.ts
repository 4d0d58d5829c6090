import { DermsError } from '../core/errors.js';
import type { FeederSectionSpec } from './fleet-spec.js';
import { gaussian, seededRandom, subSeed } from './random.js';

/**
 * Daily load shapes for feeder sections: deterministic functions of the local solar time of day,
 * as fractions of the section's peak load (0..1), plus an optional seeded multiplicative noise.
 *
 * Shapes are built from periodic, infinitely smooth pieces (von Mises bumps on the 24 h circle and
 * logistic ramps of the circular distance to midday), so there is no jump anywhere, midnight
 * included, and each shape is normalized so that its daily maximum is exactly 1.
 *
 * - `residential`: night trough ~0.30 of peak (03-05 h), morning bump ~0.55 (07-08 h), a mild
 *   midday shoulder ~0.4, evening peak 1.0 around 19 h.
 * - `commercial`: ~0.30 at night, ramps up 07-09 h to a plateau ~1.0 from 09 to 17 h, down 17-19 h
 *   (half-way points at 08 h and 18 h). No weekday/weekend distinction.
 * - `flat`: exactly 1.0 at all times, and never noisy: a constant reference load.
 *
 * Time of day is the UTC hour shifted by `longitudeDeg / 15` hours (local mean solar time);
 * feeders know no longitude, so the default is 0 (UTC).
 */
export type LoadProfileKind = FeederSectionSpec['loadProfile'];

export const LOAD_PROFILE_KINDS: readonly LoadProfileKind[] = ['residential', 'commercial', 'flat'];

const MS_PER_HOUR = 3_600_000;
const TWO_PI_OVER_24 = (2 * Math.PI) / 24;

/** Local mean solar hour of day, 0 <= h < 24, for epoch ms `tMs` at `longitudeDeg` (east positive). */
export function solarHourOfDay(tMs: number, longitudeDeg = 0): number {
  const h = (tMs / MS_PER_HOUR + longitudeDeg / 15) % 24;
  return h < 0 ? h + 24 : h;
}

/** A smooth periodic bump on the 24 h circle centred on `muH`, roughly Gaussian with sd `sdH` hours. */
function bump(h: number, muH: number, sdH: number): number {
  const w = TWO_PI_OVER_24 * sdH;
  return Math.exp((Math.cos(TWO_PI_OVER_24 * (h - muH)) - 1) / (w * w));
}

function residentialRaw(h: number): number {
  return 0.26 + 0.22 * bump(h, 7.5, 1.1) + 0.12 * bump(h, 13, 3.5) + 0.62 * bump(h, 19, 2.0);
}

function commercialRaw(h: number): number {
  // Circular distance from 13 h: continuous across midnight (it is 12 on both sides of 01 h).
  let d = (h - 13) % 24;
  if (d < 0) d += 24;
  if (d >= 12) d -= 24;
  // Half-way at |d| = 5 h, i.e. 08 h and 18 h; ramp width ~2 h.
  return 0.3 + 0.7 / (1 + Math.exp(-(5 - Math.abs(d)) / 0.5));
}

/** Daily maximum of a raw shape, on a one-second grid (the maxima are flat, so this is exact to ~1e-9). */
function dailyMax(f: (h: number) => number): number {
  let max = 0;
  for (let s = 0; s < 86_400; s++) {
    const v = f(s / 3600);
    if (v > max) max = v;
  }
  return max;
}

const RESIDENTIAL_SCALE = 1 / dailyMax(residentialRaw);
const COMMERCIAL_SCALE = 1 / dailyMax(commercialRaw);

/** Noise-free shape at local solar hour `h` (0..24), fraction of peak in 0..1. */
export function loadShapeAtHour(kind: LoadProfileKind, h: number): number {
  let v: number;
  switch (kind) {
    case 'residential':
      v = residentialRaw(h) * RESIDENTIAL_SCALE;
      break;
    case 'commercial':
      v = commercialRaw(h) * COMMERCIAL_SCALE;
      break;
    case 'flat':
      return 1;
  }
  return v > 1 ? 1 : v;
}

/** Noise-free shape at epoch ms `tMs`, fraction of peak in 0..1. */
export function loadShape(kind: LoadProfileKind, tMs: number, longitudeDeg = 0): number {
  return loadShapeAtHour(kind, solarHourOfDay(tMs, longitudeDeg));
}

export interface LoadNoiseOptions {
  /** Standard deviation of the multiplicative noise (0.03 = 3 %); 0 disables it. */
  readonly sd?: number;
  /** Correlation time of the AR(1) process, seconds. */
  readonly timescaleS?: number;
}

export const DEFAULT_LOAD_NOISE_SD = 0.03;
export const DEFAULT_LOAD_NOISE_TIMESCALE_S = 900;
/** Innovations are clipped at this many sd so the noise has a hard bound on its per-second step. */
const Z_CLIP = 4;

/**
 * A bank of independent, slowly varying multiplicative noises, one per item (feeder section):
 * factor = 1 + e, with e a mean-reverting AR(1) (exact discretization of an Ornstein-Uhlenbeck
 * process) of standard deviation `sd` and correlation time `timescaleS`. Each item has its own
 * PRNG seeded from its seed, so the bank is deterministic given the seeds and the sequence of
 * times passed to `advance`. The first `advance` draws e from the stationary distribution; later
 * calls step by the elapsed time (a call at the same or an earlier time leaves the state as is).
 * State lives in a typed array; `advance` does not allocate.
 */
export class LoadNoise {
  readonly sd: number;
  readonly timescaleS: number;
  private readonly e: Float64Array;
  private readonly normals: (() => number)[];
  private lastT = Number.NaN;

  constructor(seeds: ArrayLike<number>, options: LoadNoiseOptions = {}) {
    this.sd = options.sd ?? DEFAULT_LOAD_NOISE_SD;
    this.timescaleS = options.timescaleS ?? DEFAULT_LOAD_NOISE_TIMESCALE_S;
    if (!(Number.isFinite(this.sd) && this.sd >= 0 && this.sd <= 0.5)) {
      throw new DermsError('INVALID_INPUT', `load noise sd must be within 0..0.5, got ${this.sd}`);
    }
    if (!(Number.isFinite(this.timescaleS) && this.timescaleS > 0)) {
      throw new DermsError('INVALID_INPUT', `load noise timescale must be a positive number of seconds, got ${this.timescaleS}`);
    }
    this.e = new Float64Array(seeds.length);
    this.normals = [];
    for (let i = 0; i < seeds.length; i++) this.normals.push(gaussian(seededRandom(seeds[i]!)));
  }

  get count(): number {
    return this.e.length;
  }

  /** Move every noise to time `tMs` (epoch ms). */
  advance(tMs: number): void {
    const sd = this.sd;
    if (sd === 0) return;
    const e = this.e;
    const n = e.length;
    const normals = this.normals;
    if (Number.isNaN(this.lastT)) {
      for (let i = 0; i < n; i++) e[i] = sd * clip(normals[i]!());
    } else {
      const dtS = (tMs - this.lastT) / 1000;
      if (dtS > 0) {
        const phi = Math.exp(-dtS / this.timescaleS);
        const k = sd * Math.sqrt(1 - phi * phi);
        for (let i = 0; i < n; i++) e[i] = phi * e[i]! + k * clip(normals[i]!());
      }
    }
    this.lastT = tMs;
  }

  /** Multiplicative factor of item `i` now (1 when noise is off or before the first advance). */
  factor(i: number): number {
    return 1 + (this.e[i] ?? 0);
  }
}

function clip(z: number): number {
  return z > Z_CLIP ? Z_CLIP : z < -Z_CLIP ? -Z_CLIP : z;
}

/** Shape times noise factor, kept within 0..1. */
export function noisyShape(shape: number, factor: number): number {
  const v = shape * factor;
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

export interface LoadProfileOptions {
  /** Noise options, as for the feeder (defaults: 3 % sd, 900 s; `sd: 0` turns it off). */
  readonly noise?: LoadNoiseOptions;
  /** Seed of the run (the feeder's seed); 0 by default. */
  readonly seed?: number;
  /** Section index within its feeder: selects the noise stream, as the feeder does. */
  readonly section?: number;
  readonly longitudeDeg?: number;
}

/**
 * One section's load profile as a stateful sequence: `at(t)` for increasing times gives the shape
 * times the section's noise, 0..1. With the same seed and section it reproduces, to the bit, the
 * fraction a `Feeder` built with that seed uses for that section (given the same noise options
 * and longitude). `flat` is always exactly 1.
 */
export class LoadProfile {
  private readonly noise: LoadNoise;
  private readonly longitudeDeg: number;

  constructor(
    readonly kind: LoadProfileKind,
    options: LoadProfileOptions = {},
  ) {
    this.longitudeDeg = options.longitudeDeg ?? 0;
    this.noise = new LoadNoise([subSeed(options.seed ?? 0, options.section ?? 0)], options.noise);
  }

  /** Fraction of peak at epoch ms `tMs` (advances the noise to `tMs`). */
  at(tMs: number): number {
    if (this.kind === 'flat') return 1;
    this.noise.advance(tMs);
    return noisyShape(loadShape(this.kind, tMs, this.longitudeDeg), this.noise.factor(0));
  }
}
