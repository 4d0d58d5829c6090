/**
 * Run-time loading of a user's point map, so a lab can describe a real outstation whose indexes or
 * scalings differ from ours without a release. YAML or JSON (YAML reads both).
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DermsError, ValidationError } from '../../../core/errors.js';
import { defaultDerPointMap, mergeDerPointMap, type DerPointMap } from './point-map.js';

/** The built-in map, or `file`'s overrides merged over it. Errors name the file and the entry. */
export async function loadDerPointMap(file?: string): Promise<DerPointMap> {
  if (file === undefined) return defaultDerPointMap;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new DermsError('NOT_FOUND', `cannot read DNP3 point map ${file}: ${(e as Error).message}`);
  }
  return parseDerPointMapFile(text, file);
}

/** Merge the text of a point-map file over the built-in map; `file` names it in errors. */
export function parseDerPointMapFile(text: string, file: string): DerPointMap {
  const what = `DNP3 point map ${file}`;
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ValidationError(what, [{ path: '', message: `not valid YAML or JSON (${(e as Error).message.split('\n')[0]})` }]);
  }
  if (value === null || value === undefined) throw new ValidationError(what, [{ path: '', message: 'the file is empty' }]);
  return mergeDerPointMap(defaultDerPointMap, value, what);
}
