import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../src/core/aggregator.js';
import { TelemetryHub } from '../../src/core/hub.js';
import { Registry } from '../../src/core/registry.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { pv, sample } from '../support/fixtures.js';
import { TestDevice } from '../support/test-device.js';

describe('TelemetryHub', () => {
  it('feeds attached adapters into the aggregator, replaces and detaches them', () => {
    const clock = new VirtualClock(5000);
    const registry = new Registry();
    registry.addDer(pv('a'));
    registry.createGroup({ mRID: 'g', members: ['a'] });
    const agg = new Aggregator(registry, clock);
    const hub = new TelemetryHub(agg);
    const first = new TestDevice('a');
    hub.attach(first);
    first.telemetry$.next(sample('a', 5000, { w: 100 }));
    expect(agg.status('g')!.activePowerW).toBe(100);

    const second = new TestDevice('a');
    hub.attach(second); // replaces the first: its samples no longer count
    first.telemetry$.next(sample('a', 5001, { w: 999 }));
    second.telemetry$.next(sample('a', 5002, { w: 200 }));
    expect(agg.status('g')!.activePowerW).toBe(200);
    expect(hub.adapter('a')).toBe(second);

    second.link$.next('offline');
    expect(agg.status('g')!.members.offline).toBe(1);
    second.telemetry$.next(sample('a', 5003, { w: 300 }));
    expect(agg.status('g')!.members.reporting).toBe(1);

    hub.detach('a');
    second.telemetry$.next(sample('a', 5004, { w: 400 }));
    expect(agg.status('g')!.members.offline).toBe(1);
    expect(hub.adapter('a')).toBeUndefined();
    expect(hub.all()).toEqual([]);
  });
});
