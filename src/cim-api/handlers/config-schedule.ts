import type { Subscription } from 'rxjs';
import type { Control, Schedule } from '../../core/model/control.js';
import type { Clock } from '../../core/ports.js';
import { scheduleAt } from '../../core/schedule.js';
import type { DispatchTracker } from '../../core/tracker.js';

export interface ConfigScheduleSpec {
  /** The CIM dispatch mRID; core dispatches are `<id>#<n>`. */
  readonly id: string;
  readonly groupId: string;
  readonly schedule: Schedule;
  /** The control that stands for the schedule's value at one moment (built when it applies). */
  readonly control: (value: number) => Control;
}

interface Running {
  readonly spec: ConfigScheduleSpec;
  readonly key: string;
  timer: Subscription | null;
  current: string | null;
  value: number | null;
  n: number;
}

/**
 * Follows a DispatchSchedule for controls the core takes no schedule for (ramp rates, the volt-var
 * curve that stands for a voltage target): at each change of the schedule's value it submits the
 * control for that value as a new core dispatch (superseding the previous one of the same
 * function), and at the end of the schedule cancels it, which restores the devices' default. A
 * schedule stops following when another dispatch takes its function over.
 */
export class ConfigSchedules {
  private readonly running = new Map<string, Running>();

  constructor(
    private readonly tracker: DispatchTracker,
    private readonly clock: Clock,
    /** A later step failed (say the group was deleted); the schedule is no longer followed. */
    private readonly onError: (id: string, e: unknown) => void,
  ) {}

  /** Start following `spec`; `key` names the function per group (one schedule per key). */
  start(spec: ConfigScheduleSpec, key: string): void {
    this.stopKey(key);
    const r: Running = { spec, key, timer: null, current: null, value: null, n: 0 };
    this.running.set(key, r);
    this.step(r, false);
  }

  /** Whether `id` is a schedule this follows (for cancel). */
  has(id: string): boolean {
    return [...this.running.values()].some((r) => r.spec.id === id);
  }

  /** Stop following `id` and cancel what it set. */
  cancel(id: string, reason: string): void {
    for (const r of [...this.running.values()]) {
      if (r.spec.id !== id) continue;
      this.stop(r);
      if (r.current && this.isLive(r.current)) this.tracker.cancel(r.current, reason);
    }
  }

  stopAll(): void {
    for (const r of [...this.running.values()]) this.stop(r);
  }

  /** One step; the first (in the request) throws its failure, later ones report it. */
  private step(r: Running, timed = true): void {
    r.timer = null;
    if (r.current && !this.isLive(r.current)) return this.stop(r); // taken over by another dispatch
    const now = this.clock.now();
    const st = scheduleAt(r.spec.schedule, now);
    if (st.phase === 'pending') {
      r.timer = this.clock.schedule(() => this.step(r), st.startsAt - now);
      return;
    }
    if (st.phase === 'ended') {
      this.stop(r);
      if (r.current) this.tracker.cancel(r.current, 'schedule ended; default restored');
      return;
    }
    if (r.value === null || Math.abs(st.value - r.value) > 1e-9) {
      const id = `${r.spec.id}#${++r.n}`;
      try {
        this.tracker.submit({ mRID: id, groupId: r.spec.groupId, control: r.spec.control(st.value) });
      } catch (e) {
        this.stop(r);
        if (!timed) throw e;
        this.onError(r.spec.id, e);
        return;
      }
      r.current = id;
      r.value = st.value;
    }
    r.timer = this.clock.schedule(() => this.step(r), Math.max(1, st.nextChangeAt - now));
  }

  private isLive(dispatchId: string): boolean {
    const s = this.tracker.record(dispatchId)?.state;
    return s === 'active' || s === 'scheduled';
  }

  private stopKey(key: string): void {
    const r = this.running.get(key);
    if (r) this.stop(r);
  }

  private stop(r: Running): void {
    r.timer?.unsubscribe();
    r.timer = null;
    if (this.running.get(r.key) === r) this.running.delete(r.key);
  }
}
