import type { GroupVersion } from './model/group.js';

/** Aggregated state of one DER group at one moment, in SI units (generation positive). */
export interface GroupStatus {
  readonly groupId: string;
  readonly version: GroupVersion;
  /** Clock time at which this status was computed. */
  readonly at: number;
  /** Newest member measurement time seen, or null before the first sample. */
  readonly newestSampleAt: number | null;
  readonly activePowerW: number;
  readonly reactivePowerVar: number;
  /** Nameplate range of all members, whatever their state. */
  readonly installedMaxW: number;
  readonly installedMinW: number;
  readonly installedMaxVar: number;
  readonly installedMinVar: number;
  /** What reporting members can reach now; stale and offline members count as unavailable. */
  readonly availableMaxW: number;
  readonly availableMinW: number;
  readonly headroomUpW: number;
  readonly headroomDownW: number;
  readonly availableMaxVar: number;
  readonly availableMinVar: number;
  readonly headroomUpVar: number;
  readonly headroomDownVar: number;
  /** Storage members only; null when the group has none. */
  readonly storage: {
    readonly installedCapacityWh: number;
    /** Capacity of the storage members that report SoC now. */
    readonly reportingCapacityWh: number;
    readonly storedEnergyWh: number;
    /** Energy-weighted state of charge of reporting storage, percent; null when none report. */
    readonly socPct: number | null;
  } | null;
  readonly members: {
    readonly total: number;
    readonly reporting: number;
    readonly stale: number;
    readonly offline: number;
    /** Reporting, but disconnected from the grid. */
    readonly disconnected: number;
  };
  /** Samples from members that were dropped as implausible since the group was created. */
  readonly droppedSamples: number;
}
