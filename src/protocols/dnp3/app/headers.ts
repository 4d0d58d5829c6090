import { Dnp3Error } from '../errors.js';
import { Reader, Writer } from './bytes.js';
import { codecFor, type ObjectCodec, type ObjectValue } from './objects.js';

/** The qualifier codes this stack reads and writes. */
export const Qualifier = {
  /** 1-octet start and stop indexes. */
  RANGE_8: 0x00,
  /** 2-octet start and stop indexes. */
  RANGE_16: 0x01,
  /** All objects, no range field. */
  ALL: 0x06,
  /** 1-octet count, no index prefix. */
  COUNT_8: 0x07,
  /** 2-octet count, no index prefix. */
  COUNT_16: 0x08,
  /** 1-octet count, 1-octet index prefix on each object. */
  INDEX_8: 0x17,
  /** 1-octet count, 2-octet index prefix. */
  COUNT_8_INDEX_16: 0x27,
  /** 2-octet count, 1-octet index prefix. */
  COUNT_16_INDEX_8: 0x18,
  /** 2-octet count, 2-octet index prefix on each object. */
  INDEX_16: 0x28,
  /** Free format: 1-octet count, 2-octet object-size prefix on each object. */
  FREE_FORMAT: 0x5b,
} as const;

export type HeaderRange = { readonly kind: 'all' } | { readonly kind: 'range'; readonly start: number; readonly stop: number } | { readonly kind: 'count'; readonly count: number };

export interface ObjectItem<V extends ObjectValue = ObjectValue> {
  readonly index: number;
  readonly value: V;
}

/** One object header with its objects, as parsed. */
export interface ObjectBlock {
  readonly group: number;
  readonly variation: number;
  readonly qualifier: number;
  readonly range: HeaderRange;
  /** The objects (empty for headers without object data, such as in READ requests). */
  readonly items: readonly ObjectItem[];
  /** Indexes named by an index-prefixed header without object data (a READ of some points). */
  readonly indices?: readonly number[];
  /** The header and its objects exactly as on the wire. */
  readonly raw: Uint8Array;
}

/** One object header to encode: with `items` for object data, or a bare `range` (READ headers). */
export interface BlockSpec {
  readonly group: number;
  readonly variation: number;
  readonly qualifier: number;
  readonly range?: HeaderRange;
  readonly items?: readonly ObjectItem[];
  /** For an index-prefixed header without object data. */
  readonly indices?: readonly number[];
}

interface QualifierShape {
  /** Octets of the index (1, 2) or size (2, for free format) prefix on each object; 0 for none. */
  readonly prefix: 0 | 1 | 2;
  readonly prefixIsSize: boolean;
  readonly range: 'all' | 'start-stop' | 'count';
  /** Octets of each start/stop or of the count. */
  readonly rangeSize: 0 | 1 | 2;
}

export function qualifierShape(q: number): QualifierShape | undefined {
  const prefixCode = (q >> 4) & 0x07;
  const rangeCode = q & 0x0f;
  if (q & 0x80) return undefined;
  if (prefixCode === 5 && rangeCode === 0x0b) return { prefix: 2, prefixIsSize: true, range: 'count', rangeSize: 1 };
  if (prefixCode > 2) return undefined;
  const prefix = prefixCode as 0 | 1 | 2;
  switch (rangeCode) {
    case 0x0:
    case 0x1:
      return prefix === 0 ? { prefix, prefixIsSize: false, range: 'start-stop', rangeSize: rangeCode === 0 ? 1 : 2 } : undefined;
    case 0x6:
      return prefix === 0 ? { prefix, prefixIsSize: false, range: 'all', rangeSize: 0 } : undefined;
    case 0x7:
    case 0x8:
      return { prefix, prefixIsSize: false, range: 'count', rangeSize: rangeCode === 7 ? 1 : 2 };
    default:
      return undefined;
  }
}

export interface ParsedObjects {
  readonly blocks: ObjectBlock[];
  /** Why parsing stopped early; the blocks before it are good. */
  readonly error: Dnp3Error | null;
}

/**
 * Parse the object headers of an APDU. `withData` says whether objects follow the headers
 * (responses, WRITE, controls) or not (READ, class headers of ENABLE/DISABLE_UNSOLICITED). An
 * object we do not know stops parsing when it has data (its size is unknown). Never throws.
 */
