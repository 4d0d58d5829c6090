/**
 * Whole-model and single-point encode/decode, for both sides: the DERMS decodes blocks it reads and
 * encodes the points it writes; the device side encodes its register image and decodes the points
 * a write touched.
 */
import { readRaw, writeNotImplemented, writeRaw, type Raw } from './codec.js';
import type { ModelDef, PointDef } from './defs.js';
import { SunSpecError } from './errors.js';
import { layoutFor, layoutFromBlock, slotOf, type ModelLayout, type PointSlot } from './layout.js';
import { chunkWrites, MAX_WRITE } from './chunk.js';
import { decodeValue, encodeValue, isScaled, type PointInput, type Value } from './value.js';

export interface DecodedPoint {
  readonly path: string;
  readonly def: PointDef;
  /** Registers from the model's ID register. */
  readonly offset: number;
  /** The register content before scaling (sentinels included). */
  readonly raw: Raw;
  /** Scaled number, text, bigint (64-bit beyond 2^53), or null when not implemented. */
  readonly value: Value;
  readonly units: string | undefined;
  /** The scale factor applied; null when the point needs one that is not usable. */
  readonly sf?: number | null;
  /** enum: the name of the value. */
  readonly symbol?: string;
  /** bitfield: the names of the set bits. */
  readonly symbols?: readonly string[];
}

export interface DecodedModel {
  readonly id: number;
  /** L */
  readonly length: number;
  readonly layout: ModelLayout;
  /** Every point in register order. */
  readonly points: readonly DecodedPoint[];
  /** value by path. */
  readonly values: Readonly<Record<string, Value>>;
  get(path: string): DecodedPoint | undefined;
}

/** Values by point path for encoding; undefined entries are skipped like missing ones. */
export type PointValuesInput = Readonly<Record<string, PointInput | undefined>>;

function sfFromBlock(slot: PointSlot, regs: ArrayLike<number>): number | null | undefined {
  if (!isScaled(slot.def)) return undefined;
  const sf = slot.sf;
  if (typeof sf !== 'object') return sf;
  if (sf.offset >= regs.length) return null;
  const raw = readRaw(sf.def, regs, sf.offset) as number;
  return raw === -0x8000 ? null : raw;
}

function decodeSlot(slot: PointSlot, regs: ArrayLike<number>): DecodedPoint {
  const raw = readRaw(slot.def, regs, slot.offset);
  const sf = sfFromBlock(slot, regs);
  const d = decodeValue(slot.def, raw, sf);
  const out: { -readonly [K in keyof DecodedPoint]: DecodedPoint[K] } = { path: slot.path, def: slot.def, offset: slot.offset, raw, value: d.value, units: slot.def.units };
  if (sf !== undefined) out.sf = sf;
  if (d.symbol !== undefined) out.symbol = d.symbol;
  if (d.symbols !== undefined) out.symbols = d.symbols;
  return out;
}

/**
 * Decode a model block read from a device: `regs` starts at the ID register and holds at least
 * L + 2 registers (more are ignored). Repeating groups are resolved from the block (layoutFromBlock).
 */
export function decodeModel(def: ModelDef, regs: ArrayLike<number>): DecodedModel {
  const layout = layoutFromBlock(def, regs);
  const points = layout.points.map((s) => decodeSlot(s, regs));
  const values: Record<string, Value> = {};
  const byPath = new Map<string, DecodedPoint>();
  for (const p of points) {
    values[p.path] = p.value;
    byPath.set(p.path, p);
  }
  return { id: def.id, length: layout.length, layout, points, values, get: (path) => byPath.get(path) };
}

/** One point of a block (`block` starts at the model's ID register; its scale factor is read from it too). */
export function decodePoint(layout: ModelLayout, path: string, block: ArrayLike<number>): DecodedPoint {
  const slot = slotOf(layout, path);
  if (slot.offset + slot.def.size > block.length) throw new SunSpecError('TRUNCATED', `${path}: at +${slot.offset} needs ${slot.offset + slot.def.size} registers of model ${layout.def.id}, got ${block.length}`);
  return decodeSlot(slot, block);
}

