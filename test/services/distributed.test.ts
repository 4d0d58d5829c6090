import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/core/registry.js';
import { registryFollower } from '../../src/services/registry-follower.js';
import { registryTopic, topics } from '../../src/services/topics.js';
import { loadRegistry } from '../../src/store/durable-registry.js';
import { OutboxRelay } from '../../src/store/outbox-relay.js';
import { openStore } from '../../src/store/store.js';
import { ManualClock, storeBackends } from '../store/backends.js';
import { probeByProtocol, tcpProbe } from '../../src/services/probe.js';
import { batteryInput, listeningEndpoint, world, type World } from './world.js';

const dir = mkdtempSync(join(tmpdir(), 'derms-distributed-'));
let n = 0;
const backends = storeBackends(() => join(dir, `distributed-${++n}.db`));

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe.each(backends)('distributed DSO deployment on $name', (backend) => {
  it.skipIf(!backend.available)('central customer services hands DER and groups to the DERMS instance of their feeder, which follows through the outbox and reloads the same at restart', async () => {
    const clock = new ManualClock();
    // The central process: customer services only, no core of its own.
    const outstation = await listeningEndpoint();
    cleanup.push(outstation.close);
    const w: World = await world((o) => backend.open(o), { probe: probeByProtocol({ dnp3: tcpProbe() }), registry: null, clock });
    cleanup.push(() => w.close());
    const { users, must } = w;
    await must(users.engineering('PUT', '/api/feeders/feeder-a', { name: 'Feeder A', hostingLimitW: 30_000, dermsInstance: 'north' }));
    await must(users.engineering('PUT', '/api/feeders/feeder-b', { name: 'Feeder B', hostingLimitW: 100_000, dermsInstance: 'south' }));

    // Each DERMS instance: its own store connection, registry and relay on its registry topic.
    const instance = async (name: string) => {
      const store = await openStore(backend.lastUrl(), { clock });
      const registry = await loadRegistry(store, { dermsInstance: name });
      const relay = new OutboxRelay(store.outbox, { [registryTopic(name)]: registryFollower(store, registry) }, { worker: name });
      cleanup.push(() => store.close());
      return { store, registry, relay };
    };
    const north = await instance('north');
    const south = await instance('south');

    const c = await w.customer('Nora', 'sunrise');
    const a = [];
    for (let i = 0; i < 2; i++) a.push((await w.connectedDer(c.id, { ...batteryInput(5000, outstation.endpoint), mRID: `north-${i}` }, { feederId: 'feeder-a', by: users.sunrise })).derId);
    const s = (await w.connectedDer(c.id, { ...batteryInput(5000, outstation.endpoint), mRID: 'south-0' }, { feederId: 'feeder-b', by: users.sunrise })).derId;
    expect(north.registry.der(a[0]!)).toBeUndefined();
    expect(await north.relay.drain()).toBe(2);
    expect(await south.relay.drain()).toBe(1);
    expect([...north.registry.allDers()].map((d) => d.mRID)).toEqual(a);
    expect([...south.registry.allDers()].map((d) => d.mRID)).toEqual([s]);

    const across = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'mixed', members: [...a, s] }, tariffId: 'flex' }));
    expect(across.reasons).toEqual(['members are managed by different DERMS instances (north, south); a group lives on one']);
    const req = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'north-vpp', members: a }, tariffId: 'flex' }));
    const ok = await must(users.support('POST', `/api/group-requests/${req.id}/approve`));
    expect(ok.group.members).toEqual(a);
    expect(await w.store.groups.get('north-vpp')).toMatchObject({ dermsInstance: 'north', ownerOrgId: 'sunrise' });
    // Operations hears of it once, from the central process; the north instance applies it.
    expect((await w.store.outbox.list({ topic: topics.cimGroups })).map((m) => (m.payload as { verb: string }).verb)).toEqual(['created']);
    await north.relay.drain();
    expect(north.registry.group('north-vpp')?.members).toEqual(a);
    expect(south.registry.group('north-vpp')).toBeUndefined();

    const rm = await must(users.sunrise('POST', '/api/group-requests', { kind: 'remove-members', groupId: 'north-vpp', members: [a[1]], reason: 'service' }));
    expect(rm.reasons).toEqual(['a group under tariff flex needs at least 2 members; this one would have 1 (dissolve it instead)']);
    const dissolve = await must(users.sunrise('POST', '/api/group-requests', { kind: 'dissolve', groupId: 'north-vpp', reason: 'done' }));
    await must(users.support('POST', `/api/group-requests/${dissolve.id}/approve`));
    await north.relay.drain();
    expect(north.registry.group('north-vpp')).toBeUndefined();

    // A restart of the north instance loads exactly what it follows.
    const again = await loadRegistry(north.store, { dermsInstance: 'north', into: new Registry() });
    expect([...again.allDers()].map((d) => d.mRID)).toEqual(a);
    expect([...again.allGroups()]).toEqual([]);
  });
});
