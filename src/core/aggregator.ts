import { Subject, Subscription, interval, type Observable } from 'rxjs';
import { hasStorage, installedRangeW, type Der } from './model/der.js';
import type { DerGroup } from './model/group.js';
import { sampleProblem, type TelemetrySample } from './model/telemetry.js';
import type { GroupStatus } from './group-status.js';
import type { Clock, LinkState } from './ports.js';
import type { Registry, RegistryChange } from './registry.js';

export type DerFreshness = 'fresh' | 'stale' | 'offline';

export interface DerView {
  readonly der: Der;
  readonly freshness: DerFreshness;
  /** Latest accepted sample, when one arrived; kept while stale for diagnostics. */
  readonly sample: TelemetrySample | undefined;
}

export interface FreshnessChange {
  readonly derId: string;
  readonly from: DerFreshness;
  readonly to: DerFreshness;
  readonly at: number;
}

export interface DroppedSample {
  readonly derId: string;
  readonly reason: string;
  readonly at: number;
}

export interface AggregatorOptions {
  /** Least time between two status emissions of one group (membership changes emit at once). */
  readonly statusIntervalMs?: number;
  /** Expected time between samples of one DER; freshness is checked once per period. */
  readonly pollPeriodMs?: number;
  /** A DER with no sample for this many poll periods is stale. */
  readonly staleAfterPolls?: number;
}

// Layout of one contribution vector. Dynamic fields (from samples) come first so a sample touches
// only those; the installed fields change only with membership or nameplate.
const W = 0, VAR = 1, AWMAX = 2, AWMIN = 3, AVMAX = 4, AVMIN = 5, STORED = 6, CAPREP = 7;
const REPORTING = 8, STALE = 9, OFFLINE = 10, DISCONNECTED = 11;
const KDYN = 12;
const IWMAX = 12, IWMIN = 13, IVMAX = 14, IVMIN = 15, ICAP = 16;
const K = 17;

const FRESH = 1, STALE_S = 2, OFFLINE_S = 0;
const freshnessName: readonly DerFreshness[] = ['offline', 'fresh', 'stale'];

/**
 * Keeps the latest sample per DER and every group's status, incrementally: a sample subtracts
 * the DER's previous contribution from each group it belongs to and adds the new one, so its cost
 * depends on how many groups the DER is in, never on group size. Implausible samples are dropped
 * and counted. Statuses are emitted at most every `statusIntervalMs` per group, and at once on a
 * membership change.
 */
export class Aggregator {
  private readonly statusIntervalMs: number;
  private readonly pollPeriodMs: number;
  private readonly staleAfterPolls: number;

  // Per DER, by dense index.
  private readonly derIndex = new Map<string, number>();
  private readonly freeDer: number[] = [];
  private ders: (Der | undefined)[] = [];
  private derGroups: number[][] = [];
  private latest: (TelemetrySample | undefined)[] = [];
  private contrib = new Float64Array(0);
  private lastTs = new Float64Array(0);
  private lastTick = new Int32Array(0);
  private state = new Uint8Array(0);
  private derCap = 0;

  // Per group, by dense index.
  private readonly groupIndex = new Map<string, number>();
  private readonly freeGroup: number[] = [];
  private groups: (DerGroup | undefined)[] = [];
  private sums = new Float64Array(0);
  private newest = new Float64Array(0);
  private droppedPerGroup = new Float64Array(0);
  private dirty = new Uint8Array(0);
  private groupCap = 0;
  private readonly dirtyList: number[] = [];

  private readonly scratch = new Float64Array(K);
  private tick = 0;
  private droppedTotal = 0;
  private readonly recentDrops: DroppedSample[] = [];

  private readonly statusSubject = new Subject<GroupStatus>();
  private readonly freshnessSubject = new Subject<FreshnessChange>();
  private readonly droppedSubject = new Subject<DroppedSample>();
  /** Group statuses, throttled per group; and one at once on membership change. */
  readonly status$: Observable<GroupStatus> = this.statusSubject.asObservable();
  /** DER freshness transitions (fresh, stale, offline). */
  readonly freshness$: Observable<FreshnessChange> = this.freshnessSubject.asObservable();
  readonly dropped$: Observable<DroppedSample> = this.droppedSubject.asObservable();

