import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startDmsListener, type ReceivedMessage } from '../../src/cim-api/listener.js';
import { Deliverer, MemoryOutbox, type DeliveryEvent, type Outbox, type OutboundMessage } from '../../src/cim-api/outbox.js';
import type { CimServerOptions } from '../../src/cim-api/server.js';
import { allFunctions, pv } from '../support/fixtures.js';
import { at, cimHarness, fixture, list, serve, until } from './support.js';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function listener(port = 0, encodingNote?: string[]) {
  const got: ReceivedMessage[] = [];
  const l = await startDmsListener({ port, onMessage: (m) => got.push(m), onRejected: (r) => encodingNote?.push(r) });
  closers.push(() => l.close());
  return { got, url: l.url };
}

async function setup(push: CimServerOptions['push'], extra: CimServerOptions = {}) {
  const h = cimHarness([pv('der-hill-01'), pv('der-hill-02'), pv('der-hill-03')]);
  const logs: string[] = [];
  const s = await serve(h.system, { push, log: (l) => logs.push(l), ...extra });
  closers.push(() => s.server.close());
  return { ...h, ...s, logs };
}

const kinds = (got: ReceivedMessage[]): string[] => got.map((m) => m.kind);

describe('pushes to the DMS', { timeout: 30_000 }, () => {
  it('group notifications, statuses on change and periodically, forecasts, EndDeviceEvents', async () => {
    const dms = await listener();
    const t = await setup({ endpoints: [{ url: `${dms.url}/dms` }], statusPeriodMs: 60_000, forecastPeriodMs: 900_000, statusChange: { minDelta: 500, minDeltaFraction: 0, minIntervalMs: 2000 } });

    // A group formed outside the CIM API (customer services, an operator) is notified too.
    t.registry.createGroup({ mRID: 'g-cs', names: ['Enrolled'], functions: allFunctions, members: ['der-hill-01', 'der-hill-02'] });
    await until(() => dms.got.length >= 2, 5000, 'created group and its first status');
    expect(kinds(dms.got)).toEqual(['CreatedDERGroups', 'ChangedDERGroupStatuses']);
    expect(dms.got[0]).toMatchObject({ verb: 'created', noun: 'DERGroups', path: '/dms' });
    expect(at(dms.got[0]!.payload, 'DERGroups', 'EndDeviceGroup', 'mRID')).toBe('g-cs');
    expect(dms.got[0]!.body).toContain('<tns:CreatedDERGroups xmlns:tns="http://iec.ch/TC57/2017/DERGroupsMessage"');

    // Output moves by 8 kW: pushed; then by 200 W: not.
    t.report(4000);
    await t.clock.advanceBy(2000);
    await until(() => dms.got.length >= 3, 5000, 'status after a big change');
    expect(at(dms.got[2]!.payload, 'DERGroupStatuses', 'EndDeviceGroup', 'DERMonitorableParameter', 'DERCurveData', 'nominalYValue')).toBe('8');
    t.report(4100);
    await t.clock.advanceBy(3000);
    await new Promise((r) => setTimeout(r, 100));
    expect(dms.got).toHaveLength(3);

    // Periodic: every group, changed or not, at the minute.
    await t.clock.advanceTo(t.clock.now() + 60_000 - ((t.clock.now() - Date.UTC(2026, 5, 1, 12)) % 60_000));
    await until(() => dms.got.length >= 4, 5000, 'periodic status');
    expect(dms.got[3]!.kind).toBe('ChangedDERGroupStatuses');

    // EndDeviceEvents for a disconnect, with the control's CorrelationID.
    const off = await t.post(fixture('disconnect-group.xml').replace('Hilltop-PV', 'Enrolled'));
    expect(off.reply.result).toBe('OK');
    await t.clock.advanceBy(10);
    await until(() => dms.got.filter((m) => m.kind === 'CreatedEndDeviceEvents').length === 2, 5000, 'two EndDeviceEvents');
    const ev = dms.got.filter((m) => m.kind === 'CreatedEndDeviceEvents');
    expect(ev.map((m) => m.correlationId)).toEqual(['c2e4a6b8-0d1f-4f3a-9c5e-7a8b9c0d1e11', 'c2e4a6b8-0d1f-4f3a-9c5e-7a8b9c0d1e11']);
    expect(ev.map((m) => at(m.payload, 'EndDeviceEvents', 'EndDeviceEvent', 'Assets', 'mRID')).sort()).toEqual(['der-hill-01', 'der-hill-02']);
    expect(ev[0]!.body).toContain('<EndDeviceEventType ref="2.31.0.68"/>');

    // Forecast every 15 minutes.
    await t.clock.advanceBy(15 * 60_000);
    await until(() => dms.got.some((m) => m.kind === 'CreatedDERGroupForecasts'), 5000, 'forecast push');
    const f = dms.got.find((m) => m.kind === 'CreatedDERGroupForecasts')!;
    expect(list(at(f.payload, 'DERGroupForecasts', 'DERGroupForecast', 'EndDeviceGroup', 'DERMonitorableParameter', 'DispatchSchedule', 'DERCurveData'))).toHaveLength(4);

    t.registry.deleteGroup('g-cs');
    await until(() => dms.got.some((m) => m.kind === 'DeletedDERGroups') && t.server.stats().outbox.depth === 0, 5000, 'deleted group');
    expect(t.server.stats().outbox).toMatchObject({ depth: 0, dropped: 0 });
    expect(t.server.stats().endpoints[`${dms.url}/dms`]).toMatchObject({ failedAttempts: 0, refused: 0 });
  });

  it('JSON endpoints get the JSON mapping; endpoints may pick what they receive', async () => {
    const a = await listener();
    const b = await listener();
    const t = await setup({ endpoints: [{ url: a.url, encoding: 'json', kinds: ['groups'] }, { url: b.url, kinds: ['statuses'] }], statusPeriodMs: 0 });
    t.registry.createGroup({ mRID: 'g1', functions: allFunctions, members: ['der-hill-01'] });
    await until(() => a.got.length === 1 && b.got.length === 1, 5000, 'one message each');
    expect(a.got[0]).toMatchObject({ encoding: 'json', kind: 'EventMessage', verb: 'created' });
    expect(JSON.parse(a.got[0]!.body)).toMatchObject({ Header: { Verb: 'created', Noun: 'DERGroups' }, Payload: { DERGroups: { EndDeviceGroup: [{ mRID: 'g1' }] } } });
    expect(b.got[0]!.kind).toBe('ChangedDERGroupStatuses');
  });

  it('while the DMS is down messages wait and are retried with backoff, then delivered in order', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/dms`;
    const t = await setup({ endpoints: [{ url, kinds: ['groups'] }], retry: { initialMs: 20, maxMs: 80 } });
    for (let i = 1; i <= 5; i++) t.registry.createGroup({ mRID: `g${i}`, functions: allFunctions, members: [] });
    await until(() => (t.server.stats().endpoints[url]?.failedAttempts ?? 0) >= 3, 5000, 'failed attempts');
    const s = t.server.stats();
    expect(s.outbox.depth).toBe(5);
    expect(s.outbox.depthByEndpoint[url]).toBe(5);
    expect(s.endpoints[url]!.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    expect(t.logs.some((l) => l.includes(`delivery of CreatedDERGroups to ${url} failed`))).toBe(true);
    const dms = await listener(port);
    await until(() => dms.got.length === 5, 5000, 'all five after the DMS is back');
    expect(dms.got.map((m) => at(m.payload, 'DERGroups', 'EndDeviceGroup', 'mRID'))).toEqual(['g1', 'g2', 'g3', 'g4', 'g5']);
    await until(() => t.server.stats().outbox.depth === 0, 5000, 'an empty outbox');
    expect(t.server.stats().endpoints[url]!.delivered).toBe(5);
  });

  it('the outbox is bounded: beyond capacity the oldest waiting message is dropped, counted and logged', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    const t = await setup({ endpoints: [{ url, kinds: ['groups'] }], capacity: 3, retry: { initialMs: 10_000 } });
    for (let i = 1; i <= 6; i++) t.registry.createGroup({ mRID: `g${i}`, functions: allFunctions, members: [] });
    const s = t.server.stats().outbox;
    expect(s).toMatchObject({ capacity: 3, depth: 3, enqueued: 6, dropped: 3 });
    expect(t.logs.filter((l) => l.startsWith('cim: outbox dropped CreatedDERGroups'))).toHaveLength(3);
    // The stats endpoint shows the same.
    const res = await fetch(`${t.base}/cim/stats`);
    expect(((await res.json()) as { outbox: { dropped: number } }).outbox.dropped).toBe(3);
  });

  it('a DMS that answers FAILED: the message is refused, counted, not retried forever', async () => {
    const t = await setup({ endpoints: [{ url: 'http://placeholder/' }] });
    await t.server.close();
    closers = closers.slice(0, -1);
    // A "DMS" that refuses everything: our own CIM server (an event is not a request it takes).
    const dmsSide = cimHarness([]);
    const refuser = await serve(dmsSide.system);
    closers.push(() => refuser.server.close());
    const t2 = await setup({ endpoints: [{ url: `${refuser.base}/cim`, kinds: ['groups'] }] });
    t2.registry.createGroup({ mRID: 'g1', functions: allFunctions, members: [] });
    await until(() => (t2.server.stats().endpoints[`${refuser.base}/cim`]?.refused ?? 0) === 1, 5000, 'refusal');
    expect(t2.server.stats().outbox.depth).toBe(0);
    expect(t2.logs.some((l) => l.includes('refused CreatedDERGroups'))).toBe(true);
  });
});

describe('MemoryOutbox', () => {
  const msg = (id: string, endpoint = 'http://a/', key?: string): OutboundMessage => ({ id, endpoint, kind: 'K', body: id, contentType: 'text/plain', coalesceKey: key, queuedAt: Number(id.replace(/\D/g, '')) });

  it('coalesces a waiting message with the same key, never the one at the head', async () => {
    const o = new MemoryOutbox(10);
    await o.put(msg('m1', 'http://a/', 's'));
    await o.put(msg('m2', 'http://a/', 's'));
    await o.put(msg('m3', 'http://a/', 's'));
    await o.put(msg('m4', 'http://a/', 't'));
    expect((await o.peek('http://a/'))!.id).toBe('m1');
    expect(o.stats).toMatchObject({ depth: 3, enqueued: 4, coalesced: 1 });
    await o.remove('m1');
    expect((await o.peek('http://a/'))!.id).toBe('m3');
  });

  it('drops the oldest waiting message across endpoints when full, and says so', async () => {
    const o = new MemoryOutbox(3);
    const dropped: string[] = [];
    o.dropped$.subscribe((d) => dropped.push(d.message.id));
    await o.put(msg('m1', 'http://a/'));
    await o.put(msg('m2', 'http://b/'));
    await o.put(msg('m3', 'http://a/'));
    await o.put(msg('m4', 'http://b/'));
    // Heads (m1, m2) may be in flight: m3 is the oldest that is only waiting.
    expect(dropped).toEqual(['m3']);
    expect(o.stats).toMatchObject({ depth: 3, dropped: 1, depthByEndpoint: { 'http://a/': 1, 'http://b/': 2 } });
    // Only heads left waiting: the newcomer is the one dropped.
    const one = new MemoryOutbox(1);
    one.dropped$.subscribe((d) => dropped.push(d.message.id));
    await one.put(msg('m5'));
    await one.put(msg('m6', 'http://b/'));
    expect(dropped).toEqual(['m3', 'm6']);
    expect((await one.peek('http://a/'))!.id).toBe('m5');
    expect(() => new MemoryOutbox(0)).toThrow(RangeError);
  });
});

describe('Deliverer', () => {
  it('reports a failing outbox (a durable store down) instead of crashing, and tries again', async () => {
    const memory = new MemoryOutbox(10);
    let failing = true;
    const flaky: Outbox = {
      put: (m) => (failing ? Promise.reject(new Error('disk full')) : memory.put(m)),
      peek: (e) => (failing ? Promise.reject(new Error('database gone')) : memory.peek(e)),
      remove: (id) => memory.remove(id),
      endpoints: () => memory.endpoints(),
      get stats() {
        return memory.stats;
      },
      dropped$: memory.dropped$,
    };
    const dms = await listener();
    const d = new Deliverer(flaky, { initialMs: 10, maxMs: 20 });
    closers.push(async () => d.stop());
    const events: DeliveryEvent[] = [];
    d.events$.subscribe((e) => events.push(e));
    const m = (id: string): OutboundMessage => ({ id, endpoint: dms.url, kind: 'Test', body: fixture('status-event.xml'), contentType: 'application/xml', queuedAt: 1 });
    await d.send(m('a'));
    expect(events).toEqual([{ type: 'outboxError', endpoint: dms.url, error: 'could not queue Test: disk full' }]);
    failing = false;
    await memory.put(m('b'));
    failing = true;
    await d.resume();
    await until(() => events.some((e) => e.type === 'outboxError' && e.error === 'database gone'), 2000, 'a peek failure');
    failing = false;
    await until(() => dms.got.length === 1, 5000, 'delivery once the outbox is back');
    expect(events.at(-1)).toMatchObject({ type: 'delivered', message: { id: 'b' } });
  });
});

