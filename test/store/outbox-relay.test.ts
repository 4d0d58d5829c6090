import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { OutboxRelay, webhookHandler } from '../../src/store/outbox-relay.js';
import { openStore, type DermsStore } from '../../src/store/store.js';
import { ManualClock } from './backends.js';

/** A webhook receiver on 127.0.0.1 that answers with the statuses it is given, then 204. */
async function receiver(statuses: number[]) {
  const got: Array<{ body: { id: number; topic: string; key: string | null; payload: unknown }; idempotencyKey: string | undefined }> = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      const status = statuses.shift() ?? 204;
      if (status < 300) got.push({ body: JSON.parse(text), idempotencyKey: req.headers['idempotency-key'] as string | undefined });
      res.statusCode = status;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/events`, got, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('outbox relay', () => {
  const clock = new ManualClock();
  const store = async (): Promise<DermsStore> => {
    const s = await openStore('sqlite::memory:', { clock, outbox: { baseDelayMs: 1000, maxAttempts: 3 } });
    cleanup.push(() => s.close());
    return s;
  };

  it('delivers each message to its topic handler over HTTP, in order per key, and retries failures with backoff', async () => {
    const s = await store();
    const hook = await receiver([503]);
    cleanup.push(hook.close);
    const relay = new OutboxRelay(s.outbox, { 'cim.DERGroups': webhookHandler(hook.url, { timeoutMs: 2000 }) }, { worker: 'test' });
    const created = await s.outbox.enqueue({ topic: 'cim.DERGroups', key: 'g1', payload: { verb: 'created' } });
    await s.outbox.enqueue({ topic: 'cim.DERGroups', key: 'g1', payload: { verb: 'deleted' } });
    await s.outbox.enqueue({ topic: 'customer.notification', key: 'c1', payload: { hello: 1 } });

    // The DMS answers 503 to the first: nothing else for g1 goes out until it is through.
    expect(await relay.drain()).toBe(0);
    expect(hook.got).toEqual([]);
    expect(await s.outbox.get(created)).toMatchObject({ state: 'pending', attempts: 1, lastError: expect.stringMatching(/answered 503/) });
    clock.advance(1000);
    expect(await relay.drain()).toBe(2);
    expect(hook.got.map((g) => g.body.payload)).toEqual([{ verb: 'created' }, { verb: 'deleted' }]);
    expect(hook.got[0]!.idempotencyKey).toBe(`outbox-${created}`);
    // Topics without a handler here are left for another relay.
    expect((await s.outbox.list({ state: 'pending' })).map((m) => m.topic)).toEqual(['customer.notification']);
  });

  it('gives up after the configured attempts; the message stays, dead, with the last error', async () => {
    const s = await store();
    const relay = new OutboxRelay(s.outbox, { t: async () => Promise.reject(new Error('mail server down')) }, { worker: 'test' });
    const id = await s.outbox.enqueue({ topic: 't', payload: {} });
    for (let i = 0; i < 3; i++) {
      await relay.drain();
      clock.advance(10_000);
    }
    expect(await s.outbox.get(id)).toMatchObject({ state: 'dead', attempts: 3, lastError: 'mail server down' });
    expect(await relay.drain()).toBe(0);
  });
});
