import { describe, expect, it } from 'vitest';
import { crcDnp } from '../../../src/protocols/dnp3/link/crc.js';
import { encodeFrame, FrameDecoder, LinkPrimary, LinkSecondary, MAX_FRAME_SIZE, type LinkFrame } from '../../../src/protocols/dnp3/link/frame.js';
import { LinkLayer } from '../../../src/protocols/dnp3/link/link-layer.js';
import { encodeRequest, encodeResponse, single } from '../../../src/protocols/dnp3/app/apdu.js';
import { FunctionCode } from '../../../src/protocols/dnp3/app/codes.js';
import { encodeObjects, Qualifier } from '../../../src/protocols/dnp3/app/headers.js';
import { crobCode } from '../../../src/protocols/dnp3/app/objects.js';
import { segment } from '../../../src/protocols/dnp3/transport/transport.js';
import { classHeaders } from '../../../src/protocols/dnp3/master/tasks.js';
import { hex, toHex } from './support.js';

/** The example frames of spec/dnp3.md (checked with tshark when they were made). */
const INTEGRITY = '05 64 14 c4 0a 00 01 00 8f ed c0 c0 01 3c 02 06 3c 03 06 3c 04 06 3c 01 06 8a 51';
const RESPONSE = '05 64 1f 44 01 00 0a 00 26 a5 c0 c0 81 00 00 1e 01 00 00 01 01 39 30 00 00 01 84 ed 0c fe ff ff 01 02 00 00 00 81 7e 83';
const CROB = '05 64 1a c4 0a 00 01 00 8a 1c c1 c1 05 0c 01 28 01 00 05 00 03 01 e8 03 00 00 03 8f 00 00 00 00 00 ff ff';
const SELECT_AO = '05 64 12 c4 0a 00 01 00 56 86 c2 c2 03 29 01 17 01 58 f4 01 00 00 00 9f 7e';

const fromMaster = (userData: Uint8Array): LinkFrame => ({ dir: true, prm: true, fcb: false, fcv: false, func: LinkPrimary.UNCONFIRMED_USER_DATA, dst: 10, src: 1, userData });
const fromOutstation = (userData: Uint8Array): LinkFrame => ({ dir: false, prm: true, fcb: false, fcv: false, func: LinkPrimary.UNCONFIRMED_USER_DATA, dst: 1, src: 10, userData });
const oneSegment = (apdu: Uint8Array, seq: number): Uint8Array => segment(apdu, seq).segments[0]!;

describe('CRC-16/DNP', () => {
  it('has the check value 0xEA82 over "123456789"', () => {
    expect(crcDnp(new TextEncoder().encode('123456789'))).toBe(0xea82);
  });

  it('gives 0xF891 for the header 05 64 05 C0 01 00 00 00', () => {
    expect(crcDnp(hex('05 64 05 C0 01 00 00 00'))).toBe(0xf891);
  });
});

describe('FT3 frames: the spec examples byte for byte', () => {
  it('integrity poll', () => {
    const apdu = encodeRequest(single(0), FunctionCode.READ, encodeObjects(classHeaders([1, 2, 3], true)));
    expect(toHex(encodeFrame(fromMaster(oneSegment(apdu, 0))))).toBe(INTEGRITY);
  });

  it('response with g30v1 0..1 and g1v2 0', () => {
    const objects = encodeObjects([
      {
        group: 30,
        variation: 1,
        qualifier: Qualifier.RANGE_8,
        items: [
          { index: 0, value: { type: 'analog', value: 12345, flags: 1 } },
          { index: 1, value: { type: 'analog', value: -500, flags: 1 } },
        ],
      },
      { group: 1, variation: 2, qualifier: Qualifier.RANGE_8, items: [{ index: 0, value: { type: 'binary', value: true, flags: 1 } }] },
    ]);
    const apdu = encodeResponse(single(0), FunctionCode.RESPONSE, { iin1: 0, iin2: 0 }, objects);
    expect(toHex(encodeFrame(fromOutstation(oneSegment(apdu, 0))))).toBe(RESPONSE);
  });

  it('DIRECT_OPERATE of a CROB LATCH_ON at index 5', () => {
    const objects = encodeObjects([
      { group: 12, variation: 1, qualifier: Qualifier.INDEX_16, items: [{ index: 5, value: { type: 'crob', code: crobCode({ opType: 3 }), count: 1, onTimeMs: 1000, offTimeMs: 0, status: 0 } }] },
    ]);
    const apdu = encodeRequest(single(1), FunctionCode.DIRECT_OPERATE, objects);
    expect(toHex(encodeFrame(fromMaster(oneSegment(apdu, 1))))).toBe(CROB);
  });

  it('SELECT of g41v1 index 88 value 500', () => {
    const objects = encodeObjects([{ group: 41, variation: 1, qualifier: Qualifier.INDEX_8, items: [{ index: 88, value: { type: 'analogOutput', value: 500, status: 0 } }] }]);
    const apdu = encodeRequest(single(2), FunctionCode.SELECT, objects);
    expect(toHex(encodeFrame(fromMaster(oneSegment(apdu, 2))))).toBe(SELECT_AO);
  });

  it('decodes each example back to its fields', () => {
    const d = new FrameDecoder();
    const frames = d.push(hex(INTEGRITY + RESPONSE + CROB + SELECT_AO));
    expect(frames.map((f) => [f.dir, f.prm, f.func, f.dst, f.src])).toEqual([
      [true, true, 4, 10, 1],
      [false, true, 4, 1, 10],
      [true, true, 4, 10, 1],
      [true, true, 4, 10, 1],
    ]);
    expect(toHex(frames[1]!.userData)).toBe('c0 c0 81 00 00 1e 01 00 00 01 01 39 30 00 00 01 0c fe ff ff 01 02 00 00 00 81');
    expect(d.stats).toMatchObject({ frames: 4, discardedOctets: 0, badHeaderCrc: 0, badDataCrc: 0 });
  });
});

