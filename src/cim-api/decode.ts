import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ReplyCode, fault } from './codes.js';
import { SOAP11_NS, SOAP12_NS } from './namespaces.js';

/**
 * Hardened decoding of request bodies into one plain tree shape for both encodings: element
 * local names as keys, repeated elements as arrays, attributes as `@name`, text beside attributes
 * as `#text`. XML is checked before the parser sees it (no DOCTYPE or any other declaration, so no
 * entity can be defined or expanded; depth, element count and a single root enforced); only the
 * five predefined entities and character references are decoded. JSON depth is checked before
 * JSON.parse. Everything wrong ends in a CimFault with code 1.8 and a reason saying what.
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

const parser = new XMLParser({
  // Document order is kept: repeated elements written with different prefixes stay in order.
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  textNodeName: '#text',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // Entities are never expanded by the parser; decodeEntities handles the predefined ones.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  removeNSPrefix: false,
  commentPropName: false,
  cdataPropName: false,
  // No path strings built per tag: nothing here uses them.
  jPath: false,
});

/** One node of the parser's ordered output: `{ tag: children, ':@': attributes }` or `{ '#text': text }`. */
type OrderedNode = Record<string, unknown>;

const predefined: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decode the five predefined entities and character references; anything else is an error. */
function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&([^;&\s]{0,12});?/g, (whole, ref: string) => {
    if (!whole.endsWith(';')) invalid(`unterminated or undefined entity reference ${JSON.stringify(whole)}`);
    const named = predefined[ref];
    if (named !== undefined) return named;
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(ref);
    if (m) {
      const cp = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
      if (cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) return String.fromCodePoint(cp);
      invalid(`character reference ${whole} is not a valid character`);
    }
    return invalid(`undefined entity &${ref}; (no DTD is accepted, so only &lt; &gt; &amp; &quot; &apos; exist)`);
  });
}

interface Named {
  readonly name: string;
  readonly ns: string;
}

/** Parse an XML request body (bare, wrapped or in a SOAP 1.1/1.2 envelope). */
export function decodeXml(text: string, limits: DecodeLimits): Document {
  scanXml(text, limits);
  const valid = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (valid !== true) invalid(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line}, column ${valid.err.col})`);
  const nodes = parser.parse(text) as OrderedNode[];
  const namespaces = new Set<string>();
  const names = new WeakMap<object, Named>();
  const rootNode = nodes.find((n) => tagOf(n) !== undefined);
  if (!rootNode) return invalid('no XML element found');
  const { value: root, named } = element(rootNode, new Map([['xml', 'http://www.w3.org/XML/1998/namespace']]), namespaces, names);
  if (named.name === 'Envelope' && (named.ns === SOAP11_NS || named.ns === SOAP12_NS)) {
    const body = typeof root === 'object' && root !== null && !Array.isArray(root) ? (root as PlainObject)['Body'] : undefined;
    if (!body || typeof body !== 'object' || Array.isArray(body)) return invalid('SOAP Envelope without one Body');
    const keys = Object.keys(body).filter((k) => !k.startsWith('@') && k !== '#text');
    const inner = keys.length === 1 ? (body as PlainObject)[keys[0]!] : undefined;
    if (!inner || typeof inner !== 'object' || Array.isArray(inner)) return invalid('the SOAP Body must hold exactly one message element');
    const n = names.get(inner)!;
    return { encoding: named.ns === SOAP11_NS ? 'soap11' : 'soap12', rootName: n.name, rootNs: n.ns, body: inner as PlainObject, namespaces };
  }
  if (typeof root !== 'object' || root === null || Array.isArray(root)) return invalid(`the message element ${named.name} is empty`);
  return { encoding: 'xml', rootName: named.name, rootNs: named.ns, body: root as PlainObject, namespaces };
}

function tagOf(n: OrderedNode): string | undefined {
  for (const k in n) if (k !== ':@' && k !== '#text') return k;
  return undefined;
}

function element(node: OrderedNode, outer: ReadonlyMap<string, string>, seen: Set<string>, names: WeakMap<object, Named>): { value: Plain; named: Named } {
  const qname = tagOf(node)!;
  const attrs = node[':@'] as Record<string, unknown> | undefined;
  let scope = outer;
  if (attrs) {
    for (const [k, val] of Object.entries(attrs)) {
      if (k === '@xmlns' || k.startsWith('@xmlns:')) {
        if (scope === outer) scope = new Map(outer);
        (scope as Map<string, string>).set(k === '@xmlns' ? '' : k.slice(7), decodeEntities(String(val)));
      }
    }
  }
  const named = resolve(qname, scope);
  seen.add(named.ns);
  const out: PlainObject = {};
  let text = '';
  if (attrs) {
    for (const [k, val] of Object.entries(attrs)) {
      if (k !== '@xmlns' && !k.startsWith('@xmlns:')) out[`@${local(k.slice(1))}`] = decodeEntities(String(val));
    }
  }
  for (const child of node[qname] as OrderedNode[]) {
    if ('#text' in child) text += decodeEntities(String(child['#text']));
    else {
      const c = element(child, scope, seen, names);
      add(out, c.named.name, c.value);
    }
  }
  // Only namespace declarations besides the text: a leaf, like one without attributes.
  const keys = Object.keys(out);
  if (keys.length === 0) return { value: text, named };
  if (text) out['#text'] = text;
  names.set(out, named);
  return { value: out, named };
}

function local(qname: string): string {
  const c = qname.indexOf(':');
  return c < 0 ? qname : qname.slice(c + 1);
}

function resolve(qname: string, scope: ReadonlyMap<string, string>): Named {
  const c = qname.indexOf(':');
  if (c < 0) return { name: qname, ns: scope.get('') ?? '' };
  const prefix = qname.slice(0, c);
  const ns = scope.get(prefix);
  if (ns === undefined) invalid(`namespace prefix ${JSON.stringify(prefix)} is not declared`);
  return { name: qname.slice(c + 1), ns: ns! };
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
