import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SimInverter, acFromDc } from '../../src/sim/inverter.js';
import { InProcessLink } from '../../src/sim/in-process-link.js';
import { batterySpec, nightSky, noonSky, pvSpec } from './sim-fixtures.js';
import type { SkyState } from '../../src/sim/weather.js';

const T0 = Date.UTC(2026, 5, 21, 18);
/** Step a device n times at 1 s with a fixed sky, voltage and frequency. */
function run(d: SimInverter, n: number, opts: { sky?: SkyState; v?: number; hz?: number; t0?: number } = {}): void {
  const t0 = opts.t0 ?? T0;
  for (let i = 1; i <= n; i++) d.step(t0 + i * 1000, 1, opts.sky ?? noonSky, opts.v ?? 240, opts.hz ?? 60);
}

describe('SimInverter: PV', () => {
  it('turns irradiance into AC power through temperature and efficiency, clipped at max W', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    run(d, 30);
    const m = d.measurements();
    // 1000 W/m2 on a flat array, 12 kW DC, cell at 25 + 31.25 C, 10 % DC losses.
    const cell = 25 + (25 / 800) * 1000;
    const dc = 12_000 * (1 + -0.004 * (cell - 25)) * 0.9;
    expect(m.pvDcW).toBeCloseTo(dc, 6);
    expect(m.w).toBeCloseTo(Math.min(10_000, acFromDc(dc, 10_000)), 0);
    expect(m.cellTempC).toBeCloseTo(cell, 6);
    run(d, 5, { sky: nightSky });
    expect(d.measurements().pvDcW).toBe(0);
  });

  it('has a plausible efficiency curve: ~97 % at mid load, lower at light load, clipped above rating', () => {
    expect(acFromDc(5000, 10_000) / 5000).toBeGreaterThan(0.985 - 0.02);
    expect(acFromDc(500, 10_000) / 500).toBeLessThan(acFromDc(5000, 10_000) / 5000);
    expect(acFromDc(20_000, 10_000)).toBe(10_000);
    expect(acFromDc(10, 10_000)).toBe(0);
  });

  it('follows a curtailment setpoint and an active-power limit', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    expect(d.update({ activePowerSetpointW: 3000 })).toEqual({ ok: true });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(3000, 3);
    expect(d.measurements().operatingState).toBe('throttled');
    d.update({ activePowerSetpointW: null, activePowerLimitPct: 25 });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(2500, 3);
  });

  it('reaches 90 % of a step at its open-loop response time', () => {
    const d = new SimInverter(pvSpec('p', {}, { activePowerResponseS: 10 }), 1);
    d.update({ activePowerSetpointW: 0 });
    run(d, 60);
    d.update({ activePowerSetpointW: 5000 });
    run(d, 10, { t0: T0 + 60_000 });
    expect(d.measurements().w).toBeCloseTo(4500, 0);
  });

  it('never ramps faster than its normal ramp rate', () => {
    const d = new SimInverter(pvSpec('p', {}, { rampUpPctPerS: 2, rampDownPctPerS: 5, activePowerResponseS: 0.5 }), 1);
    d.update({ activePowerSetpointW: 0 });
    run(d, 30);
    d.update({ activePowerSetpointW: 8000 });
    let prev = d.measurements().w;
    for (let i = 0; i < 60; i++) {
      run(d, 1, { t0: T0 + (100 + i) * 1000 });
      const w = d.measurements().w;
      expect(w - prev).toBeLessThanOrEqual(200 + 1e-9);
      prev = w;
    }
    d.update({ activePowerSetpointW: 0 });
    for (let i = 0; i < 30; i++) {
      run(d, 1, { t0: T0 + (200 + i) * 1000 });
      const w = d.measurements().w;
      expect(prev - w).toBeLessThanOrEqual(500 + 1e-9);
      prev = w;
    }
  });
});

