import { describe, expect, it } from 'vitest';
import { firstValueFrom } from 'rxjs';
import { FunctionCode, IIN1, IIN2, CommandStatus, OpType } from '../../../src/protocols/dnp3/app/codes.js';
import type { Command, CommandMode } from '../../../src/protocols/dnp3/outstation/outstation.js';
import type { Measurement } from '../../../src/protocols/dnp3/points.js';
import { pair } from './harness.js';

const DB = {
  points: {
    binaryInput: 4,
    binaryOutputStatus: 2,
    counter: 2,
    analogInput: [{ deadband: 10 }, { staticVariation: 5, eventVariation: 7 }, { eventClass: 2 as const }, { eventClass: 3 as const }],
    analogOutputStatus: 2,
  },
};

const requests = (p: ReturnType<typeof pair>) => p.sent('toOutstation').filter((l) => l.apdu.function !== FunctionCode.CONFIRM);
const groupsOf = (l: { blocks: readonly { group: number; variation: number }[] }) => l.blocks.map((b) => `g${b.group}v${b.variation}`);

describe('master <-> outstation in virtual time: startup', () => {
  it('disables unsolicited, polls integrity, clears restart, enables unsolicited; confirms the null unsolicited', async () => {
    const p = pair({ outstation: { database: DB } });
    expect(p.outstation.iin().iin1 & IIN1.DEVICE_RESTART).toBeTruthy();
    await p.clock.advanceBy(100);
    const reqs = requests(p);
    expect(reqs.map((r) => r.apdu.function)).toEqual([FunctionCode.DISABLE_UNSOLICITED, FunctionCode.READ, FunctionCode.WRITE, FunctionCode.ENABLE_UNSOLICITED]);
    expect(groupsOf(reqs[1]!)).toEqual(['g60v2', 'g60v3', 'g60v4', 'g60v1']);
    expect(groupsOf(reqs[2]!)).toEqual(['g80v1']);
    const nullUns = p.sent('toMaster', FunctionCode.UNSOLICITED_RESPONSE)[0]!;
    expect(nullUns.apdu.control).toMatchObject({ con: true, uns: true });
    expect(nullUns.blocks).toHaveLength(0);
    const confirms = p.sent('toOutstation', FunctionCode.CONFIRM);
    expect(confirms.some((c) => c.apdu.control.uns && c.apdu.control.seq === nullUns.apdu.control.seq)).toBe(true);
    expect(p.outstation.iin().iin1 & IIN1.DEVICE_RESTART).toBe(0);
    expect(p.master.iin!.iin1 & IIN1.DEVICE_RESTART).toBe(0);
    expect(p.outstation.stats()).toMatchObject({ unexpectedConfirms: 0, malformedApdus: 0, unsupportedFunctions: 0 });
  });

  it('synchronizes the time when the outstation asks for it (non-LAN and LAN)', async () => {
    for (const mode of ['nonLan', 'lan'] as const) {
      const p = pair({ outstation: { database: DB, needTimeAtStartup: true }, master: { timeSync: mode }, latencyMs: 20 });
      expect(p.outstation.iin().iin1 & IIN1.NEED_TIME).toBeTruthy();
      p.outstation.deviceTime(); // before: the scheduler's time
      await p.clock.advanceBy(1000);
      const fns = requests(p).map((r) => r.apdu.function);
      expect(fns).toContain(mode === 'lan' ? FunctionCode.RECORD_CURRENT_TIME : FunctionCode.DELAY_MEASURE);
      const write = requests(p).find((r) => r.blocks.some((b) => b.group === 50));
      expect(groupsOf(write!)).toEqual([mode === 'lan' ? 'g50v3' : 'g50v1']);
      expect(p.outstation.iin().iin1 & IIN1.NEED_TIME).toBe(0);
      // The master's clock is the scheduler. Non-LAN compensates the one-way delay (20 ms here);
      // the LAN procedure assumes it away, so the outstation runs that much behind.
      expect(p.clock.now() - p.outstation.deviceTime()).toBe(mode === 'lan' ? 20 : 0);
      expect(p.outstation.stats().timeSets).toBe(1);
    }
  });
});

