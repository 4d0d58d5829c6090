import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeProfile, encodeProfile, statusProfile, statusView, type DerPoint } from '../../../src/protocols/openfmb/index.js';
import { StateKind } from '../../../src/protocols/openfmb/messages.js';
import type { ESSPoint, SolarPoint } from '../../../src/protocols/openfmb/messages.js';
import { pointToPatch, unsupportedParts } from '../../../src/sim/openfmb/control.js';
import { pointStatus, statusFacts } from '../../../src/sim/openfmb/faces.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { batterySpec, pvSpec } from '../sim-fixtures.js';

const pv = pvSpec('pv-1');
const n = pv.nameplate; // 10 kW, 11 kVA, 4.4 kvar each way, 240 V

function patchOf(p: SolarPoint | ESSPoint, reactiveMode: 'none' | 'constantPf' | 'constantVar' | 'voltVar' = 'none') {
  const r = pointToPatch(p, n, { reactiveMode });
  if (!r.ok) throw new Error(r.reason);
  return r.patch;
}

describe('OpenFMB control points to device settings', () => {
  it('maps each function from absolute units to percentages of the ratings', () => {
    expect(patchOf({ wOperation: { modEna: true, wParameter: { wSpt: 4000 } } })).toEqual({ activePowerSetpointW: 4000 });
    expect(patchOf({ wOperation: {} })).toEqual({ activePowerSetpointW: null });
    expect(patchOf({ limitWOperation: { maxLimParameter: { modEna: true }, wMaxSptVal: 6500 } })).toEqual({ activePowerLimitPct: 65 });
    expect(patchOf({ limitWOperation: { maxLimParameter: {} } })).toEqual({ activePowerLimitPct: null });
    expect(patchOf({ vArOperation: { modEna: true, varParameter: { varTgtSpt: -2200 } } })).toEqual({ reactiveMode: 'constantVar', constantVarPct: -50 });
    expect(patchOf({ pFOperation: { ctlVal: true, pFParameter: { modEna: true, pFExtSet: false, pFGnTgtMxVal: 0.95 } } })).toEqual({
      reactiveMode: 'constantPf',
      pf: 0.95,
      pfExcitation: 'absorbing',
    });
    expect(
      patchOf({
        voltVarOperation: {
          crvPts: [
            { voltVal: 220.8, varVal: 1936 },
            { voltVal: 259.2, varVal: -1936 },
          ],
          vVarParameter: { modEna: true, VRef: 240 },
        },
      }),
    ).toEqual({ reactiveMode: 'voltVar', voltVarCurve: [{ v: 92, var: 44 }, { v: 108, var: -44 }].map((p) => ({ v: expect.closeTo(p.v, 9), var: expect.closeTo(p.var, 9) })) });
    expect(
      patchOf({
        voltWOperation: {
          crvPts: [
            { voltVal: 254.4, wVal: 10_000 },
            { voltVal: 264, wVal: 2000 },
          ],
          voltWParameter: { modEna: true },
        },
      }),
    ).toEqual({ voltWattEnabled: true, voltWattCurve: [{ v: expect.closeTo(106, 9), w: 100 }, { v: expect.closeTo(110, 9), w: 20 }] });
    // 6 kW/min is 100 W/s, 1 % of 10 kW per second.
    expect(patchOf({ rampRates: { positiveRealPowerKWPerMin: { value: 6 }, negativeRealPowerKWPerMin: { value: 12 } } })).toEqual({ rampUpPctPerS: 1, rampDownPctPerS: 2 });
    expect(patchOf({ state: { value: StateKind.StateKind_off } })).toEqual({ permitService: false });
    expect(patchOf({ state: { value: StateKind.StateKind_on } })).toEqual({ permitService: true });
  });

  it('a disabled reactive function ends the mode only when it is the current one', () => {
    const off: DerPoint = { vArOperation: {}, pFOperation: { pFParameter: {} }, voltVarOperation: { vVarParameter: {} } };
    expect(patchOf(off, 'constantPf')).toEqual({ reactiveMode: 'none' });
    expect(patchOf({ vArOperation: {} }, 'constantPf')).toEqual({});
  });

  it('refuses what the device cannot do, whole', () => {
    const twoModes = pointToPatch({ vArOperation: { modEna: true }, pFOperation: { ctlVal: true } }, n, { reactiveMode: 'none' });
    expect(twoModes).toEqual({ ok: false, reason: 'one reactive power mode at a time (got constantVar and constantPf)' });
    expect(pointToPatch({ limitWOperation: { maxLimParameter: { modEna: true }, wMaxSptVal: 12_000 } }, n, { reactiveMode: 'none' })).toMatchObject({ ok: false, reason: /outside 0..10000 W/ });
    expect(pointToPatch({ vArOperation: { modEna: true, varParameter: { varTgtSpt: 9000 } } }, n, { reactiveMode: 'none' })).toMatchObject({ ok: false });
    expect(pointToPatch({ state: { value: StateKind.StateKind_standby } }, n, { reactiveMode: 'none' })).toMatchObject({ ok: false, reason: /standby/ });
    const ess: ESSPoint = { function: { peakShaving: { peakShavingCtl: { value: true } } }, hzWOperation: { overHzWParameter: { modEna: true } }, wOperation: { modEna: true } };
    expect(unsupportedParts(ess)).toEqual(['hzWOperation', 'function.peakShaving']);
    expect(pointToPatch(ess, n, { reactiveMode: 'none' })).toMatchObject({ ok: false, reason: 'not supported by this device: hzWOperation, function.peakShaving' });
    // Present but off is not a request for the function.
    expect(unsupportedParts({ hzWOperation: { overHzWParameter: {} }, blackStartEnabled: {}, reset: { ctlVal: true } })).toEqual([]);
  });

  it('the status a device publishes, read back as a control, asks for the settings it has (through the wire)', () => {
    const reactive = fc.oneof(
      fc.constant({ reactiveMode: 'none' as const }),
      fc.record({ reactiveMode: fc.constant('constantVar' as const), constantVarPct: fc.double({ min: -100, max: 100, noNaN: true }) }),
      fc.record({ reactiveMode: fc.constant('constantPf' as const), pf: fc.double({ min: 0.8, max: 1, noNaN: true }), pfExcitation: fc.constantFrom('injecting' as const, 'absorbing' as const) }),
      fc.constant({ reactiveMode: 'voltVar' as const }),
    );
    const settings = fc.record({
      activePowerLimitPct: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: null }),
      voltWattEnabled: fc.boolean(),
      rampUpPctPerS: fc.double({ min: 0, max: 100, noNaN: true }),
      rampDownPctPerS: fc.double({ min: 0, max: 100, noNaN: true }),
      permitService: fc.boolean(),
    });
    fc.assert(
      fc.property(settings, reactive, fc.boolean(), (s, r, storage) => {
        const spec = storage ? batterySpec('b-1') : pvSpec('pv-1');
        const dev = new SimInverter(spec, 1);
        expect(dev.update({ ...s, ...r })).toEqual({ ok: true });
        const module = storage ? 'ess' : 'solar';
        const bytes = encodeProfile(storage ? 'ESSStatusProfile' : 'SolarStatusProfile', statusProfile(module, { mRID: 'x', messageId: 'm', timeMs: 1 }, statusFacts(dev)));
        const point = statusView(decodeProfile(storage ? 'ESSStatusProfile' : 'SolarStatusProfile', bytes)).point!;
        const copy = new SimInverter(spec, 2);
        const patch = pointToPatch(point as DerPoint, spec.nameplate, copy.settings());
        expect(patch.ok).toBe(true);
        if (!patch.ok) return;
        expect(copy.update(patch.patch)).toEqual({ ok: true });
        const a = dev.settings();
        const b = copy.settings();
        expect(b.reactiveMode).toBe(a.reactiveMode);
        expect(b.pfExcitation).toBe(a.pfExcitation);
        expect(b.voltWattEnabled).toBe(a.voltWattEnabled);
        expect(b.permitService).toBe(a.permitService);
        expect(b.activePowerLimitPct === null).toBe(a.activePowerLimitPct === null);
        const near = (x: number, y: number): void => expect(Math.abs(x - y)).toBeLessThan(1e-3 * Math.max(1, Math.abs(y)));
        if (a.activePowerLimitPct !== null) near(b.activePowerLimitPct!, a.activePowerLimitPct);
        near(b.pf, a.pf);
        near(b.constantVarPct, a.constantVarPct);
        near(b.rampUpPctPerS, a.rampUpPctPerS);
        near(b.rampDownPctPerS, a.rampDownPctPerS);
        a.voltVarCurve.forEach((p, i) => (near(b.voltVarCurve[i]!.v, p.v), near(b.voltVarCurve[i]!.var, p.var)));
        a.voltWattCurve.forEach((p, i) => (near(b.voltWattCurve[i]!.v, p.v), near(b.voltWattCurve[i]!.w, p.w)));
      }),
      { numRuns: 200 },
    );
  });

  it('point status carries absolute units', () => {
    const dev = new SimInverter(pv, 1);
    dev.update({ activePowerLimitPct: 40, reactiveMode: 'constantVar', constantVarPct: 25 });
    const p = pointStatus(dev.settings(), n);
    expect(p.limitWOperation).toEqual({ maxLimParameter: { modEna: true }, wMaxSptVal: 4000 });
    expect(p.vArOperation).toEqual({ modEna: true, varParameter: { varTgtSpt: 1100 } });
    expect(p.voltVarOperation?.vVarParameter).toEqual({ modEna: false, VRef: 240 });
    expect(p.state).toEqual({ value: StateKind.StateKind_on });
  });
});
