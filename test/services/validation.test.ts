import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes } from '../../src/services/routes.js';
import { permissions } from '../../src/services/authz.js';
import type { Role } from '../../src/store/records.js';
import { openStore } from '../../src/store/store.js';
import { batteryInput, pvInput, world, type Caller, type World } from './world.js';

// Validation happens before the store is touched; SQLite only.
const dir = mkdtempSync(join(tmpdir(), 'derms-validation-'));

describe('bad input: 4xx naming the field, and nothing written', () => {
  let w: World;
  let customer: string;
  let by: Record<Role, Caller>;
  beforeAll(async () => {
    w = await world((o) => openStore(`sqlite:${join(dir, 'v.db')}`, o), { probe: async (der) => `no device at ${der.mRID}` });
    const c = await w.customer('Val');
    customer = c.id;
    by = { 'dso-admin': w.users.admin, 'dso-support': w.users.support, 'dso-engineering': w.users.engineering, 'dso-operations': w.users.operations, provider: w.users.sunrise, customer: c.call };
  });
  afterAll(() => w.close());

  const counts = async () => ({ audit: (await w.store.audit.list({ limit: 1000 })).length, outbox: (await w.store.outbox.list()).length, ders: (await w.store.ders.list()).length });

  it('every operation with a body refuses an empty one with a message naming a field', async () => {
    for (const r of routes.filter((x) => x.body && !x.body.safeParse({}).success)) {
      const role = permissions[r.action][0] as Role;
      const url = `/api${r.path.replace(':id', 'whatever')}`;
      const res = await by[role](r.method, url, {});
      expect(res.status, `${r.method} ${r.path}`).toBe(400);
      expect(res.body.error.code).toBe('INVALID_INPUT');
      expect(res.body.error.issues[0].path, `${r.method} ${r.path}: ${res.body.error.message}`).not.toBe('');
      expect(res.body.error.message).toContain(res.body.error.issues[0].path);
    }
  });

  it('names the offending field of a registration', async () => {
    const before = await counts();
    const base = { customerId: customer, tariffId: 'flex', servicePoint: { address: '1 A St', feederId: 'feeder-a', phase: 'A' }, der: pvInput(5000) };
    const cases: Array<[unknown, string, RegExp?]> = [
      [{ ...base, der: { ...pvInput(), nameplate: { ...pvInput().nameplate, maxW: -1 } } }, 'der.nameplate.maxW'],
      [{ ...base, der: { ...pvInput(), nameplate: { ...pvInput().nameplate, maxW: 9000, maxVA: 8000 } } }, 'der.nameplate.maxW', /maxW exceeds maxVA/],
      [{ ...base, der: { ...batteryInput(), nameplate: { ...batteryInput().nameplate, energyCapacityWh: 0 } } }, 'der.nameplate.energyCapacityWh'],
      [{ ...base, der: pvInput(25_000) }, 'der.nameplate.maxW', /exceeds tariff flex's limit of 20000 W/],
      [{ ...base, tariffId: 'basic', der: batteryInput() }, 'der.kind', /does not take battery DER/],
      [{ ...base, der: { ...pvInput(), endpoint: { protocol: 'sunspec-tcp', host: 'x', port: 70000 } } }, 'der.endpoint.port'],
      [{ ...base, der: { ...pvInput(), endpoint: { protocol: 'carrier-pigeon' } } }, 'der.endpoint.protocol'],
      [{ ...base, tariffId: 'nope' }, 'tariffId', /does not exist/],
      [{ ...base, customerId: 'cus-nobody' }, 'customerId', /does not exist/],
      [{ ...base, servicePointId: 'sp-1' }, 'servicePointId', /not both/],
      [{ ...base, servicePoint: { ...base.servicePoint, feederId: 'feeder-z' } }, 'servicePoint.feederId', /does not exist/],
      [{ ...base, servicePoint: { ...base.servicePoint, phase: 'D' } }, 'servicePoint.phase'],
      [{ ...base, colour: 'blue' }, '', /colour/],
      [{ ...base, der: { ...pvInput(), mRID: 'has space' } }, 'der.mRID'],
    ];
    for (const [body, path, message] of cases) {
      const r = await w.users.support('POST', '/api/applications', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.map((i: { path: string }) => i.path), r.body.error.message).toContain(path);
      if (message) expect(r.body.error.message).toMatch(message);
    }
    expect(await counts()).toEqual(before);
  });

  it('names the field in decisions, work orders, group requests, tariffs, feeders, queries', async () => {
    const cases: Array<[Caller, 'POST' | 'PUT' | 'GET', string, unknown, string]> = [
      [w.users.engineering, 'POST', '/api/applications/x/decision', { decision: 'hold' }, 'reason'],
      [w.users.engineering, 'POST', '/api/applications/x/decision', { decision: 'maybe' }, 'decision'],
      [w.users.engineering, 'POST', '/api/work-orders/x/complete', { result: 'passed', asBuilt: { nameplate: { maxW: 1 } } }, 'asBuilt.nameplate.maxVA'],
      [w.users.sunrise, 'POST', '/api/group-requests', { kind: 'form', group: { mRID: 'g', members: [] }, tariffId: 'flex' }, 'group.members'],
      [w.users.sunrise, 'POST', '/api/group-requests', { kind: 'merge', groupId: 'g' }, 'kind'],
      [w.users.sunrise, 'POST', '/api/group-requests', { kind: 'dissolve', groupId: 'g' }, 'reason'],
      [w.users.sunrise, 'POST', '/api/group-requests', { kind: 'form', group: { mRID: 'g', members: ['a'], functions: { teleport: true } } }, 'group.functions'],
      [w.users.admin, 'POST', '/api/tariffs', { spec: { name: 'x', eligibility: { kinds: ['pv'], maxW: 1 }, requirements: { telemetry: true, control: true }, settlement: { ratePerKWh: 0.1, currency: 'dollars' } } }, 'spec.settlement.currency'],
      [w.users.admin, 'POST', '/api/tariffs', { spec: { name: 'x', eligibility: { kinds: [], maxW: 1 }, requirements: { telemetry: true, control: true }, settlement: { ratePerKWh: 0.1, currency: 'USD' } } }, 'spec.eligibility.kinds'],
      [w.users.engineering, 'PUT', '/api/feeders/f', { name: 'F', hostingLimitW: -5 }, 'hostingLimitW'],
      [w.users.support, 'PUT', '/api/ders/x/provider', { providerOrgId: 'sunrise' }, 'reason'],
      [w.users.support, 'POST', '/api/customers', { name: 'x', email: 'not-an-email' }, 'email'],
      [w.users.admin, 'POST', '/api/users', { orgId: 'dso', name: 'x', role: 'king' }, 'role'],
      [w.users.support, 'GET', '/api/customers/x/statement?from=yesterday&to=2026-07-01T00:00:00Z', undefined, 'from'],
      [w.users.support, 'GET', '/api/customers/x/statement?from=2026-07-01T00:00:00Z&to=2026-06-01T00:00:00Z', undefined, 'to'],
      [w.users.support, 'GET', '/api/customers/x/statement?to=2026-07-01T00:00:00Z', undefined, 'from'],
      [w.users.support, 'GET', '/api/applications?state=pondering', undefined, 'state'],
      [w.users.admin, 'GET', '/api/audit?limit=5000', undefined, 'limit'],
    ];
    for (const [call, method, url, body, path] of cases) {
      const r = await call(method, url, body);
      expect(r.status, `${method} ${url} ${JSON.stringify(body)}`).toBe(400);
      expect(r.body.error.issues.map((i: { path: string }) => i.path), r.body.error.message).toContain(path);
    }
  });

  it('references that do not fit are refused with the field: a service point of another customer, a DSO as provider', async () => {
    const other = await w.customer('Other');
    const sp = await w.must(w.users.support('POST', `/api/customers/${other.id}/service-points`, { address: '2 B St', feederId: 'feeder-b', phase: 'B' }));
    const r = await w.users.support('POST', '/api/applications', { customerId: customer, servicePointId: sp.id, tariffId: 'flex', der: pvInput() });
    expect(r.status).toBe(400);
    expect(r.body.error.issues[0]).toMatchObject({ path: 'servicePointId' });
    const d = await w.must(w.users.support('POST', '/api/applications', { customerId: customer, tariffId: 'basic', servicePoint: { address: '1 A St', feederId: 'feeder-a', phase: 'A' }, der: { ...pvInput(), mRID: 'val-pv' } }));
    const p = await w.users.support('PUT', `/api/ders/${d.der.der.mRID}/provider`, { providerOrgId: 'dso', reason: 'x' });
    expect(p.status).toBe(400);
    expect(p.body.error.issues[0]).toMatchObject({ path: 'providerOrgId' });
    const twice = await w.users.support('POST', '/api/applications', { customerId: customer, tariffId: 'basic', servicePoint: { address: '1 A St', feederId: 'feeder-a', phase: 'A' }, der: { ...pvInput(), mRID: 'val-pv' } });
    expect(twice.status).toBe(409);
    expect(twice.body.error.issues[0]).toMatchObject({ path: 'der.mRID' });
  });

  it('bodies that are not JSON, or not objects, are 400s in the same shape; unknown operations 404', async () => {
    const raw = async (payload: string, contentType = 'application/json') =>
      w.app.inject({ method: 'POST', url: '/api/customers', payload, headers: { 'content-type': contentType, authorization: (await bearerOf(w.users.support)) } });
    const bad = await raw('{"name": ');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/not valid JSON/) });
    const arr = await raw('[1,2]');
    expect(arr.statusCode).toBe(400);
    const text = await raw('name=x', 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json().error.code).toBe('INVALID_INPUT');
    const none = await w.users.support('GET', '/api/teleporters');
    expect(none.status).toBe(404);
    expect(none.body.error.code).toBe('NOT_FOUND');
  });

  it('a refused hand-over changes nothing and says why', async () => {
    const d = await w.must(w.users.support('POST', '/api/applications', { customerId: customer, tariffId: 'flex', servicePoint: { address: '3 C St', feederId: 'feeder-b', phase: 'C' }, der: batteryInput() }));
    const id = d.application.id;
    await w.must(w.users.support('POST', `/api/applications/${id}/review`));
    const a = await w.must(w.users.engineering('POST', `/api/applications/${id}/decision`, { decision: 'approve' }));
    await w.must(w.users.engineering('POST', `/api/work-orders/${a.workOrder.id}/complete`, { result: 'passed' }));
    const before = await counts();
    const r = await w.users.operations('POST', `/api/applications/${id}/connect`);
    expect(r.status).toBe(503);
    expect(r.body.error.message).toMatch(/requires monitoring and control and the DER did not answer on its endpoint \(no device at/);
    expect(await counts()).toEqual(before);
  });
});

/** The Authorization header a Caller uses (read back through /api/me is not possible; re-issue one). */
async function bearerOf(call: Caller): Promise<string> {
  const me = await call('GET', '/api/me');
  const t = await call('POST', `/api/users/${me.body.user.id}/tokens`, { label: 'raw' });
  return `Bearer ${t.body.token}`;
}
