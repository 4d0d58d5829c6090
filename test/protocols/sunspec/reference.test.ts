/**
 * The built-in definitions against the official SunSpec JSON (third-party, read at test time only)
 * and against our offset tables (spec/sunspec-offsets.txt), walked independently of our converter.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { BUILTIN_MODELS, layoutFor, loadModelDir, type ModelDef } from '../../../src/protocols/sunspec/index.js';

const shared = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../shared');
const refDir = process.env.SUNSPEC_REFERENCE_DIR ?? join(shared, 'reference/sunspec-models');
const offsetsFile = join(shared, 'spec/sunspec-offsets.txt');
const haveRef = existsSync(refDir);
const haveOffsets = existsSync(offsetsFile);

/** Counts giving one instance of every repeating group (what the offset tables show). */
function oneOfEach(def: ModelDef): Record<string, number> {
  const counts: Record<string, number> = {};
  const visit = (g: ModelDef['group']): void => {
    for (const c of g.groups) {
      if (typeof c.count === 'string') counts[c.count] = 1;
      else if (c.count === 0) counts[c.name] = 1;
      visit(c);
    }
  };
  visit(def.group);
  return counts;
}

interface RefPoint {
  name: string;
  type: string;
  size: number;
  sf?: string | number;
  units?: string;
  access?: string;
  mandatory?: string;
  static?: string;
  value?: number;
  symbols?: { name: string; value: number }[];
}
interface RefGroup {
  name: string;
  type: string;
  count?: number | string;
  points?: RefPoint[];
  groups?: RefGroup[];
}

/** Flatten an official group, one instance per repeating group, with offsets. */
function flatten(g: RefGroup, at = { off: 0 }, out: { off: number; p: RefPoint }[] = []): { off: number; p: RefPoint }[] {
  for (const p of g.points ?? []) {
    out.push({ off: at.off, p });
    at.off += p.size;
  }
  for (const c of g.groups ?? []) flatten(c, at, out);
  return out;
}

describe.skipIf(!haveRef)('built-in definitions vs the official SunSpec JSON', () => {
  const refs = new Map<number, { id: number; group: RefGroup }>();
  if (haveRef) for (const d of BUILTIN_MODELS) refs.set(d.id, JSON.parse(readFileSync(join(refDir, `model_${d.id}.json`), 'utf8')) as { id: number; group: RefGroup });

  it('ships the 22 models the project needs', () => {
    expect(BUILTIN_MODELS.map((d) => d.id)).toEqual([1, 101, 102, 103, 111, 112, 113, 120, 121, 122, 123, 124, 126, 132, 701, 702, 703, 704, 705, 706, 713, 715]);
  });

  it.each(BUILTIN_MODELS.map((d) => [d.id, d] as const))('model %i: every point at the official offset with the official facts', (_id, def) => {
    const ref = refs.get(def.id)!;
    const flat = flatten(ref.group);
    const layout = layoutFor(def, oneOfEach(def));
    expect(layout.points.map((s) => [s.offset, s.def.name, s.def.type, s.def.size])).toEqual(flat.map(({ off, p }) => [off, p.name, p.type, p.size]));
    layout.points.forEach((s, i) => {
      const p = flat[i]!.p;
      expect(s.def.sf).toEqual(p.sf);
      expect(s.def.units).toEqual(p.units === '' ? undefined : p.units);
      expect(s.def.access).toBe(p.access ?? 'R');
      expect(s.def.mandatory).toBe(p.mandatory === 'M');
      expect(s.def.static).toBe(p.static === 'S');
      expect(s.def.value).toEqual(p.value);
      expect(s.def.symbols ?? []).toEqual((p.symbols ?? []).map((x) => ({ name: x.name, value: x.value })));
    });
  });

  it.each(BUILTIN_MODELS.map((d) => [d.id, d] as const))('model %i: fixed length equals the official L', (_id, def) => {
    const ref = refs.get(def.id)!;
    const lPoint = ref.group.points!.find((p) => p.name === 'L')!;
    const repeating = (ref.group.groups ?? []).some((g) => (g.count ?? 1) !== 1);
    const layout = layoutFor(def, oneOfEach(def));
    if (lPoint.value !== undefined) expect(layout.length).toBe(lPoint.value);
    if (!repeating) expect(layout.length).toBe(flatten(ref.group).reduce((n, x) => n + x.p.size, 0) - 2);
  });

  it('has the lengths of the digest (spec/sunspec.md)', () => {
    const L = (id: number, counts: Record<string, number> = {}): number => layoutFor(BUILTIN_MODELS.find((d) => d.id === id)!, counts).length;
    expect([1, 101, 102, 103, 111, 112, 113, 120, 121, 122, 123, 124].map((id) => L(id))).toEqual([66, 50, 50, 50, 60, 60, 60, 26, 30, 44, 24, 24]);
    expect([701, 702, 703, 704, 713, 715].map((id) => L(id))).toEqual([153, 50, 17, 65, 7, 7]);
  });

  it('the generated files are what the converter makes of the reference now (facts only, no prose)', async () => {
    const loaded = new Map((await loadModelDir(refDir)).map((d) => [d.id, d]));
    for (const d of BUILTIN_MODELS) expect(d).toEqual(loaded.get(d.id));
    const text = JSON.stringify(BUILTIN_MODELS);
    for (const key of ['label', 'desc', 'detail', 'comments', 'notes', 'standards']) expect(text).not.toContain(`"${key}"`);
  });

  it('loads every official model file in the folder without error', async () => {
    const files = readdirSync(refDir).filter((f) => /^model_\d+\.json$/.test(f));
    const defs = await loadModelDir(refDir);
    expect(defs.length).toBe(files.length);
    expect(defs.length).toBeGreaterThan(100);
    for (const d of defs) expect(() => layoutFor(d, oneOfEach(d))).not.toThrow();
  });
});

describe.skipIf(!haveOffsets)('layouts vs spec/sunspec-offsets.txt', () => {
  /** model id -> [offset, name, type, size] in file order (first instance of repeating groups). */
  const tables = new Map<number, [number, string, string, number][]>();
  if (haveOffsets) {
    let rows: [number, string, string, number][] | undefined;
    for (const line of readFileSync(offsetsFile, 'utf8').split('\n')) {
      const head = /^=+ model_\d+\.json id (\d+)/.exec(line);
      if (head) tables.set(Number(head[1]), (rows = []));
      const row = /^\s+(\d+)\s+(\S+)\s+(\S+)\s+size=(\d+)/.exec(line);
      if (row && rows) rows.push([Number(row[1]), row[2]!, row[3]!, Number(row[4])]);
    }
  }

  it.each(BUILTIN_MODELS.map((d) => [d.id, d] as const))('model %i matches the table', (_id, def) => {
    expect(tables.get(def.id)?.length).toBeGreaterThan(0);
    const layout = layoutFor(def, oneOfEach(def));
    expect(layout.points.map((s) => [s.offset, s.def.name, s.def.type, s.def.size])).toEqual(tables.get(def.id));
  });
});
