import { afterEach, describe, expect, it } from 'vitest';
import { parseCurve, parseInterval, parseRef, parseStart, runDms } from '../../src/cli/dms-commands.js';
import { DermsError } from '../../src/core/errors.js';
import { battery, pv } from '../support/fixtures.js';
import { T0, cimHarness, fixture, serve, until } from '../cim-api/support.js';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

async function setup() {
  const h = cimHarness([pv('pv-1'), pv('pv-2'), pv('pv-3'), battery('bess-1')]);
  const s = await serve(h.system);
  closers.push(() => s.server.close());
  const out: string[] = [];
  const err: string[] = [];
  const dms = (...argv: string[]) => runDms(['--url', `${s.base}/cim`, ...argv], { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { ...h, ...s, out, err, dms };
}

async function failure(p: Promise<unknown>): Promise<DermsError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DermsError) return e;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('argument parsing', () => {
  it('references, intervals, start times and curves', () => {
    expect(parseRef('Hilltop')).toEqual({ name: 'Hilltop' });
    expect(parseRef('7e4b2c10-3f9a-4d61-b2e8-5c0a9d1f2e77')).toEqual({ mRID: '7e4b2c10-3f9a-4d61-b2e8-5c0a9d1f2e77' });
    expect(parseRef('mrid:g1')).toEqual({ mRID: 'g1' });
    expect(parseRef('name:pv-1', 'mRID')).toEqual({ name: 'pv-1' });
    expect(parseRef('pv-1', 'mRID')).toEqual({ mRID: 'pv-1' });
    expect(parseInterval('15m')).toEqual({ duration: 15, unit: 'm' });
    expect(parseInterval('1D')).toEqual({ duration: 1, unit: 'D' });
    expect(() => parseInterval('15 minutes')).toThrow(/count and a unit/);
    expect(parseStart('now', 1000)).toBe(1000);
    expect(parseStart('+10m', 1000)).toBe(601_000);
    expect(parseStart('2026-06-01T12:00:00Z')).toBe(T0);
    expect(() => parseStart('soon')).toThrow(/ISO 8601/);
    expect(parseCurve('92:44,98:0,102:0,108:-44')).toEqual([{ x: 92, y: 44 }, { x: 98, y: 0 }, { x: 102, y: 0 }, { x: 108, y: -44 }]);
    expect(() => parseCurve('92:44')).toThrow(/at least two/);
  });
});

describe('derms dms against the server', { timeout: 30_000 }, () => {
  it('manages groups: create, change, add and remove members, get, delete', async () => {
    const t = await setup();
    await t.dms('create-group', 'North', '--members', 'pv-1,pv-2', '--mrid', 'g-north', '--description', 'north roofs', '--functions', 'realPowerDispatch,connectDisconnect');
    expect(t.out.at(-1)).toMatch(/^<\?xml.*<msg:Result>OK<\/msg:Result>/);
    expect(t.registry.group('g-north')).toMatchObject({ names: ['North'], description: 'north roofs', members: ['pv-1', 'pv-2'], functions: { realPowerDispatch: true, connectDisconnect: true, voltVarCurveFunction: false } });

    await t.dms('change-group', 'North', '--enable', 'voltVarCurveFunction', '--disable', 'connectDisconnect', '--description', 'north, changed');
    expect(t.registry.group('g-north')).toMatchObject({ description: 'north, changed', functions: { voltVarCurveFunction: true, connectDisconnect: false, realPowerDispatch: true }, version: { minor: 0, revision: 1 } });
    await t.dms('change-group', 'mrid:g-north', '--rename', 'Nord');
    expect(t.registry.group('g-north')!.names).toEqual(['Nord']);

    await t.dms('add-members', 'Nord', 'pv-3', 'name:Battery bess-1');
    expect(t.registry.group('g-north')).toMatchObject({ members: ['pv-1', 'pv-2', 'pv-3', 'bess-1'], version: { minor: 1 } });
    await t.dms('--soap', 'remove-members', 'Nord', 'pv-1');
    expect(t.out.at(-1)).toContain('<soapenv:Envelope');
    expect(t.registry.group('g-north')!.members).toEqual(['pv-2', 'pv-3', 'bess-1']);

    await t.dms('--json', 'groups');
    const all = JSON.parse(t.out.at(-1)!) as { Payload: { DERGroups: { EndDeviceGroup: { mRID: string }[] } } };
    expect(all.Payload.DERGroups.EndDeviceGroup.map((g) => g.mRID)).toEqual(['g-north']);

    await t.dms('delete-group', 'Nord');
    expect(t.registry.group('g-north')).toBeUndefined();
    const e = await failure(t.dms('delete-group', 'Nord'));
    expect(e.code).toBe('NOT_FOUND');
    expect(e.message).toBe('the server answered FAILED: 2.15 DERGroup Nord does not exist');
    expect(t.out.at(-1)).toContain('<msg:Result>FAILED</msg:Result>');
    expect((await failure(t.dms('create-group', 'X', '--functions', 'flying'))).message).toMatch(/unknown DERFunction "flying"/);
  });

  it('status, forecast, dispatch (schedule and curve style), curves, cancel, connect and disconnect', async () => {
    const t = await setup();
    await t.dms('create-group', 'All', '--members', 'pv-1,pv-2,pv-3', '--mrid', 'g-all');
    t.report(6000);
    await t.dms('--json', 'status', 'All');
    expect(JSON.parse(t.out.at(-1)!)).toMatchObject({ Reply: { Result: 'OK' }, Payload: { DERGroupStatuses: { EndDeviceGroup: [{ mRID: 'g-all' }] } } });

    await t.dms('forecast', 'All', '--parameters', 'activePower,reactivePower', '--start', '2026-06-01T13:00:00Z', '--intervals', '3', '--interval', '1h');
    expect(t.out.at(-1)!.match(/<DERCurveData>/g)).toHaveLength(6);

    await t.dms('dispatch', 'All', '--values', '12,6', '--multiplier', 'k', '--start', '2026-06-01T12:00:00Z', '--interval', '30m', '--curve', 'straightLineYValues', '--mrid', 'd-1', '--name', 'noon');
    expect(t.tracker.record('d-1')).toMatchObject({ state: 'active', value: 12_000, dispatch: { schedule: { curveStyle: 'straightLineYValues', intervalDuration: 30, intervalUnit: 'm' } } });
    await t.clock.advanceBy(15 * 60_000);
    expect(t.tracker.record('d-1')!.value).toBeCloseTo(9000, 6);
    await t.dms('dispatch', 'All', '--parameter', 'reactivePower', '--values', '-1.5', '--start', '2026-06-01T12:00:00Z', '--mrid', 'q-1');
    expect(t.tracker.record('q-1')).toMatchObject({ state: 'active', value: -1500 });
    await t.dms('cancel', 'd-1');
    expect(t.tracker.record('d-1')!.state).toBe('cancelled');

    await t.dms('curve', 'All', '--volt-watt', '106:100,110:0');
    expect(t.tracker.live('g-all', 'voltWatt')[0]!.dispatch.control).toEqual({ kind: 'voltWatt', curve: [{ v: 106, w: 100 }, { v: 110, w: 0 }] });

    await t.dms('disconnect', 'All', '--mrid', 'off-1');
    await t.clock.advanceBy(10);
    expect(t.dev('pv-2').last('connect')).toMatchObject({ connected: false });
    await t.dms('connect', '--device', 'pv-2');
    await until(() => t.dev('pv-2').last('connect')?.kind === 'connect' && (t.dev('pv-2').last('connect') as { connected: boolean }).connected, 2000, 'pv-2 connected');
    const e = await failure(t.dms('connect', 'Nowhere'));
    expect(e.code).toBe('NOT_FOUND');
  });

  it('--reply-to asks for an asynchronous reply; the immediate answer is the 0.3 acknowledgment', async () => {
    const t = await setup();
    await t.dms('--reply-to', 'http://127.0.0.1:9/replies', 'status');
    expect(t.out.at(-1)).toContain('<msg:code>0.3</msg:code>');
  });
});

describe('derms dms listen', { timeout: 30_000 }, () => {
  it('acknowledges pushed events and prints one line each (text and --json)', async () => {
    for (const json of [false, true]) {
      const ac = new AbortController();
      const out: string[] = [];
      const err: string[] = [];
      const running = runDms(['listen', '--port', '0', ...(json ? ['--json'] : [])], { out: (l) => out.push(l), err: (l) => err.push(l), signal: ac.signal });
      await until(() => err.length > 0, 5000, 'the listener');
      const url = /at (http:\/\/\S+)\/ /.exec(err[0]!)![1]!;
      for (const f of ['status-event.xml', 'end-device-event.xml']) {
        const res = await fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: fixture(f) });
        expect(res.status).toBe(200);
        expect(await res.text()).toContain('<msg:Result>OK</msg:Result>');
      }
      const bad = await fetch(`${url}/events`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<!DOCTYPE x><x/>' });
      expect(bad.status).toBe(400);
      ac.abort();
      await running;
      expect(err.at(-1)).toMatch(/refused a message: 1\.8 DOCTYPE/);
      if (json) {
        const lines = out.map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(lines).toHaveLength(2);
        expect(lines[0]).toMatchObject({ kind: 'ChangedDERGroupStatuses', verb: 'changed', noun: 'DERGroupStatuses', messageId: '4e6a8c0d-2f1b-4d3e-a5c7-9e0b2d4f6a07', payload: { DERGroupStatuses: { EndDeviceGroup: { Names: { name: 'Hilltop-PV' } } } } });
        expect(lines[1]).toMatchObject({ kind: 'CreatedEndDeviceEvents', correlationId: 'c2e4a6b8-0d1f-4f3a-9c5e-7a8b9c0d1e11' });
      } else {
        expect(out[0]).toMatch(/ changed DERGroupStatuses Hilltop-PV: activePower 11\.2 kW \(status n\/a\)$/);
        expect(out[1]).toMatch(/ created EndDeviceEvents der-hill-01 2\.31\.0\.68 \(correlation c2e4a6b8-0d1f-4f3a-9c5e-7a8b9c0d1e11\)$/);
      }
    }
  });
});
