import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { permissions } from '../../src/services/authz.js';
import { registerCustomerServices } from '../../src/services/http.js';
import { routes } from '../../src/services/routes.js';
import { openStore, type DermsStore } from '../../src/store/store.js';
import { batteryInput, pvInput } from './world.js';

type Json = Record<string, unknown>;

/** Request bodies the API accepts (as the flow tests send them), by operation. */
const valid: Record<string, unknown[]> = {
  submitApplication: [
    { customerId: 'c', tariffId: 'flex', servicePoint: { address: '1 Elm', feederId: 'feeder-a', phase: 'B' }, der: { ...pvInput(7600, { protocol: 'sunspec-tcp', host: '127.0.0.1', port: 1502, unitId: 1 }), mRID: 'pv-1' } },
    { tariffId: 'flex', servicePointId: 'sp-1', der: batteryInput(5000, { protocol: 'dnp3', host: '10.0.0.2', port: 20000, outstation: 10, master: 1 }) },
  ],
  decideApplication: [{ decision: 'approve' }, { decision: 'hold', reason: 'upgrade T-17' }, { decision: 'reject', reason: 'no certificate' }],
  completeWorkOrder: [{ result: 'passed' }, { result: 'failed', notes: 'inverter is 12 kW' }, { result: 'passed', asBuilt: { nameplate: pvInput(7000).nameplate } }],
  submitGroupRequest: [
    { kind: 'form', group: { mRID: 'vpp', names: ['VPP'], functions: { realPowerDispatch: true }, members: ['a', 'b'] }, tariffId: 'flex', reason: 'evening peak' },
    { kind: 'remove-members', groupId: 'vpp', members: ['a'], reason: 'maintenance' },
    { kind: 'add-members', groupId: 'vpp', members: ['a'] },
    { kind: 'dissolve', groupId: 'vpp', reason: 'season over' },
  ],
  createTariff: [{ id: 'flex', spec: { name: 'Flex', eligibility: { kinds: ['pv', 'battery'], maxW: 20000 }, requirements: { telemetry: true, control: true }, settlement: { ratePerKWh: 0.25, currency: 'USD' }, grouping: { minMembers: 2 } } }],
  putFeeder: [{ name: 'Feeder A', hostingLimitW: 30000 }, { name: 'Feeder A', hostingLimitW: 30000, dermsInstance: 'north' }, { name: 'Feeder A', hostingLimitW: 30000, dermsInstance: null }],
  setDerProvider: [{ providerOrgId: 'sunrise', reason: 'signed' }, { providerOrgId: null, reason: 'ended' }],
  createCustomer: [{ name: 'Alice', email: 'alice@example.org' }],
  createUser: [{ orgId: 'dso', name: 'Pat', role: 'dso-support' }, { orgId: 'sunrise', name: 'Cust', role: 'customer', customerId: 'c' }],
  reviewApplication: [{}, { reason: 'complete' }],
};
/** And bodies it refuses, which the published schema must refuse too. */
const invalid: Record<string, unknown[]> = {
  submitApplication: [{ tariffId: 'flex', der: { ...pvInput(), nameplate: { ...pvInput().nameplate, maxW: -1 } } }, { tariffId: 'flex', servicePointId: 'sp', der: pvInput(), extra: 1 }],
  decideApplication: [{ decision: 'hold' }, { decision: 'maybe' }],
  submitGroupRequest: [{ kind: 'form', group: { mRID: 'g', members: [] } }, { kind: 'dissolve', groupId: 'g' }],
  putFeeder: [{ name: 'F', hostingLimitW: -1 }],
};

