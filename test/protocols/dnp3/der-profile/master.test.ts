import { describe, expect, it } from 'vitest';
import type { Nameplate } from '../../../../src/core/model/der.js';
import {
  commandsForSetpoint,
  defaultDerPointMap as map,
  emptySnapshot,
  hasNativeRamp,
  mergeDerPointMap,
  nameplateFromPoints,
  readBackChecks,
  readBackMismatch,
  sampleFromPoints,
  setpointKindsFor,
  type DnpCommandStep,
  type MutablePointSnapshot,
  type SetpointInput,
} from '../../../../src/protocols/dnp3/der-profile/index.js';

const pv: Nameplate = { maxW: 10_000, maxVA: 11_000, maxVarInject: 4400, maxVarAbsorb: 4400, maxChargeW: 0, maxDischargeW: 0, energyCapacityWh: 0, nominalV: 240, normalCategory: 'B', abnormalCategory: 'II' };
const battery: Nameplate = { ...pv, maxW: 5000, maxVA: 5000, maxVarInject: 2200, maxVarAbsorb: 2000, maxChargeW: 4000, maxDischargeW: 5000, energyCapacityWh: 13_500 };

const ao = (index: number, value: number): Partial<DnpCommandStep> => ({ type: 'analog', index, value, mode: 'direct' });
const bo = (index: number, on: boolean, mode: 'direct' | 'select-operate' = 'direct'): Partial<DnpCommandStep> => ({ type: 'crob', index, op: on ? 'LATCH_ON' : 'LATCH_OFF', mode });

function steps(sp: SetpointInput, n: Nameplate = pv): Partial<DnpCommandStep>[] {
  const r = commandsForSetpoint(map, sp, n);
  if ('rejected' in r) throw new Error(r.rejected);
  return r.map((s) => (s.type === 'analog' ? { type: s.type, index: s.index, value: s.value, mode: s.mode } : { type: s.type, index: s.index, op: s.op, mode: s.mode }));
}
function rejection(sp: SetpointInput, n: Nameplate = pv, m = map): string {
  const r = commandsForSetpoint(m, sp, n);
  if (!('rejected' in r)) throw new Error(`expected a rejection, got ${JSON.stringify(r)}`);
  return r.rejected;
}

