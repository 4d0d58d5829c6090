import { parseDer, type Endpoint } from '../core/model/der.js';
import { derFunctionNames, parseGroup, type DerFunctions } from '../core/model/group.js';
import type { DeviceSpec, FleetSpec } from '../sim/fleet-spec.js';
import { tariffSpecSchema, derRatingW, type Phase, type Role, type TariffSpecInput } from '../store/records.js';
import type { DermsStore, StoreTx } from '../store/store.js';

export const DEMO_PROVIDER = 'sunrise';

/** The demo's users, one per role. */
export const demoUsers = ['admin', 'support', 'engineering', 'operations', 'provider', 'customer'] as const;
export type DemoUser = (typeof demoUsers)[number];

const roleOf: Record<DemoUser, Role> = {
  admin: 'dso-admin',
  support: 'dso-support',
  engineering: 'dso-engineering',
  operations: 'dso-operations',
  provider: 'provider',
  customer: 'customer',
};

const demoTariffs: Record<string, TariffSpecInput> = {
  'residential-flex': {
    name: 'Residential flexibility',
    description: 'Small DER that report telemetry and follow DERMS dispatches, paid per kWh delivered.',
    eligibility: { kinds: ['pv', 'battery', 'hybrid'], maxW: 20_000, maxEnergyWh: 60_000 },
    requirements: { telemetry: true, control: true },
    settlement: { ratePerKWh: 0.2, currency: 'USD' },
    grouping: { allowed: true, minMembers: 2, minTotalW: 5000 },
  },
  'commercial-flex': {
    name: 'Commercial flexibility',
    description: 'Larger DER under DERMS monitoring and control.',
    eligibility: { kinds: ['pv', 'battery', 'hybrid'], minW: 20_000, maxW: 1_000_000 },
    requirements: { telemetry: true, control: true },
    settlement: { ratePerKWh: 0.15, currency: 'USD' },
    grouping: { allowed: true, minMembers: 1 },
  },
  'net-metering': {
    name: 'Net metering',
    description: 'Export only; no monitoring, no dispatch, no groups.',
    eligibility: { kinds: ['pv'], maxW: 20_000 },
    requirements: { telemetry: false, control: false },
    settlement: { ratePerKWh: 0, currency: 'USD' },
    grouping: { allowed: false },
  },
};

const allOn = Object.fromEntries(derFunctionNames.map((n) => [n, true])) as DerFunctions;

export interface SeedDemoOptions {
  /** Tokens to install per user (at least 24 characters each); random ones otherwise. */
  readonly tokens?: Partial<Record<DemoUser, string>>;
  /** Where the DERMS reaches each device; in-process by default (the simulator in the same process). */
  readonly endpointFor?: (d: DeviceSpec) => Endpoint;
  /** Every n-th customer is the provider's (the rest are the DSO's own); 3 by default. */
  readonly providerEvery?: number;
  /** Also form the feeder, storage and provider groups (default true). */
  readonly groups?: boolean;
}

export interface SeededDemo {
  /** False when the store already holds the demo (nothing was written). */
  readonly seeded: boolean;
  /** Bearer tokens per demo user, when this call created them. */
  readonly tokens: Record<DemoUser, string> | null;
  readonly ders: number;
  readonly customers: number;
  readonly groups: readonly string[];
}

/**
 * Fill a store for `derms start` on a fleet: the DSO (its admin, support, engineering and
 * operations users), one third-party provider, feeders with room for the fleet, three tariffs,
 * one customer per device (every third one the provider's), and each device registered, reviewed,
 * verified and connected with the full application history, so the DERMS manages them all. In one
 * transaction: the store holds the whole demo or none of it. Seeding a store that has it already
 * writes nothing.
 */
