import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncScheduler, filter, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { Dnp3Adapter } from '../../src/adapters/dnp3/adapter.js';
import { FrameDecoder, tapChannel, TcpClientChannel } from '../../src/protocols/dnp3/index.js';
import type { Nameplate } from '../../src/core/model/der.js';
import type { SetpointBody } from '../../src/core/model/setpoint.js';
import { parseDnp3Url } from '../../src/protocols/dnp3/url.js';
import type { ControlPatch } from '../../src/sim/controls.js';
import { Dnp3Servers, type Dnp3ServedDevice } from '../../src/sim/dnp3/servers.js';
import { setpointToPatch } from '../../src/sim/in-process-link.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { pcapFile, type PcapPacket } from '../interop/dnp3_pcap.js';
import { peer } from '../interop/peers.js';
import { batterySpec, noonSky, pvSpec } from '../sim/sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function serve(devices: Dnp3ServedDevice[], basePort = 0): Promise<Dnp3Servers> {
  const s = await Dnp3Servers.start(devices, { basePort });
  cleanup.push(() => s.close());
  return s;
}
function adapter(id: string, url: string): Dnp3Adapter {
  const a = new Dnp3Adapter(id, parseDnp3Url(url), asyncScheduler, { eventPollMs: 100, integrityPollMs: 5000, responseTimeoutMs: 300, maxRetries: 0, backoffMs: 50, maxBackoffMs: 100 });
  cleanup.push(() => a.close());
  return a;
}
const online = (a: Dnp3Adapter) => firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
const offline = (a: Dnp3Adapter) => firstValueFrom(a.link$.pipe(filter((l) => l === 'offline')));
function warm(d: SimInverter): SimInverter {
  for (let i = 1; i <= 30; i++) d.step(T0 + i * 1000, 1, noonSky, 240, 60);
  return d;
}

const curve = [
  { v: 90, var: 25 },
  { v: 100, var: 0 },
  { v: 100.01, var: 0 },
  { v: 110, var: -25 },
];
const everyKind = (n: Nameplate): SetpointBody[] => [
  { kind: 'activePower', w: 0.4 * n.maxW },
  { kind: 'activePower', w: -0.6 * n.maxChargeW },
  { kind: 'activePowerLimit', w: 0.425 * n.maxW, pct: 42.5 },
  { kind: 'reactivePower', var: 0.3 * n.maxVarInject },
  { kind: 'reactivePower', var: -0.55 * n.maxVarAbsorb },
  { kind: 'powerFactor', pf: 0.93, excitation: 'absorbing' },
  { kind: 'powerFactor', pf: 0.97, excitation: 'injecting' },
  { kind: 'voltVar', curve },
  { kind: 'voltWatt', curve: [{ v: 104, w: 100 }, { v: 108.5, w: 40 }, { v: 110, w: 0 }] },
  { kind: 'rampRates', increasingWPerS: 0.05 * n.maxW, decreasingWPerS: 0.1 * n.maxW },
  { kind: 'connect', connected: false },
  { kind: 'connect', connected: true },
  { kind: 'release', slot: 'activePower' },
  { kind: 'release', slot: 'activePowerLimit' },
  { kind: 'release', slot: 'reactive' },
  { kind: 'release', slot: 'voltWatt' },
  { kind: 'release', slot: 'rampRates' },
  { kind: 'release', slot: 'connect' },
];

/** The device holds what the setpoint means (its in-process meaning), within the resolution of the points that carried it. */
function expectHeld(d: SimInverter, sp: SetpointBody): void {
  const n = d.spec.nameplate;
  const patch: ControlPatch = setpointToPatch({ ...sp, derId: d.id }, n);
  const s = d.settings() as unknown as Record<string, unknown>;
  for (const [key, want] of Object.entries(patch)) {
    const got = s[key];
    if (typeof want === 'number') expect(Math.abs((got as number) - want), `${sp.kind}: ${key}`).toBeLessThanOrEqual(key === 'activePowerSetpointW' ? 0.001 * n.maxW : 0.05);
    else if (Array.isArray(want)) expect(got, `${sp.kind}: ${key}`).toEqual(want);
    else expect(got, `${sp.kind}: ${key}`).toEqual(want);
  }
}

