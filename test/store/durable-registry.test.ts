import { afterEach, describe, expect, it } from 'vitest';
import { Registry } from '../../src/core/registry.js';
import { DurableRegistry, loadRegistry } from '../../src/store/durable-registry.js';
import { openStore, type DermsStore } from '../../src/store/store.js';
import { battery, pv } from '../support/fixtures.js';

const stores: DermsStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function setup() {
  const store = await openStore('sqlite::memory:');
  stores.push(store);
  const durable = new DurableRegistry(new Registry(), store);
  for (const d of [pv('a'), pv('b'), battery('c')]) await durable.addDer(d);
  await durable.createGroup({ mRID: 'g', names: ['G'], members: ['a', 'b'] }, { reason: 'formed' });
  return { store, durable, registry: durable.registry };
}

const boom = (): never => {
  throw new Error('failed after the registry changed');
};

describe('the registry written through to the store', () => {
  it('each change is in the store when it resolves, and a restart loads the same registry', async () => {
    const { store, durable, registry } = await setup();
    await durable.changeGroup('G', { addMembers: ['c'] }, { reason: 'more storage' });
    await durable.updateDer({ ...pv('a'), name: 'renamed' });
    await durable.removeDer('b', { reason: 'decommissioned' });
    const again = await loadRegistry(store);
    expect([...again.allDers()]).toEqual([...registry.allDers()]);
    expect([...again.allGroups()]).toEqual([...registry.allGroups()]);
    expect(again.group('g')!.members).toEqual(['a', 'c']);
    expect((await store.groups.history({ groupId: 'g' })).map((h) => `${h.action} ${h.derId} ${h.reason}`)).toEqual([
      'joined a formed',
      'joined b formed',
      'joined c more storage',
      'left b decommissioned',
    ]);
  });

  it('when the transaction fails, the registry is put back (the same DER and groups, versions included) and the store is unchanged', async () => {
    const { store, durable, registry } = await setup();
    const before = { ders: [...registry.allDers()], groups: [...registry.allGroups()], stored: await store.loadGroups(), audit: (await store.audit.list()).length };
    const events: string[] = [];
    registry.changes$.subscribe((c) => events.push(c.type));

    await expect(durable.change(async (ops) => {
      await ops.changeGroup('g', { removeMembers: ['a'] }, { reason: 'x' });
      await ops.addDer(pv('d'));
      await ops.createGroup({ mRID: 'h', members: ['d', 'c'] }, { reason: 'x' });
      await ops.removeDer('b', { reason: 'x' });
      boom();
    })).rejects.toThrow('failed after the registry changed');
    const byId = <T extends { mRID: string }>(xs: Iterable<T>) => [...xs].sort((x, y) => x.mRID.localeCompare(y.mRID));
    expect(byId(registry.allDers())).toEqual(byId(before.ders));
    expect(byId(registry.allGroups())).toEqual(byId(before.groups));
    expect(registry.group('g')!.version).toEqual({ major: 1, minor: 0, revision: 0 });
    expect(registry.groupsOf('b')).toEqual(new Set(['g']));
    expect(await store.loadGroups()).toEqual(before.stored);
    expect((await store.audit.list()).length).toBe(before.audit);
    expect(events.length).toBeGreaterThan(0); // the core saw the change and its undoing

    // A rule the core enforces fails the change before anything is written.
    await expect(durable.createGroup({ mRID: 'x', members: ['ghost'] }, { reason: 'x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await store.groups.get('x')).toBeUndefined();
  });

  it('concurrent changes are applied in the order the store commits them', async () => {
    const { store, durable, registry } = await setup();
    await Promise.all(Array.from({ length: 20 }, (_, i) => durable.changeGroup('g', i % 2 ? { addMembers: ['c'] } : { removeMembers: ['c'] }, { reason: `step ${i}` }).catch(() => undefined)));
    const stored = (await store.loadGroups())[0]!;
    expect(stored).toEqual(registry.group('g'));
    const h = await store.groups.history({ groupId: 'g', derId: 'c' });
    expect(h.map((e) => e.action)).toEqual(Array.from({ length: 10 }, () => ['joined', 'left']).flat().slice(0, h.length));
  });
});
