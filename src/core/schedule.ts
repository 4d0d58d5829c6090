import type { Schedule, TimeIntervalUnit } from './model/control.js';

const fixedMs: Partial<Record<TimeIntervalUnit, number>> = { s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Start of interval `n` (1-based). Seconds, minutes and hours are fixed lengths; days, months and
 * years follow the UTC calendar, so a monthly schedule starting on the 31st lands on month ends.
 */
export function intervalStart(s: Pick<Schedule, 'start' | 'intervalDuration' | 'intervalUnit'>, n: number): number {
  const steps = (n - 1) * s.intervalDuration;
  const fixed = fixedMs[s.intervalUnit];
  if (fixed !== undefined) return s.start + steps * fixed;
  const d = new Date(s.start);
  if (s.intervalUnit === 'D') return s.start + steps * 86_400_000;
  const months = s.intervalUnit === 'M' ? steps : steps * 12;
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const day = Math.min(d.getUTCDate(), daysInMonth(y, m));
  return Date.UTC(y, m, day, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds());
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

/** End of the schedule: the end of its last interval. */
export function scheduleEnd(s: Schedule): number {
  return intervalStart(s, s.points[s.points.length - 1]!.interval + 1);
}

export type ScheduleState =
  | { readonly phase: 'pending'; readonly startsAt: number }
  | { readonly phase: 'active'; readonly value: number; readonly interval: number; readonly nextChangeAt: number }
  | { readonly phase: 'ended'; readonly endedAt: number };

/**
 * The schedule's value at time `t`, and when it next changes. constantYValue holds each point's
 * value from the start of its interval until the next point; straightLineYValues interpolates
 * linearly between successive points and is re-evaluated every `stepMs`. After the last point the
 * value holds until the end of its interval.
 */
export function scheduleAt(s: Schedule, t: number): ScheduleState {
  const first = intervalStart(s, s.points[0]!.interval);
  if (t < first) return { phase: 'pending', startsAt: first };
  const end = scheduleEnd(s);
  if (t >= end) return { phase: 'ended', endedAt: end };
  // Last point whose interval has started (points are few; binary search keeps long ones cheap).
  let lo = 0;
  let hi = s.points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (intervalStart(s, s.points[mid]!.interval) <= t) lo = mid;
    else hi = mid - 1;
  }
  const p = s.points[lo]!;
  const next = s.points[lo + 1];
  const nextAt = next ? intervalStart(s, next.interval) : end;
  const interval = intervalAt(s, t);
  if (s.curveStyle === 'constantYValue' || !next) {
    return { phase: 'active', value: p.value, interval, nextChangeAt: nextAt };
  }
  const t0 = intervalStart(s, p.interval);
  const value = p.value + ((next.value - p.value) * (t - t0)) / (nextAt - t0);
  return { phase: 'active', value, interval, nextChangeAt: Math.min(nextAt, t + s.stepMs) };
}

/** The (1-based) interval that contains `t`. */
export function intervalAt(s: Pick<Schedule, 'start' | 'intervalDuration' | 'intervalUnit'>, t: number): number {
  const unit = s.intervalUnit === 'D' ? 86_400_000 : fixedMs[s.intervalUnit];
  if (unit !== undefined) return Math.floor((t - s.start) / (unit * s.intervalDuration)) + 1;
  // Calendar months: estimate from the month difference, then correct by at most a step.
  const a = new Date(s.start);
  const b = new Date(t);
  const months = (b.getUTCFullYear() - a.getUTCFullYear()) * 12 + b.getUTCMonth() - a.getUTCMonth();
  let n = Math.floor(months / (s.intervalDuration * (s.intervalUnit === 'Y' ? 12 : 1))) + 1;
  while (n > 1 && intervalStart(s, n) > t) n--;
  while (intervalStart(s, n + 1) <= t) n++;
  return n;
}
