import type { Dispatch } from './model/control.js';
import type { ApplyOutcome, Setpoint } from './model/setpoint.js';

export type DispatchState = 'scheduled' | 'active' | 'completed' | 'superseded' | 'cancelled';

export type ReplanReason = 'activated' | 'schedule' | 'member-failed' | 'member-stale' | 'member-recovered' | 'membership' | 'tracking';

/** Everything that happens to a dispatch, in order; the API, store and dashboard subscribe. */
export type DispatchEvent =
  | { readonly type: 'accepted'; readonly dispatchId: string; readonly groupId: string; readonly at: number; readonly dispatch: Dispatch }
  | {
      readonly type: 'planned';
      readonly dispatchId: string;
      readonly groupId: string;
      readonly at: number;
      readonly reason: ReplanReason;
      /** The scalar in force (schedule value or control value), when the control has one. */
      readonly value: number | null;
      readonly target: number | null;
      readonly achievable: number | null;
      readonly shortfall: number;
      readonly setpoints: number;
      readonly excluded: ReadonlyArray<{ readonly derId: string; readonly reason: string }>;
    }
  | { readonly type: 'outcome'; readonly dispatchId: string; readonly groupId: string; readonly at: number; readonly derId: string; readonly setpoint: Setpoint; readonly outcome: ApplyOutcome }
  | { readonly type: 'progress'; readonly dispatchId: string; readonly groupId: string; readonly at: number; readonly target: number; readonly achieved: number }
  | { readonly type: 'ended'; readonly dispatchId: string; readonly groupId: string; readonly at: number; readonly state: Exclude<DispatchState, 'scheduled' | 'active'>; readonly reason: string };

export interface MemberRecord {
  readonly derId: string;
  /** Last value the planner asked of this member (W, var, pct, pf) or the setpoint itself. */
  readonly requested: Setpoint | null;
  /** Last setpoint the device acknowledged. */
  readonly applied: Setpoint | null;
  readonly lastOutcome: ApplyOutcome | null;
  /** Measured value of the dispatched quantity now (W or var), when the member reports. */
  readonly achieved: number | null;
  /** Why the member is left out of this dispatch, if it is. */
  readonly excluded: string | null;
}

export interface DispatchRecord {
  readonly dispatchId: string;
  readonly groupId: string;
  readonly dispatch: Dispatch;
  readonly state: DispatchState;
  readonly value: number | null;
  readonly target: number | null;
  readonly achievable: number | null;
  readonly shortfall: number;
  readonly members: readonly MemberRecord[];
  /** Group achieved vs target over time (newest last, bounded). */
  readonly series: ReadonlyArray<{ readonly at: number; readonly target: number; readonly achieved: number }>;
}
