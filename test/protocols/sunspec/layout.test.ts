import { def, reason } from './support.js';
import { describe, expect, it } from 'vitest';
import {
  encodeModel,
  layoutFor,
  layoutFromBlock,
  lengthProblem,
  slotOf,
  type ModelLayout,
} from '../../../src/protocols/sunspec/index.js';

const off = (l: ModelLayout, path: string): number => slotOf(l, path).offset;


describe('fixed models', () => {
  it('puts key points at their offsets (spec/sunspec-offsets.txt)', () => {
    const m1 = layoutFor(def(1));
    expect([off(m1, 'Mn'), off(m1, 'Md'), off(m1, 'SN'), off(m1, 'DA'), m1.length]).toEqual([2, 18, 50, 66, 66]);
    const m101 = layoutFor(def(101));
    expect([off(m101, 'W'), off(m101, 'W_SF'), off(m101, 'WH'), off(m101, 'St'), off(m101, 'Evt1')]).toEqual([14, 15, 24, 38, 40]);
    expect(slotOf(m101, 'W').sf).toBe(slotOf(m101, 'W_SF'));
    const m123 = layoutFor(def(123));
    expect([off(m123, 'WMaxLimPct'), off(m123, 'WMaxLimPct_SF'), off(m123, 'OutPFSet'), off(m123, 'VArPct_Mod')]).toEqual([5, 23, 10, 21]);
    const m124 = layoutFor(def(124));
    expect([off(m124, 'ChaState'), off(m124, 'ChaState_SF'), off(m124, 'InWRte')]).toEqual([8, 22, 13]);
    const m701 = layoutFor(def(701));
    expect([off(m701, 'W'), off(m701, 'Hz'), off(m701, 'TotWhInj'), off(m701, 'W_SF'), off(m701, 'MnAlrmInfo'), m701.length]).toEqual([10, 17, 19, 116, 123, 153]);
    const m704 = layoutFor(def(704));
    expect(slotOf(m704, 'WSet').def.type).toBe('int32');
    expect([off(m704, 'WSet'), off(m704, 'WSet_SF'), off(m704, 'PFWInj.PF'), off(m704, 'PFWAbsRvrt.Ext'), m704.length]).toEqual([24, 55, 59, 66, 65]);
    expect(slotOf(m704, 'PFWInj.PF').sf).toBe(slotOf(m704, 'PF_SF'));
    const m713 = layoutFor(def(713));
    expect([off(m713, 'SoC'), off(m713, 'Pct_SF')]).toEqual([4, 8]);
  });

  it('has no paths with indices for plain (count 1) sub-groups', () => {
    expect(layoutFor(def(704)).points.filter((p) => p.path.includes('[')).length).toBe(0);
  });
});

describe('7xx nested repeating groups', () => {
  it('705 with NCrv = 2, NPt = 4: L = 13 + NCrv (10 + 2 NPt), curve points in place', () => {
    const l = layoutFor(def(705), { NCrv: 2, NPt: 4 });
    expect(l.length).toBe(13 + 2 * (10 + 2 * 4));
    expect(l.size).toBe(51);
    expect(l.counts).toEqual({ NCrv: 2, NPt: 4 });
    expect(off(l, 'Crv[1].ActPt')).toBe(15);
    expect(off(l, 'Crv[1].RspTms')).toBe(22);
    expect(off(l, 'Crv[1].ReadOnly')).toBe(24);
    expect(off(l, 'Crv[1].Pt[1].V')).toBe(25);
    expect(off(l, 'Crv[1].Pt[4].Var')).toBe(32);
    expect(off(l, 'Crv[2].ActPt')).toBe(33);
    expect(off(l, 'Crv[2].Pt[2].V')).toBe(45);
    expect(off(l, 'Crv[2].Pt[4].Var')).toBe(50);
    expect(l.byPath.has('Crv[3].ActPt')).toBe(false);
    expect(reason(() => slotOf(l, 'Crv[2].Pt[5].V'))).toBe('UNKNOWN_POINT');
    // Scale factors of nested points resolve to the top-level group.
    expect(slotOf(l, 'Crv[2].Pt[3].V').sf).toBe(slotOf(l, 'V_SF'));
    expect(slotOf(l, 'Crv[2].RspTms').sf).toBe(slotOf(l, 'RspTms_SF'));
  });

  it('706 follows the same pattern (Crv fixed part 5)', () => {
    const l = layoutFor(def(706), { NCrv: 3, NPt: 2 });
    expect(l.length).toBe(13 + 3 * (5 + 2 * 2));
    expect(off(l, 'Crv[3].Pt[2].W')).toBe(15 + 2 * 9 + 5 + 3);
  });

  it('takes counts from the block itself', () => {
    const image = encodeModel(def(705), { NCrv: 3, NPt: 2, V_SF: 0, DeptRef_SF: 0, RspTms_SF: 0 });
    const l = layoutFromBlock(def(705), image);
    expect(l.length).toBe(13 + 3 * (10 + 4));
    expect(l.counts).toEqual({ NCrv: 3, NPt: 2 });
    expect(off(l, 'Crv[3].Pt[2].Var')).toBe(15 + 2 * 14 + 10 + 3);
  });

  it('rejects a block whose L disagrees with its counts, or that is cut short', () => {
    const image = encodeModel(def(705), { NCrv: 2, NPt: 4 });
    const wrongL = Uint16Array.from(image);
    wrongL[1] = 40;
    expect(reason(() => layoutFromBlock(def(705), wrongL.subarray(0, 42)))).toBe('MODEL_LENGTH');
    expect(reason(() => layoutFromBlock(def(705), image.subarray(0, 30)))).toBe('TRUNCATED');
    const huge = Uint16Array.from(image);
    huge[6] = 5000; // NCrv
    expect(reason(() => layoutFromBlock(def(705), huge))).toBe('MODEL_LENGTH');
  });

  it('needs counts to build a layout without a block', () => {
    expect(reason(() => layoutFor(def(705)))).toBe('COUNT');
    expect(reason(() => layoutFor(def(705), { NCrv: 1 }))).toBe('COUNT');
    expect(reason(() => layoutFor(def(705), { NCrv: -1, NPt: 1 }))).toBe('COUNT');
  });
});

