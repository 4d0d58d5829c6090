import { describe, expect, it } from 'vitest';
import {
  angleOfIncidenceCos,
  cellTemperatureC,
  clearSky,
  clearSkyFactor,
  planeOfArray,
  solarPosition,
  type Site,
  type SolarPosition,
} from '../../src/core/solar.js';

const MIN = 60_000;
const HOUR = 60 * MIN;

const equator: Site = { latitudeDeg: 0, longitudeDeg: 0 };
const lat40: Site = { latitudeDeg: 40, longitudeDeg: 0 };
const sanFrancisco: Site = { latitudeDeg: 37.77, longitudeDeg: -122.42 };
const sydney: Site = { latitudeDeg: -33.87, longitudeDeg: 151.21 };

/** The highest point of the sun on the UTC day starting at `day0`, by 1-minute scan. */
function noon(day0: number, site: Site): { t: number; pos: SolarPosition } {
  let best = { t: day0, pos: solarPosition(day0, site) };
  for (let t = day0; t < day0 + 24 * HOUR; t += MIN) {
    const pos = solarPosition(t, site);
    if (pos.elevationDeg > best.pos.elevationDeg) best = { t, pos };
  }
  return best;
}

/** Time at which the sun crosses the meridian (azimuth 180 in the north), by bisection. */
function meridianTransit(lo: number, hi: number, site: Site): number {
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (solarPosition(mid, site).azimuthDeg < 180) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Daily irradiation on a plane, Wh/m2, by 5-minute steps. */
function dailyPoaWh(day0: number, site: Site, tilt: number, azimuth: number): number {
  let wh = 0;
  for (let t = day0; t < day0 + 24 * HOUR; t += 5 * MIN) {
    const pos = solarPosition(t, site);
    wh += (planeOfArray(clearSky(pos, site.altitudeM), pos, tilt, azimuth) * 5) / 60;
  }
  return wh;
}

describe('solarPosition', () => {
  it('matches the NREL SPA reference example (Reda & Andreas 2004) within 0.1 deg', () => {
    // 2003-10-17 12:30:30 at UTC-7, Golden CO: topocentric zenith 50.11162, azimuth 194.34024.
    // Refraction at 40 deg elevation is ~0.02 deg, so the geometric angles agree to ~0.1.
    const pos = solarPosition(Date.UTC(2003, 9, 17, 19, 30, 30), { latitudeDeg: 39.742476, longitudeDeg: -105.1786, altitudeM: 1830 });
    expect(pos.elevationDeg).toBeCloseTo(90 - 50.11162, 1);
    expect(Math.abs(pos.elevationDeg - (90 - 50.11162))).toBeLessThan(0.1);
    expect(Math.abs(pos.azimuthDeg - 194.34024)).toBeLessThan(0.1);
  });

  it('has the declination near +23.44 deg at the June solstice and -23.44 at the December one', () => {
    // At the equator the noon elevation is 90 - |declination|, the sun north in June, south in December.
    const june = noon(Date.UTC(2024, 5, 20), equator);
    expect(90 - june.pos.elevationDeg).toBeCloseTo(23.44, 1);
    expect(Math.min(june.pos.azimuthDeg, 360 - june.pos.azimuthDeg)).toBeLessThan(1);
    const december = noon(Date.UTC(2024, 11, 21), equator);
    expect(90 - december.pos.elevationDeg).toBeCloseTo(23.44, 1);
    expect(december.pos.azimuthDeg).toBeCloseTo(180, 0);
  });

  it('puts the equinox noon sun at 90 - latitude, due south, in the northern hemisphere', () => {
    const n = noon(Date.UTC(2024, 2, 20), lat40);
    expect(Math.abs(n.pos.elevationDeg - 50)).toBeLessThan(0.5);
    expect(Math.abs(n.pos.azimuthDeg - 180)).toBeLessThan(1);
    // Solar noon at longitude 0 is within the equation of time (about 7.5 min in March) of 12:00 UTC.
    expect(Math.abs(n.t - Date.UTC(2024, 2, 20, 12))).toBeLessThan(10 * MIN);
  });

  it('follows the published equation of time: Greenwich solar noon ~11:43:35 on 3 Nov, ~12:14:13 on 11 Feb', () => {
    const nov = meridianTransit(Date.UTC(2024, 10, 3, 11), Date.UTC(2024, 10, 3, 13), { latitudeDeg: 51.48, longitudeDeg: 0 });
    expect(Math.abs(nov - Date.UTC(2024, 10, 3, 11, 43, 35))).toBeLessThan(30_000);
    const feb = meridianTransit(Date.UTC(2024, 1, 11, 11), Date.UTC(2024, 1, 11, 13), { latitudeDeg: 51.48, longitudeDeg: 0 });
    expect(Math.abs(feb - Date.UTC(2024, 1, 11, 12, 14, 13))).toBeLessThan(30_000);
  });

  it('uses longitude: solar noon in San Francisco is 8 h 10 min after Greenwich, less the equation of time', () => {
    const transit = meridianTransit(Date.UTC(2024, 10, 3, 19), Date.UTC(2024, 10, 3, 21), sanFrancisco);
    // 12:00 + 122.42 deg x 4 min = 20:09:41 UTC, minus ~16.4 min equation of time.
    expect(Math.abs(transit - Date.UTC(2024, 10, 3, 19, 53, 15))).toBeLessThan(60_000);
  });

  it('has the sun below the horizon at local midnight, east of Greenwich and west of it', () => {
    expect(solarPosition(Date.UTC(2024, 5, 21, 0), lat40).elevationDeg).toBeLessThan(0);
    // Local midnight in San Francisco (UTC-8:10 solar) and Sydney (UTC+10:05 solar).
    expect(solarPosition(Date.UTC(2024, 5, 21, 8, 10), sanFrancisco).elevationDeg).toBeLessThan(-20);
    expect(solarPosition(Date.UTC(2024, 11, 21, 13, 55), sydney).elevationDeg).toBeLessThan(-20);
    expect(solarPosition(Date.UTC(2024, 5, 21, 8, 10), sanFrancisco).cosZenith).toBeLessThan(0);
  });

  it('works in the southern hemisphere: noon sun due north, high in December, low in June', () => {
    const dec = noon(Date.UTC(2024, 11, 21), sydney);
    expect(Math.abs(dec.pos.elevationDeg - (90 - 33.87 + 23.44))).toBeLessThan(0.5);
    expect(Math.min(dec.pos.azimuthDeg, 360 - dec.pos.azimuthDeg)).toBeLessThan(2);
    const jun = noon(Date.UTC(2024, 5, 21), sydney);
    expect(Math.abs(jun.pos.elevationDeg - (90 - 33.87 - 23.44))).toBeLessThan(0.5);
    // Solar noon in Sydney is near 02:00 UTC.
    expect(Math.abs(jun.t - Date.UTC(2024, 5, 21, 1, 55))).toBeLessThan(15 * MIN);
  });

  it('rises in the east and sets in the west', () => {
    const day0 = Date.UTC(2024, 2, 20);
    let rise: SolarPosition | undefined;
    let set: SolarPosition | undefined;
    let prev = solarPosition(day0, lat40);
    for (let t = day0 + MIN; t < day0 + 24 * HOUR; t += MIN) {
      const pos = solarPosition(t, lat40);
      if (prev.elevationDeg < 0 && pos.elevationDeg >= 0) rise = pos;
      if (prev.elevationDeg >= 0 && pos.elevationDeg < 0) set = pos;
      prev = pos;
    }
    expect(Math.abs(rise!.azimuthDeg - 90)).toBeLessThan(2);
    expect(Math.abs(set!.azimuthDeg - 270)).toBeLessThan(2);
  });

  it('counts days of the year through leap years', () => {
    expect(solarPosition(Date.UTC(2024, 0, 1), equator).dayOfYear).toBe(1);
    expect(solarPosition(Date.UTC(2024, 1, 29, 23, 59), equator).dayOfYear).toBe(60);
    expect(solarPosition(Date.UTC(2024, 2, 1), equator).dayOfYear).toBe(61);
    expect(solarPosition(Date.UTC(2023, 2, 1), equator).dayOfYear).toBe(60);
    expect(solarPosition(Date.UTC(2024, 11, 31, 23, 59), equator).dayOfYear).toBe(366);
    expect(solarPosition(Date.UTC(2100, 11, 31, 12), equator).dayOfYear).toBe(365);
    expect(solarPosition(Date.UTC(1969, 11, 31, 12), equator).dayOfYear).toBe(365);
  });

  it('stays finite at the poles', () => {
    for (const lat of [90, -90, 89.99]) {
      const pos = solarPosition(Date.UTC(2024, 5, 21, 6), { latitudeDeg: lat, longitudeDeg: 0 });
      expect(Number.isFinite(pos.elevationDeg) && Number.isFinite(pos.azimuthDeg)).toBe(true);
    }
    // Midsummer at the north pole: the sun sits at the declination all day.
    expect(solarPosition(Date.UTC(2024, 5, 21, 0), { latitudeDeg: 90, longitudeDeg: 0 }).elevationDeg).toBeCloseTo(23.44, 1);
  });
});

describe('clearSky', () => {
  it('gives 900-1050 W/m2 GHI with the sun near the zenith, DNI below the extraterrestrial value', () => {
    const n = noon(Date.UTC(2024, 5, 20), { latitudeDeg: 23.44, longitudeDeg: 0 });
    const sky = clearSky(n.pos);
    expect(sky.ghi).toBeGreaterThan(900);
    expect(sky.ghi).toBeLessThan(1050);
    expect(sky.dni).toBeGreaterThan(850);
    expect(sky.dni).toBeLessThan(1361 * 0.97);
    expect(sky.ghi).toBeCloseTo(sky.dni * n.pos.cosZenith + sky.dhi, 9);
  });

  it('is zero when the sun is down and grows with elevation and altitude', () => {
    expect(clearSky(solarPosition(Date.UTC(2024, 5, 21, 0), lat40))).toEqual({ ghi: 0, dni: 0, dhi: 0 });
    const pos = (elevationDeg: number): SolarPosition => ({ cosZenith: Math.sin((elevationDeg * Math.PI) / 180), elevationDeg, azimuthDeg: 180, dayOfYear: 172 });
    let last = 0;
    for (const e of [0.5, 5, 10, 20, 40, 60, 90]) {
      const ghi = clearSky(pos(e)).ghi;
      expect(ghi).toBeGreaterThan(last);
      last = ghi;
    }
    expect(clearSky(pos(50), 2000).dni).toBeGreaterThan(clearSky(pos(50), 0).dni);
    expect(clearSky(pos(50), -100).dni).toBeCloseTo(clearSky(pos(50)).dni, 9);
  });

  it('gives more extraterrestrial light in January (perihelion) than in July', () => {
    const at = (dayOfYear: number): number => clearSky({ cosZenith: 1, elevationDeg: 90, azimuthDeg: 0, dayOfYear }).dni;
    expect(at(3) / at(185)).toBeGreaterThan(1.06);
    expect(at(3) / at(185)).toBeLessThan(1.075);
  });
});

describe('clearSkyFactor', () => {
  it('is clear-sky GHI / 1000 and 0 at night', () => {
    const t = Date.UTC(2024, 3, 10, 15, 37);
    const site: Site = { ...sanFrancisco, altitudeM: 300 };
    expect(clearSkyFactor(t, site)).toBeCloseTo(clearSky(solarPosition(t, site), 300).ghi / 1000, 12);
    expect(clearSkyFactor(Date.UTC(2024, 5, 21, 8, 10), sanFrancisco)).toBe(0);
    expect(clearSkyFactor(Date.UTC(2024, 11, 21, 2), sydney)).toBeGreaterThan(0.9);
  });
});

describe('angleOfIncidenceCos and planeOfArray', () => {
  const overhead: SolarPosition = { cosZenith: 1, elevationDeg: 90, azimuthDeg: 180, dayOfYear: 172 };

  it('computes the angle between the sun and the plane normal', () => {
    expect(angleOfIncidenceCos(overhead, 30, 180)).toBeCloseTo(Math.cos(Math.PI / 6), 12);
    const low: SolarPosition = { cosZenith: Math.cos(Math.PI / 3), elevationDeg: 30, azimuthDeg: 135, dayOfYear: 172 };
    // A plane facing the sun (tilt = zenith, same azimuth) sees it head on; facing away, behind.
    expect(angleOfIncidenceCos(low, 60, 135)).toBeCloseTo(1, 12);
    expect(angleOfIncidenceCos(low, 90, 315)).toBeLessThan(0);
  });

  it('equals GHI for a horizontal plane and is never negative', () => {
    const day0 = Date.UTC(2024, 5, 21);
    for (let t = day0; t < day0 + 24 * HOUR; t += 10 * MIN) {
      for (const site of [lat40, sanFrancisco, sydney]) {
        const pos = solarPosition(t, site);
        const sky = clearSky(pos);
        expect(planeOfArray(sky, pos, 0, 180)).toBeCloseTo(sky.ghi, 9);
        for (const [tilt, az] of [[30, 180], [90, 0], [90, 270], [45, 0], [180, 0]] as const) {
          expect(planeOfArray(sky, pos, tilt, az)).toBeGreaterThanOrEqual(0);
        }
      }
    }
  });

  it('gives a south-facing array at tilt = latitude more winter energy than a horizontal one', () => {
    const day0 = Date.UTC(2024, 11, 21);
    const horizontal = dailyPoaWh(day0, lat40, 0, 180);
    const tilted = dailyPoaWh(day0, lat40, 40, 180);
    expect(tilted).toBeGreaterThan(horizontal * 1.4);
    // Southern hemisphere mirror: a north-facing array in June.
    const june = Date.UTC(2024, 5, 21);
    expect(dailyPoaWh(june, sydney, 34, 0)).toBeGreaterThan(dailyPoaWh(june, sydney, 0, 0) * 1.4);
  });

  it('gives a vertical plane facing away from the sun only diffuse and ground-reflected light', () => {
    const pos: SolarPosition = { cosZenith: 0.5, elevationDeg: 30, azimuthDeg: 180, dayOfYear: 172 };
    const sky = clearSky(pos);
    expect(planeOfArray(sky, pos, 90, 0, 0.2)).toBeCloseTo(sky.dhi / 2 + (sky.ghi * 0.2) / 2, 9);
    expect(planeOfArray(sky, pos, 90, 0, 0)).toBeCloseTo(sky.dhi / 2, 9);
  });
});

describe('cellTemperatureC', () => {
  it('is NOCT at 800 W/m2 and 20 C, ambient in the dark', () => {
    expect(cellTemperatureC(800, 20, 45)).toBeCloseTo(45, 12);
    expect(cellTemperatureC(1000, 25, 45)).toBeCloseTo(56.25, 12);
    expect(cellTemperatureC(0, 12, 45)).toBe(12);
    expect(cellTemperatureC(-5, 12, 45)).toBe(12);
  });
});
