/**
 * Registers <-> raw point values for every SunSpec type, before scale factors and symbols.
 * Everything is big-endian: bytes within a register and words within 32/64-bit values.
 *
 * Raw values by type:
 * - 16/32-bit integers (int, uint, acc, count, enum, bitfield, pad, raw16, sunssf, ipaddr): number.
 * - 64-bit integers (int64, uint64, acc64, bitfield64): number when it is a safe integer
 *   (|v| < 2^53), otherwise bigint, so no precision is ever lost on the raw value.
 * - float32, float64: number (NaN = not implemented).
 * - string: the text before the first NUL (UTF-8); eui48: "XX:XX:XX:XX:XX:XX" (the last six bytes
 *   of its four registers); ipv6addr: RFC 5952 text.
 */
import type { PointDef, PointType } from './defs.js';
import { SunSpecError } from './errors.js';
import { formatEui48, formatIpv6, parseEui48, parseIpv6 } from './text.js';

export type Raw = number | bigint | string;
type Regs = ArrayLike<number>;

const scratch = new DataView(new ArrayBuffer(8));
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

const TWO32 = 4294967296;
const SAFE_HI = 0x200000; // 2^21: hi word * 2^32 stays below 2^53

function u32(regs: Regs, off: number): number {
  return regs[off]! * 65536 + regs[off + 1]!;
}

function read64(regs: Regs, off: number, signed: boolean): number | bigint {
  const hi = u32(regs, off);
  const lo = u32(regs, off + 2);
  const hs = signed && hi >= 0x80000000 ? hi - TWO32 : hi;
  if (hs >= -SAFE_HI && hs < SAFE_HI) {
    const v = hs * TWO32 + lo; // exact: |v| <= 2^53
    if (Number.isSafeInteger(v)) return v;
  }
  const u = (BigInt(hi) << 32n) | BigInt(lo);
  return signed ? BigInt.asIntN(64, u) : u;
}

/** The raw value in `size` registers of `regs` at `off` (the caller checks there are enough). */
export function readRaw(p: PointDef, regs: Regs, off: number): Raw {
  switch (p.type) {
    case 'int16':
    case 'sunssf': {
      const v = regs[off]!;
      return v >= 0x8000 ? v - 0x10000 : v;
    }
    case 'uint16': case 'count': case 'acc16': case 'enum16': case 'bitfield16': case 'pad': case 'raw16':
      return regs[off]!;
    case 'int32': {
      const v = u32(regs, off);
      return v >= 0x80000000 ? v - TWO32 : v;
    }
    case 'uint32': case 'acc32': case 'enum32': case 'bitfield32': case 'ipaddr':
      return u32(regs, off);
    case 'int64':
      return read64(regs, off, true);
    case 'uint64': case 'acc64': case 'bitfield64':
      return read64(regs, off, false);
    case 'float32':
      scratch.setUint32(0, u32(regs, off));
      return scratch.getFloat32(0);
    case 'float64':
      scratch.setUint32(0, u32(regs, off));
      scratch.setUint32(4, u32(regs, off + 2));
      return scratch.getFloat64(0);
    case 'string':
      return readString(regs, off, p.size);
    case 'eui48':
      return formatEui48(regs, off);
    case 'ipv6addr':
      return formatIpv6(regs, off);
  }
}

function readString(regs: Regs, off: number, size: number): string {
  const bytes: number[] = [];
  for (let i = 0; i < size; i++) {
    const r = regs[off + i]!;
    const hi = r >> 8;
    if (hi === 0) break;
    bytes.push(hi);
    const lo = r & 0xff;
    if (lo === 0) break;
    bytes.push(lo);
  }
  if (bytes.every((b) => b < 0x80)) return String.fromCharCode(...bytes);
  return utf8Decoder.decode(Uint8Array.from(bytes));
}

/** Not-implemented values by type (pysunspec2's, mb.py). */
const SENTINEL: Readonly<Partial<Record<PointType, number | bigint>>> = {
  int16: -0x8000, sunssf: -0x8000, uint16: 0xffff, count: 0xffff, acc16: 0, enum16: 0xffff, bitfield16: 0xffff,
  int32: -0x80000000, uint32: 0xffffffff, acc32: 0, enum32: 0xffffffff, bitfield32: 0xffffffff, ipaddr: 0,
  int64: -(2n ** 63n), uint64: 2n ** 64n - 1n, acc64: 0, bitfield64: 2n ** 64n - 1n,
};

/** False when the raw value is its type's "not implemented" sentinel (pad: never a value). */
export function isImplemented(p: PointDef, raw: Raw): boolean {
  switch (p.type) {
    case 'pad':
      return false;
    case 'raw16':
      return true;
    case 'float32':
    case 'float64':
      return !Number.isNaN(raw);
    case 'string':
      return raw !== '';
    case 'eui48':
      return raw !== '00:00:00:00:00:00' && raw !== 'FF:FF:FF:FF:FF:FF';
    case 'ipv6addr':
      return raw !== '::';
    default: {
      const s = SENTINEL[p.type]!;
      // 64-bit raws are bigint only beyond 2^53; a sentinel of 0 compares equal either way.
      return typeof raw === 'bigint' || typeof s === 'bigint' ? BigInt(raw) !== BigInt(s) : raw !== s;
    }
  }
}

