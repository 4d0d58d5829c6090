import { afterEach, describe, expect, it } from 'vitest';
import { InProcessAdapter } from '../../src/adapters/in-process.js';
import { createCimServer } from '../../src/cim-api/server.js';
import type { CimSystem } from '../../src/cim-api/system.js';
import { DEMO_FLEET } from '../../src/cli/demo.js';
import { runDms } from '../../src/cli/dms-commands.js';
import { Aggregator } from '../../src/core/aggregator.js';
import { TelemetryHub } from '../../src/core/hub.js';
import { Registry } from '../../src/core/registry.js';
import { DispatchTracker } from '../../src/core/tracker.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { Simulation } from '../../src/sim/engine.js';
import { loadFleetFile } from '../../src/sim/fleet-file.js';
import { InProcessLink } from '../../src/sim/in-process-link.js';
import { until } from './support.js';

/**
 * End to end over real HTTP on 127.0.0.1: `derms dms` creates a group over simulated inverters
 * and dispatches it; `derms dms listen` receives the DERMS's status events and sees the group
 * reach the target. The fleet and the core run on a virtual clock the test advances.
 */

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

interface StatusEvent {
  kind: string;
  noun: string;
  payload: { DERGroupStatuses?: { EndDeviceGroup: { mRID: string; DERMonitorableParameter: { DERParameter: string; DERCurveData: { nominalYValue: string } }[] } } };
}

describe('derms dms against the CIM server on the simulated fleet', () => {
  it('creates a group, dispatches it, and the DMS listener sees the group reach the target', async () => {
    const spec = await loadFleetFile(DEMO_FLEET);
    const clock = new VirtualClock(spec.clock.start);
    const sim = new Simulation(spec);
    const simSub = sim.attach(clock);
    const registry = new Registry();
    const aggregator = new Aggregator(registry, clock, { statusIntervalMs: 1000, pollPeriodMs: 1000, staleAfterPolls: 3 }).start();
    const hub = new TelemetryHub(aggregator);
    const tracker = new DispatchTracker(registry, aggregator, hub, clock, { applyTimeoutMs: 3000 });
    for (const d of spec.devices) {
      registry.addDer({ mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: { protocol: 'in-process', device: d.id } });
      hub.attach(new InProcessAdapter(d.id, new InProcessLink(sim.device(d.id)), clock, { pollPeriodMs: 1000, timeoutMs: 3000 }));
    }
    closers.push(async () => {
      simSub.unsubscribe();
      tracker.stop();
      aggregator.stop();
      hub.stop();
    });
    const pvIds = spec.devices.filter((d) => d.kind === 'pv' && d.feeder === 'feeder-a').map((d) => d.id).slice(0, 8);
    expect(pvIds.length).toBeGreaterThanOrEqual(4);

    // The DMS listens first; the DERMS pushes to it.
    const ac = new AbortController();
    const notices: string[] = [];
    const events: StatusEvent[] = [];
    const listening = runDms(['listen', '--port', '0', '--json'], { out: (l) => events.push(JSON.parse(l) as StatusEvent), err: (l) => notices.push(l), signal: ac.signal });
    closers.push(async () => {
      ac.abort();
      await listening;
    });
    await until(() => notices.length > 0, 5000, 'the listener');
    const dmsUrl = /at (http:\/\/\S+)\/ /.exec(notices[0]!)![1]!;

    const system: CimSystem = { clock, registry, aggregator, tracker, adapters: hub };
    const server = createCimServer(system, { push: { endpoints: [{ url: `${dmsUrl}/dms` }], statusPeriodMs: 10_000, statusChange: { minDelta: 200, minDeltaFraction: 0, minIntervalMs: 2000 } } });
    const base = await server.listen();
    closers.push(() => server.close());
    const replies: string[] = [];
    const dms = (...argv: string[]) => runDms(['--url', `${base}/cim`, ...argv], { out: (l) => replies.push(l), err: () => undefined });

    await dms('create-group', 'E2E-PV', '--members', pvIds.join(','), '--functions', 'realPowerDispatch,reactivePowerDispatch', '--mrid', 'e2e-group');
    expect(replies.at(-1)).toContain('<msg:Result>OK</msg:Result>');
    expect(registry.group('e2e-group')!.members).toEqual(pvIds);

    // Let the devices report, then aim at 60 % of what the group can give now.
    const tick = async (seconds: number): Promise<void> => {
      for (let i = 0; i < seconds; i++) {
        await clock.advanceBy(1000);
        await new Promise((r) => setImmediate(r));
      }
    };
    await tick(5);
    const before = aggregator.status('e2e-group')!;
    expect(before.members.reporting).toBe(pvIds.length);
    const targetW = Math.round(0.6 * before.availableMaxW);
    const targetKw = targetW / 1000;
    await dms('--json', 'dispatch', 'E2E-PV', '--parameter', 'activePower', '--values', String(targetKw), '--multiplier', 'k', '--start', new Date(clock.now()).toISOString(), '--interval', '1h', '--mrid', 'e2e-dispatch');
    expect(JSON.parse(replies.at(-1)!)).toMatchObject({ Reply: { Result: 'OK' } });
    expect(tracker.record('e2e-dispatch')).toMatchObject({ state: 'active', value: targetW });

    await tick(60);
    const kw = (e: StatusEvent): number | undefined => {
      const g = e.payload.DERGroupStatuses?.EndDeviceGroup;
      const p = g?.DERMonitorableParameter.find((x) => x.DERParameter === 'activePower');
      return p ? Number(p.DERCurveData.nominalYValue) : undefined;
    };
    const near = (e: StatusEvent): boolean => e.kind === 'ChangedDERGroupStatuses' && Math.abs(kw(e)! - targetKw) <= Math.max(0.05 * targetKw, 0.1);
    await until(() => events.some(near), 10_000, 'a status event at the target');
    const statuses = events.filter((e) => e.kind === 'ChangedDERGroupStatuses');
    // Before the dispatch the group produced more than the target; the events show it come down.
    expect(kw(statuses[0]!)).toBeGreaterThan(targetKw * 1.1);
    expect(kw(statuses.at(-1)!)).toBeCloseTo(targetKw, 0);
    expect(events[0]!.kind).toBe('CreatedDERGroups');
    expect(server.stats().outbox.dropped).toBe(0);

    // And the DMS reads the same from a status query.
    await dms('--json', 'status', 'E2E-PV');
    const st = JSON.parse(replies.at(-1)!) as { Payload: { DERGroupStatuses: { EndDeviceGroup: { DERMonitorableParameter: { DERCurveData: { nominalYValue: number } }[] }[] } } };
    expect(st.Payload.DERGroupStatuses.EndDeviceGroup[0]!.DERMonitorableParameter[0]!.DERCurveData.nominalYValue).toBeCloseTo(targetKw, 0);
  }, 60_000);
});
