import { Aggregator, type AggregatorOptions } from '../core/aggregator.js';
import { TelemetryHub } from '../core/hub.js';
import { Registry } from '../core/registry.js';
import { DispatchTracker, type TrackerOptions } from '../core/tracker.js';
import type { VirtualClock } from '../core/virtual-clock.js';

/** The reactive core, wired: registry -> aggregator (status) <- hub (adapters); tracker (dispatch). */
export interface CoreParts {
  readonly clock: VirtualClock;
  readonly registry: Registry;
  readonly aggregator: Aggregator;
  readonly hub: TelemetryHub;
  readonly tracker: DispatchTracker;
  /** Stop the core's streams (adapters are closed by whoever opened them). */
  stop(): void;
}

export interface CoreOptions {
  readonly aggregator?: AggregatorOptions;
  readonly tracker?: TrackerOptions;
}

/** Defaults for devices polled once a second: status at most once a second, stale after 3 missed polls. */
const AGGREGATOR_DEFAULTS: AggregatorOptions = { statusIntervalMs: 1000, pollPeriodMs: 1000, staleAfterPolls: 3 };

export function buildCore(clock: VirtualClock, o: CoreOptions = {}): CoreParts {
  const registry = new Registry();
  const aggregator = new Aggregator(registry, clock, { ...AGGREGATOR_DEFAULTS, ...o.aggregator }).start();
  const hub = new TelemetryHub(aggregator);
  const tracker = new DispatchTracker(registry, aggregator, hub, clock, { applyTimeoutMs: 3000, ...o.tracker });
  return {
    clock,
    registry,
    aggregator,
    hub,
    tracker,
    stop() {
      tracker.stop();
      aggregator.stop();
      hub.stop();
    },
  };
}
