import { afterEach, describe, expect, it } from 'vitest';
import type { VirtualClock } from '../../../src/core/virtual-clock.js';
import { CommandStatus, IIN1, OpType, TripClose, type Measurement } from '../../../src/protocols/dnp3/index.js';
import { defaultDerPointMap, nameplateFromPoints } from '../../../src/protocols/dnp3/der-profile/index.js';
import { pointsFromDevice } from '../../../src/protocols/dnp3/der-profile/device-points.js';
import { snapshotOf } from '../../../src/adapters/dnp3/points.js';
import { derDatabase } from '../../../src/sim/dnp3/database.js';
import { batterySpec, pvSpec } from '../sim-fixtures.js';
import { station, type Station } from './support.js';

let open: Station[] = [];
afterEach(() => {
  for (const s of open) s.close();
  open = [];
});
function make(...args: Parameters<typeof station>): Station {
  const s = station(...args);
  open.push(s);
  return s;
}

/** Let virtual time run until `p` settles (the channel and the outstation's timers run on the clock). */
async function run<T>(clock: VirtualClock, p: Promise<T>, limitMs = 60_000): Promise<T> {
  let done = false;
  void p.finally(() => (done = true));
  for (let t = 0; !done && t < limitMs; t += 5) await clock.advanceBy(5);
  if (!done) throw new Error('never settled');
  return p;
}

