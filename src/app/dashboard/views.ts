import type { DerFreshness } from '../../core/aggregator.js';
import type { DispatchRecord } from '../../core/dispatch-events.js';
import type { GroupStatus } from '../../core/group-status.js';
import type { DerFunctions, GroupVersion } from '../../core/model/group.js';
import type { FleetSpec } from '../../sim/fleet-spec.js';
import type { DashboardCore, DashboardDeps } from './deps.js';
import type { HistoryPoint, LastOutcome, LiveFeed } from './live.js';

/** The JSON the dashboard's API answers with: views over the core, shaped for the page. */

export interface FleetCounts {
  readonly total: number;
  readonly byFreshness: Record<DerFreshness, number>;
  /** Operating state from each DER's latest sample; `unknown` before the first. */
  readonly byState: Record<string, number>;
  /** Devices by kind, protocol and freshness: one row per kind and protocol present. */
  readonly matrix: ReadonlyArray<{ kind: string; protocol: string } & Record<DerFreshness, number>>;
  /** Fleet output from fresh samples. */
  readonly activePowerW: number;
  readonly reactivePowerVar: number;
}

export interface DeviceRow {
  readonly id: string;
  readonly name: string;
  readonly kind: string;
  readonly protocol: string;
  readonly feeder: string | null;
  readonly section: string | null;
  readonly freshness: DerFreshness;
  readonly state: string;
  readonly connected: boolean | null;
  readonly sampleAt: number | null;
  readonly w: number | null;
  readonly var: number | null;
  readonly v: number | null;
  readonly socPct: number | null;
  readonly maxW: number;
  readonly groups: readonly string[];
}

export function fleetCounts(core: DashboardCore, protocolOf: (derId: string) => string): FleetCounts {
  const byFreshness: Record<DerFreshness, number> = { fresh: 0, stale: 0, offline: 0 };
  const byState: Record<string, number> = {};
  const rows = new Map<string, { kind: string; protocol: string } & Record<DerFreshness, number>>();
  let total = 0;
  let w = 0;
  let q = 0;
  for (const der of core.registry.allDers()) {
    total++;
    const v = core.aggregator.view(der.mRID);
    const freshness = v?.freshness ?? 'offline';
    byFreshness[freshness]++;
    const state = v?.sample?.state ?? 'unknown';
    byState[state] = (byState[state] ?? 0) + 1;
    const protocol = protocolOf(der.mRID);
    const key = `${der.kind}\u0000${protocol}`;
    let row = rows.get(key);
    if (!row) rows.set(key, (row = { kind: der.kind, protocol, fresh: 0, stale: 0, offline: 0 }));
    row[freshness]++;
    if (freshness === 'fresh' && v?.sample) {
      w += v.sample.w;
      q += v.sample.var;
    }
  }
  const matrix = [...rows.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.protocol.localeCompare(b.protocol));
  return { total, byFreshness, byState, matrix, activePowerW: w, reactivePowerVar: q };
}

export function deviceRows(deps: DashboardDeps, ids?: readonly string[]): DeviceRow[] {
  const { registry, aggregator } = deps.core;
  const place = placement(deps);
  const ders = ids ? ids.map((id) => registry.der(id)).filter((d) => d !== undefined) : [...registry.allDers()];
  return ders.map((der) => {
    const v = aggregator.view(der.mRID);
    const s = v?.sample;
    const where = place.get(der.mRID);
    return {
      id: der.mRID,
      name: der.name,
      kind: der.kind,
      protocol: deps.protocolOf(der.mRID),
      feeder: where?.feeder ?? null,
      section: where?.section ?? null,
      freshness: v?.freshness ?? 'offline',
      state: s?.state ?? 'unknown',
      connected: s?.connected ?? null,
      sampleAt: s?.timestamp ?? null,
      w: s?.w ?? null,
      var: s?.var ?? null,
      v: s?.v ?? null,
      socPct: s?.soc ?? null,
      maxW: der.nameplate.maxW,
      groups: [...registry.groupsOf(der.mRID)],
    };
  });
}

