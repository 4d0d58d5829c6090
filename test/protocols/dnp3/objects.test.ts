import { describe, expect, it } from 'vitest';
import { encodeRequest, encodeResponse, parseApdu, single } from '../../../src/protocols/dnp3/app/apdu.js';
import { FunctionCode } from '../../../src/protocols/dnp3/app/codes.js';
import { encodeObjects, parseObjects, Qualifier, type ObjectItem } from '../../../src/protocols/dnp3/app/headers.js';
import { CODECS, codecFor, crobCode, crobParts, type ObjectCodec, type ObjectValue } from '../../../src/protocols/dnp3/app/objects.js';
import { hex, toHex } from './support.js';

const T = Date.UTC(2026, 4, 1, 12, 30, 15, 250);

/** Values each codec carries exactly (integers in range, floats that f32 holds). */
function sample(c: ObjectCodec, i: number): ObjectValue {
  const timed = c.layout === 'fixed' && 'time' in c.decode(new DataView(new ArrayBuffer(c.size)), 0) && c.valueType !== 'time';
  const time = timed ? T + i * 1000 : undefined;
  const withTime = <V extends object>(v: V): V => (time === undefined ? v : { ...v, time });
  switch (c.valueType) {
    case 'binary':
      return withTime({ type: 'binary', value: i % 2 === 0, flags: c.layout === 'packed' ? 1 : (i % 3) + 1 });
    case 'analog': {
      const float = codecUsesFloat(c);
      const noFlags = c.group === 30 && (c.variation === 3 || c.variation === 4);
      return withTime({ type: 'analog', value: float ? -1.5 * (i + 1) : i % 2 ? -1234 - i : 32000 - i, flags: noFlags ? 1 : 0x01 | ((i & 1) << 6) });
    }
    case 'counter': {
      const noFlags = c.group === 20 && (c.variation === 5 || c.variation === 6);
      const small = c.variation === 2 || c.variation === 6;
      return withTime({ type: 'counter', value: small ? 65000 - i : 4_000_000_000 + i, flags: noFlags ? 1 : 0x01 });
    }
    case 'crob':
      return { type: 'crob', code: crobCode({ opType: 1 + (i % 4), tripClose: i % 3 }), count: 1 + i, onTimeMs: 100 * i, offTimeMs: 4_000_000_000, status: i % 5 };
    case 'analogOutput':
      return { type: 'analogOutput', value: c.variation >= 3 ? 0.25 * i - 3 : -30000 + i, status: i % 3 };
    case 'time':
      return { type: 'time', time: T + i };
    case 'delay':
      return { type: 'delay', ms: c.variation === 1 ? 1000 * (i + 1) : 65000 - i };
    case 'bit':
      return { type: 'bit', value: i % 3 === 0 };
    default:
      throw new Error(`no sample for g${c.group}v${c.variation}`);
  }
}

function codecUsesFloat(c: ObjectCodec): boolean {
  if (c.group === 30) return c.variation >= 5;
  if (c.group === 40) return c.variation >= 3;
  return (c.group === 32 || c.group === 42) && c.variation >= 5;
}

const dataCodecs = CODECS.filter((c) => c.layout !== 'none');
const cto = (time: number) => ({ group: 51, variation: 1, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'time' as const, time } }] });

describe('objects: every group/variation under every qualifier that applies', () => {
  for (const c of dataCodecs) {
    const qualifiers: number[] = c.layout === 'packed' ? [0x00, 0x01, 0x07, 0x08] : [0x00, 0x01, 0x07, 0x08, 0x17, 0x28, 0x27, 0x18];
    for (const q of qualifiers) {
      it(`g${c.group}v${c.variation} qualifier 0x${q.toString(16).padStart(2, '0')}`, () => {
        const n = c.layout === 'packed' ? 11 : 3;
        const indexed = q === 0x17 || q === 0x28 || q === 0x27 || q === 0x18;
        const first = q === 0x00 || q === 0x01 ? 4 : 0;
        const items: ObjectItem[] = Array.from({ length: n }, (_, i) => ({ index: indexed ? 3 + i * 40 : first + i, value: sample(c, i) }));
        const specs = [...(c.relativeTime ? [cto(T)] : []), { group: c.group, variation: c.variation, qualifier: q, items }];
        const bytes = encodeObjects(specs);
        const { blocks, error } = parseObjects(bytes, true);
        expect(error).toBeNull();
        const b = blocks.at(-1)!;
        expect([b.group, b.variation, b.qualifier]).toEqual([c.group, c.variation, q]);
        expect(b.items).toEqual(items);
        expect(toHex(encodeObjects(blocks.map((x) => ({ group: x.group, variation: x.variation, qualifier: x.qualifier, items: x.items }))))).toBe(toHex(bytes));
      });
    }
  }

  it('free-format objects (qualifier 0x5B: 1-octet count, 2-octet size prefix)', () => {
    const items = [
      { index: 0, value: { type: 'raw' as const, bytes: hex('01 02 03') } },
      { index: 1, value: { type: 'raw' as const, bytes: hex('') } },
    ];
    const bytes = encodeObjects([{ group: 120, variation: 1, qualifier: Qualifier.FREE_FORMAT, items }]);
    expect(toHex(bytes)).toBe('78 01 5b 02 03 00 01 02 03 00 00');
    const { blocks, error } = parseObjects(bytes, true);
    expect(error).toBeNull();
    expect(blocks[0]!.items).toEqual(items);
  });

  it('packed binaries set bit i of octet i/8, first index lowest', () => {
    const items = [true, false, true, true, false, false, false, false, true].map((v, i) => ({ index: i, value: { type: 'binary' as const, value: v, flags: 1 } }));
    expect(toHex(encodeObjects([{ group: 1, variation: 1, qualifier: Qualifier.RANGE_8, items }]))).toBe('01 01 00 00 08 0d 01');
  });

  it('g80v1 index 7 = 0 clears the restart bit as masters send it', () => {
    expect(toHex(encodeObjects([{ group: 80, variation: 1, qualifier: Qualifier.RANGE_8, items: [{ index: 7, value: { type: 'bit', value: false } }] }]))).toBe('50 01 00 07 07 00');
  });

  it('relative-time events count from the preceding common time of occurrence', () => {
    const bytes = encodeObjects([cto(T), { group: 2, variation: 3, qualifier: Qualifier.INDEX_16, items: [{ index: 4, value: { type: 'binary', value: true, flags: 1, time: T + 300 } }] }]);
    expect(toHex(bytes.subarray(10))).toBe('02 03 28 01 00 04 00 81 2c 01');
    expect(parseObjects(bytes, true).blocks[1]!.items[0]!.value).toEqual({ type: 'binary', value: true, flags: 1, time: T + 300 });
    expect(parseObjects(bytes.subarray(10), true).error?.reason).toBe('MALFORMED');
  });

  it('signed integer variations clamp out-of-range values and flag them OVER_RANGE', () => {
    const bytes = encodeObjects([{ group: 30, variation: 2, qualifier: Qualifier.RANGE_8, items: [{ index: 0, value: { type: 'analog', value: 1e6, flags: 1 } }] }]);
    expect(parseObjects(bytes, true).blocks[0]!.items[0]!.value).toEqual({ type: 'analog', value: 32767, flags: 0x21 });
  });

  it('CROB control code parts', () => {
    expect(crobCode({ opType: 3 })).toBe(0x03);
    expect(crobCode({ opType: 1, tripClose: 2, queue: true, clear: true })).toBe(0xb1);
    expect(crobParts(0x81)).toEqual({ opType: 1, tripClose: 2, queue: false, clear: false });
  });
});

