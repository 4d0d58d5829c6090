import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SunSpecAdapter } from '../../src/adapters/sunspec/adapter.js';
import { parseModbusUrl } from '../../src/protocols/modbus-url.js';
import { adapterProbe, probeByProtocol, tcpProbe } from '../../src/services/probe.js';
import { topics, type CustomerNotification } from '../../src/services/topics.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { SunSpecServers } from '../../src/sim/sunspec/server.js';
import { noonSky, pvSpec } from '../sim/sim-fixtures.js';
import { storeBackends } from '../store/backends.js';
import { pvInput, world, type World } from './world.js';

const dir = mkdtempSync(join(tmpdir(), 'derms-flows-'));
let n = 0;
const backends = storeBackends(() => join(dir, `flows-${++n}.db`));

/** A simulated inverter served over SunSpec Modbus TCP: a DER that really answers on its endpoint. */
async function servedInverter(id: string) {
  const d = new SimInverter(pvSpec(id), 1);
  for (let i = 1; i <= 5; i++) d.step(Date.UTC(2026, 5, 21, 18) + i * 1000, 1, noonSky, 240, 60);
  const servers = await SunSpecServers.start([{ device: d, profile: '700', mode: 'port' }]);
  const ep = servers.endpoints()[0]!;
  return { servers, endpoint: { protocol: 'sunspec-tcp' as const, host: ep.host, port: ep.port, unitId: ep.unit } };
}

