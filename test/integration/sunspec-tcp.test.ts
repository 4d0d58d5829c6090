import { asyncScheduler, firstValueFrom, filter } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { SunSpecAdapter } from '../../src/adapters/sunspec/adapter.js';
import { parseModbusUrl } from '../../src/protocols/modbus-url.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { SunSpecServers } from '../../src/sim/sunspec/server.js';
import { batterySpec, noonSky, pvSpec } from '../sim/sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function serve(devices: { device: SimInverter; profile: 'legacy' | '700' | 'both'; mode: 'port' | 'gateway' }[]) {
  const s = await SunSpecServers.start(devices);
  cleanup.push(() => s.close());
  return s;
}
function adapter(id: string, url: string) {
  const a = new SunSpecAdapter(id, parseModbusUrl(url), asyncScheduler, { pollPeriodMs: 100, requestTimeoutMs: 400, backoffMs: 100, maxBackoffMs: 200, handshakeTimeoutMs: 2000 });
  cleanup.push(() => a.close());
  return a;
}
const online = (a: SunSpecAdapter) => firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
const offline = (a: SunSpecAdapter) => firstValueFrom(a.link$.pipe(filter((l) => l === 'offline')));
function warm(d: SimInverter): void {
  for (let i = 1; i <= 30; i++) d.step(T0 + i * 1000, 1, noonSky, 240, 60);
}

