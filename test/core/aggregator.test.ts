import { describe, expect, it } from 'vitest';
import { Aggregator, type FreshnessChange } from '../../src/core/aggregator.js';
import type { GroupStatus } from '../../src/core/group-status.js';
import { Registry } from '../../src/core/registry.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { battery, pv, sample } from '../support/fixtures.js';

function setup() {
  const clock = new VirtualClock(1_000_000);
  const registry = new Registry();
  registry.addDer(pv('p1', 10_000));
  registry.addDer(pv('p2', 5_000));
  registry.addDer(battery('b1', 5_000, 10_000));
  registry.addDer(battery('b2', 5_000, 30_000));
  registry.createGroup({ mRID: 'all', members: ['p1', 'p2', 'b1', 'b2'] });
  registry.createGroup({ mRID: 'pv', members: ['p1', 'p2'] });
  const agg = new Aggregator(registry, clock, { statusIntervalMs: 1000, pollPeriodMs: 1000, staleAfterPolls: 3 }).start();
  const statuses: GroupStatus[] = [];
  agg.status$.subscribe((s) => statuses.push(s));
  const fresh: FreshnessChange[] = [];
  agg.freshness$.subscribe((f) => fresh.push(f));
  return { clock, registry, agg, statuses, fresh };
}

describe('Aggregator', () => {
  it('sums power, availability, headroom and installed range', () => {
    const { agg, clock } = setup();
    const t = clock.now();
    agg.ingest(sample('p1', t, { w: 6000, var: 100, availWMax: 8000, availWMin: 0, availVarMax: 4400, availVarMin: -4400 }));
    agg.ingest(sample('b1', t, { w: -2000, soc: 50, availWMax: 5000, availWMin: -5000, availVarMax: 2200, availVarMin: -2200 }));
    const s = agg.status('all')!;
    expect(s.activePowerW).toBe(4000);
    expect(s.reactivePowerVar).toBe(100);
    expect(s.availableMaxW).toBe(13_000);
    expect(s.availableMinW).toBe(-5000);
    expect(s.headroomUpW).toBe(9000);
    expect(s.headroomDownW).toBe(9000);
    expect(s.installedMaxW).toBe(25_000);
    expect(s.installedMinW).toBe(-10_000);
    expect(s.members).toEqual({ total: 4, reporting: 2, stale: 0, offline: 2, disconnected: 0 });
    expect(s.newestSampleAt).toBe(t);
    expect(agg.status('pv')!.storage).toBeNull();
  });

  it('replaces a DER contribution on each new sample instead of adding to it', () => {
    const { agg, clock } = setup();
    for (let k = 0; k < 100; k++) agg.ingest(sample('p1', clock.now() + k, { w: 1000 + k, availWMax: 9000 }));
    expect(agg.status('all')!.activePowerW).toBe(1099);
    expect(agg.status('pv')!.activePowerW).toBe(1099);
  });

  it('weights state of charge by energy capacity', () => {
    const { agg, clock } = setup();
    agg.ingest(sample('b1', clock.now(), { soc: 100 })); // 10 kWh full
    agg.ingest(sample('b2', clock.now(), { soc: 0 })); // 30 kWh empty
    const st = agg.status('all')!.storage!;
    expect(st.storedEnergyWh).toBe(10_000);
    expect(st.reportingCapacityWh).toBe(40_000);
    expect(st.installedCapacityWh).toBe(40_000);
    expect(st.socPct).toBe(25);
  });

  it('drops and counts implausible samples without summing them', () => {
    const { agg, clock } = setup();
    const t = clock.now();
    agg.ingest(sample('p1', t, { w: 3000, availWMax: 5000 }));
    const bad = [
      sample('p1', t + 1, { w: Number.NaN }),
      sample('p1', t + 2, { w: 1e9 }),
      sample('p1', t + 3, { v: -5 }),
      sample('p1', t + 4, { availWMin: 100, availWMax: 0 }),
      sample('p1', t + 5, { soc: 50 }), // a PV has no state of charge
      sample('b1', t + 6, { soc: 120 }),
      sample('p1', t + 7, { hz: Infinity }),
      sample('p1', t - 10, { w: 1 }), // older than what we have
      sample('ghost', t, { w: 1 }),
      { ...sample('p1', t + 8), state: 'dancing' } as never,
    ];
    for (const s of bad) agg.ingest(s);
    const s = agg.status('all')!;
    expect(s.activePowerW).toBe(3000);
    expect(agg.droppedSamples).toBe(bad.length);
    expect(s.droppedSamples).toBe(bad.length - 1); // the unknown DER belongs to no group
    expect(agg.recentDroppedSamples().map((d) => d.reason)).toContain('w or var is not finite');
  });

  it('emits at most once per interval per group, and at once on membership change', async () => {
    const { agg, clock, statuses, registry } = setup();
    statuses.length = 0;
    for (let k = 0; k < 50; k++) agg.ingest(sample('p1', clock.now() + k, { w: k }));
    expect(statuses).toHaveLength(0);
    await clock.advanceBy(1000);
    expect(statuses.map((s) => s.groupId).sort()).toEqual(['all', 'pv']);
    await clock.advanceBy(3000); // nothing changed: nothing emitted
    expect(statuses).toHaveLength(2);
    registry.changeGroup('pv', { removeMembers: ['p2'] });
    expect(statuses).toHaveLength(3);
    expect(statuses[2]!.members.total).toBe(1);
    expect(statuses[2]!.version.minor).toBe(1);
  });

  it('marks a silent DER stale after N poll periods and takes it out of the sums', async () => {
    const { agg, clock, fresh } = setup();
    agg.ingest(sample('p1', clock.now(), { w: 4000, availWMax: 5000 }));
    await clock.advanceBy(3000);
    expect(agg.view('p1')!.freshness).toBe('fresh');
    await clock.advanceBy(1000);
    expect(agg.view('p1')!.freshness).toBe('stale');
    const s = agg.status('all')!;
    expect(s.activePowerW).toBe(0);
    expect(s.members.stale).toBe(1);
    expect(s.members.reporting).toBe(0);
    agg.ingest(sample('p1', clock.now(), { w: 1000, availWMax: 5000 }));
    expect(agg.status('all')!.activePowerW).toBe(1000);
    expect(fresh.map((f) => `${f.derId}:${f.to}`)).toEqual(['p1:fresh', 'p1:stale', 'p1:fresh']);
  });

  it('counts an offline link as offline and a disconnected DER as disconnected', () => {
    const { agg, clock } = setup();
    agg.ingest(sample('p1', clock.now(), { w: 4000, availWMax: 5000 }));
    agg.ingest(sample('p2', clock.now(), { connected: false, state: 'off' }));
    agg.setLink('p1', 'offline');
    const s = agg.status('pv')!;
    expect(s.members).toEqual({ total: 2, reporting: 1, stale: 0, offline: 1, disconnected: 1 });
    expect(s.activePowerW).toBe(0);
  });

  it('keeps incremental sums equal to a recomputation through membership and nameplate changes', () => {
    const { agg, clock, registry } = setup();
    let t = clock.now();
    const ids = ['p1', 'p2', 'b1', 'b2'];
    for (let k = 0; k < 400; k++) {
      const id = ids[k % 4]!;
      const isB = id.startsWith('b');
      agg.ingest(sample(id, ++t, { w: ((k * 37) % 5000) - (isB ? 2500 : 0), var: (k % 7) * 10, availWMax: 5000, availWMin: isB ? -5000 : 0, ...(isB ? { soc: k % 100 } : {}) }));
      if (k === 100) registry.changeGroup('pv', { addMembers: ['b1'] });
      if (k === 200) registry.updateDer({ ...pv('p2', 8000) });
      if (k === 300) registry.changeGroup('pv', { removeMembers: ['p1'] });
    }
    const expected = { w: 0, var: 0 };
    for (const id of registry.group('pv')!.members) {
      const v = agg.view(id)!;
      expected.w += v.sample!.w;
      expected.var += v.sample!.var;
    }
    const s = agg.status('pv')!;
    expect(s.activePowerW).toBeCloseTo(expected.w, 6);
    expect(s.reactivePowerVar).toBeCloseTo(expected.var, 6);
    expect(s.installedMaxW).toBe(8000 + 5000);
  });

  it('handles DERs added and removed while running', () => {
    const { agg, clock, registry } = setup();
    registry.addDer(pv('p3', 3000));
    registry.changeGroup('pv', { addMembers: ['p3'] });
    agg.ingest(sample('p3', clock.now(), { w: 2000, availWMax: 3000 }));
    expect(agg.status('pv')!.activePowerW).toBe(2000);
    registry.removeDer('p3');
    expect(agg.status('pv')!.activePowerW).toBe(0);
    expect(agg.view('p3')).toBeUndefined();
    registry.addDer(pv('p4', 3000)); // reuses the freed slot
    registry.changeGroup('pv', { addMembers: ['p4'] });
    expect(agg.status('pv')!.members.offline).toBe(3);
    registry.deleteGroup('pv');
    expect(agg.status('pv')).toBeUndefined();
  });
});

describe('Aggregator group slots', () => {
  it('emits a group reusing a deleted group slot once per interval', async () => {
    const clock = new VirtualClock(1_000_000);
    const registry = new Registry();
    registry.addDer(pv('p1'));
    registry.createGroup({ mRID: 'old', members: ['p1'] });
    const agg = new Aggregator(registry, clock, { statusIntervalMs: 1000 }).start();
    agg.ingest(sample('p1', clock.now(), { w: 1 }));
    registry.deleteGroup('old'); // dies with an emission pending
    registry.createGroup({ mRID: 'new', members: ['p1'] });
    const seen: string[] = [];
    agg.status$.subscribe((s) => seen.push(s.groupId));
    agg.ingest(sample('p1', clock.now() + 1, { w: 2 }));
    await clock.advanceBy(1000);
    expect(seen).toEqual(['new']);
  });
});
