import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApplicationSummary, MembershipEntry } from '../../../src/app/dashboard/index.js';
import { MemoryServices, sampleApplications } from './memory-services.js';
import { demoSystem, type DemoSystem } from './system.js';

let s: DemoSystem;
let services: MemoryServices;

beforeAll(async () => {
  s = await demoSystem({
    services: (core) => (services = new MemoryServices(core.registry, () => core.clock.now(), sampleApplications(core.clock.now()))),
  });
});
afterAll(async () => {
  services.close();
  await s.stop();
});

interface ErrorReply {
  error: { code: string; message: string; issues: { path: string; message: string }[] };
}
type Reply = ErrorReply & { enabled: boolean; applications: ApplicationSummary[]; application: ApplicationSummary; entries: MembershipEntry[] };

/** One request; the reply is read as whichever of the API's bodies the assertion expects. */
const inject = async (method: 'GET' | 'POST', url: string, payload?: unknown): Promise<{ status: number; body: Reply }> => {
  const r = await s.app.inject({ method, url, ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) }) });
  return { status: r.statusCode, body: r.json() };
};

describe('customer services view', () => {
  it('is enabled and lists the application queue', async () => {
    expect((await inject('GET', '/ui/api/services')).body).toEqual({ enabled: true });
    const { body } = await inject('GET', '/ui/api/services/applications');
    expect(body.applications.map((a) => a.id)).toEqual(['APP-1041', 'APP-1042', 'APP-1043', 'APP-1044']);
  });

  it('approves, holds and rejects through the services, with the reason kept', async () => {
    const approve = await inject('POST', '/ui/api/services/applications/APP-1041/decision', { action: 'approve', reason: 'hosting capacity ok' });
    expect(approve.status).toBe(200);
    expect(approve.body.application).toMatchObject({ id: 'APP-1041', state: 'approved', note: 'hosting capacity ok', updatedAt: s.clock.now() });
    expect((await inject('POST', '/ui/api/services/applications/APP-1042/decision', { action: 'hold', reason: 'feeder upgrade' })).body.application.state).toBe('held-for-upgrade');
    expect((await inject('POST', '/ui/api/services/applications/APP-1044/decision', { action: 'reject' })).body.application).toMatchObject({ state: 'rejected', note: null });
    const { body } = await inject('GET', '/ui/api/services/applications');
    expect(Object.fromEntries(body.applications.map((a) => [a.id, a.state]))).toEqual({
      'APP-1041': 'approved',
      'APP-1042': 'held-for-upgrade',
      'APP-1043': 'held-for-upgrade',
      'APP-1044': 'rejected',
    });
  });

  it('refuses a bad decision and changes nothing', async () => {
    const before = JSON.stringify(services.listApplications());
    const bad = await inject('POST', '/ui/api/services/applications/APP-1043/decision', { action: 'shelve' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toEqual(['action']);
    expect((await inject('POST', '/ui/api/services/applications/APP-1043/decision', { action: 'approve', reason: 7 })).body.error.issues[0]!.path).toBe('reason');
    expect((await inject('POST', '/ui/api/services/applications/APP-1043/decision', {})).status).toBe(400);
    const conflict = await inject('POST', '/ui/api/services/applications/APP-1041/decision', { action: 'hold' });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toContain('approved');
    expect((await inject('POST', '/ui/api/services/applications/APP-9/decision', { action: 'approve' })).status).toBe(404);
    expect(JSON.stringify(services.listApplications())).toBe(before);
  });

  it('shows the membership history, per group or all', async () => {
    s.core.registry.changeGroup('storage', { removeMembers: ['bess-school'] });
    const all = (await inject('GET', '/ui/api/services/memberships')).body.entries;
    expect(all.length).toBe(s.spec.devices.length + s.spec.devices.filter((d) => d.kind !== 'pv').length + 1);
    const storage = (await inject('GET', '/ui/api/services/memberships?groupId=storage')).body.entries;
    expect(storage[0]).toMatchObject({ groupId: 'storage', derId: 'bess-school', change: 'left' });
    expect(storage.every((e) => e.groupId === 'storage')).toBe(true);
    expect((await inject('GET', '/ui/api/services/memberships?groupId=')).status).toBe(400);
  });
});
