import { afterEach, describe, expect, it } from 'vitest';
import { Dnp3Adapter, type Dnp3AdapterOptions } from '../../../src/adapters/dnp3/adapter.js';
import type { LinkState } from '../../../src/core/ports.js';
import type { TelemetrySample } from '../../../src/core/model/telemetry.js';
import type { Setpoint, SetpointBody } from '../../../src/core/model/setpoint.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { createChannelPair, FunctionCode, parseObjects, tapChannel, type ObjectBlock } from '../../../src/protocols/dnp3/index.js';
import { mergeDerPointMap, defaultDerPointMap, type DerPointMap } from '../../../src/protocols/dnp3/der-profile/index.js';
import type { DeviceSpec } from '../../../src/sim/fleet-spec.js';
import type { SimInverter } from '../../../src/sim/inverter.js';
import { DerOutstation } from '../../../src/sim/dnp3/der-outstation.js';
import { WireDecoder } from '../../protocols/dnp3/harness.js';
import { T0, warmDevice } from '../../sim/dnp3/support.js';
import { batterySpec, noonSky, pvSpec } from '../../sim/sim-fixtures.js';

interface Request {
  readonly at: number;
  readonly fn: number;
  readonly blocks: readonly ObjectBlock[];
}

interface Rig {
  readonly clock: VirtualClock;
  readonly device: SimInverter;
  readonly station: DerOutstation;
  readonly adapter: Dnp3Adapter;
  readonly samples: TelemetrySample[];
  readonly links: LinkState[];
  /** Requests the adapter's master sent. */
  readonly requests: Request[];
  step(seconds: number, v?: number): void;
  apply(sp: SetpointBody & { readonly rampTimeMs?: number }): ReturnType<Dnp3Adapter['apply']>;
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.adapter.close();
    r.station.close();
  }
});

/** A Dnp3Adapter and a simulated DER outstation over an in-memory channel (1 ms each way), in virtual time. */
function rig(spec: DeviceSpec, o: Dnp3AdapterOptions = {}, map?: DerPointMap): Rig {
  const clock = new VirtualClock(T0 + 31_000);
  const device = warmDevice(spec);
  const station = new DerOutstation(device, { address: 10, scheduler: clock });
  const requests: Request[] = [];
  const decoder = new WireDecoder();
  const adapter = new Dnp3Adapter(spec.id, { host: 'sim', port: 20000, outstation: 10, master: 1 }, clock, {
    responseTimeoutMs: 500,
    maxRetries: 0,
    ...o,
    ...(map ? { pointMap: map } : {}),
    channel: () => {
      const [m, s] = createChannelPair({ scheduler: clock, latencyMs: 1 });
      station.outstation.attach(station.decorate(s));
      return tapChannel(m, (dir, bytes) => {
        if (dir !== 'tx') return;
        for (const a of decoder.push(bytes)) {
          if (a.kind !== 'request' || a.function === FunctionCode.CONFIRM) continue;
          const withData = ![FunctionCode.READ, FunctionCode.ENABLE_UNSOLICITED, FunctionCode.DISABLE_UNSOLICITED].includes(a.function as 1);
          requests.push({ at: clock.now(), fn: a.function, blocks: parseObjects(a.objects, withData).blocks });
        }
      });
    },
  });
  const samples: TelemetrySample[] = [];
  const links: LinkState[] = [];
  adapter.telemetry$.subscribe((s) => samples.push(s));
  adapter.link$.subscribe((l) => links.push(l));
  let t = T0 + 30_000;
  const r: Rig = {
    clock,
    device,
    station,
    adapter,
    samples,
    links,
    requests,
    step(seconds, v = spec.nameplate.nominalV) {
      for (let i = 0; i < seconds; i++) {
        device.step((t += 1000), 1, noonSky, v, 60);
        station.refresh();
      }
    },
    apply: (sp) => run(clock, adapter.apply({ ...sp, derId: spec.id } as Setpoint)),
  };
  rigs.push(r);
  return r;
}

async function run<T>(clock: VirtualClock, p: Promise<T>, limitMs = 60_000): Promise<T> {
  let done = false;
  void p.finally(() => (done = true));
  for (let t = 0; !done && t < limitMs; t += 5) await clock.advanceBy(5);
  if (!done) throw new Error('never settled');
  return p;
}

