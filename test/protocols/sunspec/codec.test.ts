import { reason } from './support.js';
import { describe, expect, it } from 'vitest';
import {
  isImplemented,
  POINT_TYPES,
  readRaw,
  TYPE_SIZE,
  writeNotImplemented,
  writeRaw,
  type PointDef,
  type PointType,
  type Raw,
} from '../../../src/protocols/sunspec/index.js';

const pt = (type: PointType, size?: number): PointDef => ({
  name: 'X',
  type,
  size: size ?? (type === 'string' ? 4 : TYPE_SIZE[type]),
  access: 'RW',
  mandatory: false,
  static: false,
});

function roundTrip(p: PointDef, raw: Raw): { regs: Uint16Array; back: Raw } {
  const regs = new Uint16Array(p.size);
  writeRaw(p, raw, regs, 0, 'X');
  return { regs, back: readRaw(p, regs, 0) };
}

function unimpl(p: PointDef): { regs: number[]; raw: Raw; implemented: boolean } {
  const regs = new Uint16Array(p.size + 2).fill(0x1234);
  writeNotImplemented(p, regs, 1);
  const raw = readRaw(p, regs, 1);
  expect(regs[0]).toBe(0x1234);
  expect(regs[p.size + 1]).toBe(0x1234);
  return { regs: [...regs.subarray(1, p.size + 1)], raw, implemented: isImplemented(p, raw) };
}


