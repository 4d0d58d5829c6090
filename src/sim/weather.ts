import { clearSky, solarPosition, type Site } from '../core/solar.js';
import type { WeatherSpec } from './fleet-spec.js';
import { gaussian, seededRandom } from './random.js';

/** What a device needs of the sky for one step (a SiteWeather, or a fixed sky in tests). */
export interface SkyState {
  readonly cosZ: number;
  readonly sinZ: number;
  readonly cosAz: number;
  readonly sinAz: number;
  readonly dni: number;
  readonly dhi: number;
  readonly ghi: number;
  readonly ambientC: number;
  readonly clearness: number;
  /** Standard deviation of each array's own cloud detail around the regional clearness. */
  readonly localVariability: number;
}

/**
 * Sun, sky and air at one site for the current step, shared by every device there: clear-sky
 * irradiance components, the sun's direction (so each array only needs a dot product), ambient
 * temperature on a daily cycle, and a regional clearness index following an AR(1) process.
 */
export class SiteWeather implements SkyState {
  cosZ = 0;
  sinZ = 0;
  cosAz = 0;
  sinAz = 0;
  dni = 0;
  dhi = 0;
  ghi = 0;
  ambientC = 20;
  /** Regional clearness index (cloud cover), 0..1. */
  clearness: number;
  readonly localVariability: number;
  private readonly normal: () => number;
  private t = Number.NaN;

  constructor(
    private readonly site: Site,
    private readonly w: WeatherSpec,
    seed: number,
  ) {
    this.normal = gaussian(seededRandom(seed));
    this.clearness = w.meanClearness;
    // Arrays a few hundred metres apart see the same weather with some detail of their own.
    this.localVariability = 0.3 * w.variability;
  }

  update(tMs: number, dtS: number): void {
    if (tMs === this.t) return;
    this.t = tMs;
    const pos = solarPosition(tMs, this.site);
    const sky = clearSky(pos, this.site.altitudeM);
    const z = Math.acos(Math.max(-1, Math.min(1, pos.cosZenith)));
    const az = (pos.azimuthDeg * Math.PI) / 180;
    this.cosZ = pos.cosZenith;
    this.sinZ = Math.sin(z);
    this.cosAz = Math.cos(az);
    this.sinAz = Math.sin(az);
    this.dni = sky.dni;
    this.dhi = sky.dhi;
    this.ghi = sky.ghi;
    const solarHour = (((tMs / 3_600_000 + this.site.longitudeDeg / 15) % 24) + 24) % 24;
    const mid = (this.w.ambientMinC + this.w.ambientMaxC) / 2;
    const amp = (this.w.ambientMaxC - this.w.ambientMinC) / 2;
    this.ambientC = mid - amp * Math.cos((2 * Math.PI * (solarHour - 15)) / 24);
    this.clearness = ar1(this.clearness, this.w.meanClearness, this.w.variability, dtS, this.w.cloudTimescaleS, this.normal());
  }
}

/** One step of a mean-reverting AR(1) process kept within 0.05..1. */
export function ar1(x: number, mean: number, sd: number, dtS: number, timescaleS: number, z: number): number {
  if (sd <= 0) return mean;
  const phi = Math.exp(-dtS / Math.max(dtS, timescaleS));
  const next = mean + phi * (x - mean) + sd * Math.sqrt(1 - phi * phi) * z;
  return next < 0.05 ? 0.05 : next > 1 ? 1 : next;
}
