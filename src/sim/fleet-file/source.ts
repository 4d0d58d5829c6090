/**
 * The YAML side of the fleet file: parse with positions kept, map a field path back to the line and
 * column of its node, and turn zod issues into one-line problems.
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { DermsError } from '../../core/errors.js';

export type PathSegment = string | number;
export type Path = readonly PathSegment[];

export interface FleetFileIssue {
  /** Field path as written in the file, e.g. `devices[3].nameplate.maxW`; empty for the whole file. */
  readonly path: string;
  /** 1-based line and column of the offending node (for a missing field, of its parent); 0 when the file could not be read. */
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** At most this many problems are listed; the message says how many more there were. */
export const maxReportedIssues = 20;

/** A fleet file that cannot be read, parsed or validated. `issues` lists every problem with its position. */
export class FleetFileError extends DermsError {
  declare readonly issues: readonly FleetFileIssue[];
  constructor(
    readonly source: string,
    issues: readonly FleetFileIssue[],
    /** Problems found beyond those listed in `issues`. */
    readonly omitted = 0,
  ) {
    const lines = issues.map((i) => formatIssue(source, i));
    if (omitted > 0) lines.push(`${source}: ... and ${omitted} more problem${omitted === 1 ? '' : 's'}`);
    super('INVALID_INPUT', lines.join('\n'), issues);
  }
}

export function formatIssue(source: string, i: FleetFileIssue): string {
  const where = i.line > 0 ? `${source}:${i.line}:${i.column}` : source;
  return `${where}: ${i.path ? `${i.path}: ` : ''}${i.message}`;
}

/** `devices[3].nameplate.maxW` */
export function formatPath(path: Path): string {
  let s = '';
  for (const seg of path) {
    if (typeof seg === 'number') s += `[${seg}]`;
    else s += s ? `.${seg}` : seg;
  }
  return s;
}

/** A parsed YAML document with enough kept to place problems on lines. */
export class FleetSource {
  private constructor(
    readonly source: string,
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /** Parse `text`; YAML syntax errors throw a FleetFileError. */
  static parse(text: string, source: string): { src: FleetSource; value: unknown } {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, merge: false });
    const src = new FleetSource(source, doc, lines);
    if (doc.errors.length > 0) {
      const issues = doc.errors.map((e) => {
        const { line, col } = src.position(e.pos[0]);
        const key = /^("[^"\n]*"|'[^'\n]*'|[^:,{}[\]\n]+)/.exec(text.slice(e.pos[0]))?.[1]?.trim();
        const what = e.code === 'DUPLICATE_KEY' && key ? `duplicate key ${key.startsWith('"') || key.startsWith("'") ? key : JSON.stringify(key)}` : yamlMessage(e.message);
        return { path: '', line, column: col, message: `YAML syntax error: ${what}` };
      });
      throw src.error(issues);
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      throw src.error([{ path: '', line: 1, column: 1, message: `YAML error: ${e instanceof Error ? e.message : String(e)}` }]);
    }
    return { src, value };
  }

  /** Throwable error listing at most `maxReportedIssues` problems, in order of position within each phase. */
  error(issues: readonly FleetFileIssue[]): FleetFileError {
    const shown = issues.slice(0, maxReportedIssues);
    return new FleetFileError(this.source, shown, issues.length - shown.length);
  }

  issue(path: Path, message: string): FleetFileIssue {
    const { line, col } = this.locate(path);
    return { path: formatPath(path), line, column: col, message };
  }

  /**
   * Line and column of the node at `path`: for a mapping entry, its key; for a list item, the item.
   * Where the path leaves the document (a missing field), the deepest node that exists.
   */
  locate(path: Path): { line: number; col: number } {
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(this.doc);
      if (isMap(node)) {
        const pair = node.items.find((p) => keyText(p.key) === String(seg));
        if (!pair) break;
        offset = rangeStart(pair.key) ?? rangeStart(pair.value) ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg];
        if (item === undefined) break;
        offset = rangeStart(item) ?? offset;
        node = item;
      } else break;
    }
    return this.position(offset);
  }

  private position(offset: number): { line: number; col: number } {
    const p = this.lines.linePos(offset);
    return p.line === 0 ? { line: 1, col: p.col || 1 } : p;
  }
}

