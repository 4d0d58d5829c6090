import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocate, type AllocMember } from '../../src/core/planner/allocate.js';
import { allocationPolicies } from '../../src/core/model/control.js';

const member = fc
  .record({
    lo: fc.double({ min: -10_000, max: 0, noNaN: true }),
    hi: fc.double({ min: 0, max: 10_000, noNaN: true }),
    ratingUp: fc.double({ min: 0, max: 12_000, noNaN: true }),
    ratingDown: fc.double({ min: 0, max: 12_000, noNaN: true }),
    soc: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined }),
    priority: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }),
    // Some members cannot go to zero (a battery that must keep charging, a floor on output).
    shift: fc.double({ min: -2000, max: 2000, noNaN: true }),
  })
  .map(({ lo, hi, shift, ...rest }, ): Omit<AllocMember, 'id'> => ({ ...rest, lo: lo + shift, hi: hi + shift }));

const members = fc.array(member, { minLength: 1, maxLength: 40 }).map((ms) => ms.map((m, i): AllocMember => ({ ...m, id: `m${i}` })));
const policy = fc.constantFrom(...allocationPolicies);

describe('allocate (properties)', () => {
  it('when feasible, sums to the target within 1 W and keeps every member within its limits', () => {
    fc.assert(
      fc.property(members, policy, fc.double({ min: 0, max: 1, noNaN: true }), (ms, p, frac) => {
        const lo = ms.reduce((s, m) => s + m.lo, 0);
        const hi = ms.reduce((s, m) => s + m.hi, 0);
        const target = lo + (hi - lo) * frac;
        const a = allocate(ms, target, p);
        const sum = a.values.reduce((s, v) => s + v, 0);
        expect(Math.abs(sum - target)).toBeLessThanOrEqual(1);
        ms.forEach((m, i) => {
          expect(a.values[i]!).toBeGreaterThanOrEqual(m.lo - 1e-6);
          expect(a.values[i]!).toBeLessThanOrEqual(m.hi + 1e-6);
        });
        expect(Math.abs(a.shortfall)).toBeLessThanOrEqual(1e-3);
      }),
      { numRuns: 500 },
    );
  });

  it('when infeasible, clamps every member to the limit in the requested direction and reports the shortfall', () => {
    fc.assert(
      fc.property(members, policy, fc.double({ min: 1, max: 1e6, noNaN: true }), fc.boolean(), (ms, p, excess, up) => {
        const lo = ms.reduce((s, m) => s + m.lo, 0);
        const hi = ms.reduce((s, m) => s + m.hi, 0);
        const target = up ? hi + excess : lo - excess;
        const a = allocate(ms, target, p);
        ms.forEach((m, i) => expect(a.values[i]!).toBeCloseTo(up ? m.hi : m.lo, 6));
        expect(a.shortfall).toBeCloseTo(target - a.achievable, 6);
        expect(a.achievable).toBeCloseTo(up ? hi : lo, 4);
      }),
      { numRuns: 300 },
    );
  });

  it('does not depend on member order', () => {
    fc.assert(
      fc.property(members, policy, fc.double({ min: -1.2, max: 1.2, noNaN: true }), fc.infiniteStream(fc.nat()), (ms, p, frac, rnd) => {
        const hi = ms.reduce((s, m) => s + m.hi, 0);
        const target = hi * frac;
        const shuffled = [...ms];
        const it = rnd[Symbol.iterator]();
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = (it.next().value as number) % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        const a = allocate(ms, target, p);
        const b = allocate(shuffled, target, p);
        const byId = new Map(shuffled.map((m, i) => [m.id, b.values[i]!]));
        ms.forEach((m, i) => expect(Math.abs(a.values[i]! - byId.get(m.id)!)).toBeLessThan(1e-6 * Math.max(1, Math.abs(a.values[i]!))));
      }),
      { numRuns: 300 },
    );
  });
});

describe('allocate (policies)', () => {
  const m = (id: string, lo: number, hi: number, over: Partial<AllocMember> = {}): AllocMember => ({ id, lo, hi, ratingUp: hi, ratingDown: -lo, ...over });

  it('headroom: proportional to room in the requested direction', () => {
    const a = allocate([m('a', 0, 1000), m('b', 0, 3000)], 2000, 'headroom');
    expect([...a.values]).toEqual([500, 1500]);
  });

  it('rating: proportional to rating, with capped members re-spread', () => {
    // b is rated 9 kW but only 1 kW is available now: it caps, the rest goes to a.
    const a = allocate([m('a', 0, 5000, { ratingUp: 1000 }), m('b', 0, 1000, { ratingUp: 9000 })], 3000, 'rating');
    expect([...a.values]).toEqual([2000, 1000]);
  });

  it('soc-balance: fuller batteries discharge more, emptier ones charge more', () => {
    const ms = [m('full', -5000, 5000, { soc: 90 }), m('empty', -5000, 5000, { soc: 10 })];
    const dis = allocate(ms, 4000, 'soc-balance');
    expect(dis.values[0]!).toBeCloseTo(3600);
    expect(dis.values[1]!).toBeCloseTo(400);
    const chg = allocate(ms, -4000, 'soc-balance');
    expect(chg.values[0]!).toBeCloseTo(-400);
    expect(chg.values[1]!).toBeCloseTo(-3600);
  });

  it('priority: fills lower numbers first', () => {
    const a = allocate([m('late', 0, 1000, { priority: 2 }), m('first', 0, 1000, { priority: 1 }), m('none', 0, 1000)], 1500, 'priority');
    expect([...a.values]).toEqual([500, 1000, 0]);
  });

  it('starts members that cannot sit at zero from their nearest limit', () => {
    const a = allocate([m('floor', 500, 1000), m('free', 0, 1000)], 600, 'headroom');
    expect(a.values[0]! + a.values[1]!).toBeCloseTo(600);
    expect(a.values[0]!).toBeGreaterThanOrEqual(500);
  });

  it('reports the shortfall of an infeasible request', () => {
    const a = allocate([m('a', 0, 1000)], 1500, 'headroom');
    expect(a.shortfall).toBe(500);
    expect(a.achievable).toBe(1000);
    expect(allocate([], 100, 'headroom').shortfall).toBe(100);
  });
});
