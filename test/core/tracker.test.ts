import { describe, expect, it } from 'vitest';
import type { Setpoint } from '../../src/core/model/setpoint.js';
import { battery, codeOf, pv } from '../support/fixtures.js';
import { coreHarness } from '../support/harness.js';

const avail = (w: number) => () => ({ availWMax: w, availWMin: 0, availVarMax: 4000, availVarMin: -4000 });
const wOf = (sp: Setpoint | undefined): number | undefined => (sp?.kind === 'activePower' ? sp.w : undefined);

describe('DispatchTracker', () => {
  it('plans, writes and records an immediate active-power dispatch', async () => {
    const h = coreHarness([pv('a'), pv('b'), pv('c')]);
    h.report(avail(6000));
    const rec = h.tracker.submit({ mRID: 'd1', groupId: 'G1', control: { kind: 'activePower', value: 9000 } });
    expect(rec.state).toBe('active');
    await h.clock.advanceBy(10);
    expect(['a', 'b', 'c'].map((id) => wOf(h.dev(id).last()))).toEqual([3000, 3000, 3000]);
    const r = h.tracker.record('d1')!;
    expect(r.members.every((m) => m.lastOutcome?.status === 'applied' && wOf(m.applied ?? undefined) === 3000)).toBe(true);
    expect(h.events.map((e) => e.type)).toEqual(['accepted', 'planned', 'outcome', 'outcome', 'outcome']);
    // Devices follow; the group status closes the loop into the achieved-vs-target series.
    h.report(avail(6000));
    await h.clock.advanceBy(1000);
    const rec2 = h.tracker.record('d1')!;
    expect(rec2.series.at(-1)).toMatchObject({ target: 9000, achieved: 9000 });
    expect(rec2.members.map((m) => m.achieved)).toEqual([3000, 3000, 3000]);
  });

  it('refuses bad dispatches with typed errors and keeps running ones intact', () => {
    const h = coreHarness([pv('a')]);
    h.tracker.submit({ mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 1 } });
    expect(codeOf(() => h.tracker.submit({ mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 2 } }))).toBe('ALREADY_EXISTS');
    expect(codeOf(() => h.tracker.submit({ mRID: 'd2', groupId: 'nope', control: { kind: 'activePower', value: 2 } }))).toBe('NOT_FOUND');
    expect(codeOf(() => h.tracker.submit({ mRID: 'd3', groupId: 'g', control: { kind: 'activePower', value: 'lots' } }))).toBe('INVALID_INPUT');
    h.registry.createGroup({ mRID: 'plain', members: ['a'] });
    expect(codeOf(() => h.tracker.submit({ mRID: 'd4', groupId: 'plain', control: { kind: 'activePower', value: 2 } }))).toBe('UNSUPPORTED');
    expect(h.tracker.record('d1')!.state).toBe('active');
    expect(codeOf(() => h.tracker.cancel('zzz'))).toBe('NOT_FOUND');
  });

  it('a new request for the same function supersedes the old one; a cancel restores the default', async () => {
    const h = coreHarness([pv('a'), pv('b')]);
    h.report(avail(5000));
    h.tracker.submit({ mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 4000 } });
    h.tracker.submit({ mRID: 'lim', groupId: 'g', control: { kind: 'activePowerLimit', value: 80 } });
    h.tracker.submit({ mRID: 'd2', groupId: 'g', control: { kind: 'activePower', value: 6000 } });
    await h.clock.advanceBy(10);
    expect(h.tracker.record('d1')!.state).toBe('superseded');
    expect(h.tracker.record('lim')!.state).toBe('active'); // another function: untouched
    expect(wOf(h.dev('a').last('activePower'))).toBe(3000);
    h.tracker.cancel('d2');
    await h.clock.advanceBy(10);
    expect(h.dev('a').last()).toMatchObject({ kind: 'release', slot: 'activePower' });
    expect(h.tracker.record('d2')!.state).toBe('cancelled');
    expect(codeOf(() => h.tracker.cancel('d2'))).toBe('CONFLICT');
    expect(h.tracker.live('g').map((r) => r.dispatchId)).toEqual(['lim']);
  });

  it('re-plans the share of a member that rejects over the healthy ones', async () => {
    const h = coreHarness([pv('a'), pv('b'), pv('c')]);
    h.report(avail(6000));
    h.dev('a').mode = 'reject';
    h.tracker.submit({ mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 9000 } });
    await h.clock.advanceBy(10);
    expect(wOf(h.dev('b').last())).toBe(4500);
    expect(wOf(h.dev('c').last())).toBe(4500);
    const r = h.tracker.record('d1')!;
    expect(r.members.find((m) => m.derId === 'a')).toMatchObject({ excluded: 'rejected: device says no', lastOutcome: { status: 'rejected' } });
    const planned = h.events.filter((e) => e.type === 'planned');
    expect(planned.map((e) => e.type === 'planned' && e.reason)).toEqual(['activated', 'member-failed']);
  });

  it('times out a silent device and an adapter that throws, and re-plans', async () => {
    const h = coreHarness([pv('a'), pv('b'), pv('c')], { tracker: { applyTimeoutMs: 2000 } });
    h.report(avail(6000));
    h.dev('a').mode = 'hang';
    h.dev('b').mode = 'throw';
    h.tracker.submit({ mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 9000 } });
    await h.clock.advanceBy(10);
    expect(h.tracker.record('d1')!.members.find((m) => m.derId === 'b')!.lastOutcome).toEqual({ status: 'rejected', reason: 'adapter failed: socket closed' });
    expect(wOf(h.dev('c').last())).toBe(4500);
    await h.clock.advanceBy(2000);
    expect(h.tracker.record('d1')!.members.find((m) => m.derId === 'a')!.lastOutcome).toEqual({ status: 'timedOut' });
    expect(wOf(h.dev('c').last())).toBe(6000); // all that is left; the rest is shortfall
    expect(h.tracker.record('d1')!.shortfall).toBe(3000);
  });

  it('re-plans when a member goes stale and again when it comes back', async () => {
    const h = coreHarness([pv('a'), pv('b')]);
    h.report(avail(6000));
    h.tracker.submit({ mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 6000 } });
    await h.clock.advanceBy(10);
    expect(wOf(h.dev('b').last())).toBe(3000);
    // Only b keeps reporting; a falls silent and goes stale after three poll periods.
    for (let s = 0; s < 5; s++) {
      h.dev('b').telemetry$.next({ ...sampleOf(h, 'b'), timestamp: h.clock.now() });
      await h.clock.advanceBy(1000);
    }
    expect(h.aggregator.view('a')!.freshness).toBe('stale');
    expect(wOf(h.dev('b').last())).toBe(6000);
    h.report(avail(6000));
    await h.clock.advanceBy(10);
    expect(wOf(h.dev('b').last())).toBe(3000);
    const reasons = h.events.flatMap((e) => (e.type === 'planned' ? [e.reason] : []));
    expect(reasons).toEqual(['activated', 'member-stale', 'member-recovered']);
  });

  it('bounds writes in flight per endpoint and sends a slow device only the latest value', async () => {
    const shared = (id: string, unitId: number) => ({ ...pv(id), endpoint: { protocol: 'sunspec-tcp' as const, host: 'gw', port: 502, unitId } });
    const h = coreHarness([shared('a', 1), shared('b', 2), shared('c', 3), pv('solo')], { tracker: { perEndpointConcurrency: 1 } });
    let inFlight = 0;
    let maxShared = 0;
    for (const id of ['a', 'b', 'c']) {
      const d = h.dev(id);
      d.manual = true;
      const orig = d.apply.bind(d);
      d.apply = (sp) => {
        inFlight++;
        maxShared = Math.max(maxShared, inFlight);
        return orig(sp).then((o) => (inFlight--, o));
      };
    }
    h.report(avail(5000));
    h.tracker.submit({ mRID: 'd1', groupId: 'g', control: { kind: 'activePower', value: 4000 } });
    h.tracker.submit({ mRID: 'd2', groupId: 'g', control: { kind: 'activePower', value: 8000 } });
    await h.clock.advanceBy(10);
    expect(h.tracker.backlog).toBeGreaterThan(0);
    for (let k = 0; k < 10; k++) {
      for (const id of ['a', 'b', 'c']) h.dev(id).release();
      await h.clock.advanceBy(10);
    }
    expect(maxShared).toBe(1);
    expect(h.tracker.backlog).toBe(0);
    // a got d1's value before d2 arrived; b and c waited and got only d2's.
    expect(h.dev('a').received.map(wOf)).toEqual([1000, 2000]);
    expect(h.dev('b').received.map(wOf)).toEqual([2000]);
    expect(h.dev('c').received.map(wOf)).toEqual([2000]);
  });

  it('runs a constantYValue schedule at its times and restores the default at the end', async () => {
    const h = coreHarness([pv('a'), pv('b')]);
    const start = h.clock.now() + 60_000;
    const keepReporting = setIntervalOn(h, () => h.report(avail(5000)));
    h.tracker.submit({
      mRID: 'd1',
      groupId: 'g',
      control: { kind: 'activePower' },
      schedule: { start, intervalDuration: 1, intervalUnit: 'm', curveStyle: 'constantYValue', points: [{ interval: 1, value: 6000 }, { interval: 2, value: 2000 }] },
    });
    expect(h.tracker.record('d1')!.state).toBe('scheduled');
    await keepReporting(59_000);
    expect(h.dev('a').received).toHaveLength(0);
    await keepReporting(1_000);
    expect(wOf(h.dev('a').last())).toBe(3000);
    await keepReporting(60_000);
    expect(wOf(h.dev('a').last())).toBe(1000);
    await keepReporting(60_000);
    expect(h.dev('a').last()).toMatchObject({ kind: 'release' });
    expect(h.tracker.record('d1')!.state).toBe('completed');
  });

  it('interpolates a straightLineYValues schedule at its step', async () => {
    const h = coreHarness([pv('a')]);
    const start = h.clock.now();
    const keepReporting = setIntervalOn(h, () => h.report(avail(10_000)));
    h.tracker.submit({
      mRID: 'd1',
      groupId: 'g',
      control: { kind: 'activePower' },
      onEnd: 'hold',
      schedule: { start, intervalDuration: 10, intervalUnit: 's', curveStyle: 'straightLineYValues', stepMs: 2000, points: [{ interval: 1, value: 0 }, { interval: 2, value: 10_000 }] },
    });
    await keepReporting(21_000);
    const ws = h.dev('a').received.map(wOf);
    expect(ws).toEqual([0, 2000, 4000, 6000, 8000, 10_000]);
    expect(h.tracker.record('d1')!.state).toBe('completed');
    expect(h.dev('a').last()!.kind).toBe('activePower'); // held, not released
  });

  it('steps members along the group ramp rate, or hands native-ramp devices a ramp time', async () => {
    const h = coreHarness([pv('slow', 10_000), pv('native', 10_000)], { caps: { native: { nativeRamp: true } } });
    const keepReporting = setIntervalOn(h, () => h.report(avail(10_000)));
    h.tracker.submit({ mRID: 'r', groupId: 'g', control: { kind: 'rampRates', rates: { increasing: 10, unit: '%/s' } } });
    h.tracker.submit({ mRID: 'p', groupId: 'g', control: { kind: 'activePower', value: 10_000 } });
    await keepReporting(10);
    expect(h.dev('native').last('activePower')).toMatchObject({ w: 5000, rampTimeMs: 5000 });
    expect(h.dev('native').last('rampRates')).toMatchObject({ increasingWPerS: 1000 });
    await keepReporting(6000);
    expect(h.dev('slow').received.filter((s) => s.kind === 'activePower').map(wOf)).toEqual([1000, 2000, 3000, 4000, 5000]);
  });

  it('re-plans when the group stays off target because a member cannot deliver', async () => {
    const h = coreHarness([pv('cloudy'), pv('sunny')], { tracker: { replanAfterMs: 5000 } });
    let cloud = false;
    const keepReporting = setIntervalOn(h, () =>
      // Clouds: the device reports less output and availability than it was asked for.
      h.report((id) => (id === 'cloudy' && cloud ? { availWMax: 1000, w: 1000 } : avail(8000)())),
    );
    h.tracker.submit({ mRID: 'p', groupId: 'g', control: { kind: 'activePower', value: 8000 } });
    await keepReporting(2000);
    expect(wOf(h.dev('sunny').last())).toBe(4000);
    cloud = true;
    const realReport = h.report;
    h.report = (fn) => {
      realReport(fn);
      const d = h.dev('cloudy');
      d.telemetry$.next({ ...sampleOf(h, 'cloudy'), w: 1000, availWMax: 1000, timestamp: h.clock.now() });
    };
    await keepReporting(12_000);
    // Re-planned by headroom over what each can give now: 8000 * 8000 / 9000 to the sunny one.
    expect(wOf(h.dev('sunny').last())).toBeCloseTo(7111.11, 1);
    expect(h.events.some((e) => e.type === 'planned' && e.reason === 'tracking')).toBe(true);
  });

  it('cancels live dispatches when their group is deleted and re-plans on membership change', async () => {
    const h = coreHarness([pv('a'), pv('b'), battery('c')]);
    h.report(avail(4000));
    h.tracker.submit({ mRID: 'p', groupId: 'g', control: { kind: 'activePower', value: 4000 } });
    await h.clock.advanceBy(10);
    h.registry.changeGroup('g', { removeMembers: ['c'] });
    await h.clock.advanceBy(10);
    expect(wOf(h.dev('a').last())).toBe(2000);
    h.registry.deleteGroup('g');
    expect(h.tracker.record('p')!.state).toBe('cancelled');
    expect(h.events.at(-1)).toMatchObject({ type: 'ended', reason: 'group deleted' });
  });
});

function sampleOf(h: ReturnType<typeof coreHarness>, id: string) {
  return h.aggregator.view(id)!.sample!;
}

/** Advance virtual time in 1 s steps, calling `tick` at each (devices report once a second). */
function setIntervalOn(h: ReturnType<typeof coreHarness>, tick: () => void) {
  return async (ms: number): Promise<void> => {
    let left = ms;
    while (left > 0) {
      const step = Math.min(1000, left);
      tick();
      await h.clock.advanceBy(step);
      left -= step;
    }
  };
}
