import { describe, expect, it } from 'vitest';
import { MAX_SEGMENT_PAYLOAD, Reassembler, segment } from '../../../src/protocols/dnp3/transport/transport.js';

const apdu = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 7 + 3) & 0xff);

describe('transport segmentation', () => {
  it('splits a long APDU into segments of at most 249 octets with FIR, FIN and consecutive SEQ', () => {
    const a = apdu(1000);
    const { segments, nextSeq } = segment(a, 62);
    expect(segments.map((s) => s.length - 1)).toEqual([249, 249, 249, 249, 4]);
    expect(segments.map((s) => s[0]! & 0x3f)).toEqual([62, 63, 0, 1, 2]);
    expect(segments.map((s) => s[0]! & 0xc0)).toEqual([0x40, 0, 0, 0, 0x80]);
    expect(nextSeq).toBe(3);
    const r = new Reassembler(4096);
    const out = segments.map((s) => r.push(s));
    expect(out.slice(0, 4)).toEqual([null, null, null, null]);
    expect(out[4]).toEqual(a);
  });

  it('puts a short APDU in one segment with FIR and FIN', () => {
    const { segments } = segment(apdu(10), 5);
    expect(segments).toHaveLength(1);
    expect(segments[0]![0]).toBe(0xc5);
    expect(MAX_SEGMENT_PAYLOAD).toBe(249);
  });
});

describe('Reassembler', () => {
  it('discards a partial APDU on a sequence gap, and a continuation without FIR', () => {
    const { segments } = segment(apdu(600), 0);
    const r = new Reassembler(4096);
    expect(r.push(segments[0]!)).toBeNull();
    expect(r.push(segments[2]!)).toBeNull(); // gap
    expect(r.push(segments[1]!)).toBeNull(); // no longer in an APDU
    expect(r.stats).toMatchObject({ sequenceErrors: 1, discardedApdus: 1, discardedSegments: 2, apdus: 0 });
    expect(segments.map((s) => r.push(s)).at(-1)).toEqual(apdu(600));
  });

  it('restarts on a new FIR and counts the abandoned APDU', () => {
    const first = segment(apdu(600), 0).segments;
    const second = segment(apdu(20), 9).segments;
    const r = new Reassembler();
    r.push(first[0]!);
    expect(r.push(second[0]!)).toEqual(apdu(20));
    expect(r.stats.discardedApdus).toBe(1);
  });

  it('bounds the reassembled size', () => {
    const r = new Reassembler(300);
    const out = segment(apdu(600), 0).segments.map((s) => r.push(s));
    expect(out.every((x) => x === null)).toBe(true);
    expect(r.stats.oversize).toBe(1);
    expect(r.stats.discardedApdus).toBe(1);
  });

  it('drops empty segments', () => {
    const r = new Reassembler();
    expect(r.push(new Uint8Array(0))).toBeNull();
    expect(r.stats.discardedSegments).toBe(1);
  });
});
