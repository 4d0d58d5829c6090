/**
 * From a parsed fleet file to a `FleetSpec`: check every entry, resolve references, expand the
 * generators (deterministically from the seed), assign protocol addresses and run each device
 * through the core's DER validation. Problems are collected with their file positions and thrown
 * together as one FleetFileError.
 */
import { parseDer, type Nameplate } from '../../core/model/der.js';
import { ValidationError } from '../../core/errors.js';
import { seededRandom } from '../random.js';
import type {
  ClockSpec,
  DeviceProtocol,
  DeviceSpec,
  EndpointSpec,
  FaultSpec,
  FeederSectionSpec,
  FeederSpec,
  FleetSpec,
  Ieee1547Settings,
  SiteSpec,
} from '../fleet-spec.js';
import {
  batteryDefaults,
  deviceGeneratorEntrySchema,
  deviceKinds,
  deviceSchema,
  faultMagnitudeDefaults,
  fleetFileSchema,
  protocols,
  pvDefaults,
  type DeviceFile,
  type DeviceGeneratorFile,
  type FleetFile,
  type RangeInput,
} from './schema.js';
import { check, type FleetFileIssue, type FleetSource, type Path } from './source.js';

type Kind = (typeof deviceKinds)[number];

/** First DNP3 outstation address handed out (the master keeps the low addresses). */
export const firstOutstation = 10;
/** Unit ids a Modbus gateway can address. */
const maxUnitId = 247;

/** A device before its endpoint and core validation, with where it came from in the file. */
interface Draft {
  readonly id: string;
  readonly name: string;
  readonly kind: Kind;
  readonly feeder: string;
  readonly section: string;
  readonly site: SiteSpec;
  readonly nameplate: Nameplate | NameplateDraft;
  readonly pv: DeviceSpec['pv'];
  readonly battery: DeviceSpec['battery'];
  readonly protocol: DeviceProtocol;
  readonly endpoint: DeviceFile['endpoint'];
  readonly settings: Partial<Ieee1547Settings>;
  /** Path of the explicit device, or of its generator entry. */
  readonly at: Path;
  /** Index of the generator entry in `devices`, or -1 for a listed device. */
  readonly generator: number;
}

type NameplateDraft = Omit<Nameplate, 'maxChargeW' | 'maxDischargeW' | 'energyCapacityWh'> &
  Partial<Pick<Nameplate, 'maxChargeW' | 'maxDischargeW' | 'energyCapacityWh'>>;

class Problems {
  readonly list: FleetFileIssue[] = [];
  constructor(readonly src: FleetSource) {}
  add(path: Path, message: string): void {
    this.list.push(this.src.issue(path, message));
  }
  /** Throw what has been collected so far, ordered by position. */
  throwIfAny(): void {
    if (this.list.length === 0) return;
    const sorted = [...this.list].sort((a, b) => a.line - b.line || a.column - b.column);
    throw this.src.error(sorted);
  }
}

