import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/cli/paths.js';
import { bootstrapDso } from '../../src/services/bootstrap.js';
import { registerCustomerServices } from '../../src/services/http.js';
import { seedDemo } from '../../src/services/seed-demo.js';
import { loadFleetFile } from '../../src/sim/fleet-file.js';
import { loadRegistry } from '../../src/store/durable-registry.js';
import type { DermsStore } from '../../src/store/store.js';
import { storeBackends } from '../store/backends.js';

const dir = mkdtempSync(join(tmpdir(), 'derms-seed-'));
let n = 0;
const backends = storeBackends(() => join(dir, `seed-${++n}.db`));
const opened: DermsStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

describe.each(backends)('demo seed on $name', (backend) => {
  it.skipIf(!backend.available)('fills a store for the demo fleet: every device a connected DER of a customer, the DSO and a provider with tokens, groups the core loads', async () => {
    const fleet = await loadFleetFile(join(packageRoot(), 'fixtures', 'fleets', 'demo.yaml'));
    const store = await backend.open();
    opened.push(store);
    await bootstrapDso(store); // a DSO already bootstrapped is reused
    const seeded = await seedDemo(store, fleet, { tokens: { support: 'demo-support-token-0123456789' } });
    expect(seeded).toMatchObject({ seeded: true, ders: fleet.devices.length, customers: fleet.devices.length, groups: ['feeder-a', 'feeder-b', 'storage', 'sunrise-vpp'] });
    expect(seeded.tokens!.support).toBe('demo-support-token-0123456789');

    const registry = await loadRegistry(store);
    expect([...registry.allDers()].map((d) => d.mRID).sort()).toEqual(fleet.devices.map((d) => d.id).sort());
    expect(registry.group('feeder-a')!.members.length + registry.group('feeder-b')!.members.length).toBe(fleet.devices.length);
    expect(registry.group('storage')!.members).toEqual(fleet.devices.filter((d) => d.kind !== 'pv').map((d) => d.id));
    expect(await store.orgs.list({ kind: 'dso' })).toHaveLength(1);

    // Every feeder hosts what is on it.
    for (const f of await store.feeders.list()) expect((await store.feeders.committedW(f.id)).w).toBeLessThanOrEqual(f.hostingLimitW);
    // Each DER went through the whole lifecycle, attributed to the demo staff.
    const app = await store.applications.forDer(fleet.devices[1]!.id);
    expect((await store.applications.history(app!.id)).map((h) => h.to)).toEqual(['submitted', 'under-review', 'approved', 'installation-verified', 'connected']);
    expect((await store.groups.history({ groupId: 'sunrise-vpp' })).every((h) => h.action === 'joined' && h.byUserId !== null)).toBe(true);

    // The tokens work through the API, each seeing its share.
    const app2 = Fastify();
    await registerCustomerServices(app2, { store, probe: async () => true });
    const get = async (who: keyof NonNullable<typeof seeded.tokens>, url: string) => (await app2.inject({ method: 'GET', url, headers: { authorization: `Bearer ${seeded.tokens![who]}` } })).json();
    expect((await get('support', '/api/ders')).length).toBe(fleet.devices.length);
    const theirs = await get('provider', '/api/ders');
    expect(theirs.length).toBe(Math.ceil(fleet.devices.length / 3));
    expect(theirs.every((d: { providerOrgId: string }) => d.providerOrgId === 'sunrise')).toBe(true);
    expect((await get('provider', '/api/groups')).map((g: { group: { mRID: string } }) => g.group.mRID)).toEqual(['sunrise-vpp']);
    expect((await get('customer', '/api/ders')).map((d: { der: { mRID: string } }) => d.der.mRID)).toEqual([fleet.devices[1]!.id]);
    expect((await get('operations', '/api/me')).role).toBe('dso-operations');
    await app2.close();

    expect(await seedDemo(store, fleet)).toMatchObject({ seeded: false, tokens: null });
    expect((await store.ders.list()).length).toBe(fleet.devices.length);
  });
});
