import { describe, expect, it } from 'vitest';
import { forecastGroup, PerformanceRatioTracker, type ForecastInput, type ForecastMember, type RatioSource } from '../../src/core/forecast.js';
import { parseDer, type Der } from '../../src/core/model/der.js';
import type { TelemetrySample } from '../../src/core/model/telemetry.js';
import { clearSkyFactor, type Site } from '../../src/core/solar.js';
import { battery, codeOf, pv, sample } from '../support/fixtures.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const site: Site = { latitudeDeg: 40, longitudeDeg: 0 };
/** Midnight UTC = local solar midnight at longitude 0. */
const day0 = Date.UTC(2024, 5, 21);

function hybrid(id: string): Der {
  return parseDer({
    mRID: id,
    name: `Hybrid ${id}`,
    kind: 'hybrid',
    nameplate: { maxW: 8000, maxVA: 8000, maxVarInject: 3000, maxVarAbsorb: 3000, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 10_000, nominalV: 240 },
    endpoint: { protocol: 'in-process', device: id },
  });
}

/** What a PV DER of `maxW` reports at `t` when it produces `ratio` of clear sky. */
function pvSample(der: Der, t: number, ratio: number, over: Partial<TelemetrySample> = {}): TelemetrySample {
  const w = Math.min(der.nameplate.maxW, der.nameplate.maxW * clearSkyFactor(t, site) * ratio);
  return sample(der.mRID, t, { w, availWMax: w, ...over });
}

/** Feeds one sample per `stepMs` over [from, to); returns how many were used. */
function feed(tracker: PerformanceRatioTracker, der: Der, from: number, to: number, stepMs: number, make: (t: number) => TelemetrySample): number {
  let used = 0;
  for (let t = from; t < to; t += stepMs) if (tracker.observe(der, site, make(t))) used++;
  return used;
}

function fixed(mean: number, sd: number, samples: number): RatioSource {
  return { estimate: () => ({ mean, sd, samples }) };
}

function input(members: ForecastMember[], over: Partial<ForecastInput> = {}): ForecastInput {
  return { members, tracker: new PerformanceRatioTracker(), start: day0, intervalMs: HOUR, count: 24, ...over };
}