  private readonly subs = new Subscription();

  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
    options: AggregatorOptions = {},
  ) {
    this.statusIntervalMs = options.statusIntervalMs ?? 1000;
    this.pollPeriodMs = options.pollPeriodMs ?? 1000;
    this.staleAfterPolls = options.staleAfterPolls ?? 3;
    for (const d of registry.allDers()) this.addDer(d);
    for (const g of registry.allGroups()) this.addGroup(g, false);
    this.subs.add(registry.changes$.subscribe((c) => this.onRegistryChange(c)));
  }

  /** Start the status and freshness timers on the clock. */
  start(): this {
    this.subs.add(interval(this.statusIntervalMs, this.clock).subscribe(() => this.flushStatuses()));
    this.subs.add(interval(this.pollPeriodMs, this.clock).subscribe(() => this.sweep()));
    return this;
  }

  stop(): void {
    this.subs.unsubscribe();
  }

  get droppedSamples(): number {
    return this.droppedTotal;
  }
  recentDroppedSamples(): readonly DroppedSample[] {
    return this.recentDrops;
  }

  view(derId: string): DerView | undefined {
    const i = this.derIndex.get(derId);
    if (i === undefined) return undefined;
    return { der: this.ders[i]!, freshness: freshnessName[this.state[i]!]!, sample: this.latest[i] };
  }

  /** The current status of a group, computed now. */
  status(groupId: string): GroupStatus | undefined {
    const g = this.groupIndex.get(groupId);
    return g === undefined ? undefined : this.buildStatus(g);
  }

  /** Take one sample. Hot path: no allocation beyond what the caller made. */
  ingest(s: TelemetrySample): void {
    const i = this.derIndex.get(s.derId);
    if (i === undefined) return this.drop(s.derId, -1, 'unknown DER');
    const der = this.ders[i]!;
    if (s.timestamp < this.lastTs[i]!) return this.drop(s.derId, i, 'older than the previous sample');
    const problem = sampleProblem(s, der);
    if (problem !== null) return this.drop(s.derId, i, problem);

    const c = this.scratch;
    c[W] = s.w;
    c[VAR] = s.var;
    c[AWMAX] = s.availWMax;
    c[AWMIN] = s.availWMin;
    c[AVMAX] = s.availVarMax;
    c[AVMIN] = s.availVarMin;
    if (s.soc !== undefined) {
      const cap = der.nameplate.energyCapacityWh;
      c[STORED] = (s.soc / 100) * cap;
      c[CAPREP] = cap;
    } else {
      c[STORED] = 0;
      c[CAPREP] = 0;
    }
    c[REPORTING] = 1;
    c[STALE] = 0;
    c[OFFLINE] = 0;
    c[DISCONNECTED] = s.connected ? 0 : 1;
    this.applyDynamic(i);

    this.latest[i] = s;
    this.lastTs[i] = s.timestamp;
    this.lastTick[i] = this.tick;
    const gs = this.derGroups[i]!;
    for (let k = 0; k < gs.length; k++) {
      const g = gs[k]!;
      if (s.timestamp > this.newest[g]!) this.newest[g] = s.timestamp;
    }
    if (this.state[i] !== FRESH) this.setFreshness(i, FRESH);
  }

  /** Adapter connection state: an offline link makes the DER offline until its next sample. */
  setLink(derId: string, link: LinkState): void {
    const i = this.derIndex.get(derId);
    if (i === undefined || link === 'online' || this.state[i] === OFFLINE_S) return;
    this.clearDynamic(i, OFFLINE);
    this.setFreshness(i, OFFLINE_S);
  }

  /** One freshness check: DERs silent for more than `staleAfterPolls` periods become stale. */
  sweep(): void {
    this.tick++;
    const limit = this.tick - this.staleAfterPolls;
    for (const i of this.derIndex.values()) {
      if (this.state[i] === FRESH && this.lastTick[i]! < limit) {
        this.clearDynamic(i, STALE);
        this.setFreshness(i, STALE_S);
      }
    }
  }

  /** Emit the status of every group that changed since its last emission. */
  flushStatuses(): void {
    const list = this.dirtyList;
    for (let k = 0; k < list.length; k++) {
      const g = list[k]!;
      this.dirty[g] = 0;
      if (this.groups[g]) this.statusSubject.next(this.buildStatus(g));
    }
    list.length = 0;
  }

  private drop(derId: string, i: number, reason: string): void {
    this.droppedTotal++;
    if (i >= 0) for (const g of this.derGroups[i]!) this.droppedPerGroup[g]!++;
    const d: DroppedSample = { derId, reason, at: this.clock.now() };
    this.recentDrops.push(d);
    if (this.recentDrops.length > 100) this.recentDrops.shift();
    this.droppedSubject.next(d);
  }

  private setFreshness(i: number, to: number): void {
    const from = this.state[i]!;
    this.state[i] = to;
    this.freshnessSubject.next({ derId: this.ders[i]!.mRID, from: freshnessName[from]!, to: freshnessName[to]!, at: this.clock.now() });
  }

  /** Zero the sample-derived fields and set one count flag (STALE or OFFLINE). */
  private clearDynamic(i: number, flag: number): void {
    this.scratch.fill(0, 0, KDYN);
    this.scratch[flag] = 1;
    this.applyDynamic(i);
  }

  /** Move DER i's dynamic contribution to `scratch[0..KDYN)` in each of its groups. */
  private applyDynamic(i: number): void {
    const base = i * K;
    const c = this.scratch;
    const contrib = this.contrib;
    const sums = this.sums;
    const gs = this.derGroups[i]!;
    for (let n = 0; n < gs.length; n++) {
      const g = gs[n]!;
      const gb = g * K;
      for (let k = 0; k < KDYN; k++) sums[gb + k]! += c[k]! - contrib[base + k]!;
      if (this.dirty[g] === 0) {
        this.dirty[g] = 1;
        this.dirtyList.push(g);
      }
    }
    for (let k = 0; k < KDYN; k++) contrib[base + k] = c[k]!;
  }

  private onRegistryChange(c: RegistryChange): void {
    switch (c.type) {
      case 'derAdded':
        return this.addDer(c.der);
      case 'derUpdated': {
        const i = this.derIndex.get(c.der.mRID)!;
        this.ders[i] = c.der;
        this.writeInstalled(i, c.der);
        for (const g of this.derGroups[i]!) this.recompute(g);
        for (const g of this.derGroups[i]!) this.emitNow(g);
        return;
      }
      case 'derRemoved': {
        const i = this.derIndex.get(c.der.mRID)!;
        this.derIndex.delete(c.der.mRID);
        this.ders[i] = undefined;
        this.latest[i] = undefined;
        this.derGroups[i] = [];
        this.freeDer.push(i);
        return;
      }
      case 'groupCreated':
        return this.addGroup(c.group, true);
      case 'groupChanged': {
        const g = this.groupIndex.get(c.group.mRID)!;
        this.groups[g] = c.group;
        for (const m of c.removed) {
          const gs = this.derGroups[this.derIndex.get(m)!]!;
          gs.splice(gs.indexOf(g), 1);
        }
        for (const m of c.added) this.derGroups[this.derIndex.get(m)!]!.push(g);
        this.recompute(g);
        return this.emitNow(g);
      }
      case 'groupDeleted': {
        const g = this.groupIndex.get(c.group.mRID)!;
        for (const m of c.group.members) {
          const i = this.derIndex.get(m);
          if (i === undefined) continue;
          const gs = this.derGroups[i]!;
          gs.splice(gs.indexOf(g), 1);
        }
        this.groupIndex.delete(c.group.mRID);
        this.groups[g] = undefined;
        // Forget a pending emission, or a group reusing this slot would be emitted twice.
        const pending = this.dirtyList.indexOf(g);
        if (pending >= 0) this.dirtyList.splice(pending, 1);
        this.dirty[g] = 0;
        this.freeGroup.push(g);
        return;
      }
    }
  }

  private addDer(der: Der): void {
    let i = this.freeDer.pop();
    if (i === undefined) {
      i = this.ders.length;
      this.ders.push(undefined);
      this.derGroups.push([]);
      this.latest.push(undefined);
      if (i >= this.derCap) this.growDers(Math.max(1024, this.derCap * 2));
    }
    this.derIndex.set(der.mRID, i);
    this.ders[i] = der;
    this.derGroups[i] = [];
    this.latest[i] = undefined;
    this.contrib.fill(0, i * K, (i + 1) * K);
    this.contrib[i * K + OFFLINE] = 1;
    this.lastTs[i] = -Infinity;
    this.lastTick[i] = 0;
    this.state[i] = OFFLINE_S;
    this.writeInstalled(i, der);
  }

  private writeInstalled(i: number, der: Der): void {
    const r = installedRangeW(der);
    const b = i * K;
    this.contrib[b + IWMAX] = r.max;
    this.contrib[b + IWMIN] = r.min;
    this.contrib[b + IVMAX] = der.nameplate.maxVarInject;
    this.contrib[b + IVMIN] = -der.nameplate.maxVarAbsorb;
    this.contrib[b + ICAP] = hasStorage(der) ? der.nameplate.energyCapacityWh : 0;
  }

  private addGroup(group: DerGroup, emit: boolean): void {
    let g = this.freeGroup.pop();
    if (g === undefined) {
      g = this.groups.length;
      this.groups.push(undefined);
      if (g >= this.groupCap) this.growGroups(Math.max(64, this.groupCap * 2));
    }
    this.groupIndex.set(group.mRID, g);
    this.groups[g] = group;
    this.droppedPerGroup[g] = 0;
    for (const m of group.members) this.derGroups[this.derIndex.get(m)!]!.push(g);
    this.recompute(g);
    if (emit) this.emitNow(g);
  }

  /** Sum a group from its members' contributions exactly (membership change; also clears drift). */
  private recompute(g: number): void {
    const gb = g * K;
    this.sums.fill(0, gb, gb + K);
    let newest = -Infinity;
    for (const m of this.groups[g]!.members) {
      const i = this.derIndex.get(m)!;
      const b = i * K;
      for (let k = 0; k < K; k++) this.sums[gb + k]! += this.contrib[b + k]!;
      if (this.lastTs[i]! > newest) newest = this.lastTs[i]!;
    }
    this.newest[g] = newest;
  }

  private emitNow(g: number): void {
    this.statusSubject.next(this.buildStatus(g));
  }

  private buildStatus(g: number): GroupStatus {
    const group = this.groups[g]!;
    const s = this.sums.subarray(g * K, (g + 1) * K);
    const installedCap = s[ICAP]!;
    const capRep = s[CAPREP]!;
    const round = (x: number): number => (Math.abs(x) < 1e-6 ? 0 : x);
    return {
      groupId: group.mRID,
      version: group.version,
      at: this.clock.now(),
      newestSampleAt: Number.isFinite(this.newest[g]!) ? this.newest[g]! : null,
      activePowerW: round(s[W]!),
      reactivePowerVar: round(s[VAR]!),
      installedMaxW: s[IWMAX]!,
      installedMinW: s[IWMIN]!,
      installedMaxVar: s[IVMAX]!,
      installedMinVar: s[IVMIN]!,
      availableMaxW: round(s[AWMAX]!),
      availableMinW: round(s[AWMIN]!),
      headroomUpW: Math.max(0, round(s[AWMAX]! - s[W]!)),
      headroomDownW: Math.max(0, round(s[W]! - s[AWMIN]!)),
      availableMaxVar: round(s[AVMAX]!),
      availableMinVar: round(s[AVMIN]!),
      headroomUpVar: Math.max(0, round(s[AVMAX]! - s[VAR]!)),
      headroomDownVar: Math.max(0, round(s[VAR]! - s[AVMIN]!)),
      storage:
        installedCap > 0
          ? {
              installedCapacityWh: installedCap,
              reportingCapacityWh: round(capRep),
              storedEnergyWh: round(s[STORED]!),
              socPct: capRep > 1e-9 ? (s[STORED]! / capRep) * 100 : null,
            }
          : null,
      members: {
        total: group.members.length,
        reporting: Math.round(s[REPORTING]!),
        stale: Math.round(s[STALE]!),
        offline: Math.round(s[OFFLINE]!),
        disconnected: Math.round(s[DISCONNECTED]!),
      },
      droppedSamples: this.droppedPerGroup[g]!,
    };
  }

  private growDers(cap: number): void {
    const contrib = new Float64Array(cap * K);
    contrib.set(this.contrib);
    this.contrib = contrib;
    const lastTs = new Float64Array(cap);
    lastTs.set(this.lastTs);
    this.lastTs = lastTs;
    const lastTick = new Int32Array(cap);
    lastTick.set(this.lastTick);
    this.lastTick = lastTick;
    const state = new Uint8Array(cap);
    state.set(this.state);
    this.state = state;
    this.derCap = cap;
  }

  private growGroups(cap: number): void {
    const sums = new Float64Array(cap * K);
    sums.set(this.sums);
    this.sums = sums;
    const newest = new Float64Array(cap);
    newest.set(this.newest);
    this.newest = newest;
    const dropped = new Float64Array(cap);
    dropped.set(this.droppedPerGroup);
    this.droppedPerGroup = dropped;
    const dirty = new Uint8Array(cap);
    dirty.set(this.dirty);
    this.dirty = dirty;
    this.groupCap = cap;
  }
}
