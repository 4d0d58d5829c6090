import type { Subject } from 'rxjs';
import { Aggregator, type DerView } from '../../src/core/aggregator.js';
import { TelemetryHub } from '../../src/core/hub.js';
import { controlSchema, type AllocationPolicy, type Control } from '../../src/core/model/control.js';
import type { TelemetrySample } from '../../src/core/model/telemetry.js';
import { planControl, type Plan, type PlanInput } from '../../src/core/planner/plan.js';
import { Registry } from '../../src/core/registry.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { BenchAdapter, derId, derInput, kindOf, sampleFor, type MutableSample } from '../lib/fleet.js';
import { collectGarbage, fmt, heapUsedMB, machine, median, nowMs, percentile, Rng, round } from '../lib/measure.js';
import { BenchFailure, type Figure, type Suite, type SuiteOptions, type SuiteResult } from '../lib/types.js';

const ISSUE = 'issue target';

interface IngestParams {
  readonly ders: number;
  readonly groups: number;
  /** Pre-generated samples per DER; the pool is replayed with fresh timestamps. */
  readonly poolPerDer: number;
  readonly warmupSamples: number;
  readonly samplesPerRun: number;
  readonly runs: number;
  /** Virtual time between two passes over the fleet (one sample per DER per pass). */
  readonly passMs: number;
}

interface PlanParams {
  readonly members: number;
  readonly warmupIterations: number;
  readonly iterations: number;
}

export const coreSuite: Suite = {
  name: 'core',
  title: 'Core: telemetry aggregation and dispatch planning',
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const ingest: IngestParams = {
      ders: opts.quick ? 20_000 : 100_000,
      groups: opts.quick ? 200 : 1_000,
      poolPerDer: 4,
      warmupSamples: opts.quick ? 200_000 : 1_000_000,
      samplesPerRun: opts.samples ?? (opts.quick ? 1_000_000 : 5_000_000),
      runs: opts.runs ?? (opts.quick ? 2 : 5),
      passMs: 1000,
    };
    const plan: PlanParams = { members: 10_000, warmupIterations: opts.quick ? 5 : 20, iterations: opts.quick ? 10 : 50 };

    const ingestMetrics = await benchIngest(ingest, opts.log);
    const planMetrics = benchPlan(plan, opts.log);
    const metrics = { ...ingestMetrics, ...planMetrics };

    return {
      schema: 1,
      suite: 'core',
      title: coreSuite.title,
      date: new Date().toISOString(),
      machine: machine(),
      params: {
        ders: ingest.ders,
        groups: ingest.groups,
        groupsPerDer: 2,
        poolPerDer: ingest.poolPerDer,
        warmupSamples: ingest.warmupSamples,
        samplesPerRun: ingest.samplesPerRun,
        runs: ingest.runs,
        passMs: ingest.passMs,
        planMembers: plan.members,
        planWarmupIterations: plan.warmupIterations,
        planIterations: plan.iterations,
        quick: opts.quick,
      },
      workloads: [
        {
          name: 'Telemetry ingest (samplesPerSecond)',
          description:
            `${fmt(ingest.ders)} DERs (60 % PV, 25 % battery, 15 % hybrid) added through \`Registry.addDer\`, in ${fmt(ingest.groups)} groups ` +
            `created through \`Registry.createGroup\`; every DER is in exactly two groups (i mod ${ingest.groups} and (7i + 13) mod ${ingest.groups}), ` +
            `so every group has ${fmt((ingest.ders * 2) / ingest.groups)} members. One minimal \`DeviceAdapter\` per DER (telemetry$ an RxJS Subject, ` +
            `link$ NEVER) is attached to a \`TelemetryHub\` feeding an \`Aggregator\` started on a \`VirtualClock\`. A pool of ` +
            `${ingest.poolPerDer} valid samples per DER is generated before timing; the timed loop pushes samples round-robin over the DERs ` +
            `through the subjects (hub -> \`Aggregator.ingest\` -> incremental group sums), restamping each with the current virtual time, ` +
            `and advances the clock by ${ingest.passMs} ms after every pass over the fleet, so every group status is built and emitted on ` +
            `\`status$\` once per pass (the clock advance and status building are inside the timed section). ` +
            `${fmt(ingest.warmupSamples)} samples of warm-up, then ${ingest.runs} runs of ${fmt(ingest.samplesPerRun)} samples; the figure is ` +
            `the median run (a full GC is forced before each run, not inside it). Fails if any sample is dropped or any member goes stale or offline.`,
        },
        {
          name: 'Direct ingest (directIngestSamplesPerSecond)',
          description:
            'The same fleet and loop calling `Aggregator.ingest` directly, bypassing the adapters\' subjects and the hub: ' +
            'the difference to samplesPerSecond is the cost of the RxJS delivery path. One run, for diagnosis only.',
        },
        {
          name: 'Dispatch planning (planMsFor10kMembers)',
          description:
            `One group of ${fmt(plan.members)} members (same mix), each with one fresh sample in the aggregator. Times \`planControl\` alone ` +
            `(member views taken beforehand) for an activePower dispatch of 60 % of the group's available maximum with policy 'headroom'; ` +
            `${plan.warmupIterations} warm-up calls, then ${plan.iterations} timed calls (GC forced before each case, not between calls); ` +
            `the figure is the median, p95 alongside. ` +
            `Extra figures: the same target under policies 'rating', 'soc-balance' and 'priority' (10 tiers); an infeasible target ` +
            `(150 % of available, clamped, shortfall reported); a charging target (60 % of the available minimum); a reactivePower ` +
            `dispatch of 50 % of the available var; and views + plan (\`Aggregator.view\` for every member, then plan).`,
        },
      ],
      figures,
      metrics,
    };
  },
};