export function parseObjects(bytes: Uint8Array, withData: boolean): ParsedObjects {
  const blocks: ObjectBlock[] = [];
  const r = new Reader(bytes);
  let cto: number | undefined;
  try {
    while (r.remaining > 0) {
      const start = r.pos;
      const group = r.u8('group');
      const variation = r.u8('variation');
      const qualifier = r.u8('qualifier');
      const shape = qualifierShape(qualifier);
      if (!shape) throw new Dnp3Error('MALFORMED', `g${group}v${variation}: qualifier 0x${hex(qualifier)} not supported`);
      const range = readRange(r, shape);
      const codec = codecFor(group, variation);
      let items: ObjectItem[] = [];
      let indices: number[] | undefined;
      if (shape.prefixIsSize) {
        items = readFreeFormat(r, range.kind === 'count' ? range.count : 0);
      } else if (!withData || codec?.layout === 'none' || range.kind === 'all') {
        if (shape.prefix !== 0 && range.kind === 'count') indices = readIndices(r, shape.prefix, range.count);
      } else {
        if (!codec) throw new Dnp3Error('UNKNOWN_OBJECT', `g${group}v${variation}: unknown object`);
        items = readItems(r, codec, shape, range, cto);
        if (group === 51 && items.length > 0) cto = (items[items.length - 1]!.value as { time: number }).time;
      }
      const block: ObjectBlock = { group, variation, qualifier, range, items, raw: bytes.subarray(start, r.pos) };
      blocks.push(indices ? { ...block, indices } : block);
    }
    return { blocks, error: null };
  } catch (e) {
    return { blocks, error: e instanceof Dnp3Error ? e : new Dnp3Error('MALFORMED', String(e)) };
  }
}

function readRange(r: Reader, s: QualifierShape): HeaderRange {
  if (s.range === 'all') return { kind: 'all' };
  const read = (what: string): number => (s.rangeSize === 1 ? r.u8(what) : r.u16(what));
  if (s.range === 'count') return { kind: 'count', count: read('count') };
  const start = read('start');
  const stop = read('stop');
  if (stop < start) throw new Dnp3Error('MALFORMED', `range start ${start} > stop ${stop}`);
  return { kind: 'range', start, stop };
}

function readIndices(r: Reader, prefix: 1 | 2, count: number): number[] {
  r.need(prefix * count, 'index prefixes');
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(prefix === 1 ? r.u8() : r.u16());
  return out;
}

function readFreeFormat(r: Reader, count: number): ObjectItem[] {
  const out: ObjectItem[] = [];
  for (let i = 0; i < count; i++) {
    const size = r.u16('object size');
    out.push({ index: i, value: { type: 'raw', bytes: r.take(size, 'free-format object').slice() } });
  }
  return out;
}

