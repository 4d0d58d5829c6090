import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applySf, removeSf } from '../../../src/protocols/sunspec/index.js';

describe('scale factors with exact decimals', () => {
  it('decodes to the double nearest the decimal, never float noise', () => {
    expect(applySf(3, -1)).toBe(0.3);
    expect(applySf(1, -1) * 3).not.toBe(0.3); // what multiplying by 0.1 would give
    expect(applySf(60001, -3)).toBe(60.001);
    expect(applySf(-12345, -2)).toBe(-123.45);
    expect(applySf(7, 3)).toBe(7000);
    expect(applySf(1, -10)).toBe(1e-10);
    expect(applySf(42, 0)).toBe(42);
  });

  it('encodes by rounding the decimal value half away from zero', () => {
    expect(removeSf(0.3, -1)).toBe(3);
    expect(removeSf(1.005, -2)).toBe(101); // 1.005 * 100 is 100.49999999999999 in floats
    expect(removeSf(-1.005, -2)).toBe(-101);
    expect(removeSf(2.5, 0)).toBe(3);
    expect(removeSf(-2.5, 0)).toBe(-3);
    expect(removeSf(0.35, -1)).toBe(4);
    expect(removeSf(1234567, 2)).toBe(12346);
    expect(removeSf(1234549, 2)).toBe(12345);
    expect(removeSf(60.001, -3)).toBe(60001);
    expect(removeSf(1e-7, -8)).toBe(10);
  });

  it('round-trips every raw value and sf (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 }), fc.integer({ min: -10, max: 10 }), (raw, sf) => {
        expect(removeSf(applySf(raw, sf), sf)).toBe(raw);
      }),
    );
  });

  it('decodes like parsing the decimal text (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.integer({ min: -10, max: 10 }), (raw, sf) => {
        expect(applySf(raw, sf)).toBe(Number(`${raw}e${sf}`));
      }),
    );
  });
});