function fleetSpecOf(deps: DashboardDeps): FleetSpec | null {
  return deps.fleet ?? deps.sim?.spec ?? null;
}

function placement(deps: DashboardDeps): Map<string, { feeder: string; section: string }> {
  return new Map((fleetSpecOf(deps)?.devices ?? []).map((d) => [d.id, { feeder: d.feeder, section: d.section }]));
}

export interface SectionView {
  readonly id: string;
  readonly parent: string | null;
  /** Sections between this one and the substation (0 for the root). */
  readonly depth: number;
  /** Voltage in volts and per unit of the feeder's nominal; null when nothing tells it. */
  readonly v: number | null;
  readonly vPu: number | null;
  readonly ders: number;
  /** Output of the section's DERs from their fresh samples, W. */
  readonly derW: number;
}

export interface FeederView {
  readonly id: string;
  readonly nominalV: number;
  readonly headVoltagePu: number;
  /** Net power from the substation (load minus DER), W; model only. */
  readonly headFlowW: number | null;
  readonly loadW: number | null;
  readonly minPu: number | null;
  readonly maxPu: number | null;
  readonly sections: readonly SectionView[];
}

export interface FeedersView {
  /** model: the simulation's feeder solve; measured: averaged from the DERs' own voltage readings. */
  readonly source: 'model' | 'measured' | 'none';
  readonly now: number;
  readonly feeders: readonly FeederView[];
}

/**
 * Section voltages per feeder: from the simulation's feeder model when this process runs it,
 * otherwise from what the DERs on each section measure (sections without a reporting DER have none).
 */
export function feederViews(deps: DashboardDeps): FeedersView {
  const now = deps.core.clock.now();
  const spec = fleetSpecOf(deps);
  if (!spec) return { source: 'none', now, feeders: [] };
  const model = new Map((deps.sim?.feeders ?? []).map((f) => [f.id, f]));
  const perSection = new Map<string, { ders: number; w: number; vSum: number; vPuSum: number; vCount: number }>();
  for (const d of spec.devices) {
    const key = `${d.feeder}/${d.section}`;
    const acc = perSection.get(key) ?? { ders: 0, w: 0, vSum: 0, vPuSum: 0, vCount: 0 };
    acc.ders++;
    const v = deps.core.aggregator.view(d.id);
    if (v?.freshness === 'fresh' && v.sample) {
      acc.w += v.sample.w;
      acc.vSum += v.sample.v;
      acc.vPuSum += v.sample.v / d.nameplate.nominalV;
      acc.vCount++;
    }
    perSection.set(key, acc);
  }
  const feeders = spec.feeders.map((f): FeederView => {
    const m = model.get(f.id);
    const parents = new Map(f.sections.map((s) => [s.id, s.parent]));
    const depth = (id: string): number => {
      let n = 0;
      for (let p = parents.get(id) ?? null; p !== null && n < f.sections.length; p = parents.get(p) ?? null) n++;
      return n;
    };
    const sections = f.sections.map((s): SectionView => {
      const acc = perSection.get(`${f.id}/${s.id}`);
      let v: number | null = null;
      let vPu: number | null = null;
      if (m) {
        v = m.voltage(m.sectionIndex(s.id));
        vPu = v / m.nominalV;
      } else if (acc && acc.vCount > 0) {
        vPu = acc.vPuSum / acc.vCount;
        v = vPu * f.nominalV;
      }
      return { id: s.id, parent: s.parent, depth: depth(s.id), v, vPu, ders: acc?.ders ?? 0, derW: acc?.w ?? 0 };
    });
    const pus = sections.map((s) => s.vPu).filter((x): x is number => x !== null);
    return {
      id: f.id,
      nominalV: f.nominalV,
      headVoltagePu: m?.headVoltagePu ?? f.headVoltagePu,
      headFlowW: m ? m.headFlow().w : null,
      loadW: m ? m.load().w : null,
      minPu: pus.length ? Math.min(...pus) : null,
      maxPu: pus.length ? Math.max(...pus) : null,
      sections,
    };
  });
  return { source: model.size > 0 ? 'model' : 'measured', now, feeders };
}