function readItems(r: Reader, codec: ObjectCodec, s: QualifierShape, range: HeaderRange, cto: number | undefined): ObjectItem[] {
  const count = range.kind === 'range' ? range.stop - range.start + 1 : range.kind === 'count' ? range.count : 0;
  const first = range.kind === 'range' ? range.start : 0;
  const tag = `g${codec.group}v${codec.variation}`;
  if (codec.relativeTime && cto === undefined) throw new Dnp3Error('MALFORMED', `${tag}: relative time without a preceding common time of occurrence (g51)`);
  if (codec.layout === 'packed') {
    if (s.prefix > 0) throw new Dnp3Error('MALFORMED', `${tag}: packed objects cannot carry index prefixes`);
    const bits = r.take(Math.ceil(count / 8), `${tag} packed bits`);
    const out: ObjectItem[] = [];
    for (let i = 0; i < count; i++) {
      const on = ((bits[i >> 3]! >> (i & 7)) & 1) === 1;
      out.push({ index: first + i, value: codec.valueType === 'bit' ? { type: 'bit', value: on } : { type: 'binary', value: on, flags: 0x01 } });
    }
    return out;
  }
  r.need(count * (s.prefix + codec.size), `${count} × ${tag}`);
  const view = new DataView(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
  const out: ObjectItem[] = [];
  for (let i = 0; i < count; i++) {
    const index = s.prefix === 0 ? first + i : s.prefix === 1 ? r.u8() : r.u16();
    let value = codec.decode(view, r.pos);
    r.pos += codec.size;
    if (codec.relativeTime && 'time' in value) value = { ...value, time: (value.time ?? 0) + cto! };
    out.push({ index, value });
  }
  return out;
}

/** Octets of a header with `n` objects of `codec` under qualifier shape `s` (for fragment sizing). */
export function blockSize(codec: ObjectCodec, qualifier: number, n: number): number {
  const s = qualifierShape(qualifier);
  if (!s) throw new RangeError(`qualifier 0x${hex(qualifier)} not supported`);
  const head = 3 + (s.range === 'start-stop' ? 2 * s.rangeSize : s.rangeSize);
  if (codec.layout === 'packed') return head + Math.ceil(n / 8);
  if (codec.layout === 'none') return head;
  return head + n * (s.prefix + codec.size);
}

/**
 * Append one object header (and its objects) to `w`. Items under a start/stop qualifier must have
 * consecutive indexes. `cto` is the common time that relative-time objects count from. Throws
 * on a spec that cannot be encoded (a programming error, not wire input).
 */
export function writeBlock(w: Writer, spec: BlockSpec, cto?: number): void {
  const s = qualifierShape(spec.qualifier);
  const tag = `g${spec.group}v${spec.variation}`;
  if (!s) throw new RangeError(`${tag}: qualifier 0x${hex(spec.qualifier)} not supported`);
  const items = spec.items ?? [];
  w.u8(spec.group);
  w.u8(spec.variation);
  w.u8(spec.qualifier);
  const put = (v: number, size: number): void => (size === 1 ? w.u8(v) : w.u16(v));
  const max = s.rangeSize === 1 ? 0xff : 0xffff;
  if (s.range === 'start-stop') {
    const range = spec.range ?? (items.length > 0 ? { kind: 'range', start: items[0]!.index, stop: items[items.length - 1]!.index } : undefined);
    if (range?.kind !== 'range') throw new RangeError(`${tag}: start/stop qualifier needs a range or items`);
    if (range.stop > max || range.start > range.stop) throw new RangeError(`${tag}: range ${range.start}..${range.stop} does not fit qualifier 0x${hex(spec.qualifier)}`);
    items.forEach((it, i) => {
      if (it.index !== range.start + i) throw new RangeError(`${tag}: items under a start/stop qualifier need consecutive indexes`);
    });
    if (items.length > 0 && items.length !== range.stop - range.start + 1) throw new RangeError(`${tag}: ${items.length} items for range ${range.start}..${range.stop}`);
    put(range.start, s.rangeSize);
    put(range.stop, s.rangeSize);
  } else if (s.range === 'count') {
    const count = spec.range?.kind === 'count' ? spec.range.count : items.length > 0 ? items.length : (spec.indices?.length ?? 0);
    if (count > max) throw new RangeError(`${tag}: ${count} objects do not fit qualifier 0x${hex(spec.qualifier)}`);
    put(count, s.rangeSize);
  }
  if (items.length === 0) {
    if (s.prefix > 0 && !s.prefixIsSize) for (const i of spec.indices ?? []) put(i, s.prefix);
    return;
  }
  if (s.prefixIsSize) {
    for (const it of items) {
      if (it.value.type !== 'raw') throw new TypeError(`${tag}: free-format objects must be raw`);
      w.u16(it.value.bytes.length);
      w.bytes(it.value.bytes);
    }
    return;
  }
  const codec = codecFor(spec.group, spec.variation);
  if (!codec || codec.layout === 'none') throw new RangeError(`${tag}: no object data to encode`);
  if (codec.layout === 'packed') {
    if (s.prefix > 0) throw new RangeError(`${tag}: packed objects cannot carry index prefixes`);
    const { bytes, offset } = w.reserve(Math.ceil(items.length / 8));
    items.forEach((it, i) => {
      const on = it.value.type === 'binary' || it.value.type === 'bit' ? it.value.value : false;
      if (on) bytes[offset + (i >> 3)]! |= 1 << (i & 7);
    });
    return;
  }
  if (codec.relativeTime && cto === undefined) throw new RangeError(`${tag}: relative time needs a common time of occurrence`);
  for (const it of items) {
    if (s.prefix > 0) put(it.index, s.prefix);
    const { view, offset } = w.reserve(codec.size);
    const v = codec.relativeTime && 'time' in it.value ? { ...it.value, time: (it.value.time ?? cto!) - cto! } : it.value;
    codec.encode(view, offset, v);
  }
}

/** Encode object headers back to back (a request's or response's object part). */
export function encodeObjects(specs: readonly BlockSpec[]): Uint8Array {
  const w = new Writer();
  let cto: number | undefined;
  for (const s of specs) {
    writeBlock(w, s, cto);
    if (s.group === 51 && s.items && s.items.length > 0) {
      const v = s.items[s.items.length - 1]!.value;
      if (v.type === 'time') cto = v.time;
    }
  }
  return w.finish();
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}
