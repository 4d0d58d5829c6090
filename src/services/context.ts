import type { DermsStore } from '../store/store.js';
import type { CoreTarget } from './core-writer.js';
import type { Notifier } from './notify.js';
import type { Probe } from './probe.js';
import type { Scope } from './scope.js';

export interface CustomerServicesDeps extends CoreTarget {
  readonly store: DermsStore;
  /** Hand-over check for tariffs that require monitoring or control (see probe.ts). */
  readonly probe: Probe;
  /** Time for notifications and running dispatches; the system clock by default. */
  readonly clock?: { now(): number };
}

/** What every part of customer services works with. */
export interface ServiceContext {
  readonly store: DermsStore;
  readonly deps: CustomerServicesDeps;
  now(): number;
  readonly scope: Scope;
  readonly notify: Notifier;
}
