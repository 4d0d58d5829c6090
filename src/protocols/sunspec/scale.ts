/**
 * Scale factors with exact decimal results: value = raw x 10^sf, raw = round(value / 10^sf).
 *
 * Decoding divides by an exact power of ten (never multiplies by 0.1), and IEEE division of exact
 * operands is correctly rounded, so 3 with sf -1 gives exactly the double nearest 0.3 (what
 * `Number("0.3")` gives), never 0.30000000000000004. Encoding rounds half away from zero on the
 * decimal value as written: 1.005 with sf -2 is raw 101 (not 100, which float 1.005 * 100 would give).
 */

const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** A sunssf usable as a scale factor: an integer in -10..10. */
export function isValidSf(sf: number): boolean {
  return Number.isInteger(sf) && sf >= -10 && sf <= 10;
}

/** raw x 10^sf as the nearest double to the exact decimal result. */
export function applySf(raw: number, sf: number): number {
  if (sf === 0) return raw;
  return sf < 0 ? raw / POW10[-sf]! : raw * POW10[sf]!;
}

/**
 * raw x 10^sf for a 64-bit raw. Exact as a bigint when sf >= 0; with a negative sf the result is
 * the nearest double to the exact decimal (precision beyond 2^53 is lost, by necessity).
 */
export function applySfBig(raw: bigint, sf: number): bigint | number {
  if (sf >= 0) return raw * 10n ** BigInt(sf);
  return Number(`${raw}e${sf}`);
}

/** Round half away from zero. */
export function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** value / 10^sf rounded (half away from zero) as a decimal: the raw register value for `value`. */
export function removeSf(value: number, sf: number): number {
  const x = sf === 0 ? value : sf < 0 ? value * POW10[-sf]! : value / POW10[sf]!;
  const frac = Math.abs(x - Math.trunc(x));
  // Only a result near a half can round the wrong way from representation error; redo it exactly.
  if (sf !== 0 && Math.abs(frac - 0.5) < 1e-6) return roundHalfAway(shiftDecimal(value, -sf));
  return roundHalfAway(x);
}

/** value x 10^k computed on the shortest decimal text of value (exact decimal shift). */
function shiftDecimal(value: number, k: number): number {
  const [mant, exp] = String(value).split('e');
  return Number(`${mant}e${Number(exp ?? 0) + k}`);
}

/** value / 10^sf for a bigint value, rounded half away from zero. */
export function removeSfBig(value: bigint, sf: number): bigint {
  if (sf <= 0) return value * 10n ** BigInt(-sf);
  const d = 10n ** BigInt(sf);
  const q = value / d;
  const r = value % d;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice >= d) return value < 0n ? q - 1n : q + 1n;
  return q;
}
