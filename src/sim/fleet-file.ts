/**
 * Fleet files: YAML descriptions of a simulated fleet (docs/fleet-files.md), validated with every
 * problem placed on its line and column, and expanded (generators included) into a `FleetSpec`.
 */
import { readFile } from 'node:fs/promises';
import type { FleetSpec } from './fleet-spec.js';
import { buildFleet } from './fleet-file/expand.js';
import { FleetFileError, FleetSource } from './fleet-file/source.js';

export { FleetFileError, formatIssue, maxReportedIssues, type FleetFileIssue } from './fleet-file/source.js';
export { largestRemainder } from './fleet-file/expand.js';

/**
 * Parse and expand the fleet file `text`. `source` names it in messages (usually its path).
 * Throws a FleetFileError (code INVALID_INPUT) listing each problem as `source:line:col: path: message`.
 */
export function parseFleetYaml(text: string, source: string): FleetSpec {
  const { src, value } = FleetSource.parse(text, source);
  return buildFleet(src, value);
}

/** Read, parse and expand the fleet file at `path`. An unreadable file is a FleetFileError too. */
export async function loadFleetFile(path: string): Promise<FleetSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory, not a fleet file' : code === 'EACCES' ? 'permission denied' : `cannot be read (${e instanceof Error ? e.message : String(e)})`;
    throw new FleetFileError(path, [{ path: '', line: 0, column: 0, message: why }]);
  }
  return parseFleetYaml(text, path);
}