describe('master <-> outstation: polls and events', () => {
  it('an integrity poll returns the static values of every kind', async () => {
    const p = pair({ outstation: { database: DB }, master: { unsolicited: false } });
    p.outstation.update('binaryInput', 2, true);
    p.outstation.update('binaryOutputStatus', 1, true);
    p.outstation.update('counter', 1, 123456);
    p.outstation.update('analogInput', 0, -42);
    p.outstation.update('analogInput', 1, 59.95);
    p.outstation.update('analogOutputStatus', 0, 800, { flags: 0x01 });
    await p.clock.advanceBy(100);
    const m = p.master;
    expect(m.point('binaryInput', 2)).toMatchObject({ value: true, flags: 1, isEvent: false });
    expect(m.point('binaryInput', 3)).toMatchObject({ value: false, flags: 0x02 }); // never updated: RESTART quality
    expect(m.point('binaryOutputStatus', 1)).toMatchObject({ value: true });
    expect(m.point('counter', 1)).toMatchObject({ value: 123456 });
    expect(m.point('analogInput', 0)).toMatchObject({ value: -42, isEvent: false });
    expect(m.point('analogInput', 1)!.value).toBeCloseTo(59.95, 4);
    expect(m.point('analogOutputStatus', 0)).toMatchObject({ value: 800, flags: 1 });
    expect(m.snapshot('analogInput').map((x) => x.index)).toEqual([0, 1, 2, 3]);
    const integrity = p.sent('toMaster', FunctionCode.RESPONSE).find((r) => r.blocks.some((b) => b.group === 30))!;
    expect(groupsOf(integrity)).toEqual(['g2v2', 'g22v1', 'g32v3', 'g32v7', 'g1v2', 'g10v2', 'g20v1', 'g30v1', 'g30v5', 'g30v1', 'g40v1']);
  });

  it('event polls report each event once, and only a confirm releases it', async () => {
    const p = pair({ outstation: { database: DB }, master: { unsolicited: false, classPeriodsMs: { 1: 1000, 2: 1000, 3: 1000 } } });
    await p.clock.advanceBy(100);
    const events: Measurement[] = [];
    p.master.measurements$.subscribe((m) => m.isEvent && events.push(m));
    const t = p.clock.now();
    p.outstation.update('binaryInput', 0, true, { time: t - 5 });
    p.outstation.update('analogInput', 2, 77); // class 2
    await p.clock.advanceBy(3000);
    expect(events.map((e) => [e.kind, e.index, e.value])).toEqual([
      ['binaryInput', 0, true],
      ['analogInput', 2, 77],
    ]);
    expect(events[0]!.timestamp).toBe(t - 5);
    expect(p.outstation.bufferedEvents()).toEqual({ 1: 0, 2: 0, 3: 0 });

    // Now lose the master's confirms: the event stays and comes again with each poll.
    p.drop = (a, dir) => dir === 'toOutstation' && a.function === FunctionCode.CONFIRM;
    p.outstation.update('analogInput', 3, 5); // class 3
    await p.clock.advanceBy(2500);
    const again = events.filter((e) => e.index === 3 && e.kind === 'analogInput');
    expect(again.length).toBeGreaterThanOrEqual(2);
    expect(p.outstation.bufferedEvents()[3]).toBe(1);
    p.drop = null;
    await p.clock.advanceBy(7000);
    expect(p.outstation.bufferedEvents()[3]).toBe(0);
  });

  it('relative-time binary events (g51 CTO + g2v3) and counter events keep their timestamps', async () => {
    const p = pair({
      outstation: { database: { points: { binaryInput: [{ eventVariation: 3 }, { eventVariation: 3 }], counter: [{ eventVariation: 5, deadband: 5 }] } } },
      master: { unsolicited: false, classPeriodsMs: { 1: 1000 } },
    });
    p.outstation.update('counter', 0, 0, { event: 'suppress' }); // online, as the reference for the deadband
    await p.clock.advanceBy(100);
    const events: Measurement[] = [];
    p.master.measurements$.subscribe((m) => m.isEvent && events.push(m));
    const t = p.clock.now();
    p.outstation.update('binaryInput', 0, true, { time: t + 10 });
    p.outstation.update('binaryInput', 1, true, { time: t + 70_000 }); // beyond 16 bits of ms: a second CTO
    p.outstation.update('binaryInput', 0, false, { time: t + 70_500 });
    p.outstation.update('counter', 0, 3); // within the deadband
    p.outstation.update('counter', 0, 9, { time: t + 5 });
    await p.clock.advanceBy(1000);
    expect(events.map((e) => [e.kind, e.index, e.value, e.timestamp])).toEqual([
      ['binaryInput', 0, true, t + 10],
      ['binaryInput', 1, true, t + 70_000],
      ['binaryInput', 0, false, t + 70_500],
      ['counter', 0, 9, t + 5],
    ]);
    const rsp = p.sent('toMaster', FunctionCode.RESPONSE).at(-1)!;
    expect(groupsOf(rsp)).toEqual(['g51v1', 'g2v3', 'g51v1', 'g2v3', 'g22v5']);
  });

  it('asks for time again a period after each time set', async () => {
    const p = pair({ outstation: { database: DB, needTimeAtStartup: true, timeSyncPeriodMs: 60_000 }, master: { classPeriodsMs: { 1: 10_000 } } });
    await p.clock.advanceBy(1000);
    expect(p.outstation.stats().timeSets).toBe(1);
    await p.clock.advanceBy(75_000);
    expect(p.outstation.stats().timeSets).toBe(2);
    expect(p.outstation.iin().iin1 & IIN1.NEED_TIME).toBe(0);
  });

  it('analog events need a change beyond the deadband', async () => {
    const p = pair({ outstation: { database: DB }, master: { unsolicited: false, classPeriodsMs: { 1: 500 } } });
    p.outstation.update('analogInput', 0, 0, { event: 'suppress' });
    await p.clock.advanceBy(100);
    const seen: number[] = [];
    p.master.measurements$.subscribe((m) => m.isEvent && m.kind === 'analogInput' && m.index === 0 && seen.push(m.value as number));
    for (const v of [5, 10, 12, 21, 22, 33]) {
      p.outstation.update('analogInput', 0, v);
      await p.clock.advanceBy(600);
    }
    // Deadband 10 from the last reported value: 12 is more than 10 from 0, 21 and 22 are not more than 10 from 12, 33 is.
    expect(seen).toEqual([12, 33]);
    expect(p.master.point('analogInput', 0)!.value).toBe(33);
  });

  it('an event buffer overflow sets IIN2.3 and the master answers with an integrity poll', async () => {
    const p = pair({ outstation: { database: DB, eventBufferSize: 3 }, master: { unsolicited: false, classPeriodsMs: { 1: 10_000 } } });
    await p.clock.advanceBy(100);
    const before = requests(p).length;
    for (let i = 0; i < 6; i++) p.outstation.update('binaryInput', 1, i % 2 === 0);
    expect(p.outstation.iin().iin2 & IIN2.EVENT_BUFFER_OVERFLOW).toBeTruthy();
    expect(p.outstation.stats().events.dropped).toBe(3);
    await p.clock.advanceBy(10_100); // the class 1 poll sees the overflow
    const after = requests(p).slice(before).map(groupsOf);
    expect(after[0]).toEqual(['g60v2']);
    expect(after[1]).toEqual(['g60v2', 'g60v3', 'g60v4', 'g60v1']);
    expect(p.outstation.iin().iin2 & IIN2.EVENT_BUFFER_OVERFLOW).toBe(0);
    expect(p.master.iin!.iin2 & IIN2.EVENT_BUFFER_OVERFLOW).toBe(0);
  });

  it('splits a large integrity response into fragments, each confirmed before the next', async () => {
    const p = pair({ outstation: { database: { points: { analogInput: 300 } }, maxTxFragmentSize: 256 }, master: { unsolicited: false } });
    for (let i = 0; i < 300; i++) p.outstation.update('analogInput', i, i * 10, { event: 'suppress' });
    await p.clock.advanceBy(200);
    const frags = p.sent('toMaster', FunctionCode.RESPONSE).filter((r) => r.blocks.some((b) => b.group === 30));
    expect(frags.length).toBeGreaterThan(5);
    expect(frags[0]!.apdu.control).toMatchObject({ fir: true, fin: false, con: true });
    expect(frags.at(-1)!.apdu.control).toMatchObject({ fir: false, fin: true });
    frags.slice(1, -1).forEach((f) => expect(f.apdu.control).toMatchObject({ fir: false, fin: false, con: true }));
    // Consecutive sequence numbers, each confirmed.
    const seqs = frags.map((f) => f.apdu.control.seq);
    seqs.slice(1).forEach((s, i) => expect(s).toBe((seqs[i]! + 1) & 15));
    const confirmed = p.sent('toOutstation', FunctionCode.CONFIRM).map((c) => c.apdu.control.seq);
    for (const s of seqs.slice(0, -1)) expect(confirmed).toContain(s);
    for (const f of frags) expect(f.apdu.objects.length + 4).toBeLessThanOrEqual(256);
    expect(p.master.snapshot('analogInput').map((m) => m.value)).toEqual(Array.from({ length: 300 }, (_, i) => i * 10));
  });

  it('re-runs integrity and clears restart when the outstation restarts mid-session', async () => {
    const p = pair({ outstation: { database: DB }, master: { classPeriodsMs: { 1: 1000 } } });
    await p.clock.advanceBy(100);
    const before = requests(p).length;
    p.outstation.restart();
    await p.clock.advanceBy(1500);
    const after = requests(p).slice(before);
    const fns = after.map((r) => r.apdu.function);
    expect(fns).toContain(FunctionCode.WRITE);
    expect(after.some((r) => groupsOf(r).includes('g60v1'))).toBe(true);
    expect(fns).toContain(FunctionCode.ENABLE_UNSOLICITED);
    expect(p.outstation.iin().iin1 & IIN1.DEVICE_RESTART).toBe(0);
  });
});

