import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ValidationError, isDermsError } from '../../../src/core/errors.js';
import { BUILTIN_MODELS, ModelRegistry, convertOfficialModel, loadModelDir, layoutFor } from '../../../src/protocols/sunspec/index.js';

const dirs: string[] = [];
function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'sunspec-models-'));
  dirs.push(dir);
  for (const [name, body] of Object.entries(files)) writeFileSync(join(dir, name), typeof body === 'string' ? body : JSON.stringify(body));
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const model = (id: number, extra: object[] = [], groupExtra: object = {}): unknown => ({
  id,
  group: {
    name: `m${id}`,
    type: 'group',
    label: 'prose that must not survive',
    points: [
      { name: 'ID', type: 'uint16', size: 1, value: id, mandatory: 'M', static: 'S', desc: 'x' },
      { name: 'L', type: 'uint16', size: 1, mandatory: 'M', static: 'S' },
      ...extra,
    ],
    ...groupExtra,
  },
});

async function loadError(files: Record<string, unknown>): Promise<ValidationError> {
  const dir = folder(files);
  try {
    await loadModelDir(dir);
  } catch (e) {
    if (e instanceof ValidationError) return e;
    throw e;
  }
  throw new Error('expected a ValidationError');
}

describe('loadModelDir', () => {
  it('loads model_*.json files, ignores others, converts to our format (facts only)', async () => {
    const dir = folder({
      'model_64901.json': model(64901, [{ name: 'W', type: 'int16', size: 1, sf: 'W_SF', units: 'W', access: 'RW', label: 'Watts' }, { name: 'W_SF', type: 'sunssf', size: 1 }]),
      'model_64900.json': model(64900),
      'schema.json': { not: 'a model' },
      'README.md': '# hi',
    });
    const defs = await loadModelDir(dir);
    expect(defs.map((d) => d.id)).toEqual([64900, 64901]);
    expect(defs[1]).toEqual({
      id: 64901,
      name: 'm64901',
      group: {
        name: 'm64901',
        type: 'group',
        count: 1,
        groups: [],
        points: [
          { name: 'ID', type: 'uint16', size: 1, access: 'R', mandatory: true, static: true, value: 64901 },
          { name: 'L', type: 'uint16', size: 1, access: 'R', mandatory: true, static: true },
          { name: 'W', type: 'int16', size: 1, units: 'W', sf: 'W_SF', access: 'RW', mandatory: false, static: false },
          { name: 'W_SF', type: 'sunssf', size: 1, access: 'R', mandatory: false, static: false },
        ],
      },
    });
    expect(layoutFor(defs[1]!).length).toBe(2);
  });

  it('bad JSON: names the file', async () => {
    const e = await loadError({ 'model_64900.json': '{ "id": 64900, ' });
    expect(e.code).toBe('INVALID_INPUT');
    expect(e.message).toMatch(/model_64900\.json: not valid JSON/);
  });

  it('missing fields: names the file and the JSON path', async () => {
    const e = await loadError({ 'model_64900.json': { id: 64900, group: { name: 'x', type: 'group', points: [{ name: 'ID', type: 'uint16' }] } } });
    expect(e.message).toContain('model_64900.json');
    expect(e.issues.map((i) => i.path)).toContain('group.points[0].size');
    const noGroup = await loadError({ 'model_64900.json': { id: 64900 } });
    expect(noGroup.issues[0]!.path).toBe('group');
  });

  it('unknown type: names the file, the path and the type', async () => {
    const e = await loadError({ 'model_64900.json': model(64900, [{ name: 'X', type: 'int8', size: 1 }]) });
    expect(e.issues[0]).toEqual({ path: 'group.points[2].type', message: 'unknown point type "int8"' });
    expect(e.message).toMatch(/model_64900\.json: group\.points\[2\]\.type: unknown point type "int8"/);
  });

  it('semantic problems: size vs type, dangling sf and count, missing ID/L, id vs file name', async () => {
    const size = await loadError({ 'model_64900.json': model(64900, [{ name: 'X', type: 'int32', size: 1 }]) });
    expect(size.issues[0]).toMatchObject({ path: 'group.points[2].size' });
    const sf = await loadError({ 'model_64900.json': model(64900, [{ name: 'X', type: 'int16', size: 1, sf: 'X_SF' }]) });
    expect(sf.issues[0]).toMatchObject({ path: 'group.points[2].sf' });
    const count = await loadError({
      'model_64900.json': model(64900, [], { groups: [{ name: 'G', type: 'group', count: 'NG', points: [{ name: 'A', type: 'uint16', size: 1 }] }] }),
    });
    expect(count.issues[0]).toMatchObject({ path: 'group.groups[0].count' });
    const noId = await loadError({ 'model_64900.json': { id: 64900, group: { name: 'x', type: 'group', points: [{ name: 'L', type: 'uint16', size: 1 }] } } });
    expect(noId.issues[0]).toMatchObject({ path: 'group.points[0]' });
    const wrongName = await loadError({ 'model_64901.json': model(64900) });
    expect(wrongName.issues[0]).toMatchObject({ path: 'id' });
    const dup = await loadError({ 'model_64900.json': model(64900, [{ name: 'L', type: 'uint16', size: 1 }]) });
    expect(dup.issues[0]!.message).toMatch(/used twice/);
  });

  it('a missing folder is a NOT_FOUND error', async () => {
    await expect(loadModelDir('/nonexistent/sunspec-models')).rejects.toSatisfy((e) => isDermsError(e) && e.code === 'NOT_FOUND');
  });

  it('convertOfficialModel reports every issue at once', () => {
    try {
      convertOfficialModel({ id: 0, group: { name: 'x', type: 'nope' } }, 'inline');
      expect.unreachable();
    } catch (e) {
      expect((e as ValidationError).issues.map((i) => i.path).sort()).toEqual(['group.type', 'id']);
    }
  });
});

describe('ModelRegistry', () => {
  it('holds the built-ins; loaded models override them by id', async () => {
    const dir = folder({ 'model_713.json': model(713, [{ name: 'X', type: 'uint16', size: 1 }]), 'model_64900.json': model(64900) });
    const r = await ModelRegistry.create(dir);
    expect(r.get(701)).toBe(BUILTIN_MODELS.find((d) => d.id === 701));
    expect(r.get(713)!.group.points.map((p) => p.name)).toEqual(['ID', 'L', 'X']);
    expect(r.get(64900)).toBeDefined();
    expect(r.get(9)).toBeUndefined();
    expect(() => r.require(9)).toThrow(/no definition of SunSpec model 9/);
    expect(new ModelRegistry().ids().length).toBe(22);
    expect((await ModelRegistry.create()).get(713)!.group.points.length).toBe(9);
  });
});