describe('SunSpec Modbus TCP end to end (simulated device <-> adapter, loopback)', () => {
  it('discovers a 700-series device, streams its telemetry and applies every kind of setpoint with read-back', async () => {
    const d = new SimInverter(pvSpec('pv-1'), 1);
    warm(d);
    const s = await serve([{ device: d, profile: '700', mode: 'port' }]);
    const [ep] = s.endpoints();
    expect(ep!.url).toMatch(/^modbus-tcp:\/\/127\.0\.0\.1:\d+\?unit=1$/);
    const a = adapter('pv-1', ep!.url);
    await online(a);
    const sample = await firstValueFrom(a.telemetry$);
    expect(sample.w).toBeCloseTo(d.measurements().w, 0);
    expect(sample.v).toBeCloseTo(240, 1);
    expect(a.capabilities().setpoints.has('voltVar')).toBe(true);

    expect(await a.apply({ kind: 'activePowerLimit', pct: 42.5, w: 4250, derId: 'pv-1' })).toEqual({ status: 'applied' });
    expect(d.settings().activePowerLimitPct).toBeCloseTo(42.5, 6);
    expect(await a.apply({ kind: 'powerFactor', pf: 0.95, excitation: 'absorbing', derId: 'pv-1' })).toEqual({ status: 'applied' });
    expect(d.settings()).toMatchObject({ reactiveMode: 'constantPf', pfExcitation: 'absorbing' });
    expect(await a.apply({ kind: 'voltVar', curve: [{ v: 92, var: 44 }, { v: 98, var: 0 }, { v: 102, var: 0 }, { v: 108, var: -44 }], derId: 'pv-1' })).toEqual({ status: 'applied' });
    expect(d.settings().reactiveMode).toBe('voltVar');
    expect(await a.apply({ kind: 'activePower', w: 3000, derId: 'pv-1' })).toEqual({ status: 'applied' });
    expect(d.settings().activePowerSetpointW).toBe(3000);
    // The device refuses a setpoint beyond its rating: exception 3, reported as rejected.
    const r = await a.apply({ kind: 'activePower', w: 20_000, derId: 'pv-1' });
    expect(r.status).toBe('rejected');
    expect(r.status === 'rejected' && r.reason).toMatch(/exception 3|range|does not fit/i);
    expect(d.settings().activePowerSetpointW).toBe(3000);
  });

  it('drives legacy devices behind a gateway by unit id', async () => {
    const b = new SimInverter(batterySpec('bat-1'), 2);
    const p = new SimInverter(pvSpec('pv-2'), 3);
    const s = await serve([{ device: b, profile: 'legacy', mode: 'gateway' }, { device: p, profile: 'legacy', mode: 'gateway' }]);
    const eps = s.endpoints();
    expect(eps.map((e) => e.unit)).toEqual([1, 2]);
    expect(eps[0]!.port).toBe(eps[1]!.port);
    const ab = adapter('bat-1', eps[0]!.url);
    const ap = adapter('pv-2', eps[1]!.url);
    await Promise.all([online(ab), online(ap)]);
    expect((await firstValueFrom(ab.telemetry$)).soc).toBeCloseTo(50, 0);
    expect(await ab.apply({ kind: 'activePower', w: -2500, derId: 'bat-1' })).toEqual({ status: 'applied' });
    expect(b.settings().activePowerSetpointW).toBeCloseTo(-2500, 6);
    expect(await ap.apply({ kind: 'activePowerLimit', pct: 30, w: 3000, derId: 'pv-2' })).toEqual({ status: 'applied' });
    expect(p.settings().activePowerLimitPct).toBe(30);
  });

  it('behind a gateway, a unit that stops answering gets exception 11 and goes offline; the unit beside it on the same connection keeps reporting', async () => {
    const quiet = new SimInverter(pvSpec('pv-q'), 4);
    const busy = new SimInverter(pvSpec('pv-b'), 5);
    for (const d of [quiet, busy]) warm(d);
    const s = await serve([{ device: quiet, profile: '700', mode: 'gateway' }, { device: busy, profile: '700', mode: 'gateway' }]);
    const opts = { pollPeriodMs: 100, requestTimeoutMs: 2000, backoffMs: 300, maxBackoffMs: 300 };
    const [aq, ab] = s.endpoints().map((e, i) => new SunSpecAdapter(i === 0 ? 'pv-q' : 'pv-b', parseModbusUrl(e.url), asyncScheduler, opts));
    cleanup.push(() => aq!.close(), () => ab!.close());
    await Promise.all([online(aq!), online(ab!)]);
    quiet.setFault('commsLoss', true);
    await offline(aq!);
    expect(aq!.lastError).toMatch(/exception 11 \(gateway target failed to respond\)/);
    // One request in flight per connection: the gateway's answer within 0.5 s keeps the other unit going.
    let samples = 0;
    const sub = ab!.telemetry$.subscribe(() => samples++);
    await new Promise((r) => setTimeout(r, 1500));
    sub.unsubscribe();
    expect(samples).toBeGreaterThanOrEqual(4);
    quiet.setFault('commsLoss', false);
    await online(aq!);
  });

  it('times out on a silent device, goes offline, and reconnects when it answers again', async () => {
    const d = new SimInverter(pvSpec('pv-3'), 1);
    const s = await serve([{ device: d, profile: '700', mode: 'port' }]);
    const a = adapter('pv-3', s.endpoints()[0]!.url);
    await online(a);
    d.setFault('commsLoss', true);
    expect(await a.apply({ kind: 'activePowerLimit', pct: 50, w: 5000, derId: 'pv-3' })).toMatchObject({ status: expect.stringMatching(/timedOut|rejected/) });
    await offline(a);
    d.setFault('commsLoss', false);
    await online(a);
    expect(await a.apply({ kind: 'activePowerLimit', pct: 50, w: 5000, derId: 'pv-3' })).toEqual({ status: 'applied' });
  });

  it('stays alive and keeps retrying when nothing listens', async () => {
    const a = adapter('ghost', 'modbus-tcp://127.0.0.1:1?unit=1');
    await new Promise((r) => setTimeout(r, 300));
    expect(a.lastError).toMatch(/cannot connect/);
    expect(await a.apply({ kind: 'activePowerLimit', pct: 50, w: 5000, derId: 'ghost' })).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/not connected/) });
  });
});