describe('commandsForSetpoint', () => {
  it('active power limit: ramp time, AO88 in tenths of a percent, then BO17 on (the digest example writes 500 to AO88)', () => {
    expect(steps({ kind: 'activePowerLimit', w: 5000, pct: 50 })).toEqual([ao(84, 0), ao(88, 500), bo(17, true)]);
    expect(steps({ kind: 'activePowerLimit', w: 5000, pct: 50, rampTimeMs: 12_400 })).toEqual([ao(84, 12), ao(88, 500), bo(17, true)]);
  });

  it('active power target: AO93 as a signed percentage of the discharge or the charge rating, then BO18 on', () => {
    expect(steps({ kind: 'activePower', w: 2500 }, battery)).toEqual([ao(91, 0), ao(93, 500), bo(18, true)]);
    expect(steps({ kind: 'activePower', w: -1000 }, battery)).toEqual([ao(91, 0), ao(93, -250), bo(18, true)]);
    expect(steps({ kind: 'activePower', w: 3333 })).toEqual([ao(91, 0), ao(93, 333), bo(18, true)]);
  });

  it('constant var: AO203 as a percentage of the rating in its direction, other reactive modes off, BO27 on', () => {
    expect(steps({ kind: 'reactivePower', var: -1000 }, battery)).toEqual([ao(203, -500), bo(28, false), bo(29, false), bo(27, true)]);
    expect(steps({ kind: 'reactivePower', var: 1100 }, battery)).toEqual([ao(203, 500), bo(28, false), bo(29, false), bo(27, true)]);
  });

  it('fixed PF: AO210 x100 and BO10 excitation (on = absorbing); for storage AO211 and BO11 as well; then BO28 on', () => {
    expect(steps({ kind: 'powerFactor', pf: 0.95, excitation: 'injecting' })).toEqual([ao(210, 95), bo(10, false), bo(27, false), bo(29, false), bo(28, true)]);
    expect(steps({ kind: 'powerFactor', pf: 0.9, excitation: 'absorbing' }, battery)).toEqual([ao(210, 90), bo(10, true), ao(211, 90), bo(11, true), bo(27, false), bo(29, false), bo(28, true)]);
  });

  it('volt-var: edit slot 1 (selector, type, units, points, count), select it with AO217, then BO29 on', () => {
    const curve = [
      { v: 92, var: 44 },
      { v: 98, var: 0 },
      { v: 102, var: 0 },
      { v: 108, var: -44 },
    ];
    expect(steps({ kind: 'voltVar', curve })).toEqual([
      ao(244, 1),
      ao(245, 2),
      ao(247, 129),
      ao(248, 2),
      ao(249, 9200),
      ao(250, 440),
      ao(251, 9800),
      ao(252, 0),
      ao(253, 10_200),
      ao(254, 0),
      ao(255, 10_800),
      ao(256, -440),
      ao(246, 4),
      ao(217, 1),
      bo(27, false),
      bo(28, false),
      bo(29, true),
    ]);
  });

  it('volt-watt: edit slot 2 as mode type 5 with Y in % of maxW, select it with AO173, then BO25 on', () => {
    expect(steps({ kind: 'voltWatt', curve: [{ v: 106, w: 100 }, { v: 110, w: 20 }] })).toEqual([
      ao(244, 2),
      ao(245, 5),
      ao(247, 129),
      ao(248, 5),
      ao(249, 10_600),
      ao(250, 1000),
      ao(251, 11_000),
      ao(252, 200),
      ao(246, 2),
      ao(173, 2),
      bo(25, true),
    ]);
  });

  it('ramp rates: AO96 / AO97 in hundredths of a percent of maxW per second, only those given', () => {
    expect(steps({ kind: 'rampRates', increasingWPerS: 100, decreasingWPerS: null })).toEqual([ao(96, 100)]);
    expect(steps({ kind: 'rampRates', increasingWPerS: 2500, decreasingWPerS: 33 })).toEqual([ao(96, 2500), ao(97, 33)]);
    expect(steps({ kind: 'rampRates', increasingWPerS: null, decreasingWPerS: null })).toEqual([]);
  });

  it('connect / disconnect: BO5 latched on / off with select before operate', () => {
    expect(steps({ kind: 'connect', connected: false })).toEqual([bo(5, false, 'select-operate')]);
    expect(steps({ kind: 'connect', connected: true })).toEqual([bo(5, true, 'select-operate')]);
  });

  it('release: each slot back to the device default', () => {
    expect(steps({ kind: 'release', slot: 'activePower' })).toEqual([bo(18, false)]);
    expect(steps({ kind: 'release', slot: 'activePowerLimit' })).toEqual([bo(17, false)]);
    expect(steps({ kind: 'release', slot: 'reactive' })).toEqual([bo(27, false), bo(28, false), bo(29, false)]);
    expect(steps({ kind: 'release', slot: 'voltWatt' })).toEqual([bo(25, false)]);
    expect(steps({ kind: 'release', slot: 'rampRates' })).toEqual([ao(96, 0), ao(97, 0)]);
    expect(steps({ kind: 'release', slot: 'connect' })).toEqual([bo(5, true, 'select-operate')]);
  });
});

