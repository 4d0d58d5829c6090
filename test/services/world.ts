import { createServer } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from '../../src/core/registry.js';
import type { DerInput } from '../../src/core/model/der.js';
import { bootstrapDso } from '../../src/services/bootstrap.js';
import type { CustomerServices } from '../../src/services/customer-services.js';
import { registerCustomerServices } from '../../src/services/http.js';
import type { Probe } from '../../src/services/probe.js';
import { DurableRegistry } from '../../src/store/durable-registry.js';
import type { Role, TariffSpecInput } from '../../src/store/records.js';
import type { DermsStore, StoreOptions } from '../../src/store/store.js';
import { ManualClock } from '../store/backends.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- JSON replies are checked by the assertions, not by types
export type Json = any;

export interface Reply<T = Json> {
  readonly status: number;
  readonly body: T;
}

export type Caller = (method: 'GET' | 'POST' | 'PUT', url: string, body?: unknown) => Promise<Reply>;

/** Tariffs the tests register DER under. */
export const tariffs: Record<string, TariffSpecInput> = {
  /** Small DER, monitored and controlled (the hand-over probes the endpoint). */
  flex: {
    name: 'Residential flexibility',
    eligibility: { kinds: ['pv', 'battery', 'hybrid'], maxW: 20_000, maxEnergyWh: 40_000 },
    requirements: { telemetry: true, control: true },
    settlement: { ratePerKWh: 0.25, currency: 'USD' },
    grouping: { allowed: true, minMembers: 2, maxMembers: 50, minTotalW: 5000 },
  },
  /** Export only, no monitoring required, no groups. */
  basic: {
    name: 'Net metering',
    eligibility: { kinds: ['pv'], maxW: 10_000 },
    requirements: { telemetry: false, control: false },
    settlement: { ratePerKWh: 0, currency: 'USD' },
    grouping: { allowed: false },
  },
};

export function pvInput(maxW = 6000, endpoint: DerInput['endpoint'] = { protocol: 'in-process', device: 'x' }) {
  return { name: `PV ${maxW} W`, kind: 'pv' as const, nameplate: { maxW, maxVA: maxW, maxVarInject: maxW * 0.44, maxVarAbsorb: maxW * 0.44, nominalV: 240 }, endpoint };
}

export function batteryInput(maxW = 5000, endpoint: DerInput['endpoint'] = { protocol: 'in-process', device: 'x' }) {
  return {
    name: `Battery ${maxW} W`,
    kind: 'battery' as const,
    nameplate: { maxW, maxVA: maxW, maxVarInject: maxW * 0.44, maxVarAbsorb: maxW * 0.44, maxChargeW: maxW, maxDischargeW: maxW, energyCapacityWh: 13_500, nominalV: 240 },
    endpoint,
  };
}

