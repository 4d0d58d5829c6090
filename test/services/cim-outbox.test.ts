import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Deliverer, MemoryOutbox, type OutboundMessage } from '../../src/cim-api/outbox.js';
import { DurableCimOutbox } from '../../src/services/cim-outbox.js';
import { openStore, type DermsStore } from '../../src/store/store.js';

const dir = mkdtempSync(join(tmpdir(), 'derms-cim-outbox-'));
let n = 0;
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const msg = (id: string, endpoint: string, coalesceKey?: string): OutboundMessage => ({
  id,
  endpoint,
  kind: 'ChangedDERGroupStatuses',
  body: `<EventMessage>${id}</EventMessage>`,
  contentType: 'application/xml',
  queuedAt: Number(id.replace(/\D/g, '')),
  ...(coalesceKey ? { coalesceKey } : {}),
});

/** A DMS stand-in that accepts what it is sent once `up` is true. */
async function dms() {
  const got: string[] = [];
  let up = false;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (up) got.push(body);
      res.statusCode = up ? 200 : 503;
      res.end('<ResponseMessage><Reply><Result>OK</Result></Reply></ResponseMessage>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/dms`, got, setUp: (v: boolean) => (up = v) };
}

async function store(path = join(dir, `cim-${++n}.db`)): Promise<{ s: DermsStore; path: string }> {
  const s = await openStore(`sqlite:${path}`);
  cleanup.push(() => s.close());
  return { s, path };
}

describe('the CIM facade\'s push queue on the durable store', () => {
  it('behaves as the in-memory queue for the same puts and removes', async () => {
    const { s } = await store();
    const durable = await DurableCimOutbox.open(s, { capacity: 4 });
    const memory = new MemoryOutbox(4);
    const dropped: string[][] = [[], []];
    durable.dropped$.subscribe((d) => dropped[0]!.push(d.message.id));
    memory.dropped$.subscribe((d) => dropped[1]!.push(d.message.id));
    const steps: Array<['put', OutboundMessage] | ['remove', string]> = [
      ['put', msg('m1', 'a', 'g1')],
      ['put', msg('m2', 'a', 'g1')],
      ['put', msg('m3', 'a', 'g1')], // replaces m2 (m1 heads the queue)
      ['put', msg('m4', 'b')],
      ['put', msg('m5', 'b')],
      ['put', msg('m6', 'c')], // full: the oldest waiting non-head (m3) goes
      ['remove', 'm1'],
      ['put', msg('m7', 'a')],
      ['remove', 'm4'],
      ['remove', 'nope'],
    ];
    for (const [op, arg] of steps) {
      for (const q of [durable, memory]) await (op === 'put' ? q.put(arg as OutboundMessage) : q.remove(arg as string));
      for (const e of ['a', 'b', 'c']) expect((await durable.peek(e))?.id, `${op} ${JSON.stringify(arg)} ${e}`).toBe((await memory.peek(e))?.id);
      expect((await durable.endpoints()).sort()).toEqual((await memory.endpoints()).sort());
      expect(durable.stats).toEqual(memory.stats);
    }
    expect(dropped[0]).toEqual(dropped[1]);
    expect(dropped[0]).toEqual(['m3']);
  });

  it('messages the DMS has not taken survive a restart and the Deliverer sends them, in order, once it answers', async () => {
    const peer = await dms();
    const { s, path } = await store();
    const first = new Deliverer(await DurableCimOutbox.open(s), { initialMs: 20, maxMs: 50, attemptTimeoutMs: 2000 });
    cleanup.push(() => first.stop());
    for (const id of ['m1', 'm2', 'm3']) await first.send(msg(id, peer.url));
    await new Promise((r) => setTimeout(r, 100));
    expect(peer.got).toEqual([]);
    first.stop();
    await s.close();

    // The process restarts; the DMS is back.
    const { s: again } = await store(path);
    const outbox = await DurableCimOutbox.open(again);
    expect(outbox.stats).toMatchObject({ depth: 3, depthByEndpoint: { [peer.url]: 3 } });
    peer.setUp(true);
    const second = new Deliverer(outbox, { initialMs: 20, maxMs: 50, attemptTimeoutMs: 2000 });
    cleanup.push(() => second.stop());
    await second.resume();
    for (let i = 0; i < 100 && peer.got.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
    expect(peer.got).toEqual(['<EventMessage>m1</EventMessage>', '<EventMessage>m2</EventMessage>', '<EventMessage>m3</EventMessage>']);
    expect(outbox.stats.depth).toBe(0);
    expect(await again.outbox.counts()).toMatchObject({ pending: 0, done: 3 });
  });
});
