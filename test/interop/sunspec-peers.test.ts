import { spawn } from 'node:child_process';
import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncScheduler, filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SunSpecAdapter } from '../../src/adapters/sunspec/adapter.js';
import { ModbusTcpConnection } from '../../src/adapters/sunspec/modbus-tcp.js';
import { parseModbusUrl } from '../../src/protocols/modbus-url.js';
import { ModelRegistry, encodeModel, SUNS_MARKER } from '../../src/protocols/sunspec/index.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { SunSpecDeviceImage } from '../../src/sim/sunspec/image.js';
import { SunSpecServers } from '../../src/sim/sunspec/server.js';
import { noonSky, pvSpec } from '../sim/sim-fixtures.js';
import { DEBIAN_PYTHON, peer } from './peers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const pymodbus = peer('python3-pymodbus', [DEBIAN_PYTHON, '-c', 'import pymodbus.client, pymodbus.server']);
const mbpoll = peer('mbpoll', ['sh', '-c', 'command -v mbpoll']);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function warmDevice(): SimInverter {
  const d = new SimInverter(pvSpec('pv-interop'), 1);
  for (let i = 1; i <= 30; i++) d.step(Date.UTC(2026, 5, 21, 18) + i * 1000, 1, noonSky, 238.7, 60);
  return d;
}

describe('SunSpec interoperability with software we did not write', () => {
  it.skipIf(!pymodbus.available)('pymodbus finds SunS, walks our chain to the end and reads model 1 and a 701 measurement', async () => {
    const d = warmDevice();
    const servers = await SunSpecServers.start([{ device: d, profile: 'both', mode: 'port' }]);
    cleanup.push(() => servers.close());
    const ep = servers.endpoints()[0]!;
    const out = await run(DEBIAN_PYTHON, [join(here, 'sunspec_client.py'), ep.host, String(ep.port), String(ep.unit)]);
    const r = JSON.parse(out) as { chain: { id: number; address: number; length: number }[]; Mn: string; SN: string; W: number; LNV: number };
    expect(r.chain.map((c) => c.id)).toEqual(new SunSpecDeviceImage(d, 1, 'both').chain().map((c) => c.id));
    expect(r.Mn).toBe('derms-sim');
    expect(r.SN).toBe('pv-interop');
    expect(r.W).toBeCloseTo(d.measurements().w, 0);
    expect(r.LNV).toBeCloseTo(238.7, 1);
  });

  it.skipIf(!pymodbus.available)('our adapter drives a pymodbus server holding a SunSpec image', async () => {
    const registry = new ModelRegistry();
    const n = pvSpec('x').nameplate;
    const models: [number, Record<string, number | string | null>][] = [
      [1, { Mn: 'pymodbus', Md: 'image', SN: 'peer-1', DA: 1 }],
      [701, { ACType: 0, St: 1, InvSt: 3, ConnSt: 1, W: 5120, VA: 5120, Var: 0, PF: 1, LNV: 241.5, Hz: 60.01, A_SF: -2, V_SF: -1, Hz_SF: -3, W_SF: 0, PF_SF: -3, VA_SF: 0, Var_SF: 0, TotWh_SF: 0, TotVarh_SF: 0, Tmp_SF: -1 }],
      [702, { WMaxRtg: n.maxW, VAMaxRtg: n.maxVA, VarMaxInjRtg: n.maxVarInject, VarMaxAbsRtg: n.maxVarAbsorb, VNomRtg: 240, WMax: n.maxW, W_SF: 0, PF_SF: -3, VA_SF: 0, Var_SF: 0, V_SF: -1, A_SF: -2, S_SF: 0 }],
      [704, { WMaxLimPctEna: 0, WMaxLimPct: 100, PF_SF: -3, WMaxLimPct_SF: -1, WSet_SF: 0, WSetPct_SF: -1, VarSet_SF: 0, VarSetPct_SF: -1 }],
    ];
    const registers: number[] = [...SUNS_MARKER];
    for (const [id, values] of models) registers.push(...encodeModel(registry.require(id), values));
    registers.push(0xffff, 0);
    const dir = await mkdtemp(join(tmpdir(), 'derms-pymodbus-'));
    await writeFile(join(dir, 'image.json'), JSON.stringify({ base: 40000, registers }));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const server = spawn(DEBIAN_PYTHON, [join(here, 'sunspec_server.py'), String(port), join(dir, 'image.json')]);
    cleanup.push(() => void server.kill());
    await new Promise<void>((resolve, reject) => {
      server.stdout.on('data', (b: Buffer) => b.toString().includes('ready') && resolve());
      server.on('close', (code) => reject(new Error(`pymodbus server exited ${code}`)));
    });
    await new Promise((r) => setTimeout(r, 300)); // "ready" prints just before it binds
    const a = new SunSpecAdapter('peer-1', parseModbusUrl(`modbus-tcp://127.0.0.1:${port}?unit=1`), asyncScheduler, { pollPeriodMs: 200, requestTimeoutMs: 1000, backoffMs: 200 });
    cleanup.push(() => a.close());
    await firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
    const s = await firstValueFrom(a.telemetry$);
    expect(s).toMatchObject({ w: 5120, v: 241.5, hz: 60.01, state: 'running', connected: true });
    expect(await a.apply({ kind: 'activePowerLimit', pct: 62.5, w: 6250, derId: 'peer-1' })).toEqual({ status: 'applied' });

    // Pipelined: 40 reads outstanding 8 at a time on one connection, each answer matched by
    // transaction id (within models 1 and 701, which the write above left alone).
    const conn = await ModbusTcpConnection.connect('127.0.0.1', port, { maxInFlight: 8 });
    cleanup.push(() => conn.close());
    const reads = Array.from({ length: 40 }, (_, k) => ({ address: 40000 + ((k * 7) % 210), count: 1 + (k % 10) }));
    const got = await Promise.all(reads.map((r) => conn.readHoldingRegisters(1, r.address, r.count, 2000)));
    reads.forEach((r, k) => expect([...got[k]!], `read ${r.count} at ${r.address}`).toEqual(registers.slice(r.address - 40000, r.address - 40000 + r.count).map((x) => x & 0xffff)));
  });

  it.skipIf(!mbpoll.available)('mbpoll reads SunS and the common model from a simulated device', async () => {
    const servers = await SunSpecServers.start([{ device: warmDevice(), profile: '700', mode: 'port' }]);
    cleanup.push(() => servers.close());
    const ep = servers.endpoints()[0]!;
    // mbpoll counts registers from 1: 40001 is address 40000.
    const stdout = await run('mbpoll', ['-m', 'tcp', '-a', String(ep.unit), '-p', String(ep.port), '-t', '4:hex', '-r', '40001', '-c', '4', '-1', ep.host]);
    expect(stdout).toMatch(/\[40001\]:\s+0x5375/);
    expect(stdout).toMatch(/\[40002\]:\s+0x6E53/i);
    expect(stdout).toMatch(/\[40003\]:\s+0x0001/);
  });
});

/** Run a peer program without blocking this process (our servers answer it from here). */
function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    p.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`${cmd} exited ${code}: ${stderr}${stdout}`))));
  });
}