describe('DNP3 over TCP end to end (simulated outstations <-> Dnp3Adapter, loopback)', () => {
  it('discovers the nameplate, streams samples that match the device, and applies every kind of setpoint with read-back', async () => {
    const d = warm(new SimInverter(batterySpec('bat-1'), 1));
    const s = await serve([{ device: d, mode: 'port' }]);
    const [ep] = s.endpoints();
    expect(ep!.url).toMatch(/^dnp3:\/\/127\.0\.0\.1:\d+\?outstation=10&master=1$/);
    const a = adapter('bat-1', ep!.url);
    await online(a);
    expect(a.nameplate()).toEqual({ nameplate: d.spec.nameplate, storage: true });
    expect(a.capabilities()).toEqual({ setpoints: new Set(['activePower', 'activePowerLimit', 'reactivePower', 'powerFactor', 'voltVar', 'voltWatt', 'rampRates', 'connect', 'release']), nativeRamp: true });
    const sample = await firstValueFrom(a.telemetry$);
    const m = d.measurements();
    expect(Math.abs(sample.w - m.w)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(sample.var - m.var)).toBeLessThanOrEqual(0.5);
    expect(sample).toMatchObject({ derId: 'bat-1', v: 240, hz: 60, connected: m.connected, state: 'running', availWMax: 5000, availWMin: -5000, availVarMax: 2200, availVarMin: -2200 });
    expect(Math.abs(sample.soc! - m.soc!)).toBeLessThanOrEqual(0.05);

    for (const sp of everyKind(d.spec.nameplate)) {
      expect(await a.apply({ ...sp, derId: 'bat-1' }), sp.kind).toEqual({ status: 'applied' });
      expectHeld(d, sp);
    }
    expect(d.settings().voltVarCurve).toEqual(curve);
  });

  it('reports a refused command as rejected with the outstation status, and changes nothing', async () => {
    const d = warm(new SimInverter(pvSpec('pv-1'), 2));
    const s = await serve([{ device: d, mode: 'port' }]);
    const a = adapter('pv-1', s.endpoints()[0]!.url);
    await online(a);
    d.faults.rejectCommands = true;
    expect(await a.apply({ kind: 'activePowerLimit', w: 5000, pct: 50, derId: 'pv-1' })).toEqual({ status: 'rejected', reason: 'AO84 (ao.activePowerLimitRampTime): the outstation answered LOCAL (7)' });
    expect(d.settings().activePowerLimitPct).toBeNull();
    expect(s.outstation('pv-1')!.lastRefusal).toMatch(/rejects commands/);
  });

  it('goes offline when the device falls silent and comes back when it answers; reconnects when the connection drops', async () => {
    const d = warm(new SimInverter(pvSpec('pv-2'), 3));
    const s = await serve([{ device: d, mode: 'port' }]);
    const url = s.endpoints()[0]!.url;
    const a = adapter('pv-2', url);
    await online(a);
    d.setFault('commsLoss', true);
    await offline(a);
    expect(a.lastError).toMatch(/no response/);
    expect(await a.apply({ kind: 'activePowerLimit', w: 5000, pct: 50, derId: 'pv-2' })).toEqual({ status: 'timedOut' });
    d.setFault('commsLoss', false);
    await online(a);
    expect(await a.apply({ kind: 'activePowerLimit', w: 5000, pct: 50, derId: 'pv-2' })).toEqual({ status: 'applied' });

    // The server goes away and comes back on the same port: the master reconnects and starts over.
    const port = s.endpoints()[0]!.port;
    await s.close();
    await offline(a);
    expect(a.lastError).toBe('connection lost');
    await serve([{ device: d, mode: 'port' }], port);
    await online(a);
    expect((await firstValueFrom(a.telemetry$)).derId).toBe('pv-2');
  });

  it('stays alive, saying why, while nothing listens', async () => {
    const a = adapter('ghost', 'dnp3://127.0.0.1:1?outstation=10&master=1');
    await new Promise((r) => setTimeout(r, 200));
    expect(a.lastError).toBe('no connection to 127.0.0.1:1 yet');
    expect(await a.apply({ kind: 'connect', connected: true, derId: 'ghost' })).toEqual({ status: 'rejected', reason: 'not connected: no connection to 127.0.0.1:1 yet' });
  });

  it('drives several outstations behind one port, each by its link address', async () => {
    const ds = [warm(new SimInverter(pvSpec('pv-a'), 4)), warm(new SimInverter(batterySpec('bat-b'), 5)), warm(new SimInverter(pvSpec('pv-c', { nameplate: { ...pvSpec('x').nameplate, maxW: 7600, maxVA: 7600 } }), 6))];
    const s = await serve(ds.map((device) => ({ device, mode: 'shared' as const })));
    const eps = s.endpoints();
    expect(new Set(eps.map((e) => e.port)).size).toBe(1);
    expect(eps.map((e) => e.outstation)).toEqual([10, 11, 12]);
    const as = eps.map((e) => adapter(e.mRID, e.url));
    await Promise.all(as.map(online));
    expect(as.map((a) => a.nameplate()!.nameplate.maxW)).toEqual([10_000, 5000, 7600]);
    expect(await as[1]!.apply({ kind: 'activePower', w: -2500, derId: 'bat-b' })).toEqual({ status: 'applied' });
    expect(await as[2]!.apply({ kind: 'activePowerLimit', w: 3800, pct: 50, derId: 'pv-c' })).toEqual({ status: 'applied' });
    expect(ds.map((d) => [d.settings().activePowerSetpointW, d.settings().activePowerLimitPct])).toEqual([
      [null, null],
      [-2500, null],
      [null, 50],
    ]);
    const samples = await Promise.all(as.map((a) => firstValueFrom(a.telemetry$)));
    samples.forEach((x, i) => expect(Math.abs(x.w - ds[i]!.measurements().w)).toBeLessThanOrEqual(0.5));
    expect(s.stats()).toMatchObject({ ports: 1, openConnections: 3, unknownDestination: 0, badCrc: 0, malformedApdus: 0 });
  });
});