/** Inclusive range of implemented raw values (sentinels excluded, except an accumulator's 0). */
const INT_RANGE: Readonly<Partial<Record<PointType, readonly [bigint, bigint]>>> = {
  int16: [-0x7fffn, 0x7fffn], sunssf: [-10n, 10n], uint16: [0n, 0xfffen], count: [0n, 0xfffen], acc16: [0n, 0xffffn],
  enum16: [0n, 0xfffen], bitfield16: [0n, 0xfffen], pad: [0n, 0xffffn], raw16: [0n, 0xffffn],
  int32: [-0x7fffffffn, 0x7fffffffn], uint32: [0n, 0xfffffffen], acc32: [0n, 0xffffffffn], enum32: [0n, 0xfffffffen],
  bitfield32: [0n, 0xfffffffen], ipaddr: [0n, 0xffffffffn],
  int64: [-(2n ** 63n) + 1n, 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 2n], acc64: [0n, 2n ** 64n - 1n], bitfield64: [0n, 2n ** 64n - 2n],
};

function rangeError(what: string, p: PointDef, raw: Raw, lo: bigint, hi: bigint): SunSpecError {
  const s = SENTINEL[p.type];
  const note = s !== undefined && (BigInt(s) < lo || BigInt(s) > hi) ? `; ${String(s)} means not implemented, write null for that` : '';
  return new SunSpecError('RANGE', `${what}: raw value ${String(raw)} does not fit ${p.type} (${lo}..${hi}${note})`);
}

/**
 * Write a raw value (already scaled and rounded) into `out` at `off`, checking it fits the type:
 * a value out of range (or a type's sentinel) is a RANGE error, never a silent wrap.
 */
export function writeRaw(p: PointDef, raw: Raw, out: Uint16Array, off: number, what: string): void {
  switch (p.type) {
    case 'float32':
    case 'float64': {
      if (typeof raw !== 'number') throw new SunSpecError('BAD_VALUE', `${what}: ${p.type} takes a number, not ${typeof raw}`);
      if (Number.isNaN(raw)) return writeNotImplemented(p, out, off);
      if (p.type === 'float32') {
        if (!Number.isFinite(Math.fround(raw))) throw new SunSpecError('RANGE', `${what}: ${raw} does not fit float32`);
        scratch.setFloat32(0, raw);
        out[off] = scratch.getUint16(0);
        out[off + 1] = scratch.getUint16(2);
      } else {
        if (!Number.isFinite(raw)) throw new SunSpecError('RANGE', `${what}: ${raw} does not fit float64`);
        scratch.setFloat64(0, raw);
        for (let i = 0; i < 4; i++) out[off + i] = scratch.getUint16(i * 2);
      }
      return;
    }
    case 'string':
      return writeString(p, String(raw), out, off, what);
    case 'eui48':
      return writeWords(out, off, parseEui48(String(raw), what));
    case 'ipv6addr':
      return writeWords(out, off, parseIpv6(String(raw), what));
    default: {
      if (typeof raw === 'string') throw new SunSpecError('BAD_VALUE', `${what}: ${p.type} takes a number, not ${JSON.stringify(raw)}`);
      if (typeof raw === 'number' && !Number.isInteger(raw)) throw new SunSpecError('BAD_VALUE', `${what}: ${p.type} takes an integer, not ${raw}`);
      const [lo, hi] = INT_RANGE[p.type]!;
      if (p.size <= 2 && typeof raw === 'number') {
        // Fast path without BigInt for 16/32-bit values.
        if (raw < Number(lo) || raw > Number(hi)) throw rangeError(what, p, raw, lo, hi);
        const u = raw < 0 ? raw + (p.size === 1 ? 0x10000 : TWO32) : raw;
        if (p.size === 1) out[off] = u;
        else {
          out[off] = Math.floor(u / 65536);
          out[off + 1] = u % 65536;
        }
        return;
      }
      const big = BigInt(raw);
      if (big < lo || big > hi) throw rangeError(what, p, raw, lo, hi);
      writeInt(p.size, big, out, off);
    }
  }
}

function writeInt(size: number, v: bigint, out: Uint16Array, off: number): void {
  if (size === 1) {
    out[off] = Number(BigInt.asUintN(16, v));
    return;
  }
  let u = BigInt.asUintN(size * 16, v);
  for (let i = size - 1; i >= 0; i--) {
    out[off + i] = Number(u & 0xffffn);
    u >>= 16n;
  }
}

function writeWords(out: Uint16Array, off: number, words: readonly number[]): void {
  words.forEach((w, i) => (out[off + i] = w));
}

function writeString(p: PointDef, s: string, out: Uint16Array, off: number, what: string): void {
  const bytes = utf8.encode(s);
  if (bytes.length > p.size * 2) throw new SunSpecError('RANGE', `${what}: ${bytes.length} bytes do not fit string of ${p.size} registers (${p.size * 2} bytes)`);
  if (bytes.includes(0)) throw new SunSpecError('BAD_VALUE', `${what}: text must not contain NUL`);
  for (let i = 0; i < p.size; i++) out[off + i] = ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0);
}

/** Write the type's "not implemented" value (pad: 0; string, ipv6addr: all 0; eui48: FF:FF:FF:FF:FF:FF). */
export function writeNotImplemented(p: PointDef, out: Uint16Array, off: number): void {
  switch (p.type) {
    case 'float32':
      out[off] = 0x7fc0;
      out[off + 1] = 0;
      return;
    case 'float64':
      out.fill(0, off, off + 4);
      out[off] = 0x7ff8;
      return;
    case 'string': case 'ipv6addr': case 'pad': case 'raw16':
      out.fill(0, off, off + p.size);
      return;
    case 'eui48':
      out[off] = 0;
      out.fill(0xffff, off + 1, off + 4);
      return;
    default: {
      const v = SENTINEL[p.type]!;
      if (p.size === 1) out[off] = Number(v) & 0xffff;
      else if (p.size === 2) {
        const u = Number(v) >>> 0;
        out[off] = u >>> 16;
        out[off + 1] = u & 0xffff;
      } else writeInt(p.size, BigInt(v), out, off);
    }
  }
}