/** Counts for encodeModel: explicit ones, then count points' values, then (count 0) the highest index used. */
function countsFor(def: ModelDef, values: PointValuesInput, counts: Readonly<Record<string, number>>): Record<string, number> {
  const out: Record<string, number> = { ...counts };
  const visit = (g: ModelDef['group'], prefix: string, plain: boolean): void => {
    for (const c of g.groups) {
      const path = prefix ? `${prefix}.${c.name}` : c.name;
      if (typeof c.count === 'string' && out[c.count] === undefined && out[c.name] === undefined) {
        const v = values[c.count];
        if (typeof v === 'number') out[c.count] = v;
      } else if (c.count === 0 && plain && out[c.name] === undefined && out[path] === undefined) {
        const re = new RegExp(`^${path.replace(/[.[\]]/g, '\\$&')}\\[(\\d+)\\]\\.`);
        let n = 0;
        for (const k of Object.keys(values)) {
          const m = re.exec(k);
          if (m && values[k] !== undefined) n = Math.max(n, Number(m[1]));
        }
        out[c.name] = n;
      }
      visit(c, path, plain && c.count === 1);
    }
  };
  visit(def.group, '', true);
  return out;
}

/**
 * Build a model's register image from point values (engineering units; symbols allowed; null or
 * missing = the type's not-implemented value). ID and L are filled in, and so are count points
 * (NCrv, NPt) from the counts. Counts: `counts` (as for layoutFor), else the count points' values,
 * else for a legacy count-0 group the highest index in the paths. Scaled points need their scale
 * factor in `values` (or a constant sf). Unknown paths, wrong kinds and out-of-range values are errors.
 */
export function encodeModel(def: ModelDef, values: PointValuesInput, counts: Readonly<Record<string, number>> = {}): Uint16Array {
  const layout = layoutFor(def, countsFor(def, values, counts));
  return encodeLayout(layout, values);
}

/** encodeModel for a layout already at hand (no count resolution). */
export function encodeLayout(layout: ModelLayout, values: PointValuesInput): Uint16Array {
  const out = new Uint16Array(layout.size);
  for (const path of Object.keys(values)) if (values[path] !== undefined) slotOf(layout, path);
  const fixed = new Map<string, number>([['ID', layout.def.id], ['L', layout.length]]);
  for (const [k, n] of Object.entries(layout.counts)) if (layout.byPath.has(k)) fixed.set(k, n);
  for (const slot of encodeOrder(layout)) {
    const given = values[slot.path];
    const must = fixed.get(slot.path);
    if (must !== undefined) {
      if (given !== undefined && given !== null && given !== must) {
        throw new SunSpecError(slot.path === 'ID' || slot.path === 'L' ? 'MODEL_LENGTH' : 'COUNT', `model ${layout.def.id}: ${slot.path} = ${String(given)} contradicts the layout (${must})`);
      }
      writeRaw(slot.def, must, out, slot.offset, `${layout.def.id}.${slot.path}`);
      continue;
    }
    if (given === undefined || given === null) {
      writeNotImplemented(slot.def, out, slot.offset);
      continue;
    }
    writeSlot(layout, slot, given, sfFromValues(layout, slot, values), out, slot.offset);
  }
  return out;
}

const ORDER = new WeakMap<ModelLayout, readonly PointSlot[]>();

/** Scale factors first, so the points using them can be scaled. */
function encodeOrder(layout: ModelLayout): readonly PointSlot[] {
  let order = ORDER.get(layout);
  if (!order) {
    order = [...layout.points.filter((s) => s.def.type === 'sunssf'), ...layout.points.filter((s) => s.def.type !== 'sunssf')];
    ORDER.set(layout, order);
  }
  return order;
}

