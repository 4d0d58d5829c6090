import { describe, expect, it } from 'vitest';
import { chunkReads, chunkWrites, isSunSpecError, MAX_READ, MAX_WRITE } from '../../../src/protocols/sunspec/index.js';

describe('chunkReads', () => {
  it('merges touching and overlapping ranges and splits at 125', () => {
    expect(MAX_READ).toBe(125);
    // A chain: 1 (68), 701 (155), 704 (67) back to back from 40002.
    expect(chunkReads([{ address: 40002, count: 68 }, { address: 40070, count: 155 }, { address: 40225, count: 67 }])).toEqual([
      { address: 40002, count: 125 },
      { address: 40127, count: 125 },
      { address: 40252, count: 40 },
    ]);
    expect(chunkReads([{ address: 10, count: 5 }, { address: 12, count: 10 }, { address: 100, count: 3 }, { address: 0, count: 0 }])).toEqual([
      { address: 10, count: 12 },
      { address: 100, count: 3 },
    ]);
  });

  it('never reads across a gap', () => {
    expect(chunkReads([{ address: 0, count: 2 }, { address: 3, count: 2 }], 125)).toEqual([
      { address: 0, count: 2 },
      { address: 3, count: 2 },
    ]);
  });
});

describe('chunkWrites', () => {
  it('splits at 123 registers, where allowed', () => {
    expect(MAX_WRITE).toBe(123);
    const values = Uint16Array.from({ length: 300 }, (_, i) => i);
    const w = chunkWrites(1000, values);
    expect(w.map((x) => [x.address, x.values.length, x.values[0]])).toEqual([
      [1000, 123, 0],
      [1123, 123, 123],
      [1246, 54, 246],
    ]);
    // Only even offsets allowed (32-bit points): never end a request mid-point.
    const even = chunkWrites(1000, values, 123, (a) => (a - 1000) % 2 === 0);
    expect(even.map((x) => x.values.length)).toEqual([122, 122, 56]);
    try {
      chunkWrites(0, values, 123, () => false);
      expect.unreachable();
    } catch (e) {
      expect(isSunSpecError(e, 'RANGE')).toBe(true);
    }
  });
});