/** The hand-over check a deployment uses: read the device through its real adapter. */
const sunspecProbe = probeByProtocol({
  'sunspec-tcp': adapterProbe(
    (der) => {
      const e = der.endpoint as { host: string; port: number; unitId: number };
      return new SunSpecAdapter(der.mRID, parseModbusUrl(`modbus-tcp://${e.host}:${e.port}?unit=${e.unitId}`), asyncScheduler, { pollPeriodMs: 100, requestTimeoutMs: 1000 });
    },
    asyncScheduler,
    { timeoutMs: 1500 },
  ),
  dnp3: tcpProbe({ timeoutMs: 500 }),
});

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.each(backends)('customer services flows on $name', (backend) => {
  const up = async (): Promise<World> => {
    const w = await world((o) => backend.open(o), { probe: sunspecProbe });
    cleanup.push(() => w.close());
    return w;
  };

  it.skipIf(!backend.available)('A-B-C: registration, engineering review, installation check, hand-over to the DERMS, each step notified', async () => {
    const w = await up();
    const { servers, endpoint } = await servedInverter('pv-elm-12');
    cleanup.push(() => servers.close());
    const alice = await w.customer('Alice Elm');
    const { users, must } = w;

    // A: the customer registers its DER and picks the flexibility tariff.
    const submitted = await must(alice.call('POST', '/api/applications', {
      tariffId: 'flex',
      servicePoint: { address: '12 Elm St', feederId: 'feeder-a', phase: 'B' },
      der: { ...pvInput(7600, endpoint), mRID: 'pv-elm-12' },
    }));
    expect(submitted.acknowledgement).toMatchObject({ state: 'submitted' });
    const appId: string = submitted.application.id;
    expect(submitted.der).toMatchObject({ customerId: alice.id, managed: false, providerOrgId: null });

    // B: support sends it to engineering; engineering checks the feeder and approves.
    await must(users.support('POST', `/api/applications/${appId}/review`));
    const hosting = await must(users.engineering('GET', `/api/applications/${appId}/hosting-capacity`));
    expect(hosting).toMatchObject({ feederId: 'feeder-a', hostingLimitW: 30_000, committedW: 0, derRatingW: 7600, fits: true });
    const approved = await must(users.engineering('POST', `/api/applications/${appId}/decision`, { decision: 'approve' }));
    expect(approved.application.state).toBe('approved');
    expect(approved.workOrder.checklist.join('\n')).toMatch(/reports telemetry .* sunspec-tcp/);
    expect(w.registry!.registry.der('pv-elm-12')).toBeUndefined();

    // The crew verifies the installation against the tariff.
    const verified = await must(users.engineering('POST', `/api/work-orders/${approved.workOrder.id}/complete`, { result: 'passed', notes: 'as registered' }));
    expect(verified.application.state).toBe('installation-verified');

    // C: the DER answers through its SunSpec adapter, so it is handed over to the DERMS.
    const connected = await must(users.support('POST', `/api/applications/${appId}/connect`));
    expect(connected.application.state).toBe('connected');
    expect(connected.probe).toBe('answered on sunspec-tcp');
    expect(w.registry!.registry.der('pv-elm-12')?.nameplate.maxW).toBe(7600);
    expect((await w.store.loadDers()).map((d) => d.mRID)).toEqual(['pv-elm-12']);

    // Who moved it and when, in order.
    const detail = await must(alice.call('GET', `/api/applications/${appId}`));
    expect(detail.history.map((h: { to: string }) => h.to)).toEqual(['submitted', 'under-review', 'approved', 'installation-verified', 'connected']);
    expect(detail.history.every((h: { byUserId: string | null; at: number }) => typeof h.byUserId === 'string' && h.at > 0)).toBe(true);

    // The customer was told at each step, last that the request is complete.
    const told = (await w.store.outbox.list({ topic: topics.customer })).map((m) => m.payload as CustomerNotification);
    expect(told.map((m) => m.kind)).toEqual(['application-received', 'application-under-review', 'application-approved', 'installation-verified', 'connected']);
    expect(told.every((m) => m.customerId === alice.id)).toBe(true);
    expect(told.at(-1)!.message).toMatch(/request is complete/);
  });

  it.skipIf(!backend.available)('C: a DER that does not answer on its endpoint is not handed over, and nothing changes', async () => {
    const w = await up();
    const { servers, endpoint } = await servedInverter('pv-gone');
    await servers.close(); // the device is gone: nothing listens on its port any more
    const bob = await w.customer('Bob');
    const { users, must } = w;
    const s = await must(users.support('POST', '/api/applications', { customerId: bob.id, tariffId: 'flex', servicePoint: { address: '3 Oak St', feederId: 'feeder-a', phase: 'A' }, der: { ...pvInput(5000, endpoint), mRID: 'pv-gone' } }));
    await must(users.support('POST', `/api/applications/${s.application.id}/review`));
    const a = await must(users.engineering('POST', `/api/applications/${s.application.id}/decision`, { decision: 'approve' }));
    await must(users.engineering('POST', `/api/work-orders/${a.workOrder.id}/complete`, { result: 'passed' }));
    const outbox = (await w.store.outbox.list()).length;

    const r = await users.support('POST', `/api/applications/${s.application.id}/connect`);
    expect(r.status).toBe(503);
    expect(r.body.error.message).toMatch(/pv-gone .* did not answer on its endpoint/);
    expect((await must(users.support('GET', `/api/applications/${s.application.id}`))).application.state).toBe('installation-verified');
    expect(w.registry!.registry.der('pv-gone')).toBeUndefined();
    expect((await w.store.ders.require('pv-gone')).managed).toBe(false);
    expect((await w.store.outbox.list()).length).toBe(outbox);
  });

  it.skipIf(!backend.available)('B: hosting capacity counts what is connected and approved; a DER that does not fit is held, then approved after the feeder is upgraded', async () => {
    const w = await up();
    const { users, must } = w;
    const c = await w.customer('Carol');
    // 30 kW feeder: 12 kW connected (basic tariff, no probe), 10 kW approved, leaves 8 kW.
    await w.connectedDer(c.id, pvInput(9000), { tariffId: 'basic', feederId: 'feeder-a' });
    await w.connectedDer(c.id, pvInput(3000), { tariffId: 'basic', feederId: 'feeder-a' });
    const approvedOnly = await must(users.support('POST', '/api/applications', { customerId: c.id, tariffId: 'basic', servicePoint: { address: '9 Pine', feederId: 'feeder-a', phase: 'C' }, der: pvInput(10_000) }));
    await must(users.support('POST', `/api/applications/${approvedOnly.application.id}/review`));
    await must(users.engineering('POST', `/api/applications/${approvedOnly.application.id}/decision`, { decision: 'approve' }));

    const big = await must(users.support('POST', '/api/applications', { customerId: c.id, tariffId: 'flex', servicePoint: { address: '9 Pine', feederId: 'feeder-a', phase: 'C' }, der: pvInput(9500) }));
    const id = big.application.id;
    await must(users.support('POST', `/api/applications/${id}/review`));
    expect(await must(users.engineering('GET', `/api/applications/${id}/hosting-capacity`))).toMatchObject({ hostingLimitW: 30_000, committedW: 22_000, committedDers: 3, availableW: 8000, derRatingW: 9500, fits: false });

    const refused = await users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'approve' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/feeder feeder-a has 8000 W of hosting capacity left .* rated 9500 W/);
    const held = await must(users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'hold', reason: 'transformer upgrade T-17 needed' }));
    expect(held.application).toMatchObject({ state: 'held-for-upgrade', reason: 'transformer upgrade T-17 needed' });

    // The network upgrade: the feeder's limit is raised and the held application is listed for re-review.
    const upgraded = await must(users.engineering('PUT', '/api/feeders/feeder-a', { name: 'Feeder A', hostingLimitW: 40_000 }));
    expect(upgraded.heldApplications).toEqual([id]);
    const ok = await must(users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'approve', reason: 'after upgrade T-17' }));
    expect(ok.hosting).toMatchObject({ availableW: 18_000, fits: true });
  });

  it.skipIf(!backend.available)('B: two approvals racing for the last of a feeder\'s capacity: one wins, the other is refused', async () => {
    const w = await up();
    const { users, must } = w;
    const c = await w.customer('Rae');
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = await must(users.support('POST', '/api/applications', { customerId: c.id, tariffId: 'flex', servicePoint: { address: `${i} Race St`, feederId: 'feeder-a', phase: 'A' }, der: pvInput(18_000) }));
      await must(users.support('POST', `/api/applications/${s.application.id}/review`));
      ids.push(s.application.id);
    }
    const results = await Promise.all(ids.map((id) => users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'approve' })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(results.find((r) => r.status === 409)!.body.error.message).toMatch(/has 12000 W of hosting capacity left/);
    expect((await w.store.feeders.committedW('feeder-a')).w).toBe(18_000);
  });

  it.skipIf(!backend.available)('B: a failed installation check keeps the application approved; as-built ratings outside the tariff cannot pass', async () => {
    const w = await up();
    const { users, must } = w;
    const c = await w.customer('Dan');
    const s = await must(users.support('POST', '/api/applications', { customerId: c.id, tariffId: 'basic', servicePoint: { address: '1 Birch', feederId: 'feeder-b', phase: 'A' }, der: pvInput(8000) }));
    const id = s.application.id;
    await must(users.support('POST', `/api/applications/${id}/review`));
    const a = await must(users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'approve' }));

    const tooBig = await users.engineering('POST', `/api/work-orders/${a.workOrder.id}/complete`, { result: 'passed', asBuilt: { nameplate: pvInput(12_000).nameplate } });
    expect(tooBig.status).toBe(409);
    expect(tooBig.body.error.message).toMatch(/does not meet tariff basic: export rating 12000 W exceeds .* 10000 W; record the work order as failed/);

    const failed = await must(users.engineering('POST', `/api/work-orders/${a.workOrder.id}/complete`, { result: 'failed', notes: 'inverter is 12 kW, not 8 kW' }));
    expect(failed.workOrder.state).toBe('failed');
    expect(failed.application.state).toBe('approved');
    expect((await users.engineering('POST', `/api/work-orders/${a.workOrder.id}/complete`, { result: 'passed' })).status).toBe(409);

    const again = await must(users.engineering('POST', `/api/applications/${id}/work-orders`));
    const passed = await must(users.engineering('POST', `/api/work-orders/${again.id}/complete`, { result: 'passed', asBuilt: { nameplate: pvInput(7000).nameplate } }));
    expect(passed.application.state).toBe('installation-verified');
    expect(passed.der.der.nameplate.maxW).toBe(7000);
    expect(passed.der.ratedW).toBe(7000);
  });

  it.skipIf(!backend.available)('conflicting transitions are refused with the reason', async () => {
    const w = await up();
    const { users, must } = w;
    const c = await w.customer('Eve');
    const s = await must(users.support('POST', '/api/applications', { customerId: c.id, tariffId: 'basic', servicePoint: { address: '5 Ash', feederId: 'feeder-b', phase: 'A' }, der: pvInput(4000) }));
    const id = s.application.id;
    // Not reviewed yet: engineering cannot approve, support cannot connect.
    const early = await users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'approve' });
    expect(early.status).toBe(409);
    expect(early.body.error.message).toBe(`cannot approve application ${id}: it is submitted; only under-review or held-for-upgrade can be`);
    await must(users.support('POST', `/api/applications/${id}/review`));
    await must(users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'reject', reason: 'no anti-islanding certificate' }));
    const late = await users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'approve' });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/it is rejected \(no anti-islanding certificate\)/);
    expect((await users.support('POST', `/api/applications/${id}/connect`)).status).toBe(409);
    expect((await c.call('POST', `/api/applications/${id}/withdraw`, { reason: 'changed my mind' })).status).toBe(409);
    expect((await must(users.support('GET', `/api/applications/${id}`))).agreement.endedAt).not.toBeNull();
  });
});