function rangeStart(n: unknown): number | undefined {
  if (n && typeof n === 'object' && 'range' in n) {
    const r = (n as Node).range;
    if (r) return r[0];
  }
  return undefined;
}

function keyText(k: unknown): string {
  if (isScalar(k)) return String(k.value);
  return String(k);
}

function yamlMessage(m: string): string {
  // yaml's messages are one sentence; keep the first line in case a future version prettifies.
  return (m.split('\n')[0] ?? m).replace(/\.$/, '');
}

// ---------------------------------------------------------------------------------------------
// zod issues -> problems

type ZodIssue = z.core.$ZodIssue;

/** Per-parse error map: short messages in the file's own terms. Schema-level messages win. */
export const fileErrorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.input === undefined && (iss.code === 'invalid_type' || iss.code === 'invalid_value')) return 'is required';
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${expectedName(iss.expected)}, got ${describe(iss.input)}`;
    case 'too_small': {
      const min = Number(iss.minimum);
      if (iss.origin === 'array') return `needs at least ${min} item${min === 1 ? '' : 's'}`;
      if (iss.origin === 'string') return min === 1 ? 'must not be empty' : `must be at least ${min} characters`;
      if (min === 0) return iss.inclusive ? 'must not be negative' : 'must be positive';
      return iss.inclusive ? `must be at least ${min}` : `must be greater than ${min}`;
    }
    case 'too_big': {
      const max = Number(iss.maximum);
      if (iss.origin === 'array') return `takes at most ${max} items`;
      if (iss.origin === 'string') return `must be at most ${max} characters`;
      return iss.inclusive ? `must be at most ${max}` : `must be less than ${max}`;
    }
    case 'invalid_value':
      return `must be one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')} (got ${describe(iss.input)})`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(iss.divisor)}`;
    default:
      return undefined;
  }
};

function expectedName(e: string): string {
  if (e === 'object') return 'a mapping';
  if (e === 'array') return 'a list';
  if (e === 'int') return 'an integer';
  return `a ${e}`;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'number' && !Number.isInteger(v)) return `${v}`;
  return `${typeof v} ${String(v)}`;
}

/** Validate `value` at `at` with `schema`; problems go to `out` and the result is undefined. */
export function check<S extends z.ZodType>(src: FleetSource, schema: S, value: unknown, at: Path, out: FleetFileIssue[]): z.output<S> | undefined {
  const r = schema.safeParse(value, { error: fileErrorMap });
  if (r.success) return r.data;
  for (const i of r.error.issues) addZodIssue(src, i, at, out);
  return undefined;
}

function addZodIssue(src: FleetSource, i: ZodIssue, at: Path, out: FleetFileIssue[]): void {
  const path: Path = [...at, ...(i.path as PathSegment[])];
  if (i.code === 'unrecognized_keys') {
    for (const k of i.keys) out.push(src.issue([...path, k], `unknown key ${JSON.stringify(k)}`));
    return;
  }
  if (i.code === 'invalid_union') {
    // A number-or-{min, max} field: if one branch got past the type check, its problems are the useful ones.
    const deeper = i.errors.find((branch) => branch.some((b) => b.path.length > 0 || b.code !== 'invalid_type'));
    if (deeper) {
      for (const b of deeper) addZodIssue(src, b, path, out);
      return;
    }
    const types = i.errors.flatMap((branch) => branch.map((b) => (b.code === 'invalid_type' ? expectedName(b.expected) : null))).filter((t) => t !== null);
    const expected = types.includes('a number') && types.includes('a mapping') ? 'a number or { min, max }' : types.join(' or ') || 'another value';
    out.push(src.issue(path, `expected ${expected}`));
    return;
  }
  out.push(src.issue(path, i.message));
}
