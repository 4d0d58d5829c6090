import { filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { isDermsError } from '../../../src/core/errors.js';
import { EmbeddedBroker } from '../../../src/protocols/mqtt/broker.js';
import { MqttConnection } from '../../../src/protocols/mqtt/connection.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function broker(port = 0): Promise<EmbeddedBroker> {
  const b = await EmbeddedBroker.start({ port });
  cleanup.push(() => b.close());
  return b;
}

function connection(b: EmbeddedBroker | { target(): ReturnType<EmbeddedBroker['target']> }, clientId: string, reconnectMs = 100): MqttConnection {
  const c = new MqttConnection({ broker: b.target(), clientId, reconnectMs, connectTimeoutMs: 1000 });
  cleanup.push(() => c.close());
  return c;
}

/** Messages a connection receives, and a wait for the n-th. */
function inbox(c: MqttConnection) {
  const got: { topic: string; text: string }[] = [];
  let wake: (() => void) | null = null;
  c.onMessage((topic, payload) => {
    got.push({ topic, text: payload.toString() });
    wake?.();
  });
  const waitFor = async (n: number, ms = 3000): Promise<void> => {
    const until = Date.now() + ms;
    while (got.length < n) {
      if (Date.now() > until) throw new Error(`only ${got.length} of ${n} messages arrived`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  };
  return { got, waitFor };
}

describe('MqttConnection on the embedded broker', () => {
  it('publishes and subscribes with QoS 0 and 1 and wildcards', async () => {
    const b = await broker();
    const sub = connection(b, 'sub');
    const box = inbox(sub);
    await sub.whenOnline(2000);
    await sub.subscribe(['openfmb/solarmodule/SolarReadingProfile/+', 'openfmb/+/+/bat-1'], 1);
    const pub = connection(b, 'pub');
    await pub.whenOnline(2000);
    await pub.publish('openfmb/solarmodule/SolarReadingProfile/pv-1', Buffer.from('r1'), { qos: 0 });
    await pub.publish('openfmb/essmodule/ESSStatusProfile/bat-1', Buffer.from('s1'), { qos: 1 });
    await pub.publish('openfmb/essmodule/ESSStatusProfile/bat-2', Buffer.from('not for us'), { qos: 1 });
    await box.waitFor(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(box.got).toEqual([
      { topic: 'openfmb/solarmodule/SolarReadingProfile/pv-1', text: 'r1' },
      { topic: 'openfmb/essmodule/ESSStatusProfile/bat-1', text: 's1' },
    ]);
    expect(b.connectedClients).toBe(2);
  });

  it('delivers a burst of thousands of messages complete and in order (the broker writes them together)', async () => {
    const b = await broker();
    const sub = connection(b, 'burst-sub');
    const box = inbox(sub);
    await sub.whenOnline(2000);
    await sub.subscribe(['burst/+'], 0);
    const pub = connection(b, 'burst-pub');
    await pub.whenOnline(2000);
    const n = 5000;
    const payload = 'x'.repeat(300);
    await Promise.all(Array.from({ length: n }, (_, i) => pub.publish(`burst/${i % 7}`, Buffer.from(`${i}:${payload}`), { qos: 0 })));
    await box.waitFor(n, 10_000);
    expect(box.got.map((m) => Number(m.text.split(':')[0]))).toEqual(Array.from({ length: n }, (_, i) => i));
    // The broker keeps serving after the burst.
    await pub.publish('burst/after', Buffer.from('after'), { qos: 1 });
    await box.waitFor(n + 1);
    expect(box.got.at(-1)).toEqual({ topic: 'burst/after', text: 'after' });
  });

  it('keeps a persistent session: a QoS 1 message sent while the subscriber is away arrives when it returns', async () => {
    const b = await broker();
    const dev = new MqttConnection({ broker: b.target(), clientId: 'device-gw' });
    await dev.whenOnline(2000);
    await dev.subscribe(['ctl/+'], 1);
    await dev.close();
    const ctl = connection(b, 'derms');
    await ctl.whenOnline(2000);
    await ctl.publish('ctl/pv-1', Buffer.from('limit 50 %'), { qos: 1 });
    await ctl.publish('ctl/pv-1', Buffer.from('a QoS 0 one is not kept'), { qos: 0 });
    const back = connection(b, 'device-gw');
    const box = inbox(back);
    await back.whenOnline(2000);
    await box.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(box.got).toEqual([{ topic: 'ctl/pv-1', text: 'limit 50 %' }]);
  });

  it('reconnects after a broker restart on the same port and subscribes again', async () => {
    const first = await EmbeddedBroker.start();
    const port = first.port;
    const sub = connection(first, 'sub');
    const box = inbox(sub);
    await sub.whenOnline(2000);
    await sub.subscribe(['t/#'], 1);
    await first.close();
    await firstValueFrom(sub.state$.pipe(filter((s) => s === 'offline')));
    const second = await broker(port);
    // The new broker knows nothing of the old session: the connection must subscribe again.
    await firstValueFrom(sub.state$.pipe(filter((s) => s === 'online')));
    const pub = connection(second, 'pub');
    await pub.whenOnline(2000);
    for (let i = 0; i < 20 && box.got.length === 0; i++) {
      await pub.publish('t/x', Buffer.from('after restart'), { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(box.got[0]).toEqual({ topic: 't/x', text: 'after restart' });
    expect(sub.stats.connects).toBe(2);
    expect(sub.stats.disconnects).toBe(1);
  });

  it('drops QoS 0 publishes while offline instead of queueing them', async () => {
    const b = await broker();
    const port = b.port;
    const pub = new MqttConnection({ broker: b.target(), clientId: 'pub', reconnectMs: 100 });
    cleanup.push(() => pub.close());
    await pub.whenOnline(2000);
    await b.close();
    await firstValueFrom(pub.state$.pipe(filter((s) => s === 'offline')));
    await pub.publish('t/stale', Buffer.from('old reading'), { qos: 0 }).catch(() => undefined);
    const again = await broker(port);
    const sub = connection(again, 'sub');
    const box = inbox(sub);
    await sub.whenOnline(2000);
    await sub.subscribe(['t/#'], 0);
    await pub.whenOnline(3000);
    await pub.publish('t/fresh', Buffer.from('new reading'), { qos: 0 });
    await box.waitFor(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(box.got.map((g) => g.topic)).toEqual(['t/fresh']);
  });

  it('reports an unreachable broker as UNAVAILABLE', async () => {
    const b = await EmbeddedBroker.start();
    const target = b.target();
    await b.close();
    const c = connection({ target: () => target }, 'nobody-home');
    const e = await c.whenOnline(300).catch((x: unknown) => x);
    expect(isDermsError(e) && e.code === 'UNAVAILABLE').toBe(true);
    expect(String(e)).toMatch(/not reachable within 300 ms/);
  });

  it('counts a throwing message handler instead of failing', async () => {
    const b = await broker();
    const sub = connection(b, 'sub');
    sub.onMessage(() => {
      throw new Error('bug in a handler');
    });
    await sub.whenOnline(2000);
    await sub.subscribe(['t/#'], 0);
    const pub = connection(b, 'pub');
    await pub.whenOnline(2000);
    await pub.publish('t/1', Buffer.from('x'), { qos: 1 });
    for (let i = 0; i < 30 && sub.stats.handlerErrors === 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sub.stats).toMatchObject({ received: 1, handlerErrors: 1 });
    expect(sub.online).toBe(true);
  });
});
