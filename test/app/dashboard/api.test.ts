import Fastify from 'fastify';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerDashboard } from '../../../src/app/dashboard/index.js';
import { packageRoot } from '../../../src/cli/paths.js';
import type { DeviceRow, FeedersView, FleetCounts, GroupDetail, GroupSummary } from '../../../src/app/dashboard/views.js';
import type { DispatchEvent, DispatchRecord } from '../../../src/core/dispatch-events.js';
import type { DerGroup } from '../../../src/core/model/group.js';
import type { GroupStatus } from '../../../src/core/group-status.js';
import { allOn, demoSystem, type DemoSystem } from './system.js';

interface ErrorReply {
  error: { code: string; message: string; issues: { path: string; message: string }[] };
}
type FleetReply = FleetCounts & { now: number; devices: DeviceRow[] };

let s: DemoSystem;
const events: DispatchEvent[] = [];

beforeAll(async () => {
  s = await demoSystem();
  s.core.tracker.events$.subscribe((e) => events.push(e));
  await s.clock.advanceBy(5_000);
});
afterAll(async () => s.stop());

const get = async <T = ErrorReply>(url: string): Promise<{ status: number; body: T }> => {
  const r = await s.app.inject({ method: 'GET', url });
  return { status: r.statusCode, body: r.json() };
};
const post = async <T = ErrorReply>(url: string, payload: unknown): Promise<{ status: number; body: T }> => {
  const r = await s.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) });
  return { status: r.statusCode, body: r.json() };
};
const status = (g: string): GroupStatus => s.core.aggregator.status(g)!;

/** The registry's groups and the tracker's dispatches, to prove a refused request changed nothing. */
function snapshot(): string {
  const groups = [...s.core.registry.allGroups()].map((g) => JSON.stringify(g));
  const live = ['feeder-a', 'feeder-b', 'storage'].flatMap((g) => s.core.tracker.live(g).map((r) => r.dispatchId));
  return JSON.stringify({ groups, live, events: events.length });
}

/** A request that must be refused with `code`, an issue at `path` (when given), and no change. */
async function refused(url: string, payload: unknown, code: string, httpStatus: number, path?: string): Promise<ErrorReply> {
  const before = snapshot();
  const r = await post(url, payload);
  expect(r.status, JSON.stringify(r.body)).toBe(httpStatus);
  const body = r.body;
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  if (path !== undefined) expect(body.error.issues.map((i) => i.path)).toContain(path);
  await s.clock.advanceBy(2_000);
  expect(snapshot().replace(/"events":\d+/, '')).toBe(before.replace(/"events":\d+/, ''));
  return body;
}

