import { describe, expect, it } from 'vitest';
import { OperatingStateKind } from '../../../src/protocols/openfmb/messages.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { capabilityFacts, moduleOf, readingValues, statusFacts } from '../../../src/sim/openfmb/faces.js';
import { batterySpec, nightSky, noonSky, pvSpec } from '../sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
function run(d: SimInverter, seconds: number, sky = noonSky, v = 240): SimInverter {
  for (let i = 1; i <= seconds; i++) d.step(T0 + i * 1000, 1, sky, v, 60);
  return d;
}

describe('a simulated inverter in OpenFMB terms', () => {
  it('speaks solarmodule as PV, essmodule as a battery or hybrid', () => {
    expect([moduleOf('pv'), moduleOf('battery'), moduleOf('hybrid')]).toEqual(['solar', 'ess', 'ess']);
  });

  it('reads in SI units, power factor signed as active power', () => {
    const d = run(new SimInverter(batterySpec('b'), 1), 10);
    d.update({ activePowerSetpointW: -4000, reactiveMode: 'constantVar', constantVarPct: 50 });
    run(d, 20);
    const m = d.measurements();
    const r = readingValues(m);
    expect(r).toMatchObject({ w: m.w, var: m.var, va: m.va, v: m.v, hz: 60 });
    expect(r.w).toBeLessThan(0);
    expect(r.pf).toBeCloseTo(-m.pf, 12);
    expect(statusFacts(d).operatingState).toBe(OperatingStateKind.OperatingStateKind_connected_and_consuming);
  });

  it('reports generating, idle, off, standby and failed', () => {
    expect(statusFacts(run(new SimInverter(pvSpec('p'), 1), 30)).operatingState).toBe(OperatingStateKind.OperatingStateKind_connected_and_generating);
    expect(statusFacts(run(new SimInverter(pvSpec('p'), 1), 30, nightSky)).operatingState).toBe(OperatingStateKind.OperatingStateKind_connected_and_idle);
    const off = new SimInverter(pvSpec('p'), 1);
    off.update({ permitService: false });
    expect(statusFacts(run(off, 2))).toMatchObject({ operatingState: OperatingStateKind.OperatingStateKind_off, connected: false, alarm: false });
    off.update({ permitService: true });
    expect(statusFacts(run(off, 2))).toMatchObject({ operatingState: OperatingStateKind.OperatingStateKind_disconnected_and_standby, standby: true, connected: false });
    const tripped = new SimInverter(pvSpec('p'), 1);
    tripped.setFault('trip', true);
    expect(statusFacts(run(tripped, 2))).toMatchObject({ operatingState: OperatingStateKind.OperatingStateKind_failed, alarm: true, connected: false });
  });

  it('states ratings, with the storage ones for a battery', () => {
    expect(capabilityFacts(pvSpec('p'))).toMatchObject({ maxW: 10_000, maxVA: 11_000, nominalV: 240, nominalHz: 60, serial: 'p' });
    expect(capabilityFacts(pvSpec('p')).energyCapacityWh).toBeUndefined();
    expect(capabilityFacts(batterySpec('b'))).toMatchObject({ maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 13_500 });
  });
});
