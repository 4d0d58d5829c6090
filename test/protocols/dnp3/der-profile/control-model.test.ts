import { describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../../src/protocols/dnp3/der-profile/commands.js';
import { commandsForSetpoint, readBackChecks, readBackMismatch } from '../../../../src/protocols/dnp3/der-profile/master.js';
import { mergeDerPointMap, defaultDerPointMap as map } from '../../../../src/protocols/dnp3/der-profile/point-map.js';
import type { SetpointBody } from '../../../../src/core/model/setpoint.js';
import { batterySpec, pvSpec } from '../../../sim/sim-fixtures.js';
import { Outstation } from './support.js';

const { SUCCESS, NO_SELECT, FORMAT_ERROR, NOT_SUPPORTED, HARDWARE_ERROR, OUT_OF_RANGE } = CommandStatus;

function commanded(o: Outstation, sp: SetpointBody): void {
  const steps = commandsForSetpoint(o.map, sp, o.nameplate);
  if ('rejected' in steps) throw new Error(steps.rejected);
  expect(o.send(steps).every((r) => r.result.status === SUCCESS)).toBe(true);
}
function mismatch(o: Outstation, sp: SetpointBody): string | null {
  const checks = readBackChecks(o.map, sp, o.nameplate);
  if ('rejected' in checks) throw new Error(checks.rejected);
  return readBackMismatch(checks, o.points());
}

describe('status codes for controls the device will not take', () => {
  it('an index that is no control of the device: NOT_SUPPORTED', () => {
    const o = new Outstation(pvSpec('pv1'));
    expect(o.model.analog(0, 2400, 'direct')).toEqual({ status: NOT_SUPPORTED, reason: 'AO0 is not a control of this device' });
    expect(o.model.binary(2, 'LATCH_ON', 'direct').status).toBe(NOT_SUPPORTED);
    // Past the configured number of curve points.
    expect(o.model.analog(269, 100, 'direct').status).toBe(NOT_SUPPORTED);
  });

  it('a value that is not an integer: FORMAT_ERROR', () => {
    const o = new Outstation(pvSpec('pv1'));
    expect(o.model.analog(88, 500.5, 'direct')).toEqual({ status: FORMAT_ERROR, reason: 'AO88 (ao.activePowerLimitGen): 500.5 is not an integer' });
    expect(o.model.analog(88, Number.NaN, 'direct').status).toBe(FORMAT_ERROR);
  });

  it('a value outside the point range or the device: OUT_OF_RANGE, nothing changes', () => {
    const o = new Outstation(pvSpec('pv1'));
    const before = o.dev.settings();
    expect(o.model.analog(88, 1001, 'direct')).toEqual({ status: OUT_OF_RANGE, reason: 'AO88 (ao.activePowerLimitGen): 100.1 outside 0..100 %' });
    expect(o.model.analog(210, 0, 'direct').status).toBe(OUT_OF_RANGE);
    expect(o.model.analog(96, 10_001, 'direct').status).toBe(OUT_OF_RANGE);
    expect(o.model.analog(93, -10, 'direct')).toEqual({ status: OUT_OF_RANGE, reason: 'a charging target (-1 %) needs storage; this DER has no charge rating' });
    expect(o.model.analog(244, 5, 'direct')).toEqual({ status: OUT_OF_RANGE, reason: 'curve slot 5; this device has slots 1..4' });
    expect(o.model.analog(217, 0, 'direct').status).toBe(OUT_OF_RANGE);
    expect(o.model.analog(245, 3, 'direct')).toEqual({ status: OUT_OF_RANGE, reason: 'mode type 3 is not supported (0, 2, 5)' });
    expect(o.model.analog(247, 29, 'direct').status).toBe(OUT_OF_RANGE);
    expect(o.model.analog(246, 11, 'direct')).toEqual({ status: OUT_OF_RANGE, reason: '11 points; a curve has 0..10' });
    expect(o.model.analog(249, 20_001, 'direct').status).toBe(OUT_OF_RANGE);
    expect(o.dev.settings()).toEqual(before);
  });

  it('an operation a binary output does not have: NOT_SUPPORTED', () => {
    const o = new Outstation(pvSpec('pv1'));
    expect(o.model.binary(17, 'PULSE_OFF', 'direct').status).toBe(NOT_SUPPORTED);
    expect(o.model.binary(17, 'PULSE_ON', 'direct').status).toBe(NOT_SUPPORTED);
    expect(o.model.binary(17, 'LATCH_ON', 'direct', 'TRIP').status).toBe(NOT_SUPPORTED);
  });

  it('connect / disconnect without a select: NO_SELECT', () => {
    const o = new Outstation(pvSpec('pv1'));
    expect(o.model.binary(5, 'LATCH_OFF', 'direct')).toEqual({ status: NO_SELECT, reason: 'BO5 (bo.connect) needs select before operate' });
    expect(o.dev.settings().permitService).toBe(true);
  });

  it('a write the device refuses: HARDWARE_ERROR with its reason, and the outstation keeps its state', () => {
    const o = new Outstation(pvSpec('pv1'));
    expect(o.model.analog(88, 300, 'direct').status).toBe(SUCCESS);
    o.dev.setFault('rejectCommands', true);
    expect(o.model.binary(17, 'LATCH_ON', 'direct')).toEqual({ status: HARDWARE_ERROR, reason: 'the device refused: device rejects commands' });
    expect(o.dev.settings().activePowerLimitPct).toBeNull();
    expect(o.points().boStatus.get(17)).toBe(false);
    // A staged value needs no device write, so it is still taken.
    expect(o.model.analog(88, 400, 'direct').status).toBe(SUCCESS);
    o.dev.setFault('rejectCommands', false);
    expect(o.model.binary(17, 'LATCH_ON', 'direct').status).toBe(SUCCESS);
    expect(o.dev.settings().activePowerLimitPct).toBe(40);
  });
});

describe('select, operate, direct', () => {
  it('select validates and changes nothing; operate then does the work', () => {
    const o = new Outstation(pvSpec('pv1'));
    const before = { settings: o.dev.settings(), points: o.points(), view: o.model.view() };
    expect(o.model.binary(5, 'LATCH_OFF', 'select')).toEqual({ status: SUCCESS, reason: null });
    expect(o.model.analog(88, 500, 'select').status).toBe(SUCCESS);
    expect(o.model.analog(244, 3, 'select').status).toBe(SUCCESS);
    expect(o.model.analog(88, 5000, 'select').status).toBe(OUT_OF_RANGE);
    expect(o.dev.settings()).toEqual(before.settings);
    expect(o.points()).toEqual(before.points);
    expect(o.model.view()).toEqual(before.view);
    expect(o.model.binary(5, 'LATCH_OFF', 'operate').status).toBe(SUCCESS);
    expect(o.dev.settings().permitService).toBe(false);
  });

  it('PULSE_ON with CLOSE / TRIP works a binary output like LATCH_ON / LATCH_OFF', () => {
    const o = new Outstation(pvSpec('pv1'));
    expect(o.model.binary(5, 'PULSE_ON', 'operate', 'TRIP').status).toBe(SUCCESS);
    expect(o.dev.settings().permitService).toBe(false);
    expect(o.model.binary(5, 'PULSE_ON', 'operate', 'CLOSE').status).toBe(SUCCESS);
    expect(o.dev.settings().permitService).toBe(true);
  });
});

describe('values staged until their enable', () => {
  it('AO88 waits for BO17; with the limit on it applies at once; off keeps the value for next time', () => {
    const o = new Outstation(pvSpec('pv1'));
    expect(o.points().aoStatus.get(88)).toBe(1000);
    o.model.analog(88, 250, 'direct');
    expect(o.dev.settings().activePowerLimitPct).toBeNull();
    expect(o.points().aoStatus.get(88)).toBe(250);
    expect(o.points().ai.get(149)).toBe(250);
    o.model.binary(17, 'LATCH_ON', 'direct');
    expect(o.dev.settings().activePowerLimitPct).toBe(25);
    o.model.analog(88, 600, 'direct');
    expect(o.dev.settings().activePowerLimitPct).toBe(60);
    o.model.binary(17, 'LATCH_OFF', 'direct');
    expect(o.dev.settings().activePowerLimitPct).toBeNull();
    expect(o.points().aoStatus.get(88)).toBe(600);
    expect(o.points().bi.get(69)).toBe(false);
  });

  it('AO93 waits for BO18 and scales by the charge rating when negative', () => {
    const o = new Outstation(batterySpec('bat1'));
    o.model.analog(93, -400, 'direct');
    expect(o.dev.settings().activePowerSetpointW).toBeNull();
    o.model.binary(18, 'LATCH_ON', 'direct');
    expect(o.dev.settings().activePowerSetpointW).toBe(-2000);
    o.model.analog(93, 800, 'direct');
    expect(o.dev.settings().activePowerSetpointW).toBe(4000);
    expect(o.points().ai.get(154)).toBe(800);
  });

  it('a ramp time reaches a new limit over that time', () => {
    const ramped = new Outstation(pvSpec('pv1'));
    const sudden = new Outstation(pvSpec('pv2'));
    for (const o of [ramped, sudden]) o.run(20);
    commanded(ramped, { kind: 'activePowerLimit', w: 2000, pct: 20, rampTimeMs: 60_000 } as SetpointBody);
    commanded(sudden, { kind: 'activePowerLimit', w: 2000, pct: 20 });
    expect(ramped.points().aoStatus.get(84)).toBe(60);
    for (const o of [ramped, sudden]) o.run(15);
    expect(sudden.dev.measurements().w).toBeLessThan(2100);
    expect(ramped.dev.measurements().w).toBeGreaterThan(5000);
    ramped.run(60);
    expect(ramped.dev.measurements().w).toBeLessThan(2100);
  });

  it('the charging PF and excitation are the one PF of the simulated inverter', () => {
    const o = new Outstation(batterySpec('bat1'));
    o.model.analog(211, 88, 'direct');
    o.model.binary(11, 'LATCH_ON', 'direct');
    expect(o.dev.settings()).toMatchObject({ pf: 0.88, pfExcitation: 'absorbing' });
    expect([o.points().aoStatus.get(210), o.points().aoStatus.get(211)]).toEqual([88, 88]);
    expect([o.points().bi.get(29), o.points().bi.get(30)]).toEqual([true, true]);
  });

  it('enabling one reactive mode ends the other; switching off a mode that is not on changes nothing', () => {
    const o = new Outstation(pvSpec('pv1'));
    o.model.binary(27, 'LATCH_ON', 'direct');
    expect(o.dev.settings().reactiveMode).toBe('constantVar');
    o.model.binary(28, 'LATCH_ON', 'direct');
    expect(o.dev.settings().reactiveMode).toBe('constantPf');
    expect(o.points().boStatus.get(27)).toBe(false);
    expect(o.model.binary(27, 'LATCH_OFF', 'direct').status).toBe(SUCCESS);
    expect(o.dev.settings().reactiveMode).toBe('constantPf');
  });
});

describe('curve editing', () => {
  const edit = (o: Outstation, slot: number, mode: number, yUnits: number, pts: [number, number][]): void => {
    const w = (i: number, v: number): void => expect(o.model.analog(i, v, 'direct').status).toBe(SUCCESS);
    w(244, slot);
    w(245, mode);
    w(247, 129);
    w(248, yUnits);
    pts.forEach(([x, y], k) => {
      w(249 + 2 * k, x);
      w(250 + 2 * k, y);
    });
    w(246, pts.length);
  };

  it('stages points until the curve is selected and enabled; the status shows the staged edit', () => {
    const o = new Outstation(pvSpec('pv1'));
    const before = o.dev.settings().voltVarCurve;
    edit(o, 3, 2, 2, [
      [9500, 300],
      [10_500, -300],
    ]);
    expect(o.dev.settings().voltVarCurve).toEqual(before);
    const p = o.points();
    expect([p.aoStatus.get(244), p.aoStatus.get(245), p.aoStatus.get(246), p.aoStatus.get(249), p.aoStatus.get(252)]).toEqual([3, 2, 2, 9500, -300]);
    expect([p.ai.get(328), p.ai.get(333), p.ai.get(336)]).toEqual([3, 9500, -300]);
    expect(o.model.analog(217, 3, 'direct').status).toBe(SUCCESS);
    expect(o.dev.settings().reactiveMode).toBe('none');
    expect(o.model.binary(29, 'LATCH_ON', 'direct').status).toBe(SUCCESS);
    expect(o.dev.settings()).toMatchObject({ reactiveMode: 'voltVar', voltVarCurve: [{ v: 95, var: 30 }, { v: 105, var: -30 }] });
    expect(o.points().ai.get(297)).toBe(3);
  });

  it('selecting another slot while volt-var runs applies that slot at once', () => {
    const o = new Outstation(pvSpec('pv1'));
    commanded(o, { kind: 'voltVar', curve: [{ v: 95, var: 20 }, { v: 105, var: -20 }] });
    edit(o, 4, 2, 2, [
      [9000, 440],
      [11_000, -440],
    ]);
    expect(o.dev.settings().voltVarCurve[0]).toEqual({ v: 95, var: 20 });
    expect(o.model.analog(217, 4, 'direct').status).toBe(SUCCESS);
    expect(o.dev.settings().voltVarCurve).toEqual([{ v: 90, var: 44 }, { v: 110, var: -44 }]);
  });

  it('refuses to enable a curve that is not one: wrong type, too few points, voltages out of order', () => {
    const o = new Outstation(pvSpec('pv1'));
    const before = o.dev.settings();
    edit(o, 1, 5, 5, [
      [10_600, 1000],
      [11_000, 200],
    ]);
    expect(o.model.binary(29, 'LATCH_ON', 'direct')).toEqual({ status: OUT_OF_RANGE, reason: 'curve slot 1: mode type 5 is not volt-var (2)' });
    edit(o, 1, 2, 2, [[9500, 0]]);
    expect(o.model.binary(29, 'LATCH_ON', 'direct').reason).toMatch(/^curve slot 1: volt-var curve /);
    edit(o, 1, 2, 2, [
      [10_500, 0],
      [9500, 0],
    ]);
    expect(o.model.binary(29, 'LATCH_ON', 'direct')).toEqual({ status: OUT_OF_RANGE, reason: 'curve slot 1: volt-var curve point 2: voltages must strictly increase' });
    expect(o.model.binary(29, 'LATCH_ON', 'select').status).toBe(OUT_OF_RANGE);
    expect(o.dev.settings()).toEqual(before);
    // The volt-watt slot keeps its curve: an edit of slot 1 touched nothing else.
    expect(o.model.binary(25, 'LATCH_ON', 'direct').status).toBe(SUCCESS);
    expect(o.dev.settings()).toMatchObject({ voltWattEnabled: true, voltWattCurve: before.voltWattCurve });
  });

  it('starts an edit from what the slot shows, so changing one point keeps the others', () => {
    const o = new Outstation(pvSpec('pv1'));
    const vv = o.dev.settings().voltVarCurve;
    expect(o.model.analog(244, 1, 'direct').status).toBe(SUCCESS);
    expect(o.model.analog(250, 300, 'direct').status).toBe(SUCCESS);
    expect(o.model.binary(29, 'LATCH_ON', 'direct').status).toBe(SUCCESS);
    expect(o.dev.settings().voltVarCurve).toEqual([{ ...vv[0]!, var: 30 }, ...vv.slice(1)]);
  });
});

describe('read-back catches a device that acknowledges and does nothing', () => {
  it.each<[string, SetpointBody, SetpointBody]>([
    ['a limit', { kind: 'activePowerLimit', w: 3000, pct: 30 }, { kind: 'activePowerLimit', w: 6000, pct: 60 }],
    ['a volt-var curve', { kind: 'voltVar', curve: [{ v: 95, var: 20 }, { v: 105, var: -20 }] }, { kind: 'voltVar', curve: [{ v: 93, var: 40 }, { v: 107, var: -40 }] }],
    ['a volt-watt curve', { kind: 'voltWatt', curve: [{ v: 105, w: 100 }, { v: 109, w: 10 }] }, { kind: 'voltWatt', curve: [{ v: 106, w: 100 }, { v: 110, w: 30 }] }],
  ])('%s', (_what, first, second) => {
    const o = new Outstation(pvSpec('pv1'));
    commanded(o, first);
    expect(mismatch(o, first)).toBeNull();
    o.dev.setFault('stuckSetpoint', true);
    commanded(o, second);
    expect(mismatch(o, second)).toMatch(/^AO\d+ \(ao\.\w+(\[\d+\])?\) reads -?\d+, expected -?\d+ ±1$/);
  });
});

describe('a device map without some points', () => {
  it('has no controls for the points it lacks', () => {
    const lean = mergeDerPointMap(map, { points: { 'ao.rampUp': null, 'bo.connect': null } }, 'lean');
    const o = new Outstation(pvSpec('pv1'), lean);
    expect(o.model.analog(96, 100, 'direct').status).toBe(NOT_SUPPORTED);
    expect(o.model.binary(5, 'LATCH_OFF', 'operate').status).toBe(NOT_SUPPORTED);
    expect(o.points().aoStatus.has(96)).toBe(false);
    expect(o.points().boStatus.has(5)).toBe(false);
  });
});
