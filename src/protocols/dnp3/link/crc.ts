/**
 * CRC-16/DNP: polynomial 0x3D65 processed bit-reversed (0xA6BC), init 0, result inverted, sent
 * least significant octet first. Check value over "123456789" is 0xEA82.
 */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xa6bc : c >>> 1;
    t[i] = c;
  }
  return t;
})();

export function crcDnp(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let c = 0;
  for (let i = start; i < end; i++) c = (c >>> 8) ^ TABLE[(c ^ bytes[i]!) & 0xff]!;
  return ~c & 0xffff;
}

/** Whether the two octets at `at` hold the CRC of bytes[start, at). */
export function crcMatches(bytes: Uint8Array, start: number, at: number): boolean {
  const c = crcDnp(bytes, start, at);
  return bytes[at] === (c & 0xff) && bytes[at + 1] === c >>> 8;
}