export async function seedDemo(store: DermsStore, fleet: FleetSpec, o: SeedDemoOptions = {}): Promise<SeededDemo> {
  if (await store.orgs.get(DEMO_PROVIDER)) return { seeded: false, tokens: null, ders: 0, customers: 0, groups: [] };
  return store.transaction(async (tx) => {
    const dso = (await tx.orgs.list({ kind: 'dso' }))[0] ?? (await tx.orgs.create({ id: 'dso', name: 'Front Range Power (demo DSO)', kind: 'dso' }));
    await tx.orgs.create({ id: DEMO_PROVIDER, name: 'Sunrise Aggregation (demo provider)', kind: 'provider' });
    const user = async (who: Exclude<DemoUser, 'customer'>) =>
      tx.users.create({ orgId: who === 'provider' ? DEMO_PROVIDER : dso.id, name: `Demo ${who}`, role: roleOf[who] });
    const staff = {
      admin: await user('admin'),
      support: await user('support'),
      engineering: await user('engineering'),
      operations: await user('operations'),
      provider: await user('provider'),
    };
    const as = (u: { id: string; orgId: string }): StoreTx => tx.as({ userId: u.id, orgId: u.orgId });

    for (const [id, spec] of Object.entries(demoTariffs)) await tx.tariffs.create(tariffSpecSchema.parse(spec), id);
    for (const f of fleet.feeders) {
      const rated = fleet.devices.filter((d) => d.feeder === f.id).reduce((s, d) => s + derRatingW({ kind: d.kind, nameplate: d.nameplate }), 0);
      await tx.feeders.upsert({ id: f.id, name: f.id, hostingLimitW: Math.max(50_000, Math.ceil((rated * 1.5) / 10_000) * 10_000) });
    }

    const every = o.providerEvery ?? 3;
    let firstCustomer: string | null = null;
    const providerDers: string[] = [];
    for (const [i, d] of fleet.devices.entries()) {
      const viaProvider = i % every === 0;
      const submitter = viaProvider ? staff.provider : staff.support;
      const der = parseDer({ mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: o.endpointFor?.(d) ?? { protocol: 'in-process', device: d.id } });
      const rating = derRatingW(der);
      const tariffId = rating > 20_000 ? 'commercial-flex' : 'residential-flex';
      const phase: Phase = rating > 20_000 ? 'ABC' : (['A', 'B', 'C'] as const)[i % 3]!;
      const customer = await as(submitter).customers.create({ name: `Customer of ${d.name}`, providerOrgId: viaProvider ? DEMO_PROVIDER : null });
      if (!viaProvider) firstCustomer ??= customer.id;
      const sp = await as(submitter).customers.addServicePoint({ customerId: customer.id, address: `${d.name} (${d.feeder}/${d.section})`, feederId: d.feeder, phase });
      await as(submitter).ders.register({ der, customerId: customer.id, servicePointId: sp.id, providerOrgId: viaProvider ? DEMO_PROVIDER : null });
      const agreement = await as(submitter).agreements.create({ customerId: customer.id, derId: d.id, tariffId });
      const app = await as(submitter).applications.create({ derId: d.id, customerId: customer.id, agreementId: agreement.id });
      await as(staff.support).applications.transition(app.id, { from: ['submitted'], to: 'under-review', action: 'review' });
      await as(staff.engineering).applications.transition(app.id, { from: ['under-review'], to: 'approved', action: 'approve' });
      const wo = await as(staff.engineering).workOrders.create({ applicationId: app.id, checklist: [`nameplate as registered: ${d.kind}, ${d.nameplate.maxW} W`] });
      await as(staff.engineering).workOrders.close(wo.id, 'passed', { notes: 'demo seed' });
      await as(staff.engineering).applications.transition(app.id, { from: ['approved'], to: 'installation-verified', action: 'verify' });
      await as(staff.support).applications.transition(app.id, { from: ['installation-verified'], to: 'connected', reason: 'demo seed', action: 'connect' });
      await as(staff.support).ders.setManaged(d.id, true);
      if (viaProvider && d.kind !== 'pv' && tariffId === 'residential-flex') providerDers.push(d.id);
    }

    const groups: string[] = [];
    if (o.groups !== false) {
      const ops = as(staff.operations);
      const why = { reason: 'demo seed' };
      for (const f of fleet.feeders) {
        const members = fleet.devices.filter((d) => d.feeder === f.id).map((d) => d.id);
        if (!members.length) continue;
        await ops.groups.save(parseGroup({ mRID: f.id, names: [f.id.replace(/^feeder-/, 'Feeder ').toUpperCase()], description: `every DER on ${f.id}`, functions: allOn, members }), why, { ownerOrgId: dso.id });
        groups.push(f.id);
      }
      const storage = fleet.devices.filter((d) => d.kind !== 'pv').map((d) => d.id);
      if (storage.length) {
        await ops.groups.save(parseGroup({ mRID: 'storage', names: ['Storage'], description: 'every battery and hybrid', functions: allOn, members: storage }), why, { ownerOrgId: dso.id });
        groups.push('storage');
      }
      if (providerDers.length >= 2) {
        await as(staff.provider).groups.save(
          parseGroup({ mRID: 'sunrise-vpp', names: ['Sunrise VPP'], description: "Sunrise Aggregation's customers' storage", functions: allOn, members: providerDers }),
          why,
          { ownerOrgId: DEMO_PROVIDER, tariffId: 'residential-flex' },
        );
        groups.push('sunrise-vpp');
      }
    }

    // The demo customer is the first of the DSO's own customers.
    const people = { ...staff, customer: firstCustomer ? await tx.users.create({ orgId: dso.id, name: 'Demo customer', role: 'customer', customerId: firstCustomer }) : null };
    const tokens = {} as Record<DemoUser, string>;
    for (const who of demoUsers) {
      const u = people[who];
      if (!u) continue;
      tokens[who] = (await tx.users.issueToken(u.id, 'demo', o.tokens?.[who])).token;
    }
    return { seeded: true, tokens, ders: fleet.devices.length, customers: fleet.devices.length, groups };
  });
}
