import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SunSpecAdapter } from '../../src/adapters/sunspec/adapter.js';
import { parseModbusUrl } from '../../src/protocols/modbus-url.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { SunSpecRtuServer } from '../../src/sim/sunspec/server.js';
import { batterySpec } from '../sim/sim-fixtures.js';
import { peer } from './peers.js';

const socat = peer('socat', ['sh', '-c', 'command -v socat']);
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function ptyPair(): Promise<{ device: string; host: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'derms-rtu-'));
  const device = join(dir, 'device');
  const host = join(dir, 'host');
  const p: ChildProcess = spawn('socat', [`pty,raw,echo=0,link=${device}`, `pty,raw,echo=0,link=${host}`]);
  cleanup.push(() => void p.kill());
  for (let i = 0; i < 100 && !(existsSync(device) && existsSync(host)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!existsSync(device)) throw new Error('socat did not create the pseudo-terminals');
  return { device, host };
}

describe('SunSpec Modbus RTU over a socat pseudo-terminal pair', () => {
  it.skipIf(!socat.available)('our adapter discovers, polls and controls a simulated RTU device', async () => {
    const { device, host } = await ptyPair();
    const d = new SimInverter(batterySpec('bat-rtu'), 1);
    const server = await SunSpecRtuServer.start(d, { path: device, baudRate: 115200, unitId: 7, profile: '700' });
    cleanup.push(() => server.close());
    const a = new SunSpecAdapter('bat-rtu', parseModbusUrl(`modbus-rtu://${host}?baud=115200&unit=7`), asyncScheduler, { pollPeriodMs: 300, requestTimeoutMs: 1500, backoffMs: 300 });
    cleanup.push(() => a.close());
    await firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
    const s = await firstValueFrom(a.telemetry$);
    expect(s.soc).toBeCloseTo(50, 0);
    expect(await a.apply({ kind: 'activePower', w: -1500, derId: 'bat-rtu' })).toEqual({ status: 'applied' });
    expect(d.settings().activePowerSetpointW).toBe(-1500);
  }, 30_000);
});
