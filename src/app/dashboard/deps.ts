import type { Aggregator } from '../../core/aggregator.js';
import type { Clock } from '../../core/ports.js';
import type { Registry } from '../../core/registry.js';
import type { DispatchTracker } from '../../core/tracker.js';
import type { Simulation } from '../../sim/engine.js';
import type { FleetSpec } from '../../sim/fleet-spec.js';

/** The parts of the core the dashboard reads and drives (`CoreParts` from src/app/core.ts fits). */
export interface DashboardCore {
  readonly clock: Clock;
  readonly registry: Registry;
  readonly aggregator: Aggregator;
  readonly tracker: DispatchTracker;
}

/** Application decisions an operator can take from the queue. */
export const applicationActions = ['approve', 'hold', 'reject'] as const;
export type ApplicationAction = (typeof applicationActions)[number];

/** One interconnection application as the queue shows it. States are the services' own words. */
export interface ApplicationSummary {
  readonly id: string;
  readonly customer: string;
  /** The DER applied for (its mRID once known) and what it is. */
  readonly derId: string | null;
  readonly derKind: string | null;
  readonly ratingW: number | null;
  readonly feeder: string | null;
  readonly tariff: string | null;
  /** The lifecycle state, e.g. submitted, under-review, held-for-upgrade, approved, rejected. */
  readonly state: string;
  readonly submittedAt: number;
  readonly updatedAt: number;
  /** Why it is in this state (the last decision's reason), when one was given. */
  readonly note: string | null;
}

/** One change of group membership, as kept for audit (never overwritten). */
export interface MembershipEntry {
  readonly groupId: string;
  readonly derId: string;
  readonly change: 'joined' | 'left';
  readonly at: number;
  readonly reason: string;
}

/**
 * What the customer-services view needs from the store/services layer. Methods may answer at once
 * or with a promise; they throw DermsError (NOT_FOUND, CONFLICT for a decision the application's
 * state does not allow, INVALID_INPUT) which the dashboard shows as the form's error.
 */
export interface DashboardServices {
  listApplications(): readonly ApplicationSummary[] | Promise<readonly ApplicationSummary[]>;
  decide(applicationId: string, action: ApplicationAction, reason: string): ApplicationSummary | Promise<ApplicationSummary>;
  /** Newest first; every group's when `groupId` is undefined. */
  membershipHistory(groupId?: string): readonly MembershipEntry[] | Promise<readonly MembershipEntry[]>;
}

export interface DashboardOptions {
  /** Wall-clock time between two pushes on the live stream (default 500 ms). */
  readonly streamIntervalMs?: number;
  /** Wall-clock time between heartbeat comments on an idle stream (default 15 s). */
  readonly heartbeatMs?: number;
  /** Status points kept per group for the charts (default 900: 15 min at one status a second). */
  readonly historyPoints?: number;
}

export interface DashboardDeps {
  readonly core: DashboardCore;
  /** The simulated fleet, when this process runs one (feeder voltages come from its model). */
  readonly sim: Simulation | null;
  /** Feeders, sections and devices; without it (real devices only) there is no feeder view. */
  readonly fleet: FleetSpec | null;
  /** The protocol a DER is reached over (sunspec, dnp3, openfmb...), for grouping and display. */
  readonly protocolOf: (derId: string) => string;
  /** Customer services; the view says they are not enabled when absent. */
  readonly services?: DashboardServices | undefined;
  readonly options?: DashboardOptions | undefined;
}