describe('what the map or the DER cannot express is rejected with a reason', () => {
  it('values outside a point range name the point', () => {
    expect(rejection({ kind: 'activePowerLimit', w: 15_000, pct: 150 })).toBe('150 % is outside 0..100 % of AO88 (ao.activePowerLimitGen)');
    expect(rejection({ kind: 'powerFactor', pf: 0.001, excitation: 'injecting' })).toBe('0.001 PF is outside 0.01..1 PF of AO210 (ao.pfGen)');
    expect(rejection({ kind: 'activePower', w: 12_000 })).toMatch(/120 % is outside -100..100 % of AO93/);
    expect(rejection({ kind: 'rampRates', increasingWPerS: 20_000, decreasingWPerS: null })).toMatch(/200 %\/s is outside 0..100 %\/s of AO96/);
    expect(rejection({ kind: 'activePowerLimit', w: 0, pct: 10, rampTimeMs: 70_000_000 })).toMatch(/outside 0..65535 s of AO84/);
  });

  it('charging without storage, reactive power without a rating', () => {
    expect(rejection({ kind: 'activePower', w: -100 })).toMatch(/needs storage/);
    expect(rejection({ kind: 'reactivePower', var: -10 }, { ...pv, maxVarAbsorb: 0 })).toBe('the DER has no var absorption rating');
    expect(rejection({ kind: 'rampRates', increasingWPerS: 1, decreasingWPerS: null }, { ...pv, maxW: 0 })).toMatch(/no active power rating/);
  });

  it('curves with more points than the map holds, or voltages that merge after scaling', () => {
    const eleven = Array.from({ length: 11 }, (_, i) => ({ v: 90 + i, var: 0 }));
    expect(rejection({ kind: 'voltVar', curve: eleven })).toBe('11 curve points, the map allows 10');
    expect(rejection({ kind: 'voltWatt', curve: [{ v: 100, w: 100 }, { v: 100.001, w: 0 }] })).toMatch(/100 and 100.001 % fall on one step of 0.01 %/);
  });

  it('a kind whose points the map lacks', () => {
    const noTarget = mergeDerPointMap(map, { points: { 'ao.activePowerTarget': null } }, 'no target');
    expect(rejection({ kind: 'activePower', w: 100 }, pv, noTarget)).toBe('the point map has no ao.activePowerTarget');
    const noCurves = mergeDerPointMap(map, { points: { 'ao.curveX': null, 'ao.curveY': null } }, 'no curves');
    expect(rejection({ kind: 'voltVar', curve: [{ v: 95, var: 10 }, { v: 105, var: -10 }] }, pv, noCurves)).toMatch(/no curve point block/);
    const noReactive = mergeDerPointMap(map, { points: { 'bo.constantVarEnable': null, 'bo.fixedPfEnable': null, 'bo.voltVarEnable': null } }, 'no reactive');
    expect(rejection({ kind: 'release', slot: 'reactive' }, pv, noReactive)).toBe('the point map has no reactive mode to release');
    expect(readBackChecks(noTarget, { kind: 'activePower', w: 100 }, pv)).toEqual({ rejected: 'the point map has no ao.activePowerTarget' });
  });

  it('drops the other reactive modes from the recipe where the map has none, and still works', () => {
    const lean = mergeDerPointMap(map, { points: { 'bo.fixedPfEnable': null, 'bo.voltVarEnable': null } }, 'lean');
    const r = commandsForSetpoint(lean, { kind: 'reactivePower', var: 440 }, pv);
    expect(r).toEqual([expect.objectContaining({ index: 203, value: 100 }), expect.objectContaining({ index: 27, op: 'LATCH_ON' })]);
  });
});

describe('capabilities', () => {
  it('the built-in map carries every setpoint kind and native ramp times', () => {
    expect([...setpointKindsFor(map, pv)].sort()).toEqual(['activePower', 'activePowerLimit', 'connect', 'powerFactor', 'rampRates', 'reactivePower', 'release', 'voltVar', 'voltWatt']);
    expect(hasNativeRamp(map)).toBe(true);
  });

  it('a map without curve points or ramp-time points carries less', () => {
    const lean = mergeDerPointMap(map, { points: { 'ao.curveX': null, 'ao.curveY': null, 'ao.activePowerLimitRampTime': null, 'bo.connect': null } }, 'lean');
    const kinds = setpointKindsFor(lean, pv);
    expect(kinds.has('voltVar') || kinds.has('voltWatt') || kinds.has('connect')).toBe(false);
    expect(kinds.has('activePowerLimit')).toBe(true);
    expect(hasNativeRamp(lean)).toBe(false);
    // Without ramp-time points a limit is just value and enable.
    expect(commandsForSetpoint(lean, { kind: 'activePowerLimit', w: 1, pct: 1, rampTimeMs: 5000 }, pv)).toHaveLength(2);
  });
});

