import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeByProtocol, tcpProbe } from '../../src/services/probe.js';
import { routes } from '../../src/services/routes.js';
import type { Role } from '../../src/store/records.js';
import { openStore } from '../../src/store/store.js';
import { batteryInput, listeningEndpoint, world, type Caller, type World } from './world.js';

// Authorization does not depend on the engine: SQLite only (both engines run the flows elsewhere).
const dir = mkdtempSync(join(tmpdir(), 'derms-authz-'));

/** Who may call what, written out here independently of the server's own table. */
const ALL: Role[] = ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations', 'provider', 'customer'];
const DSO: Role[] = ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations'];
const allowed: Record<string, Role[]> = {
  getMe: ALL,
  createOrganization: ['dso-admin'],
  listOrganizations: [...DSO, 'provider'],
  createUser: ['dso-admin', 'provider'],
  issueToken: ALL,
  createTariff: ['dso-admin'],
  listTariffs: ALL,
  putFeeder: ['dso-admin', 'dso-engineering'],
  listFeeders: DSO,
  createCustomer: ['dso-support', 'provider'],
  listCustomers: ['dso-admin', 'dso-support', 'dso-engineering', 'provider', 'customer'],
  getCustomer: ['dso-admin', 'dso-support', 'dso-engineering', 'provider', 'customer'],
  addServicePoint: ['dso-support', 'provider', 'customer'],
  getCustomerStatement: ['dso-admin', 'dso-support', 'provider', 'customer'],
  submitApplication: ['dso-support', 'provider', 'customer'],
  listApplications: ALL,
  getApplication: ALL,
  reviewApplication: ['dso-support'],
  getHostingCapacity: ['dso-support', 'dso-engineering', 'dso-operations'],
  decideApplication: ['dso-engineering'],
  openWorkOrder: ['dso-engineering'],
  connectApplication: ['dso-support', 'dso-operations'],
  withdrawApplication: ['dso-support', 'provider', 'customer'],
  listWorkOrders: ['dso-support', 'dso-engineering'],
  completeWorkOrder: ['dso-engineering'],
  listDers: ALL,
  getDer: ALL,
  setDerProvider: ['dso-support'],
  getDerProviderHistory: DSO,
  getDerParticipation: ['dso-admin', 'dso-support', 'dso-operations', 'provider', 'customer'],
  listGroups: [...DSO, 'provider'],
  getGroup: [...DSO, 'provider'],
  getGroupMembershipHistory: [...DSO, 'provider'],
  getGroupInvoice: ['dso-admin', 'dso-support', 'dso-operations', 'provider'],
  submitGroupRequest: ['dso-support', 'dso-operations', 'provider'],
  listGroupRequests: [...DSO, 'provider'],
  getGroupRequest: [...DSO, 'provider'],
  approveGroupRequest: ['dso-support'],
  refuseGroupRequest: ['dso-support'],
  listAudit: ['dso-admin', 'dso-support'],
  listOutbox: ['dso-admin'],
};

const period = 'from=2026-06-01T00:00:00Z&to=2026-07-01T00:00:00Z';

