import { SaxesParser } from 'saxes';
import { CimFault, ReplyCode, fault } from './codes.js';
import { SOAP11_NS, SOAP12_NS } from './namespaces.js';

/**
 * Hardened decoding of request bodies into one plain tree shape for both encodings: element
 * local names as keys, repeated elements as arrays, attributes as `@name`, text beside attributes
 * as `#text`. XML is checked before the parser sees it (no DOCTYPE or any other declaration, so no
 * entity can be defined or expanded; depth, element count and a single root enforced), then read
 * by a strict parser (saxes): only the five predefined entities and character references exist.
 * JSON depth is checked before JSON.parse. Everything wrong ends in a CimFault with code 1.8 and a
 * reason saying what.
 */

export type Plain = string | number | boolean | null | Plain[] | PlainObject;
export interface PlainObject {
  [key: string]: Plain;
}

export interface DecodeLimits {
  /** Deepest element nesting accepted (SOAP envelope included). */
  readonly maxDepth: number;
  /** Most elements (or JSON values) in one message. */
  readonly maxElements: number;
}

export type Encoding = 'xml' | 'soap11' | 'soap12' | 'json';

export interface Document {
  readonly encoding: Encoding;
  /** Local name and namespace of the message element (inside the SOAP Body when enveloped). */
  readonly rootName: string;
  readonly rootNs: string;
  readonly body: PlainObject;
  /** Every element namespace seen, for optional strict checking (XML only). */
  readonly namespaces: ReadonlySet<string>;
}

const invalid = (reason: string): never => {
  throw fault(ReplyCode.invalidSchema, reason);
};

/**
 * One linear pass over the text: rejects declarations, counts elements and nesting. Comments,
 * CDATA and processing instructions are skipped; quoted attribute values may contain `>`.
 */
export function scanXml(text: string, limits: DecodeLimits): void {
  const n = text.length;
  let i = 0;
  let depth = 0;
  let elements = 0;
  let roots = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    const c = text.charCodeAt(lt + 1);
    if (c === 0x21) {
      if (text.startsWith('!--', lt + 1)) {
        const end = text.indexOf('-->', lt + 4);
        if (end < 0) invalid('unterminated comment');
        i = end + 3;
        continue;
      }
      if (text.startsWith('![CDATA[', lt + 1)) {
        const end = text.indexOf(']]>', lt + 9);
        if (end < 0) invalid('unterminated CDATA section');
        i = end + 3;
        continue;
      }
      invalid(`${/^<!DOCTYPE/i.test(text.slice(lt, lt + 9)) ? 'DOCTYPE' : 'markup'} declarations are not accepted (no DTD, no entity definitions)`);
    }
    if (c === 0x3f) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) invalid('unterminated processing instruction');
      i = end + 2;
      continue;
    }
    if (c === 0x2f) {
      depth--;
      const end = text.indexOf('>', lt + 2);
      if (end < 0) invalid('unterminated end tag');
      i = end + 1;
      continue;
    }
    if (++elements > limits.maxElements) invalid(`more than ${limits.maxElements} elements`);
    if (depth === 0 && ++roots > 1) invalid('more than one root element');
    if (++depth > limits.maxDepth) invalid(`elements nested deeper than ${limits.maxDepth} levels`);
    let j = lt + 1;
    let quote = 0;
    for (; j < n; j++) {
      const ch = text.charCodeAt(j);
      if (quote !== 0) {
        if (ch === quote) quote = 0;
      } else if (ch === 0x22 || ch === 0x27) quote = ch;
      else if (ch === 0x3e) break;
    }
    if (j >= n) invalid('unterminated start tag');
    if (text.charCodeAt(j - 1) === 0x2f) depth--;
    i = j + 1;
  }
  if (roots === 0) invalid('no XML element found');
}

interface Named {
  readonly name: string;
  readonly ns: string;
}

/** An element being read: its name, the object its attributes and children go to, its text. */
interface Open extends Named {
  readonly out: PlainObject;
  text: string;
}

/**
 * Parse an XML request body (bare, wrapped or in a SOAP 1.1/1.2 envelope). `scanXml` refuses
 * declarations and enforces the limits first; saxes then checks well-formedness strictly (XML 1.0
 * and namespaces: matching tags, one root, quoted and unique attributes, declared prefixes, only
 * predefined entities and valid character references) while the tree is built in the same pass.
 */