const figures: Figure[] = [
  { key: 'samplesPerSecond', label: 'Telemetry ingest via hub, 100k DERs x 2 groups (median run)', unit: 'samples/s', digits: 0, target: { op: '>=', value: 1_000_000, source: `${ISSUE}, one core` } },
  { key: 'planMsFor10kMembers', label: 'planControl, activePower, headroom, 10k members (median)', unit: 'ms', digits: 2, target: { op: '<', value: 5, source: ISSUE } },
  { key: 'planMsFor10kMembersP95', label: 'planControl, activePower, headroom, 10k (p95)', unit: 'ms', digits: 2 },
  { key: 'samplesPerSecondMin', label: 'Telemetry ingest, slowest run', unit: 'samples/s', digits: 0 },
  { key: 'samplesPerSecondMax', label: 'Telemetry ingest, fastest run', unit: 'samples/s', digits: 0 },
  { key: 'nsPerSample', label: 'Time per sample (median run)', unit: 'ns', digits: 0 },
  { key: 'directIngestSamplesPerSecond', label: 'Aggregator.ingest called directly (no RxJS)', unit: 'samples/s', digits: 0 },
  { key: 'statusFlushMsPerPass', label: 'Clock advance + 1,000 status emissions, per pass (median)', unit: 'ms', digits: 2 },
  { key: 'statusesEmitted', label: 'Group statuses emitted during measured runs', unit: '', digits: 0 },
  { key: 'heapUsedMB', label: 'Heap after setup (registry, aggregator, hub, 100k adapters, sample pool)', unit: 'MB', digits: 1 },
  { key: 'samplePoolMB', label: 'of which the sample pool', unit: 'MB', digits: 1 },
  { key: 'setupMs', label: 'Setup: registry, groups, aggregator, hub, adapters', unit: 'ms', digits: 0 },
  { key: 'planRatingMs', label: 'planControl, activePower, rating (median)', unit: 'ms', digits: 2 },
  { key: 'planSocBalanceMs', label: 'planControl, activePower, soc-balance (median)', unit: 'ms', digits: 2 },
  { key: 'planPriorityMs', label: 'planControl, activePower, priority, 10 tiers (median)', unit: 'ms', digits: 2 },
  { key: 'planInfeasibleMs', label: 'planControl, activePower, infeasible target (median)', unit: 'ms', digits: 2 },
  { key: 'planChargeMs', label: 'planControl, activePower, charging target (median)', unit: 'ms', digits: 2 },
  { key: 'planReactiveMs', label: 'planControl, reactivePower, headroom (median)', unit: 'ms', digits: 2 },
  { key: 'planWithViewsMs', label: 'Aggregator.view x 10k + planControl (median)', unit: 'ms', digits: 2 },
];

