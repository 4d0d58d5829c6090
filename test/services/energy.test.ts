import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EnergyRollups } from '../../src/services/energy-rollups.js';
import { amountFor, energyIn, requestedWh, settledWh } from '../../src/services/participation.js';
import type { EnergyInterval, MemberOutcome } from '../../src/store/records.js';
import { sample } from '../support/fixtures.js';

/** A store that keeps what it is given, and can be told to fail. */
function sink() {
  const rows: EnergyInterval[] = [];
  let failNext = false;
  return {
    rows,
    failOnce: () => (failNext = true),
    energy: {
      async add(r: readonly EnergyInterval[]) {
        if (failNext) {
          failNext = false;
          throw new Error('disk full');
        }
        rows.push(...r);
      },
    },
  };
}

describe('energy rollups from telemetry', () => {
  it('integrates power with the trapezoid rule and splits it at interval boundaries', async () => {
    const s = sink();
    const r = new EnergyRollups(s, { intervalMs: 60_000, maxGapMs: 120_000 });
    // 0 W at t=30 s rising to 3600 W at t=90 s: 30 Wh in all, 7.5 Wh before the minute and 22.5 Wh after.
    r.ingest(sample('a', 30_000, { w: 0 }));
    r.ingest(sample('a', 90_000, { w: 3600 }));
    expect(await r.flush()).toBe(2);
    expect(s.rows).toEqual([
      { derId: 'a', intervalStart: 0, intervalMs: 60_000, outWh: expect.closeTo(7.5, 9), inWh: 0, coveredMs: 30_000 },
      { derId: 'a', intervalStart: 60_000, intervalMs: 60_000, outWh: expect.closeTo(22.5, 9), inWh: 0, coveredMs: 30_000 },
    ]);
  });

  it('counts export and import apart across a zero crossing', async () => {
    const s = sink();
    const r = new EnergyRollups(s, { intervalMs: 3_600_000 });
    r.ingest(sample('b', 1000, { w: 3600 }));
    r.ingest(sample('b', 3000, { w: -3600 }));
    await r.flush();
    expect(s.rows[0]!.outWh).toBeCloseTo(0.5, 9);
    expect(s.rows[0]!.inWh).toBeCloseTo(0.5, 9);
  });

  it('leaves gaps, repeats and out-of-order samples out', async () => {
    const s = sink();
    const r = new EnergyRollups(s, { intervalMs: 60_000, maxGapMs: 5000 });
    r.ingest(sample('c', 1000, { w: 3600 }));
    r.ingest(sample('c', 2000, { w: 3600 }));
    r.ingest(sample('c', 2000, { w: 9999 }));
    r.ingest(sample('c', 1500, { w: 9999 }));
    r.ingest(sample('c', 30_000, { w: 3600 })); // 28 s after the last: not joined
    r.ingest(sample('c', 31_000, { w: 3600 }));
    await r.flush();
    expect(s.rows).toEqual([{ derId: 'c', intervalStart: 0, intervalMs: 60_000, outWh: expect.closeTo(2, 9), inWh: 0, coveredMs: 2000 }]);
  });

  it('writes only completed intervals, and keeps them when a write fails', async () => {
    const s = sink();
    const r = new EnergyRollups(s, { intervalMs: 60_000 });
    for (let t = 0; t <= 90_000; t += 1000) r.ingest(sample('d', t, { w: 1000 }));
    s.failOnce();
    await expect(r.flush(60_000)).rejects.toThrow('disk full');
    expect(r.pending().length).toBe(2);
    expect(await r.flush(60_000)).toBe(1);
    expect(s.rows.map((x) => x.intervalStart)).toEqual([0]);
    expect(r.pending().map((x) => x.intervalStart)).toEqual([60_000]);
  });

  it('energy is the same however the samples fall across intervals (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 1, max: 4000 }), w: fc.integer({ min: -5000, max: 5000 }) }), { minLength: 2, maxLength: 60 }),
        fc.integer({ min: 1000, max: 120_000 }),
        (steps, intervalMs) => {
          const s = sink();
          const split = new EnergyRollups(s, { intervalMs, maxGapMs: 5000 });
          const whole = new EnergyRollups(sink(), { intervalMs: 1e12, maxGapMs: 5000 });
          let t = 1_000_000;
          for (const st of steps) {
            t += st.dt;
            split.ingest(sample('p', t, { w: st.w }));
            whole.ingest(sample('p', t, { w: st.w }));
          }
          const sum = (rs: readonly EnergyInterval[], k: 'outWh' | 'inWh' | 'coveredMs') => rs.reduce((a, r) => a + r[k], 0);
          const a = split.pending();
          const b = whole.pending();
          expect(sum(a, 'outWh')).toBeCloseTo(sum(b, 'outWh'), 6);
          expect(sum(a, 'inWh')).toBeCloseTo(sum(b, 'inWh'), 6);
          expect(sum(a, 'coveredMs')).toBe(sum(b, 'coveredMs'));
          expect(a.every((r) => r.coveredMs <= intervalMs)).toBe(true);
        },
      ),
    );
  });
});

describe('participation arithmetic', () => {
  const o = (at: number, requestedW: number | null): MemberOutcome => ({ dispatchId: 'd', derId: 'a', at, setpointKind: requestedW === null ? 'voltVar' : 'activePower', requestedW, status: 'applied', detail: null });

  it('requested energy holds each setpoint until the next one or the end of the dispatch, within the period', () => {
    const steps = [o(0, 3600), o(1_800_000, 7200)];
    expect(requestedWh(steps, 3_600_000, 0, 3_600_000)).toBe(1800 + 3600);
    expect(requestedWh(steps, 3_600_000, 900_000, 2_700_000)).toBe(900 + 1800);
    expect(requestedWh([o(0, null)], 3_600_000, 0, 3_600_000)).toBeNull();
  });

  it('delivered energy takes the part of each interval inside the period', () => {
    const rows: EnergyInterval[] = [
      { derId: 'a', intervalStart: 0, intervalMs: 60_000, outWh: 60, inWh: 0, coveredMs: 60_000 },
      { derId: 'a', intervalStart: 60_000, intervalMs: 60_000, outWh: 0, inWh: 30, coveredMs: 60_000 },
    ];
    expect(energyIn(rows, 30_000, 90_000)).toEqual({ outWh: 30, inWh: 15, netWh: 15 });
  });

  it('settles delivered energy in the requested direction, up to what was requested', () => {
    expect(settledWh(500, 620)).toBe(500);
    expect(settledWh(500, 430)).toBe(430);
    expect(settledWh(500, -20)).toBe(0);
    expect(settledWh(-500, -300)).toBe(-300);
    expect(settledWh(-500, 100)).toBe(0);
    expect(settledWh(null, 100)).toBe(0);
    expect(amountFor(1500, 0.25)).toBe(0.38);
    expect(amountFor(-1500, 0.25)).toBe(0.38);
  });
});
