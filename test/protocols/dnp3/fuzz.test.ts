import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { encodeRequest, encodeResponse, parseApdu, single } from '../../../src/protocols/dnp3/app/apdu.js';
import { FunctionCode } from '../../../src/protocols/dnp3/app/codes.js';
import { encodeObjects, parseObjects, Qualifier } from '../../../src/protocols/dnp3/app/headers.js';
import { createChannelPair, type ByteChannel } from '../../../src/protocols/dnp3/channel/byte-channel.js';
import { Dnp3Error } from '../../../src/protocols/dnp3/errors.js';
import { encodeFrame, FrameDecoder, MAX_FRAME_SIZE } from '../../../src/protocols/dnp3/link/frame.js';
import { Dnp3Master } from '../../../src/protocols/dnp3/master/master.js';
import { Dnp3Outstation } from '../../../src/protocols/dnp3/outstation/outstation.js';
import { segment } from '../../../src/protocols/dnp3/transport/transport.js';
import { classHeaders, commandSpecs } from '../../../src/protocols/dnp3/master/tasks.js';

const bytes = (max = 600) => fc.uint8Array({ minLength: 0, maxLength: max });

/** APDUs a master really sends, to mutate. */
const REQUESTS: Uint8Array[] = [
  encodeRequest(single(0), FunctionCode.READ, encodeObjects(classHeaders([1, 2, 3], true))),
  encodeRequest(single(1), FunctionCode.SELECT, encodeObjects(commandSpecs([{ type: 'analogOutput', index: 88, value: 500 }]))),
  encodeRequest(single(2), FunctionCode.DIRECT_OPERATE, encodeObjects(commandSpecs([{ type: 'crob', index: 5, opType: 3 }]))),
  encodeRequest(single(3), FunctionCode.WRITE, encodeObjects([{ group: 80, variation: 1, qualifier: Qualifier.RANGE_8, items: [{ index: 7, value: { type: 'bit', value: false } }] }])),
  encodeRequest(single(4), FunctionCode.WRITE, encodeObjects([{ group: 50, variation: 1, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'time', time: 1.7e12 } }] }])),
  encodeRequest(single(5), FunctionCode.READ, encodeObjects([{ group: 30, variation: 0, qualifier: Qualifier.RANGE_16, range: { kind: 'range', start: 0, stop: 3 } }])),
  encodeRequest(single(6, { uns: true }), FunctionCode.CONFIRM),
];

/** APDUs an outstation really sends, to mutate. */
const RESPONSES: Uint8Array[] = [
  encodeResponse(single(0), FunctionCode.RESPONSE, { iin1: 0x80, iin2: 0 }, encodeObjects([
    { group: 30, variation: 5, qualifier: Qualifier.RANGE_8, items: [0, 1, 2].map((index) => ({ index, value: { type: 'analog', value: index * 1.5, flags: 1 } })) },
    { group: 1, variation: 1, qualifier: Qualifier.RANGE_8, items: [0, 1].map((index) => ({ index, value: { type: 'binary', value: index === 1, flags: 1 } })) },
  ])),
  encodeResponse(single(3, { con: true, uns: true }), FunctionCode.UNSOLICITED_RESPONSE, { iin1: 0x02, iin2: 0 }, encodeObjects([
    { group: 51, variation: 1, qualifier: Qualifier.COUNT_8, items: [{ index: 0, value: { type: 'time', time: 1.7e12 } }] },
    { group: 2, variation: 3, qualifier: Qualifier.INDEX_16, items: [{ index: 4, value: { type: 'binary', value: true, flags: 1, time: 1.7e12 + 5 } }] },
    { group: 32, variation: 7, qualifier: Qualifier.INDEX_16, items: [{ index: 9, value: { type: 'analog', value: 3, flags: 1, time: 1.7e12 } }] },
  ])),
  encodeResponse(single(1), FunctionCode.RESPONSE, { iin1: 0, iin2: 0 }, encodeObjects(commandSpecs([{ type: 'crob', index: 5, opType: 3 }]))),
];