describe('object headers without data (READ requests)', () => {
  it('all, start/stop, count and index-prefixed headers', () => {
    const bytes = encodeObjects([
      { group: 60, variation: 2, qualifier: Qualifier.ALL },
      { group: 30, variation: 0, qualifier: Qualifier.RANGE_16, range: { kind: 'range', start: 300, stop: 310 } },
      { group: 32, variation: 0, qualifier: Qualifier.COUNT_8, range: { kind: 'count', count: 5 } },
      { group: 1, variation: 2, qualifier: Qualifier.INDEX_8, indices: [3, 9] },
    ]);
    expect(toHex(bytes)).toBe('3c 02 06 1e 00 01 2c 01 36 01 20 00 07 05 01 02 17 02 03 09');
    const { blocks, error } = parseObjects(bytes, false);
    expect(error).toBeNull();
    expect(blocks.map((b) => [b.group, b.variation, b.range, b.indices])).toEqual([
      [60, 2, { kind: 'all' }, undefined],
      [30, 0, { kind: 'range', start: 300, stop: 310 }, undefined],
      [32, 0, { kind: 'count', count: 5 }, undefined],
      [1, 2, { kind: 'count', count: 2 }, [3, 9]],
    ]);
  });
});

describe('malformed object data gives a typed error, never a throw', () => {
  const cases: [string, string, string][] = [
    ['truncated header', '1e 01', 'MALFORMED'],
    ['unsupported qualifier', '1e 01 09 01 00 00 00', 'MALFORMED'],
    ['stop before start', '1e 01 00 05 02', 'MALFORMED'],
    ['objects shorter than the range says', '1e 01 00 00 09 01 00 00 00 00', 'MALFORMED'],
    ['unknown object with data', '63 01 07 01 00', 'UNKNOWN_OBJECT'],
    ['packed with index prefix', '01 01 17 01 00 01', 'MALFORMED'],
    ['a huge count with no data behind it', '1e 01 08 ff ff', 'MALFORMED'],
  ];
  for (const [name, bytes, reason] of cases) {
    it(name, () => {
      const r = parseObjects(hex(bytes), true);
      expect(r.error?.reason).toBe(reason);
      expect(r.error?.code).toBeDefined();
    });
  }

  it('keeps the good blocks ahead of the bad one', () => {
    const r = parseObjects(hex('3c 02 06 63 01 07 01 00'), true);
    expect(r.blocks).toHaveLength(1);
    expect(r.error?.reason).toBe('UNKNOWN_OBJECT');
  });
});

describe('APDU', () => {
  it('parses requests and responses, with the control fields', () => {
    const req = parseApdu(encodeRequest(single(9, { con: false }), FunctionCode.READ, hex('3c 01 06')));
    expect(req).toMatchObject({ ok: true, value: { kind: 'request', function: 1, control: { fir: true, fin: true, con: false, uns: false, seq: 9 } } });
    const rsp = parseApdu(encodeResponse({ fir: false, fin: true, con: true, uns: true, seq: 3 }, FunctionCode.UNSOLICITED_RESPONSE, { iin1: 0x90, iin2: 0x08 }));
    expect(rsp).toMatchObject({ ok: true, value: { kind: 'response', function: 0x82, iin: { iin1: 0x90, iin2: 0x08 }, control: { fir: false, fin: true, con: true, uns: true, seq: 3 } } });
  });

  it('rejects APDUs too short for their header', () => {
    expect(parseApdu(hex('c0'))).toMatchObject({ ok: false });
    expect(parseApdu(hex('c0 81 00'))).toMatchObject({ ok: false, error: { reason: 'MALFORMED' } });
  });

  it('knows each codec by group and variation', () => {
    for (const c of CODECS) expect(codecFor(c.group, c.variation)).toBe(c);
    expect(codecFor(99, 1)).toBeUndefined();
  });
});
