import { randomUUID } from 'node:crypto';
import { DermsError } from '../core/errors.js';
import { CimFault } from './codes.js';
import type { PlainObject } from './decode.js';
import { decodeBody, encodeMessage, readMessage, type IncomingMessage } from './envelope.js';
import type { ReplyResult } from './enums.js';
import { cimNamespaces, preferredPrefixes, type CimNamespaces, type NamespaceOverrides } from './namespaces.js';
import type { RequestSpec } from './requests.js';
import { parseProfile, replySchema, type ReplyInput } from './schema.js';

export type ClientEncoding = 'xml' | 'soap11' | 'json';

export interface CimClientOptions {
  /** The server's message endpoint, e.g. http://127.0.0.1:8761/cim. */
  readonly url: string;
  readonly encoding?: ClientEncoding;
  readonly namespaces?: NamespaceOverrides;
  /** Header/Source (default derms-dms). */
  readonly source?: string;
  readonly timeoutMs?: number;
  /** Ask for an asynchronous reply to this address (AsyncReplyFlag + ReplyAddress). */
  readonly replyAddress?: string | undefined;
}

export interface CimReply {
  readonly status: number;
  readonly contentType: string;
  /** The reply as received. */
  readonly body: string;
  readonly result: ReplyResult | undefined;
  readonly errors: ReplyInput['Error'];
  readonly message: IncomingMessage | undefined;
  /** The reply's Payload, when it has one. */
  readonly payload: PlainObject | undefined;
  /** The request's MessageID (also its CorrelationID). */
  readonly messageId: string;
  /** The request as sent. */
  readonly sent: string;
}

/** Limits for reading replies: generous, the server is trusted more than a request body. */
const replyLimits = { maxDepth: 64, maxElements: 5_000_000 };

/** A DMS-side client: sends request messages to any IEC 61968-5 server and reads its reply. */
export class CimClient {
  readonly ns: CimNamespaces;
  private readonly prefixes: Map<string, string>;

  constructor(readonly o: CimClientOptions) {
    this.ns = cimNamespaces(o.namespaces);
    this.prefixes = preferredPrefixes(this.ns);
  }

  /** The request as it would be sent (for printing). */
  encode(spec: RequestSpec, messageId: string = randomUUID()): { body: string; contentType: string } {
    return encodeMessage(
      {
        root: { name: spec.root.name, ns: this.ns.wrappers[spec.root.wrapper] },
        header: {
          verb: spec.verb,
          noun: spec.noun,
          timestamp: Date.now(),
          messageId,
          correlationId: messageId,
          source: this.o.source ?? 'derms-dms',
          asyncReplyFlag: this.o.replyAddress ? true : undefined,
          replyAddress: this.o.replyAddress,
        },
        request: spec.request,
        payload: spec.payload,
      },
      this.o.encoding ?? 'xml',
      this.ns,
      this.prefixes,
    );
  }

  async send(spec: RequestSpec): Promise<CimReply> {
    const messageId = randomUUID();
    const req = this.encode(spec, messageId);
    let res: Response;
    try {
      res = await fetch(this.o.url, { method: 'POST', headers: { 'content-type': req.contentType }, body: req.body, signal: AbortSignal.timeout(this.o.timeoutMs ?? 30_000) });
    } catch (e) {
      const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e);
      throw new DermsError('UNAVAILABLE', `cannot reach ${this.o.url}: ${why}`);
    }
    const body = await res.text();
    const contentType = res.headers.get('content-type') ?? '';
    return { ...readReply(body, contentType), status: res.status, contentType, body, messageId, sent: req.body };
  }
}

/** Result, errors and payload of a reply body; undefined result when it is not a 61968-100 reply. */
export function readReply(body: string, contentType: string | undefined): Pick<CimReply, 'result' | 'errors' | 'message' | 'payload'> {
  try {
    const doc = decodeBody(body, contentType, replyLimits);
    const replyEl = doc.body['Reply'];
    const message = doc.body['Header'] !== undefined ? readMessage(doc) : undefined;
    if (replyEl === undefined) return { result: undefined, errors: [], message, payload: message?.payload };
    const r = parseProfile(replySchema, replyEl, 'Reply');
    return { result: r.Result, errors: r.Error, message, payload: message?.payload };
  } catch (e) {
    if (e instanceof CimFault) return { result: undefined, errors: [], message: undefined, payload: undefined };
    throw e;
  }
}

/** Reply/Result of a body, if it is a 61968-100 reply. */
export function replyResultOf(body: string): ReplyResult | undefined {
  return body.trim() ? readReply(body, undefined).result : undefined;
}
