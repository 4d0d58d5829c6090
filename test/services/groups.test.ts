import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { tcpProbe, probeByProtocol } from '../../src/services/probe.js';
import { topics, type CimGroupEvent, type ProviderNotification } from '../../src/services/topics.js';
import { ManualClock, storeBackends } from '../store/backends.js';
import { batteryInput, listeningEndpoint, pvInput, world, type World } from './world.js';

const dir = mkdtempSync(join(tmpdir(), 'derms-groups-'));
let n = 0;
const backends = storeBackends(() => join(dir, `groups-${++n}.db`));

// Every DER in these tests is a DNP3 outstation at one listening port: the hand-over probes it over TCP.
let outstation: Awaited<ReturnType<typeof listeningEndpoint>>;
let endpoint: Awaited<ReturnType<typeof listeningEndpoint>>['endpoint'];
beforeAll(async () => {
  outstation = await listeningEndpoint();
  endpoint = outstation.endpoint;
});
afterAll(() => outstation.close());

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const cimEvents = async (w: World) => (await w.store.outbox.list({ topic: topics.cimGroups })).map((m) => m.payload as CimGroupEvent);

describe.each(backends)('third parties and groups on $name', (backend) => {
  const clock = new ManualClock();
  const up = async (): Promise<World> => {
    const w = await world((o) => backend.open(o), { probe: probeByProtocol({ dnp3: tcpProbe({ timeoutMs: 1000 }) }), clock });
    cleanup.push(() => w.close());
    return w;
  };
  /** A provider's customer with connected batteries (registered by the provider, reviewed by the DSO). */
  const fleetOf = async (w: World, provider: 'sunrise' | 'gridflex', name: string, count: number) => {
    const c = await w.customer(name, provider);
    const ders: string[] = [];
    for (let i = 0; i < count; i++) ders.push((await w.connectedDer(c.id, { ...batteryInput(5000, endpoint), mRID: `${name.toLowerCase()}-bat-${i}` }, { by: w.users[provider] })).derId);
    return { customer: c, ders };
  };

  it.skipIf(!backend.available)('a provider registers its customers, forms a group under a tariff, and the DSO approves it: the group is in the DERMS and Operations is told', async () => {
    const w = await up();
    const { users, must } = w;
    const { ders: a } = await fleetOf(w, 'sunrise', 'Ann', 2);
    const { ders: b } = await fleetOf(w, 'sunrise', 'Ben', 1);
    expect((await must(users.sunrise('GET', '/api/ders'))).map((d: { der: { mRID: string } }) => d.der.mRID)).toEqual([...a, ...b]);
    expect(await must(users.gridflex('GET', '/api/ders'))).toEqual([]);

    const req = await must(users.sunrise('POST', '/api/group-requests', {
      kind: 'form',
      group: { mRID: 'sunrise-vpp-1', names: ['Sunrise VPP 1'], functions: { realPowerDispatch: true }, members: [...a, ...b] },
      tariffId: 'flex',
      reason: 'evening peak offer',
    }));
    expect(req).toMatchObject({ state: 'pending', reasons: [], kind: 'form', groupId: 'sunrise-vpp-1', orgId: 'sunrise' });
    expect(w.registry!.registry.group('sunrise-vpp-1')).toBeUndefined();

    const approved = await must(users.support('POST', `/api/group-requests/${req.id}/approve`));
    expect(approved.request.state).toBe('approved');
    const inCore = w.registry!.registry.group('sunrise-vpp-1')!;
    expect(inCore.members).toEqual([...a, ...b]);
    expect(inCore.functions.realPowerDispatch).toBe(true);
    expect(await must(users.sunrise('GET', '/api/groups/sunrise-vpp-1'))).toMatchObject({ ownerOrgId: 'sunrise', tariffId: 'flex', active: true });
    expect((await users.gridflex('GET', '/api/groups/sunrise-vpp-1')).status).toBe(404);

    const history = await must(users.sunrise('GET', '/api/groups/sunrise-vpp-1/membership-history'));
    expect(history.map((h: { action: string; derId: string; requestId: string }) => [h.action, h.derId, h.requestId])).toEqual([...a, ...b].map((d) => ['joined', d, req.id]));
    const [created] = await cimEvents(w);
    expect(created).toMatchObject({ verb: 'created', noun: 'DERGroups', groupId: 'sunrise-vpp-1', added: [...a, ...b], removed: [], requestId: req.id });
    const told = (await w.store.outbox.list({ topic: topics.provider })).map((m) => m.payload as ProviderNotification);
    expect(told.at(-1)).toMatchObject({ providerOrgId: 'sunrise', kind: 'group-request-decided', requestId: req.id, state: 'approved' });
  });

  it.skipIf(!backend.available)('requests that break the rules are recorded refused, with every reason', async () => {
    const w = await up();
    const { users, must } = w;
    const { ders: mine } = await fleetOf(w, 'sunrise', 'Cat', 1);
    const { ders: theirs } = await fleetOf(w, 'gridflex', 'Dov', 1);
    const cat = (await must(users.sunrise('GET', `/api/ders/${mine[0]}`))).customerId;
    // One DER only approved (not handed over), one under the net-metering tariff, one too big for "flex".
    const pending = await must(users.sunrise('POST', '/api/applications', { customerId: cat, tariffId: 'flex', servicePoint: { address: '4 Elm', feederId: 'feeder-b', phase: 'A' }, der: { ...batteryInput(5000, endpoint), mRID: 'cat-approved' } }));
    await must(users.support('POST', `/api/applications/${pending.application.id}/review`));
    await must(users.engineering('POST', `/api/applications/${pending.application.id}/decision`, { decision: 'approve' }));
    await w.connectedDer(cat, { ...pvInput(4000), mRID: 'cat-basic' }, { tariffId: 'basic', by: users.sunrise });

    const r = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'bad', members: [mine[0], 'cat-approved', 'cat-basic', theirs[0], 'nobody'] }, tariffId: 'flex' }));
    expect(r.state).toBe('refused');
    expect(r.reasons).toEqual([
      'DER cat-approved is approved but not yet handed over to the DERMS (approved)',
      'DER cat-basic is under tariff basic, not flex',
      `unknown DER ${theirs[0]}`,
      'unknown DER nobody',
    ]);
    const small = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'small', members: [mine[0]] }, tariffId: 'flex' }));
    expect(small.reasons).toEqual(['a group under tariff flex needs at least 2 members; this one would have 1']);
    const noTariff = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'x', members: mine } }));
    expect(noTariff.reasons).toContain('a third party offers a group under a tariff: give tariffId');
    const notAllowed = await must(users.support('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'y', members: ['cat-basic'] }, tariffId: 'basic' }));
    expect(notAllowed.reasons).toEqual(['tariff basic does not allow groups']);

    const again = await users.support('POST', `/api/group-requests/${r.id}/approve`);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/is already refused \(DER cat-approved is approved but not yet handed over/);
    expect(w.registry!.registry.group('bad')).toBeUndefined();
    expect(await w.store.groups.get('bad')).toBeUndefined();
  });

  it.skipIf(!backend.available)('approval checks the rules again: a member that left the provider meanwhile makes it a conflict, and nothing is formed', async () => {
    const w = await up();
    const { users, must } = w;
    const { ders } = await fleetOf(w, 'sunrise', 'Eli', 2);
    const req = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'eli-group', members: ders }, tariffId: 'flex' }));
    await must(users.support('PUT', `/api/ders/${ders[1]}/provider`, { providerOrgId: 'gridflex', reason: 'customer moved to GridFlex' }));
    const r = await users.support('POST', `/api/group-requests/${req.id}/approve`);
    expect(r.status).toBe(409);
    expect(r.body.error.message).toContain(`unknown DER ${ders[1]}`);
    expect((await must(users.support('GET', `/api/group-requests/${req.id}`))).state).toBe('pending');
    expect(w.registry!.registry.group('eli-group')).toBeUndefined();
    const refused = await must(users.support('POST', `/api/group-requests/${req.id}/refuse`, { reason: 'membership changed; resubmit' }));
    expect(refused).toMatchObject({ state: 'refused', reasons: ['membership changed; resubmit'] });
  });

  it.skipIf(!backend.available)('members are removed and the group dissolved on request; the history keeps every join and leave', async () => {
    const w = await up();
    const { users, must } = w;
    const { ders } = await fleetOf(w, 'sunrise', 'Fay', 3);
    const form = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'fay', members: ders }, tariffId: 'flex' }));
    await must(users.support('POST', `/api/group-requests/${form.id}/approve`));
    clock.advance(3_600_000);

    const tooMany = await must(users.sunrise('POST', '/api/group-requests', { kind: 'remove-members', groupId: 'fay', members: ders.slice(0, 2), reason: 'maintenance' }));
    expect(tooMany.reasons).toEqual(['a group under tariff flex needs at least 2 members; this one would have 1 (dissolve it instead)']);
    const remove = await must(users.sunrise('POST', '/api/group-requests', { kind: 'remove-members', groupId: 'fay', members: [ders[0]], reason: 'battery replaced' }));
    await must(users.support('POST', `/api/group-requests/${remove.id}/approve`));
    expect(w.registry!.registry.group('fay')!.members).toEqual(ders.slice(1));
    expect(w.registry!.registry.group('fay')!.version).toMatchObject({ major: 1, minor: 1 });
    clock.advance(3_600_000);

    const add = await must(users.sunrise('POST', '/api/group-requests', { kind: 'add-members', groupId: 'fay', members: [ders[0]] }));
    await must(users.support('POST', `/api/group-requests/${add.id}/approve`));
    const dissolve = await must(users.sunrise('POST', '/api/group-requests', { kind: 'dissolve', groupId: 'fay', reason: 'season over' }));
    expect((await users.gridflex('POST', '/api/group-requests', { kind: 'dissolve', groupId: 'fay', reason: 'mine now' })).body.reasons).toEqual(['unknown group fay']);
    await must(users.support('POST', `/api/group-requests/${dissolve.id}/approve`));
    expect(w.registry!.registry.group('fay')).toBeUndefined();
    expect((await w.store.loadGroups()).length).toBe(0);

    const h = await must(users.support('GET', '/api/groups/fay/membership-history'));
    expect(h.map((e: { action: string; derId: string }) => `${e.action} ${e.derId}`)).toEqual([
      ...ders.map((d) => `joined ${d}`),
      `left ${ders[0]}`,
      `joined ${ders[0]}`,
      ...[...ders.slice(1), ders[0]].sort().map((d) => `left ${d}`),
    ]);
    expect(h.find((e: { action: string; reason: string }) => e.action === 'left')!.reason).toBe('battery replaced');
    const verbs = (await cimEvents(w)).map((e) => [e.verb, e.added, e.removed]);
    expect(verbs).toEqual([
      ['created', ders, []],
      ['changed', [], [ders[0]]],
      ['changed', [ders[0]], []],
      ['deleted', [], [...ders.slice(1), ders[0]]],
    ]);
  });

  it.skipIf(!backend.available)('the DSO shares a registration with a provider; a change of provider keeps the tariff and takes the DER out of the old provider\'s groups', async () => {
    const w = await up();
    const { users, must } = w;
    // A DSO customer with two batteries, shared with Sunrise.
    const gus = await w.customer('Gus');
    const d1 = (await w.connectedDer(gus.id, { ...batteryInput(5000, endpoint), mRID: 'gus-1' })).derId;
    const d2 = (await w.connectedDer(gus.id, { ...batteryInput(5000, endpoint), mRID: 'gus-2' })).derId;
    expect((await users.sunrise('GET', `/api/ders/${d1}`)).status).toBe(404);
    for (const d of [d1, d2]) await must(users.support('PUT', `/api/ders/${d}/provider`, { providerOrgId: 'sunrise', reason: 'Gus signed with Sunrise' }));
    const shared = (await w.store.outbox.list({ topic: topics.provider })).map((m) => m.payload as ProviderNotification);
    expect(shared.map((s) => [s.providerOrgId, s.kind])).toEqual([['sunrise', 'registration-shared'], ['sunrise', 'registration-shared']]);
    expect(shared[0]).toMatchObject({ registration: { der: { mRID: d1 }, feederId: 'feeder-b', phase: 'A', tariffId: 'flex', customerId: gus.id } });
    expect((await must(users.sunrise('GET', '/api/customers'))).map((c: { id: string }) => c.id)).toEqual([gus.id]);

    const form = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'gus-pair', members: [d1, d2] }, tariffId: 'flex' }));
    await must(users.support('POST', `/api/group-requests/${form.id}/approve`));
    // Gus moves d2 to GridFlex: the DSO keeps the record, the tariff stays, Sunrise's group loses it.
    const moved = await must(users.support('PUT', `/api/ders/${d2}/provider`, { providerOrgId: 'gridflex', reason: 'Gus moved d2 to GridFlex' }));
    expect(moved.leftGroups).toEqual(['gus-pair']);
    expect(w.registry!.registry.group('gus-pair')!.members).toEqual([d1]);
    expect((await users.sunrise('GET', `/api/ders/${d2}`)).status).toBe(404);
    const seen = await must(users.gridflex('GET', `/api/ders/${d2}`));
    expect(seen).toMatchObject({ providerOrgId: 'gridflex', tariffId: 'flex', applicationState: 'connected', groups: [] });
    const providers = await must(users.support('GET', `/api/ders/${d2}/provider-history`));
    expect(providers.map((p: { providerOrgId: string | null }) => p.providerOrgId)).toEqual(['sunrise', 'gridflex']);
    expect((await users.sunrise('GET', `/api/ders/${d2}/provider-history`)).status).toBe(403);
    const left = (await must(users.support('GET', '/api/groups/gus-pair/membership-history'))).at(-1);
    expect(left).toMatchObject({ action: 'left', derId: d2, reason: 'provider changed from sunrise to gridflex: Gus moved d2 to GridFlex' });
    const told = (await w.store.outbox.list({ topic: topics.provider })).map((m) => m.payload as ProviderNotification);
    expect(told.slice(-2).map((s) => [s.providerOrgId, s.kind])).toEqual([['sunrise', 'registration-withdrawn'], ['gridflex', 'registration-shared']]);
  });

  it.skipIf(!backend.available)('DSO operations forms a group of any connected DER for its own DERMS, without a tariff', async () => {
    const w = await up();
    const { users, must } = w;
    const hal = await w.customer('Hal');
    const d = (await w.connectedDer(hal.id, { ...pvInput(5000), mRID: 'hal-pv' }, { tariffId: 'basic' })).derId;
    const { ders } = await fleetOf(w, 'sunrise', 'Ivy', 1);
    const req = await must(users.operations('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'feeder-b-all', members: [d, ...ders] } }));
    expect(req.state).toBe('pending');
    const ok = await must(users.support('POST', `/api/group-requests/${req.id}/approve`));
    expect(ok.group.members).toEqual([d, ...ders]);
    expect(await must(users.operations('GET', '/api/groups/feeder-b-all'))).toMatchObject({ ownerOrgId: 'dso', tariffId: null });
    expect((await users.sunrise('GET', '/api/groups/feeder-b-all')).status).toBe(404);
  });
});
