import { Dnp3Error } from '../errors.js';

const TWO32 = 0x1_0000_0000;

/** A bounds-checked little-endian reader; running past the end is a MALFORMED Dnp3Error. */
export class Reader {
  private readonly view: DataView;
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  need(n: number, what: string): void {
    if (this.remaining < n) throw new Dnp3Error('MALFORMED', `${what}: need ${n} octets at offset ${this.pos}, have ${this.remaining}`);
  }

  u8(what = 'octet'): number {
    this.need(1, what);
    return this.bytes[this.pos++]!;
  }

  u16(what = 'uint16'): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what = 'uint32'): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
}

/** A growable little-endian writer. */
export class Writer {
  private buf = new Uint8Array(256);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.length++] = v & 0xff;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.length, v & 0xffff, true);
    this.length += 2;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /** Reserve n octets and return a view on them to fill in place. */
  reserve(n: number): { view: DataView; offset: number; bytes: Uint8Array } {
    this.ensure(n);
    const offset = this.length;
    this.length += n;
    this.buf.fill(0, offset, offset + n);
    return { view: this.view, offset, bytes: this.buf };
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** 48-bit DNP3 time (ms since 1970 UTC) from a view. */
export function getTime48(v: DataView, o: number): number {
  return v.getUint32(o, true) + v.getUint16(o + 4, true) * TWO32;
}

export function setTime48(v: DataView, o: number, ms: number): void {
  const t = Math.max(0, Math.min(Math.round(ms), 0xffff_ffff_ffff));
  v.setUint32(o, t % TWO32, true);
  v.setUint16(o + 4, Math.floor(t / TWO32), true);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
