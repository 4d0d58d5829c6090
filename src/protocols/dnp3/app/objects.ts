import { getTime48, setTime48 } from './bytes.js';
import { Flags } from './codes.js';

/** A binary point (g1, g2, g10, g11). `flags` are the quality bits 0-6; the state is `value`. */
export interface BinaryValue {
  readonly type: 'binary';
  readonly value: boolean;
  readonly flags: number;
  /** Epoch ms, on variations with time. */
  readonly time?: number;
}

/** An analog input or analog output status (g30, g32, g40, g42). */
export interface AnalogValue {
  readonly type: 'analog';
  readonly value: number;
  readonly flags: number;
  readonly time?: number;
}

/** A counter (g20, g22). */
export interface CounterValue {
  readonly type: 'counter';
  readonly value: number;
  readonly flags: number;
  readonly time?: number;
}

/** Control relay output block (g12v1). `code` is the raw control code octet (see crobCode). */
export interface CrobValue {
  readonly type: 'crob';
  readonly code: number;
  readonly count: number;
  readonly onTimeMs: number;
  readonly offTimeMs: number;
  readonly status: number;
}

/** Analog output block (g41): a setpoint command. */
export interface AnalogOutputValue {
  readonly type: 'analogOutput';
  readonly value: number;
  readonly status: number;
}

/** Absolute time (g50v1, g50v3) or common time of occurrence (g51v1, g51v2). */
export interface TimeValue {
  readonly type: 'time';
  readonly time: number;
}

/** Time delay (g52v1 coarse seconds, g52v2 fine ms), always in ms here. */
export interface DelayValue {
  readonly type: 'delay';
  readonly ms: number;
}

/** One packed bit (g80v1 internal indications). */
export interface BitValue {
  readonly type: 'bit';
  readonly value: boolean;
}

/** A free-format object (qualifier 0x5B) we carry without interpreting. */
export interface RawValue {
  readonly type: 'raw';
  readonly bytes: Uint8Array;
}

export type ObjectValue = BinaryValue | AnalogValue | CounterValue | CrobValue | AnalogOutputValue | TimeValue | DelayValue | BitValue | RawValue;
export type ValueType = ObjectValue['type'];

/**
 * How one group/variation is laid out. `fixed` objects have `size` octets; `packed` ones one bit
 * each (g1v1, g10v1, g80v1); `none` have no object data (g60 class objects).
 */
export interface ObjectCodec {
  readonly group: number;
  readonly variation: number;
  readonly layout: 'fixed' | 'packed' | 'none';
  readonly size: number;
  readonly valueType: ValueType | 'none';
  /** Time relative to the preceding common time of occurrence (g51). */
  readonly relativeTime: boolean;
  decode(view: DataView, offset: number): ObjectValue;
  encode(view: DataView, offset: number, value: ObjectValue): void;
}

type NumKind = 'i16' | 'i32' | 'u16' | 'u32' | 'f32' | 'f64';
const NUM_SIZE: Record<NumKind, number> = { i16: 2, i32: 4, u16: 2, u32: 4, f32: 4, f64: 8 };
type TimeKind = 'none' | 'abs' | 'rel';
const TIME_SIZE: Record<TimeKind, number> = { none: 0, abs: 6, rel: 2 };

function getNum(v: DataView, o: number, k: NumKind): number {
  switch (k) {
    case 'i16':
      return v.getInt16(o, true);
    case 'i32':
      return v.getInt32(o, true);
    case 'u16':
      return v.getUint16(o, true);
    case 'u32':
      return v.getUint32(o, true);
    case 'f32':
      return v.getFloat32(o, true);
    case 'f64':
      return v.getFloat64(o, true);
  }
}

/**
 * Write a number into an integer or float field. Integers are rounded; a value that does not fit
 * a signed field is clamped and reported as over-range; unsigned (counter) fields wrap around as
 * counters do.
 */
function putNum(v: DataView, o: number, k: NumKind, x: number): boolean {
  switch (k) {
    case 'f32':
      v.setFloat32(o, x, true);
      return Number.isFinite(x) && Math.abs(x) > 3.4028234663852886e38;
    case 'f64':
      v.setFloat64(o, x, true);
      return false;
    case 'u16':
    case 'u32': {
      const mod = k === 'u16' ? 0x1_0000 : 0x1_0000_0000;
      const n = Number.isFinite(x) ? ((Math.round(x) % mod) + mod) % mod : 0;
      if (k === 'u16') v.setUint16(o, n, true);
      else v.setUint32(o, n, true);
      return false;
    }
    case 'i16':
    case 'i32': {
      const [lo, hi] = k === 'i16' ? [-0x8000, 0x7fff] : [-0x8000_0000, 0x7fff_ffff];
      const r = Number.isNaN(x) ? 0 : Math.round(x);
      const n = Math.max(lo, Math.min(hi, r));
      if (k === 'i16') v.setInt16(o, n, true);
      else v.setInt32(o, n, true);
      return n !== r || Number.isNaN(x);
    }
  }
}