describe('read-back', () => {
  it('lists the status of every point written and the inputs that show the mode', () => {
    expect(readBackChecks(map, { kind: 'activePowerLimit', w: 5000, pct: 50 }, pv)).toEqual([
      { source: 'aoStatus', role: 'ao.activePowerLimitRampTime', index: 84, expect: 0, tolerance: 1 },
      { source: 'aoStatus', role: 'ao.activePowerLimitGen', index: 88, expect: 500, tolerance: 1 },
      { source: 'boStatus', role: 'bo.activePowerLimitEnable', index: 17, expect: true },
      { source: 'bi', role: 'bi.activePowerLimitEnabled', index: 69, expect: true },
    ]);
    const pf = readBackChecks(map, { kind: 'powerFactor', pf: 0.9, excitation: 'absorbing' }, battery);
    expect(pf).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ source: 'bi', index: 29, expect: true }),
        expect.objectContaining({ source: 'bi', index: 30, expect: true }),
        expect.objectContaining({ source: 'bi', index: 80, expect: true }),
        expect.objectContaining({ source: 'bi', index: 79, expect: false }),
        expect.objectContaining({ source: 'bi', index: 81, expect: false }),
      ]),
    );
    expect(readBackChecks(map, { kind: 'connect', connected: false }, pv)).toEqual([
      { source: 'boStatus', role: 'bo.connect', index: 5, expect: false },
      { source: 'bi', role: 'bi.switchClosed', index: 23, expect: false },
    ]);
  });

  it('accepts one step of scaling either way and reports the first mismatch plainly', () => {
    const checks = readBackChecks(map, { kind: 'activePowerLimit', w: 5000, pct: 50 }, pv);
    if ('rejected' in checks) throw new Error(checks.rejected);
    const s = emptySnapshot();
    s.aoStatus.set(84, 0).set(88, 501);
    s.boStatus.set(17, true);
    s.bi.set(69, true);
    expect(readBackMismatch(checks, s)).toBeNull();
    s.aoStatus.set(88, 498);
    expect(readBackMismatch(checks, s)).toBe('AO88 (ao.activePowerLimitGen) reads 498, expected 500 ±1');
    s.aoStatus.set(88, 500);
    s.bi.set(69, false);
    expect(readBackMismatch(checks, s)).toBe('BI69 (bi.activePowerLimitEnabled) reads off, expected on');
    s.boStatus.delete(17);
    expect(readBackMismatch(checks, s)).toBe('BO17 (bo.activePowerLimitEnable) not reported');
    s.aoStatus.delete(84);
    expect(readBackMismatch(checks, s)).toBe('AO84 (ao.activePowerLimitRampTime) status not reported');
  });
});

/** A snapshot of a PV inverter as its outstation reports it: 4321 W, -1200 var, 241.3 V, 59.98 Hz. */
function pvSnapshot(): MutablePointSnapshot {
  const s = emptySnapshot();
  s.ai.set(537, 4321).set(541, -1200).set(547, 2413).set(553, 4180).set(536, 5998).set(43, 8000).set(44, 0).set(45, 4000).set(46, -4100).set(4, 10_000);
  s.bi.set(18, false).set(19, true).set(20, false);
  return s;
}

