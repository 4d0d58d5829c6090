/**
 * Official SunSpec JSON model definition -> our ModelDef. Keeps the facts (names, types, sizes,
 * units, scale factors, access, mandatory, static, symbols, group structure, fixed values) and
 * drops all prose (labels, descriptions, details, comments, notes, standards). The one converter
 * used by both the run-time loader and the built-in generator script.
 */
import { z } from 'zod';
import { ValidationError, type ErrorIssue } from '../../core/errors.js';
import { POINT_TYPES, TYPE_SIZE, fixedGroupSize, type GroupDef, type ModelDef, type PointDef, type SymbolDef } from './defs.js';

interface OfficialPoint {
  name: string;
  type: (typeof POINT_TYPES)[number];
  size: number;
  value?: number | string | undefined;
  sf?: number | string | undefined;
  units?: string | undefined;
  access?: 'R' | 'RW' | undefined;
  mandatory?: 'M' | 'O' | undefined;
  static?: 'S' | 'D' | undefined;
  symbols?: { name: string; value: number }[] | undefined;
}
interface OfficialGroup {
  name: string;
  type: 'group' | 'sync';
  count?: number | string | undefined;
  points?: OfficialPoint[] | undefined;
  groups?: OfficialGroup[] | undefined;
}

/** Names become path segments, so they must not contain the path syntax. */
const name = z
  .string()
  .min(1, 'must not be empty')
  .regex(/^[^.[\]\s]+$/, 'must not contain ".", "[", "]" or white space');

const symbolSchema = z.object({ name: z.string().min(1, 'must not be empty'), value: z.number().int().min(0) });

const pointSchema = z.object({
  name,
  type: z.enum(POINT_TYPES, { error: (i) => `unknown point type ${JSON.stringify(i.input)}` }),
  size: z.number().int().min(1),
  value: z.union([z.number().int(), z.string()]).optional(),
  sf: z.union([z.number().int().min(-10).max(10), z.string().min(1)]).optional(),
  units: z.string().optional(),
  access: z.enum(['R', 'RW']).optional(),
  mandatory: z.enum(['M', 'O']).optional(),
  static: z.enum(['S', 'D']).optional(),
  symbols: z.array(symbolSchema).optional(),
});

const groupSchema: z.ZodType<OfficialGroup> = z.lazy(() =>
  z.object({
    name,
    type: z.enum(['group', 'sync']),
    count: z.union([z.number().int().min(0), name]).optional(),
    points: z.array(pointSchema).optional(),
    groups: z.array(groupSchema).optional(),
  }),
);

const modelSchema = z.object({ id: z.number().int().min(1).max(65534), group: groupSchema });

function zodPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : `${out ? '.' : ''}${String(k)}`;
  return out;
}

/**
 * Convert one parsed official model file. `source` names it in errors (e.g. the file path).
 * Throws ValidationError listing every problem with its JSON path (`group.points[3].type`).
 */
export function convertOfficialModel(json: unknown, source: string): ModelDef {
  const what = `SunSpec model definition ${source}`;
  const parsed = modelSchema.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError(
      what,
      parsed.error.issues.map((i) => ({ path: zodPath(i.path), message: i.message })),
    );
  }
  const issues: ErrorIssue[] = [];
  const group = convertGroup(parsed.data.group, 'group', [], issues);
  const def: ModelDef = { id: parsed.data.id, name: group.name, group };
  checkModel(def, issues);
  if (issues.length > 0) throw new ValidationError(what, issues);
  return def;
}

function convertGroup(g: OfficialGroup, at: string, outer: readonly GroupDef[], issues: ErrorIssue[]): GroupDef {
  const points = (g.points ?? []).map((p, i) => convertPoint(p, `${at}.points[${i}]`, issues));
  // Sub-groups see this group's points (for counts and scale factors), so build a provisional self.
  const self: GroupDef = { name: g.name, type: g.type, count: g.count ?? 1, points, groups: [] };
  const groups = (g.groups ?? []).map((c, i) => convertGroup(c, `${at}.groups[${i}]`, [...outer, self], issues));
  const out: GroupDef = { ...self, groups };
  checkGroup(out, at, outer, issues);
  return out;
}

