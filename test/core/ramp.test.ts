import { describe, expect, it } from 'vitest';
import { memberRamps, rampDurationMs, rampValueAt } from '../../src/core/ramp.js';
import { parseDer } from '../../src/core/model/der.js';
import { rampRatesSchema } from '../../src/core/model/control.js';
import { pv } from '../support/fixtures.js';

const a = parseDer(pv('a', 10_000));
const b = parseDer(pv('b', 2_000));

describe('ramps', () => {
  it('%/s is a share of each DER rating', () => {
    const r = memberRamps(rampRatesSchema.parse({ increasing: 10, decreasing: 20, unit: '%/s' }), [{ der: a, from: 0, to: 5000 }, { der: b, from: 0, to: 1000 }]);
    expect(r).toEqual([{ upWPerS: 1000, downWPerS: 2000 }, { upWPerS: 200, downWPerS: 400 }]);
  });

  it('a group W/s is shared so all members arrive together', () => {
    const moves = [{ der: a, from: 0, to: 6000 }, { der: b, from: 0, to: 2000 }];
    const r = memberRamps(rampRatesSchema.parse({ increasing: 800, unit: 'W/s' }), moves);
    expect(r[0]!.upWPerS).toBe(600);
    expect(r[1]!.upWPerS).toBe(200);
    expect(r[0]!.downWPerS).toBeNull();
    expect(rampDurationMs(0, 6000, r[0]!)).toBe(10_000);
    expect(rampDurationMs(0, 2000, r[1]!)).toBe(10_000);
  });

  it('interpolates along the ramp and ends at the target', () => {
    const lim = { upWPerS: 100, downWPerS: null };
    expect(rampValueAt(0, 1000, lim, 2500)).toBe(250);
    expect(rampValueAt(0, 1000, lim, 99_999)).toBe(1000);
    expect(rampValueAt(1000, 0, lim, 0)).toBe(0); // no decreasing limit: jump
  });
});
