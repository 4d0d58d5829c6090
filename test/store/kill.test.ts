import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDer } from '../../src/core/model/der.js';
import { parseGroup } from '../../src/core/model/group.js';
import { bootstrapDso } from '../../src/services/bootstrap.js';
import { tariffSpecSchema } from '../../src/store/records.js';
import { openSqlite } from '../../src/store/sqlite.js';
import { openStore } from '../../src/store/store.js';
import { pv } from '../support/fixtures.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = join(here, '..', '..');
const ADMIN = 'kill-test-admin-token-0123456789';
const WORKERS = 12;

interface Served {
  child: ChildProcess;
  url: string;
  groups: Array<{ id: string; members: string[] }>;
}

/** Start the server script on the database; resolves when it prints its URL. */
function serve(db: string): Promise<Served> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'kill-server.ts'), db], { cwd: root, env: { ...process.env, KILL_ADMIN_TOKEN: ADMIN }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (l) => resolve({ child, ...JSON.parse(l) }));
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before serving: ${err}`)));
  });
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

type Ack =
  | { kind: 'customer'; id: string }
  | { kind: 'application'; id: string; derId: string; customerId: string }
  | { kind: 'membership'; derId: string; action: 'joined' | 'left'; requestId: string };

describe('crash safety', () => {
  it('SIGKILL under concurrent API writes loses nothing acknowledged and leaves nothing half-written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'derms-kill-'));
    const db = join(dir, 'derms.db');

    // Before the server: a DSO with support and operations tokens, a feeder, a tariff, and one
    // managed DER per worker, each in group g0, so workers move their own DER in and out of it.
    const setup = await openStore(`sqlite:${db}`);
    await bootstrapDso(setup, { adminToken: ADMIN });
    const support = (await setup.users.issueToken((await setup.users.create({ orgId: 'dso', name: 'support', role: 'dso-support' })).id, 'kill', 'kill-test-support-token-000001')).token;
    const operations = (await setup.users.issueToken((await setup.users.create({ orgId: 'dso', name: 'ops', role: 'dso-operations' })).id, 'kill', 'kill-test-operations-token-0001')).token;
    await setup.feeders.upsert({ id: 'f1', name: 'F1', hostingLimitW: 1e9 });
    await setup.tariffs.create(tariffSpecSchema.parse({ name: 'Basic', eligibility: { kinds: ['pv'], maxW: 20_000 }, requirements: { telemetry: false, control: false }, settlement: { ratePerKWh: 0, currency: 'USD' } }), 'basic');
    const own = Array.from({ length: WORKERS }, (_, i) => `w${i}`);
    for (const id of own) await setup.saveDer(parseDer(pv(id)));
    await setup.saveGroup(parseGroup({ mRID: 'g0', members: own }), 'start');
    await setup.close();

    const first = await serve(db);
    children.push(first.child);
    expect(first.groups).toEqual([{ id: 'g0', members: own }]);

    const acks: Ack[] = [];
    let stop = false;
    const call = async (token: string, method: string, path: string, body?: unknown) => {
      const r = await fetch(`${first.url}/api${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : null });
      const json = (await r.json()) as Record<string, unknown> & { id: string };
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(json)}`);
      return json;
    };
    const worker = async (w: number) => {
      let inGroup = true;
      for (let i = 0; !stop; i++) {
        try {
          const c = await call(support, 'POST', '/customers', { name: `Customer ${w}-${i}` });
          acks.push({ kind: 'customer', id: c.id });
          const a = (await call(support, 'POST', '/applications', { customerId: c.id, tariffId: 'basic', servicePoint: { address: `${w}-${i}`, feederId: 'f1', phase: 'A' }, der: { name: 'pv', kind: 'pv', nameplate: { maxW: 4000, maxVA: 4000, maxVarInject: 1000, maxVarAbsorb: 1000, nominalV: 240 }, endpoint: { protocol: 'in-process', device: `d${w}-${i}` } } })) as unknown as { application: { id: string; derId: string } };
          acks.push({ kind: 'application', id: a.application.id, derId: a.application.derId, customerId: c.id });
          const kind = inGroup ? 'remove-members' : 'add-members';
          const req = await call(operations, 'POST', '/group-requests', { kind, groupId: 'g0', members: [own[w]], reason: `toggle ${i}` });
          await call(support, 'POST', `/group-requests/${req.id}/approve`);
          inGroup = !inGroup;
          acks.push({ kind: 'membership', derId: own[w]!, action: inGroup ? 'joined' : 'left', requestId: req.id });
        } catch {
          return; // the server is gone
        }
      }
    };
    const load = Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    // Kill at a random moment once a fair amount has been acknowledged.
    while (acks.length < 40) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, Math.random() * 400));
    first.child.kill('SIGKILL');
    stop = true;
    await load;
    if (first.child.exitCode === null && first.child.signalCode === null) await new Promise((r) => first.child.once('exit', r));
    // Answers that reach us after the kill were sent before it: they count as acknowledged too.
    const acked = acks.length;
    expect(acked).toBeGreaterThanOrEqual(40);

    // The file survived: SQLite recovers the WAL at open.
    const raw = openSqlite(db);
    expect(await raw.get('PRAGMA integrity_check')).toEqual({ integrity_check: 'ok' });
    expect(await raw.get('PRAGMA foreign_key_check')).toBeUndefined();
    await raw.close();

    const store = await openStore(`sqlite:${db}`);
    try {
      // Every acknowledged write is there.
      for (const a of acks.slice(0, acked)) {
        if (a.kind === 'customer') expect(await store.customers.get(a.id), a.id).toBeDefined();
        if (a.kind === 'application') expect(await store.applications.get(a.id), a.id).toMatchObject({ derId: a.derId, customerId: a.customerId });
      }
      for (const d of own) {
        const mine = acks.slice(0, acked).filter((a): a is Extract<Ack, { kind: 'membership' }> => a.kind === 'membership' && a.derId === d);
        const history = (await store.groups.history({ groupId: 'g0', derId: d })).slice(1); // after the initial join
        expect(history.slice(0, mine.length).map((h) => [h.action, h.requestId])).toEqual(mine.map((m) => [m.action, m.requestId]));
        expect(history.length - mine.length).toBeLessThanOrEqual(1); // at most the one in flight at the kill
      }

      // Nothing is half-written: each registration has all its rows, each change its audit entry and messages.
      const apps = await store.applications.list();
      const registered = (await store.ders.list()).filter((r) => r.customerId !== null);
      expect(registered.map((r) => r.der.mRID).sort()).toEqual(apps.map((a) => a.derId).sort());
      for (const app of apps) {
        expect(await store.agreements.get(app.agreementId)).toMatchObject({ derId: app.derId, tariffId: 'basic' });
        expect((await store.applications.history(app.id)).map((h) => h.to)).toEqual(['submitted']);
        expect((await store.audit.list({ entityType: 'application', entityId: app.id })).map((e) => e.action)).toEqual(['application.submitted']);
        expect((await store.outbox.list({ key: app.customerId })).map((m) => (m.payload as { applicationId: string }).applicationId)).toEqual([app.id]);
      }
      // The group as stored is its history replayed; every approved request changed it exactly once.
      const g0 = (await store.groups.require('g0')).group;
      const members = new Set<string>();
      for (const h of await store.groups.history({ groupId: 'g0' })) {
        if (h.action === 'joined') members.add(h.derId);
        else members.delete(h.derId);
      }
      expect([...members].sort()).toEqual([...g0.members].sort());
      const approved = (await store.groupRequests.list({ state: 'approved' })).length;
      expect((await store.groups.history({ groupId: 'g0' })).length).toBe(WORKERS + approved);
      expect((await store.outbox.list({ topic: 'cim.DERGroups' })).length).toBe(approved);

      // A restarted server loads that group into its registry and takes writes again.
      const second = await serve(db);
      children.push(second.child);
      expect(second.groups).toEqual([{ id: 'g0', members: g0.members }]);
      const after = await fetch(`${second.url}/api/customers`, { method: 'POST', headers: { authorization: `Bearer ${support}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'After the crash' }) });
      expect(after.status).toBe(201);
      second.child.kill('SIGTERM');
    } finally {
      await store.close();
    }
  }, 120_000);
});
