import { def, reason } from './support.js';
import { describe, expect, it } from 'vitest';
import {
  convertOfficialModel,
  decodeModel,
  decodePoint,
  decodeWrite,
  encodeModel,
  encodePoint,
  layoutFor,
  layoutFromBlock,
  planWrites,
  pointsInRange,
} from '../../../src/protocols/sunspec/index.js';



/** A test model (in the official JSON shape) with a point of every type and a counted group with its own SF. */
const ALL = convertOfficialModel(
  {
    id: 64900,
    group: {
      name: 'all',
      type: 'group',
      points: [
        { name: 'ID', type: 'uint16', size: 1, value: 64900 },
        { name: 'L', type: 'uint16', size: 1 },
        { name: 'I16', type: 'int16', size: 1, sf: 'SF', units: 'W' },
        { name: 'U16', type: 'uint16', size: 1, sf: 'SF' },
        { name: 'A16', type: 'acc16', size: 1 },
        { name: 'C', type: 'count', size: 1 },
        { name: 'E16', type: 'enum16', size: 1, symbols: [{ name: 'OFF', value: 0 }, { name: 'ON', value: 1 }] },
        { name: 'B16', type: 'bitfield16', size: 1, symbols: [{ name: 'B0', value: 0 }, { name: 'B3', value: 3 }, { name: 'B15', value: 15 }] },
        { name: 'P', type: 'pad', size: 1 },
        { name: 'R', type: 'raw16', size: 1 },
        { name: 'SF', type: 'sunssf', size: 1 },
        { name: 'I32', type: 'int32', size: 2, sf: 'SF' },
        { name: 'U32', type: 'uint32', size: 2, sf: 'SF' },
        { name: 'A32', type: 'acc32', size: 2 },
        { name: 'E32', type: 'enum32', size: 2, symbols: [{ name: 'BIG', value: 100000 }] },
        { name: 'B32', type: 'bitfield32', size: 2, symbols: [{ name: 'B31', value: 31 }] },
        { name: 'IP', type: 'ipaddr', size: 2 },
        { name: 'F32', type: 'float32', size: 2 },
        { name: 'I64', type: 'int64', size: 4, sf: 'SF2' },
        { name: 'U64', type: 'uint64', size: 4 },
        { name: 'A64', type: 'acc64', size: 4, sf: 2 },
        { name: 'B64', type: 'bitfield64', size: 4, symbols: [{ name: 'B63', value: 63 }, { name: 'B1', value: 1 }] },
        { name: 'F64', type: 'float64', size: 4 },
        { name: 'MAC', type: 'eui48', size: 4 },
        { name: 'IP6', type: 'ipv6addr', size: 8 },
        { name: 'S', type: 'string', size: 8 },
        { name: 'SF2', type: 'sunssf', size: 1 },
        { name: 'N', type: 'uint16', size: 1 },
      ],
      groups: [
        {
          name: 'Rep',
          type: 'group',
          count: 'N',
          points: [
            { name: 'SF', type: 'sunssf', size: 1 },
            { name: 'V', type: 'int16', size: 1, sf: 'SF' },
            { name: 'W', type: 'int16', size: 1, sf: 'SF2' },
          ],
        },
        {
          name: 'Sync',
          type: 'sync',
          points: [
            { name: 'A', type: 'uint16', size: 1, access: 'RW' },
            { name: 'B', type: 'enum16', size: 1, access: 'RW', symbols: [{ name: 'X', value: 0 }, { name: 'Y', value: 1 }] },
          ],
        },
      ],
    },
  },
  'test model 64900',
);

const ALL_VALUES = {
  SF: -1,
  SF2: -2,
  I16: -1234.5,
  U16: 6553.4,
  A16: 65535,
  C: 12,
  E16: 'ON',
  B16: ['B0', 'B15'],
  P: 0,
  R: 0xffff,
  I32: -214748364.7,
  U32: 429496729.4,
  A32: 4294967295,
  E32: 'BIG',
  B32: 'B31',
  IP: '192.168.1.20',
  F32: 1.5,
  I64: -90071992547409.91,
  U64: 2n ** 63n,
  A64: 1200,
  B64: ['B63', 'B1'],
  F64: Math.PI,
  MAC: '00:1A:2B:3C:4D:5E',
  IP6: 'fe80::1',
  S: 'hello',
  'Rep[1].SF': 0,
  'Rep[1].V': 7,
  'Rep[1].W': 1.23,
  'Rep[2].SF': -1,
  'Rep[2].V': -7.1,
  'Sync.A': 5,
  'Sync.B': 'Y',
} as const;