describe('master <-> outstation: unsolicited', () => {
  it('reports events unsolicited once enabled, and the master confirms with UNS and the same SEQ', async () => {
    const p = pair({ outstation: { database: DB }, master: {} });
    await p.clock.advanceBy(100);
    const got = firstValueFrom(p.master.batches$);
    p.outstation.update('analogInput', 0, 500);
    p.outstation.update('binaryInput', 3, true);
    await p.clock.advanceBy(50);
    const batch = await got;
    expect(batch.unsolicited).toBe(true);
    expect(batch.measurements.map((m) => [m.kind, m.index, m.value, m.isEvent])).toEqual([
      ['analogInput', 0, 500, true],
      ['binaryInput', 3, true, true],
    ]);
    const uns = p.sent('toMaster', FunctionCode.UNSOLICITED_RESPONSE).at(-1)!;
    const conf = p.sent('toOutstation', FunctionCode.CONFIRM).at(-1)!;
    expect(conf.apdu.control).toMatchObject({ uns: true, seq: uns.apdu.control.seq });
    expect(p.outstation.bufferedEvents()).toEqual({ 1: 0, 2: 0, 3: 0 });
  });

  it('retries on confirm timeout with the identical response; the master processes it once', async () => {
    const p = pair({ outstation: { database: DB, confirmTimeoutMs: 2000, unsolicited: { maxRetries: 3 } }, master: {} });
    await p.clock.advanceBy(100);
    let lost = 2;
    p.drop = (a, dir) => dir === 'toOutstation' && a.function === FunctionCode.CONFIRM && a.control.uns && lost-- > 0;
    const events: Measurement[] = [];
    p.master.measurements$.subscribe((m) => events.push(m));
    p.outstation.update('binaryInput', 0, true);
    await p.clock.advanceBy(10_000);
    const uns = p.sent('toMaster', FunctionCode.UNSOLICITED_RESPONSE).filter((u) => u.blocks.length > 0);
    expect(uns).toHaveLength(3);
    expect(new Set(uns.map((u) => u.apdu.control.seq)).size).toBe(1);
    expect(p.outstation.stats().unsolicitedRetries).toBe(2);
    expect(p.master.stats().duplicateUnsolicited).toBe(2);
    expect(events).toHaveLength(1);
    expect(p.outstation.bufferedEvents()[1]).toBe(0);
  });

  it('gives up after the retries, keeps the events, and tries again later with a new SEQ', async () => {
    const p = pair({ outstation: { database: DB, confirmTimeoutMs: 1000, unsolicited: { maxRetries: 1, retryDelayMs: 3000 } }, master: {} });
    await p.clock.advanceBy(100);
    p.drop = (a, dir) => dir === 'toOutstation' && a.function === FunctionCode.CONFIRM && a.control.uns;
    p.outstation.update('binaryInput', 0, true);
    await p.clock.advanceBy(2500);
    expect(p.outstation.stats().unsolicitedFailures).toBe(1);
    expect(p.outstation.bufferedEvents()[1]).toBe(1);
    p.drop = null;
    await p.clock.advanceBy(4000);
    const uns = p.sent('toMaster', FunctionCode.UNSOLICITED_RESPONSE).filter((u) => u.blocks.length > 0);
    expect(uns.length).toBe(3);
    expect(uns[2]!.apdu.control.seq).toBe((uns[0]!.apdu.control.seq + 1) & 15);
    expect(p.outstation.bufferedEvents()[1]).toBe(0);
  });

  it('a solicited poll does not repeat events an unsolicited response is carrying', async () => {
    const p = pair({ outstation: { database: DB, confirmTimeoutMs: 5000 }, master: {} });
    await p.clock.advanceBy(100);
    p.drop = (a, dir) => dir === 'toOutstation' && a.function === FunctionCode.CONFIRM && a.control.uns;
    p.outstation.update('binaryInput', 0, true);
    await p.clock.advanceBy(10);
    p.drop = null;
    const poll = p.master.classPoll([1]);
    await p.clock.advanceBy(10);
    expect(await poll).toMatchObject({ ok: true });
    const polled = p.sent('toMaster', FunctionCode.RESPONSE).at(-1)!;
    expect(polled.blocks).toHaveLength(0);
  });
});

