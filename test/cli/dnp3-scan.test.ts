import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanDnp3 } from '../../src/cli/dnp3-commands.js';
import { Dnp3Servers } from '../../src/sim/dnp3/servers.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { batterySpec, noonSky } from '../sim/sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function served(): Promise<{ device: SimInverter; url: string; servers: Dnp3Servers }> {
  const device = new SimInverter(batterySpec('bat-1'), 1);
  for (let i = 1; i <= 30; i++) device.step(T0 + i * 1000, 1, noonSky, 240, 60);
  device.update({ activePowerSetpointW: 2000 });
  for (let i = 31; i <= 40; i++) device.step(T0 + i * 1000, 1, noonSky, 240, 60);
  const servers = await Dnp3Servers.start([{ device, mode: 'shared' }, { device: new SimInverter(batterySpec('bat-2'), 2), mode: 'shared' }]);
  cleanup.push(() => servers.close());
  return { device, url: servers.endpoints()[0]!.url, servers };
}

async function scan(url: string, o: { json?: boolean; timeoutMs?: number; pointMap?: string } = {}): Promise<string[]> {
  const out: string[] = [];
  await scanDnp3(url, { json: o.json ?? false, timeoutMs: o.timeoutMs ?? 2000, out: (l) => out.push(l), pointMap: o.pointMap });
  return out;
}

describe('derms scan dnp3://', () => {
  it('prints every profile point by name with its scaled value, units and quality', async () => {
    const { device, url } = await served();
    const out = await scan(url);
    expect(out[0]).toMatch(new RegExp(`^${url.replace(/[?.]/g, '\\$&')}: DNP3 DER profile.*, 937 points reported \\(integrity poll in \\d+\\.\\d\\d s\\), IIN none$`));
    expect(out[1]).toBe('125 of 125 profile points present; 812 other points not in the profile map');
    expect(out[3]).toMatch(/^ {2}point +name +value +units +quality$/);
    const row = (name: string): string[] => out.find((l) => l.split(/\s+/)[2] === name)!.trim().split(/\s{2,}/);
    expect(row('ai.w')).toEqual(['AI537', 'ai.w', String(Math.round(device.measurements().w)), 'W', 'ONLINE']);
    expect(row('ai.w')[2]).toBe('2000');
    expect(row('ai.vPhaseA')).toEqual(['AI547', 'ai.vPhaseA', '240', 'V', 'ONLINE']);
    expect(row('ai.pfGen')).toEqual(['AI288', 'ai.pfGen', '1', 'PF', 'ONLINE']);
    expect(row('ai.curveX[3]')).toEqual(['AI337', 'ai.curveX[3]', '102', '% of nominal V', 'ONLINE']);
    expect(row('bi.chargeDischargeEnabled')).toEqual(['BI70', 'bi.chargeDischargeEnabled', 'on', 'ONLINE']);
    expect(row('ao.activePowerTarget')).toEqual(['AO93', 'ao.activePowerTarget', '40', '%', 'ONLINE']);
    expect(row('counter.exportedWh')[0]).toBe('C0');
    expect(out.filter((l) => /^ {2}(AI|BI|AO|BO|C)\d+ /.test(l))).toHaveLength(125);
  });

  it('prints one JSON object with --json', async () => {
    const { device, url } = await served();
    const out = await scan(url, { json: true });
    expect(out).toHaveLength(1);
    const j = JSON.parse(out[0]!) as { url: string; outstation: number; iin: string[]; points: { point: string; role: string; value: unknown; raw: unknown; units: string | null; flags: string[] }[]; reported: number; otherPoints: number };
    expect(j).toMatchObject({ url, outstation: 10, master: 1, iin: [], reported: 937, otherPoints: 812 });
    expect(j.points).toHaveLength(125);
    expect(j.points.find((p) => p.role === 'ai.soc')).toEqual({ point: 'AI48', role: 'ai.soc', value: Math.round(device.measurements().soc! * 10) / 10, raw: Math.round(device.measurements().soc! * 10), units: '%', flags: ['ONLINE'] });
    expect(j.points.find((p) => p.role === 'bo.connect')).toEqual({ point: 'BO5', role: 'bo.connect', value: true, raw: true, units: null, flags: ['ONLINE'] });
  });

  it('names the points a lab map moves, and says which the outstation does not report', async () => {
    const { url } = await served();
    const dir = await mkdtemp(join(tmpdir(), 'derms-dnp3-'));
    const file = join(dir, 'lab.yaml');
    await writeFile(file, 'points:\n  ai.w: { index: 600 }\n  ai.vAvgLL: null\n');
    const out = await scan(url, { pointMap: file });
    expect(out[1]).toBe('123 of 124 profile points present; 814 other points not in the profile map');
    expect(out.find((l) => l.includes('ai.w '))!.trim().split(/\s{2,}/)).toEqual(['AI600', 'ai.w', '-', 'W', 'not reported']);
  });

  it('refuses a bad URL, and says whether the outstation is unreachable or silent', async () => {
    await expect(scan('dnp3://127.0.0.1:20000?outstation=x')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(scan('modbus-tcp://127.0.0.1:502')).rejects.toMatchObject({ code: 'INVALID_INPUT' });

    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const free = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await expect(scan(`dnp3://127.0.0.1:${free}?outstation=10&master=1`)).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/cannot connect/) });

    const { device, url, servers } = await served();
    device.setFault('commsLoss', true);
    await expect(scan(url, { timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/did not answer an integrity poll within 300 ms/) });
    // An address nobody serves on the port: no answer either.
    await expect(scan(url.replace('outstation=10', 'outstation=99'), { timeoutMs: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(servers.stats().unknownDestination).toBeGreaterThan(0);
  });
});
