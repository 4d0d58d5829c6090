import type { Der } from './model/der.js';
import type { RampRates } from './model/control.js';

/** Ramp limits of one member, W/s; null means unlimited in that direction. */
export interface MemberRamp {
  readonly upWPerS: number | null;
  readonly downWPerS: number | null;
}

/**
 * Each member's ramp limits for one group move. `%/s` is a share of each DER's own rating per
 * second; a group `W/s` is split in proportion to each member's change, so all arrive together
 * and the group as a whole moves at the requested rate.
 */
export function memberRamps(rates: RampRates, moves: ReadonlyArray<{ der: Der; from: number; to: number }>): MemberRamp[] {
  if (rates.unit === '%/s') {
    return moves.map(({ der }) => ({
      upWPerS: rates.increasing === undefined ? null : (rates.increasing / 100) * der.nameplate.maxW,
      downWPerS: rates.decreasing === undefined ? null : (rates.decreasing / 100) * der.nameplate.maxW,
    }));
  }
  let up = 0;
  let down = 0;
  for (const m of moves) {
    if (m.to > m.from) up += m.to - m.from;
    else down += m.from - m.to;
  }
  return moves.map((m) => {
    const d = Math.abs(m.to - m.from);
    return {
      upWPerS: rates.increasing === undefined ? null : up > 0 ? (rates.increasing * d) / up : rates.increasing,
      downWPerS: rates.decreasing === undefined ? null : down > 0 ? (rates.decreasing * d) / down : rates.decreasing,
    };
  });
}

/** Milliseconds a move from `from` to `to` takes under `ramp`; 0 when unlimited. */
export function rampDurationMs(from: number, to: number, ramp: MemberRamp): number {
  const rate = to >= from ? ramp.upWPerS : ramp.downWPerS;
  if (rate === null || rate <= 0 || from === to) return 0;
  return (Math.abs(to - from) / rate) * 1000;
}

/** Where a ramp from `from` to `to` stands `elapsedMs` after it began. */
export function rampValueAt(from: number, to: number, ramp: MemberRamp, elapsedMs: number): number {
  const total = rampDurationMs(from, to, ramp);
  if (total === 0 || elapsedMs >= total) return to;
  return from + ((to - from) * elapsedMs) / total;
}