describe('every type through encodeModel / decodeModel', () => {
  const image = encodeModel(ALL, { ...ALL_VALUES, N: 2 });
  const m = decodeModel(ALL, image);

  it('fills ID and L and the count point', () => {
    expect(image[0]).toBe(64900);
    expect(image[1]).toBe(image.length - 2);
    expect(m.values.N).toBe(2);
    expect(m.length).toBe(image.length - 2);
  });

  it('decodes the values written, with symbols and exact decimals', () => {
    expect(m.values).toMatchObject({
      SF: -1, SF2: -2, I16: -1234.5, U16: 6553.4, A16: 65535, C: 12, E16: 1, B16: 0x8001, P: null, R: 0xffff,
      I32: -214748364.7, U32: 429496729.4, A32: 4294967295, E32: 100000, B32: 0x80000000, IP: '192.168.1.20', F32: 1.5,
      I64: -90071992547409.91, U64: 2n ** 63n, A64: 1200, B64: 2n ** 63n + 2n, F64: Math.PI, MAC: '00:1A:2B:3C:4D:5E', IP6: 'fe80::1', S: 'hello',
      'Rep[1].V': 7, 'Rep[1].W': 1.23, 'Rep[2].V': -7.1, 'Rep[2].W': null, 'Sync.A': 5, 'Sync.B': 1,
    });
    expect(m.get('E16')).toMatchObject({ symbol: 'ON', raw: 1 });
    expect(m.get('B16')!.symbols).toEqual(['B0', 'B15']);
    expect(m.get('B64')!.symbols).toEqual(['B63', 'B1']);
    expect(m.get('E32')!.symbol).toBe('BIG');
    expect(m.get('I16')).toMatchObject({ raw: -12345, sf: -1, units: 'W', offset: 2 });
    expect(m.get('A64')).toMatchObject({ raw: 12, sf: 2, value: 1200 });
    expect(m.get('I64')!.raw).toBe(-9007199254740991);
  });

  it('resolves a scale factor in the same group instance first, then outwards', () => {
    expect(m.get('Rep[1].V')).toMatchObject({ raw: 7, sf: 0 });
    expect(m.get('Rep[2].V')).toMatchObject({ raw: -71, sf: -1 });
    expect(m.get('Rep[1].W')).toMatchObject({ raw: 123, sf: -2 });
  });

  it('decodes unset points as not implemented (null), raw sentinel kept', () => {
    expect(m.get('Rep[2].W')).toMatchObject({ raw: -32768, value: null });
    const empty = decodeModel(ALL, encodeModel(ALL, { N: 0 }));
    for (const p of empty.points) if (!['ID', 'L', 'N', 'R'].includes(p.path)) expect([p.path, p.value]).toEqual([p.path, null]);
  });

  it('gives null for a scaled point whose scale factor is not implemented or out of range', () => {
    const img = encodeModel(ALL, { N: 0, SF: -1, U16: 5 });
    img[layoutFor(ALL, { N: 0 }).byPath.get('SF')!.offset] = 0x8000;
    expect(decodeModel(ALL, img).get('U16')).toMatchObject({ raw: 50, value: null, sf: null });
    img[layoutFor(ALL, { N: 0 }).byPath.get('SF')!.offset] = 11;
    expect(decodeModel(ALL, img).get('U16')!.value).toBeNull();
  });

  it('keeps 64-bit values beyond 2^53 exact as bigint when the sf is >= 0', () => {
    const img = encodeModel(ALL, { N: 0, SF2: 1, I64: 2n ** 60n * 10n });
    expect(decodeModel(ALL, img).get('I64')).toMatchObject({ raw: 2n ** 60n, value: 2n ** 60n * 10n });
    // With a negative sf the value is the nearest number (documented precision loss beyond 2^53).
    const neg = encodeModel(ALL, { N: 0, SF2: -2, I64: -(2n ** 55n) });
    expect(decodeModel(ALL, neg).get('I64')).toMatchObject({ raw: -(2n ** 55n) * 100n, value: -(2 ** 55) });
    expect(reason(() => encodeModel(ALL, { N: 0, SF2: -2, I64: -(2n ** 60n) }))).toBe('RANGE');
  });
});

