/**
 * Where every point of a model sits: offsets (registers from the model's ID register) and paths,
 * with repeating groups resolved. Paths name points the way SunSpec tools show them: `W`,
 * `PFWInj.PF` (a plain sub-group), `Crv[1].Pt[2].V` (repeating groups, 1-based).
 *
 * A layout comes either from a model's register block (the client side: counts are read from the
 * block, a legacy count-0 group fills what the model length L leaves) or from explicit counts (the
 * device side building an image: `layoutFor(def, { NCrv: 3, NPt: 4 })`, `layoutFor(def126, { curve: 4 })`).
 */
import { fixedGroupSize, isRepeating, type GroupDef, type ModelDef, type PointDef } from './defs.js';
import { SunSpecError } from './errors.js';

export interface GroupInstance {
  readonly def: GroupDef;
  /** '' for the model's top-level group, else e.g. `PFWInj`, `Crv[2]`, `Crv[2].Pt[1]`. */
  readonly path: string;
  /** 1-based index among the group's repeats (1 for a plain group). */
  readonly index: number;
  /** Registers from the model's ID register. */
  readonly offset: number;
  /** Registers of this instance, sub-groups included. */
  readonly size: number;
  readonly parent: GroupInstance | null;
  /** This instance's own points by name. */
  readonly points: ReadonlyMap<string, PointSlot>;
}

export interface PointSlot {
  readonly path: string;
  readonly def: PointDef;
  /** Registers from the model's ID register. */
  readonly offset: number;
  readonly group: GroupInstance;
  /** The scale factor: the sunssf point it names (resolved in this instance, then outwards), or a constant. */
  readonly sf: PointSlot | number | undefined;
}

export interface ModelLayout {
  readonly def: ModelDef;
  /** The model length L: registers after the L register. */
  readonly length: number;
  /** Registers of the whole block, ID and L included (L + 2). */
  readonly size: number;
  /**
   * Repeat counts used, keyed by the count point's path (`NCrv`, `NPt`) or, for fixed and
   * length-derived (count 0) groups, by the group's path without index (`curve`).
   */
  readonly counts: Readonly<Record<string, number>>;
  /** Every point, in register order. */
  readonly points: readonly PointSlot[];
  /** Every group instance, the top-level group first, in register order. */
  readonly groups: readonly GroupInstance[];
  readonly byPath: ReadonlyMap<string, PointSlot>;
  /** The count registers this layout was derived from (offset, value), for cache validation. */
  readonly countReads: readonly { readonly offset: number; readonly value: number }[];
}

type Counter = (g: GroupDef, groupPath: string, parent: GroupInstance) => number;

interface Building {
  readonly points: PointSlot[];
  readonly groups: GroupInstance[];
  readonly counts: Record<string, number>;
  readonly countReads: { offset: number; value: number }[];
  readonly limit: number;
  readonly model: number;
}

function findInScope(inst: GroupInstance | null, name: string): PointSlot | undefined {
  for (let g = inst; g; g = g.parent) {
    const p = g.points.get(name);
    if (p) return p;
  }
  return undefined;
}

function join(parent: string, seg: string): string {
  return parent ? `${parent}.${seg}` : seg;
}

/** Lay out one instance of `g` at `offset`; returns its size. */
function layGroup(b: Building, g: GroupDef, path: string, index: number, offset: number, parent: GroupInstance | null, countOf: Counter): GroupInstance {
  const points = new Map<string, PointSlot>();
  const inst: { -readonly [K in keyof GroupInstance]: GroupInstance[K] } = { def: g, path, index, offset, size: 0, parent, points };
  b.groups.push(inst);
  let at = offset;
  const mine: { -readonly [K in keyof PointSlot]: PointSlot[K] }[] = [];
  for (const p of g.points) {
    const slot = { path: join(path, p.name), def: p, offset: at, group: inst, sf: undefined };
    points.set(p.name, slot);
    mine.push(slot);
    b.points.push(slot);
    at += p.size;
  }
  for (const slot of mine) {
    const sf = slot.def.sf;
    slot.sf = typeof sf === 'string' ? findInScope(inst, sf) : sf;
  }
  for (const c of g.groups) {
    const n = countOf(c, join(path, c.name), inst);
    const seg = (i: number): string => join(path, isRepeating(c) ? `${c.name}[${i}]` : c.name);
    for (let i = 1; i <= n; i++) {
      if (at > b.limit) throw new SunSpecError('MODEL_LENGTH', `model ${b.model}: repeating groups run past ${b.limit} registers (counts ${JSON.stringify(b.counts)})`);
      at += layGroup(b, c, seg(i), i, at, inst, countOf).size;
    }
  }
  inst.size = at - offset;
  return inst;
}