describe('the OpenAPI document at /api/openapi.json', () => {
  let store: DermsStore;
  const app = Fastify();
  let doc: Json;
  beforeAll(async () => {
    store = await openStore('sqlite::memory:');
    // A sibling route, as the CIM server mounts next to /api: our JSON-only parser must not reach it.
    app.post('/cim/echo', async (req) => ({ got: req.body }));
    await registerCustomerServices(app, { store, probe: async () => true }, { version: '1.2.3' });
    await app.ready();
    const r = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    expect(r.statusCode).toBe(200);
    doc = r.json();
  });
  afterAll(async () => {
    await app.close();
    await store.close();
  });

  const operations = (): Array<{ path: string; method: string; op: Json }> =>
    Object.entries(doc.paths as Record<string, Record<string, Json>>).flatMap(([path, ms]) => Object.entries(ms).map(([method, op]) => ({ path, method, op })));

  it('is OpenAPI 3.1 with bearer security, served without a token', () => {
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: 'DERMS customer services', version: '1.2.3' }, security: [{ bearer: [] }] });
    expect((doc.components as Json).securitySchemes).toEqual({ bearer: { type: 'http', scheme: 'bearer' } });
  });

  it('describes exactly the operations the server mounts, each with a unique id, its roles and its path parameters', () => {
    const ops = operations();
    expect(ops.length).toBe(routes.length + 1);
    const ids = ops.map((o) => o.op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of ops) {
      const url = path.replace(/\{(\w+)\}/g, ':$1');
      expect(app.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${path}`).toBe(true);
      const route = routes.find((r) => r.operationId === op.operationId);
      if (!route) continue;
      expect(op['x-roles']).toEqual([...permissions[route.action]]);
      const declared = ((op.parameters ?? []) as Json[]).filter((p) => p.in === 'path').map((p) => p.name);
      expect(declared).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]));
      expect(Object.keys(op.responses as Json)).toEqual(expect.arrayContaining([String(route.status), '400', '401', '403', '404', '409']));
      expect(Boolean(op.requestBody)).toBe(Boolean(route.body));
      if (route.query) expect(((op.parameters ?? []) as Json[]).some((p) => p.in === 'query')).toBe(true);
    }
  });

  it('every $ref resolves inside the document', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/([^"]+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      let node: unknown = doc;
      for (const part of ref.split('/')) node = (node as Json)[part];
      expect(node, ref).toBeDefined();
    }
  });

  it('each request body schema is valid JSON Schema (ajv, strict) and agrees with the server on real bodies', async () => {
    // A JSON Schema validator we did not write: Fastify's own (ajv), in strict mode, no coercion.
    const checker = Fastify({ ajv: { customOptions: { strict: true, strictRequired: false, allErrors: true, coerceTypes: false, removeAdditional: false, useDefaults: false } } });
    const bodies = operations().filter((o) => o.op.requestBody);
    for (const { op } of bodies) {
      const schema = ((op.requestBody as Json).content as Record<string, { schema: Json }>)['application/json']!.schema;
      checker.post(`/${op.operationId as string}`, { schema: { body: schema } }, async () => ({ ok: true }));
    }
    await checker.ready();
    try {
      for (const [id, list] of Object.entries(valid)) {
        for (const body of list) {
          const r = await checker.inject({ method: 'POST', url: `/${id}`, payload: body as object });
          expect(r.statusCode, `${id} ${JSON.stringify(body)}: ${r.body}`).toBe(200);
          const route = routes.find((x) => x.operationId === id)!;
          expect(route.body!.safeParse(body).success, `${id} server side`).toBe(true);
        }
      }
      for (const [id, list] of Object.entries(invalid)) {
        for (const body of list) {
          const r = await checker.inject({ method: 'POST', url: `/${id}`, payload: body as object });
          expect(r.statusCode, `${id} ${JSON.stringify(body)}`).toBe(400);
          expect(routes.find((x) => x.operationId === id)!.body!.safeParse(body).success).toBe(false);
        }
      }
    } finally {
      await checker.close();
    }
  });

  it('leaves routes mounted beside /api alone', async () => {
    const r = await app.inject({ method: 'POST', url: '/cim/echo', payload: { a: 1 } });
    expect(r.json()).toEqual({ got: { a: 1 } });
    const t = await app.inject({ method: 'POST', url: '/cim/echo', payload: 'plain', headers: { 'content-type': 'text/plain' } });
    expect(t.json()).toEqual({ got: 'plain' });
  });
});
