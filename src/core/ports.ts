import type { Observable, SchedulerLike } from 'rxjs';
import type { Der } from './model/der.js';
import type { DerGroup } from './model/group.js';
import type { ApplyOutcome, Setpoint, SetpointKind } from './model/setpoint.js';
import type { TelemetrySample } from './model/telemetry.js';

/**
 * Time for the core. An RxJS scheduler: `now()` in epoch ms, and timers that the simulator can
 * run faster than real time and tests can run in virtual time (see VirtualClock).
 */
export type Clock = SchedulerLike;

export interface DeviceCapabilities {
  /** Setpoint kinds the device accepts; others are rejected by the core before any write. */
  readonly setpoints: ReadonlySet<SetpointKind>;
  /** The device ramps to a new active-power value itself when given `rampTimeMs`. */
  readonly nativeRamp: boolean;
}

export type LinkState = 'online' | 'offline';

/**
 * One endpoint's connection to one DER, implemented per protocol in src/adapters. Adapters know
 * nothing of groups: they normalize wire readings into samples and wire-write setpoints.
 */
export interface DeviceAdapter {
  readonly derId: string;
  readonly telemetry$: Observable<TelemetrySample>;
  /** Connection state; `offline` makes the DER count as offline in group status. */
  readonly link$: Observable<LinkState>;
  capabilities(): DeviceCapabilities;
  /** Write one setpoint and report what the device did with it. Must not throw: failures are outcomes. */
  apply(setpoint: Setpoint): Promise<ApplyOutcome>;
  close(): Promise<void>;
}

/** Durable state. Implemented in src/store (SQLite embedded, PostgreSQL in production). */
export interface Store {
  loadDers(): Promise<Der[]>;
  saveDer(der: Der): Promise<void>;
  deleteDer(mRID: string): Promise<void>;
  loadGroups(): Promise<DerGroup[]>;
  saveGroup(group: DerGroup, reason: string): Promise<void>;
  deleteGroup(mRID: string, reason: string): Promise<void>;
  appendDispatchEvent(event: { dispatchId: string; at: number; type: string; body: unknown }): Promise<void>;
  close(): Promise<void>;
}