function build(def: ModelDef, countOf: Counter, limit: number, counts: Record<string, number> = {}): Omit<ModelLayout, 'length' | 'size'> & { total: number } {
  const b: Building = { points: [], groups: [], counts, countReads: [], limit, model: def.id };
  const top = layGroup(b, def.group, '', 1, 0, null, countOf);
  const byPath = new Map(b.points.map((p) => [p.path, p]));
  return { def, counts: b.counts, points: b.points, groups: b.groups, byPath, countReads: b.countReads, total: top.size };
}

function unindexed(path: string): string {
  return path.replace(/\[\d+\]/g, '');
}

/** The length-derived (count 0) group of a model, if any, and its fixed size. */
function lengthGroup(def: ModelDef): { g: GroupDef; size: number } | null {
  const find = (g: GroupDef): GroupDef | null => {
    for (const c of g.groups) {
      if (c.count === 0) return c;
      const f = find(c);
      if (f) return f;
    }
    return null;
  };
  const g = find(def.group);
  return g ? { g, size: fixedGroupSize(g) ?? 0 } : null;
}

function finish(x: ReturnType<typeof build>): ModelLayout {
  const { total, ...rest } = x;
  return { ...rest, length: total - 2, size: total };
}

const blockCache = new WeakMap<ModelDef, Map<number, ModelLayout[]>>();
const countsCache = new WeakMap<ModelDef, Map<string, ModelLayout>>();
const CACHE_PER_LENGTH = 8;

/**
 * The layout of a model block as read: `regs` starts at the ID register and holds at least L + 2
 * registers. Counts of 7xx groups come from their count points in the block; a legacy count-0
 * group repeats (L - fixed part) / group size times. A block whose L differs from what the
 * definition and counts give is a MODEL_LENGTH error, except a missing trailing pad (model 1 with
 * L = 65): then the pad points are left out. Layouts are cached per definition.
 */
export function layoutFromBlock(def: ModelDef, regs: ArrayLike<number>): ModelLayout {
  if (regs.length < 2) throw new SunSpecError('TRUNCATED', `model ${def.id}: ${regs.length} register(s), need at least ID and L`);
  if (regs[0] !== def.id) throw new SunSpecError('MODEL_ID', `block starts with model id ${regs[0]}, not ${def.id}`);
  const L = regs[1]!;
  if (regs.length < L + 2) throw new SunSpecError('TRUNCATED', `model ${def.id}: L = ${L} needs ${L + 2} registers, got ${regs.length}`);
  const byLength = blockCache.get(def) ?? new Map<number, ModelLayout[]>();
  blockCache.set(def, byLength);
  const cached = byLength.get(L) ?? [];
  const hit = cached.find((l) => l.countReads.every((c) => regs[c.offset] === c.value));
  if (hit) return hit;
  const layout = layoutFromBlockUncached(def, regs, L);
  cached.unshift(layout);
  if (cached.length > CACHE_PER_LENGTH) cached.pop();
  byLength.set(L, cached);
  return layout;
}

function layoutFromBlockUncached(def: ModelDef, regs: ArrayLike<number>, L: number): ModelLayout {
  const lg = lengthGroup(def);
  let repeats = 0;
  const counter = (counts: Record<string, number>, reads: { offset: number; value: number }[]): Counter => (g, path, parent) => {
    if (g.count === 0) {
      counts[unindexed(path)] = repeats;
      return repeats;
    }
    if (typeof g.count === 'number') {
      if (g.count !== 1) counts[unindexed(path)] = g.count;
      return g.count;
    }
    const slot = findInScope(parent, g.count);
    if (!slot) throw new SunSpecError('COUNT', `model ${def.id}: count point ${g.count} of group ${path} not found`);
    if (slot.offset >= L + 2) throw new SunSpecError('TRUNCATED', `model ${def.id}: count point ${slot.path} at +${slot.offset} lies beyond L = ${L}`);
    const v = regs[slot.offset]!;
    if (v === 0xffff) throw new SunSpecError('COUNT', `model ${def.id}: count point ${slot.path} is not implemented (0xFFFF)`);
    if (!reads.some((r) => r.offset === slot.offset)) reads.push({ offset: slot.offset, value: v });
    counts[slot.path] = v;
    return v;
  };
  const run = (): ReturnType<typeof build> => {
    const counts: Record<string, number> = {};
    const reads: { offset: number; value: number }[] = [];
    const x = build(def, counter(counts, reads), L + 2, counts);
    return { ...x, countReads: reads };
  };
  let x = run();
  if (lg) {
    const room = L + 2 - x.total;
    if (lg.size === 0 || room < 0 || room % lg.size !== 0) {
      throw new SunSpecError('MODEL_LENGTH', `model ${def.id}: L = ${L} is not ${x.total - 2} + n × ${lg.size} (group ${lg.g.name})`);
    }
    repeats = room / lg.size;
    if (repeats > 0) x = run();
  }
  if (x.total !== L + 2) x = trimPad(def, x, L);
  return finish(x);
}