describe('FrameDecoder', () => {
  const all = hex(RESPONSE + CROB);

  it('reassembles frames split at every possible point', () => {
    for (let cut = 1; cut < all.length; cut++) {
      const d = new FrameDecoder();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames).toHaveLength(2);
      expect(d.pendingLength).toBe(0);
    }
  });

  it('resynchronizes after garbage, counting what it threw away', () => {
    const d = new FrameDecoder();
    const junk = hex('00 05 ff 64 05 05 64');
    const frames = d.push(new Uint8Array([...junk, ...all]));
    expect(frames).toHaveLength(2);
    expect(d.stats.discardedOctets).toBe(junk.length);
    expect(d.stats.bytesIn).toBe(d.stats.frameOctets + d.stats.discardedOctets + d.pendingLength);
  });

  it('rejects a bad header CRC and finds the next frame', () => {
    const bad = hex(RESPONSE);
    bad[8]! ^= 0x01;
    const d = new FrameDecoder();
    const frames = d.push(new Uint8Array([...bad, ...hex(CROB)]));
    expect(frames).toHaveLength(1);
    expect(frames[0]!.userData[2]).toBe(FunctionCode.DIRECT_OPERATE);
    expect(d.stats.badHeaderCrc).toBe(1);
    expect(d.stats.discardedOctets).toBe(bad.length);
  });

  it('rejects a frame whose data block CRC is wrong', () => {
    const bad = hex(RESPONSE);
    bad[bad.length - 1]! ^= 0xff; // CRC of the last data block
    const d = new FrameDecoder();
    expect(d.push(new Uint8Array([...bad, ...hex(CROB)]))).toHaveLength(1);
    expect(d.stats).toMatchObject({ badDataCrc: 1, badHeaderCrc: 0, frames: 1 });
  });

  it('counts a header whose LEN is below 5', () => {
    const f = hex('05 64 04 c4 0a 00 01 00');
    const c = crcDnp(f);
    const d = new FrameDecoder();
    d.push(new Uint8Array([...f, c & 0xff, c >> 8]));
    expect(d.stats.badLength).toBe(1);
  });

  it('round-trips user data of every length up to 250 octets', () => {
    for (let n = 0; n <= 250; n += 7) {
      const userData = Uint8Array.from({ length: n }, (_, i) => (i * 37) & 0xff);
      const raw = encodeFrame(fromMaster(userData));
      const [f] = new FrameDecoder().push(raw);
      expect(f?.userData).toEqual(userData);
      expect(raw.length).toBeLessThanOrEqual(MAX_FRAME_SIZE);
    }
  });
});

describe('LinkLayer (secondary duties)', () => {
  function station() {
    const out: Uint8Array[] = [];
    const delivered: Uint8Array[] = [];
    const link = new LinkLayer({ localAddress: 10, remoteAddress: 1, isMaster: false }, (b) => out.push(b), (t) => delivered.push(t));
    const answers = (): LinkFrame[] => new FrameDecoder().push(new Uint8Array(out.flatMap((b) => [...b])));
    return { link, out, delivered, answers };
  }
  const primary = (func: number, extra: Partial<LinkFrame> = {}): LinkFrame => ({ ...fromMaster(new Uint8Array(0)), func, ...extra });

  it('answers REQUEST_LINK_STATUS with LINK_STATUS', () => {
    const s = station();
    s.link.receive(primary(LinkPrimary.REQUEST_LINK_STATUS));
    const [a] = s.answers();
    expect(a).toMatchObject({ dir: false, prm: false, func: LinkSecondary.LINK_STATUS, dst: 1, src: 10 });
    expect(s.link.stats.linkStatusRequests).toBe(1);
  });

  it('acknowledges reset and test link states, and confirmed user data (dropping repeats by FCB)', () => {
    const s = station();
    s.link.receive(primary(LinkPrimary.RESET_LINK_STATES));
    s.link.receive(primary(LinkPrimary.TEST_LINK_STATES, { fcb: true, fcv: true }));
    const data = hex('c0 c0 01 3c 01 06');
    s.link.receive({ ...fromMaster(data), func: LinkPrimary.CONFIRMED_USER_DATA, fcb: false, fcv: true });
    s.link.receive({ ...fromMaster(data), func: LinkPrimary.CONFIRMED_USER_DATA, fcb: false, fcv: true }); // a repeat
    expect(s.answers().map((f) => f.func)).toEqual([LinkSecondary.ACK, LinkSecondary.ACK, LinkSecondary.ACK, LinkSecondary.ACK]);
    expect(s.delivered).toHaveLength(1);
    expect(s.link.stats.duplicateFrames).toBe(1);
  });

  it('answers unknown primary functions with NOT_SUPPORTED', () => {
    const s = station();
    s.link.receive(primary(7));
    expect(s.answers()[0]!.func).toBe(LinkSecondary.NOT_SUPPORTED);
    expect(s.link.stats.unsupportedFunctions).toBe(1);
  });

  it('ignores frames for another destination or from another source, counting them', () => {
    const s = station();
    s.link.receive({ ...fromMaster(hex('c0 c0 01')), dst: 11 });
    s.link.receive({ ...fromMaster(hex('c0 c0 01')), src: 2 });
    s.link.receive(primary(LinkPrimary.REQUEST_LINK_STATUS, { dst: 11 }));
    expect(s.out).toHaveLength(0);
    expect(s.delivered).toHaveLength(0);
    expect(s.link.stats).toMatchObject({ wrongDestination: 2, wrongSource: 1 });
  });
});