// ---------------------------------------------------------------------------------------------
// Telemetry ingest

export async function benchIngest(p: IngestParams, log: (m: string) => void): Promise<Record<string, number | number[]>> {
  log(`core: building ${fmt(p.ders)} DERs in ${fmt(p.groups)} groups`);
  const t0 = nowMs();
  const registry = new Registry();
  const rng = new Rng(1);
  const ids: string[] = [];
  for (let i = 0; i < p.ders; i++) {
    const id = derId('der-', i);
    registry.addDer(derInput(id, kindOf(i), rng));
    ids.push(id);
  }
  const members: string[][] = Array.from({ length: p.groups }, () => []);
  for (let i = 0; i < p.ders; i++) {
    const a = i % p.groups;
    const b = (i * 7 + 13) % p.groups;
    if (a === b) throw new BenchFailure(`group assignment: DER ${i} would be in group ${a} twice`);
    members[a]!.push(ids[i]!);
    members[b]!.push(ids[i]!);
  }
  const groupIds = members.map((_, g) => derId('group-', g, 4));
  members.forEach((m, g) => registry.createGroup({ mRID: groupIds[g]!, names: [`Feeder ${g}`], members: m }));

  const clock = new VirtualClock();
  const aggregator = new Aggregator(registry, clock).start();
  const hub = new TelemetryHub(aggregator);
  const subjects: Subject<TelemetrySample>[] = [];
  for (const id of ids) {
    const adapter = new BenchAdapter(id);
    hub.attach(adapter);
    subjects.push(adapter.telemetry$);
  }
  let statuses = 0;
  const statusSub = aggregator.status$.subscribe(() => statuses++);
  const setupMs = nowMs() - t0;
  const heapBeforePool = heapUsedMB();

  log(`core: generating ${fmt(p.ders * p.poolPerDer)} samples`);
  const pool: MutableSample[] = new Array<MutableSample>(p.ders * p.poolPerDer);
  const start = clock.now();
  for (let r = 0; r < p.poolPerDer; r++) {
    for (let i = 0; i < p.ders; i++) pool[r * p.ders + i] = sampleFor(registry.requireDer(ids[i]!), start + r * p.passMs, rng);
  }
  const heapAfterSetup = heapUsedMB();

  // The replay loop: one pass = one sample per DER, then the clock moves on by one pass.
  let cursor = 0;
  let pass = 0;
  let flushMs: number[] = [];
  const push = async (n: number, sink: (i: number, s: MutableSample) => void): Promise<void> => {
    let left = n;
    while (left > 0) {
      const chunk = Math.min(left, p.ders - cursor);
      const t = clock.now();
      const base = (pass % p.poolPerDer) * p.ders;
      for (let i = cursor, end = cursor + chunk; i < end; i++) {
        const s = pool[base + i]!;
        s.timestamp = t;
        sink(i, s);
      }
      cursor += chunk;
      left -= chunk;
      if (cursor === p.ders) {
        cursor = 0;
        pass++;
        const f0 = nowMs();
        await clock.advanceBy(p.passMs);
        flushMs.push(nowMs() - f0);
      }
    }
  };
  const viaHub = (i: number, s: MutableSample): void => subjects[i]!.next(s);
  const direct = (_i: number, s: MutableSample): void => aggregator.ingest(s);

  log(`core: warm-up, ${fmt(p.warmupSamples)} samples`);
  await push(p.warmupSamples, viaHub);
  check(aggregator, groupIds);

  const rates: number[] = [];
  flushMs = [];
  statuses = 0;
  for (let r = 0; r < p.runs; r++) {
    collectGarbage(); // every run starts from the same heap; its own garbage is collected inside it
    const t1 = nowMs();
    await push(p.samplesPerRun, viaHub);
    const ms = nowMs() - t1;
    rates.push((p.samplesPerRun / ms) * 1000);
    log(`core: run ${r + 1}/${p.runs}: ${fmt(Math.round(rates[r]!))} samples/s`);
  }
  const statusesEmitted = statuses;
  const statusFlushMsPerPass = median(flushMs);
  check(aggregator, groupIds);
  if (statusesEmitted === 0) throw new BenchFailure('no group status was emitted during the measured runs');

  collectGarbage();
  const d1 = nowMs();
  await push(p.samplesPerRun, direct);
  const directRate = (p.samplesPerRun / (nowMs() - d1)) * 1000;
  log(`core: direct ingest: ${fmt(Math.round(directRate))} samples/s`);
  check(aggregator, groupIds);

  statusSub.unsubscribe();
  hub.stop();
  aggregator.stop();

  const rate = median(rates);
  return {
    ders: p.ders,
    groups: p.groups,
    samples: p.samplesPerRun,
    runs: p.runs,
    samplesPerSecond: Math.round(rate),
    samplesPerSecondRuns: rates.map((r) => Math.round(r)),
    samplesPerSecondMin: Math.round(Math.min(...rates)),
    samplesPerSecondMax: Math.round(Math.max(...rates)),
    nsPerSample: round(1e9 / rate, 1),
    directIngestSamplesPerSecond: Math.round(directRate),
    statusesEmitted,
    statusFlushMsPerPass: round(statusFlushMsPerPass, 3),
    droppedSamples: aggregator.droppedSamples,
    heapUsedMB: heapAfterSetup,
    samplePoolMB: round(heapAfterSetup - heapBeforePool, 1),
    setupMs: Math.round(setupMs),
  };
}