const mutate = (base: readonly Uint8Array[]) =>
  fc.tuple(fc.constantFrom(...base), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), fc.integer({ min: -4, max: 8 })).map(([b, flips, cutAt, extra]) => {
    const out = Array.from(b);
    for (const [at, v] of flips) out[at % out.length] = v;
    if (extra < 0) out.length = Math.max(0, out.length - (cutAt % (out.length + 1)));
    for (let i = 0; i < extra; i++) out.push((cutAt * (i + 7)) & 0xff);
    return Uint8Array.from(out);
  });

/** Frame an APDU as station `src` to `dst` (one or more frames). */
function framed(apdu: Uint8Array, fromMaster: boolean, seq = 0): Uint8Array {
  const frames = segment(apdu, seq).segments.map((s) => encodeFrame({ dir: fromMaster, prm: true, fcb: false, fcv: false, func: 4, dst: fromMaster ? 10 : 1, src: fromMaster ? 1 : 10, userData: s }));
  return Uint8Array.from(frames.flatMap((f) => [...f]));
}

function flipAfterCrc(raw: Uint8Array, at: number, v: number): Uint8Array {
  const out = raw.slice();
  if (out.length > 0) out[at % out.length] = v;
  return out;
}

describe('fuzz: decoders never throw and account for every octet', () => {
  it('FrameDecoder on random chunks of random bytes', () => {
    fc.assert(
      fc.property(fc.array(bytes(400), { maxLength: 8 }), (chunks) => {
        const d = new FrameDecoder();
        for (const c of chunks) d.push(c);
        const s = d.stats;
        expect(s.bytesIn).toBe(s.frameOctets + s.discardedOctets + d.pendingLength);
        expect(d.pendingLength).toBeLessThan(MAX_FRAME_SIZE);
      }),
      { numRuns: 400 },
    );
  });

  it('FrameDecoder on valid frames with octets changed: a change is either rejected or CRC-consistent', () => {
    fc.assert(
      fc.property(mutate(REQUESTS), fc.nat(), fc.integer({ min: 0, max: 255 }), (apdu, at, v) => {
        const raw = framed(apdu.length > 0 ? apdu : new Uint8Array([0xc0]), true);
        const bad = flipAfterCrc(raw, at, v);
        const d = new FrameDecoder();
        const frames = d.push(bad);
        const s = d.stats;
        expect(s.bytesIn).toBe(s.frameOctets + s.discardedOctets + d.pendingLength);
        // Every octet of a frame is under a CRC, which catches any single changed octet.
        if (bad.some((x, i) => x !== raw[i])) {
          expect(frames).toHaveLength(0);
          expect(s.discardedOctets + d.pendingLength).toBeGreaterThan(0);
        } else expect(frames.map((f) => f.raw)).toEqual([raw]);
      }),
      { numRuns: 400 },
    );
  });

  it('parseApdu and parseObjects on random and mutated APDUs return results or typed errors', () => {
    fc.assert(
      fc.property(fc.oneof(bytes(300), mutate(REQUESTS), mutate(RESPONSES)), fc.boolean(), (b, withData) => {
        const p = parseApdu(b);
        if (!p.ok) {
          expect(p.error).toBeInstanceOf(Dnp3Error);
          return;
        }
        const r = parseObjects(p.value.objects, withData);
        if (r.error) expect(r.error).toBeInstanceOf(Dnp3Error);
        for (const blk of r.blocks) expect(blk.raw.length).toBeGreaterThanOrEqual(3);
      }),
      { numRuns: 1000 },
    );
  });
});

/** Feed `inputs` to a live endpoint through a raw channel, in virtual time. */
async function feed(ch: ByteChannel, clock: VirtualClock, inputs: readonly Uint8Array[]): Promise<void> {
  for (const b of inputs) {
    ch.write(b);
    await clock.advanceBy(3);
  }
  await clock.advanceBy(20_000);
}

