import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DermsError, ValidationError } from '../../../../src/core/errors.js';
import {
  defaultDerPointMap as map,
  describe as describePoint,
  fromRaw,
  loadDerPointMap,
  mergeDerPointMap,
  occupied,
  parseDerPointMapFile,
  pointRoles,
  quantum,
  toRaw,
  type PointDef,
  type PointRole,
} from '../../../../src/protocols/dnp3/der-profile/index.js';

const dirs: string[] = [];
function file(name: string, text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'dnp3-map-'));
  dirs.push(dir);
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function mergeError(override: unknown): ValidationError {
  try {
    mergeDerPointMap(map, override, 'test map');
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a validation error');
}

describe('the built-in map', () => {
  // Indexes as shared/spec/dnp3-der-points.md gives them.
  const digest: [PointRole, string, number][] = [
    ['ai.nameplateW', 'AI', 4],
    ['ai.nameplateChargeW', 'AI', 5],
    ['ai.nameplateVarInject', 'AI', 12],
    ['ai.nameplateVarAbsorb', 'AI', 13],
    ['ai.nameplateVA', 'AI', 14],
    ['ai.nameplateWh', 'AI', 16],
    ['ai.vRef', 'AI', 29],
    ['ai.availW', 'AI', 43],
    ['ai.availChargeW', 'AI', 44],
    ['ai.socActual', 'AI', 47],
    ['ai.soc', 'AI', 48],
    ['ai.activePowerLimitGen', 'AI', 149],
    ['ai.activePowerTarget', 'AI', 154],
    ['ai.constantVarTarget', 'AI', 281],
    ['ai.pfGen', 'AI', 288],
    ['ai.pfCharge', 'AI', 289],
    ['ai.voltVarCurveIndex', 'AI', 297],
    ['ai.curveEditSelector', 'AI', 328],
    ['ai.curveModeType', 'AI', 329],
    ['ai.curvePointCount', 'AI', 330],
    ['ai.curveXUnits', 'AI', 331],
    ['ai.curveYUnits', 'AI', 332],
    ['ai.curveX', 'AI', 333],
    ['ai.curveY', 'AI', 334],
    ['ai.hz', 'AI', 536],
    ['ai.w', 'AI', 537],
    ['ai.var', 'AI', 541],
    ['ai.pf', 'AI', 545],
    ['ai.va', 'AI', 546],
    ['ai.vPhaseA', 'AI', 547],
    ['ai.vAvgLL', 'AI', 553],
    ['bi.alarmP1', 'BI', 1],
    ['bi.starting', 'BI', 12],
    ['bi.stopping', 'BI', 13],
    ['bi.started', 'BI', 14],
    ['bi.stopped', 'BI', 15],
    ['bi.connectedIdle', 'BI', 18],
    ['bi.connectedGenerating', 'BI', 19],
    ['bi.connectedCharging', 'BI', 20],
    ['bi.offAvailable', 'BI', 21],
    ['bi.offNotAvailable', 'BI', 22],
    ['bi.switchClosed', 'BI', 23],
    ['bi.pfExcitationGen', 'BI', 29],
    ['bi.pfExcitationCharge', 'BI', 30],
    ['bi.freqWattEnabled', 'BI', 68],
    ['bi.activePowerLimitEnabled', 'BI', 69],
    ['bi.chargeDischargeEnabled', 'BI', 70],
    ['bi.voltWattEnabled', 'BI', 77],
    ['bi.constantVarEnabled', 'BI', 79],
    ['bi.fixedPfEnabled', 'BI', 80],
    ['bi.voltVarEnabled', 'BI', 81],
    ['bo.connect', 'BO', 5],
    ['bo.pfExcitationGen', 'BO', 10],
    ['bo.pfExcitationCharge', 'BO', 11],
    ['bo.activePowerLimitEnable', 'BO', 17],
    ['bo.chargeDischargeEnable', 'BO', 18],
    ['bo.voltWattEnable', 'BO', 25],
    ['bo.constantVarEnable', 'BO', 27],
    ['bo.fixedPfEnable', 'BO', 28],
    ['bo.voltVarEnable', 'BO', 29],
    ['ao.activePowerLimitGen', 'AO', 88],
    ['ao.activePowerTarget', 'AO', 93],
    ['ao.voltWattCurveIndex', 'AO', 173],
    ['ao.constantVarTarget', 'AO', 203],
    ['ao.pfGen', 'AO', 210],
    ['ao.pfCharge', 'AO', 211],
    ['ao.voltVarCurveIndex', 'AO', 217],
    ['ao.curveEditSelector', 'AO', 244],
    ['ao.curveModeType', 'AO', 245],
    ['ao.curvePointCount', 'AO', 246],
    ['ao.curveXUnits', 'AO', 247],
    ['ao.curveYUnits', 'AO', 248],
    ['ao.curveX', 'AO', 249],
    ['ao.curveY', 'AO', 250],
  ];

  it.each(digest)('%s is %s%d', (role, type, index) => {
    expect(map.points[role]).toMatchObject({ type, index });
  });

  it('has every point the code knows, each with what it means', () => {
    expect(Object.keys(map.points).sort()).toEqual(Object.keys(pointRoles).sort());
    for (const p of Object.values(map.points)) expect(p.means.length).toBeGreaterThan(10);
  });

  it('scales as the digest does: PF x100, Hz x100, V x10, percentages in tenths, power in W / var', () => {
    const mult = (r: PointRole): number => map.points[r]!.multiplier;
    expect([mult('ai.pf'), mult('ao.pfGen'), mult('ao.pfCharge'), mult('ai.pfGen')]).toEqual([100, 100, 100, 100]);
    expect(mult('ai.hz')).toBe(100);
    expect([mult('ai.vPhaseA'), mult('ai.vAvgLL'), mult('ai.vRef')]).toEqual([10, 10, 10]);
    expect([mult('ao.activePowerLimitGen'), mult('ao.activePowerTarget'), mult('ao.constantVarTarget'), mult('ai.soc')]).toEqual([10, 10, 10, 10]);
    expect([mult('ai.w'), mult('ai.var'), mult('ai.va'), mult('ai.nameplateW')]).toEqual([1, 1, 1, 1]);
    // The digest's percentage range: AO93 -1000..1000 = -100.0..100.0 %.
    const target = map.points['ao.activePowerTarget']!;
    expect([toRaw(target, -100), toRaw(target, 100)]).toEqual([-1000, 1000]);
  });

  it('says, for every analog output, the input that reads it back where the digest names one', () => {
    const readBack: [PointRole, number][] = [
      ['ao.activePowerLimitGen', 149],
      ['ao.activePowerTarget', 154],
      ['ao.constantVarTarget', 281],
      ['ao.pfGen', 288],
      ['ao.pfCharge', 289],
      ['ao.voltVarCurveIndex', 297],
      ['ao.voltWattCurveIndex', 248],
      ['ao.curveEditSelector', 328],
    ];
    for (const [ao, ai] of readBack) {
      const input = Object.values(map.points).find((p) => p.type === 'AI' && p.index === ai);
      expect(input?.means, `${ao} -> AI${ai}`).toMatch(new RegExp(`read-back of AO${map.points[ao]!.index}\\b`));
    }
  });

  it('lays the curve blocks out as X1, Y1, X2, Y2 ... for the configured number of points', () => {
    const x = occupied(map.points['ao.curveX']!);
    const y = occupied(map.points['ao.curveY']!);
    expect(x.slice(0, 3)).toEqual([249, 251, 253]);
    expect(y.slice(0, 3)).toEqual([250, 252, 254]);
    expect(x).toHaveLength(map.curves.maxPoints);
    expect(occupied(map.points['ai.curveX']!)[0]).toBe(333);
  });

  it('is the point table of the README, row for row', () => {
    const readme = readFileSync(new URL('../../../../src/protocols/dnp3/der-profile/README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| (AI|BI|AO|BO|C)(\d+)[^|]*\| `([\w.]+)` \|/gm)].map((m) => [m[3], m[1], Number(m[2])]);
    const fromMap = Object.entries(map.points).map(([id, p]) => [id, p.type === 'counter' ? 'C' : p.type, p.index]);
    expect(rows.sort()).toEqual(fromMap.sort());
  });

  it('names points for messages', () => {
    expect(describePoint('ao.activePowerLimitGen', map.points['ao.activePowerLimitGen']!)).toBe('AO88 (ao.activePowerLimitGen)');
    expect(describePoint('ao.curveY', map.points['ao.curveY']!, 2)).toBe('AO254 (ao.curveY[3])');
  });
});

describe('scaling', () => {
  const point = (multiplier: number, offset = 0): PointDef => ({ type: 'AO', index: 1, units: 'x', multiplier, offset, selectRequired: false, means: 'test point' });

  it('rounds half away from zero and never yields -0', () => {
    expect(toRaw(point(10), 0.05)).toBe(1);
    expect(toRaw(point(10), -0.05)).toBe(-1);
    expect(toRaw(point(100), 0.95)).toBe(95);
    expect(Object.is(toRaw(point(10), -0.01), 0)).toBe(true);
  });

  it('applies the offset before the multiplier and back', () => {
    const p = point(10, 100);
    expect(toRaw(p, 101.5)).toBe(15);
    expect(fromRaw(p, 15)).toBe(101.5);
  });

  it('returns every value within half a step of where it started', () => {
    fc.assert(
      fc.property(fc.constantFrom(1, 10, 100, 1000, 0.1), fc.double({ min: -1e6, max: 1e6, noNaN: true }), (m, x) => {
        const p = point(m);
        expect(Math.abs(fromRaw(p, toRaw(p, x)) - x)).toBeLessThanOrEqual(quantum(p) / 2 + 1e-9 * Math.abs(x));
      }),
    );
  });
});

describe('user maps', () => {
  it('loads the built-in map without a file', async () => {
    expect(await loadDerPointMap()).toBe(map);
  });

  it('moves, rescales and removes points from a YAML file, keeping the rest', async () => {
    const m = await loadDerPointMap(
      file(
        'lab.yaml',
        ['points:', '  ai.w: { index: 600, multiplier: 0.1, units: kW x10 }', '  ai.vAvgLL: null', 'curves:', '  voltVarSlot: 3'].join('\n'),
      ),
    );
    expect(m.points['ai.w']).toMatchObject({ type: 'AI', index: 600, multiplier: 0.1, units: 'kW x10' });
    expect(m.points['ai.w']!.means).toBe(map.points['ai.w']!.means);
    expect(m.points['ai.vAvgLL']).toBeUndefined();
    expect(m.points['ai.var']).toEqual(map.points['ai.var']);
    expect(m.curves).toEqual({ ...map.curves, voltVarSlot: 3 });
  });

  it('reads JSON too', () => {
    const m = parseDerPointMapFile(JSON.stringify({ points: { 'ao.pfGen': { multiplier: 1000, range: [0.8, 1] } } }), 'lab.json');
    expect(m.points['ao.pfGen']).toMatchObject({ index: 210, multiplier: 1000, range: [0.8, 1] });
  });

  it('names an unknown point id', () => {
    const e = mergeError({ points: { 'ai.watts': { type: 'AI', index: 700, units: 'W', means: 'typo' } } });
    expect(e.message).toMatch(/^invalid test map: points\.ai\.watts: unknown point id/);
  });

  it('rejects a point given the wrong type', () => {
    expect(mergeError({ points: { 'ao.activePowerLimitGen': { type: 'AI' } } }).message).toContain('points.ao.activePowerLimitGen.type: must be AO, not AI');
  });

  it('names both points when two share an index', () => {
    const e = mergeError({ points: { 'ai.var': { index: 537 } } });
    expect(e.issues.map((i) => i.message).join('\n')).toMatch(/AI537 is also ai\.(w|var)/);
  });

  it('finds a clash with a block of curve points', () => {
    expect(mergeError({ points: { 'ao.pfGen': { index: 251 } } }).message).toMatch(/AO251 is also/);
  });

  it('rejects a zero multiplier, a bad index, a repeat on a single point, too short a block, a slot out of range', () => {
    expect(mergeError({ points: { 'ai.w': { multiplier: 0 } } }).message).toContain('points.ai.w.multiplier: must not be 0');
    expect(mergeError({ points: { 'ai.w': { index: 70_000 } } }).message).toContain('points.ai.w.index');
    expect(mergeError({ points: { 'ai.w': { index: -1 } } }).message).toContain('points.ai.w.index');
    expect(mergeError({ points: { 'ai.w': { repeat: { count: 2, stride: 1 } } } }).message).toContain('only curve point blocks repeat');
    expect(mergeError({ points: { 'ao.curveX': { repeat: { count: 4, stride: 2 } } } }).message).toContain('fewer than curves.maxPoints');
    expect(mergeError({ curves: { voltWattSlot: 9 } }).message).toContain('curves.voltWattSlot: slot 9 exceeds the 4 slots');
    expect(mergeError({ curves: { voltWattSlot: 1 } }).message).toContain('need different slots');
  });

  it('rejects wrong value types and unknown keys', () => {
    expect(mergeError({ points: { 'ai.w': { index: '537' } } }).message).toContain('points.ai.w.index');
    expect(mergeError({ points: { 'ai.w': { scale: 2 } } }).message).toContain('points.ai.w');
    expect(mergeError({ pointz: {} }).message).toMatch(/pointz|Unrecognized/);
    expect(mergeError({ points: { 'ai.w': { range: [5, 1] } } }).message).toContain('range minimum exceeds its maximum');
    expect(mergeError({ points: { 'ai.nothing': null } }).message).toContain('points.ai.nothing: unknown point id');
  });

  it('needs the full definition for a point the base map lacks', () => {
    const noW = mergeDerPointMap(map, { points: { 'ai.w': null } }, 'first');
    expect(() => mergeDerPointMap(noW, { points: { 'ai.w': { index: 537 } } }, 'second')).toThrow(/points\.ai\.w\.type/);
  });

  it('says clearly when a file is not YAML, is empty or is missing', async () => {
    expect(() => parseDerPointMapFile('points: {ai.w: [', 'bad.yaml')).toThrow(/^invalid DNP3 point map bad\.yaml: not valid YAML or JSON/);
    expect(() => parseDerPointMapFile('', 'empty.yaml')).toThrow(/the file is empty/);
    const missing = await loadDerPointMap('/nonexistent/map.yaml').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(DermsError);
    expect((missing as DermsError).code).toBe('NOT_FOUND');
  });
});