function getTime(v: DataView, o: number, t: TimeKind): number | undefined {
  if (t === 'abs') return getTime48(v, o);
  if (t === 'rel') return v.getUint16(o, true);
  return undefined;
}

function putTime(v: DataView, o: number, t: TimeKind, ms: number | undefined): void {
  if (t === 'abs') setTime48(v, o, ms ?? 0);
  else if (t === 'rel') v.setUint16(o, Math.max(0, Math.min(0xffff, Math.round(ms ?? 0))), true);
}

function expect<T extends ObjectValue['type']>(x: ObjectValue, type: T, g: number, vr: number): Extract<ObjectValue, { type: T }> {
  if (x.type !== type) throw new TypeError(`g${g}v${vr} encodes ${type} values, not ${x.type}`);
  return x as Extract<ObjectValue, { type: T }>;
}

function base(group: number, variation: number, size: number, valueType: ValueType | 'none', relativeTime = false): Omit<ObjectCodec, 'decode' | 'encode'> {
  return { group, variation, layout: 'fixed', size, valueType, relativeTime };
}

/** g1v2, g2v1..3, g10v2, g11v1..2: a flags octet with the state in bit 7, optionally a time. */
function binary(group: number, variation: number, time: TimeKind): ObjectCodec {
  return {
    ...base(group, variation, 1 + TIME_SIZE[time], 'binary', time === 'rel'),
    decode(v, o) {
      const f = v.getUint8(o);
      const t = getTime(v, o + 1, time);
      return t === undefined ? { type: 'binary', value: (f & 0x80) !== 0, flags: f & 0x7f } : { type: 'binary', value: (f & 0x80) !== 0, flags: f & 0x7f, time: t };
    },
    encode(v, o, x) {
      const b = expect(x, 'binary', group, variation);
      v.setUint8(o, (b.flags & 0x7f) | (b.value ? 0x80 : 0));
      putTime(v, o + 1, time, b.time);
    },
  };
}

/** Analogs and counters: [flags] number [time]. */
function numeric(type: 'analog' | 'counter', group: number, variation: number, withFlags: boolean, num: NumKind, time: TimeKind): ObjectCodec {
  const f = withFlags ? 1 : 0;
  return {
    ...base(group, variation, f + NUM_SIZE[num] + TIME_SIZE[time], type),
    decode(v, o) {
      const flags = withFlags ? v.getUint8(o) : Flags.ONLINE;
      const value = getNum(v, o + f, num);
      const t = getTime(v, o + f + NUM_SIZE[num], time);
      return t === undefined ? { type, value, flags } : { type, value, flags, time: t };
    },
    encode(v, o, x) {
      const a = expect(x, type, group, variation);
      const over = putNum(v, o + f, num, a.value);
      if (withFlags) v.setUint8(o, a.flags | (over && type === 'analog' ? Flags.OVER_RANGE : 0));
      putTime(v, o + f + NUM_SIZE[num], time, a.time);
    },
  };
}

function packed(group: number, variation: number, valueType: 'binary' | 'bit'): ObjectCodec {
  return {
    group,
    variation,
    layout: 'packed',
    size: 0,
    valueType,
    relativeTime: false,
    decode: () => {
      throw new TypeError('packed objects are decoded by bit');
    },
    encode: () => {
      throw new TypeError('packed objects are encoded by bit');
    },
  };
}

function noData(group: number, variation: number): ObjectCodec {
  return { ...packed(group, variation, 'bit'), layout: 'none', valueType: 'none' };
}

function analogOutput(variation: number, num: NumKind): ObjectCodec {
  return {
    ...base(41, variation, NUM_SIZE[num] + 1, 'analogOutput'),
    decode: (v, o) => ({ type: 'analogOutput', value: getNum(v, o, num), status: v.getUint8(o + NUM_SIZE[num]) }),
    encode(v, o, x) {
      const a = expect(x, 'analogOutput', 41, variation);
      putNum(v, o, num, a.value);
      v.setUint8(o + NUM_SIZE[num], a.status & 0x7f);
    },
  };
}

function time(group: number, variation: number): ObjectCodec {
  return {
    ...base(group, variation, 6, 'time'),
    decode: (v, o) => ({ type: 'time', time: getTime48(v, o) }),
    encode: (v, o, x) => setTime48(v, o, expect(x, 'time', group, variation).time),
  };
}

