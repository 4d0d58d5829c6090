import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandStatus, IIN1 } from '../../../src/protocols/dnp3/app/codes.js';
import { TcpClientChannel } from '../../../src/protocols/dnp3/channel/tcp-client.js';
import { Dnp3TcpServer } from '../../../src/protocols/dnp3/channel/tcp-server.js';
import { encodeFrame } from '../../../src/protocols/dnp3/link/frame.js';
import { Dnp3Master } from '../../../src/protocols/dnp3/master/master.js';
import { Dnp3Outstation } from '../../../src/protocols/dnp3/outstation/outstation.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function outstation(address: number, value: number): Dnp3Outstation {
  const o: Dnp3Outstation = new Dnp3Outstation({
    localAddress: address,
    // AI 0 as float (g30v5/g32v7), AI 1 as the default 32-bit integer.
    database: { points: { analogInput: [{ staticVariation: 5, eventVariation: 7 }, {}], binaryInput: 1 } },
    onCommand: (c): number => (c.type === 'analogOutput' ? (o.update('analogInput', 1, c.value), CommandStatus.SUCCESS) : CommandStatus.NOT_SUPPORTED),
  });
  o.update('analogInput', 0, value);
  cleanup.push(() => o.close());
  return o;
}

function master(port: number, remoteAddress: number): Dnp3Master {
  const m = new Dnp3Master(new TcpClientChannel({ host: '127.0.0.1', port, minBackoffMs: 20 }), { remoteAddress });
  cleanup.push(() => m.close());
  return m;
}

async function server(): Promise<Dnp3TcpServer> {
  const s = await Dnp3TcpServer.listen({ port: 0 });
  cleanup.push(() => s.close());
  return s;
}

describe('DNP3 over TCP on 127.0.0.1', () => {
  it('one outstation on its own port: startup, static data, unsolicited events, a command', async () => {
    const s = await server();
    const o = outstation(10, 230.5);
    s.add(o);
    const m = master(s.port, 10);
    await until(() => m.point('analogInput', 0)?.value === 230.5 && (m.iin?.iin1 ?? 0xff) === 0, 'startup');
    o.update('binaryInput', 0, true);
    await until(() => m.point('binaryInput', 0)?.value === true, 'an unsolicited event');
    expect(m.point('binaryInput', 0)!.isEvent).toBe(true);
    const r = await m.directOperate({ type: 'analogOutput', index: 3, value: 900 });
    expect(r).toMatchObject({ ok: true, statuses: [0] });
    await until(() => m.point('analogInput', 1)?.value === 900, 'the read-back event');
    expect(o.iin().iin1 & IIN1.DEVICE_RESTART).toBe(0);
  });

  it('several outstations behind one port, told apart by link address', async () => {
    const s = await server();
    const os = [10, 11, 12].map((a) => outstation(a, a * 100));
    os.forEach((o) => s.add(o));
    const ms = [10, 11, 12].map((a) => master(s.port, a));
    await until(() => ms.every((m, i) => m.point('analogInput', 0)?.value === (10 + i) * 100), 'every master to see its own outstation');
    os[1]!.update('analogInput', 0, 4242);
    await until(() => ms[1]!.point('analogInput', 0)?.value === 4242, 'the event of outstation 11');
    expect(ms[0]!.point('analogInput', 0)!.value).toBe(1000);
    expect(ms[2]!.point('analogInput', 0)!.value).toBe(1200);
    expect(s.outstations().map((o) => o.localAddress)).toEqual([10, 11, 12]);
    expect(() => s.add(outstation(11, 0))).toThrow(/already served/);

    // A frame for an address nobody serves is counted, not answered.
    const sock = connect(s.port, '127.0.0.1');
    cleanup.push(() => sock.destroy());
    await new Promise((r) => sock.once('connect', r));
    sock.write(encodeFrame({ dir: true, prm: true, fcb: false, fcv: false, func: 9, dst: 77, src: 1, userData: new Uint8Array(0) }));
    sock.write(Uint8Array.from([1, 2, 3, 0x05, 0x64, 0xff]));
    await until(() => s.stats().unknownDestination === 1, 'the unknown destination to be counted');
    expect(s.stats().connections).toBe(4);
  });

  it('the master reconnects with back-off after the connection drops, and runs the startup again', async () => {
    const s = await server();
    const o = outstation(10, 1);
    s.add(o);
    const m = master(s.port, 10);
    await until(() => m.point('analogInput', 0)?.value === 1, 'first startup');
    const states: boolean[] = [];
    m.online$.subscribe((v) => states.push(v));
    await s.close();
    await until(() => !m.online, 'offline');
    const r = await m.integrityPoll();
    expect(r).toMatchObject({ ok: false, error: { reason: 'OFFLINE' } });
    o.update('analogInput', 0, 2);
    const again = await Dnp3TcpServer.listen({ port: s.port });
    cleanup.push(() => again.close());
    again.add(o);
    await until(() => m.point('analogInput', 0)?.value === 2, 'reconnect and integrity poll', 5000);
    expect(states).toEqual([true, false, true]);
  });
});