describe('simulated DER outstation', () => {
  it('publishes every profile point of its device, in a database sized by the point map', async () => {
    const s = make(batterySpec('bat-1'), { unsolicited: false });
    await s.clock.advanceBy(50);
    const got = snapshotOf(s.master.snapshot());
    const want = pointsFromDevice(defaultDerPointMap, s.device.measurements(), s.device.settings(), s.device.spec.nameplate);
    for (const k of ['ai', 'bi', 'aoStatus', 'boStatus', 'counters'] as const) {
      expect(want[k].size).toBeGreaterThan(0);
      for (const [i, v] of want[k]) expect(got[k].get(i), `${k} ${i}`).toBe(v);
    }
    expect(nameplateFromPoints(defaultDerPointMap, got)).toEqual({ nameplate: s.device.spec.nameplate, storage: true });
    const o = s.station.outstation;
    expect([o.count('analogInput'), o.count('binaryInput'), o.count('analogOutputStatus'), o.count('binaryOutputStatus'), o.count('counter')]).toEqual([554, 82, 269, 30, 2]);
    // Indexes the map does not use are there (indexes run 0..n-1) but were never set.
    expect(s.master.point('analogInput', 0)).toMatchObject({ value: 0, flags: 0x02 });
    expect(s.master.point('analogInput', 537)).toMatchObject({ flags: 0x01 });
  });

  it('assigns classes and deadbands: state changes class 1, measurements class 2 past a rating-scaled deadband, the rest class 3 on any change', () => {
    const n = pvSpec('pv').nameplate;
    const db = derDatabase(defaultDerPointMap, n).points;
    const cfg = (list: unknown, i: number): unknown => (list as unknown[])[i];
    expect(cfg(db.analogInput, 537)).toEqual({ eventClass: 2, deadband: 0.005 * n.maxVA });
    expect(cfg(db.analogInput, 547)).toEqual({ eventClass: 2, deadband: 0.002 * 240 * 10 });
    expect(cfg(db.analogInput, 536)).toEqual({ eventClass: 2, deadband: 1 });
    expect(cfg(db.analogInput, 4)).toEqual({ eventClass: 3, deadband: 0 });
    expect(cfg(db.analogInput, 333)).toEqual({ eventClass: 3, deadband: 0 });
    expect(cfg(db.binaryInput, 19)).toEqual({ eventClass: 1 });
    expect(cfg(db.analogOutputStatus, 88)).toEqual({ eventClass: 3, deadband: 0 });
    expect(cfg(db.counter, 0)).toEqual({ eventClass: 3, deadband: n.maxW / 100 });
    expect(cfg(db.analogInput, 0)).toEqual({ eventClass: 0 });
  });

  it('is quiet while its device is steady; a move past a deadband is an event in its class', async () => {
    const s = make(pvSpec('pv-1'), { unsolicited: false });
    await s.clock.advanceBy(50);
    s.step(20);
    expect(s.station.outstation.bufferedEvents()).toEqual({ 1: 0, 2: 0, 3: 0 });
    s.step(1, 249.6); // +4 % at the terminals
    const events: Measurement[] = [];
    const sub = s.master.measurements$.subscribe((m) => events.push(m));
    expect(await run(s.clock, s.master.classPoll([2]))).toMatchObject({ ok: true });
    sub.unsubscribe();
    expect(events.find((m) => m.index === 547)).toMatchObject({ kind: 'analogInput', value: 2496, isEvent: true });
    expect(events.every((m) => m.isEvent && m.kind === 'analogInput')).toBe(true);
  });

  it('carries commands to its device; output statuses and read-back inputs follow at once', async () => {
    const s = make(pvSpec('pv-1'), { unsolicited: false });
    await s.clock.advanceBy(50);
    const r = await run(s.clock, s.master.directOperate([{ type: 'analogOutput', index: 88, value: 425 }, { type: 'crob', index: 17, opType: OpType.LATCH_ON }]));
    expect(r).toMatchObject({ ok: true, statuses: [0, 0] });
    expect(s.device.settings().activePowerLimitPct).toBe(42.5);
    const o = s.station.outstation;
    expect(o.point('analogOutputStatus', 88)!.value).toBe(425);
    expect(o.point('binaryOutputStatus', 17)!.value).toBe(true);
    expect(o.point('binaryInput', 69)!.value).toBe(true);
    expect(o.bufferedEvents()[1]).toBeGreaterThan(0);
  });

  it('connects and disconnects only by select before operate; other CROB codes are not supported', async () => {
    const s = make(pvSpec('pv-1'), { unsolicited: false });
    await s.clock.advanceBy(50);
    const off = { type: 'crob', index: 5, opType: OpType.LATCH_OFF } as const;
    expect(await run(s.clock, s.master.directOperate(off))).toMatchObject({ ok: false, statuses: [CommandStatus.NO_SELECT] });
    expect(s.device.settings().permitService).toBe(true);
    expect(await run(s.clock, s.master.selectOperate(off))).toMatchObject({ ok: true, statuses: [0] });
    expect(s.device.settings().permitService).toBe(false);
    expect(await run(s.clock, s.master.selectOperate({ type: 'crob', index: 5, opType: OpType.PULSE_ON, tripClose: TripClose.CLOSE }))).toMatchObject({ ok: true });
    expect(s.device.settings().permitService).toBe(true);
    for (const bad of [{ opType: OpType.PULSE_OFF }, { opType: OpType.LATCH_ON, queue: true }, { opType: OpType.LATCH_ON, tripClose: 3 }]) {
      expect(await run(s.clock, s.master.directOperate({ type: 'crob', index: 17, ...bad }))).toMatchObject({ statuses: [CommandStatus.NOT_SUPPORTED] });
    }
    expect(s.station.lastRefusal).toMatch(/direct BO17: NOT_SUPPORTED \(control code 0x/);
  });

  it('refuses every command as LOCAL, with IIN1.5 set, while its device rejects commands', async () => {
    const s = make(pvSpec('pv-1'), { unsolicited: false });
    await s.clock.advanceBy(50);
    s.device.faults.rejectCommands = true;
    s.step(1);
    const r = await run(s.clock, s.master.directOperate({ type: 'analogOutput', index: 88, value: 500 }));
    expect(r).toMatchObject({ ok: false, statuses: [CommandStatus.LOCAL] });
    expect(s.master.iin!.iin1 & IIN1.LOCAL_CONTROL).toBe(IIN1.LOCAL_CONTROL);
    expect(s.station.lastRefusal).toMatch(/AO88: LOCAL .*rejects commands/);
    expect(s.device.settings().activePowerLimitPct).toBeNull();
    s.device.faults.rejectCommands = false;
    s.step(1);
    expect(await run(s.clock, s.master.directOperate({ type: 'analogOutput', index: 88, value: 500 }))).toMatchObject({ ok: true });
    expect(s.master.iin!.iin1 & IIN1.LOCAL_CONTROL).toBe(0);
  });

  it('answers values outside a point or the device OUT_OF_RANGE, and outputs it does not have NOT_SUPPORTED', async () => {
    const s = make(pvSpec('pv-1'), { unsolicited: false });
    await s.clock.advanceBy(50);
    // A charging target on a DER without storage, a limit beyond 100 %, an analog input's index.
    expect(await run(s.clock, s.master.directOperate({ type: 'analogOutput', index: 93, value: -100 }))).toMatchObject({ statuses: [CommandStatus.OUT_OF_RANGE] });
    expect(await run(s.clock, s.master.directOperate({ type: 'analogOutput', index: 88, value: 1200 }))).toMatchObject({ statuses: [CommandStatus.OUT_OF_RANGE] });
    expect(await run(s.clock, s.master.directOperate({ type: 'analogOutput', index: 537, value: 1 }))).toMatchObject({ statuses: [CommandStatus.NOT_SUPPORTED] });
    expect(s.station.lastRefusal).toMatch(/AO537: NOT_SUPPORTED/);
  });

  it('is silent both ways during a communication loss, and answers late with a response delay', async () => {
    const s = make(pvSpec('pv-1'), { unsolicited: true });
    await s.clock.advanceBy(100);
    const unsolicitedBefore = s.master.stats().unsolicited;
    s.device.faults.commsLoss = true;
    const r = await run(s.clock, s.master.classPoll([1, 2, 3]));
    expect(r).toMatchObject({ ok: false, error: { reason: 'TIMEOUT' } });
    s.step(1, 249.6); // events wait in the buffer: no unsolicited report gets out
    await s.clock.advanceBy(3000);
    expect(s.master.stats().unsolicited).toBe(unsolicitedBefore);
    expect(s.station.outstation.bufferedEvents()[2]).toBeGreaterThan(0);

    // Back: the unsolicited report the outstation kept retrying gets through and is confirmed.
    s.device.faults.commsLoss = false;
    await s.clock.advanceBy(20_000);
    expect(s.master.stats().unsolicited).toBeGreaterThan(unsolicitedBefore);
    expect(s.master.point('analogInput', 547)).toMatchObject({ value: 2496, isEvent: true });
    expect(s.station.outstation.bufferedEvents()[2]).toBe(0);

    s.device.faults.responseDelayMs = 300;
    const t0 = s.clock.now();
    let answeredAt = 0;
    const p = s.master.classPoll([1, 2, 3]).then((x) => ((answeredAt = s.clock.now()), x));
    expect(await run(s.clock, p)).toMatchObject({ ok: true });
    expect(answeredAt - t0).toBeGreaterThanOrEqual(300);
  });
});