function delay(variation: 1 | 2): ObjectCodec {
  const unit = variation === 1 ? 1000 : 1;
  return {
    ...base(52, variation, 2, 'delay'),
    decode: (v, o) => ({ type: 'delay', ms: v.getUint16(o, true) * unit }),
    encode: (v, o, x) => v.setUint16(o, Math.max(0, Math.min(0xffff, Math.round(expect(x, 'delay', 52, variation).ms / unit))), true),
  };
}

const crob: ObjectCodec = {
  ...base(12, 1, 11, 'crob'),
  decode: (v, o) => ({
    type: 'crob',
    code: v.getUint8(o),
    count: v.getUint8(o + 1),
    onTimeMs: v.getUint32(o + 2, true),
    offTimeMs: v.getUint32(o + 6, true),
    status: v.getUint8(o + 10) & 0x7f,
  }),
  encode(v, o, x) {
    const c = expect(x, 'crob', 12, 1);
    v.setUint8(o, c.code);
    v.setUint8(o + 1, c.count);
    v.setUint32(o + 2, c.onTimeMs >>> 0, true);
    v.setUint32(o + 6, c.offTimeMs >>> 0, true);
    v.setUint8(o + 10, c.status & 0x7f);
  },
};

/** Every group/variation this stack encodes and decodes. */
export const CODECS: readonly ObjectCodec[] = [
  packed(1, 1, 'binary'),
  binary(1, 2, 'none'),
  binary(2, 1, 'none'),
  binary(2, 2, 'abs'),
  binary(2, 3, 'rel'),
  packed(10, 1, 'binary'),
  binary(10, 2, 'none'),
  binary(11, 1, 'none'),
  binary(11, 2, 'abs'),
  crob,
  numeric('counter', 20, 1, true, 'u32', 'none'),
  numeric('counter', 20, 2, true, 'u16', 'none'),
  numeric('counter', 20, 5, false, 'u32', 'none'),
  numeric('counter', 20, 6, false, 'u16', 'none'),
  numeric('counter', 22, 1, true, 'u32', 'none'),
  numeric('counter', 22, 2, true, 'u16', 'none'),
  numeric('counter', 22, 5, true, 'u32', 'abs'),
  numeric('counter', 22, 6, true, 'u16', 'abs'),
  numeric('analog', 30, 1, true, 'i32', 'none'),
  numeric('analog', 30, 2, true, 'i16', 'none'),
  numeric('analog', 30, 3, false, 'i32', 'none'),
  numeric('analog', 30, 4, false, 'i16', 'none'),
  numeric('analog', 30, 5, true, 'f32', 'none'),
  numeric('analog', 30, 6, true, 'f64', 'none'),
  ...[32, 42].flatMap((g) => [
    numeric('analog', g, 1, true, 'i32', 'none'),
    numeric('analog', g, 2, true, 'i16', 'none'),
    numeric('analog', g, 3, true, 'i32', 'abs'),
    numeric('analog', g, 4, true, 'i16', 'abs'),
    numeric('analog', g, 5, true, 'f32', 'none'),
    numeric('analog', g, 6, true, 'f64', 'none'),
    numeric('analog', g, 7, true, 'f32', 'abs'),
    numeric('analog', g, 8, true, 'f64', 'abs'),
  ]),
  numeric('analog', 40, 1, true, 'i32', 'none'),
  numeric('analog', 40, 2, true, 'i16', 'none'),
  numeric('analog', 40, 3, true, 'f32', 'none'),
  numeric('analog', 40, 4, true, 'f64', 'none'),
  analogOutput(1, 'i32'),
  analogOutput(2, 'i16'),
  analogOutput(3, 'f32'),
  analogOutput(4, 'f64'),
  time(50, 1),
  time(50, 3),
  time(51, 1),
  time(51, 2),
  delay(1),
  delay(2),
  noData(60, 1),
  noData(60, 2),
  noData(60, 3),
  noData(60, 4),
  packed(80, 1, 'bit'),
];

const BY_KEY = new Map(CODECS.map((c) => [(c.group << 8) | c.variation, c]));

export function codecFor(group: number, variation: number): ObjectCodec | undefined {
  return BY_KEY.get((group << 8) | variation);
}

/** Raw CROB control code from its parts. */
export function crobCode(p: { opType: number; tripClose?: number; queue?: boolean; clear?: boolean }): number {
  return ((p.tripClose ?? 0) << 6) | (p.clear ? 0x20 : 0) | (p.queue ? 0x10 : 0) | (p.opType & 0x0f);
}

export function crobParts(code: number): { opType: number; tripClose: number; queue: boolean; clear: boolean } {
  return { opType: code & 0x0f, tripClose: code >>> 6, queue: (code & 0x10) !== 0, clear: (code & 0x20) !== 0 };
}
