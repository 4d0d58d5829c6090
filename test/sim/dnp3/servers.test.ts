import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { parseDnp3Url } from '../../../src/protocols/dnp3/url.js';
import { Dnp3Servers, type Dnp3ServedDevice } from '../../../src/sim/dnp3/servers.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { noonSky, pvSpec } from '../sim-fixtures.js';
import { T0 } from './support.js';

const open: Dnp3Servers[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});
async function start(...args: Parameters<typeof Dnp3Servers.start>): Promise<Dnp3Servers> {
  const s = await Dnp3Servers.start(...args);
  open.push(s);
  return s;
}
const devices = (n: number, mode: Dnp3ServedDevice['mode'], outstation?: (i: number) => number | undefined): Dnp3ServedDevice[] =>
  Array.from({ length: n }, (_, i) => ({ device: new SimInverter(pvSpec(`pv-${i}`), i), mode, outstation: outstation?.(i) }));

describe('Dnp3Servers', () => {
  it('puts shared outstations behind ports by link address, and the others on a port each', async () => {
    const s = await start([...devices(5, 'shared'), { device: new SimInverter(pvSpec('own'), 9), mode: 'port' }], { perPort: 2 });
    const eps = s.endpoints();
    expect(eps.map((e) => e.mRID)).toEqual(['own', 'pv-0', 'pv-1', 'pv-2', 'pv-3', 'pv-4']);
    const [own, ...shared] = eps;
    expect(own).toMatchObject({ protocol: 'dnp3', host: '127.0.0.1', outstation: 10, master: 1 });
    expect(shared.map((e) => e.outstation)).toEqual([10, 11, 10, 11, 10]);
    expect(new Set(shared.map((e) => e.port)).size).toBe(3);
    expect(shared[0]!.port).toBe(shared[1]!.port);
    expect(new Set(eps.map((e) => e.port)).size).toBe(4);
    for (const e of eps) {
      expect(e.url).toBe(`dnp3://127.0.0.1:${e.port}?outstation=${e.outstation}&master=1`);
      expect(parseDnp3Url(e.url)).toEqual({ host: e.host, port: e.port, outstation: e.outstation, master: e.master });
    }
    expect(s.stats()).toMatchObject({ outstations: 6, ports: 4, openConnections: 0 });
  });

  it('keeps given addresses, never twice on one port, and skips the master address', async () => {
    const s = await start(devices(5, 'shared', (i) => (i < 3 ? 20 : undefined)), { master: 10 });
    const eps = [0, 1, 2, 3, 4].map((i) => s.endpoints().find((e) => e.mRID === `pv-${i}`)!);
    expect(eps.map((e) => e.outstation)).toEqual([20, 20, 20, 11, 12]);
    expect(new Set(eps.slice(0, 3).map((e) => e.port)).size).toBe(3);
    expect(eps[3]!.port).toBe(eps[0]!.port);
    expect(eps[4]!.port).toBe(eps[0]!.port);
    expect(eps.every((e) => e.master === 10)).toBe(true);
  });

  it('listens on a pinned port, and on ports counted up from a base', async () => {
    const probe = await start([{ device: new SimInverter(pvSpec('probe'), 1), mode: 'port' }]);
    const free = probe.endpoints()[0]!.port;
    await probe.close();
    const s = await start([{ device: new SimInverter(pvSpec('pinned'), 1), mode: 'port', port: free }]);
    expect(s.endpoints()[0]!.port).toBe(free);
    await s.close();
    const b = await start(devices(3, 'shared'), { basePort: free, perPort: 2 });
    expect(b.endpoints().map((e) => e.port)).toEqual([free, free, free + 1]);
  });

  it('refuses bad addresses and a device served twice, leaving nothing open', async () => {
    const d = new SimInverter(pvSpec('x'), 1);
    await expect(Dnp3Servers.start([{ device: d, mode: 'port', outstation: 70_000 }])).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/outstation address 70000/) });
    await expect(Dnp3Servers.start([{ device: d, mode: 'port', outstation: 1 }])).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/not the master's 1/) });
    await expect(Dnp3Servers.start([{ device: d, mode: 'shared' }, { device: d, mode: 'shared' }])).rejects.toMatchObject({ message: expect.stringMatching(/served twice/) });
    await expect(Dnp3Servers.start([], { perPort: 0 })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it('refreshes published values on its period', async () => {
    const clock = new VirtualClock(T0);
    const d = new SimInverter(pvSpec('pv'), 1);
    const s = await start([{ device: d, mode: 'port' }], { refreshOn: clock, refreshMs: 1000 });
    const w = (): unknown => s.outstation('pv')!.outstation.point('analogInput', 537)!.value;
    expect(w()).toBe(0);
    for (let i = 1; i <= 30; i++) d.step(T0 + i * 1000, 1, noonSky, 240, 60);
    await clock.advanceBy(999);
    expect(w()).toBe(0);
    await clock.advanceBy(1);
    expect(w()).toBe(Math.round(d.measurements().w));
    expect(w()).toBeGreaterThan(5000);
  });
});