export interface DispatchSummary {
  readonly dispatchId: string;
  readonly kind: string;
  readonly state: string;
  readonly value: number | null;
  readonly target: number | null;
  readonly achievable: number | null;
  readonly shortfall: number;
  readonly scheduled: boolean;
  readonly policy: string;
  /** How it ended, once it has. */
  readonly endReason: string | null;
  readonly members: { readonly applied: number; readonly rejected: number; readonly timedOut: number; readonly excluded: number };
}

export function dispatchSummary(r: DispatchRecord, live: LiveFeed): DispatchSummary {
  let applied = 0;
  let rejected = 0;
  let timedOut = 0;
  let excluded = 0;
  for (const m of r.members) {
    if (m.lastOutcome?.status === 'applied') applied++;
    else if (m.lastOutcome?.status === 'rejected') rejected++;
    else if (m.lastOutcome?.status === 'timedOut') timedOut++;
    if (m.excluded) excluded++;
  }
  return {
    dispatchId: r.dispatchId,
    kind: r.dispatch.control.kind,
    state: r.state,
    value: r.value,
    target: r.target,
    achievable: r.achievable,
    shortfall: r.shortfall,
    scheduled: r.dispatch.schedule !== undefined,
    policy: r.dispatch.policy,
    endReason: live.endOf(r.dispatchId)?.reason ?? null,
    members: { applied, rejected, timedOut, excluded },
  };
}

export interface GroupSummary {
  readonly mRID: string;
  readonly names: readonly string[];
  readonly description: string;
  readonly functions: DerFunctions;
  readonly version: GroupVersion;
  readonly memberCount: number;
  readonly status: GroupStatus | null;
  readonly live: readonly DispatchSummary[];
}

export function groupSummaries(deps: DashboardDeps, live: LiveFeed): GroupSummary[] {
  const { registry, aggregator, tracker } = deps.core;
  return [...registry.allGroups()].map((g) => ({
    mRID: g.mRID,
    names: g.names,
    description: g.description,
    functions: g.functions,
    version: g.version,
    memberCount: g.members.length,
    status: aggregator.status(g.mRID) ?? null,
    live: tracker.live(g.mRID).map((r) => dispatchSummary(r, live)),
  }));
}

export interface MemberRow extends DeviceRow {
  readonly lastOutcome: LastOutcome | null;
}

export interface GroupDetail extends GroupSummary {
  readonly now: number;
  readonly members: readonly MemberRow[];
  readonly history: readonly HistoryPoint[];
  /** This group's dispatches seen since the dashboard started, newest first. */
  readonly dispatches: readonly DispatchSummary[];
}

export function groupDetail(deps: DashboardDeps, live: LiveFeed, groupId: string): GroupDetail {
  const { registry, aggregator, tracker, clock } = deps.core;
  const g = registry.requireGroup(groupId);
  const dispatches = [...live.recentDispatches(g.mRID)]
    .reverse()
    .map((id) => tracker.record(id))
    .filter((r) => r !== undefined)
    .map((r) => dispatchSummary(r, live));
  return {
    now: clock.now(),
    mRID: g.mRID,
    names: g.names,
    description: g.description,
    functions: g.functions,
    version: g.version,
    memberCount: g.members.length,
    status: aggregator.status(g.mRID) ?? null,
    live: tracker.live(g.mRID).map((r) => dispatchSummary(r, live)),
    members: deviceRows(deps, g.members).map((row) => ({ ...row, lastOutcome: live.lastOutcome(row.id) ?? null })),
    history: live.historyOf(g.mRID),
    dispatches,
  };
}
