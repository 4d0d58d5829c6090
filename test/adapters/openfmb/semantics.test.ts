import { describe, expect, it } from 'vitest';
import type { SetpointBody } from '../../../src/core/model/setpoint.js';
import { sampleProblem } from '../../../src/core/model/telemetry.js';
import { parseDer } from '../../../src/core/model/der.js';
import { notReflected, operatingState, ratingsFrom, sampleFrom, setpointToPoint, type Ratings } from '../../../src/adapters/openfmb/semantics.js';
import { HealthKind, OperatingStateKind, StateKind } from '../../../src/protocols/openfmb/messages.js';
import type { ReadingView, StatusView } from '../../../src/protocols/openfmb/index.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { pointToPatch } from '../../../src/sim/openfmb/control.js';
import { capabilityFacts, pointStatus } from '../../../src/sim/openfmb/faces.js';
import { batterySpec, pvSpec } from '../../sim/sim-fixtures.js';

const pvRatings: Ratings = { maxW: 10_000, maxVA: 11_000, maxVarInject: 4400, maxVarAbsorb: 4400, nominalV: 240, maxChargeW: 0, maxDischargeW: 0, energyCapacityWh: 0 };
const batRatings: Ratings = { ...pvRatings, maxW: 5000, maxVA: 5000, maxVarInject: 2200, maxVarAbsorb: 2200, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 13_500 };

const reading = (over: Partial<ReadingView> = {}): ReadingView => ({ timeMs: 1, w: 6000, var: 100, va: 6001, pf: 1, v: 241, hz: 60.01, exportedWh: 0, importedWh: 0, ...over });
const status = (over: Partial<StatusView> = {}): StatusView => ({
  timeMs: 1,
  health: HealthKind.HealthKind_OK,
  operatingState: OperatingStateKind.OperatingStateKind_connected_and_generating,
  connected: true,
  standby: undefined,
  soc: undefined,
  whAvail: undefined,
  point: undefined,
  ...over,
});

const allSetpoints: SetpointBody[] = [
  { kind: 'activePower', w: 4200 },
  { kind: 'activePowerLimit', w: 3000, pct: 30 },
  { kind: 'reactivePower', var: -1500 },
  { kind: 'powerFactor', pf: 0.9, excitation: 'absorbing' },
  { kind: 'voltVar', curve: [{ v: 92, var: 44 }, { v: 98, var: 0 }, { v: 102, var: 0 }, { v: 108, var: -44 }] },
  { kind: 'voltWatt', curve: [{ v: 106, w: 100 }, { v: 110, w: 20 }] },
  { kind: 'rampRates', increasingWPerS: 100, decreasingWPerS: 250 },
  { kind: 'connect', connected: false },
  { kind: 'connect', connected: true },
  { kind: 'release', slot: 'activePower' },
  { kind: 'release', slot: 'activePowerLimit' },
  { kind: 'release', slot: 'reactive' },
  { kind: 'release', slot: 'voltWatt' },
  { kind: 'release', slot: 'rampRates' },
  { kind: 'release', slot: 'connect' },
];

