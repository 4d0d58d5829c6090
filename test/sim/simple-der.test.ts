import { describe, expect, it } from 'vitest';
import { parseDer } from '../../src/core/model/der.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { SimpleDer, sunFactor } from '../../src/sim/simple-der.js';
import { InProcessAdapter } from '../../src/adapters/in-process.js';
import { sampleProblem, type TelemetrySample } from '../../src/core/model/telemetry.js';
import { battery, pv } from '../support/fixtures.js';

const site = { latitudeDeg: 40, longitudeDeg: 0 };
const noon = Date.UTC(2026, 5, 21, 12);

describe('SimpleDer', () => {
  it('has sun at noon and none at midnight', () => {
    expect(sunFactor(noon, site)).toBeGreaterThan(0.9);
    expect(sunFactor(Date.UTC(2026, 5, 21, 0), site)).toBe(0);
  });

  it('follows an active-power setpoint within its availability and reports plausible samples', async () => {
    const clock = new VirtualClock(noon);
    const der = parseDer(pv('p', 10_000));
    const dev = new SimpleDer(der, clock, site, 7);
    await clock.advanceBy(5000);
    const free = dev.read();
    expect(free.w).toBeGreaterThan(2000);
    expect(sampleProblem(free, der)).toBeNull();
    expect(dev.write({ kind: 'activePower', w: 1000, derId: 'p' })).toEqual({ status: 'applied' });
    await clock.advanceBy(5000);
    expect(dev.read().w).toBeCloseTo(1000, 0);
    expect(dev.write({ kind: 'activePower', w: -500, derId: 'p' }).status).toBe('rejected');
    dev.write({ kind: 'release', slot: 'activePower', derId: 'p' });
    dev.write({ kind: 'activePowerLimit', pct: 10, w: 1000, derId: 'p' });
    await clock.advanceBy(5000);
    expect(dev.read().w).toBeLessThanOrEqual(1000.5);
  });

  it('integrates battery state of charge and stops at the reserve', async () => {
    const clock = new VirtualClock(noon);
    const der = parseDer(battery('b', 5000, 1000)); // a tiny 1 kWh battery
    const dev = new SimpleDer(der, clock, site, 3);
    const soc0 = dev.read().soc!;
    dev.write({ kind: 'activePower', w: 5000, derId: 'b' });
    await clock.advanceBy(60_000);
    const s1 = dev.read();
    expect(s1.soc!).toBeLessThan(soc0);
    await clock.advanceBy(3_600_000);
    const s2 = dev.read();
    expect(s2.soc!).toBeLessThanOrEqual(5.5);
    expect(s2.availWMax).toBe(0);
  });

  it('is polled by the in-process adapter on the clock', async () => {
    const clock = new VirtualClock(noon);
    const der = parseDer(pv('p'));
    const adapter = new InProcessAdapter('p', new SimpleDer(der, clock, site, 1), clock, { pollPeriodMs: 1000 });
    const got: TelemetrySample[] = [];
    adapter.telemetry$.subscribe((s) => got.push(s));
    await clock.advanceBy(3500);
    expect(got.map((s) => s.timestamp - noon)).toEqual([1000, 2000, 3000]);
    expect(await adapter.apply({ kind: 'voltVar', curve: [{ v: 90, var: 10 }, { v: 110, var: -10 }], derId: 'p' })).toMatchObject({ status: 'rejected' });
    expect(adapter.capabilities().setpoints.has('voltVar')).toBe(false);
    await adapter.close();
  });
});
