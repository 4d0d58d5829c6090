import { z } from 'zod';
import { ReplyCode, fault, type CimError, type IdRef } from './codes.js';
import { decodeJson, decodeXml, type DecodeLimits, type Document, type Encoding, type PlainObject } from './decode.js';
import type { ReplyResult, Verb } from './enums.js';
import { SOAP11_NS, SOAP12_NS, type CimNamespaces } from './namespaces.js';
import { bool, dateTime, many, nonEmpty, one, optOne, parseProfile, text } from './schema.js';
import { builder, toJson, toXml, type El, type Json } from './tree.js';

/**
 * The IEC 61968-100 envelope: reading any message (bare RequestMessage / ResponseMessage /
 * EventMessage, a profile wrapper such as CreateDERGroups, either inside SOAP, or the JSON
 * mapping) into header + sections, and writing messages back in the encoding asked for.
 */

export interface Header {
  readonly verb: string;
  readonly noun: string;
  readonly revision?: string | undefined;
  readonly context?: string | undefined;
  readonly timestamp?: number | undefined;
  readonly source?: string | undefined;
  readonly asyncReplyFlag?: boolean | undefined;
  readonly replyAddress?: string | undefined;
  readonly ackRequired?: boolean | undefined;
  readonly messageId?: string | undefined;
  readonly correlationId?: string | undefined;
  readonly comment?: string | undefined;
}

export interface IncomingMessage {
  readonly doc: Document;
  readonly header: Header;
  readonly request?: PlainObject | undefined;
  readonly reply?: PlainObject | undefined;
  readonly payload?: PlainObject | undefined;
}

const headerSchema = z
  .object({
    Verb: one(nonEmpty),
    Noun: one(nonEmpty),
    Revision: optOne(text),
    Context: optOne(text),
    Timestamp: optOne(dateTime),
    Source: optOne(text),
    AsyncReplyFlag: optOne(bool),
    ReplyAddress: optOne(nonEmpty),
    AckRequired: optOne(bool),
    MessageID: optOne(nonEmpty),
    CorrelationID: optOne(nonEmpty),
    Comment: optOne(text),
    Property: many(z.object({ Name: one(nonEmpty), Value: optOne(text) }).loose()),
  })
  .loose();

/** What the reply to a message that could not be read at all can still echo. */
export interface HeaderHint {
  readonly noun?: string | undefined;
  readonly messageId?: string | undefined;
  readonly correlationId?: string | undefined;
}

/** Best-effort header fields of a body that failed later checks, for the reply. */
export function headerHint(body: PlainObject | undefined): HeaderHint {
  const h = body?.['Header'];
  if (!h || typeof h !== 'object' || Array.isArray(h)) return {};
  const s = (k: string): string | undefined => {
    const v = (h as PlainObject)[k];
    return typeof v === 'string' || typeof v === 'number' ? String(v).trim() || undefined : undefined;
  };
  return { noun: s('Noun'), messageId: s('MessageID'), correlationId: s('CorrelationID') };
}

