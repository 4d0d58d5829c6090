import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createCimFacade } from '../../src/cim-api/server.js';
import { allFunctions, pv } from '../support/fixtures.js';
import { cimHarness, fixture, serve, until } from './support.js';

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers) await c();
  closers = [];
});

async function setup() {
  const h = cimHarness([pv('der-hill-01'), pv('der-hill-02')]);
  const s = await serve(h.system);
  closers.push(() => s.server.close());
  return { ...h, ...s };
}

/** Read SSE events from `url` until `enough` says so. */
async function readEvents(url: string, enough: (events: { event: string; data: unknown }[]) => boolean, during: () => Promise<void>): Promise<{ event: string; data: unknown }[]> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = res.body!.getReader();
  const events: { event: string; data: unknown }[] = [];
  let buf = '';
  const pump = (async () => {
    const dec = new TextDecoder();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      buf += dec.decode(value);
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const ev = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
      }
    }
  })();
  await during();
  await until(() => enough(events), 5000, 'stream events');
  ac.abort();
  await pump;
  return events;
}

describe('REST conveniences', { timeout: 30_000 }, () => {
  it('GET /cim/stream: live statuses, group changes and dispatch events as SSE, filtered by group and type', async () => {
    const t = await setup();
    t.registry.createGroup({ mRID: 'g1', functions: allFunctions, members: ['der-hill-01'] });
    t.registry.createGroup({ mRID: 'g2', functions: allFunctions, members: ['der-hill-02'] });
    const events = await readEvents(
      `${t.base}/cim/stream?groups=g1`,
      (ev) => ev.some((e) => e.event === 'dispatch') && ev.some((e) => e.event === 'status') && ev.some((e) => e.event === 'group'),
      async () => {
        await new Promise((r) => setTimeout(r, 50));
        t.report(5000);
        await t.clock.advanceBy(1000);
        t.tracker.submit({ mRID: 'd1', groupId: 'g1', control: { kind: 'activePower', value: 3000 } });
        t.registry.changeGroup('g1', { description: 'renamed' });
      },
    );
    expect(events.filter((e) => e.event === 'status').every((e) => (e.data as { groupId: string }).groupId === 'g1')).toBe(true);
    expect(events.find((e) => e.event === 'status')!.data).toMatchObject({ groupId: 'g1', activePowerW: 5000, members: { reporting: 1 } });
    expect(events.find((e) => e.event === 'dispatch')!.data).toMatchObject({ type: 'accepted', dispatchId: 'd1' });
    expect(events.find((e) => e.event === 'group')!.data).toMatchObject({ type: 'groupChanged', group: { mRID: 'g1', description: 'renamed' } });
    expect(events.some((e) => e.event === 'outcome')).toBe(false);
    const bad = await fetch(`${t.base}/cim/stream?events=status,nonsense`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'unknown event type nonsense; known: status, group, dispatch, outcome, endDeviceEvent' });
  });

  it('GET /cim/status and /cim/stats', async () => {
    const t = await setup();
    await t.post(fixture('create-group.xml'));
    t.report(5000);
    const all = (await (await fetch(`${t.base}/cim/status`)).json()) as { statuses: { groupId: string; activePowerW: number }[] };
    expect(all.statuses).toEqual([expect.objectContaining({ groupId: '7e4b2c10-3f9a-4d61-b2e8-5c0a9d1f2e77', activePowerW: 10_000 })]);
    const byName = await fetch(`${t.base}/cim/status?groups=Hilltop-PV`);
    expect(((await byName.json()) as { statuses: unknown[] }).statuses).toHaveLength(1);
    const missing = await fetch(`${t.base}/cim/status?groups=Nope`);
    expect(missing.status).toBe(404);
    const stats = (await (await fetch(`${t.base}/cim/stats`)).json()) as Record<string, unknown>;
    expect(stats).toMatchObject({ requests: { requests: 1, ok: 1, failed: 0 }, outbox: { depth: 0, dropped: 0 }, endpoints: {} });
  });

  it('POST on any service path under /cim is the same endpoint', async () => {
    const t = await setup();
    const r = await t.post(fixture('create-group.xml'), 'text/xml', '/cim/create/executeDERGroups');
    expect(r.reply.result).toBe('OK');
  });

  it('GET /openapi.json documents exactly the routes the server has', async () => {
    const t = await setup();
    const doc = (await (await fetch(`${t.base}/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; operationId: string }>>; components: { schemas: Record<string, unknown> } };
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => ({ method: m.toUpperCase(), url: p.replace('{service}', '*') })));
    for (const r of documented) expect(t.server.app.hasRoute(r as { method: 'GET' | 'POST'; url: string }), `${r.method} ${r.url}`).toBe(true);
    // ... and nothing else: as many routes (HEAD aside) as documented operations.
    const registered = (t.server.app.printRoutes({ commonPrefix: false }).match(/\(([A-Z, ]+)\)/g) ?? []).flatMap((m) => m.slice(1, -1).split(', ')).filter((m) => m !== 'HEAD');
    expect(registered).toHaveLength(documented.length);
    // Every operation has an id and responses, and every $ref resolves.
    const ids = new Set<string>();
    for (const ops of Object.values(doc.paths)) {
      for (const op of Object.values(ops)) {
        expect(op.operationId).toMatch(/^\w+$/);
        expect(ids.has(op.operationId)).toBe(false);
        ids.add(op.operationId);
        expect(Object.keys(op.responses).length).toBeGreaterThan(0);
      }
    }
    for (const ref of JSON.stringify(doc).match(/"\$ref":"[^"]+"/g) ?? []) {
      const name = /#\/components\/schemas\/(\w+)/.exec(ref)![1]!;
      expect(doc.components.schemas[name]).toBeDefined();
    }
  });

  it('mounts on a host Fastify server: its own parsing and limits stay inside, the host keeps its JSON routes', async () => {
    const h = cimHarness([pv('der-hill-01'), pv('der-hill-02')]);
    const facade = createCimFacade(h.system, { limits: { bodyBytes: 50_000 } });
    const host = Fastify({ bodyLimit: 1000 });
    host.post('/api/echo', async (req) => ({ got: req.body }));
    await host.register(facade.plugin);
    facade.start();
    const base = await host.listen({ host: '127.0.0.1', port: 0 });
    try {
      const echo = await fetch(`${base}/api/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(await echo.json()).toEqual({ got: { a: 1 } });
      // Bigger than the host's limit, within the facade's.
      const body = fixture('create-group.xml').replace('Hilltop substation rooftop PV', 'x'.repeat(2000));
      const r = await fetch(`${base}/cim`, { method: 'POST', headers: { 'content-type': 'text/xml' }, body });
      expect(await r.text()).toContain('<msg:Result>OK</msg:Result>');
      expect(h.registry.findGroup('Hilltop-PV')).toBeDefined();
      // A live stream does not keep the host from closing.
      const ac = new AbortController();
      const stream = await fetch(`${base}/cim/stream`, { signal: ac.signal });
      expect(stream.status).toBe(200);
    } finally {
      facade.stop();
      await host.close();
    }
  });
});
