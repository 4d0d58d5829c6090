/**
 * The smallest scale factor (power of ten, at least `min`) that fits `maxAbs` into a register of
 * `limit` counts: devices pick their scale factors from their ratings, as real ones do.
 */
export function scaleFactorFor(maxAbs: number, limit = 32767, min = 0): number {
  let sf = min;
  while (maxAbs / 10 ** sf > limit && sf < 10) sf++;
  return sf;
}