export function decodeXml(text: string, limits: DecodeLimits): Document {
  scanXml(text, limits);
  const namespaces = new Set<string>();
  const names = new WeakMap<object, Named>();
  const top: Open = { name: '', ns: '', out: {}, text: '' };
  const stack: Open[] = [top];
  const parser = new SaxesParser({ xmlns: true, position: true });
  parser.on('doctype', () => invalid('DOCTYPE declarations are not accepted (no DTD, no entity definitions)'));
  parser.on('opentag', (tag) => {
    namespaces.add(tag.uri);
    const out: PlainObject = {};
    for (const k in tag.attributes) {
      const a = tag.attributes[k]!;
      if (a.prefix !== 'xmlns' && a.name !== 'xmlns') out[`@${a.local}`] = a.value;
    }
    stack.push({ name: tag.local, ns: tag.uri, out, text: '' });
  });
  parser.on('text', (t) => {
    stack[stack.length - 1]!.text += t;
  });
  parser.on('cdata', (t) => {
    stack[stack.length - 1]!.text += t;
  });
  parser.on('closetag', () => {
    const e = stack.pop()!;
    const text = e.text.trim();
    let value: Plain;
    // An element without attributes or children is its text (a leaf), like one with only xmlns.
    if (Object.keys(e.out).length === 0) value = text;
    else {
      if (text) e.out['#text'] = text;
      names.set(e.out, e);
      value = e.out;
    }
    add(stack[stack.length - 1]!.out, e.name, value);
  });
  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof CimFault) throw e;
    invalid(`not well-formed XML: ${readable(e, text, parser.position)}`);
  }
  const rootName = Object.keys(top.out)[0];
  if (rootName === undefined) return invalid('no XML element found');
  const root = top.out[rootName]!;
  const named = typeof root === 'object' && root !== null && !Array.isArray(root) ? names.get(root) : undefined;
  if (named?.name === 'Envelope' && (named.ns === SOAP11_NS || named.ns === SOAP12_NS)) {
    const body = (root as PlainObject)['Body'];
    if (!body || typeof body !== 'object' || Array.isArray(body)) return invalid('SOAP Envelope without one Body');
    const keys = Object.keys(body).filter((k) => !k.startsWith('@') && k !== '#text');
    const inner = keys.length === 1 ? (body as PlainObject)[keys[0]!] : undefined;
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return invalid('the SOAP Body must hold exactly one message element');
    const n = names.get(inner)!;
    return { encoding: named.ns === SOAP11_NS ? 'soap11' : 'soap12', rootName: n.name, rootNs: n.ns, body: inner as PlainObject, namespaces };
  }
  if (!named) return invalid(`the message element ${rootName} is empty`);
  return { encoding: 'xml', rootName: named.name, rootNs: named.ns, body: root as PlainObject, namespaces };
}

/**
 * saxes reports `line:column: what.`; say it as `what (line L, column C)`, naming the entity
 * when one is undefined (it ends just before `offset`).
 */
function readable(e: unknown, text: string, offset: number): string {
  const msg = e instanceof Error ? e.message : String(e);
  const m = /^(?:[^:]*:)?(\d+):(\d+): (.*?)\.?$/s.exec(msg);
  if (!m) return msg;
  let what = m[3]!;
  if (what === 'undefined entity') {
    const amp = text.lastIndexOf('&', offset);
    if (amp >= 0 && offset - amp <= 64) what = `undefined entity ${text.slice(amp, offset)} (no DTD is accepted, so only &lt; &gt; &amp; &quot; &apos; exist)`;
  }
  return `${what} (line ${m[1]}, column ${m[2]})`;
}

function add(o: PlainObject, key: string, value: Plain): void {
  const prev = o[key];
  if (prev === undefined) o[key] = value;
  else if (Array.isArray(prev)) prev.push(value);
  else o[key] = [prev, value];
}

/** Keys that would reach an object's prototype if assigned. */
const unsafeKeys = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Parse a JSON request body: the XML tree mirrored, either bare (`{"Header": ..., "Payload": ...}`)
 * or under one key naming the message (`{"CreateDERGroups": {...}}`).
 */
export function decodeJson(text: string, limits: DecodeLimits): Document {
  // Repeated elements add an array level in JSON, so JSON may nest twice as deep as XML.
  checkJsonDepth(text, limits.maxDepth * 2);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return invalid(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  let count = 0;
  const clean = (x: unknown): Plain => {
    if (++count > limits.maxElements) invalid(`more than ${limits.maxElements} JSON values`);
    if (Array.isArray(x)) return x.map(clean);
    if (x !== null && typeof x === 'object') {
      const o: PlainObject = {};
      for (const [k, val] of Object.entries(x as Record<string, unknown>)) if (!unsafeKeys.has(k)) o[k] = clean(val);
      return o;
    }
    return x as Plain;
  };
  const top = clean(v);
  if (!top || typeof top !== 'object' || Array.isArray(top)) return invalid('a JSON message must be an object');
  // Bare: a message (Header first) or a FaultMessage (Reply only).
  if ('Header' in top || 'Reply' in top) return { encoding: 'json', rootName: '', rootNs: '', body: top, namespaces: new Set() };
  const keys = Object.keys(top);
  const inner = keys.length === 1 ? top[keys[0]!] : undefined;
  if (inner && typeof inner === 'object' && !Array.isArray(inner)) return { encoding: 'json', rootName: keys[0]!, rootNs: '', body: inner, namespaces: new Set() };
  return invalid('a JSON message needs a Header (at the top level or under one key naming the message)');
}

function checkJsonDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) invalid(`JSON nested deeper than ${maxDepth} levels`);
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