/** Something listening on 127.0.0.1, as a DNP3 outstation's endpoint: what a TCP probe of the hand-over finds. */
export async function listeningEndpoint() {
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const endpoint = { protocol: 'dnp3' as const, host: '127.0.0.1', port: (server.address() as { port: number }).port, outstation: 10, master: 1 };
  return { endpoint, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * The customer-services API over a fresh store with a DSO (one user per DSO role), two providers
 * (one user each), feeders and tariffs, mounted on Fastify with a core registry written through.
 */
export async function world(
  open: (o: StoreOptions) => Promise<DermsStore>,
  o: {
    probe: Probe;
    /** The core's registry written through (a fresh one by default); null for a process without a core. */
    registry?: ((store: DermsStore) => DurableRegistry) | null;
    dermsInstance?: string;
    clock?: { now(): number };
  },
) {
  const clock = o.clock ?? new ManualClock();
  const store = await open({ clock });
  const registry = o.registry === null ? undefined : o.registry ? o.registry(store) : new DurableRegistry(new Registry(), store);
  const app: FastifyInstance = Fastify();
  const services: CustomerServices = await registerCustomerServices(app, {
    store,
    probe: o.probe,
    clock,
    ...(registry ? { registry } : {}),
    ...(o.dermsInstance ? { dermsInstance: o.dermsInstance } : {}),
  });
  await app.ready();
  const boot = await bootstrapDso(store, { orgName: 'Front Range Power' });

  const as =
    (token: string | null): Caller =>
    async (method, url, body) => {
      const r = await app.inject({ method, url, headers: token ? { authorization: `Bearer ${token}` } : {}, ...(body === undefined ? {} : { payload: body as object }) });
      return { status: r.statusCode, body: r.body ? r.json() : null };
    };
  const admin = as(boot.token!);
  const must = async (r: Promise<Reply>, status = [200, 201]): Promise<Json> => {
    const x = await r;
    if (!status.includes(x.status)) throw new Error(`expected ${status.join('/')}, got ${x.status}: ${JSON.stringify(x.body)}`);
    return x.body;
  };
  const tokenFor = async (orgId: string, role: Role, customerId?: string): Promise<Caller> => {
    const u = await must(admin('POST', '/api/users', { orgId, name: `${role} of ${orgId}`, role, ...(customerId ? { customerId } : {}) }));
    const t = await must(admin('POST', `/api/users/${u.id}/tokens`, { label: 'test' }));
    return as(t.token);
  };

  await must(admin('POST', '/api/organizations', { id: 'sunrise', name: 'Sunrise Aggregation', kind: 'provider' }));
  await must(admin('POST', '/api/organizations', { id: 'gridflex', name: 'GridFlex', kind: 'provider' }));
  const users = {
    admin,
    support: await tokenFor('dso', 'dso-support'),
    engineering: await tokenFor('dso', 'dso-engineering'),
    operations: await tokenFor('dso', 'dso-operations'),
    sunrise: await tokenFor('sunrise', 'provider'),
    gridflex: await tokenFor('gridflex', 'provider'),
    anonymous: as(null),
  };
  for (const [id, spec] of Object.entries(tariffs)) await must(admin('POST', '/api/tariffs', { id, spec }));
  await must(users.engineering('PUT', '/api/feeders/feeder-a', { name: 'Feeder A', hostingLimitW: 30_000 }));
  await must(users.engineering('PUT', '/api/feeders/feeder-b', { name: 'Feeder B', hostingLimitW: 100_000 }));

  /** A customer (of `provider`, or of the DSO) with a user of its own. */
  const customer = async (name: string, provider?: 'sunrise' | 'gridflex'): Promise<{ id: string; call: Caller }> => {
    const c = await must((provider ? users[provider] : users.support)('POST', '/api/customers', { name, email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.org` }));
    return { id: c.id, call: await tokenFor(provider ?? 'dso', 'customer', c.id) };
  };

  /** Flow A to C through the API: submit, review, approve, verify, connect. Returns the DER id and application id. */
  const connectedDer = async (customerId: string, der: object, o2: { tariffId?: string; feederId?: string; by?: Caller } = {}) => {
    const submitted = await must((o2.by ?? users.support)('POST', '/api/applications', { customerId, tariffId: o2.tariffId ?? 'flex', servicePoint: { address: '1 Main St', feederId: o2.feederId ?? 'feeder-b', phase: 'A' }, der }));
    const appId: string = submitted.application.id;
    await must(users.support('POST', `/api/applications/${appId}/review`));
    const approved = await must(users.engineering('POST', `/api/applications/${appId}/decision`, { decision: 'approve' }));
    await must(users.engineering('POST', `/api/work-orders/${approved.workOrder.id}/complete`, { result: 'passed' }));
    await must(users.support('POST', `/api/applications/${appId}/connect`));
    return { derId: submitted.der.der.mRID as string, appId };
  };

  return {
    app,
    store,
    registry,
    services,
    clock,
    users,
    must,
    customer,
    connectedDer,
    tokenFor,
    async close() {
      await app.close();
      await store.close();
    },
  };
}

export type World = Awaited<ReturnType<typeof world>>;
