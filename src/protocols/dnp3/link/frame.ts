import { crcDnp, crcMatches } from './crc.js';

/** Primary (initiating) link function codes. */
export const LinkPrimary = {
  RESET_LINK_STATES: 0,
  TEST_LINK_STATES: 2,
  CONFIRMED_USER_DATA: 3,
  UNCONFIRMED_USER_DATA: 4,
  REQUEST_LINK_STATUS: 9,
} as const;

/** Secondary (answering) link function codes. */
export const LinkSecondary = {
  ACK: 0,
  NACK: 1,
  LINK_STATUS: 11,
  NOT_SUPPORTED: 15,
} as const;

/** Most user octets one frame carries (LEN is one octet and counts 5 header octets). */
export const MAX_LINK_USER_DATA = 250;
const HEADER = 10;
const BLOCK = 16;
/** Largest possible frame on the wire: header plus 250 user octets in 16 blocks with CRCs. */
export const MAX_FRAME_SIZE = frameSize(MAX_LINK_USER_DATA);

export interface LinkFrame {
  /** DIR: set on frames sent by the master. */
  readonly dir: boolean;
  /** PRM: set on primary (initiating) frames. */
  readonly prm: boolean;
  /** FCB on primary frames; unused (false) on secondary ones. */
  readonly fcb: boolean;
  /** FCV on primary frames, DFC on secondary ones. */
  readonly fcv: boolean;
  readonly func: number;
  readonly dst: number;
  readonly src: number;
  readonly userData: Uint8Array;
}

/** A frame as decoded, with the exact bytes it came in. */
export interface DecodedFrame extends LinkFrame {
  readonly raw: Uint8Array;
}

export function frameSize(userLength: number): number {
  return HEADER + userLength + 2 * Math.ceil(userLength / BLOCK);
}

export function controlByte(f: Pick<LinkFrame, 'dir' | 'prm' | 'fcb' | 'fcv' | 'func'>): number {
  return (f.dir ? 0x80 : 0) | (f.prm ? 0x40 : 0) | (f.fcb ? 0x20 : 0) | (f.fcv ? 0x10 : 0) | (f.func & 0x0f);
}

/** Encode one FT3 frame: header with its CRC, then the user data in 16-octet blocks, each with its CRC. */
export function encodeFrame(f: LinkFrame): Uint8Array {
  const n = f.userData.length;
  if (n > MAX_LINK_USER_DATA) throw new RangeError(`link frame user data of ${n} octets (at most ${MAX_LINK_USER_DATA})`);
  const out = new Uint8Array(frameSize(n));
  out[0] = 0x05;
  out[1] = 0x64;
  out[2] = 5 + n;
  out[3] = controlByte(f);
  out[4] = f.dst & 0xff;
  out[5] = (f.dst >>> 8) & 0xff;
  out[6] = f.src & 0xff;
  out[7] = (f.src >>> 8) & 0xff;
  putCrc(out, 0, 8);
  let w = HEADER;
  for (let r = 0; r < n; r += BLOCK) {
    const len = Math.min(BLOCK, n - r);
    out.set(f.userData.subarray(r, r + len), w);
    putCrc(out, w, w + len);
    w += len + 2;
  }
  return out;
}

function putCrc(out: Uint8Array, start: number, at: number): void {
  const c = crcDnp(out, start, at);
  out[at] = c & 0xff;
  out[at + 1] = c >>> 8;
}

export interface FrameDecoderStats {
  /** Octets pushed in. Always equals frameOctets + discardedOctets + pending octets. */
  bytesIn: number;
  frames: number;
  frameOctets: number;
  /** Octets thrown away: garbage before a start, bad headers, frames with a bad data CRC. */
  discardedOctets: number;
  badHeaderCrc: number;
  badDataCrc: number;
  /** Headers with a good CRC but LEN below 5. */
  badLength: number;
}

/**
 * A streaming FT3 decoder: feed it octets as they arrive, in any chunking, and it hands back the
 * frames whose header and data CRCs are good. It resynchronizes on garbage by searching for the
 * 05 64 start octets; what it discards is counted. It never keeps more than one frame's worth of
 * octets between pushes.
 */
export class FrameDecoder {
  private pending: Uint8Array = new Uint8Array(0);
  readonly stats: FrameDecoderStats = { bytesIn: 0, frames: 0, frameOctets: 0, discardedOctets: 0, badHeaderCrc: 0, badDataCrc: 0, badLength: 0 };

  /** Octets held back waiting for the rest of a frame. */
  get pendingLength(): number {
    return this.pending.length;
  }

  reset(): void {
    this.stats.discardedOctets += this.pending.length;
    this.pending = new Uint8Array(0);
  }

  push(chunk: Uint8Array): DecodedFrame[] {
    this.stats.bytesIn += chunk.length;
    let buf: Uint8Array;
    if (this.pending.length === 0) buf = chunk;
    else {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending);
      buf.set(chunk, this.pending.length);
    }
    const frames: DecodedFrame[] = [];
    let pos = 0;
    for (;;) {
      const start = findStart(buf, pos);
      this.stats.discardedOctets += start - pos;
      pos = start;
      if (buf.length - pos < HEADER) break;
      if (!crcMatches(buf, pos, pos + 8)) {
        this.stats.badHeaderCrc++;
        this.stats.discardedOctets++;
        pos++;
        continue;
      }
      const len = buf[pos + 2]!;
      if (len < 5) {
        this.stats.badLength++;
        this.stats.discardedOctets++;
        pos++;
        continue;
      }
      const size = frameSize(len - 5);
      if (buf.length - pos < size) break;
      const frame = decodeChecked(buf.subarray(pos, pos + size), len - 5);
      if (frame) {
        this.stats.frames++;
        this.stats.frameOctets += size;
        frames.push(frame);
      } else {
        this.stats.badDataCrc++;
        this.stats.discardedOctets += size;
      }
      pos += size;
    }
    // Copy the tail (new Uint8Array copies; a Node Buffer's slice would share the caller's memory).
    this.pending = pos >= buf.length ? new Uint8Array(0) : new Uint8Array(buf.subarray(pos));
    return frames;
  }
}

/** Index of the next 05 64 at or after `from`; a trailing lone 05 is kept as a possible start. */
function findStart(buf: Uint8Array, from: number): number {
  for (let i = from; i < buf.length; i++) {
    if (buf[i] !== 0x05) continue;
    if (i + 1 === buf.length || buf[i + 1] === 0x64) return i;
  }
  return buf.length;
}

/** Decode a frame whose header CRC is already checked; null when a data block CRC is wrong. */
function decodeChecked(raw: Uint8Array, userLength: number): DecodedFrame | null {
  const user = new Uint8Array(userLength);
  let r = HEADER;
  for (let w = 0; w < userLength; w += BLOCK) {
    const len = Math.min(BLOCK, userLength - w);
    if (!crcMatches(raw, r, r + len)) return null;
    user.set(raw.subarray(r, r + len), w);
    r += len + 2;
  }
  const ctrl = raw[3]!;
  return {
    dir: (ctrl & 0x80) !== 0,
    prm: (ctrl & 0x40) !== 0,
    fcb: (ctrl & 0x20) !== 0,
    fcv: (ctrl & 0x10) !== 0,
    func: ctrl & 0x0f,
    dst: raw[4]! | (raw[5]! << 8),
    src: raw[6]! | (raw[7]! << 8),
    userData: user,
    raw: new Uint8Array(raw),
  };
}
