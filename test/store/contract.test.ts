import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DermsError } from '../../src/core/errors.js';
import type { DispatchEvent } from '../../src/core/dispatch-events.js';
import { parseDer } from '../../src/core/model/der.js';
import { parseGroup } from '../../src/core/model/group.js';
import { migrate, migrations } from '../../src/store/migrations.js';
import { tokenDigest } from '../../src/store/repos/parties.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { openPostgres } from '../../src/store/postgres.js';
import { openStore, type DermsStore } from '../../src/store/store.js';
import { tariffSpecSchema } from '../../src/store/records.js';
import { battery, pv } from '../support/fixtures.js';
import { ManualClock, storeBackends } from './backends.js';

const dir = mkdtempSync(join(tmpdir(), 'derms-contract-'));
let n = 0;
const backends = storeBackends(() => join(dir, `contract-${++n}.db`));

async function rejects(p: Promise<unknown>): Promise<DermsError> {
  try {
    await p;
  } catch (e) {
    return e as DermsError;
  }
  throw new Error('expected a rejection');
}

const tariff = tariffSpecSchema.parse({
  name: 'Flex',
  eligibility: { kinds: ['pv', 'battery'], maxW: 20_000 },
  requirements: { telemetry: true, control: false },
  settlement: { ratePerKWh: 0.2, currency: 'USD' },
});

const opened: DermsStore[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close().catch(() => undefined);
});