describe('OpenFMB adapter semantics', () => {
  it('every setpoint kind, as the adapter sends it and a simulated device applies it, shows in that device\'s next status', () => {
    for (const [spec, ratings] of [
      [pvSpec('pv'), pvRatings],
      [batterySpec('bat'), batRatings],
    ] as const) {
      const dev = new SimInverter(spec, 1);
      for (const sp of allSetpoints) {
        const point = setpointToPoint(sp, ratings, spec.kind);
        if (typeof point === 'string') throw new Error(point);
        const before = notReflected(point, pointStatus(dev.settings(), spec.nameplate));
        const patch = pointToPatch(point, spec.nameplate, dev.settings());
        expect(patch.ok, `${spec.kind} ${sp.kind}`).toBe(true);
        if (!patch.ok) continue;
        expect(dev.update(patch.patch), `${spec.kind} ${JSON.stringify(sp)}`).toEqual({ ok: true });
        expect(notReflected(point, pointStatus(dev.settings(), spec.nameplate)), `${spec.kind} ${JSON.stringify(sp)} (before: ${before})`).toBeNull();
      }
    }
  });

  it('a status that does not show the setpoint says why', () => {
    const dev = new SimInverter(pvSpec('pv'), 1);
    const st = pointStatus(dev.settings(), pvSpec('pv').nameplate);
    const ask = (sp: SetpointBody): string | null => notReflected(setpointToPoint(sp, pvRatings, 'pv') as never, st);
    expect(ask({ kind: 'activePowerLimit', w: 6000, pct: 60 })).toBe('active power limit not enabled');
    expect(ask({ kind: 'activePower', w: 100 })).toBe('real power setpoint not enabled');
    expect(ask({ kind: 'reactivePower', var: 100 })).toBe('constant var not enabled');
    expect(ask({ kind: 'connect', connected: false })).toBe(`state ${StateKind.StateKind_on}, not ${StateKind.StateKind_off}`);
    expect(ask({ kind: 'rampRates', increasingWPerS: 10, decreasingWPerS: null })).toBe('a different increasing ramp rate');
    expect(ask({ kind: 'release', slot: 'reactive' })).toBeNull();
    dev.update({ activePowerLimitPct: 50 });
    expect(notReflected(setpointToPoint({ kind: 'activePowerLimit', w: 6000, pct: 60 }, pvRatings, 'pv') as never, pointStatus(dev.settings(), pvSpec('pv').nameplate))).toBe('active power limit 5000 W, not 6000 W');
    expect(notReflected({ wOperation: { modEna: true } }, undefined)).toBe('the status has no point status');
  });

  it('refuses what cannot be sent', () => {
    expect(setpointToPoint({ kind: 'activePower', w: -100 }, pvRatings, 'pv')).toMatch(/PV inverter cannot take -100 W/);
    expect(setpointToPoint({ kind: 'activePower', w: -100 }, batRatings, 'battery')).toEqual({ wOperation: { modEna: true, wParameter: { wSpt: -100 } } });
    expect(setpointToPoint({ kind: 'rampRates', increasingWPerS: null, decreasingWPerS: null }, pvRatings, 'pv')).toBe('no ramp rate given');
  });

  it('ratings come from the capability profile', () => {
    const c = capabilityFacts(batterySpec('b'));
    expect(ratingsFrom({ timeMs: 1, ...c })).toEqual(batRatings);
    expect(ratingsFrom({ timeMs: 1 })).toBeNull();
  });

  it('turns a PV reading and status into a plausible sample', () => {
    const der = parseDer({ mRID: 'pv', name: 'pv', kind: 'pv', nameplate: { maxW: 10_000, maxVA: 11_000, maxVarInject: 4400, maxVarAbsorb: 4400, nominalV: 240 }, endpoint: { protocol: 'openfmb', equipmentMRID: 'pv', module: 'solar' } });
    const s = sampleFrom('pv', 1000, reading(), status(), pvRatings, 'pv')!;
    expect(s).toEqual({
      derId: 'pv',
      timestamp: 1000,
      w: 6000,
      var: 100,
      v: 241,
      hz: 60.01,
      soc: undefined,
      connected: true,
      state: 'running',
      availWMax: 6000,
      availWMin: 0,
      availVarMax: 4400,
      availVarMin: -4400,
    });
    expect(sampleProblem(s, der)).toBeNull();
    // Held at a 60 % limit: throttled, and up to the rating may be available.
    const held = status({ point: { limitWOperation: { maxLimParameter: { modEna: true }, wMaxSptVal: 6000 } } });
    expect(sampleFrom('pv', 1000, reading(), held, pvRatings, 'pv')).toMatchObject({ state: 'throttled', availWMax: 10_000 });
    expect(sampleFrom('pv', 1000, reading({ w: 2000 }), held, pvRatings, 'pv')).toMatchObject({ state: 'running', availWMax: 2000 });
    expect(sampleFrom('pv', 1000, reading({ w: undefined }), status(), pvRatings, 'pv')).toBeNull();
  });

  it('turns an ESS status into state and state of charge, storage bounds by SoC', () => {
    const ess = (over: Partial<StatusView>): StatusView => status({ operatingState: undefined, standby: false, soc: 55, point: { state: { value: StateKind.StateKind_on } }, ...over });
    expect(sampleFrom('b', 1, reading({ w: -2000 }), ess({}), batRatings, 'battery')).toMatchObject({ state: 'running', soc: 55, availWMax: 5000, availWMin: -5000, connected: true });
    expect(sampleFrom('b', 1, reading({ w: 0 }), ess({ soc: 100 }), batRatings, 'battery')).toMatchObject({ availWMax: 5000, availWMin: 0 });
    expect(sampleFrom('b', 1, reading({ w: 0 }), ess({ soc: 0 }), batRatings, 'battery')).toMatchObject({ availWMax: 0, availWMin: -5000 });
    expect(operatingState(ess({ health: HealthKind.HealthKind_Alarm }), 0, batRatings, false)).toBe('fault');
    expect(operatingState(ess({ point: { state: { value: StateKind.StateKind_off } } }), 0, batRatings, false)).toBe('off');
    expect(operatingState(ess({ standby: true }), 0, batRatings, false)).toBe('standby');
    expect(sampleFrom('b', 1, reading({ w: 0 }), ess({ connected: false, standby: true }), batRatings, 'battery')).toMatchObject({ state: 'standby', connected: false, availWMax: 0, availWMin: 0, availVarMax: 0 });
  });
});
