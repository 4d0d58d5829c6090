import type { Aggregator } from '../core/aggregator.js';
import { DermsError } from '../core/errors.js';
import { forecastGroup, type ForecastMember, type GroupForecast, type PerformanceRatioTracker, type RatioSource, type StorageAssumptions } from '../core/forecast.js';
import type { DerGroup } from '../core/model/group.js';
import type { TelemetrySample } from '../core/model/telemetry.js';
import type { Clock } from '../core/ports.js';
import type { Registry } from '../core/registry.js';
import type { Site } from '../core/solar.js';
import type { AdapterLookup, DispatchTracker } from '../core/tracker.js';

/** Group forecasts for DERGroupForecasts (queries and periodic pushes). */
export interface GroupForecaster {
  /** Forecast of `group` over `count` intervals of `intervalMs` from `start`, made at `now`. */
  forecast(group: DerGroup, start: number, intervalMs: number, count: number, now: number): GroupForecast;
}

/**
 * The core parts the CIM facade drives, built by whoever runs the DERMS (`derms start`, tests,
 * benchmarks). All share one clock.
 */
export interface CimSystem {
  readonly clock: Clock;
  readonly registry: Registry;
  readonly aggregator: Aggregator;
  readonly tracker: DispatchTracker;
  /** Adapters by DER (the TelemetryHub), for connect/disconnect addressed to single devices. */
  readonly adapters: AdapterLookup;
  /** Without one, forecast queries answer 5.7 and no forecasts are pushed. */
  readonly forecaster?: GroupForecaster | undefined;
}

export interface CoreForecasterOptions {
  readonly registry: Registry;
  readonly aggregator: Aggregator;
  /** Learned performance ratios (a PerformanceRatioTracker fed by `ratioLearner`). */
  readonly ratios: RatioSource;
  /** Where each DER stands; a member without a site makes the forecast unavailable. */
  readonly siteOf: (derId: string) => Site | undefined;
  readonly storage?: StorageAssumptions | undefined;
}

/** The core forecaster over the registry's members, their latest samples (SoC) and sites. */
export function coreForecaster(o: CoreForecasterOptions): GroupForecaster {
  return {
    forecast(group, start, intervalMs, count, now) {
      const members: ForecastMember[] = [];
      for (const id of group.members) {
        const der = o.registry.der(id);
        if (!der) continue;
        const site = o.siteOf(id);
        if (!site) throw new DermsError('UNAVAILABLE', `no site is known for DER ${id}, so group ${group.mRID} cannot be forecast`);
        members.push({ der, site, sample: o.aggregator.view(id)?.sample });
      }
      return forecastGroup({ members, tracker: o.ratios, start, intervalMs, count, now, storage: o.storage });
    },
  };
}

/** A sink for accepted telemetry that teaches `tracker` each PV DER's performance ratio. */
export function ratioLearner(registry: Registry, siteOf: (derId: string) => Site | undefined, tracker: PerformanceRatioTracker): (s: TelemetrySample) => void {
  return (s) => {
    const der = registry.der(s.derId);
    const site = der && siteOf(s.derId);
    if (der && site) tracker.observe(der, site, s);
  };
}
