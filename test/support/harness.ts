import { Aggregator } from '../../src/core/aggregator.js';
import { TelemetryHub } from '../../src/core/hub.js';
import type { DerInput } from '../../src/core/model/der.js';
import { Registry } from '../../src/core/registry.js';
import { DispatchTracker, type TrackerOptions } from '../../src/core/tracker.js';
import type { DispatchEvent } from '../../src/core/dispatch-events.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import type { DeviceCapabilities } from '../../src/core/ports.js';
import { allFunctions, sample } from './fixtures.js';
import { TestDevice } from './test-device.js';
import type { TelemetrySample } from '../../src/core/model/telemetry.js';

/** The whole core wired in virtual time, with one TestDevice per DER. */
export function coreHarness(ders: DerInput[], opts: { tracker?: TrackerOptions; caps?: Record<string, Partial<DeviceCapabilities>> } = {}) {
  const clock = new VirtualClock(Date.UTC(2026, 5, 1, 12));
  const registry = new Registry();
  const aggregator = new Aggregator(registry, clock, { statusIntervalMs: 1000, pollPeriodMs: 1000, staleAfterPolls: 3 }).start();
  const hub = new TelemetryHub(aggregator);
  const tracker = new DispatchTracker(registry, aggregator, hub, clock, opts.tracker);
  const devices = new Map<string, TestDevice>();
  for (const d of ders) {
    registry.addDer(d);
    const dev = new TestDevice(d.mRID, opts.caps?.[d.mRID]);
    devices.set(d.mRID, dev);
    hub.attach(dev);
  }
  registry.createGroup({ mRID: 'g', names: ['G1'], functions: allFunctions, members: ders.map((d) => d.mRID) });
  const events: DispatchEvent[] = [];
  tracker.events$.subscribe((e) => events.push(e));
  const dev = (id: string): TestDevice => devices.get(id)!;
  /** Each device reports: available `avail` W (fn of id), output = its last active-power setpoint. */
  const report = (avail: (id: string) => Partial<TelemetrySample>): void => {
    for (const [id, d] of devices) {
      if (d.mode === 'hang' && d.received.length > 0) continue;
      const a = avail(id);
      const last = d.last('activePower');
      const w = last && last.kind === 'activePower' ? last.w : (a.w ?? 0);
      d.telemetry$.next(sample(id, clock.now(), { ...a, w }));
    }
  };
  return { clock, registry, aggregator, hub, tracker, devices, dev, events, report };
}
