import { describe, expect, it } from 'vitest';
import { bootstrapDso, bootstrapOptionsFromEnv } from '../../src/services/bootstrap.js';
import { openStore } from '../../src/store/store.js';

describe('bootstrap of the first DSO organization and admin', () => {
  it('creates them once, with a token that works, and is a no-op afterwards', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const first = await bootstrapDso(store, { orgName: 'Front Range Power' });
      expect(first).toMatchObject({ created: true, organization: { id: 'dso', kind: 'dso', name: 'Front Range Power' }, admin: { role: 'dso-admin' } });
      expect(await store.users.resolveToken(first.token!)).toMatchObject({ role: 'dso-admin', orgId: 'dso' });
      const again = await bootstrapDso(store, { orgName: 'Something else' });
      expect(again).toMatchObject({ created: false, token: null, organization: { name: 'Front Range Power' } });
      expect(await store.orgs.list()).toHaveLength(1);
    } finally {
      await store.close();
    }
  });

  it('installs a configured admin token, also on a store bootstrapped before (token rotation)', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const opts = bootstrapOptionsFromEnv({ DERMS_ADMIN_TOKEN: 'configured-admin-token-0123456789', DERMS_DSO_ID: 'frp', DERMS_DSO_NAME: 'FRP' });
      expect(opts).toEqual({ adminToken: 'configured-admin-token-0123456789', orgId: 'frp', orgName: 'FRP' });
      await bootstrapDso(store, opts);
      expect(await store.users.resolveToken('configured-admin-token-0123456789')).toMatchObject({ orgId: 'frp', role: 'dso-admin' });
      const rotated = await bootstrapDso(store, { adminToken: 'rotated-admin-token-abcdefghijkl' });
      expect(rotated).toMatchObject({ created: false, token: 'rotated-admin-token-abcdefghijkl' });
      expect(await store.users.resolveToken('rotated-admin-token-abcdefghijkl')).toMatchObject({ orgId: 'frp', role: 'dso-admin' });
      expect((await store.users.list({ role: 'dso-admin' })).length).toBe(1);
      expect(() => bootstrapOptionsFromEnv({ DERMS_ADMIN_TOKEN: 'short' })).toThrow(/at least 24 characters/);
    } finally {
      await store.close();
    }
  });
});
