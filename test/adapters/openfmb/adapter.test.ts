import { asyncScheduler, filter, firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { OpenFmbAdapter } from '../../../src/adapters/openfmb/adapter.js';
import { OpenFmbBus } from '../../../src/adapters/openfmb/bus.js';
import type { LinkState } from '../../../src/core/ports.js';
import { EmbeddedBroker } from '../../../src/protocols/mqtt/broker.js';
import { MqttConnection } from '../../../src/protocols/mqtt/connection.js';
import { encodeProfile, profileTopic, readingProfile } from '../../../src/protocols/openfmb/index.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { OpenFmbGateway } from '../../../src/sim/openfmb/gateway.js';
import { eventually } from '../../protocols/openfmb/observer.js';
import { batterySpec, noonSky, pvSpec } from '../../sim/sim-fixtures.js';

const PERIOD = 100;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function warm(d: SimInverter): SimInverter {
  for (let i = 1; i <= 30; i++) d.step(Date.now() - (31 - i) * 1000, 1, noonSky, 240, 60);
  return d;
}

/** Simulated devices behind a gateway and their adapters on one bus, all in real time on loopback. */
async function setup(devices: SimInverter[], port = 0) {
  const broker = await EmbeddedBroker.start({ port });
  let b = broker;
  cleanup.push(() => b.close());
  const gw = await OpenFmbGateway.start(
    devices.map((device) => ({ device })),
    { broker: broker.target(), clientId: 'sim', clock: asyncScheduler, readingPeriodMs: PERIOD, statusPeriodMs: 5 * PERIOD, reconnectMs: 50 },
  );
  cleanup.push(() => gw.close());
  const logs: string[] = [];
  const bus = new OpenFmbBus({ broker: broker.target(), clientId: 'derms', clock: asyncScheduler, sweepMs: PERIOD, reconnectMs: 50, log: (l) => logs.push(l) });
  cleanup.push(() => bus.close());
  await bus.whenReady(2000);
  const adapters = devices.map((d) => {
    const a = new OpenFmbAdapter(`der-${d.id}`, { mRID: d.id, module: d.spec.kind === 'pv' ? 'solar' : 'ess' }, bus, asyncScheduler, { readingPeriodMs: PERIOD, confirmTimeoutMs: 1000, kind: d.spec.kind });
    cleanup.push(() => a.close());
    return a;
  });
  return {
    broker,
    gw,
    bus,
    adapters,
    logs,
    restartBroker: async (): Promise<void> => {
      const p = b.port;
      await b.close();
      b = await EmbeddedBroker.start({ port: p });
    },
  };
}

const online = (a: OpenFmbAdapter): Promise<LinkState> => firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
const offline = (a: OpenFmbAdapter): Promise<LinkState> => firstValueFrom(a.link$.pipe(filter((l) => l === 'offline')));

describe('OpenFMB adapter against simulated devices over the embedded broker', () => {
  it('turns the device profiles into samples that match the device', async () => {
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const bat = warm(new SimInverter(batterySpec('bat-1'), 2));
    const { adapters } = await setup([pv, bat]);
    const [a, b] = adapters as [OpenFmbAdapter, OpenFmbAdapter];
    const [s1] = await firstValueFrom(a.telemetry$.pipe(take(1), toArray()));
    const [s2] = await firstValueFrom(b.telemetry$.pipe(take(1), toArray()));
    expect(await firstValueFrom(a.link$)).toBe('online');
    const m = pv.measurements();
    expect(s1).toMatchObject({ derId: 'der-pv-1', state: 'running', connected: true, v: 240, hz: 60 });
    expect(s1!.w).toBeCloseTo(m.w, 6);
    expect(s1!.availWMax).toBeCloseTo(m.w, 6);
    expect(s2!.soc).toBeCloseTo(bat.measurements().soc!, 6);
    expect(a.capabilities().setpoints.has('voltVar')).toBe(true);
    expect(a.capability).toMatchObject({ maxW: 10_000, serial: 'pv-1' });
  });

  it('applies every kind of setpoint and confirms it from the device status', async () => {
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const bat = warm(new SimInverter(batterySpec('bat-1'), 2));
    const { adapters, gw } = await setup([pv, bat]);
    const [a, b] = adapters as [OpenFmbAdapter, OpenFmbAdapter];
    await Promise.all([online(a), online(b)]);
    await eventually(() => a.status !== null && b.status !== null, 'first status');
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 4000, pct: 40 })).toEqual({ status: 'applied' });
    expect(pv.settings().activePowerLimitPct).toBeCloseTo(40, 9);
    expect(await a.apply({ derId: a.derId, kind: 'powerFactor', pf: 0.95, excitation: 'injecting' })).toEqual({ status: 'applied' });
    expect(await a.apply({ derId: a.derId, kind: 'voltVar', curve: [{ v: 92, var: 30 }, { v: 108, var: -30 }] })).toEqual({ status: 'applied' });
    expect(pv.settings()).toMatchObject({ reactiveMode: 'voltVar' });
    expect(await a.apply({ derId: a.derId, kind: 'release', slot: 'reactive' })).toEqual({ status: 'applied' });
    expect(await b.apply({ derId: b.derId, kind: 'activePower', w: -2500 })).toEqual({ status: 'applied' });
    expect(bat.settings().activePowerSetpointW).toBe(-2500);
    expect(await b.apply({ derId: b.derId, kind: 'rampRates', increasingWPerS: 50, decreasingWPerS: null })).toEqual({ status: 'applied' });
    expect(bat.settings().rampUpPctPerS).toBeCloseTo(1, 6);
    expect(await b.apply({ derId: b.derId, kind: 'connect', connected: false })).toEqual({ status: 'applied' });
    expect(bat.settings().permitService).toBe(false);
    expect(gw.stats.applied).toBe(7);
  });

  it('rejects what it cannot send, and times out what the device does not do', async () => {
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const { adapters } = await setup([pv]);
    const a = adapters[0]!;
    await online(a);
    await eventually(() => a.status !== null, 'first status');
    expect(await a.apply({ derId: a.derId, kind: 'activePower', w: -10 })).toEqual({ status: 'rejected', reason: 'a PV inverter cannot take -10 W' });
    pv.setFault('rejectCommands', true);
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 5000, pct: 50 })).toEqual({ status: 'timedOut' });
    pv.setFault('rejectCommands', false);
    pv.setFault('stuckSetpoint', true);
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 5000, pct: 50 })).toEqual({ status: 'timedOut' });
    expect(pv.settings().activePowerLimitPct).toBeNull();
  });

  it('marks the link offline when the device goes silent, and a control sent meanwhile reaches it when it is back', async () => {
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const { adapters } = await setup([pv]);
    const a = adapters[0]!;
    await online(a);
    pv.setFault('commsLoss', true);
    await offline(a);
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 3000, pct: 30 })).toEqual({ status: 'timedOut' });
    expect(pv.settings().activePowerLimitPct).toBeNull();
    pv.setFault('commsLoss', false);
    await online(a);
    await eventually(() => pv.settings().activePowerLimitPct !== null, 'the held control applied');
    expect(pv.settings().activePowerLimitPct).toBeCloseTo(30, 9);
  });

  it('goes offline with the broker and back online when it returns, on the same port', async () => {
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const { adapters, restartBroker, bus, gw } = await setup([pv]);
    const a = adapters[0]!;
    await online(a);
    const down = offline(a);
    await restartBroker();
    await down;
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 3000, pct: 30 })).toMatchObject({ status: 'rejected' });
    await online(a);
    expect(bus.online && gw.online).toBe(true);
    // The restarted broker lost every session: both sides subscribed again, so controls still flow.
    expect(await a.apply({ derId: a.derId, kind: 'activePowerLimit', w: 3000, pct: 30 })).toEqual({ status: 'applied' });
  });

  it('sends a schedule as one Control profile; the device follows it', async () => {
    const bat = warm(new SimInverter(batterySpec('bat-1'), 2));
    const { adapters } = await setup([bat]);
    const a = adapters[0]!;
    await online(a);
    await eventually(() => a.status !== null, 'first status');
    const t = Date.now();
    const out = await a.applySchedule([
      { startMs: t - 1000, setpoint: { kind: 'activePower', w: 1000 } },
      { startMs: t + 300, setpoint: { kind: 'activePower', w: -1000 } },
    ]);
    expect(out).toEqual({ status: 'applied' });
    expect(bat.settings().activePowerSetpointW).toBe(1000);
    await eventually(() => bat.settings().activePowerSetpointW === -1000, 'the second point');
    expect(await a.applySchedule([])).toEqual({ status: 'rejected', reason: 'an empty schedule' });
  });

  it('hands an adapter attached late the capability and status that came before it', async () => {
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const { bus, broker } = await setup([]);
    const gw = await OpenFmbGateway.start([{ device: pv }], { broker: broker.target(), clientId: 'sim-2', clock: asyncScheduler, readingPeriodMs: PERIOD, statusPeriodMs: 5 * PERIOD });
    cleanup.push(() => gw.close());
    await eventually(() => bus.stats.received >= 3, 'capability, reading and status on the bus');
    const a = new OpenFmbAdapter('late', { mRID: 'pv-1', module: 'solar' }, bus, asyncScheduler, { readingPeriodMs: PERIOD });
    cleanup.push(() => a.close());
    expect(a.capability).toMatchObject({ maxW: 10_000 });
    expect(a.status?.connected).toBe(true);
    expect((await firstValueFrom(a.telemetry$)).derId).toBe('late');
  });

  it('shares one broker connection between many adapters', async () => {
    const devices = Array.from({ length: 40 }, (_, i) => warm(new SimInverter(i % 2 ? batterySpec(`d-${i}`) : pvSpec(`d-${i}`), i)));
    const { adapters, broker } = await setup(devices);
    await Promise.all(adapters.map((a) => firstValueFrom(a.telemetry$)));
    expect(broker.connectedClients).toBe(2); // the simulator's gateway and the DERMS bus
  });

  it('counts garbage, truncated protobuf, unknown mRIDs and mismatches, and keeps going', async () => {
    const pv = warm(new SimInverter(pvSpec('pv-1'), 1));
    const { adapters, bus, broker, logs } = await setup([pv]);
    const a = adapters[0]!;
    await online(a);
    const evil = new MqttConnection({ broker: broker.target(), clientId: 'evil' });
    cleanup.push(() => evil.close());
    await evil.whenOnline(2000);
    const good = encodeProfile('SolarReadingProfile', readingProfile('solar', { mRID: 'pv-1', messageId: 'x', timeMs: Date.now() }, { w: 1, var: 0, va: 1, pf: 1, v: 240, hz: 60, exportedWh: 0, importedWh: 0 }));
    const topic = profileTopic('solar', 'Reading', 'pv-1');
    await evil.publish(topic, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0xff, 0xff]), { qos: 1 });
    await evil.publish(topic, good.subarray(0, good.length - 3), { qos: 1 });
    await evil.publish(profileTopic('solar', 'Reading', 'pv-404'), good, { qos: 1 });
    await evil.publish(profileTopic('ess', 'Reading', 'pv-1'), good, { qos: 1 });
    await evil.publish(profileTopic('solar', 'Reading', 'pv-2'), good, { qos: 1 }); // unknown too
    const mismatched = encodeProfile('SolarReadingProfile', readingProfile('solar', { mRID: 'pv-9', messageId: 'y', timeMs: Date.now() }, { w: 1, var: 0, va: 1, pf: 1, v: 240, hz: 60, exportedWh: 0, importedWh: 0 }));
    await evil.publish(topic, mismatched, { qos: 1 });
    await eventually(() => bus.problems.total >= 5, 'problems counted');
    expect(bus.problems.counts).toMatchObject({ malformed: 2, unknownDevice: 2, mismatch: 1 });
    expect(logs.filter((l) => l.includes('malformed')).length).toBe(2);
    const before = a.stats.readings;
    await eventually(() => a.stats.readings > before + 2, 'readings keep arriving');
    expect(await firstValueFrom(a.link$)).toBe('online');
  });
});