const tshark = peer('tshark', ['tshark', '--version']);

describe.skipIf(!tshark.available)('a DER profile session, dissected by tshark', () => {
  it('every frame between the adapter and a simulated outstation has good CRCs; the controls are the objects and values the profile means', async () => {
    const d = warm(new SimInverter(pvSpec('pv-t'), 7));
    const s = await serve([{ device: d, mode: 'port' }]);
    const ep = s.endpoints()[0]!;
    const packets: PcapPacket[] = [];
    const a = new Dnp3Adapter('pv-t', parseDnp3Url(ep.url), asyncScheduler, {
      eventPollMs: 100,
      responseTimeoutMs: 1000,
      channel: (t) => tapChannel(new TcpClientChannel({ host: t.host, port: t.port }), (dir, bytes) => void packets.push({ fromClient: dir === 'tx', payload: bytes.slice() })),
    });
    cleanup.push(() => a.close());
    await online(a);
    expect(await a.apply({ kind: 'activePowerLimit', w: 4250, pct: 42.5, derId: 'pv-t' })).toEqual({ status: 'applied' });
    expect(await a.apply({ kind: 'connect', connected: false, derId: 'pv-t' })).toEqual({ status: 'applied' });
    await a.close();
    const frames = packets.reduce((n, p) => n + new FrameDecoder().push(p.payload).length, 0);

    const fields = ['dnp.hdr.CRC.status', 'dnp.data_chunk.CRC.status', 'dnp3.al.func', 'dnp3.al.obj', 'dnp3.al.index', 'dnp3.al.anaout.int', 'dnp3.al.ctrlstatus'];
    const dir = await mkdtemp(join(tmpdir(), 'dnp3-der-'));
    await writeFile(join(dir, 's.pcap'), pcapFile(packets));
    const out = await run('tshark', ['-r', join(dir, 's.pcap'), '-o', 'tcp.check_checksum:FALSE', '-Y', 'dnp3', '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,', ...fields.flatMap((f) => ['-e', f])]);
    const rows = out.trim().split('\n').map((l) => Object.fromEntries(l.split('|').map((v, i) => [fields[i], v])) as Record<string, string>);
    // One TCP segment may carry several frames (tshark then shows them as one packet with every field repeated).
    expect(rows.length).toBeGreaterThan(20);
    expect(rows.length).toBeLessThanOrEqual(frames);
    for (const r of rows) {
      expect(r['dnp.hdr.CRC.status']!.split(',').every((x) => x === '1')).toBe(true);
      expect(r['dnp.data_chunk.CRC.status']!.split(',').every((x) => x === '1' || x === '')).toBe(true);
    }
    // Polls are READs, startup also WRITE and (dis)able unsolicited: the controls are the setpoints'.
    const requests = rows.filter((r) => ['3', '4', '5'].includes(r['dnp3.al.func']!));
    // activePowerLimit: AO84 (ramp time 0), AO88 = 425 (42.5 % x 10), BO17 LATCH_ON, by DIRECT_OPERATE (5), g41v1 / g12v1 with 2-octet indexes.
    expect(requests.slice(0, 3).map((r) => [r['dnp3.al.func'], r['dnp3.al.obj'], r['dnp3.al.index'], r['dnp3.al.anaout.int']])).toEqual([
      ['5', '0x2901', '84', '0'],
      ['5', '0x2901', '88', '425'],
      ['5', '0x0c01', '17', ''],
    ]);
    // connect false: BO5 by SELECT (3) then OPERATE (4).
    expect(requests.slice(3).map((r) => [r['dnp3.al.func'], r['dnp3.al.obj'], r['dnp3.al.index']])).toEqual([
      ['3', '0x0c01', '5'],
      ['4', '0x0c01', '5'],
    ]);
    // The read-back: a READ of g40v0, g10v0 and g1v0.
    expect(rows.some((r) => r['dnp3.al.func'] === '1' && r['dnp3.al.obj'] === '0x2800,0x0a00,0x0100')).toBe(true);
  });
});

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (b: Buffer) => (out += b.toString()));
    p.stderr.on('data', (b: Buffer) => (err += b.toString()));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}: ${err}`))));
  });
}