describe('encode errors', () => {
  it('range: a scaled value that does not fit is an error, not a wrap', () => {
    expect(reason(() => encodeModel(ALL, { N: 0, SF: -1, I16: 3276.8 }))).toBe('RANGE');
    expect(reason(() => encodeModel(ALL, { N: 0, SF: -1, U16: -0.1 }))).toBe('RANGE');
    expect(reason(() => encodeModel(ALL, { N: 0, SF: 0, I32: 2 ** 31 }))).toBe('RANGE');
    expect(reason(() => encodeModel(ALL, { N: 0, SF: 11 }))).toBe('RANGE');
    expect(reason(() => encodeModel(ALL, { N: 0, S: 'x'.repeat(17) }))).toBe('RANGE');
    expect(() => encodeModel(ALL, { N: 0, SF: -1, I16: 3276.8 })).toThrow(/64900\.I16: raw value 32768 does not fit int16/);
  });

  it('bad values, unknown symbols and paths, missing scale factors', () => {
    expect(reason(() => encodeModel(ALL, { N: 0, E16: 'MAYBE' }))).toBe('BAD_VALUE');
    expect(reason(() => encodeModel(ALL, { N: 0, B16: ['B0', 'B9'] }))).toBe('BAD_VALUE');
    expect(reason(() => encodeModel(ALL, { N: 0, SF: 0, I16: 'ten' }))).toBe('BAD_VALUE');
    expect(reason(() => encodeModel(ALL, { N: 0, S: 5 }))).toBe('BAD_VALUE');
    expect(reason(() => encodeModel(ALL, { N: 0, I16: 5 }))).toBe('BAD_VALUE'); // SF not given
    expect(reason(() => encodeModel(ALL, { N: 0, Nope: 1 }))).toBe('UNKNOWN_POINT');
    expect(reason(() => encodeModel(ALL, { N: 1, 'Rep[2].V': 1 }))).toBe('UNKNOWN_POINT');
    expect(reason(() => encodeModel(ALL, { N: 2 }, { N: 3 }))).toBe('COUNT');
    expect(reason(() => encodeModel(ALL, { N: 0, ID: 5 }))).toBe('MODEL_LENGTH');
  });
});

describe('real models', () => {
  it('701: measurements with negative power, uint32 Hz, uint64 energy', () => {
    const img = encodeModel(def(701), { W_SF: 0, Var_SF: 0, Hz_SF: -3, TotWh_SF: 0, PF_SF: -3, W: -4200, Var: 1300, Hz: 60.001, TotWhInj: 123456789012, PF: -0.95, InvSt: 'THROTTLED', ConnSt: 1 });
    expect(img.length).toBe(155);
    const m = decodeModel(def(701), img);
    expect(m.values).toMatchObject({ W: -4200, Var: 1300, Hz: 60.001, TotWhInj: 123456789012, PF: -0.95, InvSt: 4, A: null, TotWhAbs: null });
    expect(m.get('InvSt')!.symbol).toBe('THROTTLED');
    expect(m.get('Hz')!.raw).toBe(60001);
  });

  it('705: counts from the count points in values, nested curve points', () => {
    const img = encodeModel(def(705), { NCrv: 2, NPt: 4, V_SF: -1, DeptRef_SF: -1, RspTms_SF: 0, 'Crv[2].Pt[3].V': 101.5, 'Crv[2].Pt[3].Var': -44.4, 'Crv[2].DeptRef': 'VAR_MAX_PCT' });
    expect(img.length).toBe(51);
    expect(img[47]).toBe(1015);
    expect(img[48]).toBe(0x10000 - 444);
    const m = decodeModel(def(705), img);
    expect(m.values).toMatchObject({ NCrv: 2, NPt: 4, 'Crv[2].Pt[3].V': 101.5, 'Crv[2].Pt[3].Var': -44.4, 'Crv[1].Pt[1].V': null });
    expect(m.get('Crv[2].DeptRef')!.symbol).toBe('VAR_MAX_PCT');
    // Counts given explicitly work too.
    expect(encodeModel(def(705), {}, { NCrv: 1, NPt: 2 }).length).toBe(2 + 13 + 14);
  });

  it('126: legacy curve count from the paths used (or given), L = 10 + 54 n', () => {
    const values: Record<string, number | string> = { V_SF: -1, DeptRef_SF: 0, NCrv: 4, NPt: 20 };
    for (let c = 1; c <= 4; c++) {
      values[`curve[${c}].ActPt`] = 4;
      values[`curve[${c}].V1`] = 95.5;
      values[`curve[${c}].VAr1`] = 30;
      values[`curve[${c}].CrvNam`] = `c${c}`;
    }
    const img = encodeModel(def(126), values);
    expect(img[1]).toBe(226);
    const m = decodeModel(def(126), img);
    expect(m.values).toMatchObject({ 'curve[4].V1': 95.5, 'curve[4].VAr1': 30, 'curve[4].CrvNam': 'c4', 'curve[3].V2': null });
    expect(encodeModel(def(126), {}, { curve: 2 })[1]).toBe(118);
  });

  it('1: strings and the device address', () => {
    const m = decodeModel(def(1), encodeModel(def(1), { Mn: 'derms-sim', Md: 'sim-pv-10kW', SN: 'p-0001', DA: 7 }));
    expect(m.values).toMatchObject({ Mn: 'derms-sim', Md: 'sim-pv-10kW', SN: 'p-0001', DA: 7, Opt: null, Vr: null });
  });
});

