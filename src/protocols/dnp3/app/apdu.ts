import { Dnp3Error } from '../errors.js';
import { isResponseFunction, type Iin } from './codes.js';

/** Application control octet. */
export interface AppControl {
  readonly fir: boolean;
  readonly fin: boolean;
  /** The receiver must answer with CONFIRM. */
  readonly con: boolean;
  /** Unsolicited response (or the CONFIRM of one). */
  readonly uns: boolean;
  /** 0..15. */
  readonly seq: number;
}

export interface RequestApdu {
  readonly kind: 'request';
  readonly control: AppControl;
  readonly function: number;
  /** Object headers and objects, unparsed (see parseObjects). */
  readonly objects: Uint8Array;
}

export interface ResponseApdu {
  readonly kind: 'response';
  readonly control: AppControl;
  readonly function: number;
  readonly iin: Iin;
  readonly objects: Uint8Array;
}

export type Apdu = RequestApdu | ResponseApdu;

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: Dnp3Error };

export function controlOctet(c: AppControl): number {
  return (c.fir ? 0x80 : 0) | (c.fin ? 0x40 : 0) | (c.con ? 0x20 : 0) | (c.uns ? 0x10 : 0) | (c.seq & 0x0f);
}

export function parseControl(b: number): AppControl {
  return { fir: (b & 0x80) !== 0, fin: (b & 0x40) !== 0, con: (b & 0x20) !== 0, uns: (b & 0x10) !== 0, seq: b & 0x0f };
}

/** A single-fragment control with the given sequence number. */
export function single(seq: number, extra: Partial<AppControl> = {}): AppControl {
  return { fir: true, fin: true, con: false, uns: false, seq: seq & 0x0f, ...extra };
}

/** Split an APDU into its header and object octets. Never throws. */
export function parseApdu(bytes: Uint8Array): ParseResult<Apdu> {
  if (bytes.length < 2) return { ok: false, error: new Dnp3Error('MALFORMED', `APDU of ${bytes.length} octets`) };
  const control = parseControl(bytes[0]!);
  const fn = bytes[1]!;
  if (!isResponseFunction(fn)) return { ok: true, value: { kind: 'request', control, function: fn, objects: bytes.subarray(2) } };
  if (bytes.length < 4) return { ok: false, error: new Dnp3Error('MALFORMED', `response APDU of ${bytes.length} octets (no IIN)`) };
  return { ok: true, value: { kind: 'response', control, function: fn, iin: { iin1: bytes[2]!, iin2: bytes[3]! }, objects: bytes.subarray(4) } };
}

export function encodeRequest(control: AppControl, fn: number, objects: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(2 + objects.length);
  out[0] = controlOctet(control);
  out[1] = fn;
  out.set(objects, 2);
  return out;
}

export function encodeResponse(control: AppControl, fn: number, iin: Iin, objects: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(4 + objects.length);
  out[0] = controlOctet(control);
  out[1] = fn;
  out[2] = iin.iin1;
  out[3] = iin.iin2;
  out.set(objects, 4);
  return out;
}
