/**
 * Run-time loading of official SunSpec JSON model definitions (`model_<id>.json`) from a folder,
 * so a lab can add models (`--models DIR`) without a release.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DermsError, ValidationError } from '../../core/errors.js';
import { convertOfficialModel } from './convert.js';
import type { ModelDef } from './defs.js';

const MODEL_FILE = /^model_(\d+)\.json$/;

/** Parse and convert one official model file. Errors name the file and the JSON path. */
export async function loadModelFile(file: string): Promise<ModelDef> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DermsError('NOT_FOUND', `cannot read SunSpec model file ${file}: ${(e as Error).message}`);
  }
  return parseModelFile(text, file);
}

/** Convert the text of one official model file; `file` names it in errors (and its id is checked against the name). */
export function parseModelFile(text: string, file: string): ModelDef {
  const what = `SunSpec model file ${file}`;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ValidationError(what, [{ path: '', message: `not valid JSON (${(e as Error).message})` }]);
  }
  const def = convertOfficialModel(json, file);
  const m = MODEL_FILE.exec(file.split(/[\\/]/).pop() ?? '');
  if (m && Number(m[1]) !== def.id) {
    throw new ValidationError(what, [{ path: 'id', message: `id ${def.id} does not match the file name` }]);
  }
  return def;
}

/** Every `model_<id>.json` in `dir` (other files are ignored), sorted by id. */
export async function loadModelDir(dir: string): Promise<ModelDef[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (e) {
    throw new DermsError('NOT_FOUND', `cannot read SunSpec model folder ${dir}: ${(e as Error).message}`);
  }
  const files = names.filter((n) => MODEL_FILE.test(n)).sort((a, b) => fileId(a) - fileId(b));
  const texts = await Promise.all(files.map(async (f) => ({ file: join(dir, f), text: await readFile(join(dir, f), 'utf8') })));
  return texts.map(({ file, text }) => parseModelFile(text, file));
}

function fileId(name: string): number {
  return Number(MODEL_FILE.exec(name)?.[1] ?? 0);
}
