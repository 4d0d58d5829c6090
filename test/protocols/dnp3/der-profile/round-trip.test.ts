/**
 * Both sides of the profile together, without a wire: the DERMS recipes drive the outstation's
 * control model bound to a real simulated inverter, and the device's points come back through the
 * DERMS decoders. The oracle for "the setpoint took effect" is setpointToPatch, the in-process
 * meaning of every setpoint.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { VoltVarCurve } from '../../../../src/core/model/control.js';
import type { Nameplate } from '../../../../src/core/model/der.js';
import type { SetpointBody } from '../../../../src/core/model/setpoint.js';
import { commandsForSetpoint, nameplateFromPoints, readBackChecks, readBackMismatch, sampleFromPoints } from '../../../../src/protocols/dnp3/der-profile/master.js';
import type { ControlPatch } from '../../../../src/sim/controls.js';
import type { DeviceSettingsView, Measurements } from '../../../../src/sim/inverter.js';
import { setpointToPatch } from '../../../../src/sim/in-process-link.js';
import { batterySpec, nightSky, pvSpec } from '../../../sim/sim-fixtures.js';
import { Outstation } from './support.js';

const curveA: VoltVarCurve = [
  { v: 90, var: 25 },
  { v: 100, var: 0 },
  { v: 100.01, var: 0 },
  { v: 110, var: -25 },
];

const everyKind = (n: Nameplate): SetpointBody[] => [
  { kind: 'activePower', w: 0.37 * n.maxW },
  { kind: 'activePowerLimit', w: 0.42 * n.maxW, pct: 42 },
  { kind: 'reactivePower', var: 0.3 * n.maxVarInject },
  { kind: 'reactivePower', var: -0.55 * n.maxVarAbsorb },
  { kind: 'powerFactor', pf: 0.93, excitation: 'absorbing' },
  { kind: 'powerFactor', pf: 0.97, excitation: 'injecting' },
  { kind: 'voltVar', curve: curveA },
  { kind: 'voltWatt', curve: [{ v: 104, w: 100 }, { v: 108.5, w: 40 }, { v: 110, w: 0 }] },
  { kind: 'rampRates', increasingWPerS: 0.02 * n.maxW, decreasingWPerS: null },
  { kind: 'rampRates', increasingWPerS: 0.05 * n.maxW, decreasingWPerS: 0.1 * n.maxW },
  { kind: 'connect', connected: false },
  { kind: 'connect', connected: true },
  { kind: 'release', slot: 'activePower' },
  { kind: 'release', slot: 'activePowerLimit' },
  { kind: 'release', slot: 'reactive' },
  { kind: 'release', slot: 'voltWatt' },
  { kind: 'release', slot: 'rampRates' },
  { kind: 'release', slot: 'connect' },
];

/** How far each setting may sit from the patch's value: the resolution of the point that carries it. */
function tolerance(key: string, n: Nameplate): number {
  switch (key) {
    case 'activePowerSetpointW':
      return 0.0005 * Math.max(n.maxW, n.maxChargeW) + 1e-6;
    case 'pf':
      return 0.005 + 1e-9;
    case 'rampUpPctPerS':
    case 'rampDownPctPerS':
      return 0.005 + 1e-9;
    default:
      return 0.05 + 1e-9;
  }
}

function expectSettings(s: DeviceSettingsView, patch: ControlPatch, n: Nameplate): void {
  for (const [key, want] of Object.entries(patch)) {
    const got = (s as unknown as Record<string, unknown>)[key];
    if (typeof want === 'number') expect(Math.abs((got as number) - want), key).toBeLessThanOrEqual(tolerance(key, n));
    else if (Array.isArray(want)) {
      const curve = got as { v: number }[];
      expect(curve.length, key).toBe(want.length);
      want.forEach((p: Record<string, number>, i: number) => {
        for (const [f, x] of Object.entries(p)) expect(Math.abs((curve[i] as unknown as Record<string, number>)[f]! - x), `${key}[${i}].${f}`).toBeLessThanOrEqual(f === 'v' ? 0.005 + 1e-9 : 0.05 + 1e-9);
      });
    } else expect(got, key).toEqual(want);
  }
}