describe('raw codec', () => {
  it('round-trips every type, big-endian, high word first', () => {
    const cases: [PointType, Raw, number[]][] = [
      ['int16', -2, [0xfffe]],
      ['int16', 32767, [0x7fff]],
      ['uint16', 65534, [0xfffe]],
      ['count', 3, [3]],
      ['acc16', 65535, [0xffff]],
      ['enum16', 7, [7]],
      ['bitfield16', 0x8001, [0x8001]],
      ['pad', 0, [0]],
      ['raw16', 0xffff, [0xffff]],
      ['sunssf', -3, [0xfffd]],
      ['int32', -2, [0xffff, 0xfffe]],
      ['int32', -2147483647, [0x8000, 0x0001]],
      ['int32', 0x12345678, [0x1234, 0x5678]],
      ['uint32', 0xfffffffe, [0xffff, 0xfffe]],
      ['acc32', 0xffffffff, [0xffff, 0xffff]],
      ['enum32', 65536, [1, 0]],
      ['bitfield32', 0x80000000, [0x8000, 0]],
      ['ipaddr', 0xc0a80101, [0xc0a8, 0x0101]],
      ['int64', -1, [0xffff, 0xffff, 0xffff, 0xffff]],
      ['int64', -(2 ** 53 - 1), [0xffe0, 0, 0, 1]],
      ['int64', -(2n ** 62n), [0xc000, 0, 0, 0]],
      ['int64', 2n ** 63n - 1n, [0x7fff, 0xffff, 0xffff, 0xffff]],
      ['uint64', 2 ** 53 - 1, [0x001f, 0xffff, 0xffff, 0xffff]],
      ['uint64', 2n ** 64n - 2n, [0xffff, 0xffff, 0xffff, 0xfffe]],
      ['acc64', 123456789012, [0, 0x1c, 0xbe99, 0x1a14]],
      ['bitfield64', 2n ** 63n, [0x8000, 0, 0, 0]],
      ['float32', 1.5, [0x3fc0, 0]],
      ['float32', -0.25, [0xbe80, 0]],
      ['float64', 0.1, [0x3fb9, 0x9999, 0x9999, 0x999a]],
      ['eui48', '00:1A:2B:3C:4D:5E', [0, 0x001a, 0x2b3c, 0x4d5e]],
      ['ipv6addr', '2001:db8::1', [0x2001, 0x0db8, 0, 0, 0, 0, 0, 1]],
      ['ipv6addr', 'fe80::1:0:0:2', [0xfe80, 0, 0, 0, 1, 0, 0, 2]],
    ];
    for (const [type, raw, regs] of cases) {
      const r = roundTrip(pt(type), raw);
      expect([type, [...r.regs]]).toEqual([type, regs]);
      expect([type, r.back]).toEqual([type, raw]);
      expect(isImplemented(pt(type), r.back) || type === 'pad').toBe(true);
    }
  });

  it('covers every SunSpec type', () => {
    expect([...POINT_TYPES].sort()).toEqual(
      ['int16', 'uint16', 'count', 'acc16', 'enum16', 'bitfield16', 'pad', 'raw16', 'sunssf', 'int32', 'uint32', 'acc32', 'enum32', 'bitfield32', 'ipaddr', 'float32', 'int64', 'uint64', 'acc64', 'bitfield64', 'float64', 'eui48', 'ipv6addr', 'string'].sort(),
    );
  });

  it('returns 64-bit values as numbers while safe and as bigint beyond 2^53', () => {
    expect(typeof roundTrip(pt('uint64'), 2 ** 53 - 1).back).toBe('number');
    expect(roundTrip(pt('uint64'), 2n ** 53n).back).toBe(2n ** 53n);
    expect(roundTrip(pt('int64'), -(2n ** 53n)).back).toBe(-(2n ** 53n));
    expect(roundTrip(pt('int64'), 2n ** 40n).back).toBe(2 ** 40);
  });

  it('writes and recognises every "not implemented" sentinel', () => {
    const expected: [PointType, number[]][] = [
      ['int16', [0x8000]], ['uint16', [0xffff]], ['count', [0xffff]], ['acc16', [0]], ['enum16', [0xffff]], ['bitfield16', [0xffff]],
      ['sunssf', [0x8000]], ['int32', [0x8000, 0]], ['uint32', [0xffff, 0xffff]], ['acc32', [0, 0]], ['enum32', [0xffff, 0xffff]],
      ['bitfield32', [0xffff, 0xffff]], ['ipaddr', [0, 0]], ['int64', [0x8000, 0, 0, 0]], ['uint64', [0xffff, 0xffff, 0xffff, 0xffff]],
      ['acc64', [0, 0, 0, 0]], ['bitfield64', [0xffff, 0xffff, 0xffff, 0xffff]], ['float32', [0x7fc0, 0]], ['float64', [0x7ff8, 0, 0, 0]],
      ['string', [0, 0, 0, 0]], ['eui48', [0, 0xffff, 0xffff, 0xffff]], ['ipv6addr', [0, 0, 0, 0, 0, 0, 0, 0]],
    ];
    for (const [type, regs] of expected) {
      const u = unimpl(pt(type));
      expect([type, u.regs, u.implemented]).toEqual([type, regs, false]);
    }
    // An all-zero eui48 is not implemented either; a float32 NaN of any payload is.
    expect(isImplemented(pt('eui48'), readRaw(pt('eui48'), [0, 0, 0, 0], 0))).toBe(false);
    expect(isImplemented(pt('float32'), readRaw(pt('float32'), [0xffc0, 1], 0))).toBe(false);
    expect(isImplemented(pt('raw16'), readRaw(pt('raw16'), [0xffff], 0))).toBe(true);
  });

  it('writes NaN as the float sentinel', () => {
    expect([...roundTrip(pt('float32'), NaN).regs]).toEqual([0x7fc0, 0]);
    expect(Number.isNaN(roundTrip(pt('float64'), NaN).back)).toBe(true);
  });

  it('strings: two chars a register, NUL padded, first char NUL = not implemented, UTF-8', () => {
    const p = pt('string', 4);
    const r = roundTrip(p, 'SunS');
    expect([...r.regs]).toEqual([0x5375, 0x6e53, 0, 0]);
    expect(r.back).toBe('SunS');
    expect(roundTrip(p, 'abcdefgh').back).toBe('abcdefgh');
    expect([...roundTrip(p, 'abc').regs]).toEqual([0x6162, 0x6300, 0, 0]);
    expect(roundTrip(p, 'Zürich').back).toBe('Zürich');
    expect(readRaw(p, [0x0041, 0x4243, 0, 0], 0)).toBe('');
    expect(isImplemented(p, '')).toBe(false);
    expect(reason(() => roundTrip(p, 'abcdefghi'))).toBe('RANGE');
    expect(reason(() => roundTrip(p, 'a\0b'))).toBe('BAD_VALUE');
  });

  it('rejects values that do not fit, sentinels included, instead of wrapping', () => {
    const bad: [PointType, Raw][] = [
      ['int16', 32768], ['int16', -32768], ['uint16', -1], ['uint16', 65535], ['uint16', 70000], ['enum16', 0xffff],
      ['sunssf', 11], ['sunssf', -11], ['int32', 2 ** 31], ['int32', -(2 ** 31)], ['uint32', 2 ** 32 - 1], ['acc32', 2 ** 32],
      ['int64', 2n ** 63n], ['int64', -(2n ** 63n)], ['uint64', -1], ['uint64', 2n ** 64n - 1n], ['acc64', 2n ** 64n],
      ['float32', 1e39], ['float64', Infinity],
    ];
    for (const [type, raw] of bad) expect([type, raw, reason(() => roundTrip(pt(type), raw))]).toEqual([type, raw, 'RANGE']);
    expect(reason(() => roundTrip(pt('int16'), 1.5))).toBe('BAD_VALUE');
    expect(reason(() => roundTrip(pt('uint16'), 'x'))).toBe('BAD_VALUE');
    expect(reason(() => roundTrip(pt('eui48'), 'not-a-mac'))).toBe('BAD_VALUE');
    expect(reason(() => roundTrip(pt('ipv6addr'), '1::2::3'))).toBe('BAD_VALUE');
  });

  it('names the sentinel in the range error', () => {
    expect(() => roundTrip(pt('int16'), -32768)).toThrow(/-32768 means not implemented/);
  });
});