describe('master <-> outstation: commands', () => {
  function withHandler(status: (c: Command, m: CommandMode) => number = () => CommandStatus.SUCCESS) {
    const calls: [CommandMode, Command][] = [];
    const onCommand = (c: Command, m: CommandMode): number => {
      calls.push([m, c]);
      return status(c, m);
    };
    return { calls, onCommand };
  }

  it('select-before-operate of a CROB succeeds: select then operate reach the device model', async () => {
    const h = withHandler();
    const p = pair({ outstation: { database: DB, onCommand: h.onCommand }, master: {} });
    await p.clock.advanceBy(100);
    const r = p.master.selectOperate({ type: 'crob', index: 5, opType: OpType.LATCH_ON });
    await p.clock.advanceBy(100);
    expect(await r).toMatchObject({ ok: true, statuses: [CommandStatus.SUCCESS] });
    expect(h.calls.map(([m, c]) => [m, c.type, c.index])).toEqual([
      ['select', 'crob', 5],
      ['operate', 'crob', 5],
    ]);
    const [sel, op] = [p.sent('toOutstation', FunctionCode.SELECT)[0]!, p.sent('toOutstation', FunctionCode.OPERATE)[0]!];
    expect(op.apdu.control.seq).toBe((sel.apdu.control.seq + 1) & 15);
    expect(op.apdu.objects).toEqual(sel.apdu.objects);
  });

  it('an operate after the select timeout gets NO_SELECT and does not reach the device', async () => {
    const h = withHandler();
    // 3 s each way: the operate arrives 6 s after the select, past the 5 s select timeout.
    const p = pair({ outstation: { database: DB, onCommand: h.onCommand, selectTimeoutMs: 5000 }, master: { responseTimeoutMs: 10_000, unsolicited: false }, latencyMs: 3000 });
    await p.clock.advanceBy(30_000);
    const r = p.master.selectOperate({ type: 'analogOutput', index: 88, value: 500 });
    await p.clock.advanceBy(20_000);
    expect(await r).toMatchObject({ ok: false, statuses: [CommandStatus.NO_SELECT] });
    expect(h.calls.map(([m]) => m)).toEqual(['select']);
  });

  it('direct operate of an analog output; the device model status comes back', async () => {
    const h = withHandler((c) => (c.type === 'analogOutput' && c.value > 1000 ? CommandStatus.OUT_OF_RANGE : CommandStatus.SUCCESS));
    const p = pair({ outstation: { database: DB, onCommand: h.onCommand }, master: {} });
    await p.clock.advanceBy(100);
    const ok = p.master.directOperate({ type: 'analogOutput', index: 93, value: -250, variation: 2 });
    const bad = p.master.directOperate([
      { type: 'analogOutput', index: 88, value: 600 },
      { type: 'analogOutput', index: 87, value: 1500.5, variation: 3 },
    ]);
    await p.clock.advanceBy(100);
    expect(await ok).toMatchObject({ ok: true, statuses: [0] });
    expect(await bad).toMatchObject({ ok: false, statuses: [0, CommandStatus.OUT_OF_RANGE] });
    expect(h.calls).toEqual([
      ['direct', { type: 'analogOutput', index: 93, variation: 2, value: -250 }],
      ['direct', { type: 'analogOutput', index: 88, variation: 1, value: 600 }],
      ['direct', { type: 'analogOutput', index: 87, variation: 3, value: 1500.5 }],
    ]);
  });

  it('direct operate without acknowledgement reaches the device and gets no response', async () => {
    const h = withHandler();
    const p = pair({ outstation: { database: DB, onCommand: h.onCommand }, master: {} });
    await p.clock.advanceBy(100);
    const before = p.sent('toMaster', FunctionCode.RESPONSE).length;
    expect(await p.master.directOperateNoAck({ type: 'crob', index: 1, opType: OpType.PULSE_ON, onTimeMs: 100 })).toMatchObject({ ok: true });
    await p.clock.advanceBy(100);
    expect(h.calls.map(([m, c]) => [m, c.index])).toEqual([['direct', 1]]);
    expect(p.sent('toMaster', FunctionCode.RESPONSE).length).toBe(before);
  });

  it('without a command handler every command is NOT_SUPPORTED', async () => {
    const p = pair({ outstation: { database: DB }, master: {} });
    await p.clock.advanceBy(100);
    const r = p.master.directOperate({ type: 'crob', index: 0, opType: OpType.LATCH_ON });
    await p.clock.advanceBy(100);
    expect(await r).toMatchObject({ ok: false, statuses: [CommandStatus.NOT_SUPPORTED] });
  });

  it('a lost response makes the master resend the same request, which the outstation answers without executing twice', async () => {
    const h = withHandler();
    const p = pair({ outstation: { database: DB, onCommand: h.onCommand }, master: { responseTimeoutMs: 1000 } });
    await p.clock.advanceBy(100);
    let lose = 1;
    p.drop = (a, dir) => dir === 'toMaster' && a.kind === 'response' && a.function === FunctionCode.RESPONSE && a.objects[0] === 12 && lose-- > 0;
    const r = p.master.directOperate({ type: 'crob', index: 2, opType: OpType.LATCH_OFF });
    await p.clock.advanceBy(3000);
    expect(await r).toMatchObject({ ok: true, statuses: [0] });
    expect(h.calls).toHaveLength(1);
    expect(p.outstation.stats().duplicateRequests).toBe(1);
    expect(p.master.stats().retries).toBe(1);
  });
});