describe('fuzz: sessions survive garbage and stay correct', () => {
  it('an outstation fed random bytes and mutated requests keeps serving and counts every APDU', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(bytes(120), mutate(REQUESTS).map((a) => framed(a.length ? a : Uint8Array.of(0xc0), true, 0))), { maxLength: 12 }), async (inputs) => {
        const clock = new VirtualClock();
        const [peer, mine] = createChannelPair({ scheduler: clock, latencyMs: 1 });
        const o = new Dnp3Outstation({ scheduler: clock, database: { points: { binaryInput: 4, analogInput: 4, analogOutputStatus: 2 } }, onCommand: () => 0, eventBufferSize: 5 });
        o.attach(mine);
        const answers = new FrameDecoder();
        peer.received$.subscribe((b) => answers.push(b));
        for (let i = 0; i < 20; i++) o.update('analogInput', i % 4, i * 50);
        await feed(peer, clock, inputs);
        const s = o.stats();
        const f = s.session.frames;
        expect(f.bytesIn).toBe(f.frameOctets + f.discardedOctets + f.pendingOctets);
        expect(f.pendingOctets).toBeLessThan(MAX_FRAME_SIZE);
        expect(s.session.handlerErrors).toBe(0);
        expect(s.session.transport.apdus).toBe(s.requests + s.malformedApdus + s.unexpectedApdus + s.confirms + s.unexpectedConfirms);
        expect(answers.stats.badHeaderCrc + answers.stats.badDataCrc).toBe(0);
        const total = o.bufferedEvents();
        expect(total[1] + total[2] + total[3]).toBeLessThanOrEqual(15);
        // Still serving: a clean request gets its answer.
        const before = answers.stats.frames;
        peer.write(new Uint8Array(MAX_FRAME_SIZE).fill(0)); // flush any half frame it holds
        peer.write(framed(encodeRequest(single(9), FunctionCode.READ, encodeObjects(classHeaders([1], true))), true, 0));
        await clock.advanceBy(50);
        expect(answers.stats.frames).toBeGreaterThan(before);
        o.close();
      }),
      { numRuns: 150 },
    );
  });

  it('a master fed random bytes and mutated responses never throws, counts every APDU and still completes a poll', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(bytes(120), mutate(RESPONSES).map((a) => framed(a.length ? a : Uint8Array.of(0xc0), false, 0))), { maxLength: 12 }), async (inputs) => {
        const clock = new VirtualClock();
        const [mine, peer] = createChannelPair({ scheduler: clock, latencyMs: 1 });
        const m = new Dnp3Master(mine, { scheduler: clock, responseTimeoutMs: 1000, maxRetries: 0, unsolicited: false });
        await feed(peer, clock, inputs);
        const s = m.stats();
        expect(s.session.transport.apdus).toBe(s.responses + s.unexpectedResponses + s.malformedApdus + s.unsolicited);
        const f = s.session.frames;
        expect(f.bytesIn).toBe(f.frameOctets + f.discardedOctets + f.pendingOctets);
        expect(f.pendingOctets).toBeLessThan(MAX_FRAME_SIZE);
        expect(s.session.handlerErrors).toBe(0);
        // The channel still works: a real outstation on it gets polled.
        const o = new Dnp3Outstation({ scheduler: clock, database: { points: { analogInput: 1 } } });
        o.update('analogInput', 0, 77);
        peer.write(new Uint8Array(MAX_FRAME_SIZE).fill(0));
        o.attach(peer);
        const r = m.integrityPoll();
        await clock.advanceBy(3000);
        expect(await r).toMatchObject({ ok: true });
        expect(m.point('analogInput', 0)?.value).toBe(77);
        m.close();
        o.close();
      }),
      { numRuns: 150 },
    );
  });
});
