import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessAdapter } from '../../src/adapters/in-process.js';
import { buildCore } from '../../src/app/core.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { DispatchRecorder } from '../../src/services/dispatch-recorder.js';
import { EnergyRollups } from '../../src/services/energy-rollups.js';
import { adapterProbe } from '../../src/services/probe.js';
import { Simulation } from '../../src/sim/engine.js';
import { parseFleetYaml } from '../../src/sim/fleet-file.js';
import { InProcessLink } from '../../src/sim/in-process-link.js';
import { DurableRegistry } from '../../src/store/durable-registry.js';
import { storeBackends } from '../store/backends.js';
import { batteryInput, world, type Reply, type World } from './world.js';

const dir = mkdtempSync(join(tmpdir(), 'derms-settle-'));
let n = 0;
const backends = storeBackends(() => join(dir, `settle-${++n}.db`));

const FLEET = `
name: settlement
seed: 3
clock: { start: 2026-06-21T18:00:00Z, mode: fast }
feeders:
  - id: feeder-b
    generate: { sections: 2, rOhmPerSection: 0.002, xOhmPerSection: 0.0025, loadPeakWPerSection: 20000 }
devices:
  - { id: bat-1, kind: battery, feeder: feeder-b, section: s002, nameplate: { maxW: 5000, energyCapacityWh: 13500 }, battery: { initialSocPct: 80 }, protocol: in-process }
  - { id: bat-2, kind: battery, feeder: feeder-b, section: s002, nameplate: { maxW: 5000, energyCapacityWh: 13500 }, battery: { initialSocPct: 80 }, protocol: in-process }
  - { id: bat-3, kind: battery, feeder: feeder-b, section: s001, nameplate: { maxW: 5000, energyCapacityWh: 13500 }, battery: { initialSocPct: 80 }, protocol: in-process }
`;

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.each(backends)('participation, statements and invoices on $name', (backend) => {
  it.skipIf(!backend.available)('a third party\'s group is dispatched by the core: per DER and per dispatch, energy requested vs delivered from telemetry, the customer statement and the invoice to the DSO', async () => {
    const spec = parseFleetYaml(FLEET, 'settlement');
    const clock = new VirtualClock(spec.clock.start);
    const sim = new Simulation(spec);
    cleanup.push(() => simSub.unsubscribe());
    const simSub = sim.attach(clock);
    const core = buildCore(clock);
    cleanup.push(() => core.stop());
    const open = (id: string) => new InProcessAdapter(id, new InProcessLink(sim.device(id)), clock, { pollPeriodMs: 1000, timeoutMs: 3000 });
    const w: World = await world((o) => backend.open(o), {
      // Hand-over check: the DER must deliver a sample through its own adapter.
      probe: adapterProbe((der) => open(der.mRID), clock, { timeoutMs: 5000 }),
      clock,
      registry: (store) => new DurableRegistry(core.registry, store),
    });
    cleanup.push(() => w.close());
    const { users, must } = w;
    /** Requests that wait on the simulated clock (the hand-over probe) are driven by advancing it. */
    const driven = async (p: Promise<Reply>): Promise<Reply> => {
      let done = false;
      void p.finally(() => (done = true));
      while (!done) {
        await clock.advanceBy(500);
        await new Promise((r) => setImmediate(r));
      }
      return p;
    };

    const ann = await w.customer('Ann', 'sunrise');
    const bob = await w.customer('Bob', 'sunrise');
    const owners: Record<string, string> = { 'bat-1': ann.id, 'bat-2': ann.id, 'bat-3': bob.id };
    for (const id of ['bat-1', 'bat-2', 'bat-3']) {
      const s = await must(users.sunrise('POST', '/api/applications', { customerId: owners[id], tariffId: 'flex', servicePoint: { address: `${id} Main St`, feederId: 'feeder-b', phase: 'A' }, der: { ...batteryInput(5000, { protocol: 'in-process', device: id }), mRID: id } }));
      await must(users.support('POST', `/api/applications/${s.application.id}/review`));
      const a = await must(users.engineering('POST', `/api/applications/${s.application.id}/decision`, { decision: 'approve' }));
      await must(users.engineering('POST', `/api/work-orders/${a.workOrder.id}/complete`, { result: 'passed' }));
      const c = await driven(users.support('POST', `/api/applications/${s.application.id}/connect`));
      expect(c.status).toBe(200);
    }
    const req = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'vpp', functions: { realPowerDispatch: true }, members: ['bat-1', 'bat-2', 'bat-3'] }, tariffId: 'flex' }));
    await must(users.support('POST', `/api/group-requests/${req.id}/approve`));

    // The running system: adapters feed the core, the rollups and the dispatch log.
    const rollups = new EnergyRollups(w.store, { intervalMs: 60_000, maxGapMs: 5000 });
    const recorder = new DispatchRecorder(w.store);
    const recording = recorder.attach(core.tracker.events$);
    cleanup.push(() => recording.unsubscribe());
    for (const id of ['bat-1', 'bat-2', 'bat-3']) {
      const a = open(id);
      core.hub.attach(a);
      const sub = rollups.attach(a.telemetry$);
      cleanup.push(() => sub.unsubscribe());
    }
    await clock.advanceBy(60_000);
    const start = clock.now() + 60_000;
    // 6 kW for 15 minutes: 1.5 kWh over three batteries.
    core.tracker.submit({
      mRID: 'evening-peak',
      groupId: 'vpp',
      control: { kind: 'activePower', unit: 'W' },
      schedule: { start, intervalDuration: 15, intervalUnit: 'm', curveStyle: 'constantYValue', points: [{ interval: 1, value: 6000 }] },
    });
    for (let t = 0; t < 20 * 60; t += 10) await clock.advanceBy(10_000);
    await rollups.flush(clock.now());
    await recorder.flush();
    const period = `from=${new Date(start - 3_600_000).toISOString()}&to=${new Date(start + 3_600_000).toISOString()}`;

    const d = await w.store.dispatches.get('evening-peak');
    expect(d).toMatchObject({ groupId: 'vpp', state: 'completed' });
    expect(d!.endedAt! - start).toBeGreaterThanOrEqual(15 * 60_000);

    // Per DER: each battery was asked about 2 kW for 15 minutes, 500 Wh, and delivered about that.
    const p1 = await must(users.sunrise('GET', `/api/ders/bat-1/participation?${period}`));
    expect(p1.currency).toBe('USD');
    expect(p1.dispatches).toHaveLength(1);
    const m1 = p1.dispatches[0];
    expect(m1).toMatchObject({ dispatchId: 'evening-peak', groupId: 'vpp', controlKind: 'activePower' });
    expect(m1.requestedWh).toBeCloseTo(500, -1);
    expect(m1.deliveredWh).toBeGreaterThan(0.9 * m1.requestedWh);
    expect(m1.deliveredWh).toBeLessThan(1.1 * m1.requestedWh);
    expect(m1.settledWh).toBeCloseTo(Math.min(m1.requestedWh, m1.deliveredWh), 6);
    expect(m1.amount).toBeCloseTo((m1.settledWh / 1000) * 0.25, 2);
    expect(m1.setpoints.applied).toBeGreaterThan(0);

    // The customer's statement: both of Ann's batteries, what they delivered and the credit; no group names.
    const statement = await must(ann.call('GET', `/api/customers/${ann.id}/statement?${period}`));
    expect(statement.ders.map((l: { derId: string }) => l.derId)).toEqual(['bat-1', 'bat-2']);
    expect(statement.ders[0].dispatches[0].groupId).toBeUndefined();
    expect(statement.ders[0].dispatches[0].deliveredWh).toBeCloseTo(m1.deliveredWh, 6);
    expect(statement.ders[0].producedWh).toBeGreaterThanOrEqual(m1.deliveredWh - 1e-6);
    expect(statement.totalCredit).toBeCloseTo(statement.ders[0].credit + statement.ders[1].credit, 2);
    expect(statement.currency).toBe('USD');

    // The invoice Sunrise sends the DSO: the group's energy at the tariff's rate, broken down per DER, agreement and customer.
    const invoice = await must(users.sunrise('GET', `/api/groups/vpp/invoice?${period}`));
    expect(invoice).toMatchObject({ groupId: 'vpp', ownerOrgId: 'sunrise', tariffId: 'flex', ratePerKWh: 0.25, currency: 'USD' });
    const [inv] = invoice.dispatches;
    expect(inv.requestedWh).toBeCloseTo(1500, -1);
    expect(inv.members.map((m: { derId: string; customerId: string }) => [m.derId, m.customerId])).toEqual([['bat-1', ann.id], ['bat-2', ann.id], ['bat-3', bob.id]]);
    expect(inv.members.every((m: { agreementId: string | null }) => typeof m.agreementId === 'string')).toBe(true);
    expect(inv.settledWh).toBeCloseTo(inv.members.reduce((s: number, m: { settledWh: number }) => s + m.settledWh, 0), 6);
    expect(invoice.totalAmount).toBeCloseTo((inv.settledWh / 1000) * 0.25, 2);
    const same = await must(users.support('GET', `/api/groups/vpp/invoice?${period}`));
    expect(same.totalAmount).toBe(invoice.totalAmount);

    // Nobody else sees these numbers.
    expect((await users.gridflex('GET', `/api/groups/vpp/invoice?${period}`)).status).toBe(404);
    expect((await bob.call('GET', `/api/customers/${ann.id}/statement?${period}`)).status).toBe(404);
    expect((await bob.call('GET', `/api/ders/bat-1/participation?${period}`)).status).toBe(404);
    expect((await users.engineering('GET', `/api/groups/vpp/invoice?${period}`)).status).toBe(403);
  });
});