/** Fail loudly when the workload is not what the figures claim. */
function check(aggregator: Aggregator, groupIds: readonly string[]): void {
  if (aggregator.droppedSamples !== 0) {
    const last = aggregator.recentDroppedSamples().at(-1);
    throw new BenchFailure(`${aggregator.droppedSamples} samples dropped (last: ${last ? `${last.derId}: ${last.reason}` : '?'})`);
  }
  for (const id of groupIds) {
    const s = aggregator.status(id);
    if (!s) throw new BenchFailure(`group ${id} has no status`);
    if (s.members.stale !== 0 || s.members.offline !== 0 || s.members.reporting !== s.members.total) {
      throw new BenchFailure(`group ${id}: ${JSON.stringify(s.members)}; expected every member reporting`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Planning

export function benchPlan(p: PlanParams, log: (m: string) => void): Record<string, number | number[]> {
  log(`core: planning over one group of ${fmt(p.members)}`);
  collectGarbage(); // the ingest fleet is garbage now; do not let its collection land in the timings
  const registry = new Registry();
  const rng = new Rng(2);
  const ids: string[] = [];
  for (let i = 0; i < p.members; i++) {
    const id = derId('plan-', i);
    registry.addDer(derInput(id, kindOf(i), rng));
    ids.push(id);
  }
  const groupId = 'plan-group';
  registry.createGroup({ mRID: groupId, members: ids });
  const clock = new VirtualClock();
  const aggregator = new Aggregator(registry, clock);
  for (const id of ids) aggregator.ingest(sampleFor(registry.requireDer(id), clock.now(), rng));
  if (aggregator.droppedSamples !== 0) throw new BenchFailure(`${aggregator.droppedSamples} planning samples dropped`);
  const status = aggregator.status(groupId)!;
  const views: DerView[] = ids.map((id) => aggregator.view(id)!);
  const eligible = views.filter((v) => v.freshness === 'fresh' && v.sample?.connected).length;

  const priorities: Record<string, number> = {};
  ids.forEach((id, i) => (priorities[id] = i % 10));
  const active = (value: number): Control => controlSchema.parse({ kind: 'activePower', value, unit: 'W' });
  const reactive = (value: number): Control => controlSchema.parse({ kind: 'reactivePower', value, unit: 'var' });
  const input = (control: Control, value: number, policy: AllocationPolicy, members: readonly DerView[] = views): PlanInput => ({
    dispatchId: 'bench-dispatch',
    control,
    value,
    policy,
    priorities: policy === 'priority' ? priorities : undefined,
    members,
    supports: () => true,
  });

  const feasible = 0.6 * status.availableMaxW;
  const infeasible = 1.5 * status.availableMaxW;
  const charge = 0.6 * status.availableMinW;
  const reactiveTarget = 0.5 * status.availableMaxVar;

  const time = (name: string, make: () => PlanInput, expect: (plan: Plan) => string | null): number[] => {
    const check = (plan: Plan): void => {
      if (plan.setpoints.length !== eligible) throw new BenchFailure(`${name}: ${plan.setpoints.length} setpoints for ${eligible} eligible members`);
      const problem = expect(plan);
      if (problem) throw new BenchFailure(`${name}: ${problem}`);
    };
    collectGarbage();
    for (let k = 0; k < p.warmupIterations; k++) check(planControl(make()));
    const ms: number[] = [];
    for (let k = 0; k < p.iterations; k++) {
      const inp = make();
      const t = nowMs();
      const plan = planControl(inp);
      ms.push(nowMs() - t);
      check(plan);
    }
    log(`core: ${name}: median ${median(ms).toFixed(2)} ms, p95 ${percentile(ms, 95).toFixed(2)} ms`);
    return ms;
  };
  const met = (target: number) => (plan: Plan): string | null =>
    Math.abs(plan.shortfall) <= 1e-6 * Math.abs(target) + 1e-6 && Math.abs((plan.achievable ?? NaN) - target) <= 1e-6 * Math.abs(target) + 1e-3
      ? null
      : `target ${target} not met: achievable ${plan.achievable}, shortfall ${plan.shortfall}`;
  const clamped = (plan: Plan): string | null => (plan.shortfall > 0 ? null : `expected a shortfall, got ${plan.shortfall}`);

  const headroom = time('headroom', () => input(active(feasible), feasible, 'headroom'), met(feasible));
  const rating = time('rating', () => input(active(feasible), feasible, 'rating'), met(feasible));
  const socBalance = time('soc-balance', () => input(active(feasible), feasible, 'soc-balance'), met(feasible));
  const priority = time('priority', () => input(active(feasible), feasible, 'priority'), met(feasible));
  const over = time('infeasible', () => input(active(infeasible), infeasible, 'headroom'), clamped);
  const charging = time('charge', () => input(active(charge), charge, 'headroom'), met(charge));
  const react = time('reactive', () => input(reactive(reactiveTarget), reactiveTarget, 'headroom'), met(reactiveTarget));

  // Views + plan: what a dispatch pays end to end before any write.
  const withViews: number[] = [];
  collectGarbage();
  for (let k = 0; k < p.warmupIterations + p.iterations; k++) {
    const t = nowMs();
    const vs = registry.requireGroup(groupId).members.map((id) => aggregator.view(id)!);
    const plan = planControl(input(active(feasible), feasible, 'headroom', vs));
    const ms = nowMs() - t;
    if (k >= p.warmupIterations) withViews.push(ms);
    if (plan.setpoints.length !== eligible) throw new BenchFailure('views + plan: wrong setpoint count');
  }

  const r2 = (x: number): number => round(x, 3);
  return {
    planMembers: p.members,
    planEligibleMembers: eligible,
    planIterations: p.iterations,
    planMsFor10kMembers: r2(median(headroom)),
    planMsFor10kMembersP50: r2(median(headroom)),
    planMsFor10kMembersP95: r2(percentile(headroom, 95)),
    planRatingMs: r2(median(rating)),
    planRatingMsP95: r2(percentile(rating, 95)),
    planSocBalanceMs: r2(median(socBalance)),
    planSocBalanceMsP95: r2(percentile(socBalance, 95)),
    planPriorityMs: r2(median(priority)),
    planPriorityMsP95: r2(percentile(priority, 95)),
    planInfeasibleMs: r2(median(over)),
    planInfeasibleMsP95: r2(percentile(over, 95)),
    planChargeMs: r2(median(charging)),
    planChargeMsP95: r2(percentile(charging, 95)),
    planReactiveMs: r2(median(react)),
    planReactiveMsP95: r2(percentile(react, 95)),
    planWithViewsMs: r2(median(withViews)),
    planWithViewsMsP95: r2(percentile(withViews, 95)),
  };
}