describe('authorization: every role and organization sees and does only what is theirs', () => {
  let w: World;
  let by: Record<Role, Caller>;
  let outstation: Awaited<ReturnType<typeof listeningEndpoint>>;
  let ids: { sunCustomer: string; sunDer: string; sunApp: string; sunRequest: string; gfCustomer: string; gfDer: string; dsoCustomer: string; dsoDer: string; dsoApp: string; sunCustomerCall: Caller };
  beforeAll(async () => {
    outstation = await listeningEndpoint();
    w = await world((o) => openStore(`sqlite:${join(dir, 'authz.db')}`, o), { probe: probeByProtocol({ dnp3: tcpProbe() }) });
    const { users, must } = w;
    const sun = await w.customer('Sun customer', 'sunrise');
    const gf = await w.customer('GridFlex customer', 'gridflex');
    const dso = await w.customer('DSO customer');
    const s1 = await w.connectedDer(sun.id, { ...batteryInput(5000, outstation.endpoint), mRID: 'sun-1' }, { by: users.sunrise });
    await w.connectedDer(sun.id, { ...batteryInput(5000, outstation.endpoint), mRID: 'sun-2' }, { by: users.sunrise });
    const g1 = await w.connectedDer(gf.id, { ...batteryInput(5000, outstation.endpoint), mRID: 'gf-1' }, { by: users.gridflex });
    const d1 = await w.connectedDer(dso.id, { ...batteryInput(5000, outstation.endpoint), mRID: 'dso-1' });
    const req = await must(users.sunrise('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'sun-vpp', members: ['sun-1', 'sun-2'] }, tariffId: 'flex' }));
    await must(users.support('POST', `/api/group-requests/${req.id}/approve`));
    const req2 = await must(users.sunrise('POST', '/api/group-requests', { kind: 'dissolve', groupId: 'sun-vpp', reason: 'later' }));
    ids = { sunCustomer: sun.id, sunDer: s1.derId, sunApp: s1.appId, sunRequest: req2.id, gfCustomer: gf.id, gfDer: g1.derId, dsoCustomer: dso.id, dsoDer: d1.derId, dsoApp: d1.appId, sunCustomerCall: sun.call };
    by = { 'dso-admin': users.admin, 'dso-support': users.support, 'dso-engineering': users.engineering, 'dso-operations': users.operations, provider: users.sunrise, customer: sun.call };
  }, 60_000);
  afterAll(async () => {
    await w.close();
    await outstation.close();
  });

  const urlOf = (path: string, method: string): string => {
    const filled = path.replace(':id', path.startsWith('/users') ? 'usr-nobody' : path.startsWith('/feeders') ? 'feeder-z' : 'nothing-here');
    const needsPeriod = /statement|participation|invoice/.test(path) && method === 'GET';
    return `/api${filled}${needsPeriod ? `?${period}` : ''}`;
  };

  it('the expected table covers every operation the server mounts', () => {
    expect(routes.map((r) => r.operationId).sort()).toEqual(Object.keys(allowed).sort());
  });

  it('a role outside an operation\'s list gets 403 before anything is read or validated', async () => {
    let denials = 0;
    for (const r of routes) {
      for (const role of ALL.filter((x) => !allowed[r.operationId]!.includes(x))) {
        const res = await by[role](r.method, urlOf(r.path, r.method), r.method === 'GET' ? undefined : { garbage: true });
        expect(res.status, `${role} ${r.method} ${r.path}`).toBe(403);
        expect(res.body.error.code).toBe('FORBIDDEN');
        denials++;
      }
    }
    expect(denials).toBeGreaterThan(100);
  });

  it('a role inside the list is let through to validation and lookup', async () => {
    for (const r of routes) {
      for (const role of allowed[r.operationId]!) {
        const res = await by[role](r.method, urlOf(r.path, r.method), r.method === 'GET' ? undefined : { garbage: true });
        expect([200, 201, 400, 404, 409], `${role} ${r.method} ${r.path}: ${JSON.stringify(res.body)}`).toContain(res.status);
      }
    }
  });

  it('no token, a malformed header, an unknown or a revoked token: 401 on every operation', async () => {
    for (const r of routes) {
      const res = await w.users.anonymous(r.method, urlOf(r.path, r.method));
      expect(res.status, `${r.method} ${r.path}`).toBe(401);
    }
    const raw = async (authorization: string) => (await w.app.inject({ method: 'GET', url: '/api/me', headers: { authorization } })).statusCode;
    expect(await raw('Basic dXNlcjpwYXNz')).toBe(401);
    expect(await raw('Bearer')).toBe(401);
    expect(await raw('Bearer derms_not-a-real-token-at-all')).toBe(401);
    const u = await w.must(w.users.admin('POST', '/api/users', { orgId: 'dso', name: 'temp', role: 'dso-support' }));
    const t = await w.must(w.users.admin('POST', `/api/users/${u.id}/tokens`, { label: 'temp' }));
    expect(await raw(`Bearer ${t.token}`)).toBe(200);
    await w.store.users.revokeToken(t.id);
    expect(await raw(`Bearer ${t.token}`)).toBe(401);
  });

  it('a third party never sees another\'s customers, DER, applications, groups, requests or invoices', async () => {
    const gridflex = w.users.gridflex;
    const hidden = [
      `/api/customers/${ids.sunCustomer}`,
      `/api/customers/${ids.dsoCustomer}`,
      `/api/customers/${ids.sunCustomer}/statement?${period}`,
      `/api/ders/${ids.sunDer}`,
      `/api/ders/${ids.dsoDer}`,
      `/api/ders/${ids.sunDer}/participation?${period}`,
      `/api/applications/${ids.sunApp}`,
      `/api/applications/${ids.dsoApp}`,
      '/api/groups/sun-vpp',
      '/api/groups/sun-vpp/membership-history',
      `/api/groups/sun-vpp/invoice?${period}`,
      `/api/group-requests/${ids.sunRequest}`,
    ];
    for (const url of hidden) {
      const r = await gridflex('GET', url);
      expect(r.status, url).toBe(404);
      expect(JSON.stringify(r.body)).not.toMatch(/Sun customer|DSO customer/);
    }
    const lists = await Promise.all(['/api/customers', '/api/ders', '/api/applications', '/api/groups', '/api/group-requests', '/api/organizations'].map((u) => w.must(gridflex('GET', u))));
    const text = JSON.stringify(lists);
    for (const other of [ids.sunCustomer, ids.dsoCustomer, ids.sunDer, ids.dsoDer, 'sun-vpp', 'sunrise', ids.sunApp]) expect(text).not.toContain(other);
    expect(lists[1].map((d: { der: { mRID: string } }) => d.der.mRID)).toEqual([ids.gfDer]);
    // Nor act on them.
    expect((await gridflex('POST', `/api/applications/${ids.sunApp}/withdraw`, { reason: 'x' })).status).toBe(404);
    expect((await gridflex('POST', `/api/customers/${ids.sunCustomer}/service-points`, { address: 'x', feederId: 'feeder-a', phase: 'A' })).status).toBe(404);
    expect((await gridflex('POST', '/api/applications', { customerId: ids.sunCustomer, tariffId: 'flex', servicePoint: { address: 'x', feederId: 'feeder-a', phase: 'A' }, der: batteryInput() })).status).toBe(400);
    const joinTheirs = await w.must(gridflex('POST', '/api/group-requests', { kind: 'form', group: { mRID: 'steal', members: [ids.gfDer, ids.sunDer] }, tariffId: 'flex' }));
    expect(joinTheirs.reasons).toContain(`unknown DER ${ids.sunDer}`);
    expect((await gridflex('POST', '/api/group-requests', { kind: 'dissolve', groupId: 'sun-vpp', reason: 'x' })).body.reasons).toEqual(['unknown group sun-vpp']);
    expect((await gridflex('POST', '/api/users', { orgId: 'sunrise', name: 'spy', role: 'provider' })).status).toBe(403);
    expect((await gridflex('POST', '/api/users', { orgId: 'gridflex', name: 'boss', role: 'dso-admin' })).status).toBe(403);
    expect((await gridflex('POST', '/api/users', { orgId: 'gridflex', name: 'x', role: 'customer', customerId: ids.sunCustomer })).status).toBe(404);
    expect((await gridflex('POST', '/api/customers', { name: 'x', providerOrgId: 'sunrise' })).status).toBe(403);
    expect((await gridflex('POST', '/api/users/usr-nobody/tokens', { label: 'x' })).status).toBe(404);
  });

  it('a customer sees only itself, and applies only for itself', async () => {
    const me = ids.sunCustomerCall;
    expect((await w.must(me('GET', '/api/customers'))).map((c: { id: string }) => c.id)).toEqual([ids.sunCustomer]);
    expect((await me('GET', `/api/customers/${ids.gfCustomer}`)).status).toBe(404);
    expect((await me('GET', `/api/ders/${ids.gfDer}`)).status).toBe(404);
    expect((await me('GET', `/api/applications/${ids.dsoApp}`)).status).toBe(404);
    expect((await w.must(me('GET', '/api/ders'))).map((d: { der: { mRID: string } }) => d.der.mRID)).toEqual(['sun-1', 'sun-2']);
    expect((await w.must(me('GET', `/api/ders/${ids.sunDer}`))).groups).toBeUndefined();
    const other = await me('POST', '/api/applications', { customerId: ids.dsoCustomer, tariffId: 'flex', servicePoint: { address: 'x', feederId: 'feeder-a', phase: 'A' }, der: batteryInput() });
    expect(other.status).toBe(403);
    expect((await me('POST', '/api/users/usr-nobody/tokens', { label: 'x' })).status).toBe(404);
  });

  it('DSO operations does not see customer records', async () => {
    expect((await w.users.operations('GET', `/api/customers/${ids.dsoCustomer}`)).status).toBe(403);
    expect((await w.users.operations('GET', '/api/customers')).status).toBe(403);
    expect((await w.must(w.users.operations('GET', '/api/ders'))).length).toBe(4);
  });
});
