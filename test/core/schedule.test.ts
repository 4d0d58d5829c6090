import { describe, expect, it } from 'vitest';
import { intervalAt, intervalStart, scheduleAt, scheduleEnd } from '../../src/core/schedule.js';
import { scheduleSchema, type Schedule } from '../../src/core/model/control.js';

const T0 = Date.UTC(2024, 4, 2, 12, 0, 0);
const sched = (over: Partial<Schedule>): Schedule =>
  scheduleSchema.parse({ start: T0, intervalDuration: 30, intervalUnit: 'm', curveStyle: 'constantYValue', points: [{ interval: 1, value: 250 }, { interval: 2, value: 200 }], ...over });
const MIN = 60_000;

describe('schedules', () => {
  it('constantYValue holds each value through its interval', () => {
    const s = sched({});
    expect(scheduleAt(s, T0 - 1)).toEqual({ phase: 'pending', startsAt: T0 });
    expect(scheduleAt(s, T0)).toMatchObject({ phase: 'active', value: 250, interval: 1, nextChangeAt: T0 + 30 * MIN });
    expect(scheduleAt(s, T0 + 29 * MIN)).toMatchObject({ value: 250 });
    expect(scheduleAt(s, T0 + 30 * MIN)).toMatchObject({ value: 200, interval: 2, nextChangeAt: T0 + 60 * MIN });
    expect(scheduleAt(s, T0 + 60 * MIN)).toEqual({ phase: 'ended', endedAt: T0 + 60 * MIN });
    expect(scheduleEnd(s)).toBe(T0 + 60 * MIN);
  });

  it('holds a value across skipped intervals until the next point', () => {
    const s = sched({ points: [{ interval: 1, value: 1 }, { interval: 4, value: 2 }] });
    expect(scheduleAt(s, T0 + 75 * MIN)).toMatchObject({ value: 1, interval: 3, nextChangeAt: T0 + 90 * MIN });
  });

  it('straightLineYValues interpolates between points and steps at stepMs', () => {
    const s = sched({ curveStyle: 'straightLineYValues', stepMs: 5 * MIN, points: [{ interval: 1, value: 100 }, { interval: 2, value: 200 }, { interval: 3, value: 200 }] });
    expect(scheduleAt(s, T0)).toMatchObject({ value: 100, nextChangeAt: T0 + 5 * MIN });
    expect(scheduleAt(s, T0 + 15 * MIN)).toMatchObject({ value: 150, nextChangeAt: T0 + 20 * MIN });
    expect(scheduleAt(s, T0 + 28 * MIN)).toMatchObject({ nextChangeAt: T0 + 30 * MIN });
    // After the last point the value holds to the end of its interval.
    expect(scheduleAt(s, T0 + 80 * MIN)).toMatchObject({ value: 200, nextChangeAt: T0 + 90 * MIN });
  });

  it('does not start until its first point when that is not interval 1', () => {
    const s = sched({ points: [{ interval: 3, value: 7 }] });
    expect(scheduleAt(s, T0)).toEqual({ phase: 'pending', startsAt: T0 + 60 * MIN });
  });

  it('follows the calendar for days, months and years', () => {
    const jan31 = Date.UTC(2025, 0, 31, 6);
    expect(new Date(intervalStart({ start: jan31, intervalDuration: 1, intervalUnit: 'M' }, 2)).toISOString()).toBe('2025-02-28T06:00:00.000Z');
    expect(new Date(intervalStart({ start: jan31, intervalDuration: 1, intervalUnit: 'M' }, 3)).toISOString()).toBe('2025-03-31T06:00:00.000Z');
    expect(new Date(intervalStart({ start: jan31, intervalDuration: 1, intervalUnit: 'Y' }, 2)).toISOString()).toBe('2026-01-31T06:00:00.000Z');
    expect(intervalStart({ start: jan31, intervalDuration: 2, intervalUnit: 'D' }, 2)).toBe(jan31 + 2 * 86_400_000);
    expect(intervalAt({ start: jan31, intervalDuration: 1, intervalUnit: 'M' }, Date.UTC(2025, 2, 15))).toBe(2);
    expect(intervalAt({ start: jan31, intervalDuration: 1, intervalUnit: 'M' }, Date.UTC(2025, 2, 31, 6))).toBe(3);
    expect(intervalAt({ start: jan31, intervalDuration: 1, intervalUnit: 's' }, jan31 + 2500)).toBe(3);
  });
});