function convertPoint(p: OfficialPoint, at: string, issues: ErrorIssue[]): PointDef {
  if (p.type !== 'string' && p.size !== TYPE_SIZE[p.type]) {
    issues.push({ path: `${at}.size`, message: `${p.type} takes ${TYPE_SIZE[p.type]} register(s), not ${p.size}` });
  }
  const out: { -readonly [K in keyof PointDef]: PointDef[K] } = {
    name: p.name,
    type: p.type,
    size: p.size,
    access: p.access ?? 'R',
    mandatory: p.mandatory === 'M',
    static: p.static === 'S',
  };
  if (p.units !== undefined && p.units !== '') out.units = p.units;
  if (p.sf !== undefined) out.sf = p.sf;
  if (p.symbols !== undefined && p.symbols.length > 0) out.symbols = p.symbols.map((s): SymbolDef => ({ name: s.name, value: s.value }));
  if (p.value !== undefined) out.value = p.value;
  return out;
}

function checkGroup(g: GroupDef, at: string, outer: readonly GroupDef[], issues: ErrorIssue[]): void {
  const seen = new Set<string>();
  for (const [i, n] of [...g.points.map((p) => p.name), ...g.groups.map((c) => c.name)].entries()) {
    if (seen.has(n)) {
      const path = i < g.points.length ? `${at}.points[${i}].name` : `${at}.groups[${i - g.points.length}].name`;
      issues.push({ path, message: `${JSON.stringify(n)} is used twice in group ${g.name}` });
    }
    seen.add(n);
  }
  const scope = [...outer, g];
  g.points.forEach((p, i) => {
    if (typeof p.sf !== 'string') return;
    const target = findPoint(scope, p.sf);
    if (!target) issues.push({ path: `${at}.points[${i}].sf`, message: `scale factor ${JSON.stringify(p.sf)} is not a point of this group or an enclosing one` });
    else if (target.type !== 'sunssf') issues.push({ path: `${at}.points[${i}].sf`, message: `scale factor ${JSON.stringify(p.sf)} is a ${target.type}, not a sunssf` });
  });
  if (typeof g.count === 'string') {
    const target = findPoint(outer, g.count);
    if (!target) issues.push({ path: `${at}.count`, message: `count point ${JSON.stringify(g.count)} is not a point of an enclosing group` });
    else if (target.size !== 1 || !['uint16', 'count', 'int16'].includes(target.type)) {
      issues.push({ path: `${at}.count`, message: `count point ${JSON.stringify(g.count)} must be a one-register integer, not ${target.type}` });
    }
  }
  if (g.count === 0 && fixedGroupSize(g) === null) {
    issues.push({ path: `${at}.count`, message: 'a group whose count comes from the model length must have a fixed size' });
  }
}

function findPoint(scope: readonly GroupDef[], pointName: string): PointDef | undefined {
  for (let i = scope.length - 1; i >= 0; i--) {
    const p = scope[i]!.points.find((q) => q.name === pointName);
    if (p) return p;
  }
  return undefined;
}

function checkModel(def: ModelDef, issues: ErrorIssue[]): void {
  const g = def.group;
  if (g.count !== 1) issues.push({ path: 'group.count', message: 'the top-level group cannot repeat' });
  const [id, len] = g.points;
  if (!id || id.name !== 'ID' || id.type !== 'uint16') issues.push({ path: 'group.points[0]', message: 'the first point must be ID (uint16)' });
  else if (id.value !== undefined && id.value !== def.id) issues.push({ path: 'group.points[0].value', message: `ID value ${String(id.value)} differs from model id ${def.id}` });
  if (!len || len.name !== 'L' || len.type !== 'uint16') issues.push({ path: 'group.points[1]', message: 'the second point must be L (uint16)' });
  let lengthGroups = 0;
  const walk = (x: GroupDef): void => {
    if (x.count === 0) lengthGroups++;
    x.groups.forEach(walk);
  };
  walk(g);
  if (lengthGroups > 1) issues.push({ path: 'group', message: 'at most one group may take its count from the model length (count 0)' });
}
