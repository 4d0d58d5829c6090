import { afterEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { EmbeddedBroker } from '../../../src/protocols/mqtt/broker.js';
import { MqttConnection } from '../../../src/protocols/mqtt/connection.js';
import {
  capabilityView,
  discreteControlProfile,
  encodeProfile,
  profileTopic,
  readingView,
  scheduleControlProfile,
  statusView,
  type DerPoint,
} from '../../../src/protocols/openfmb/index.js';
import { OperatingStateKind, ScheduleParameterKind } from '../../../src/protocols/openfmb/messages.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { OpenFmbGateway } from '../../../src/sim/openfmb/gateway.js';
import { eventually, Observer } from '../../protocols/openfmb/observer.js';
import { batterySpec, noonSky, pvSpec } from '../sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function warm(d: SimInverter, clock: VirtualClock): SimInverter {
  for (let i = 1; i <= 30; i++) d.step(clock.now() + i * 1000, 1, noonSky, 240, 60);
  return d;
}

async function setup(opts: { statusPeriodMs?: number } = {}) {
  const broker = await EmbeddedBroker.start();
  cleanup.push(() => broker.close());
  const clock = new VirtualClock(T0);
  const pv = warm(new SimInverter(pvSpec('pv-1'), 1), clock);
  const bat = warm(new SimInverter(batterySpec('bat-1'), 2), clock);
  const logs: string[] = [];
  const observer = await Observer.start(broker.target());
  cleanup.push(() => observer.close());
  const gw = await OpenFmbGateway.start([{ device: pv }, { device: bat }], {
    broker: broker.target(),
    clientId: 'sim-gw',
    clock,
    readingPeriodMs: 1000,
    statusPeriodMs: opts.statusPeriodMs ?? 5000,
    log: (l) => logs.push(l),
  });
  cleanup.push(() => gw.close());
  const derms = new MqttConnection({ broker: broker.target(), clientId: 'derms' });
  cleanup.push(() => derms.close());
  await derms.whenOnline(2000);
  const send = (name: 'SolarDiscreteControlProfile' | 'ESSDiscreteControlProfile' | 'SolarControlProfile' | 'ESSControlProfile', mRID: string, msg: object, topic?: string): Promise<void> => {
    const module = name.startsWith('Solar') ? 'solar' : 'ess';
    const kind = name.includes('Discrete') ? 'DiscreteControl' : 'Control';
    return derms.publish(topic ?? profileTopic(module, kind, mRID), encodeProfile(name, msg as never), { qos: 1 });
  };
  return { broker, clock, pv, bat, gw, observer, derms, send, logs };
}