describe('sampleFromPoints', () => {
  it('scales each point into the normalized sample', () => {
    expect(sampleFromPoints(map, 'pv1', 1_700_000_000_000, pvSnapshot())).toEqual({
      sample: {
        derId: 'pv1',
        timestamp: 1_700_000_000_000,
        w: 4321,
        var: -1200,
        v: 241.3,
        hz: 59.98,
        soc: undefined,
        connected: true,
        state: 'running',
        availWMax: 8000,
        availWMin: 0,
        availVarMax: 4000,
        availVarMin: -4100,
      },
    });
  });

  it('reads SoC in tenths, from AI48 or else AI47', () => {
    const s = pvSnapshot();
    s.ai.set(47, 503);
    expect(sampleFromPoints(map, 'b', 1, s)).toMatchObject({ sample: { soc: 50.3 } });
    s.ai.set(48, 499);
    expect(sampleFromPoints(map, 'b', 1, s)).toMatchObject({ sample: { soc: 49.9 } });
  });

  it('falls back to the average line-to-line voltage and to what the output shows for availability', () => {
    const s = pvSnapshot();
    s.ai.delete(547);
    for (const i of [43, 44, 45, 46]) s.ai.delete(i);
    expect(sampleFromPoints(map, 'pv1', 1, s)).toMatchObject({ sample: { v: 418, availWMax: 4321, availWMin: 0, availVarMax: 0, availVarMin: -1200 } });
  });

  it('names the mandatory points that are missing', () => {
    const s = pvSnapshot();
    s.ai.delete(537);
    s.ai.delete(547);
    s.ai.delete(553);
    expect(sampleFromPoints(map, 'pv1', 1, s)).toEqual({ problem: 'missing AI537 (ai.w), AI547 (ai.vPhaseA) or AI553 (ai.vAvgLL)' });
    const noConn = pvSnapshot();
    noConn.bi.clear();
    expect(sampleFromPoints(map, 'pv1', 1, noConn)).toMatchObject({ problem: expect.stringMatching(/connected-state input/) });
    const noHz = mergeDerPointMap(map, { points: { 'ai.hz': null } }, 'no hz');
    expect(sampleFromPoints(noHz, 'pv1', 1, pvSnapshot())).toEqual({ problem: 'missing ai.hz (not in the point map)' });
  });

  it.each([
    ['fault', { 19: false, 22: true, 1: true }],
    ['off', { 19: false, 22: true }],
    ['standby', { 19: false, 21: true }],
    ['starting', { 12: true }],
    ['shutting-down', { 13: true }],
    ['running', {}],
  ] as const)('reads the operating state %s from the state inputs', (state, bits) => {
    const s = pvSnapshot();
    for (const [i, on] of Object.entries(bits)) s.bi.set(Number(i), on);
    expect(sampleFromPoints(map, 'pv1', 1, s)).toMatchObject({ sample: { state } });
  });

  it('calls a DER throttled when a curtailing mode holds it more than 1 % of its rating below what is available', () => {
    const s = pvSnapshot();
    s.bi.set(69, true);
    expect(sampleFromPoints(map, 'pv1', 1, s)).toMatchObject({ sample: { state: 'throttled' } });
    s.ai.set(43, 4400);
    expect(sampleFromPoints(map, 'pv1', 1, s)).toMatchObject({ sample: { state: 'running' } });
  });
});

describe('nameplateFromPoints', () => {
  function plate(): MutablePointSnapshot {
    const s = emptySnapshot();
    s.ai.set(4, 5000).set(5, -4000).set(12, 2200).set(13, -2000).set(14, 5000).set(16, 13_500).set(29, 2400).set(22, 1).set(23, 3);
    return s;
  }

  it('reads ratings, storage and categories', () => {
    expect(nameplateFromPoints(map, plate())).toEqual({ storage: true, nameplate: { ...battery, maxDischargeW: 5000, normalCategory: 'A', abnormalCategory: 'III' } });
  });

  it('takes a DER without charge rating or capacity as one without storage and defaults the categories', () => {
    const s = plate();
    s.ai.set(5, 0).set(16, 0).delete(22);
    s.ai.delete(23);
    expect(nameplateFromPoints(map, s)).toMatchObject({ storage: false, nameplate: { maxChargeW: 0, maxDischargeW: 0, normalCategory: 'B', abnormalCategory: 'II' } });
  });

  it('names the missing ratings and refuses a reference voltage of zero', () => {
    const s = plate();
    s.ai.delete(4);
    s.ai.delete(29);
    expect(nameplateFromPoints(map, s)).toEqual({ problem: 'missing AI4 (ai.nameplateW), AI29 (ai.vRef)' });
    const zero = plate();
    zero.ai.set(29, 0);
    expect(nameplateFromPoints(map, zero)).toEqual({ problem: 'reference voltage 0 V is not positive' });
  });
});
