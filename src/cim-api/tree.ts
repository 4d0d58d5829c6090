/**
 * Outgoing messages as a small element tree, written out as XML (namespaces, prefixes) or as the
 * JSON mapping that mirrors the XML (element names as keys, `@`-prefixed attributes, `#text`
 * beside attributes, arrays for repeatable elements).
 */

export type Scalar = string | number | boolean;

export interface El {
  readonly ns: string;
  readonly name: string;
  readonly attrs?: Readonly<Record<string, string>> | undefined;
  readonly value?: Scalar | undefined;
  readonly children?: readonly El[] | undefined;
  /** Repeatable element (maximum multiplicity above one): always an array in JSON. */
  readonly list?: boolean | undefined;
}

type Child = El | null | undefined | false;
type Content = Scalar | readonly Child[] | null | undefined;

/** Element builder bound to one namespace. */
export type Builder = {
  (name: string, content?: Content, attrs?: Record<string, string>): El;
  /** A repeatable element. */
  list(name: string, content?: Content, attrs?: Record<string, string>): El;
  /** An optional leaf: null when `value` is undefined or null. */
  opt(name: string, value: Scalar | null | undefined): El | null;
};

const builders = new Map<string, Builder>();

/** The builder of `ns` (builders hold nothing but their namespace, so one per namespace serves all). */
export function builder(ns: string): Builder {
  let b = builders.get(ns);
  if (b === undefined) {
    b = makeBuilder(ns);
    builders.set(ns, b);
  }
  return b;
}

function makeBuilder(ns: string): Builder {
  const make = (name: string, content: Content, attrs: Record<string, string> | undefined, list: boolean): El => {
    if (Array.isArray(content)) {
      return { ns, name, attrs, children: (content as readonly Child[]).filter((c): c is El => !!c), list };
    }
    return { ns, name, attrs, value: content === null || content === undefined ? undefined : (content as Scalar), list };
  };
  const b = ((name: string, content?: Content, attrs?: Record<string, string>) => make(name, content, attrs, false)) as Builder;
  b.list = (name, content, attrs) => make(name, content, attrs, true);
  b.opt = (name, value) => (value === undefined || value === null ? null : make(name, value, undefined, false));
  return b;
}

/** A number as XML text: integers as they are, others without float noise (0.1 + 0.2 -> 0.3). */
export function formatNumber(x: number): string {
  if (Number.isInteger(x)) return String(x);
  if (!Number.isFinite(x)) return 'NaN';
  // Nine decimals (a microwatt in kW) and nothing after them; cheaper than toPrecision.
  return String(Math.round(x * 1e9) / 1e9);
}

function scalarText(v: Scalar): string {
  return typeof v === 'number' ? formatNumber(v) : String(v);
}

const textEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
function escapeText(s: string): string {
  return /[&<>]/.test(s) ? s.replace(/[&<>]/g, (c) => textEscapes[c]!) : s;
}
function escapeAttr(s: string): string {
  return /[&<>"]/.test(s) ? s.replace(/[&<>"]/g, (c) => textEscapes[c]!) : s;
}

/**
 * XML text of `root`. Namespaces with a prefix in `prefixes` are declared once on the root;
 * those mapped to '' become the default namespace where first used (profile documents read as
 * in the standard's examples); unknown ones get ns1, ns2, ... where first used.
 */
export function toXml(root: El, prefixes: ReadonlyMap<string, string>, declaration = true): string {
  const out: string[] = declaration ? ['<?xml version="1.0" encoding="UTF-8"?>'] : [];
  let generated = 0;
  const rootScope = new Map<string, string>();
  let rootDecl = '';
  const used = new Set<string>();
  const collect = (e: El): void => {
    used.add(e.ns);
    if (e.children) for (const c of e.children) collect(c);
  };
  collect(root);
  for (const ns of used) {
    const p = prefixes.get(ns);
    if (p && ![...rootScope.values()].includes(p)) {
      rootScope.set(ns, p);
      rootDecl += ` xmlns:${p}="${escapeAttr(ns)}"`;
    }
  }
  const write = (e: El, scope: ReadonlyMap<string, string>, isRoot: boolean): void => {
    let prefix = scope.get(e.ns);
    let decl = isRoot ? rootDecl : '';
    let childScope = scope;
    if (prefix === undefined) {
      let wanted = prefixes.get(e.ns) ?? `ns${++generated}`;
      if (wanted !== '' && new Set(scope.values()).has(wanted)) wanted = `ns${++generated}`;
      prefix = wanted;
      const m = new Map(scope);
      // A new default namespace hides the one above it.
      if (prefix === '') for (const [k, v] of m) if (v === '') m.delete(k);
      m.set(e.ns, prefix);
      childScope = m;
      decl += prefix === '' ? ` xmlns="${escapeAttr(e.ns)}"` : ` xmlns:${prefix}="${escapeAttr(e.ns)}"`;
    }
    const qname = prefix === '' ? e.name : `${prefix}:${e.name}`;
    let attrs = decl;
    if (e.attrs) for (const [k, v] of Object.entries(e.attrs)) attrs += ` ${k}="${escapeAttr(v)}"`;
    const kids = e.children;
    if (kids && kids.length > 0) {
      out.push(`<${qname}${attrs}>`);
      for (const k of kids) write(k, childScope, false);
      out.push(`</${qname}>`);
    } else if (e.value !== undefined) {
      out.push(`<${qname}${attrs}>${escapeText(scalarText(e.value))}</${qname}>`);
    } else {
      out.push(`<${qname}${attrs}/>`);
    }
  };
  write(root, rootScope, true);
  return out.join('');
}

export type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

/** The JSON mapping of one element's content (its name is the key the caller puts it under). */
export function toJson(e: El): Json {
  const attrs = e.attrs ? Object.entries(e.attrs) : [];
  const kids = e.children;
  if (!kids || kids.length === 0) {
    if (attrs.length === 0) return e.value ?? '';
    const o: Record<string, Json> = {};
    for (const [k, v] of attrs) o[`@${k}`] = v;
    if (e.value !== undefined) o['#text'] = e.value;
    return o;
  }
  const o: Record<string, Json> = {};
  for (const [k, v] of attrs) o[`@${k}`] = v;
  for (const k of kids) {
    const v = toJson(k);
    const prev = o[k.name];
    if (prev === undefined) o[k.name] = k.list ? [v] : v;
    else if (Array.isArray(prev)) prev.push(v);
    else o[k.name] = [prev, v];
  }
  return o;
}
