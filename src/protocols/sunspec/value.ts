/**
 * Raw point values <-> engineering values: scale factors and symbols.
 *
 * - Numbers (int*, uint*, acc*, count, float*) are scaled: value = raw x 10^sf (exact decimals, see
 *   scale.ts). 64-bit values are numbers when safe; beyond 2^53 they stay bigint (exact) when the
 *   scale factor is >= 0, and become the nearest number when it is negative.
 * - enum16/enum32: the number, plus `symbol` (its name) when the definition has one.
 * - bitfield16/32/64: the number, plus `symbols`: the names of the set bits that have one.
 * - ipaddr: dotted quad text; string, eui48, ipv6addr: text; sunssf: the number; pad: null.
 * - A raw sentinel ("not implemented") is null, and so is a scaled point whose scale factor is
 *   itself not implemented or outside -10..10.
 */
import { isImplemented, type Raw } from './codec.js';
import type { PointDef } from './defs.js';
import { SunSpecError } from './errors.js';
import { applySf, applySfBig, isValidSf, removeSf, removeSfBig } from './scale.js';
import { formatIpv4, parseIpv4 } from './text.js';

export type Value = number | bigint | string | null;
/** What callers may write: a number (or bigint), text, a symbol name, bitfield symbol names, or null. */
export type PointInput = number | bigint | string | readonly string[] | null;

export interface Decoded {
  readonly value: Value;
  readonly symbol?: string;
  readonly symbols?: readonly string[];
}

const SCALED = new Set(['int16', 'uint16', 'count', 'acc16', 'int32', 'uint32', 'acc32', 'int64', 'uint64', 'acc64', 'float32', 'float64']);

/** Whether the type's value is scaled by the point's sf. */
export function isScaled(p: PointDef): boolean {
  return p.sf !== undefined && SCALED.has(p.type);
}

/** `sf`: the scale factor to apply (undefined: none; null: needed but unusable). */
export function decodeValue(p: PointDef, raw: Raw, sf: number | null | undefined): Decoded {
  if (!isImplemented(p, raw)) return { value: null };
  switch (p.type) {
    case 'enum16':
    case 'enum32': {
      const s = p.symbols?.find((x) => x.value === raw)?.name;
      return s === undefined ? { value: raw } : { value: raw, symbol: s };
    }
    case 'bitfield16':
    case 'bitfield32':
    case 'bitfield64':
      return { value: raw, symbols: setBits(p, raw as number | bigint) };
    case 'ipaddr':
      return { value: formatIpv4(raw as number) };
    case 'string':
    case 'eui48':
    case 'ipv6addr':
    case 'sunssf':
    case 'raw16':
      return { value: raw };
    default:
      break;
  }
  if (!isScaled(p) || sf === undefined || sf === 0) return { value: raw };
  if (sf === null || !isValidSf(sf)) return { value: null };
  if (typeof raw === 'bigint') return { value: applySfBig(raw, sf) };
  if (p.type === 'float32' || p.type === 'float64') return { value: (raw as number) * 10 ** sf };
  return { value: applySf(raw as number, sf) };
}

function setBits(p: PointDef, raw: number | bigint): string[] {
  if (!p.symbols) return [];
  if (typeof raw === 'number' && raw <= 0xffffffff) return p.symbols.filter((s) => s.value < 32 && Math.floor(raw / 2 ** s.value) % 2 === 1).map((s) => s.name);
  const big = BigInt(raw);
  return p.symbols.filter((s) => s.value < 64 && ((big >> BigInt(s.value)) & 1n) === 1n).map((s) => s.name);
}

function symbolValue(p: PointDef, name: string, what: string): number {
  const s = p.symbols?.find((x) => x.name === name);
  if (!s) {
    const known = p.symbols?.map((x) => x.name).join(', ');
    throw new SunSpecError('BAD_VALUE', `${what}: ${JSON.stringify(name)} is not a symbol of ${p.type}${known ? ` (${known})` : ''}`);
  }
  return s.value;
}

/**
 * The raw value for an input (not null: the caller writes the sentinel for null). `sf` is the
 * scale factor in force (undefined when the point has none). Range checks happen in writeRaw.
 */
export function encodeValue(p: PointDef, input: Exclude<PointInput, null>, sf: number | undefined, what: string): Raw {
  switch (p.type) {
    case 'enum16':
    case 'enum32':
      return typeof input === 'string' ? symbolValue(p, input, what) : integer(input, what);
    case 'bitfield16':
    case 'bitfield32':
    case 'bitfield64': {
      if (typeof input === 'number' || typeof input === 'bigint') return integer(input, what);
      const names = typeof input === 'string' ? [input] : input;
      let bits = 0n;
      for (const n of names) bits |= 1n << BigInt(symbolValue(p, n, what));
      return p.type === 'bitfield64' && bits > BigInt(Number.MAX_SAFE_INTEGER) ? bits : Number(bits);
    }
    case 'ipaddr':
      return typeof input === 'string' ? parseIpv4(input, what) : integer(input, what);
    case 'string':
    case 'eui48':
    case 'ipv6addr':
      if (typeof input !== 'string') throw new SunSpecError('BAD_VALUE', `${what}: ${p.type} takes text, not ${describe(input)}`);
      return input;
    case 'pad':
      return 0;
    default:
      break;
  }
  if (typeof input !== 'number' && typeof input !== 'bigint') throw new SunSpecError('BAD_VALUE', `${what}: ${p.type} takes a number, not ${describe(input)}`);
  if (p.type === 'float32' || p.type === 'float64') {
    const v = Number(input);
    return sf === undefined || sf === 0 ? v : v / 10 ** sf;
  }
  if (!isScaled(p) || sf === undefined) return integer(input, what);
  if (!isValidSf(sf)) throw new SunSpecError('BAD_VALUE', `${what}: scale factor ${sf} is not in -10..10`);
  if (typeof input === 'bigint') return removeSfBig(input, sf);
  if (!Number.isFinite(input)) throw new SunSpecError('BAD_VALUE', `${what}: ${input} is not a finite number`);
  const raw = removeSf(input, sf);
  return Number.isSafeInteger(raw) ? raw : BigInt(raw);
}

function integer(input: number | bigint | readonly string[], what: string): number | bigint {
  if (typeof input === 'bigint') return input;
  if (typeof input !== 'number' || !Number.isInteger(input)) throw new SunSpecError('BAD_VALUE', `${what}: expected an integer, not ${describe(input)}`);
  return input;
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : Array.isArray(v) ? `[${v.map(String).join(', ')}]` : String(v);
}