export function decodeBody(body: string, contentType: string | undefined, limits: DecodeLimits): Document {
  const json = contentType ? /json/i.test(contentType) : /^\s*[{[]/.test(body);
  return json ? decodeJson(body, limits) : decodeXml(body, limits);
}

const section = (body: PlainObject, key: string): PlainObject | undefined => {
  const v = body[key];
  if (v === undefined) return undefined;
  if (Array.isArray(v)) throw fault(ReplyCode.invalidSchema, `${key} must appear at most once`);
  if (typeof v !== 'object' || v === null) return v === '' ? {} : undefined;
  return v;
};

/** Header and sections of a decoded document. A missing Header or Verb/Noun is a 1.5. */
export function readMessage(doc: Document): IncomingMessage {
  const h = section(doc.body, 'Header');
  if (!h) throw fault(ReplyCode.missingHeader, 'the message has no Header');
  if (h['Verb'] === undefined || h['Noun'] === undefined) {
    throw fault(ReplyCode.missingHeader, `the Header lacks ${h['Verb'] === undefined ? 'Verb' : 'Noun'}`, { details: 'Verb and Noun are mandatory' });
  }
  const p = parseProfile(headerSchema, h, 'Header');
  const header: Header = {
    verb: p.Verb,
    noun: p.Noun,
    revision: p.Revision,
    context: p.Context,
    timestamp: p.Timestamp,
    source: p.Source,
    asyncReplyFlag: p.AsyncReplyFlag,
    replyAddress: p.ReplyAddress,
    ackRequired: p.AckRequired,
    messageId: p.MessageID,
    correlationId: p.CorrelationID,
    comment: p.Comment,
  };
  return { doc, header, request: section(doc.body, 'Request'), reply: section(doc.body, 'Reply'), payload: section(doc.body, 'Payload') };
}

// ---------------------------------------------------------------------------------------------
// Writing

export interface OutHeader {
  readonly verb: Verb;
  readonly noun: string;
  readonly timestamp: number;
  readonly messageId: string;
  readonly correlationId?: string | undefined;
  readonly source?: string | undefined;
  readonly asyncReplyFlag?: boolean | undefined;
  readonly replyAddress?: string | undefined;
}

export interface OutReply {
  readonly result: ReplyResult;
  readonly errors: readonly CimError[];
  readonly ids?: readonly IdRef[] | undefined;
}

export interface OutMessage {
  /** Message element: `ResponseMessage` in the message namespace, or a wrapper in its own. */
  readonly root: { readonly name: string; readonly ns: string };
  /** Absent only for a FaultMessage. */
  readonly header?: OutHeader | undefined;
  readonly request?: readonly El[] | undefined;
  readonly reply?: OutReply | undefined;
  readonly payload?: readonly El[] | undefined;
}

export interface Encoded {
  readonly body: string;
  readonly contentType: string;
}

const contentTypes: Record<Encoding, string> = {
  xml: 'application/xml; charset=utf-8',
  soap11: 'text/xml; charset=utf-8',
  soap12: 'application/soap+xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

export function idEl(m: ReturnType<typeof builder>, id: IdRef, list = true): El {
  const attrs = { kind: id.kind, objectType: id.objectType };
  return list ? m.list('ID', id.value, attrs) : m('ID', id.value, attrs);
}

function errorEl(m: ReturnType<typeof builder>, e: CimError): El {
  return m.list('Error', [
    m('code', e.code),
    m('level', e.level),
    m.opt('reason', e.reason),
    m.opt('details', e.details),
    e.id ? idEl(m, e.id, false) : null,
    m.opt('operationId', e.operationId),
  ]);
}

export function headerEl(w: ReturnType<typeof builder>, m: ReturnType<typeof builder>, h: OutHeader): El {
  return w('Header', [
    m('Verb', h.verb),
    m('Noun', h.noun),
    m('Timestamp', new Date(h.timestamp).toISOString()),
    m.opt('Source', h.source),
    m.opt('AsyncReplyFlag', h.asyncReplyFlag),
    m.opt('ReplyAddress', h.replyAddress),
    m('MessageID', h.messageId),
    m.opt('CorrelationID', h.correlationId),
  ]);
}

/** The element tree of a message (before SOAP or JSON). */
export function messageEl(msg: OutMessage, ns: CimNamespaces): El {
  const w = builder(msg.root.ns);
  const m = builder(ns.message);
  const r = msg.reply;
  return w(msg.root.name, [
    msg.header ? headerEl(w, m, msg.header) : null,
    msg.request ? w('Request', [...msg.request]) : null,
    r ? w('Reply', [m('Result', r.result), ...r.errors.map((e) => errorEl(m, e)), ...(r.ids ?? []).map((id) => idEl(m, id))]) : null,
    msg.payload ? w('Payload', [...msg.payload]) : null,
  ]);
}

export function encodeMessage(msg: OutMessage, encoding: Encoding, ns: CimNamespaces, prefixes: ReadonlyMap<string, string>): Encoded {
  const root = messageEl(msg, ns);
  if (encoding === 'json') return { body: JSON.stringify(toJson(root) as Json), contentType: contentTypes.json };
  if (encoding === 'xml') return { body: toXml(root, prefixes), contentType: contentTypes.xml };
  const soapNs = encoding === 'soap11' ? SOAP11_NS : SOAP12_NS;
  const s = builder(soapNs);
  return { body: toXml(s('Envelope', [s('Header'), s('Body', [root])]), prefixes), contentType: contentTypes[encoding] };
}

/** Verb prefix of a wrapper element, present or past tense (CreateDERGroups, ChangedDERGroupStatuses). */
const verbPrefix = /^(Create|Change|Delete|Cancel|Close|Execute|Get)(d|ed)?(?=[A-Z])/;
const bareRoots = new Set(['', 'Message', 'RequestMessage', 'EventMessage', 'ResponseMessage']);

/** Response element for a request or event element: CreateDERGroups -> DERGroupsResponseMessage, etc. */
export function responseRootFor(doc: Pick<Document, 'encoding' | 'rootName' | 'rootNs'>, ns: CimNamespaces): { name: string; ns: string } {
  const n = doc.rootName;
  if (doc.encoding === 'json' || bareRoots.has(n) || doc.rootNs === ns.message) return { name: 'ResponseMessage', ns: ns.message };
  if (n.endsWith('RequestMessage')) return { name: `${n.slice(0, -'RequestMessage'.length)}ResponseMessage`, ns: doc.rootNs };
  return { name: `${n.replace(verbPrefix, '')}ResponseMessage`, ns: doc.rootNs };
}