describe('legacy count-0 groups (126, 132)', () => {
  it('126 with 4 curves: L = 10 + 54 x 4 = 226', () => {
    const l = layoutFor(def(126), { curve: 4 });
    expect(l.length).toBe(226);
    expect(off(l, 'curve[1].ActPt')).toBe(12);
    expect(off(l, 'curve[1].V1')).toBe(14);
    expect(off(l, 'curve[1].VAr20')).toBe(53);
    expect(off(l, 'curve[1].CrvNam')).toBe(54);
    expect(off(l, 'curve[1].ReadOnly')).toBe(65);
    expect(off(l, 'curve[4].ActPt')).toBe(12 + 3 * 54);
    expect(off(l, 'curve[4].ReadOnly')).toBe(227);
    expect(slotOf(l, 'curve[3].V5').sf).toBe(slotOf(l, 'V_SF'));
  });

  it('derives the number of curves from L in a block', () => {
    for (const n of [0, 1, 3]) {
      const image = new Uint16Array(12 + 54 * n);
      image[0] = 126;
      image[1] = 10 + 54 * n;
      const l = layoutFromBlock(def(126), image);
      expect(l.counts).toEqual({ curve: n });
      expect(l.points.filter((p) => p.def.name === 'ActPt').length).toBe(n);
    }
    const bad = new Uint16Array(12 + 54 + 5);
    bad[0] = 126;
    bad[1] = 10 + 54 + 5;
    expect(reason(() => layoutFromBlock(def(126), bad))).toBe('MODEL_LENGTH');
  });

  it('132 has the same shape with W points', () => {
    const l = layoutFor(def(132), { curve: 2 });
    expect(l.length).toBe(10 + 54 * 2);
    expect(off(l, 'curve[2].W20')).toBe(12 + 54 + 41);
  });
});

describe('lengths from a model chain', () => {
  it('checks L against the definition without the block', () => {
    expect(lengthProblem(def(101), 50)).toBeNull();
    expect(lengthProblem(def(101), 52)).toMatch(/50/);
    expect(lengthProblem(def(1), 65)).toBeNull(); // legacy common model without Pad
    expect(lengthProblem(def(1), 64)).not.toBeNull();
    expect(lengthProblem(def(126), 226)).toBeNull();
    expect(lengthProblem(def(126), 227)).not.toBeNull();
    expect(lengthProblem(def(705), 49)).toBeNull();
    expect(lengthProblem(def(705), 12)).not.toBeNull();
  });

  it('accepts the legacy model 1 block of L = 65 without the pad', () => {
    const image = encodeModel(def(1), { Mn: 'acme', Md: 'x', SN: '1' });
    const legacy = Uint16Array.from(image.subarray(0, 67));
    legacy[1] = 65;
    const l = layoutFromBlock(def(1), legacy);
    expect(l.length).toBe(65);
    expect(l.byPath.has('Pad')).toBe(false);
    expect(off(l, 'DA')).toBe(66);
  });
});

describe('layout cache', () => {
  it('reuses a layout for the same counts and rebuilds when counts change', () => {
    const a = encodeModel(def(705), { NCrv: 2, NPt: 4 });
    const b = encodeModel(def(705), { NCrv: 2, NPt: 4, Ena: 1 });
    expect(layoutFromBlock(def(705), a)).toBe(layoutFromBlock(def(705), b));
    // Same L, different split: NCrv 1 x NPt 9 = 13 + 28 = 41 = NCrv 2 x NPt 2 (13 + 2 x 14).
    const c = encodeModel(def(705), { NCrv: 1, NPt: 9 });
    const d = encodeModel(def(705), { NCrv: 2, NPt: 2 });
    expect(c.length).toBe(d.length);
    const lc = layoutFromBlock(def(705), c);
    const ld = layoutFromBlock(def(705), d);
    expect(lc.counts).toEqual({ NCrv: 1, NPt: 9 });
    expect(ld.counts).toEqual({ NCrv: 2, NPt: 2 });
    expect(layoutFor(def(705), { NPt: 4, NCrv: 2 })).toBe(layoutFor(def(705), { NCrv: 2, NPt: 4 }));
  });
});