describe('SimInverter: reactive power and voltage / frequency functions', () => {
  it('holds a constant power factor and constant var', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    d.update({ reactiveMode: 'constantPf', pf: 0.9, pfExcitation: 'absorbing', activePowerSetpointW: 6000 });
    run(d, 60);
    const m = d.measurements();
    expect(m.var).toBeCloseTo(-6000 * Math.tan(Math.acos(0.9)), 0);
    expect(m.pf).toBeCloseTo(0.9, 3);
    d.update({ reactiveMode: 'constantVar', constantVarPct: 50 });
    run(d, 60, { t0: T0 + 60_000 });
    expect(d.measurements().var).toBeCloseTo(2200, 0);
  });

  it('follows the volt-var curve within 1 % of rated var once settled', () => {
    for (const [vPu, expectPct] of [[1.05, -22], [0.95, 22], [1.0, 0], [1.09, -44], [0.9, 44], [1.04, -14.67]] as const) {
      const d = new SimInverter(pvSpec('p'), 1);
      d.update({ reactiveMode: 'voltVar', activePowerSetpointW: 4000 });
      run(d, 60, { v: 240 * vPu });
      const q = d.measurements().var;
      const want = (expectPct / 100) * 4400;
      expect(Math.abs(q - want)).toBeLessThanOrEqual(0.01 * 4400);
    }
  });

  it('limits power along the volt-watt curve', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    d.update({ voltWattEnabled: true });
    run(d, 60, { v: 240 * 1.08 });
    expect(d.measurements().w).toBeCloseTo(6000, 0); // 1.08 pu: halfway from 100 % to 20 %
  });

  it('droops output on over-frequency', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    d.update({ activePowerSetpointW: 6000 });
    run(d, 60, { hz: 60.5 });
    expect(d.measurements().w).toBeCloseTo(6000 - ((60.5 - 60.036) / (60 * 0.05)) * 10_000, 0);
  });

  it('never leaves its VA circle, whatever the settings, voltage and setpoint', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('none', 'constantPf', 'constantVar', 'voltVar' as const),
        fc.double({ min: 0.8, max: 1.15, noNaN: true }),
        fc.double({ min: 0, max: 10_000, noNaN: true }),
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.double({ min: 0.2, max: 1, noNaN: true }),
        (mode, vPu, w, varPct, pf) => {
          const d = new SimInverter(pvSpec('p', { nameplate: { ...pvSpec('p').nameplate, maxVA: 10_500 } }), 1);
          d.update({ reactiveMode: mode, activePowerSetpointW: w, constantVarPct: varPct, pf });
          for (let i = 1; i <= 20; i++) {
            d.step(T0 + i * 1000, 1, noonSky, 240 * vPu, 60);
            const m = d.measurements();
            expect(m.w * m.w + m.var * m.var).toBeLessThanOrEqual(10_500 * 10_500 * (1 + 1e-9));
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('SimInverter: storage', () => {
  it('matches its one-way efficiencies over a round trip', () => {
    const d = new SimInverter(batterySpec('b'), 1);
    const e0 = d.measurements().storedWh!;
    d.update({ activePowerSetpointW: -4000 });
    run(d, 1800, { sky: nightSky });
    const charged = d.measurements().importedWh;
    const e1 = d.measurements().storedWh!;
    expect(e1 - e0).toBeCloseTo(charged * 0.95, 0);
    d.update({ activePowerSetpointW: 4000 });
    let t = T0 + 1800_000;
    while (d.measurements().storedWh! > e0 + 1e-6) {
      d.step((t += 1000), 1, nightSky, 240, 60);
    }
    const delivered = d.measurements().exportedWh;
    // Delivered / charged = round-trip efficiency (within the last step's overshoot).
    expect(delivered / charged).toBeCloseTo(0.95 * 0.96, 2);
  });

  it('stops at the reserve and at max SoC and never delivers beyond what SoC allows', () => {
    const d = new SimInverter(batterySpec('b', { battery: { chargeEfficiency: 1, dischargeEfficiency: 1, minReservePct: 20, maxSocPct: 90, initialSocPct: 25 } }), 1);
    d.update({ activePowerSetpointW: 5000 });
    run(d, 3600, { sky: nightSky });
    expect(d.measurements().soc!).toBeCloseTo(20, 1);
    expect(d.measurements().w).toBeCloseTo(0, 0);
    expect(d.measurements().availWMax).toBe(0);
    d.update({ activePowerSetpointW: -5000 });
    run(d, 4 * 3600, { sky: nightSky, t0: T0 + 3600_000 });
    expect(d.measurements().soc!).toBeCloseTo(90, 1);
    expect(d.measurements().availWMin).toBe(0);
    expect(d.update({ activePowerSetpointW: 9000 })).toMatchObject({ ok: false });
  });

  it('a hybrid shares one VA limit and charges from its own PV surplus', () => {
    const spec = batterySpec('h', {
      kind: 'hybrid',
      nameplate: { maxW: 8000, maxVA: 8000, maxVarInject: 3500, maxVarAbsorb: 3500, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 10_000, nominalV: 240, normalCategory: 'B', abnormalCategory: 'II' },
      pv: pvSpec('x').pv,
    });
    const d = new SimInverter(spec, 1);
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(8000, 0); // PV clipped at the shared AC rating
    const soc0 = d.measurements().soc!;
    d.update({ activePowerSetpointW: 2000 });
    run(d, 600, { t0: T0 + 30_000 });
    expect(d.measurements().soc!).toBeGreaterThan(soc0); // surplus went into the battery
    expect(d.measurements().w).toBeCloseTo(2000, 0);
  });
});

describe('SimInverter: trips, cease to energize and enter service', () => {
  it('trips on overvoltage, waits in the window, then ramps back in', () => {
    const d = new SimInverter(pvSpec('p', {}, { esDelayS: 60, esRandomWindowS: 0, esRampS: 100 }), 1);
    run(d, 10);
    d.step(T0 + 11_000, 1, noonSky, 240 * 1.25, 60); // 1.2 pu clears in 0.16 s
    expect(d.operating).toBe('tripped');
    expect(d.measurements().w).toBe(0);
    run(d, 59, { t0: T0 + 11_000 });
    expect(d.operating).toBe('waiting');
    run(d, 3, { t0: T0 + 70_000 });
    expect(d.operating).toBe('starting');
    run(d, 50, { t0: T0 + 73_000 });
    const mid = d.measurements().w;
    expect(mid).toBeLessThanOrEqual(0.53 * 10_000);
    expect(mid).toBeGreaterThan(0.3 * 10_000);
    run(d, 60, { t0: T0 + 123_000 });
    expect(d.operating).toBe('running');
  });

  it('ceases to energize when service is not permitted and re-enters when it is', () => {
    const d = new SimInverter(pvSpec('p', {}, { esDelayS: 5, esRandomWindowS: 0, esRampS: 5 }), 1);
    run(d, 10);
    d.update({ permitService: false });
    run(d, 1, { t0: T0 + 10_000 });
    expect(d.measurements()).toMatchObject({ w: 0, var: 0, connected: false, operatingState: 'off' });
    d.update({ permitService: true });
    run(d, 15, { t0: T0 + 11_000 });
    expect(d.operating).toBe('running');
    expect(d.measurements().w).toBeGreaterThan(9000);
  });
});

describe('SimInverter: faults and writes', () => {
  it('rejects invalid writes without changing anything', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const before = d.settings();
    expect(d.update({ pf: 1.5 })).toMatchObject({ ok: false, reason: expect.stringContaining('pf') });
    expect(d.update({ voltVarCurve: [{ v: 100, var: 0 }] } as never)).toMatchObject({ ok: false });
    expect(d.update({ reactiveMode: 'voltVar', activePowerLimitPct: 120 })).toMatchObject({ ok: false });
    expect(d.update({ bogus: 1 } as never)).toMatchObject({ ok: false });
    expect(d.settings()).toEqual(before);
  });

  it('comms loss, stuck setpoints, rejection, slowness and noise', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const link = new InProcessLink(d);
    run(d, 5);
    d.setFault('commsLoss', true);
    expect(link.read()).toBeNull();
    expect(link.write({ kind: 'activePower', w: 1, derId: 'p' })).toBeNull();
    d.setFault('commsLoss', false);
    d.setFault('stuckSetpoint', true);
    expect(link.write({ kind: 'activePower', w: 1000, derId: 'p' })).toEqual({ status: 'applied' });
    expect(d.settings().activePowerSetpointW).toBeNull();
    d.setFault('stuckSetpoint', false);
    d.setFault('rejectCommands', true);
    expect(link.write({ kind: 'activePower', w: 1000, derId: 'p' })).toMatchObject({ status: 'rejected' });
    d.setFault('rejectCommands', false);
    d.setFault('slowResponse', true, 2500);
    expect(link.responseDelayMs).toBe(2500);
    d.setFault('noisyMeasurements', true, 0.05);
    const ws = Array.from({ length: 50 }, () => link.read()!.w);
    expect(new Set(ws).size).toBeGreaterThan(40);
    d.setFault('trip', true);
    run(d, 1, { t0: T0 + 5000 });
    expect(d.operating).toBe('tripped');
  });
});