describe('master: response timeout and retries', () => {
  it('resends a request maxRetries times, then fails with TIMEOUT and goes on with the queue', async () => {
    const p = pair({ outstation: { database: DB }, master: { responseTimeoutMs: 1000, maxRetries: 2, unsolicited: false } });
    await p.clock.advanceBy(100);
    p.drop = (a, dir) => dir === 'toMaster';
    const r = p.master.integrityPoll();
    const queued = p.master.classPoll([1]);
    await p.clock.advanceBy(3100);
    const res = await r;
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.error).toMatchObject({ reason: 'TIMEOUT', code: 'TIMEOUT' });
    const polls = p.sent('toOutstation', FunctionCode.READ).slice(1);
    expect(polls.slice(0, 3).map((x) => x.apdu.control.seq)).toEqual([polls[0]!.apdu.control.seq, polls[0]!.apdu.control.seq, polls[0]!.apdu.control.seq]);
    expect(p.master.stats()).toMatchObject({ retries: 2, timeouts: 3 });
    p.drop = null;
    await p.clock.advanceBy(1500); // the class poll's first response was lost too; its retry gets through
    expect(await queued).toMatchObject({ ok: true });
  });

  it('runs one request at a time', async () => {
    const p = pair({ outstation: { database: DB }, master: { unsolicited: false } });
    await p.clock.advanceBy(100);
    const all = Promise.all([p.master.integrityPoll(), p.master.classPoll([1, 2]), p.master.read([{ group: 30, variation: 0, qualifier: 0x00, range: { kind: 'range', start: 1, stop: 2 } }])]);
    await p.clock.advanceBy(100);
    expect((await all).every((r) => r.ok)).toBe(true);
    // Between two requests there is always the response to the first.
    const seq = p.log.filter((l) => !l.dropped && l.apdu.function !== FunctionCode.CONFIRM).map((l) => l.dir);
    for (let i = 1; i < seq.length; i++) expect(seq[i] === 'toOutstation' && seq[i - 1] === 'toOutstation').toBe(false);
  });
});
