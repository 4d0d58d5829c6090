import { MAX_LINK_USER_DATA } from '../link/frame.js';

/** Most APDU octets one transport segment carries (one link frame minus the transport header). */
export const MAX_SEGMENT_PAYLOAD = MAX_LINK_USER_DATA - 1;

const FIN = 0x80;
const FIR = 0x40;

/**
 * Split an APDU into transport segments (TPDUs) of at most 249 payload octets, numbered from
 * `seq` (mod 64). Returns the segments and the sequence number the next APDU starts with.
 */
export function segment(apdu: Uint8Array, seq: number, maxPayload = MAX_SEGMENT_PAYLOAD): { segments: Uint8Array[]; nextSeq: number } {
  const segments: Uint8Array[] = [];
  let s = seq & 0x3f;
  let pos = 0;
  do {
    const len = Math.min(maxPayload, apdu.length - pos);
    const tpdu = new Uint8Array(len + 1);
    tpdu[0] = (pos === 0 ? FIR : 0) | (pos + len >= apdu.length ? FIN : 0) | s;
    tpdu.set(apdu.subarray(pos, pos + len), 1);
    segments.push(tpdu);
    pos += len;
    s = (s + 1) & 0x3f;
  } while (pos < apdu.length);
  return { segments, nextSeq: s };
}

export interface ReassemblyStats {
  segments: number;
  apdus: number;
  /** Segments dropped: empty, non-FIR without a start, out of sequence, or over the size bound. */
  discardedSegments: number;
  /** Partial APDUs abandoned (a new FIR came, a sequence error, the size bound). */
  discardedApdus: number;
  oversize: number;
  sequenceErrors: number;
}

/**
 * Reassembles segments into APDUs: starts at FIR, checks that each following segment has the
 * next SEQ, completes at FIN. A partial APDU is discarded on any error or when it would exceed
 * `maxApduSize`, so memory stays bounded.
 */
export class Reassembler {
  private parts: Uint8Array[] = [];
  private size = 0;
  private nextSeq = -1;
  readonly stats: ReassemblyStats = { segments: 0, apdus: 0, discardedSegments: 0, discardedApdus: 0, oversize: 0, sequenceErrors: 0 };

  constructor(readonly maxApduSize = 2048) {}

  reset(): void {
    if (this.nextSeq >= 0) this.stats.discardedApdus++;
    this.clear();
  }

  /** Feed one segment; returns an APDU when this segment completed one. */
  push(tpdu: Uint8Array): Uint8Array | null {
    this.stats.segments++;
    if (tpdu.length < 1) {
      this.stats.discardedSegments++;
      return null;
    }
    const h = tpdu[0]!;
    const seq = h & 0x3f;
    const body = tpdu.subarray(1);
    if (h & FIR) {
      if (this.nextSeq >= 0) this.stats.discardedApdus++;
      this.clear();
    } else if (this.nextSeq < 0) {
      this.stats.discardedSegments++;
      return null;
    } else if (seq !== this.nextSeq) {
      this.stats.sequenceErrors++;
      this.stats.discardedSegments++;
      this.stats.discardedApdus++;
      this.clear();
      return null;
    }
    if (this.size + body.length > this.maxApduSize) {
      this.stats.oversize++;
      this.stats.discardedSegments++;
      this.stats.discardedApdus++;
      this.clear();
      return null;
    }
    this.parts.push(new Uint8Array(body));
    this.size += body.length;
    this.nextSeq = (seq + 1) & 0x3f;
    if (!(h & FIN)) return null;
    const apdu = concat(this.parts, this.size);
    this.clear();
    this.stats.apdus++;
    return apdu;
  }

  private clear(): void {
    this.parts = [];
    this.size = 0;
    this.nextSeq = -1;
  }
}

export function concat(parts: readonly Uint8Array[], size = parts.reduce((n, p) => n + p.length, 0)): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