/** Command one setpoint through the recipes and the outstation; everything must succeed and read back. */
function roundTrip(o: Outstation, sp: SetpointBody): void {
  const steps = commandsForSetpoint(o.map, sp, o.nameplate);
  if ('rejected' in steps) throw new Error(`rejected: ${steps.rejected}`);
  const failed = o.send(steps).filter((r) => r.result.status !== 0);
  expect(failed, JSON.stringify(sp)).toEqual([]);
  expectSettings(o.dev.settings(), setpointToPatch({ ...sp, derId: o.dev.id }, o.nameplate), o.nameplate);
  const checks = readBackChecks(o.map, sp, o.nameplate);
  if ('rejected' in checks) throw new Error(checks.rejected);
  // Only a setpoint that changes nothing (ramp rates both null) has nothing to check.
  expect(checks.length > 0).toBe(steps.length > 0);
  expect(readBackMismatch(checks, o.points()), JSON.stringify(sp)).toBeNull();
}

function expectSampleMatches(o: Outstation): void {
  const m: Measurements = o.dev.measurements();
  const r = sampleFromPoints(o.map, o.dev.id, m.timestamp, o.points());
  if ('problem' in r) throw new Error(r.problem);
  const s = r.sample;
  expect(s.state).toBe(m.operatingState);
  expect(s.connected).toBe(m.connected);
  expect(s.timestamp).toBe(m.timestamp);
  expect(Math.abs(s.w - m.w)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(s.var - m.var)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(s.v - m.v)).toBeLessThanOrEqual(0.05 + 1e-9);
  expect(Math.abs(s.hz - m.hz)).toBeLessThanOrEqual(0.005 + 1e-9);
  expect(Math.abs(s.availWMax - m.availWMax)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(s.availWMin - m.availWMin)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(s.availVarMax - m.availVarMax)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(s.availVarMin - m.availVarMin)).toBeLessThanOrEqual(0.5);
  if (m.soc === null) expect(s.soc).toBeUndefined();
  else expect(Math.abs(s.soc! - m.soc)).toBeLessThanOrEqual(0.05 + 1e-9);
}

describe.each([
  ['PV', () => pvSpec('pv1')],
  ['battery', () => batterySpec('bat1')],
])('every setpoint kind on a %s inverter', (_name, spec) => {
  it.each(everyKind(spec().nameplate).map((sp) => [`${sp.kind} ${JSON.stringify(sp)}`, sp] as const))('%s', (_label, sp) => {
    const o = new Outstation(spec());
    o.run(3);
    roundTrip(o, sp);
    o.run(3);
    expectSampleMatches(o);
  });

  it('takes every kind one after another on the same device', () => {
    const o = new Outstation(spec());
    for (const sp of everyKind(o.nameplate)) {
      roundTrip(o, sp);
      o.run(1);
    }
  });
});

describe('charging and discharging a battery', () => {
  it.each([-2500, -5000, 1200, 5000])('an active power target of %d W', (w) => {
    const o = new Outstation(batterySpec('bat1'));
    roundTrip(o, { kind: 'activePower', w });
    expect(o.dev.settings().activePowerSetpointW).toBe(w);
    o.run(20);
    expect(Math.sign(o.dev.measurements().w)).toBe(Math.sign(w));
    expectSampleMatches(o);
  });
});