/** Accept a block shorter than the definition only by trailing pad points (legacy model 1: L = 65). */
function trimPad(def: ModelDef, x: ReturnType<typeof build>, L: number): ReturnType<typeof build> {
  const end = L + 2;
  const cut = x.points.filter((p) => p.offset + p.def.size > end);
  if (end < x.total && cut.every((p) => p.def.type === 'pad' && p.offset >= end)) {
    const points = x.points.filter((p) => p.offset < end);
    (x.groups[0] as { size: number }).size = end;
    return { ...x, points, byPath: new Map(points.map((p) => [p.path, p])), total: end };
  }
  throw new SunSpecError('MODEL_LENGTH', `model ${def.id}: L = ${L}, but the definition${Object.keys(x.counts).length ? ` with counts ${JSON.stringify(x.counts)}` : ''} gives ${x.total - 2}`);
}

/**
 * The layout for explicit counts, without a block (the device side building an image). `counts`
 * is keyed by count point name (`NCrv`, `NPt`) or by group name (`curve` for legacy 126/132,
 * which also works for any repeating group). A repeating group without a count is a COUNT error.
 */
export function layoutFor(def: ModelDef, counts: Readonly<Record<string, number>> = {}): ModelLayout {
  const key = JSON.stringify(Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  const byKey = countsCache.get(def) ?? new Map<string, ModelLayout>();
  countsCache.set(def, byKey);
  const hit = byKey.get(key);
  if (hit) return hit;
  const used: Record<string, number> = {};
  const countOf: Counter = (g, path) => {
    if (g.count === 1) return 1;
    const named = typeof g.count === 'string' ? counts[g.count] : undefined;
    const n = named ?? counts[g.name] ?? counts[unindexed(path)] ?? (typeof g.count === 'number' && g.count > 0 ? g.count : undefined);
    if (n === undefined) {
      const what = typeof g.count === 'string' ? `${g.count} (or ${g.name})` : g.name;
      throw new SunSpecError('COUNT', `model ${def.id}: group ${unindexed(path)} repeats; give its count as ${what}`);
    }
    if (!Number.isInteger(n) || n < 0 || n > 0xfffe) throw new SunSpecError('COUNT', `model ${def.id}: count ${n} of group ${unindexed(path)} is not an integer in 0..65534`);
    used[typeof g.count === 'string' ? g.count : unindexed(path)] = n;
    return n;
  };
  const layout = finish(build(def, countOf, 0xffff, used));
  if (layout.length > 0xffff - 2) throw new SunSpecError('MODEL_LENGTH', `model ${def.id}: counts ${JSON.stringify(counts)} give L = ${layout.length}, more than a model can hold`);
  byKey.set(key, layout);
  return layout;
}

/** A point of the layout by path, or an UNKNOWN_POINT error naming the model. */
export function slotOf(layout: ModelLayout, path: string): PointSlot {
  const s = layout.byPath.get(path);
  if (!s) throw new SunSpecError('UNKNOWN_POINT', `model ${layout.def.id} has no point ${path}${Object.keys(layout.counts).length ? ` (counts ${JSON.stringify(layout.counts)})` : ''}`);
  return s;
}

/**
 * Check a model length L (as found in a model chain) against the definition, without the block:
 * exact for fixed models, "fixed part + n x group" for length-derived groups, and at least the
 * fixed part for models with counted groups. Returns the problem, or null when L can be right.
 */
export function lengthProblem(def: ModelDef, L: number): string | null {
  const zero = finish(build(def, (g) => (typeof g.count === 'number' && g.count > 0 ? g.count : 0), 0xffff));
  const lg = lengthGroup(def);
  const counted = zero.groups.some((g) => g.def.groups.some((c) => typeof c.count === 'string'));
  if (lg) {
    const room = L - zero.length;
    return room >= 0 && lg.size > 0 && room % lg.size === 0 ? null : `L = ${L} is not ${zero.length} + n × ${lg.size}`;
  }
  if (counted) return L >= zero.length ? null : `L = ${L} is less than the fixed part ${zero.length}`;
  if (L === zero.length) return null;
  const cut = zero.points.filter((p) => p.offset + p.def.size > L + 2);
  if (L < zero.length && cut.every((p) => p.def.type === 'pad' && p.offset >= L + 2)) return null;
  return `L = ${L}, the definition gives ${zero.length}`;
}