export function buildFleet(src: FleetSource, value: unknown): FleetSpec {
  const p = new Problems(src);
  if (value === null || value === undefined) {
    p.add([], 'the file is empty; a fleet file is a mapping with name, clock, feeders and devices');
    p.throwIfAny();
  }

  // Phase 1: shapes, types, ranges, unknown keys.
  const file = check(src, fleetFileSchema, value, [], p.list);
  const rawDevices = isRecord(value) && Array.isArray(value['devices']) ? (value['devices'] as unknown[]) : [];
  const entries = rawDevices.map((item, i) =>
    isRecord(item) && 'generate' in item
      ? { generate: check(src, deviceGeneratorEntrySchema, item, ['devices', i], p.list)?.generate }
      : { device: check(src, deviceSchema, item, ['devices', i], p.list) },
  );
  p.throwIfAny();
  if (!file) throw new Error('unreachable: fleet file passed with no value');

  // Phase 2: references, expansion and cross-checks.
  const feeders = buildFeeders(file, p);
  const sectionsOf = new Map(feeders.map((f) => [f.id, f.sections]));
  const drafts: Draft[] = [];
  let generators = 0;
  entries.forEach((e, i) => {
    if (e.device) {
      const d = listedDevice(e.device, i, file, feeders, sectionsOf, p);
      if (d) drafts.push(d);
    } else if (e.generate) {
      drafts.push(...generatedDevices(e.generate, i, generators++, file, feeders, p));
    }
  });

  const firstAt = new Map<string, Draft>();
  for (const d of drafts) {
    const prev = firstAt.get(d.id);
    if (!prev) firstAt.set(d.id, d);
    else {
      const where = src.locate(prev.at);
      const at = d.generator >= 0 ? d.at : [...d.at, 'id'];
      p.add(at, `duplicate device id ${JSON.stringify(d.id)} (first defined at line ${where.line})`);
    }
  }

  const devices = finishDevices(drafts, p);
  const faults = buildFaults(file, drafts.map((d) => d.id), p);
  p.throwIfAny();

  const speedDefault = file.clock.mode === 'accelerated' ? 10 : 1;
  const clock: ClockSpec = {
    start: Date.parse(file.clock.start),
    stepMs: file.clock.stepMs,
    mode: file.clock.mode,
    speed: file.clock.speed ?? speedDefault,
  };
  return { name: file.name, seed: file.seed, clock, site: file.site, weather: file.weather, feeders, devices, faults };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------
// feeders

interface SectionWithDepth extends FeederSectionSpec {
  /** Sections from the substation, 1 for the head section. */
  readonly depth: number;
}
interface BuiltFeeder extends FeederSpec {
  readonly sections: readonly SectionWithDepth[];
}

function buildFeeders(file: FleetFile, p: Problems): BuiltFeeder[] {
  const seen = new Set<string>();
  return file.feeders.map((f, fi) => {
    if (seen.has(f.id)) p.add(['feeders', fi, 'id'], `duplicate feeder id ${JSON.stringify(f.id)}`);
    seen.add(f.id);
    const sections: FeederSectionSpec[] = f.generate ? generatedSections(f.generate) : listedSections(f.sections ?? [], ['feeders', fi, 'sections'], p);
    return { id: f.id, nominalV: f.nominalV, headVoltagePu: f.headVoltagePu, sections: withDepth(sections) };
  });
}

function listedSections(list: NonNullable<FleetFile['feeders'][number]['sections']>, at: Path, p: Problems): FeederSectionSpec[] {
  const ids = new Map<string, number>();
  list.forEach((s, i) => {
    if (ids.has(s.id)) p.add([...at, i, 'id'], `duplicate section id ${JSON.stringify(s.id)}`);
    else ids.set(s.id, i);
  });
  const out = list.map((s, i): FeederSectionSpec => {
    const parent = s.parent === undefined ? (i === 0 ? null : list[i - 1]!.id) : s.parent;
    if (parent !== null && !ids.has(parent)) p.add([...at, i, 'parent'], `unknown section ${JSON.stringify(parent)}`);
    if (parent === s.id) p.add([...at, i, 'parent'], 'a section cannot be its own parent');
    return { id: s.id, parent, rOhm: s.rOhm, xOhm: s.xOhm, loadPeakW: s.loadPeakW, loadPf: s.loadPf, loadProfile: s.loadProfile };
  });
  const roots = out.flatMap((s, i) => (s.parent === null ? [i] : []));
  if (roots.length === 0) p.add(at, 'one section needs parent: null (the head of the feeder)');
  for (const i of roots.slice(1)) p.add([...at, i, 'parent'], `only one section can hang off the substation (${out[roots[0]!]!.id} already does)`);
  if (roots.length > 0) {
    const reach = withDepth(out);
    out.forEach((s, i) => {
      if (!reach.some((r) => r.id === s.id) && s.parent !== null && ids.has(s.parent)) p.add([...at, i, 'parent'], 'forms a loop; feeders are radial');
    });
  }
  return out;
}

function generatedSections(g: NonNullable<FleetFile['feeders'][number]['generate']>): FeederSectionSpec[] {
  const n = g.sections;
  const width = Math.max(3, String(n).length);
  const sid = (k: number) => `s${String(k).padStart(width, '0')}`;
  // line: s001 <- s002 <- ... ; branched: a trunk of ceil(n/3), then two-section laterals off
  // the trunk sections in order from the head.
  const trunk = g.topology === 'line' ? n : Math.ceil(n / 3);
  const out: FeederSectionSpec[] = [];
  for (let k = 1; k <= n; k++) {
    let parent: string | null;
    if (k === 1) parent = null;
    else if (k <= trunk) parent = sid(k - 1);
    else {
      const j = k - trunk - 1; // 0-based index among lateral sections
      parent = j % 2 === 0 ? sid(((j / 2) % trunk) + 1) : sid(k - 1);
    }
    out.push({ id: sid(k), parent, rOhm: g.rOhmPerSection, xOhm: g.xOhmPerSection, loadPeakW: g.loadPeakWPerSection, loadPf: g.loadPf, loadProfile: g.loadProfile });
  }
  return out;
}

/** Sections in the order given, with their depth; sections not reachable from the head are dropped. */
function withDepth(sections: readonly FeederSectionSpec[]): SectionWithDepth[] {
  const depth = new Map<string, number>();
  const children = new Map<string | null, FeederSectionSpec[]>();
  for (const s of sections) {
    const c = children.get(s.parent) ?? [];
    c.push(s);
    children.set(s.parent, c);
  }
  const queue: [string | null, number][] = [[null, 0]];
  while (queue.length > 0) {
    const [id, d] = queue.shift()!;
    for (const c of children.get(id) ?? []) {
      if (depth.has(c.id)) continue;
      depth.set(c.id, d + 1);
      queue.push([c.id, d + 1]);
    }
  }
  return sections.filter((s) => depth.has(s.id)).map((s) => ({ ...s, depth: depth.get(s.id)! }));
}

// ---------------------------------------------------------------------------------------------
// devices

function round(x: number, step: number): number {
  return Math.round(x / step) * step;
}
/** Trim float noise (1.1 x 5000 = 5500.000000000001). */
function tidy(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The nameplate a device of this rating gets when the file does not say otherwise. */
function derivedNameplate(
  kind: Kind,
  maxW: number,
  energyWh: number,
  normalCategory: Nameplate['normalCategory'],
  abnormalCategory: Nameplate['abnormalCategory'],
  nominalV: number,
): Nameplate {
  const storage = kind !== 'pv';
  return {
    maxW,
    // IEEE 1547-2018 5.2: reactive capability at rated active power needs kVA headroom (44 % var at rated W).
    maxVA: tidy(1.1 * maxW),
    maxVarInject: tidy(0.44 * maxW),
    // Category A need only absorb 25 %; category B 44 %.
    maxVarAbsorb: tidy((normalCategory === 'A' ? 0.25 : 0.44) * maxW),
    maxChargeW: storage ? maxW : 0,
    maxDischargeW: storage ? maxW : 0,
    energyCapacityWh: storage ? energyWh : 0,
    nominalV,
    normalCategory,
    abnormalCategory,
  };
}

function listedDevice(
  d: DeviceFile,
  i: number,
  file: FleetFile,
  feeders: readonly BuiltFeeder[],
  sectionsOf: ReadonlyMap<string, readonly SectionWithDepth[]>,
  p: Problems,
): Draft | undefined {
  const at: Path = ['devices', i];
  let feederId = d.feeder;
  if (feederId === undefined) {
    if (feeders.length === 1) feederId = feeders[0]!.id;
    else {
      p.add([...at, 'feeder'], 'is required when the fleet has more than one feeder');
      return undefined;
    }
  }
  const feeder = feeders.find((f) => f.id === feederId);
  if (!feeder) {
    p.add([...at, 'feeder'], `unknown feeder ${JSON.stringify(feederId)} (feeders: ${feeders.map((f) => f.id).join(', ')})`);
    return undefined;
  }
  if (!sectionsOf.get(feeder.id)?.some((s) => s.id === d.section)) {
    p.add([...at, 'section'], `unknown section ${JSON.stringify(d.section)} on feeder ${JSON.stringify(feeder.id)}`);
    return undefined;
  }
  const n = d.nameplate;
  const base = derivedNameplate(d.kind, n.maxW, 0, n.normalCategory, n.abnormalCategory, n.nominalV ?? feeder.nominalV);
  const storage = d.kind !== 'pv';
  const nameplate: NameplateDraft = {
    ...base,
    maxVA: n.maxVA ?? base.maxVA,
    maxVarInject: n.maxVarInject ?? base.maxVarInject,
    maxVarAbsorb: n.maxVarAbsorb ?? base.maxVarAbsorb,
    // Left unset the core's defaults (0) apply, so a storage device without a capacity fails there with its own message.
    maxChargeW: n.maxChargeW ?? (storage ? n.maxW : undefined),
    maxDischargeW: n.maxDischargeW ?? (storage ? n.maxW : undefined),
    energyCapacityWh: n.energyCapacityWh,
  };
  const pvIn = d.pv ?? (d.kind === 'battery' ? undefined : { ...pvDefaults, dcRatingW: undefined });
  const pv = pvIn
    ? {
        dcRatingW: pvIn.dcRatingW ?? tidy(n.maxW * pvDefaults.dcAcRatio),
        tiltDeg: pvIn.tiltDeg,
        azimuthDeg: pvIn.azimuthDeg,
        tempCoeffPctPerC: pvIn.tempCoeffPctPerC,
        noctC: pvIn.noctC,
        dcLosses: pvIn.dcLosses,
      }
    : null;
  const battery = storage ? (d.battery ?? { ...batteryDefaults }) : null;
  return {
    id: d.id,
    name: d.name ?? d.id,
    kind: d.kind,
    feeder: feeder.id,
    section: d.section,
    site: { ...file.site, ...definedOnly(d.site ?? {}) },
    nameplate,
    pv,
    battery,
    protocol: d.protocol,
    endpoint: d.endpoint,
    settings: d.settings,
    at,
    generator: -1,
  };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** Independent random stream per (seed, generator, purpose), so changing one aspect leaves the others alone. */
function stream(seed: number, entry: number, purpose: number): () => number {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const x of [entry, purpose]) {
    h = Math.imul(h ^ (x + 0x7f4a7c15), 0x85ebca6b) >>> 0;
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35) >>> 0;
    h ^= h >>> 16;
  }
  return seededRandom(h >>> 0);
}
const RATINGS = 1;
const PV = 2;
const SOC = 3;
const PLACEMENT = 4;
const PROTOCOL = 5;

/**
 * Split `n` items over the weighted keys so each gets floor(f x n), then hand the remainder to the
 * largest fractional parts (ties to the key listed first). Counts are exact and repeatable.
 */
export function largestRemainder<K extends string>(fractions: Readonly<Record<K, number>>, keys: readonly K[], n: number): Record<K, number> {
  const total = keys.reduce((a, k) => a + fractions[k], 0);
  const exact = keys.map((k) => (total > 0 ? (fractions[k] / total) * n : 0));
  const counts = exact.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = keys.map((_, i) => i).sort((a, b) => exact[b]! - counts[b]! - (exact[a]! - counts[a]!) || a - b);
  for (const i of order) {
    if (left <= 0) break;
    if (exact[i]! > 0) {
      counts[i]!++;
      left--;
    }
  }
  return Object.fromEntries(keys.map((k, i) => [k, counts[i]!])) as Record<K, number>;
}

function draw(r: RangeInput, rand: () => number): number {
  const u = rand(); // always drawn, so a fixed value does not shift the stream
  return typeof r === 'number' ? r : r.min + u * (r.max - r.min);
}

function drawRating(min: number, max: number, step: number, rand: () => number): number {
  const u = rand();
  if (max <= min) return min;
  return Math.min(max, Math.max(min, round(min + u * (max - min), step)));
}

/** Devices of generator `g`, item `entry` of `devices` and the `ordinal`-th generator there (which seeds its streams). */
function generatedDevices(g: DeviceGeneratorFile, entry: number, ordinal: number, file: FleetFile, feeders: readonly BuiltFeeder[], p: Problems): Draft[] {
  const at: Path = ['devices', entry, 'generate'];
  const candidates: { feeder: BuiltFeeder; section: SectionWithDepth }[] = [];
  if (g.placement.feeder === 'all') {
    for (const f of feeders) for (const s of f.sections) candidates.push({ feeder: f, section: s });
  } else {
    const f = feeders.find((x) => x.id === g.placement.feeder);
    if (!f) {
      p.add([...at, 'placement', 'feeder'], `unknown feeder ${JSON.stringify(g.placement.feeder)} (feeders: ${feeders.map((x) => x.id).join(', ')}, or all)`);
      return [];
    }
    for (const s of f.sections) candidates.push({ feeder: f, section: s });
  }
  if (candidates.length === 0) return [];
  const cumulative: number[] = [];
  let acc = 0;
  for (const c of candidates) {
    acc += g.placement.sections === 'end-weighted' ? c.section.depth : 1;
    cumulative.push(acc);
  }

  const kindCounts = largestRemainder(g.mix, deviceKinds, g.count);
  const protoCounts = largestRemainder(g.protocols, protocols, g.count);
  const protoList: DeviceProtocol[] = protocols.flatMap((pr) => Array<DeviceProtocol>(protoCounts[pr]).fill(pr));
  const shuffle = stream(file.seed, ordinal, PROTOCOL);
  for (let i = protoList.length - 1; i > 0; i--) {
    const j = Math.floor(shuffle() * (i + 1));
    [protoList[i], protoList[j]] = [protoList[j]!, protoList[i]!];
  }

  const ratings = stream(file.seed, ordinal, RATINGS);
  const pvRand = stream(file.seed, ordinal, PV);
  const socRand = stream(file.seed, ordinal, SOC);
  const place = stream(file.seed, ordinal, PLACEMENT);
  const out: Draft[] = [];
  for (const kind of deviceKinds) {
    const count = kindCounts[kind];
    const width = Math.max(4, String(count).length);
    const rating = g.ratings[kind];
    for (let k = 1; k <= count; k++) {
      const id = `${g.idPrefix}${kind}-${String(k).padStart(width, '0')}`;
      const maxW = drawRating(rating.minW, rating.maxW, 10, ratings);
      const wh = 'minWh' in rating ? drawRating(rating.minWh, rating.maxWh, 100, ratings) : (ratings(), 0);
      const dcAcRatio = round(draw(g.dcAcRatio, pvRand), 0.01);
      const tiltDeg = tidy(round(draw(g.tiltDeg, pvRand), 0.1));
      const azimuthDeg = tidy(round(draw(g.azimuthDeg, pvRand), 0.1));
      const soc = draw(g.battery.initialSocPct, socRand);
      const u = place() * acc;
      const { feeder, section } = candidates[upperBound(cumulative, u)]!;
      const pv =
        kind === 'battery'
          ? null
          : {
              dcRatingW: tidy(maxW * dcAcRatio),
              tiltDeg,
              azimuthDeg,
              tempCoeffPctPerC: g.pv.tempCoeffPctPerC ?? pvDefaults.tempCoeffPctPerC,
              noctC: g.pv.noctC ?? pvDefaults.noctC,
              dcLosses: g.pv.dcLosses ?? pvDefaults.dcLosses,
            };
      const b = g.battery;
      const battery =
        kind === 'pv'
          ? null
          : {
              chargeEfficiency: b.chargeEfficiency,
              dischargeEfficiency: b.dischargeEfficiency,
              minReservePct: b.minReservePct,
              maxSocPct: b.maxSocPct,
              initialSocPct: tidy(Math.min(b.maxSocPct, Math.max(b.minReservePct, round(soc, 0.1)))),
            };
      const protocol = protoList[out.length]!;
      out.push({
        id,
        name: id,
        kind,
        feeder: feeder.id,
        section: section.id,
        site: file.site,
        nameplate: derivedNameplate(kind, maxW, wh, g.normalCategory, g.abnormalCategory, feeder.nominalV),
        pv,
        battery,
        protocol,
        endpoint: protocol === 'sunspec' ? { sunspecMode: g.sunspecMode, sunspecProfile: g.sunspecProfile } : {},
        settings: g.settings,
        at,
        generator: entry,
      });
    }
  }
  return out;
}

/** First index whose cumulative weight exceeds u. */
function upperBound(cumulative: readonly number[], u: number): number {
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! > u) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Assign protocol addresses, then check each device with the core's DER validation. */
function finishDevices(drafts: readonly Draft[], p: Problems): DeviceSpec[] {
  const pinnedOutstations = new Map<number, Draft>();
  const pinnedPorts = new Map<number, Draft>();
  for (const d of drafts) {
    const o = d.protocol === 'dnp3' ? d.endpoint.outstation : undefined;
    if (o !== undefined) {
      const prev = pinnedOutstations.get(o);
      if (prev) p.add([...d.at, 'endpoint', 'outstation'], `outstation address ${o} is already used by ${prev.id}`);
      else pinnedOutstations.set(o, d);
    }
    const port = d.endpoint.port;
    if (port !== undefined) {
      const prev = pinnedPorts.get(port);
      if (prev) p.add([...d.at, 'endpoint', 'port'], `port ${port} is already used by ${prev.id}`);
      else pinnedPorts.set(port, d);
    }
  }

  let gatewayUnits = 0;
  let nextOutstation = firstOutstation;
  const failures = new Map<number, { first: string; count: number; total: number }>();
  const out: DeviceSpec[] = [];
  for (const d of drafts) {
    let endpoint: EndpointSpec = {};
    const e = d.endpoint;
    if (d.protocol === 'sunspec') {
      const mode = e.sunspecMode ?? 'port';
      const unitId = mode === 'gateway' ? (gatewayUnits++ % maxUnitId) + 1 : (e.unitId ?? 1);
      endpoint = { sunspecMode: mode, sunspecProfile: e.sunspecProfile ?? 'both', unitId, ...(e.port !== undefined ? { port: e.port } : {}) };
    } else if (d.protocol === 'dnp3') {
      let outstation = e.outstation;
      if (outstation === undefined) {
        while (pinnedOutstations.has(nextOutstation)) nextOutstation++;
        outstation = nextOutstation++;
      }
      endpoint = { outstation, ...(e.port !== undefined ? { port: e.port } : {}) };
    }

    let nameplate: Nameplate;
    try {
      nameplate = parseDer({ mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: { protocol: 'in-process', device: d.id } }).nameplate;
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      if (d.generator >= 0) {
        const f = failures.get(d.generator);
        if (f) f.count++;
        else {
          failures.set(d.generator, { first: d.id, count: 1, total: 0 });
          for (const i of err.issues) p.add(d.at, `generated device ${d.id}: ${i.path ? `${i.path}: ` : ''}${i.message}`);
        }
      } else {
        for (const i of err.issues) p.add(coreIssuePath(d.at, i.path), i.message);
      }
      continue;
    }
    out.push({
      id: d.id,
      name: d.name,
      kind: d.kind,
      feeder: d.feeder,
      section: d.section,
      site: d.site,
      nameplate,
      pv: d.pv,
      battery: d.battery,
      protocol: d.protocol,
      endpoint,
      settings: d.settings,
    });
  }
  for (const [entry, f] of failures) {
    if (f.count > 1) p.add(['devices', entry, 'generate'], `${f.count} generated devices fail the DER checks (first: ${f.first})`);
  }
  return out;
}

/** Where a core DER issue (`nameplate.maxW`, `mRID`) sits in a listed device. */
function coreIssuePath(at: Path, corePath: string): Path {
  if (!corePath) return at;
  const parts = corePath.split('.');
  if (parts[0] === 'mRID') return [...at, 'id'];
  return [...at, ...parts.map((s) => (/^\d+$/.test(s) ? Number(s) : s))];
}

// ---------------------------------------------------------------------------------------------
// faults

function buildFaults(file: FleetFile, deviceIds: readonly string[], p: Problems): FaultSpec[] {
  const ids = new Set(deviceIds);
  return file.faults.map((f, i) => {
    let list: string[];
    if (f.devices) {
      list = f.devices;
      f.devices.forEach((id, j) => {
        if (!ids.has(id)) p.add(['faults', i, 'devices', j], `unknown device ${JSON.stringify(id)}`);
      });
    } else {
      const m = f.deviceMatch ?? '';
      const prefix = m.slice(0, -1);
      list = m.endsWith('*') ? [...ids].filter((id) => id.startsWith(prefix)) : ids.has(m) ? [m] : [];
      if (list.length === 0) p.add(['faults', i, 'deviceMatch'], `matches no device`);
    }
    return { devices: list, kind: f.kind, atS: f.atS, durationS: f.durationS, magnitude: f.magnitude ?? faultMagnitudeDefaults[f.kind] };
  });
}