describe('sampleFromPoints(pointsFromDevice(...)) equals the measurements', () => {
  it('a PV inverter at noon, at night, throttled and ramping in', () => {
    const o = new Outstation(pvSpec('pv1', {}, { esDelayS: 0, esRandomWindowS: 0, esRampS: 100 }));
    o.run(5);
    expectSampleMatches(o);
    expect(o.dev.measurements().operatingState).toBe('running');

    roundTrip(o, { kind: 'activePowerLimit', w: 3000, pct: 30 });
    o.run(30);
    expect(o.dev.measurements().operatingState).toBe('throttled');
    expectSampleMatches(o);

    roundTrip(o, { kind: 'connect', connected: false });
    o.run(1);
    expect(o.dev.measurements().operatingState).toBe('off');
    expectSampleMatches(o);

    roundTrip(o, { kind: 'connect', connected: true });
    expect(o.dev.measurements().state).toBe('waiting');
    expectSampleMatches(o);
    o.run(2);
    expect(o.dev.measurements().operatingState).toBe('starting');
    expectSampleMatches(o);

    o.run(3, nightSky);
    expectSampleMatches(o);
  });

  it('a tripped inverter reads as a fault', () => {
    const o = new Outstation(pvSpec('pv1'));
    o.run(2);
    o.dev.setFault('trip', true);
    o.run(1);
    expect(o.dev.measurements().operatingState).toBe('fault');
    expectSampleMatches(o);
  });

  it('reactive power both ways and a battery at rest', () => {
    const pv = new Outstation(pvSpec('pv1'));
    roundTrip(pv, { kind: 'reactivePower', var: -3000 });
    pv.run(20);
    expect(pv.dev.measurements().var).toBeLessThan(-2000);
    expectSampleMatches(pv);

    const bat = new Outstation(batterySpec('bat1'));
    bat.run(3);
    expect(bat.dev.measurements().w).toBe(0);
    expectSampleMatches(bat);
  });
});

describe('discovery', () => {
  it.each([
    ['PV', pvSpec('pv1', { nameplate: { ...pvSpec('x').nameplate, normalCategory: 'A', abnormalCategory: 'III', nominalV: 208 } })],
    ['battery', batterySpec('bat1')],
  ])('nameplateFromPoints reads back the %s nameplate', (_n, spec) => {
    const o = new Outstation(spec);
    const r = nameplateFromPoints(o.map, o.points());
    if ('problem' in r) throw new Error(r.problem);
    expect(r.storage).toBe(spec.kind === 'battery');
    expect(r.nameplate).toEqual(spec.nameplate);
  });
});

describe('properties', () => {
  const pv = (): Outstation => new Outstation(pvSpec('pv1'));

  it('any limit, PF, var target or ramp rate the points can carry lands on the device and reads back', () => {
    const setpoint = fc.oneof(
      fc.double({ min: 0, max: 100, noNaN: true }).map((pct): SetpointBody => ({ kind: 'activePowerLimit', w: pct * 100, pct })),
      fc.record({ pf: fc.double({ min: 0.01, max: 1, noNaN: true }), excitation: fc.constantFrom('injecting' as const, 'absorbing' as const) }).map((r): SetpointBody => ({ kind: 'powerFactor', ...r })),
      fc.double({ min: -4400, max: 4400, noNaN: true }).map((v): SetpointBody => ({ kind: 'reactivePower', var: v })),
      fc.double({ min: 0, max: 10_000, noNaN: true }).map((w): SetpointBody => ({ kind: 'activePower', w })),
      fc
        .tuple(fc.option(fc.double({ min: 0, max: 10_000, noNaN: true })), fc.option(fc.double({ min: 0, max: 10_000, noNaN: true })))
        .map(([up, down]): SetpointBody => ({ kind: 'rampRates', increasingWPerS: up, decreasingWPerS: down })),
    );
    fc.assert(fc.property(setpoint, (sp) => roundTrip(pv(), sp)), { numRuns: 300 });
  });

  it('any volt-var or volt-watt curve whose voltages stay apart after scaling round-trips', () => {
    const curve = fc
      .uniqueArray(fc.integer({ min: 1, max: 20_000 }), { minLength: 2, maxLength: 10 })
      .chain((xs) => {
        const v = [...xs].sort((a, b) => a - b).map((x) => x / 100);
        return fc.tuple(fc.constant(v), fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { minLength: v.length, maxLength: v.length }));
      });
    fc.assert(
      fc.property(curve, fc.boolean(), ([vs, ys], volWatt) => {
        const sp: SetpointBody = volWatt
          ? { kind: 'voltWatt', curve: vs.map((v, i) => ({ v, w: ys[i]! })) }
          : { kind: 'voltVar', curve: vs.map((v, i) => ({ v, var: ys[i]! })) };
        roundTrip(pv(), sp);
      }),
      { numRuns: 200 },
    );
  });
});
