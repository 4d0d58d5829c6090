import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/sim/engine.js';
import { cellTemperatureC, clearSky, planeOfArray, solarPosition } from '../../src/core/solar.js';
import { acFromDc } from '../../src/sim/inverter.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { SITE, batterySpec, fleet, lineFeeder, pvSpec } from './sim-fixtures.js';

const DAY = Date.UTC(2026, 5, 21, 0);

describe('Simulation', () => {
  it("produces a clear day's PV energy within 2 % of the integrated clear-sky model", () => {
    const tilt = 25;
    const az = 170;
    const device = pvSpec('p', { pv: { dcRatingW: 12_000, tiltDeg: tilt, azimuthDeg: az, tempCoeffPctPerC: -0.4, noctC: 45, dcLosses: 0.1 } });
    const spec = fleet([device], {
      clock: { start: DAY, stepMs: 1000, mode: 'fast', speed: 1 },
      weather: { meanClearness: 1, variability: 0, cloudTimescaleS: 600, ambientMinC: 25, ambientMaxC: 25 },
    });
    const sim = new Simulation(spec);
    sim.runUntil(DAY + 86_400_000);
    const simulatedWh = sim.summary().byKind.pv.producedWh;
    // Independently: the clear-sky model on a 60 s grid, trapezoid rule.
    let wh = 0;
    let prev = 0;
    for (let t = DAY; t <= DAY + 86_400_000; t += 60_000) {
      const pos = solarPosition(t, SITE);
      const poa = planeOfArray(clearSky(pos, SITE.altitudeM), pos, tilt, az);
      const cell = cellTemperatureC(poa, 25, 45);
      const ac = acFromDc(12_000 * (poa / 1000) * (1 - 0.004 * (cell - 25)) * 0.9, 10_000);
      if (t > DAY) wh += ((prev + ac) / 2) * (60 / 3600);
      prev = ac;
    }
    expect(wh).toBeGreaterThan(40_000); // a long June day on a 10 kW inverter
    expect(Math.abs(simulatedWh - wh) / wh).toBeLessThan(0.02);
  });

  it('volt-var visibly lowers the voltage rise that PV causes', () => {
    const run = (mode: 'none' | 'voltVar'): number => {
      const devices = Array.from({ length: 10 }, (_, i) => pvSpec(`p${i}`, { section: 's4' }, { reactiveMode: mode }));
      const spec = fleet(devices, { clock: { start: Date.UTC(2026, 5, 21, 18, 45), stepMs: 1000, mode: 'fast', speed: 1 }, feeders: [lineFeeder(4, 0.008, 0.016)] });
      const sim = new Simulation(spec);
      sim.runUntil(spec.clock.start + 120_000);
      return sim.voltageAt('p0') / 240;
    };
    const without = run('none');
    const withVv = run('voltVar');
    // About 5.4 % rise without; volt-var absorbs ~15 % of rated var and takes about 0.7 % off it.
    expect(without).toBeGreaterThan(1.05);
    expect(withVv).toBeLessThan(without - 0.005);
  });

  it('is deterministic to the bit, and a different seed changes the clouds', () => {
    const make = (seed: number) => {
      const devices = [pvSpec('a'), pvSpec('b', { section: 's3' }), batterySpec('c', { section: 's2' })];
      const spec = fleet(devices, { seed, weather: { meanClearness: 0.7, variability: 0.2, cloudTimescaleS: 120, ambientMinC: 10, ambientMaxC: 30 } });
      const sim = new Simulation(spec);
      sim.device('c').update({ activePowerSetpointW: -3000 });
      sim.runUntil(spec.clock.start + 6 * 3_600_000);
      return { summary: sim.summary(), a: sim.device('a').measurements(), v: sim.voltageAt('b') };
    };
    expect(make(7)).toEqual(make(7));
    expect(make(7).summary.byKind.pv.producedWh).not.toBe(make(8).summary.byKind.pv.producedWh);
  });

  it('applies and clears faults scheduled in the fleet', () => {
    const spec = fleet([pvSpec('a'), pvSpec('b')], {
      clock: { start: Date.UTC(2026, 5, 21, 18), stepMs: 1000, mode: 'fast', speed: 1 },
      faults: [{ devices: ['a'], kind: 'commsLoss', atS: 10, durationS: 20, magnitude: 0 }],
    });
    const sim = new Simulation(spec);
    sim.runUntil(spec.clock.start + 9000);
    expect(sim.device('a').faults.commsLoss).toBe(false);
    sim.runUntil(spec.clock.start + 10_000);
    expect(sim.device('a').faults.commsLoss).toBe(true);
    sim.runUntil(spec.clock.start + 30_000);
    expect(sim.device('a').faults.commsLoss).toBe(false);
    sim.injectFault(['b'], 'rejectCommands');
    expect(sim.device('b').update({ activePowerLimitPct: 50 })).toMatchObject({ ok: false });
    sim.clearFault(['b'], 'rejectCommands');
    expect(sim.device('b').update({ activePowerLimitPct: 50 })).toEqual({ ok: true });
  });

  it('steps on a shared clock', async () => {
    const clock = new VirtualClock(Date.UTC(2026, 5, 21, 18));
    const sim = new Simulation(fleet([pvSpec('a')]));
    const sub = sim.attach(clock);
    await clock.advanceBy(10_000);
    expect(sim.now).toBe(clock.now());
    expect(sim.summary().steps).toBe(10);
    sub.unsubscribe();
  });

  it('refuses devices on unknown feeders and sections, and unknown device ids', () => {
    expect(() => new Simulation(fleet([pvSpec('a', { feeder: 'nope' })]))).toThrow(/feeder "nope" does not exist/);
    expect(() => new Simulation(fleet([pvSpec('a', { section: 'zz' })]))).toThrow(/zz/);
    expect(() => new Simulation(fleet([pvSpec('a')])).device('q')).toThrow(/simulated device "q" does not exist/);
  });
});