function sfFromValues(layout: ModelLayout, slot: PointSlot, values: PointValuesInput): number | undefined {
  if (!isScaled(slot.def)) return undefined;
  const sf = slot.sf;
  if (typeof sf !== 'object') return sf;
  const v = values[sf.path];
  if (typeof v !== 'number') throw new SunSpecError('BAD_VALUE', `${layout.def.id}.${slot.path} needs its scale factor ${sf.path}, which is not given`);
  return v;
}

function writeSlot(layout: ModelLayout, slot: PointSlot, value: Exclude<PointInput, null>, sf: number | undefined, out: Uint16Array, at: number): void {
  const what = `${layout.def.id}.${slot.path}`;
  writeRaw(slot.def, encodeValue(slot.def, value, sf, what), out, at, what);
}

/**
 * The registers of one point for a single write. Its scale factor comes from `opts.sf`, else from
 * `opts.block` (the model block as last read). null writes the not-implemented value.
 */
export function encodePoint(layout: ModelLayout, path: string, value: PointInput, opts: { readonly sf?: number; readonly block?: ArrayLike<number> } = {}): Uint16Array {
  const slot = slotOf(layout, path);
  const out = new Uint16Array(slot.def.size);
  if (value === null) {
    writeNotImplemented(slot.def, out, 0);
    return out;
  }
  let sf = opts.sf;
  if (sf === undefined && isScaled(slot.def)) {
    sf = opts.block ? (sfFromBlock(slot, opts.block) ?? undefined) : typeof slot.sf === 'number' ? slot.sf : undefined;
    if (sf === undefined) throw new SunSpecError('BAD_VALUE', `${layout.def.id}.${path} needs its scale factor: give opts.sf or the model block`);
  }
  writeSlot(layout, slot, value, sf, out, 0);
  return out;
}

/** Points a register range (offsets from the ID register) touches: whole ones, and ones cut by its ends. */
export function pointsInRange(layout: ModelLayout, offset: number, count: number): { points: PointSlot[]; partial: PointSlot[] } {
  const end = offset + count;
  const points: PointSlot[] = [];
  const partial: PointSlot[] = [];
  for (const s of layout.points) {
    const sEnd = s.offset + s.def.size;
    if (sEnd <= offset || s.offset >= end) continue;
    (s.offset >= offset && sEnd <= end ? points : partial).push(s);
  }
  return { points, partial };
}

/**
 * The device side of a write (FC 0x10 / 0x06) into a model: `offset` (from the ID register) and
 * `regs` as received, applied to a copy of the current `block`. Returns the new block and the
 * points written, decoded with the scale factors of the new block. A write outside the model,
 * cutting a point in half, or touching a read-only point is rejected (BAD_VALUE), so the device can
 * answer with a Modbus exception and keep its registers.
 */
export function decodeWrite(layout: ModelLayout, block: ArrayLike<number>, offset: number, regs: ArrayLike<number>): { block: Uint16Array; points: DecodedPoint[] } {
  const id = layout.def.id;
  if (offset < 0 || regs.length === 0 || offset + regs.length > layout.size) {
    throw new SunSpecError('BAD_VALUE', `write of ${regs.length} register(s) at +${offset} is outside model ${id} (${layout.size} registers)`);
  }
  const { points, partial } = pointsInRange(layout, offset, regs.length);
  if (partial.length > 0) throw new SunSpecError('BAD_VALUE', `write at +${offset} (${regs.length}) cuts ${partial.map((p) => `${id}.${p.path}`).join(', ')} in part`);
  const ro = points.filter((p) => p.def.access !== 'RW');
  if (ro.length > 0) throw new SunSpecError('BAD_VALUE', `write at +${offset} (${regs.length}) touches read-only ${ro.map((p) => `${id}.${p.path}`).join(', ')}`);
  const next = Uint16Array.from(block);
  for (let i = 0; i < regs.length; i++) next[offset + i] = regs[i]!;
  return { block: next, points: points.map((p) => decodeSlot(p, next)) };
}

export interface PlannedWrite {
  /** Registers from the model's ID register (add the model's address for the Modbus address). */
  readonly offset: number;
  readonly registers: Uint16Array;
  readonly paths: readonly string[];
}