describe('PerformanceRatioTracker', () => {
  it('learns a device producing 70 % of clear sky', () => {
    const der = parseDer(pv('p1', 10_000));
    const tracker = new PerformanceRatioTracker();
    expect(tracker.ratio('p1')).toBeUndefined();
    const used = feed(tracker, der, day0, day0 + DAY, MIN, (t) => pvSample(der, t, 0.7));
    expect(used).toBeGreaterThan(500);
    const r = tracker.ratio('p1')!;
    expect(r.mean).toBeCloseTo(0.7, 2);
    expect(r.samples).toBe(used);
    expect(r.sd).toBeLessThan(0.1);
  });

  it('starts from the prior and tracks the spread of a noisy ratio', () => {
    const der = parseDer(pv('p1', 10_000));
    const tracker = new PerformanceRatioTracker({ priorWeight: 0 });
    expect(tracker.estimate('p1')).toEqual({ mean: 0.8, sd: 0.25, samples: 0 });
    // Alternating 0.5 / 0.9: mean 0.7, sd 0.2.
    let i = 0;
    feed(tracker, der, day0, day0 + 3 * DAY, MIN, (t) => pvSample(der, t, i++ % 2 === 0 ? 0.5 : 0.9));
    const r = tracker.ratio('p1')!;
    expect(r.mean).toBeCloseTo(0.7, 2);
    expect(r.sd).toBeCloseTo(0.2, 2);
  });

  it('ignores throttled, disconnected, idle, night and low-sun samples, and non-PV DERs', () => {
    const der = parseDer(pv('p1', 10_000));
    const tracker = new PerformanceRatioTracker();
    const noon = day0 + 12 * HOUR;
    expect(tracker.observe(der, site, pvSample(der, noon, 0.3, { state: 'throttled' }))).toBe(false);
    expect(tracker.observe(der, site, pvSample(der, noon, 0.3, { connected: false }))).toBe(false);
    expect(tracker.observe(der, site, pvSample(der, noon, 0.3, { state: 'fault' }))).toBe(false);
    expect(tracker.observe(der, site, sample('p1', noon, { w: 0 }))).toBe(false);
    expect(tracker.observe(der, site, sample('p1', noon, { w: Number.NaN }))).toBe(false);
    expect(tracker.observe(der, site, sample('p1', day0, { w: 50 }))).toBe(false); // midnight
    // Ten minutes after sunrise the sun is below 10 degrees.
    expect(tracker.observe(der, site, sample('p1', day0 + 4 * HOUR + 40 * MIN, { w: 500 }))).toBe(false);
    expect(tracker.observe(der, site, pvSample(der, noon, 0.3, { derId: 'other' }))).toBe(false);
    const bat = parseDer(battery('b1'));
    expect(tracker.observe(bat, site, sample('b1', noon, { w: 3000, soc: 50 }))).toBe(false);
    expect(tracker.ratio('p1')).toBeUndefined();
    expect(tracker.ratio('b1')).toBeUndefined();
    // Throttled samples in between do not pull a learned ratio down.
    feed(tracker, der, day0, day0 + DAY, MIN, (t) => pvSample(der, t, 0.7, (t / MIN) % 3 === 0 ? { state: 'throttled', w: 100 } : {}));
    expect(Math.abs(tracker.ratio('p1')!.mean - 0.7)).toBeLessThan(0.01);
  });

  it('forgets old behaviour with its time constant', () => {
    const der = parseDer(pv('p1', 10_000));
    const tracker = new PerformanceRatioTracker({ timeConstantMs: DAY });
    feed(tracker, der, day0, day0 + 3 * DAY, 5 * MIN, (t) => pvSample(der, t, 0.9));
    expect(tracker.ratio('p1')!.mean).toBeCloseTo(0.9, 2);
    // Soiled / cloudier from now on: after 4 time constants the old ratio has ~2 % weight.
    feed(tracker, der, day0 + 3 * DAY, day0 + 7 * DAY, 5 * MIN, (t) => pvSample(der, t, 0.5));
    expect(Math.abs(tracker.ratio('p1')!.mean - 0.5)).toBeLessThan(0.03);
  });

  it('caps a single sample at maxRatio', () => {
    const der = parseDer(pv('p1', 10_000));
    const tracker = new PerformanceRatioTracker({ priorWeight: 0, maxRatio: 1.2 });
    // 8 kW at a clear-sky factor of ~0.12 would be a ratio of ~6.
    expect(tracker.observe(der, site, sample('p1', day0 + 6 * HOUR, { w: 8000 }))).toBe(true);
    expect(tracker.ratio('p1')!.mean).toBeCloseTo(1.2, 9);
  });

  it('learns from a hybrid only while its battery is idle', () => {
    const der = hybrid('h1');
    const tracker = new PerformanceRatioTracker({ hybridIdleMs: 5 * MIN, hybridSocTolerancePct: 0.5 });
    const start = day0 + 10 * HOUR;
    // Charging: SoC climbs 0.2 %/min, so it never stays within 0.5 % for 5 minutes.
    const charging = feed(tracker, der, start, start + HOUR, MIN, (t) => pvSample(der, t, 0.3, { soc: 40 + ((t - start) / MIN) * 0.2 }));
    expect(charging).toBe(0);
    // No SoC reported: cannot tell, so not used.
    expect(tracker.observe(der, site, pvSample(der, start + HOUR, 0.7))).toBe(false);
    // Battery full and idle: used once SoC has held for 5 minutes.
    const idle = feed(tracker, der, start + HOUR, start + 2 * HOUR, MIN, (t) => pvSample(der, t, 0.7, { soc: 95 }));
    expect(idle).toBe(55);
    expect(tracker.ratio('h1')!.mean).toBeGreaterThan(0.69);
  });

  it('rejects bad options', () => {
    expect(codeOf(() => new PerformanceRatioTracker({ timeConstantMs: 0 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => new PerformanceRatioTracker({ minElevationDeg: 95 }))).toBe('INVALID_INPUT');
    expect(codeOf(() => new PerformanceRatioTracker({ priorSd: Number.NaN }))).toBe('INVALID_INPUT');
  });
});

describe('forecastGroup', () => {
  const p1 = parseDer(pv('p1', 10_000));
  const p2 = parseDer(pv('p2', 5_000));
  const b1 = parseDer(battery('b1', 5_000, 13_500));

  it('forecasts no PV at night and more at noon than in the morning', () => {
    const f = forecastGroup(input([{ der: p1, site }, { der: p2, site }]));
    expect(f.intervals).toHaveLength(24);
    const at = (h: number) => f.intervals[h]!;
    for (const h of [0, 1, 2, 22, 23]) {
      expect(at(h).pvW).toEqual({ nominal: 0, min: 0, max: 0 });
      expect(at(h).activePowerW).toEqual({ nominal: 0, min: -0, max: 0 });
    }
    expect(at(12).pvW.nominal).toBeGreaterThan(at(8).pvW.nominal);
    expect(at(8).pvW.nominal).toBeGreaterThan(at(5).pvW.nominal);
    // Prior ratio 0.8 x 15 kW x clear-sky factor near 0.9 at a June noon at 40N.
    expect(at(11).pvW.nominal).toBeGreaterThan(10_000);
    expect(at(11).pvW.nominal).toBeLessThan(13_000);
    expect(at(11).storage).toBeNull();
    expect(at(3).start).toBe(day0 + 3 * HOUR);
    expect(at(3).end).toBe(day0 + 4 * HOUR);
    expect(f.installed).toEqual({ members: 2, maxW: 15_000, minW: 0, pvMaxW: 15_000, energyCapacityWh: 0 });
  });

  it('uses the learned ratio: a 70 % device forecasts 70 % of clear sky', () => {
    const tracker = new PerformanceRatioTracker({ priorWeight: 0 });
    feed(tracker, p1, day0 - 2 * DAY, day0, MIN, (t) => pvSample(p1, t, 0.7));
    const f = forecastGroup(input([{ der: p1, site }], { tracker, intervalMs: 15 * MIN, count: 96 }));
    for (const iv of f.intervals) {
      const expected = 10_000 * clearSkyFactor((iv.start + iv.end) / 2, site) * 0.7;
      expect(iv.pvW.nominal).toBeCloseTo(expected, 6);
    }
  });

  it('keeps nominal inside the bands and PV inside [0, maxW]', () => {
    const tracker: RatioSource = { estimate: (id) => (id === 'p1' ? { mean: 1.2, sd: 0.4, samples: 1000 } : { mean: 0.1, sd: 0.5, samples: 3 }) };
    const f = forecastGroup(input([{ der: p1, site }, { der: p2, site }, { der: b1, site, sample: sample('b1', day0, { soc: 60 }) }], { tracker, intervalMs: 20 * MIN, count: 72 * 3 }));
    for (const iv of f.intervals) {
      for (const band of [iv.pvW, iv.activePowerW]) {
        expect(band.min).toBeLessThanOrEqual(band.nominal);
        expect(band.nominal).toBeLessThanOrEqual(band.max);
      }
      expect(iv.pvW.min).toBeGreaterThanOrEqual(0);
      expect(iv.pvW.max).toBeLessThanOrEqual(15_000);
      expect(iv.activePowerW.max).toBeCloseTo(iv.pvW.max + iv.storage!.maxDischargeW, 6);
      expect(iv.activePowerW.min).toBeCloseTo(-iv.storage!.maxChargeW, 6);
    }
  });

  it('gives no discharge from storage at its reserve, and no charge when full', () => {
    const atReserve = forecastGroup(input([{ der: b1, site, sample: sample('b1', day0, { soc: 10 }) }], { storage: { reservePct: 10 } }));
    for (const iv of atReserve.intervals) {
      expect(iv.storage).toEqual({ maxDischargeW: 0, maxChargeW: 5000, energyWh: 1350 });
      expect(iv.activePowerW).toEqual({ nominal: 0, min: -5000, max: 0 });
    }
    const full = forecastGroup(input([{ der: b1, site, sample: sample('b1', day0, { soc: 95 }) }], { storage: { maxSocPct: 95 } }));
    expect(full.intervals[0]!.storage!.maxChargeW).toBe(0);
    expect(full.intervals[0]!.storage!.maxDischargeW).toBe(5000);
    // A member override beats the group assumption.
    const override = forecastGroup(input([{ der: b1, site, sample: sample('b1', day0, { soc: 20 }), storage: { reservePct: 20 } }], { storage: { reservePct: 5 } }));
    expect(override.intervals[0]!.storage!.maxDischargeW).toBe(0);
  });

  it('limits discharge by energy: a battery cannot sustain full power over a long interval', () => {
    const member = { der: b1, site, sample: sample('b1', day0, { soc: 50 }) };
    // 13.5 kWh x (50 - 10) % = 5.4 kWh above the reserve.
    const hourly = forecastGroup(input([member], { intervalMs: HOUR, count: 3 }));
    expect(hourly.intervals[0]!.storage!.maxDischargeW).toBe(5000);
    const fourHours = forecastGroup(input([member], { intervalMs: 4 * HOUR, count: 3 }));
    expect(fourHours.intervals[0]!.storage!.maxDischargeW).toBeCloseTo(1350, 9);
    // 6.75 kWh of room to 100 % over 4 h.
    expect(fourHours.intervals[0]!.storage!.maxChargeW).toBeCloseTo(1687.5, 9);
    // Idle storage: the same availability in every interval.
    expect(fourHours.intervals[2]!.storage).toEqual(fourHours.intervals[0]!.storage);
    // Efficiency: less energy delivered, more needed to fill.
    const lossy = forecastGroup(input([member], { intervalMs: 4 * HOUR, count: 1, storage: { dischargeEfficiency: 0.9, chargeEfficiency: 0.9 } }));
    expect(lossy.intervals[0]!.storage!.maxDischargeW).toBeCloseTo(1215, 9);
    expect(lossy.intervals[0]!.storage!.maxChargeW).toBeCloseTo(1875, 9);
  });

  it('promises nothing from storage whose SoC is unknown', () => {
    const f = forecastGroup(input([{ der: b1, site }]));
    expect(f.intervals[0]!.storage).toEqual({ maxDischargeW: 0, maxChargeW: 0, energyWh: 0 });
    expect(f.installed.energyCapacityWh).toBe(13_500);
    expect(f.installed.minW).toBe(-5000);
  });

  it('caps a hybrid at its inverter rating', () => {
    const h = hybrid('h1');
    const f = forecastGroup(input([{ der: h, site, sample: sample('h1', day0, { soc: 90 }) }], { tracker: fixed(1, 0, 1000) }));
    const noon = f.intervals[12]!;
    expect(noon.storage!.maxDischargeW).toBe(5000);
    expect(noon.pvW.max).toBeGreaterThan(6000);
    expect(noon.activePowerW.max).toBe(8000);
    expect(f.intervals[0]!.activePowerW.max).toBe(5000); // night: battery only
    expect(noon.activePowerW.min).toBe(-1000); // 10 kWh x 10 % of room over an hour
  });

  it('averages the sun over long intervals', () => {
    const f = forecastGroup(input([{ der: p1, site }], { intervalMs: DAY, count: 1, tracker: fixed(1, 0, 1000) }));
    let sum = 0;
    for (let t = day0 + MIN / 2; t < day0 + DAY; t += MIN) sum += clearSkyFactor(t, site);
    expect(f.intervals[0]!.pvW.nominal).toBeCloseTo((10_000 * sum) / 1440, -1);
  });

  it('is less confident with fewer learned samples and further ahead', () => {
    const members = [{ der: p1, site }];
    const prior = forecastGroup(input(members, { tracker: fixed(0.8, 0.25, 0) }));
    const learned = forecastGroup(input(members, { tracker: fixed(0.8, 0.1, 5000) }));
    expect(learned.intervals[0]!.confidencePct).toBeGreaterThan(prior.intervals[0]!.confidencePct);
    expect(learned.intervals[0]!.confidencePct).toBeLessThanOrEqual(95);
    const week = forecastGroup(input(members, { tracker: fixed(0.8, 0.1, 5000), count: 7 * 24 }));
    for (let i = 1; i < week.intervals.length; i++) {
      expect(week.intervals[i]!.confidencePct).toBeLessThanOrEqual(week.intervals[i - 1]!.confidencePct);
    }
    expect(week.intervals.at(-1)!.confidencePct).toBeLessThan(week.intervals[0]!.confidencePct / 2);
    // Counted from `now`, not from the first interval.
    const later = forecastGroup(input(members, { tracker: fixed(0.8, 0.1, 5000), now: day0 - DAY }));
    expect(later.intervals[0]!.confidencePct).toBeLessThan(learned.intervals[0]!.confidencePct);
    expect(week.confidencePct).toBeGreaterThan(week.intervals.at(-1)!.confidencePct);
  });

  it('handles sites across the globe', () => {
    const sydney: Site = { latitudeDeg: -33.87, longitudeDeg: 151.21 };
    const sf: Site = { latitudeDeg: 37.77, longitudeDeg: -122.42 };
    const f = forecastGroup(input([{ der: p1, site: sydney }, { der: p2, site: sf }], { start: Date.UTC(2024, 11, 21), count: 24 }));
    // Sydney's noon is ~02:00 UTC (its summer), San Francisco's ~20:00 UTC.
    expect(f.intervals[1]!.pvW.nominal).toBeGreaterThan(7000);
    expect(f.intervals[19]!.pvW.nominal).toBeGreaterThan(1500);
    expect(f.intervals[19]!.pvW.nominal).toBeLessThan(4000);
    expect(f.intervals[10]!.pvW.nominal).toBe(0); // night in both
  });

  it('throws INVALID_INPUT on bad requests', () => {
    const m = [{ der: p1, site }];
    expect(codeOf(() => forecastGroup(input(m, { count: 0 })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { count: -3 })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { count: 1.5 })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { count: 1e9 })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { intervalMs: 0 })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { intervalMs: -HOUR })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { intervalMs: Number.POSITIVE_INFINITY })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { start: Number.NaN })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { now: Number.NaN })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m, { storage: { reservePct: 120 } })))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input([{ der: p1, site: { latitudeDeg: 95, longitudeDeg: 0 } }])))).toBe('INVALID_INPUT');
    expect(codeOf(() => forecastGroup(input(m)))).toBe('no error');
  });

  it('forecasts an empty group as zero', () => {
    const f = forecastGroup(input([], { count: 2 }));
    expect(f.intervals[0]!.activePowerW).toEqual({ nominal: 0, min: -0, max: 0 });
    expect(f.installed.members).toBe(0);
  });
});