describe('dashboard page and files', () => {
  it('serves the page, its modules and uPlot from its package', async () => {
    const page = await s.app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toContain('/ui/vendor/uPlot.iife.min.js');
    expect(page.body).toContain('/ui/app.js');
    for (const f of ['app.js', 'api.js', 'charts.js', 'fleet.js', 'groups.js', 'new-group.js', 'services.js', 'forms.js', 'dom.js', 'format.js', 'style.css']) {
      const r = await s.app.inject({ method: 'GET', url: `/ui/${f}` });
      expect(r.statusCode, f).toBe(200);
    }
    const uplot = await s.app.inject({ method: 'GET', url: '/ui/vendor/uPlot.iife.min.js' });
    expect(uplot.headers['content-type']).toMatch(/javascript/);
    expect(uplot.body).toBe(readFileSync(join(packageRoot(), 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'), 'utf8'));
    const missing = await s.app.inject({ method: 'GET', url: '/ui/../package.json' });
    expect(missing.statusCode).toBe(404);
  });

  it('imports only files it serves (no network, no build step)', async () => {
    const page = (await s.app.inject({ method: 'GET', url: '/' })).body;
    const refs = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((r) => !r.startsWith('#'));
    const modules = ['app.js', 'api.js', 'charts.js', 'fleet.js', 'groups.js', 'new-group.js', 'services.js', 'forms.js', 'dom.js', 'format.js'];
    for (const m of modules) {
      const src = (await s.app.inject({ method: 'GET', url: `/ui/${m}` })).body;
      refs.push(...[...src.matchAll(/from '\.\/([^']+)'/g)].map((x) => `/ui/${x[1]}`));
    }
    for (const r of new Set(refs)) {
      expect(r, 'served locally').toMatch(/^\/ui\//);
      expect((await s.app.inject({ method: 'GET', url: r })).statusCode, r).toBe(200);
    }
  });
});

describe('fleet and feeders', () => {
  it('counts devices by type, protocol and state', async () => {
    const { status: code, body } = await get<FleetReply>('/ui/api/fleet');
    expect(code).toBe(200);
    expect(body.total).toBe(s.spec.devices.length);
    expect(body.byFreshness).toEqual({ fresh: s.spec.devices.length, stale: 0, offline: 0 });
    const protocols = new Set(s.spec.devices.map((d) => d.protocol));
    expect(new Set(body.matrix.map((r: { protocol: string }) => r.protocol))).toEqual(protocols);
    for (const kind of ['pv', 'battery', 'hybrid']) {
      const rows = body.matrix.filter((r: { kind: string }) => r.kind === kind);
      const n = rows.reduce((a: number, r: { fresh: number; stale: number; offline: number }) => a + r.fresh + r.stale + r.offline, 0);
      expect(n, kind).toBe(s.spec.devices.filter((d) => d.kind === kind).length);
    }
    const states = Object.values(body.byState as Record<string, number>).reduce((a, b) => a + b, 0);
    expect(states).toBe(body.total);
    const roof = body.devices.find((d) => d.id === 'pv-roof-1')!;
    expect(roof).toMatchObject({ kind: 'pv', protocol: 'sunspec', feeder: 'feeder-a', section: 'a3', freshness: 'fresh', groups: ['feeder-a'] });
    expect(roof.w).toBe(s.core.aggregator.view('pv-roof-1')!.sample!.w);
    const sum = body.devices.reduce((a, d) => a + d.w!, 0);
    expect(body.activePowerW).toBeCloseTo(sum, 6);
  });

  it('shows section voltages from the feeder model', async () => {
    const { body } = await get<FeedersView>('/ui/api/feeders');
    expect(body.source).toBe('model');
    expect(body.feeders.map((f: { id: string }) => f.id)).toEqual(s.spec.feeders.map((f) => f.id));
    const a = body.feeders.find((f) => f.id === 'feeder-a')!;
    expect(a.sections.map((x: { id: string }) => x.id)).toEqual(['a1', 'a2', 'a3', 'a4']);
    expect(a.sections.map((x: { depth: number }) => x.depth)).toEqual([0, 1, 2, 2]);
    const a3 = a.sections.find((x) => x.id === 'a3')!;
    // pv-roof-1 sits on a3 with the feeder's nominal voltage, so it sees the section voltage.
    expect(a3.v).toBeCloseTo(s.sim.voltageAt('pv-roof-1'), 9);
    expect(a3.vPu).toBeCloseTo(a3.v! / 240, 12);
    expect(a.minPu).toBeLessThanOrEqual(a.maxPu!);
    for (const f of body.feeders) expect(f.sections.reduce((n: number, x: { ders: number }) => n + x.ders, 0)).toBe(s.spec.devices.filter((d) => d.feeder === f.id).length);
  });
});

describe('without a simulation in this process', () => {
  it('takes section voltages from what the DERs measure; without a fleet file there is no feeder view', async () => {
    const measured = Fastify();
    await registerDashboard(measured, { core: s.core, sim: null, fleet: s.spec, protocolOf: s.protocolOf });
    const fv = (await measured.inject({ method: 'GET', url: '/ui/api/feeders' })).json() as FeedersView;
    expect(fv.source).toBe('measured');
    const a = fv.feeders.find((f) => f.id === 'feeder-a')!;
    expect(a.headFlowW).toBeNull();
    const onA3 = s.spec.devices.filter((d) => d.section === 'a3' && d.feeder === 'feeder-a');
    const mean = onA3.reduce((x, d) => x + s.core.aggregator.view(d.id)!.sample!.v / d.nameplate.nominalV, 0) / onA3.length;
    expect(a.sections.find((x) => x.id === 'a3')!.vPu).toBeCloseTo(mean, 12);
    expect(a.sections.find((x) => x.id === 'a2')).toMatchObject({ ders: 0, v: null, vPu: null });
    await measured.close();

    const bare = Fastify();
    await registerDashboard(bare, { core: s.core, sim: null, fleet: null, protocolOf: () => 'sunspec' });
    expect((await bare.inject({ method: 'GET', url: '/ui/api/feeders' })).json()).toMatchObject({ source: 'none', feeders: [] });
    const fleet = (await bare.inject({ method: 'GET', url: '/ui/api/fleet' })).json() as FleetReply;
    expect(fleet.devices.every((d) => d.feeder === null && d.protocol === 'sunspec')).toBe(true);
    await bare.close();
  });
});

describe('groups', () => {
  it('lists the groups with their status', async () => {
    const { body } = await get<{ groups: GroupSummary[] }>('/ui/api/groups');
    expect(body.groups.map((g: { mRID: string }) => g.mRID)).toEqual(['feeder-a', 'feeder-b', 'storage']);
    const storage = body.groups.find((g) => g.mRID === 'storage')!;
    expect(storage.memberCount).toBe(s.spec.devices.filter((d) => d.kind !== 'pv').length);
    expect(storage.status!.members.reporting).toBe(storage.memberCount);
    expect(storage.status!.storage!.socPct).toBeGreaterThan(0);
  });

  it('gives a group in detail: members with their last sample, and the chart history', async () => {
    await s.clock.advanceBy(3_000);
    const { status: code, body } = await get<GroupDetail>('/ui/api/groups/storage');
    expect(code).toBe(200);
    expect(body.members).toHaveLength(body.memberCount);
    expect(body.members.every((m: { freshness: string; w: number | null }) => m.freshness === 'fresh' && typeof m.w === 'number')).toBe(true);
    expect(body.history.length).toBeGreaterThanOrEqual(7);
    const last = body.history.at(-1)!;
    expect(last.at).toBeLessThanOrEqual(s.clock.now());
    expect(last).toMatchObject({ targetW: null, limitW: null, targetVar: null });
    expect(last.socPct).toBeGreaterThan(0);
    expect(last.headroomUpW).toBeCloseTo(last.availableMaxW - last.w, 6);
    expect((await get<GroupDetail>('/ui/api/groups/Storage')).body.mRID).toBe('storage');
    const missing = await get('/ui/api/groups/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('NOT_FOUND');
  });

  it('creates a group from members picked in the fleet', async () => {
    const members = s.spec.devices.filter((d) => d.protocol === 'dnp3').map((d) => d.id);
    const r = await post<{ group: DerGroup }>('/ui/api/groups', { mRID: 'dnp3-fleet', names: ['DNP3 fleet'], description: 'reached over DNP3', functions: { realPowerDispatch: true }, members });
    expect(r.status).toBe(201);
    expect(r.body.group).toMatchObject({ mRID: 'dnp3-fleet', members, version: { major: 1, minor: 0, revision: 0 } });
    expect(s.core.registry.group('dnp3-fleet')!.functions.realPowerDispatch).toBe(true);
    expect(s.core.registry.group('dnp3-fleet')!.functions.voltVarCurveFunction).toBe(false);
    const list = await get<{ groups: GroupSummary[] }>('/ui/api/groups');
    expect(list.body.groups.map((g: { mRID: string }) => g.mRID)).toContain('dnp3-fleet');
    s.core.registry.deleteGroup('dnp3-fleet');
  });

  it('refuses a bad group with the field named, and creates nothing', async () => {
    const ok = { mRID: 'g1', functions: allOn, members: ['pv-roof-1'] };
    await refused('/ui/api/groups', { ...ok, mRID: '' }, 'INVALID_INPUT', 400, 'mRID');
    await refused('/ui/api/groups', { ...ok, mRID: 'has space' }, 'INVALID_INPUT', 400, 'mRID');
    await refused('/ui/api/groups', { functions: allOn }, 'INVALID_INPUT', 400, 'mRID');
    await refused('/ui/api/groups', { ...ok, functions: { realPowerDispatch: 'yes' } }, 'INVALID_INPUT', 400, 'functions.realPowerDispatch');
    await refused('/ui/api/groups', { ...ok, functions: { teleport: true } }, 'INVALID_INPUT', 400, 'functions');
    await refused('/ui/api/groups', { ...ok, members: ['pv-roof-1', 'pv-roof-1'] }, 'INVALID_INPUT', 400, 'members.1');
    await refused('/ui/api/groups', { ...ok, members: 'pv-roof-1' }, 'INVALID_INPUT', 400, 'members');
    await refused('/ui/api/groups', { ...ok, colour: 'red' }, 'INVALID_INPUT', 400);
    await refused('/ui/api/groups', [ok], 'INVALID_INPUT', 400, '');
    const unknown = await refused('/ui/api/groups', { ...ok, members: ['pv-roof-1', 'no-such-der'] }, 'NOT_FOUND', 404);
    expect(unknown.error.message).toContain('no-such-der');
    await refused('/ui/api/groups', { ...ok, mRID: 'storage' }, 'ALREADY_EXISTS', 409);
    await refused('/ui/api/groups', { ...ok, names: ['Feeder A'] }, 'ALREADY_EXISTS', 409);
    const before = snapshot();
    const bad = await s.app.inject({ method: 'POST', url: '/ui/api/groups', headers: { 'content-type': 'application/json' }, payload: '{"mRID": ' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('INVALID_INPUT');
    expect(snapshot()).toBe(before);
  });
});

describe('dispatch from the dashboard', () => {
  it('dispatches a group to a value; the chart history carries the target and output moves to it', async () => {
    const before = status('storage').activePowerW;
    const target = Math.round(before + 30_000);
    const r = await post<{ dispatch: DispatchRecord }>('/ui/api/groups/storage/dispatch', { mRID: 'ui-discharge', control: { kind: 'activePower', value: target, unit: 'W' } });
    expect(r.status).toBe(201);
    expect(r.body.dispatch).toMatchObject({ dispatchId: 'ui-discharge', groupId: 'storage', state: 'active', target, shortfall: 0 });
    await s.clock.advanceBy(20_000);
    expect(Math.abs(status('storage').activePowerW - target)).toBeLessThan(0.02 * target);
    const d = (await get<GroupDetail>('/ui/api/groups/storage')).body;
    expect(d.live.map((x: { dispatchId: string }) => x.dispatchId)).toEqual(['ui-discharge']);
    expect(d.dispatches[0]).toMatchObject({ dispatchId: 'ui-discharge', kind: 'activePower', state: 'active', target, members: { rejected: 0, timedOut: 0 } });
    expect(d.history.at(-1)!.targetW).toBe(target);
    expect(d.history.at(-1)!.w).toBeCloseTo(target, -2);
    const member = d.members.find((m) => m.id === 'bess-school')!;
    expect(member.lastOutcome).toMatchObject({ dispatchId: 'ui-discharge', outcome: { status: 'applied' }, setpoint: { kind: 'activePower' } });
  });

  it('cancels a dispatch, and refuses to cancel it twice or one that does not exist', async () => {
    const r = await post<{ dispatch: DispatchRecord }>('/ui/api/dispatches/ui-discharge/cancel', { reason: 'test over' });
    expect(r.status).toBe(200);
    expect(r.body.dispatch.state).toBe('cancelled');
    await s.clock.advanceBy(2_000);
    const d = (await get<GroupDetail>('/ui/api/groups/storage')).body;
    expect(d.live).toEqual([]);
    expect(d.dispatches[0]).toMatchObject({ dispatchId: 'ui-discharge', state: 'cancelled', endReason: 'test over' });
    expect(d.history.at(-1)!.targetW).toBeNull();
    expect((await post('/ui/api/dispatches/ui-discharge/cancel', {})).status).toBe(409);
    expect((await post('/ui/api/dispatches/nope/cancel', {})).status).toBe(404);
    expect((await post('/ui/api/dispatches/nope/cancel', { why: 1 })).status).toBe(400);
  });

  it('dispatches a schedule, made up ids included', async () => {
    const r = await post<{ dispatch: DispatchRecord }>('/ui/api/groups/feeder-a/dispatch', {
      control: { kind: 'activePowerLimit', unit: '%' },
      schedule: { start: s.clock.now() + 5_000, intervalDuration: 10, intervalUnit: 's', curveStyle: 'constantYValue', points: [{ interval: 1, value: 80 }, { interval: 2, value: 50 }] },
    });
    expect(r.status).toBe(201);
    expect(r.body.dispatch.state).toBe('scheduled');
    const id = r.body.dispatch.dispatchId as string;
    expect(id).toMatch(/^ui-\d+-activePowerLimit$/);
    await s.clock.advanceBy(17_000);
    expect(s.core.tracker.record(id)).toMatchObject({ state: 'active', value: 50 });
    const last = (await get<GroupDetail>('/ui/api/groups/feeder-a')).body.history.at(-1)!;
    expect(last.limitW).toBeCloseTo(0.5 * status('feeder-a').installedMaxW, 6);
    await s.clock.advanceBy(10_000);
    expect(s.core.tracker.record(id)!.state).toBe('completed');
  });

  it('refuses every bad dispatch with the field named, and dispatches nothing', async () => {
    const url = '/ui/api/groups/storage/dispatch';
    await refused(url, { control: { kind: 'activePower', value: 'abc' } }, 'INVALID_INPUT', 400, 'control.value');
    await refused(url, { control: { kind: 'activePower', value: null } }, 'INVALID_INPUT', 400, 'control.value');
    await refused(url, { control: { kind: 'activePower' } }, 'INVALID_INPUT', 400, 'control.value');
    await refused(url, { control: { kind: 'activePower', value: 1000, unit: 'kW' } }, 'INVALID_INPUT', 400, 'control.unit');
    await refused(url, { control: { kind: 'warp', value: 1 } }, 'INVALID_INPUT', 400, 'control.kind');
    await refused(url, { control: { kind: 'powerFactor', value: 1.5 } }, 'INVALID_INPUT', 400, 'control.value');
    await refused(url, { control: { kind: 'activePowerLimit', value: -5 } }, 'INVALID_INPUT', 400, 'control.value');
    await refused(url, { control: { kind: 'activePower', value: 1000 }, policy: 'loudest' }, 'INVALID_INPUT', 400, 'policy');
    await refused(url, { mRID: 'a b', control: { kind: 'activePower', value: 1000 } }, 'INVALID_INPUT', 400, 'mRID');
    const sched = { start: s.clock.now(), intervalDuration: 10, intervalUnit: 's', curveStyle: 'constantYValue' };
    await refused(url, { control: { kind: 'activePower' }, schedule: { ...sched, points: [{ interval: 2, value: 1 }, { interval: 1, value: 2 }] } }, 'INVALID_INPUT', 400, 'schedule.points.1.interval');
    await refused(url, { control: { kind: 'activePower' }, schedule: { ...sched, points: [] } }, 'INVALID_INPUT', 400, 'schedule.points');
    await refused(url, { control: { kind: 'activePower' }, schedule: { ...sched, start: 'soon', points: [{ interval: 1, value: 1 }] } }, 'INVALID_INPUT', 400, 'schedule.start');
    await refused(url, { control: { kind: 'activePower' }, schedule: { ...sched, intervalUnit: 'fortnight', points: [{ interval: 1, value: 1 }] } }, 'INVALID_INPUT', 400, 'schedule.intervalUnit');
    await refused(url, { control: { kind: 'activePowerLimit' }, schedule: { ...sched, points: [{ interval: 1, value: -1 }] } }, 'INVALID_INPUT', 400, 'schedule.points.0.value');
    await refused(url, 'discharge', 'INVALID_INPUT', 400, '');
    await refused('/ui/api/groups/nope/dispatch', { control: { kind: 'activePower', value: 1000 } }, 'NOT_FOUND', 404);
    await refused(url, { mRID: 'ui-discharge', control: { kind: 'activePower', value: 1000 } }, 'ALREADY_EXISTS', 409);
    s.core.registry.createGroup({ mRID: 'watch-only', functions: {}, members: ['bess-school'] });
    const body = await refused('/ui/api/groups/watch-only/dispatch', { control: { kind: 'activePower', value: 1000 } }, 'UNSUPPORTED', 422);
    expect(body.error.message).toContain('realPowerDispatch');
    s.core.registry.deleteGroup('watch-only');
  });
});

describe('volt-var and connect', () => {
  it('sets a volt-var curve on every member', async () => {
    const curve = [{ v: 93, var: 40 }, { v: 99, var: 0 }, { v: 101, var: 0 }, { v: 107, var: -40 }];
    const r = await post<{ dispatch: DispatchRecord }>('/ui/api/groups/feeder-b/volt-var', { curve });
    expect(r.status).toBe(201);
    expect(r.body.dispatch.dispatch.control).toEqual({ kind: 'voltVar', curve });
    await s.clock.advanceBy(3_000);
    const d = (await get<GroupDetail>('/ui/api/groups/feeder-b')).body;
    for (const m of d.members) expect(m.lastOutcome, m.id).toMatchObject({ setpoint: { kind: 'voltVar', curve }, outcome: { status: 'applied' } });
    expect(s.sim.device('hybrid-clinic').settings().reactiveMode).toBe('voltVar');
  });

  it('refuses a bad curve with the point named', async () => {
    const url = '/ui/api/groups/feeder-b/volt-var';
    await refused(url, { curve: [{ v: 100, var: 0 }, { v: 95, var: 10 }] }, 'INVALID_INPUT', 400, 'curve.1.v');
    await refused(url, { curve: [{ v: 100, var: 0 }] }, 'INVALID_INPUT', 400, 'curve');
    await refused(url, { curve: [{ v: 95, var: 0 }, { v: 105, var: 150 }] }, 'INVALID_INPUT', 400, 'curve.1.var');
    await refused(url, { curve: [{ v: 95, var: 0 }, { v: 'high', var: 0 }] }, 'INVALID_INPUT', 400, 'curve.1.v');
    await refused(url, {}, 'INVALID_INPUT', 400, 'curve');
    await refused(url, { curve: [], gain: 2 }, 'INVALID_INPUT', 400);
    await refused('/ui/api/groups/nope/volt-var', { curve: [{ v: 95, var: 0 }, { v: 105, var: 0 }] }, 'NOT_FOUND', 404);
  });

  it('disconnects and reconnects a group', async () => {
    const off = await post<{ dispatch: DispatchRecord }>('/ui/api/groups/storage/connect', { connected: false });
    expect(off.status).toBe(201);
    await s.clock.advanceBy(5_000);
    expect(status('storage').members.disconnected).toBe(status('storage').members.total);
    const on = await post<{ dispatch: DispatchRecord }>('/ui/api/groups/storage/connect', { connected: true });
    expect(on.status).toBe(201);
    expect(s.core.tracker.record(off.body.dispatch.dispatchId)!.state).toBe('superseded');
    await s.clock.advanceBy(5_000);
    const d = (await get<GroupDetail>('/ui/api/groups/storage')).body;
    for (const m of d.members) expect(m.lastOutcome, m.id).toMatchObject({ setpoint: { kind: 'connect', connected: true }, outcome: { status: 'applied' } });
    // IEEE 1547 enter service: up to 300 s delay plus a 300 s random window before output returns.
    await s.clock.advanceBy(610_000);
    expect(status('storage').members.disconnected).toBe(0);
  });

  it('refuses a bad connect request', async () => {
    await refused('/ui/api/groups/storage/connect', { connected: 'yes' }, 'INVALID_INPUT', 400, 'connected');
    await refused('/ui/api/groups/storage/connect', {}, 'INVALID_INPUT', 400, 'connected');
    await refused('/ui/api/groups/storage/connect', { connected: true, when: 'now' }, 'INVALID_INPUT', 400);
  });
});

describe('customer services when absent', () => {
  it('says they are not enabled', async () => {
    expect((await get('/ui/api/services')).body).toEqual({ enabled: false });
    const r = await get('/ui/api/services/applications');
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('UNAVAILABLE');
    expect((await post('/ui/api/services/applications/APP-1/decision', { action: 'approve' })).status).toBe(503);
  });
});