export interface PlanOptions {
  /** The model block as last read (starts at the ID register): scale factors, and sync-group points not written. */
  readonly block?: ArrayLike<number>;
  /** Scale factor values by path (e.g. `{ WSet_SF: 1 }`), used before the block's. */
  readonly sfs?: Readonly<Record<string, number>>;
  /** Most registers per request; default 123. */
  readonly max?: number;
}

/**
 * The write requests for a set of point values (engineering units; symbols allowed; null writes
 * the not-implemented value): contiguous points merge into one request, requests hold at most
 * `max` registers and never split a point or a sync group (whose points SunSpec writes together: a
 * sync-group point not in `values` keeps its value from `block`, else it is an error). Read-only
 * points cannot be written. Offsets are from the model's ID register.
 */
export function planWrites(layout: ModelLayout, values: PointValuesInput, opts: PlanOptions = {}): PlannedWrite[] {
  const id = layout.def.id;
  const { block, sfs = {}, max = MAX_WRITE } = opts;
  const chosen = new Map<string, PointSlot>();
  for (const [path, v] of Object.entries(values)) {
    if (v === undefined) continue;
    const slot = slotOf(layout, path);
    if (slot.def.access !== 'RW') throw new SunSpecError('BAD_VALUE', `${id}.${path} is read-only`);
    chosen.set(path, slot);
    if (slot.group.def.type === 'sync') for (const s of slot.group.points.values()) chosen.set(s.path, s);
  }
  const slots = [...chosen.values()].sort((a, b) => a.offset - b.offset);
  const regs = new Map<PointSlot, Uint16Array>();
  for (const s of slots) {
    const v = values[s.path];
    const out = new Uint16Array(s.def.size);
    if (v === undefined) {
      if (!block || block.length < s.offset + s.def.size) throw new SunSpecError('BAD_VALUE', `${id}.${s.path} belongs to sync group ${s.group.path} and must be written with it: give its value or the model block`);
      for (let i = 0; i < s.def.size; i++) out[i] = block[s.offset + i]!;
    } else if (v === null) {
      writeNotImplemented(s.def, out, 0);
    } else {
      let sf: number | undefined;
      if (isScaled(s.def)) {
        const ref = s.sf;
        if (typeof ref === 'object') {
          sf = sfs[ref.path] ?? (block ? (sfFromBlock(s, block) ?? undefined) : undefined);
          if (sf === undefined) throw new SunSpecError('BAD_VALUE', `${id}.${s.path} needs its scale factor ${ref.path}: give opts.sfs or the model block`);
        } else sf = ref;
      }
      writeSlot(layout, s, v, sf, out, 0);
    }
    regs.set(s, out);
  }
  const runs: { offset: number; slots: PointSlot[] }[] = [];
  for (const s of slots) {
    const last = runs[runs.length - 1];
    const lastSlot = last?.slots[last.slots.length - 1];
    if (last && lastSlot && lastSlot.offset + lastSlot.def.size === s.offset) last.slots.push(s);
    else runs.push({ offset: s.offset, slots: [s] });
  }
  const out: PlannedWrite[] = [];
  for (const run of runs) {
    const size = run.slots.reduce((n, s) => n + s.def.size, 0);
    const image = new Uint16Array(size);
    const starts = new Map<number, PointSlot>();
    for (const s of run.slots) {
      image.set(regs.get(s)!, s.offset - run.offset);
      starts.set(s.offset, s);
    }
    const canSplitAt = (off: number): boolean => {
      const s = starts.get(off);
      return s !== undefined && (s.group.def.type !== 'sync' || s.offset === s.group.offset);
    };
    for (const w of chunkWrites(run.offset, image, max, canSplitAt)) {
      const paths = run.slots.filter((s) => s.offset >= w.address && s.offset < w.address + w.values.length).map((s) => s.path);
      out.push({ offset: w.address, registers: w.values, paths });
    }
  }
  return out;
}