describe('single points and writes', () => {
  const l704 = layoutFor(def(704));
  const block = encodeModel(def(704), { WSet_SF: 1, PF_SF: -3, WMaxLimPct_SF: -1, 'PFWInj.PF': 0.95, 'PFWInj.Ext': 'OVER_EXCITED' });

  it('encodePoint / decodePoint use the scale factor of the block (or one given)', () => {
    expect([...encodePoint(l704, 'WSet', -125000, { block })]).toEqual([0xffff, 0x10000 - 12500]);
    expect([...encodePoint(l704, 'WSet', 1000, { sf: 0 })]).toEqual([0, 1000]);
    expect([...encodePoint(l704, 'WMaxLimPctEna', 'ENABLED')]).toEqual([1]);
    expect([...encodePoint(l704, 'WSet', null)]).toEqual([0x8000, 0]);
    expect(reason(() => encodePoint(l704, 'WSet', 5))).toBe('BAD_VALUE');
    expect(reason(() => encodePoint(l704, 'WSet', 2 ** 40, { block }))).toBe('RANGE');
    const img = Uint16Array.from(block);
    img.set(encodePoint(l704, 'WSet', -125000, { block }), 24);
    expect(decodePoint(l704, 'WSet', img)).toMatchObject({ value: -125000, raw: -12500, sf: 1, units: 'W' });
    expect(decodePoint(l704, 'PFWInj.PF', img).value).toBe(0.95);
  });

  it('pointsInRange tells the device side which points a write touches', () => {
    const r = pointsInRange(l704, 22, 4);
    expect(r.points.map((p) => p.path)).toEqual(['WSetEna', 'WSetMod', 'WSet']);
    expect(r.partial).toEqual([]);
    const cut = pointsInRange(l704, 25, 2);
    expect(cut.points.map((p) => p.path)).toEqual([]);
    expect(cut.partial.map((p) => p.path)).toEqual(['WSet', 'WSetRvrt']);
  });

  it('decodeWrite applies a received write and decodes the points it wrote', () => {
    const [w] = planWrites(l704, { WSetEna: 1, WSetMod: 'WATTS', WSet: -3000 }, { block });
    const r = decodeWrite(l704, block, w!.offset, w!.registers);
    expect(r.points.map((p) => [p.path, p.value, p.symbol])).toEqual([
      ['WSetEna', 1, 'ENABLED'],
      ['WSetMod', 1, 'WATTS'],
      ['WSet', -3000, undefined],
    ]);
    expect(r.block[24]).toBe(0xffff);
    expect(block[22]).not.toBe(1); // the current block is not changed
    expect(reason(() => decodeWrite(l704, block, 25, [0, 0]))).toBe('BAD_VALUE'); // cuts WSet and WSetRvrt
    expect(reason(() => decodeWrite(l704, block, 53, [0]))).toBe('BAD_VALUE'); // PF_SF is read-only
    expect(reason(() => decodeWrite(l704, block, 66, [0, 0]))).toBe('BAD_VALUE'); // past the model
  });

  it('planWrites merges contiguous points and writes sync groups whole', () => {
    const w = planWrites(l704, { WSetEna: 1, WSetMod: 'WATTS', WSet: 3000, VarSetEna: 0 }, { block });
    expect(w.map((x) => [x.offset, x.registers.length, x.paths])).toEqual([
      [22, 4, ['WSetEna', 'WSetMod', 'WSet']],
      [35, 1, ['VarSetEna']],
    ]);
    expect([...w[0]!.registers]).toEqual([1, 1, 0, 300]);
    // PF alone: Ext comes from the block so the pair is written together.
    const pf = planWrites(l704, { 'PFWInj.PF': 0.9 }, { block });
    expect(pf.map((x) => [x.offset, [...x.registers]])).toEqual([[59, [900, 0]]]);
    expect(reason(() => planWrites(l704, { 'PFWInj.PF': 0.9 }, { sfs: { PF_SF: -3 } }))).toBe('BAD_VALUE');
    const both = planWrites(l704, { 'PFWInj.PF': 0.9, 'PFWInj.Ext': 'UNDER_EXCITED' }, { sfs: { PF_SF: -2 } });
    expect(both.map((x) => [x.offset, [...x.registers], x.paths])).toEqual([[59, [90, 1], ['PFWInj.PF', 'PFWInj.Ext']]]);
    expect(reason(() => planWrites(l704, { WMaxLimPct: 50 }))).toBe('BAD_VALUE'); // no scale factor anywhere
    expect(reason(() => planWrites(l704, { PF_SF: -3 }, { block }))).toBe('BAD_VALUE'); // read-only
    expect(reason(() => planWrites(l704, { WSetRvrtRem: 1 }, { block }))).toBe('BAD_VALUE');
  });

  it('planWrites splits long runs at point boundaries, at most 123 registers each', () => {
    const l = layoutFor(def(705), { NCrv: 3, NPt: 40 });
    const values: Record<string, number> = {};
    for (let p = 1; p <= 40; p++) {
      values[`Crv[2].Pt[${p}].V`] = 90 + p / 10;
      values[`Crv[2].Pt[${p}].Var`] = p;
      values[`Crv[3].Pt[${p}].V`] = 90 + p / 10;
      values[`Crv[3].Pt[${p}].Var`] = -p;
    }
    const blockImg = encodeModel(def(705), { NCrv: 3, NPt: 40, V_SF: -1, DeptRef_SF: 0, RspTms_SF: 0 });
    const w = planWrites(l, values, { block: blockImg });
    expect(w.every((x) => x.registers.length <= 123)).toBe(true);
    expect(w.map((x) => x.registers.length)).toEqual([80, 80]);
    const all: Record<string, number> = {};
    for (const s of l.points) if (s.def.access === 'RW' && s.path.startsWith('Crv[')) all[s.path] = 1;
    const big = planWrites(l, all, { block: blockImg });
    expect(big.every((x) => x.registers.length <= 123)).toBe(true);
    for (const x of big) expect(l.byPath.get(x.paths[0]!)!.offset).toBe(x.offset);
    const covered = big.reduce((n, x) => n + x.registers.length, 0);
    expect(covered).toBe(big.flatMap((x) => x.paths).reduce((n, p) => n + l.byPath.get(p)!.def.size, 0));
  });

  it('decodeModel ignores registers beyond L + 2 and rejects a short block', () => {
    const img = encodeModel(def(713), { WH_SF: 0, Pct_SF: 0, SoC: 55 });
    const longer = new Uint16Array(img.length + 5);
    longer.set(img);
    expect(decodeModel(def(713), longer).values.SoC).toBe(55);
    expect(reason(() => decodeModel(def(713), img.subarray(0, 5)))).toBe('TRUNCATED');
    expect(layoutFromBlock(def(713), longer).length).toBe(7);
    expect(reason(() => decodeModel(def(701), img))).toBe('MODEL_ID');
  });
});
