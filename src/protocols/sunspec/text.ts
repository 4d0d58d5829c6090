/** Text forms of the address types: ipaddr (dotted quad), ipv6addr (RFC 5952), eui48 (XX:XX:XX:XX:XX:XX). */
import { SunSpecError } from './errors.js';

type Regs = ArrayLike<number>;

const hex2 = (b: number): string => b.toString(16).toUpperCase().padStart(2, '0');

/** The MAC in the last three of eui48's four registers. */
export function formatEui48(regs: Regs, off: number): string {
  const out: string[] = [];
  for (let i = 1; i < 4; i++) {
    const r = regs[off + i]!;
    out.push(hex2(r >> 8), hex2(r & 0xff));
  }
  return out.join(':');
}

export function parseEui48(text: string, what: string): number[] {
  const m = /^([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})[:-]([0-9a-f]{2})$/i.exec(text.trim());
  if (!m) throw new SunSpecError('BAD_VALUE', `${what}: ${JSON.stringify(text)} is not a MAC address (XX:XX:XX:XX:XX:XX)`);
  const b = m.slice(1).map((h) => parseInt(h, 16));
  return [0, (b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!, (b[4]! << 8) | b[5]!];
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff].join('.');
}

export function parseIpv4(text: string, what: string): number {
  const parts = text.trim().split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) {
    throw new SunSpecError('BAD_VALUE', `${what}: ${JSON.stringify(text)} is not an IPv4 address`);
  }
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

/** RFC 5952 text of eight registers: lower case, longest run (>= 2) of zero groups as "::". */
export function formatIpv6(regs: Regs, off: number): string {
  const g = Array.from({ length: 8 }, (_, i) => regs[off + i]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(g);
  return `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

export function parseIpv6(text: string, what: string): number[] {
  const bad = (): SunSpecError => new SunSpecError('BAD_VALUE', `${what}: ${JSON.stringify(text)} is not an IPv6 address`);
  const t = text.trim().toLowerCase();
  const halves = t.split('::');
  if (halves.length > 2) throw bad();
  const groups = (s: string): number[] => {
    if (s === '') return [];
    return s.split(':').map((x) => {
      if (!/^[0-9a-f]{1,4}$/.test(x)) throw bad();
      return parseInt(x, 16);
    });
  };
  const head = groups(halves[0]!);
  if (halves.length === 1) {
    if (head.length !== 8) throw bad();
    return head;
  }
  const tail = groups(halves[1]!);
  if (head.length + tail.length > 7) throw bad();
  return [...head, ...Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}