describe.each(backends)('store contract on $name', (backend) => {
  const clock = new ManualClock();
  const open = async (): Promise<DermsStore> => {
    const s = await backend.open({ clock, outbox: { baseDelayMs: 1000, maxDelayMs: 8000, maxAttempts: 3 } });
    opened.push(s);
    return s;
  };
  const reopen = async (): Promise<DermsStore> => {
    const s = await openStore(backend.lastUrl(), { clock });
    opened.push(s);
    return s;
  };

  /** A DSO, a provider, a feeder, a tariff, a customer with a service point. */
  async function basics(s: DermsStore) {
    await s.orgs.create({ id: 'dso', name: 'DSO', kind: 'dso' });
    await s.orgs.create({ id: 'acme', name: 'Acme', kind: 'provider' });
    await s.feeders.upsert({ id: 'f1', name: 'F1', hostingLimitW: 50_000 });
    await s.tariffs.create(tariff, 'flex');
    const c = await s.customers.create({ name: 'Alice', providerOrgId: 'acme' });
    const sp = await s.customers.addServicePoint({ customerId: c.id, address: '1 Main', feederId: 'f1', phase: 'A' });
    return { customer: c, sp };
  }

  describe.skipIf(!backend.available)('schema', () => {
    it('is migrated at open, and opening again applies nothing and keeps the data', async () => {
      const s = await open();
      expect(s.schemaVersion).toBe(migrations.at(-1)!.version);
      await s.orgs.create({ id: 'dso', name: 'DSO', kind: 'dso' });
      await s.close();
      const again = await reopen();
      expect(again.schemaVersion).toBe(migrations.at(-1)!.version);
      expect((await again.orgs.get('dso'))?.name).toBe('DSO');
    });

    it('refuses a database written by a newer program, and one whose migration history differs', async () => {
      const s = await open();
      await s.close();
      const db = backend.name === 'sqlite' ? openSqlite(backend.lastUrl().slice('sqlite:'.length)) : await openPostgres(backend.lastUrl());
      try {
        await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [999, 'from the future', 1]);
        expect((await rejects(migrate(db))).message).toMatch(/schema version 999, newer than this program knows/);
        await db.run('DELETE FROM schema_migrations WHERE version = 999');
        await db.run("UPDATE schema_migrations SET name = 'something else' WHERE version = 1");
        expect((await rejects(migrate(db))).code).toBe('CONFLICT');
      } finally {
        await db.close();
      }
    });
  });

  describe.skipIf(!backend.available)('records', () => {
    it('organizations, users and tokens: roles fit the organization; tokens are kept as digests and can be revoked', async () => {
      const s = await open();
      await basics(s);
      expect((await rejects(s.users.create({ orgId: 'acme', name: 'x', role: 'dso-support' }))).code).toBe('INVALID_INPUT');
      expect((await rejects(s.users.create({ orgId: 'dso', name: 'x', role: 'provider' }))).code).toBe('INVALID_INPUT');
      expect((await rejects(s.users.create({ orgId: 'dso', name: 'x', role: 'customer' }))).code).toBe('INVALID_INPUT');
      expect((await rejects(s.users.create({ orgId: 'nowhere', name: 'x', role: 'dso-admin' }))).code).toBe('NOT_FOUND');
      const u = await s.users.create({ orgId: 'acme', name: 'Pat', role: 'provider' });
      const { token, record } = await s.users.issueToken(u.id, 'laptop');
      expect(await s.users.resolveToken(token)).toEqual({ userId: u.id, orgId: 'acme', orgKind: 'provider', role: 'provider', customerId: null });
      expect(await s.users.resolveToken(token + 'x')).toBeUndefined();
      const stored = await s.audit.list({ entityType: 'user', entityId: u.id });
      expect(JSON.stringify(stored)).not.toContain(token);
      expect(tokenDigest(token)).toHaveLength(64);
      await s.users.revokeToken(record.id);
      expect(await s.users.resolveToken(token)).toBeUndefined();
      expect((await rejects(s.users.issueToken(u.id, 'short', 'too-short'))).code).toBe('INVALID_INPUT');
    });

    it('customers, service points and a provider sees its own customers and those with its DER', async () => {
      const s = await open();
      const { customer } = await basics(s);
      const own = await s.customers.create({ name: 'Direct' });
      expect((await s.customers.list({ visibleToProvider: 'acme' })).map((c) => c.id)).toEqual([customer.id]);
      const sp = await s.customers.addServicePoint({ customerId: own.id, address: '2 Main', feederId: 'f1', phase: 'ABC' });
      await s.ders.register({ der: parseDer(pv('d1')), customerId: own.id, servicePointId: sp.id, providerOrgId: 'acme' });
      expect((await s.customers.list({ visibleToProvider: 'acme' })).map((c) => c.id).sort()).toEqual([customer.id, own.id].sort());
      expect((await rejects(s.customers.addServicePoint({ customerId: own.id, address: 'x', feederId: 'nope', phase: 'A' }))).code).toBe('NOT_FOUND');
      expect((await rejects(s.customers.create({ name: 'x', providerOrgId: 'dso' }))).code).toBe('INVALID_INPUT');
    });

    it('DER registry: a change of provider is kept in the history and leaves the agreement and its tariff alone', async () => {
      const s = await open();
      const { customer, sp } = await basics(s);
      await s.orgs.create({ id: 'beta', name: 'Beta', kind: 'provider' });
      const d = parseDer(battery('b1'));
      await s.ders.register({ der: d, customerId: customer.id, servicePointId: sp.id, providerOrgId: 'acme' });
      const agreement = await s.agreements.create({ customerId: customer.id, derId: 'b1', tariffId: 'flex' });
      clock.advance(1000);
      await s.ders.setProvider('b1', 'beta', 'customer switched aggregator');
      clock.advance(1000);
      await s.ders.setProvider('b1', null, 'contract ended');
      expect((await s.ders.providerHistory('b1')).map((h) => [h.providerOrgId, h.reason])).toEqual([
        ['acme', 'registered by the provider'],
        ['beta', 'customer switched aggregator'],
        [null, 'contract ended'],
      ]);
      expect(await s.agreements.current('b1')).toEqual(agreement);
      expect((await s.ders.require('b1')).ratedW).toBe(5000);
      expect((await s.ders.list({ providerOrgId: 'beta' })).length).toBe(0);
      expect((await s.ders.list({ feederId: 'f1' })).map((r) => r.der.mRID)).toEqual(['b1']);
      expect((await rejects(s.ders.register({ der: d, customerId: null, servicePointId: null, providerOrgId: null }))).code).toBe('ALREADY_EXISTS');
      expect((await rejects(s.ders.register({ der: parseDer(pv('x')), customerId: 'nobody', servicePointId: null, providerOrgId: null }))).code).toBe('NOT_FOUND');
    });

    it('applications move only from the states a transition allows, and every move is recorded', async () => {
      const s = await open();
      const { customer, sp } = await basics(s);
      await s.ders.register({ der: parseDer(pv('p1')), customerId: customer.id, servicePointId: sp.id, providerOrgId: null });
      const agr = await s.agreements.create({ customerId: customer.id, derId: 'p1', tariffId: 'flex' });
      const app = await s.transaction((tx) => tx.applications.create({ derId: 'p1', customerId: customer.id, agreementId: agr.id }), { userId: null, orgId: 'dso' });
      await s.applications.transition(app.id, { from: ['submitted'], to: 'under-review', action: 'review' });
      await s.applications.transition(app.id, { from: ['under-review'], to: 'rejected', reason: 'no certificate', action: 'reject' });
      const e = await rejects(s.applications.transition(app.id, { from: ['under-review', 'held-for-upgrade'], to: 'approved', action: 'approve' }));
      expect(e.code).toBe('CONFLICT');
      expect(e.message).toBe(`cannot approve application ${app.id}: it is rejected (no certificate); only under-review or held-for-upgrade can be`);
      expect((await s.applications.history(app.id)).map((h) => `${h.from}->${h.to}`)).toEqual(['null->submitted', 'submitted->under-review', 'under-review->rejected']);
      expect((await s.applications.require(app.id)).submittedByOrgId).toBe('dso');
    });

    it('work orders close once', async () => {
      const s = await open();
      const { customer, sp } = await basics(s);
      await s.ders.register({ der: parseDer(pv('p1')), customerId: customer.id, servicePointId: sp.id, providerOrgId: null });
      const agr = await s.agreements.create({ customerId: customer.id, derId: 'p1', tariffId: 'flex' });
      const app = await s.applications.create({ derId: 'p1', customerId: customer.id, agreementId: agr.id });
      const wo = await s.workOrders.create({ applicationId: app.id, checklist: ['nameplate'] });
      await s.workOrders.close(wo.id, 'passed', { notes: 'ok' });
      expect((await rejects(s.workOrders.close(wo.id, 'failed', {}))).code).toBe('CONFLICT');
      expect(await s.workOrders.get(wo.id)).toMatchObject({ state: 'passed', checklist: ['nameplate'], result: { notes: 'ok' } });
    });

    it('hosting: committed rating counts managed DER and approved applications on the feeder', async () => {
      const s = await open();
      const { customer, sp } = await basics(s);
      await s.ders.register({ der: parseDer(pv('m', 4000)), customerId: customer.id, servicePointId: sp.id, providerOrgId: null, managed: true });
      await s.ders.register({ der: parseDer(pv('a', 3000)), customerId: customer.id, servicePointId: sp.id, providerOrgId: null });
      await s.ders.register({ der: parseDer(pv('q', 2000)), customerId: customer.id, servicePointId: sp.id, providerOrgId: null });
      const agr = await s.agreements.create({ customerId: customer.id, derId: 'a', tariffId: 'flex' });
      const app = await s.applications.create({ derId: 'a', customerId: customer.id, agreementId: agr.id });
      expect(await s.feeders.committedW('f1')).toEqual({ w: 4000, ders: 1 });
      await s.applications.transition(app.id, { from: ['submitted'], to: 'approved', action: 'approve' });
      expect(await s.feeders.committedW('f1')).toEqual({ w: 7000, ders: 2 });
      expect(await s.feeders.committedW('f1', 'm')).toEqual({ w: 3000, ders: 1 });
    });
  });

  describe.skipIf(!backend.available)('groups and membership history', () => {
    it('saving and dissolving a group appends who joined and left, when and by whose request; the history cannot be rewritten', async () => {
      const s = await open();
      for (const id of ['a', 'b', 'c']) await s.saveDer(parseDer(pv(id)));
      const actor = { userId: null, orgId: 'dso' };
      const g1 = parseGroup({ mRID: 'g', members: ['a', 'b'] });
      await s.transaction((tx) => tx.groups.save(g1, { reason: 'formed', requestId: 'grq-1' }, { ownerOrgId: null }), actor);
      clock.advance(60_000);
      await s.saveGroup({ ...g1, members: ['b', 'c'], version: { major: 1, minor: 1, revision: 0 } }, 'rebalanced');
      clock.advance(60_000);
      await s.deleteGroup('g', 'dissolved by the DMS');
      const h = await s.groups.history({ groupId: 'g' });
      expect(h.map((e) => `${e.action} ${e.derId} (${e.reason})`)).toEqual([
        'joined a (formed)',
        'joined b (formed)',
        'left a (rebalanced)',
        'joined c (rebalanced)',
        'left b (dissolved by the DMS)',
        'left c (dissolved by the DMS)',
      ]);
      expect(h[0]!.requestId).toBe('grq-1');
      expect(h[2]!.at - h[0]!.at).toBe(60_000);
      expect(await s.loadGroups()).toEqual([]);
      expect((await s.groups.get('g'))?.active).toBe(false);
      expect((await s.groups.history({ derId: 'a' })).map((e) => e.action)).toEqual(['joined', 'left']);
      // Append-only in the engine itself, whoever connects.
      const db = backend.name === 'sqlite' ? openSqlite(backend.lastUrl().slice('sqlite:'.length)) : await openPostgres(backend.lastUrl());
      try {
        for (const sql of ['UPDATE group_membership_history SET reason = ? WHERE id > 0', 'DELETE FROM group_membership_history WHERE reason <> ?']) {
          const e = await rejects(db.run(sql, ['x']));
          expect(e.code).toBe('CONFLICT');
          expect(e.message).toMatch(/append-only table group_membership_history/);
        }
        await s.appendDispatchEvent({ dispatchId: 'd', at: 1, type: 'accepted', body: {} });
        for (const table of ['audit_log', 'dispatch_events']) {
          expect((await rejects(db.run(`DELETE FROM ${table} WHERE id > ?`, [0]))).message).toMatch(/append-only/);
        }
      } finally {
        await db.close();
      }
      expect((await s.groups.history({ groupId: 'g' })).length).toBe(6);
    });

    it('a dissolved group formed again starts a new membership; members must be DER the store knows', async () => {
      const s = await open();
      for (const id of ['a', 'b']) await s.saveDer(parseDer(pv(id)));
      await s.saveGroup(parseGroup({ mRID: 'g', members: ['a'] }), 'formed');
      await s.deleteGroup('g', 'gone');
      await s.saveGroup(parseGroup({ mRID: 'g', members: ['a', 'b'] }), 'formed again');
      expect((await s.loadGroups()).map((g) => g.members)).toEqual([['a', 'b']]);
      expect((await s.groups.history({ groupId: 'g' })).map((e) => e.action)).toEqual(['joined', 'left', 'joined', 'joined']);
      expect((await rejects(s.saveGroup(parseGroup({ mRID: 'h', members: ['ghost'] }), 'x'))).code).toBe('NOT_FOUND');
      expect(await s.groups.get('h')).toBeUndefined();
      expect((await rejects(s.deleteGroup('nope', 'x'))).code).toBe('NOT_FOUND');
    });
  });

  describe.skipIf(!backend.available)('the core port', () => {
    it('saves, loads and removes DER and groups as the core has them', async () => {
      const s = await open();
      const a = parseDer(pv('a'));
      await s.saveDer(a);
      await s.saveDer(parseDer(battery('b')));
      await s.saveDer({ ...a, name: 'renamed' });
      expect((await s.loadDers()).map((d) => [d.mRID, d.name])).toEqual([['a', 'renamed'], ['b', 'Battery b']]);
      await s.deleteDer('b');
      expect((await s.loadDers()).map((d) => d.mRID)).toEqual(['a']);
      expect((await s.ders.require('b')).managed).toBe(false);
      await s.saveGroup(parseGroup({ mRID: 'g', names: ['G'], members: ['a'] }), 'test');
      expect(await s.loadGroups()).toEqual([parseGroup({ mRID: 'g', names: ['G'], members: ['a'] })]);
      await s.appendDispatchEvent({ dispatchId: 'd1', at: 5, type: 'custom', body: { x: 1 } });
      expect(await s.dispatches.events('d1')).toEqual([{ at: 5, type: 'custom', body: { x: 1 } }]);
    });

    it('every change writes an audit entry naming the actor, in the same transaction', async () => {
      const s = await open();
      await s.transaction(async (tx) => {
        await tx.orgs.create({ id: 'dso', name: 'DSO', kind: 'dso' });
        await tx.feeders.upsert({ id: 'f', name: 'F', hostingLimitW: 1 });
      }, { userId: null, orgId: 'dso' });
      await s.feeders.upsert({ id: 'f', name: 'F', hostingLimitW: 2 });
      const log = await s.audit.list();
      expect(log.map((e) => [e.action, e.entityId, e.actorOrgId])).toEqual([
        ['organization.created', 'dso', 'dso'],
        ['feeder.created', 'f', 'dso'],
        ['feeder.changed', 'f', null],
      ]);
      expect(log[2]!.detail).toMatchObject({ hostingLimitW: 2, previousHostingLimitW: 1 });
    });
  });

  describe.skipIf(!backend.available)('transactions', () => {
    it('a failure inside a transaction leaves nothing of it: records, audit and outbox messages', async () => {
      const s = await open();
      await basics(s);
      const before = { audit: (await s.audit.list()).length, customers: (await s.customers.list()).length };
      const e = await rejects(s.transaction(async (tx) => {
        await tx.customers.create({ id: 'ghost', name: 'Ghost' });
        await tx.outbox.enqueue({ topic: 'customer.notification', payload: { hello: 'ghost' } });
        await tx.customers.create({ id: 'ghost', name: 'Ghost twice' });
      }));
      expect(e.code).toBe('ALREADY_EXISTS');
      expect(await s.customers.get('ghost')).toBeUndefined();
      expect((await s.customers.list()).length).toBe(before.customers);
      expect((await s.audit.list()).length).toBe(before.audit);
      expect(await s.outbox.list()).toEqual([]);
    });

    it('concurrent transactions all commit, each whole', async () => {
      const s = await open();
      await s.orgs.create({ id: 'dso', name: 'DSO', kind: 'dso' });
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          s.transaction(async (tx) => {
            const c = await tx.customers.create({ id: `c${i}`, name: `Customer ${i}` });
            await tx.outbox.enqueue({ topic: 't', key: c.id, payload: { i } });
          }),
        ),
      );
      expect((await s.customers.list()).length).toBe(40);
      expect((await s.outbox.list()).length).toBe(40);
      expect((await s.audit.list({ entityType: 'customer' })).length).toBe(40);
    });

    it('using the store directly inside its own transaction is an error, not a deadlock', async () => {
      const s = await open();
      if (backend.name !== 'sqlite') return; // PostgreSQL runs each on its own connection
      const e = await rejects(s.transaction(() => s.orgs.list()));
      expect(e.message).toMatch(/inside one of its own transactions/);
    });
  });

  describe.skipIf(!backend.available)('dispatch log and energy', () => {
    const dispatch = { mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 5000, unit: 'W' }, policy: 'headroom', onEnd: 'restoreDefault' } as never;
    it('records tracker events as dispatches and member outcomes', async () => {
      const s = await open();
      const events: DispatchEvent[] = [
        { type: 'outcome', dispatchId: 'd0', groupId: 'g', at: 1, derId: 'a', setpoint: { kind: 'activePower', w: 1, derId: 'a' }, outcome: { status: 'applied' } },
        { type: 'accepted', dispatchId: 'd1', groupId: 'g', at: 1000, dispatch },
        { type: 'outcome', dispatchId: 'd1', groupId: 'g', at: 1100, derId: 'a', setpoint: { kind: 'activePower', w: 3000, derId: 'a' }, outcome: { status: 'applied' } },
        { type: 'outcome', dispatchId: 'd1', groupId: 'g', at: 1200, derId: 'b', setpoint: { kind: 'activePower', w: 2000, derId: 'b' }, outcome: { status: 'rejected', reason: 'busy' } },
        { type: 'ended', dispatchId: 'd1', groupId: 'g', at: 5000, state: 'completed', reason: 'schedule done' },
      ];
      await s.dispatches.record(events);
      expect(await s.dispatches.get('d1')).toMatchObject({ groupId: 'g', controlKind: 'activePower', state: 'completed', acceptedAt: 1000, endedAt: 5000, endReason: 'schedule done' });
      expect((await s.dispatches.outcomes('d1')).map((o) => [o.derId, o.requestedW, o.status, o.detail])).toEqual([
        ['a', 3000, 'applied', null],
        ['b', 2000, 'rejected', 'busy'],
      ]);
      expect(await s.dispatches.get('d0')).toBeUndefined();
      expect((await s.dispatches.events('d0')).length).toBe(1);
      expect((await s.dispatches.list({ from: 4000, to: 6000 })).map((d) => d.id)).toEqual(['d1']);
      expect((await s.dispatches.list({ from: 5000, to: 6000 })).map((d) => d.id)).toEqual([]);
      expect((await s.dispatches.ofDer('b')).map((d) => d.id)).toEqual(['d1']);
    });

    it('energy rollups add up per DER and interval', async () => {
      const s = await open();
      await s.energy.add([{ derId: 'a', intervalStart: 0, intervalMs: 60_000, outWh: 10, inWh: 0, coveredMs: 30_000 }]);
      await s.energy.add([
        { derId: 'a', intervalStart: 0, intervalMs: 60_000, outWh: 5, inWh: 1, coveredMs: 30_000 },
        { derId: 'a', intervalStart: 60_000, intervalMs: 60_000, outWh: 7, inWh: 0, coveredMs: 60_000 },
      ]);
      expect(await s.energy.range('a', 0, 60_000)).toEqual([{ derId: 'a', intervalStart: 0, intervalMs: 60_000, outWh: 15, inWh: 1, coveredMs: 60_000 }]);
      expect((await s.energy.range('a', 30_000, 90_000)).length).toBe(2);
      expect(await s.energy.range('b', 0, 1e9)).toEqual([]);
      expect((await rejects(s.energy.add([{ derId: 'a', intervalStart: 120_000, intervalMs: 60_000, outWh: -1, inWh: 0, coveredMs: 0 }]))).code).toBe('INVALID_INPUT');
    });
  });

  describe.skipIf(!backend.available)('outbox', () => {
    it('enqueue with the change, claim, ack; failures back off and end dead', async () => {
      const s = await open();
      const id = await s.transaction((tx) => tx.outbox.enqueue({ topic: 'cim.DERGroups', key: 'g1', payload: { verb: 'created' } }));
      const [m] = await s.outbox.claim({ worker: 'w1', leaseMs: 10_000 });
      expect(m).toMatchObject({ id, topic: 'cim.DERGroups', key: 'g1', payload: { verb: 'created' }, attempts: 1 });
      expect(await s.outbox.claim({ worker: 'w2' })).toEqual([]);
      expect((await s.outbox.fail(id, 'w1', 'DMS returned 503')).retryAt).toBe(clock.now() + 1000);
      expect(await s.outbox.claim({ worker: 'w1' })).toEqual([]);
      clock.advance(1000);
      await s.outbox.claim({ worker: 'w1' });
      expect((await s.outbox.fail(id, 'w1', 'again')).retryAt).toBe(clock.now() + 2000);
      clock.advance(2000);
      await s.outbox.claim({ worker: 'w1' });
      expect(await s.outbox.fail(id, 'w1', 'third time')).toEqual({ state: 'dead', retryAt: null });
      clock.advance(60_000);
      expect(await s.outbox.claim({ worker: 'w1' })).toEqual([]);
      expect(await s.outbox.get(id)).toMatchObject({ state: 'dead', attempts: 3, lastError: 'third time' });
      const ok = await s.outbox.enqueue({ topic: 't', payload: 1 });
      await s.outbox.claim({ worker: 'w1' });
      expect((await rejects(s.outbox.ack(ok, 'w2'))).code).toBe('CONFLICT');
      await s.outbox.ack(ok, 'w1');
      expect(await s.outbox.counts()).toEqual({ pending: 0, done: 1, dead: 1 });
      expect((await rejects(s.outbox.ack(ok, 'w1'))).code).toBe('CONFLICT');
    });

    it('messages with one key go out in order, one after another; other keys do not wait', async () => {
      const s = await open();
      const a1 = await s.outbox.enqueue({ topic: 't', key: 'a', payload: 'a1' });
      const a2 = await s.outbox.enqueue({ topic: 't', key: 'a', payload: 'a2' });
      const b1 = await s.outbox.enqueue({ topic: 't', key: 'b', payload: 'b1' });
      const free = await s.outbox.enqueue({ topic: 'u', payload: 'free' });
      expect((await s.outbox.claim({ worker: 'w', topics: ['t'] })).map((m) => m.id)).toEqual([a1, b1]);
      await s.outbox.fail(a1, 'w', 'retry later');
      clock.advance(1000);
      expect((await s.outbox.claim({ worker: 'w' })).map((m) => m.id)).toEqual([a1, free]);
      await s.outbox.ack(a1, 'w');
      expect((await s.outbox.claim({ worker: 'w' })).map((m) => m.id)).toEqual([a2]);
    });

    it('queue use by one sender: head per key, coalescing behind the head, eviction of the oldest non-head, settling by the sender\'s id', async () => {
      const s = await open();
      const put = (key: string, extId: string, coalesceKey?: string) => s.outbox.enqueue({ topic: 'cim.push', key, payload: { extId }, extId, ...(coalesceKey ? { coalesceKey } : {}) });
      await put('dms-a', 'a1', 'status:g1');
      await put('dms-a', 'a2', 'status:g1');
      await put('dms-a', 'a3', 'status:g2');
      await put('dms-b', 'b1');
      expect((await s.outbox.head('cim.push', 'dms-a'))?.extId).toBe('a1');
      expect(await s.outbox.depthByKey('cim.push')).toEqual({ 'dms-a': 3, 'dms-b': 1 });
      // a1 is the head (may be in flight): only a2 is replaced.
      expect(await s.outbox.supersede('cim.push', 'dms-a', 'status:g1')).toBe(1);
      await put('dms-a', 'a4', 'status:g1');
      expect((await s.outbox.dropOldestQueued('cim.push'))?.extId).toBe('a3');
      expect(await s.outbox.settle('cim.push', 'a1')).toBe('dms-a');
      expect(await s.outbox.settle('cim.push', 'a1')).toBeUndefined();
      expect((await s.outbox.head('cim.push', 'dms-a'))?.extId).toBe('a4');
      expect(await s.outbox.dropOldestQueued('cim.push')).toBeUndefined(); // a4 and b1 both head their queues
      expect(await s.outbox.depthByKey('cim.push')).toEqual({ 'dms-a': 1, 'dms-b': 1 });
    });

    it('a version-1 store is upgraded in place when opened, its data kept', async () => {
      const s = await open();
      await s.close();
      const db = backend.name === 'sqlite' ? openSqlite(backend.lastUrl().slice('sqlite:'.length)) : await openPostgres(backend.lastUrl());
      try {
        // Rebuild the database as version 1 left it, with a message in the outbox.
        if (backend.name === 'postgres') {
          await db.run('DROP SCHEMA public CASCADE');
          await db.run('CREATE SCHEMA public');
        } else {
          const tables = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
          await db.run('PRAGMA foreign_keys = OFF');
          for (const t of tables) await db.run(`DROP TABLE ${t.name}`);
          await db.run('PRAGMA foreign_keys = ON');
        }
        expect(await migrate(db, migrations.slice(0, 1))).toEqual({ from: 0, to: 1 });
        await db.run("INSERT INTO outbox (topic, msg_key, payload, created_at, available_at, attempts, state) VALUES ('t', 'k', '{\"v\":1}', 1, 1, 0, 'pending')");
      } finally {
        await db.close();
      }
      const upgraded = await reopen();
      expect(upgraded.schemaVersion).toBe(migrations.at(-1)!.version);
      expect(await upgraded.outbox.list()).toMatchObject([{ topic: 't', key: 'k', payload: { v: 1 }, extId: null }]);
    });

    it('an expired lease makes the message claimable again; concurrent claimers never share a message', async () => {
      const s = await open();
      const ids = [];
      for (let i = 0; i < 30; i++) ids.push(await s.outbox.enqueue({ topic: 't', payload: i }));
      await s.outbox.claim({ worker: 'dies', limit: 5, leaseMs: 5000 });
      const claims = await Promise.all(['w1', 'w2', 'w3', 'w4'].map((w) => s.outbox.claim({ worker: w, limit: 10 })));
      const got = claims.flat().map((m) => m.id);
      expect(new Set(got).size).toBe(got.length);
      expect(got.length).toBe(25);
      clock.advance(5000);
      const again = await s.outbox.claim({ worker: 'w5', limit: 10 });
      expect(again.map((m) => m.id)).toEqual(ids.slice(0, 5));
      expect(again.every((m) => m.attempts === 2)).toBe(true);
    });
  });
});