describe('OpenFMB gateway (simulated devices on an MQTT broker)', () => {
  it('announces each device (capability, status) in its first slot, then publishes readings every period and status every fifth', async () => {
    const { clock, pv, bat, gw, observer } = await setup();
    await clock.advanceBy(1000);
    await observer.until((s) => s.filter((x) => x.profile.kind === 'Capability').length === 2 && s.filter((x) => x.profile.kind === 'Status').length === 2, 'announcements');
    const cap = capabilityView(observer.of('SolarCapabilityProfile', 'pv-1')[0]!);
    expect(cap).toMatchObject({ maxW: 10_000, maxVA: 11_000, maxVarInject: 4400, nominalV: 240, normalCategory: 'B', abnormalCategory: 'II', serial: 'pv-1' });
    expect(capabilityView(observer.of('ESSCapabilityProfile', 'bat-1')[0]!)).toMatchObject({ maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 13_500 });

    await clock.advanceBy(4000);
    await observer.until((s) => s.filter((x) => x.profile.kind === 'Reading').length === 10, '10 readings');
    const reading = readingView(observer.of('SolarReadingProfile', 'pv-1').at(-1)!);
    const m = pv.measurements();
    expect(reading.w).toBeCloseTo(m.w, 6);
    expect(reading.v).toBeCloseTo(240, 6);
    expect(reading.hz).toBe(60);
    expect(reading.timeMs).toBeGreaterThan(T0);
    const st = statusView(observer.of('ESSStatusProfile', 'bat-1').at(-1)!);
    expect(st).toMatchObject({ connected: true, standby: false });
    expect(st.soc).toBeCloseTo(bat.measurements().soc!, 6);
    expect(statusView(observer.of('SolarStatusProfile', 'pv-1').at(-1)!).operatingState).toBe(OperatingStateKind.OperatingStateKind_connected_and_generating);
    expect(observer.of('SolarStatusProfile', 'pv-1').length).toBe(1);
    // Five periods after the first: the periodic status.
    await clock.advanceBy(100);
    await observer.until((s) => s.filter((x) => x.profile.name === 'SolarStatusProfile').length === 2, 'periodic status');
    expect(gw.stats).toMatchObject({ readings: 11, capabilities: 2 });
  });

  it('applies a discrete control at once and reports it in the next status', async () => {
    const { clock, pv, bat, observer, send, gw } = await setup();
    await clock.advanceBy(1000);
    await observer.until((s) => s.length >= 4, 'announcements');
    const statuses = observer.of('SolarStatusProfile').length;
    const point: DerPoint = { limitWOperation: { maxLimParameter: { modEna: true }, wMaxSptVal: 2500 } };
    await send('SolarDiscreteControlProfile', 'pv-1', discreteControlProfile('solar', { mRID: 'pv-1', messageId: 'c1', timeMs: T0 }, point));
    // The virtual clock stands still: the status comes from the control, not from the period.
    await observer.until((s) => s.filter((x) => x.profile.name === 'SolarStatusProfile').length === statuses + 1, 'status after the control');
    expect(pv.settings().activePowerLimitPct).toBe(25);
    expect(statusView(observer.of('SolarStatusProfile').at(-1)!).point?.limitWOperation).toEqual({ maxLimParameter: { modEna: true }, wMaxSptVal: 2500 });
    await send('ESSDiscreteControlProfile', 'bat-1', discreteControlProfile('ess', { mRID: 'bat-1', messageId: 'c2', timeMs: T0 }, { wOperation: { modEna: true, wParameter: { wSpt: -3000 } } }));
    await eventually(() => bat.settings().activePowerSetpointW === -3000, 'battery setpoint');
    expect(gw.stats.applied).toBe(2);
  });

  it('runs a scheduled control on the simulation clock, ValDCSG points and ValACSG quantities alike', async () => {
    const { clock, bat, observer, send } = await setup();
    await clock.advanceBy(1000);
    await observer.until((s) => s.length >= 4, 'announcements');
    const at = (s: number): number => clock.now() + s * 1000;
    const msg = scheduleControlProfile('ess', { mRID: 'bat-1', messageId: 'sch', timeMs: clock.now() }, [
      { startMs: at(-5), point: { wOperation: { modEna: true, wParameter: { wSpt: 1000 } } } },
      { startMs: at(10), point: { wOperation: { modEna: true, wParameter: { wSpt: 2000 } } } },
    ]);
    // An analogue schedule point too: W_net_mag 3000 W at +20 s.
    msg.essControl!.essControlFSCC!.controlFSCC = {
      controlScheduleFSCH: {
        ValACSG: { schPts: [{ scheduleParameter: [{ scheduleParameterType: ScheduleParameterKind.ScheduleParameterKind_W_net_mag, value: 3000 }], startTime: { seconds: at(20) / 1000 } }] },
      },
    };
    await send('ESSControlProfile', 'bat-1', msg);
    await eventually(() => bat.settings().activePowerSetpointW === 1000, 'the point already due');
    await clock.advanceBy(9000);
    expect(bat.settings().activePowerSetpointW).toBe(1000);
    await clock.advanceBy(1000);
    expect(bat.settings().activePowerSetpointW).toBe(2000);
    await clock.advanceBy(10_000);
    expect(bat.settings().activePowerSetpointW).toBe(3000);
    // A new schedule replaces the pending one.
    await send('ESSControlProfile', 'bat-1', scheduleControlProfile('ess', { mRID: 'bat-1', messageId: 's2', timeMs: clock.now() }, [{ startMs: at(5), point: { wOperation: {} } }]));
    await new Promise((r) => setTimeout(r, 50));
    await clock.advanceBy(5000);
    expect(bat.settings().activePowerSetpointW).toBeNull();
  });

  it('goes silent in a communication loss, keeps the controls sent meanwhile, and acts on them when back', async () => {
    const { clock, pv, observer, send, gw } = await setup();
    await clock.advanceBy(1000);
    await observer.until((s) => s.length >= 4, 'announcements');
    pv.setFault('commsLoss', true);
    const before = observer.of('SolarReadingProfile', 'pv-1').length;
    await clock.advanceBy(3000);
    await send('SolarDiscreteControlProfile', 'pv-1', discreteControlProfile('solar', { mRID: 'pv-1', messageId: 'c', timeMs: clock.now() }, { wOperation: { modEna: true, wParameter: { wSpt: 1234 } } }));
    await eventually(() => gw.stats.held === 1, 'held control');
    await clock.advanceBy(2000);
    expect(observer.of('SolarReadingProfile', 'pv-1').length).toBe(before);
    expect(pv.settings().activePowerSetpointW).toBeNull();
    pv.setFault('commsLoss', false);
    await clock.advanceBy(1000);
    expect(pv.settings().activePowerSetpointW).toBe(1234);
    await observer.until((s) => s.filter((x) => x.profile.name === 'SolarReadingProfile' && x.mRID === 'pv-1').length > before, 'readings again');
  });

  it('counts garbage, truncated protobuf, wrong topics, unknown mRIDs, mismatches, rejections and tag-outs, and keeps serving', async () => {
    const { clock, pv, observer, send, derms, gw, logs } = await setup();
    await clock.advanceBy(1000);
    await observer.until((s) => s.length >= 4, 'announcements');
    const good = encodeProfile('SolarDiscreteControlProfile', discreteControlProfile('solar', { mRID: 'pv-1', messageId: 'g', timeMs: T0 }, { wOperation: { modEna: true, wParameter: { wSpt: 500 } } }));
    const pub = (topic: string, bytes: Uint8Array): Promise<void> => derms.publish(topic, bytes, { qos: 1 });
    await pub(profileTopic('solar', 'DiscreteControl', 'pv-1'), Buffer.from('this is not protobuf at all'));
    await pub(profileTopic('solar', 'DiscreteControl', 'pv-1'), good.subarray(0, good.length - 5));
    // For another device on the same topic: the payload names pv-2.
    await send('SolarDiscreteControlProfile', 'pv-1', discreteControlProfile('solar', { mRID: 'pv-2', messageId: 'x', timeMs: T0 }, {}));
    // Out of range, and tagged out.
    await send('SolarDiscreteControlProfile', 'pv-1', discreteControlProfile('solar', { mRID: 'pv-1', messageId: 'z', timeMs: T0 }, { limitWOperation: { maxLimParameter: { modEna: true }, wMaxSptVal: 50_000 } }));
    const blocked = discreteControlProfile('solar', { mRID: 'pv-1', messageId: 'b', timeMs: T0 }, { wOperation: { modEna: true, wParameter: { wSpt: 1 } } });
    blocked.solarDiscreteControl!.controlValue!.modBlk = { value: true };
    await send('SolarDiscreteControlProfile', 'pv-1', blocked);
    await pub(profileTopic('solar', 'DiscreteControl', 'pv-1'), good);
    await eventually(() => pv.settings().activePowerSetpointW === 500, 'the good control after the bad ones');
    expect(gw.problems.counts).toEqual({ wrongTopic: 0, malformed: 2, unknownDevice: 0, mismatch: 1, rejected: 1, blocked: 1 });
    expect(logs.some((l) => /malformed: openfmb\/solarmodule\/SolarDiscreteControlProfile\/pv-1: SolarDiscreteControlProfile: not a valid protobuf message/.test(l))).toBe(true);
    // Readings keep flowing.
    const n = observer.of('SolarReadingProfile').length;
    await clock.advanceBy(1000);
    await observer.until((s) => s.filter((x) => x.profile.name === 'SolarReadingProfile').length > n, 'readings after the garbage');
  });

  it('notes controls for devices it does not serve when its subscriptions match them', async () => {
    const broker = await EmbeddedBroker.start();
    cleanup.push(() => broker.close());
    const clock = new VirtualClock(T0);
    const gw = await OpenFmbGateway.start([{ device: warm(new SimInverter(pvSpec('pv-1'), 1), clock) }], { broker: broker.target(), clientId: 'gw', clock });
    cleanup.push(() => gw.close());
    // A raw subscription a third party set up on the gateway's session: a wildcard that also matches other devices.
    const conn = (gw as unknown as { conn: MqttConnection }).conn;
    await conn.subscribe(['openfmb/solarmodule/SolarDiscreteControlProfile/+', 'openfmb/essmodule/ESSDiscreteControlProfile/+', 'other/#'], 1);
    const derms = new MqttConnection({ broker: broker.target(), clientId: 'derms' });
    cleanup.push(() => derms.close());
    await derms.whenOnline(2000);
    await derms.publish(profileTopic('solar', 'DiscreteControl', 'pv-9'), encodeProfile('SolarDiscreteControlProfile', discreteControlProfile('solar', { mRID: 'pv-9', messageId: 'u', timeMs: T0 }, {})), { qos: 1 });
    // A battery control for the PV inverter.
    await derms.publish(profileTopic('ess', 'DiscreteControl', 'pv-1'), encodeProfile('ESSDiscreteControlProfile', discreteControlProfile('ess', { mRID: 'pv-1', messageId: 'm', timeMs: T0 }, {})), { qos: 1 });
    await derms.publish('other/thing', Buffer.from('x'), { qos: 1 });
    await eventually(() => gw.problems.total === 3, 'three problems');
    expect(gw.problems.counts).toMatchObject({ unknownDevice: 1, mismatch: 1, wrongTopic: 1 });
    expect(gw.stats.controls).toBe(0);
  });
});