const isIntegrity = (r: Request): boolean => r.fn === FunctionCode.READ && r.blocks.some((b) => b.group === 60 && b.variation === 1);
const isEventPoll = (r: Request): boolean => r.fn === FunctionCode.READ && r.blocks.length === 3 && r.blocks.every((b) => b.group === 60 && b.variation >= 2);

describe('Dnp3Adapter (in virtual time)', () => {
  it('comes online after the startup integrity poll with the nameplate, capabilities and a sample of the device', async () => {
    const r = rig(batterySpec('bat-1'));
    await r.clock.advanceBy(100);
    expect(r.links).toEqual(['offline', 'online']);
    expect(r.adapter.nameplate()).toEqual({ nameplate: r.device.spec.nameplate, storage: true });
    expect(r.adapter.capabilities().setpoints).toEqual(new Set(['activePower', 'activePowerLimit', 'connect', 'powerFactor', 'reactivePower', 'rampRates', 'release', 'voltVar', 'voltWatt']));
    expect(r.adapter.capabilities().nativeRamp).toBe(true);
    const s = r.samples.at(-1)!;
    const m = r.device.measurements();
    expect(s).toMatchObject({ derId: 'bat-1', connected: true, state: 'running', soc: 50, hz: 60, v: 240, availWMax: 5000, availWMin: -5000 });
    expect(Math.abs(s.w - m.w)).toBeLessThanOrEqual(0.5);
    expect(s.timestamp).toBeGreaterThan(T0 + 31_000);
    // Startup: disable unsolicited, integrity poll, clear the restart bit, enable unsolicited, then the first event poll.
    expect(r.requests.map((q) => q.fn).slice(0, 4)).toEqual([FunctionCode.DISABLE_UNSOLICITED, FunctionCode.READ, FunctionCode.WRITE, FunctionCode.ENABLE_UNSOLICITED]);
    expect(isIntegrity(r.requests[1]!)).toBe(true);
    expect(isEventPoll(r.requests[4]!)).toBe(true);
  });

  it('polls events each period and the integrity each integrity period, a sample after every poll', async () => {
    const r = rig(pvSpec('pv-1'), { eventPollMs: 1000, integrityPollMs: 10_000 });
    await r.clock.advanceBy(100);
    const from = r.requests.length;
    const samplesFrom = r.samples.length;
    const polls = r.adapter.stats().polls;
    for (let i = 0; i < 30; i++) {
      r.step(1);
      await r.clock.advanceBy(1000);
    }
    const later = r.requests.slice(from);
    expect(later.filter(isEventPoll).length).toBe(30);
    expect(later.filter(isIntegrity).length).toBe(3);
    expect(r.adapter.stats()).toMatchObject({ polls: polls + 30, skipped: 0, failed: 0 });
    expect(r.samples.length - samplesFrom).toBeGreaterThanOrEqual(30);
    const last = r.samples.at(-1)!;
    expect(last.timestamp).toBeGreaterThan(r.clock.now() - 1000);
    expect(Math.abs(last.w - r.device.measurements().w)).toBeLessThanOrEqual(0.005 * 11_000);
  });

  it('takes unsolicited reports between polls', async () => {
    const r = rig(pvSpec('pv-1'), { eventPollMs: 60_000 });
    await r.clock.advanceBy(100);
    r.step(1, 249.6);
    await r.clock.advanceBy(50);
    expect(r.samples.at(-1)!.v).toBe(249.6);
    expect(r.adapter.master.stats().unsolicited).toBeGreaterThan(1);
  });

  it('writes direct operates step by step, connect by select then operate, and reads the statuses back', async () => {
    const r = rig(pvSpec('pv-1'));
    await r.clock.advanceBy(100);
    let from = r.requests.length;
    expect(await r.apply({ kind: 'activePowerLimit', w: 4250, pct: 42.5, rampTimeMs: 3000 })).toEqual({ status: 'applied' });
    expect(r.device.settings().activePowerLimitPct).toBe(42.5);
    const cmds = r.requests.slice(from).filter((q) => q.fn !== FunctionCode.READ || !isEventPoll(q));
    expect(cmds.map((q) => [q.fn, q.blocks[0]!.group, q.blocks[0]!.items[0]?.index ?? q.blocks[0]!.indices])).toEqual([
      [FunctionCode.DIRECT_OPERATE, 41, 84],
      [FunctionCode.DIRECT_OPERATE, 41, 88],
      [FunctionCode.DIRECT_OPERATE, 12, 17],
      [FunctionCode.READ, 40, [84, 88]],
    ]);
    expect(cmds[3]!.blocks.map((b) => [b.group, b.variation, b.qualifier, b.indices])).toEqual([
      [40, 0, 0x28, [84, 88]],
      [10, 0, 0x28, [17]],
      [1, 0, 0x28, [69]],
    ]);
    from = r.requests.length;
    expect(await r.apply({ kind: 'connect', connected: false })).toEqual({ status: 'applied' });
    expect(r.device.settings().permitService).toBe(false);
    expect(r.requests.slice(from).filter((q) => !isEventPoll(q)).map((q) => q.fn)).toEqual([FunctionCode.SELECT, FunctionCode.OPERATE, FunctionCode.READ]);
  });

  it('stops at the first refusal with its status, rejects what the recipe cannot carry without a write, and catches a stuck device by its read-back', async () => {
    const r = rig(pvSpec('pv-1'));
    await r.clock.advanceBy(100);
    r.device.faults.rejectCommands = true;
    const from = r.requests.length;
    expect(await r.apply({ kind: 'reactivePower', var: 1000 })).toEqual({ status: 'rejected', reason: 'AO203 (ao.constantVarTarget): the outstation answered LOCAL (7)' });
    expect(r.requests.slice(from).filter((q) => q.fn === FunctionCode.DIRECT_OPERATE)).toHaveLength(1);
    r.device.faults.rejectCommands = false;

    const before = r.requests.length;
    expect(await r.apply({ kind: 'activePower', w: -1000 })).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/needs storage/) });
    expect(r.requests.slice(before).filter((q) => !isEventPoll(q))).toHaveLength(0);

    r.device.faults.stuckSetpoint = true;
    expect(await r.apply({ kind: 'powerFactor', pf: 0.9, excitation: 'absorbing' })).toEqual({ status: 'rejected', reason: expect.stringMatching(/^read-back: AO210 \(ao.pfGen\) reads 100, expected 90/) });
  });

  it('goes offline when the device falls silent (a command times out), and back online when it answers', async () => {
    const r = rig(pvSpec('pv-1'), { eventPollMs: 1000 });
    await r.clock.advanceBy(100);
    r.device.faults.commsLoss = true;
    await r.clock.advanceBy(2000);
    expect(r.links.at(-1)).toBe('offline');
    expect(r.adapter.lastError).toMatch(/no response/);
    expect(r.adapter.stats().failed).toBeGreaterThan(0);
    expect(await r.apply({ kind: 'activePowerLimit', w: 5000, pct: 50 })).toEqual({ status: 'timedOut' });
    const n = r.samples.length;
    r.device.faults.commsLoss = false;
    await r.clock.advanceBy(1100);
    expect(r.links.at(-1)).toBe('online');
    expect(r.adapter.lastError).toBeNull();
    expect(r.samples.length).toBeGreaterThan(n);
    expect(await r.apply({ kind: 'activePowerLimit', w: 5000, pct: 50 })).toEqual({ status: 'applied' });
  });

  it('stays offline, saying why, when the outstation lacks the nameplate its point map names', async () => {
    const map = mergeDerPointMap(defaultDerPointMap, { points: { 'ai.nameplateW': { index: 600 } } }, 'test map');
    const r = rig(pvSpec('pv-1'), {}, map);
    await r.clock.advanceBy(3000);
    expect(r.links).toEqual(['offline']);
    expect(r.adapter.lastError).toMatch(/nameplate: missing AI600 \(ai.nameplateW\)/);
    expect(r.requests.filter(isIntegrity)).toHaveLength(2);
    expect(await r.apply({ kind: 'connect', connected: true })).toMatchObject({ status: 'rejected', reason: expect.stringMatching(/^not connected: nameplate/) });
  });

  it('completes its streams on close', async () => {
    const r = rig(pvSpec('pv-1'));
    await r.clock.advanceBy(100);
    let completed = 0;
    r.adapter.telemetry$.subscribe({ complete: () => completed++ });
    r.adapter.link$.subscribe({ complete: () => completed++ });
    await r.adapter.close();
    expect(completed).toBe(2);
    expect(r.links.at(-1)).toBe('offline');
    expect(await r.adapter.apply({ kind: 'connect', connected: true, derId: 'pv-1' })).toMatchObject({ status: 'rejected' });
  });
});
