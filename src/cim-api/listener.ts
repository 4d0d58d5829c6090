import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { CimFault, ReplyCode, type CimError } from './codes.js';
import type { DecodeLimits, Encoding, PlainObject } from './decode.js';
import { decodeBody, encodeMessage, readMessage, responseRootFor, type IncomingMessage, type OutMessage } from './envelope.js';
import type { ReplyResult } from './enums.js';
import { cimNamespaces, preferredPrefixes, type NamespaceOverrides } from './namespaces.js';
import { parseProfile, replySchema } from './schema.js';

/** One message a DMS endpoint received (an EventMessage, or an asynchronous ResponseMessage). */
export interface ReceivedMessage {
  /** Wall-clock ms. */
  readonly receivedAt: number;
  readonly path: string;
  /** Message element, e.g. ChangedDERGroupStatuses, or ResponseMessage. */
  readonly kind: string;
  readonly encoding: Encoding;
  readonly verb: string;
  readonly noun: string;
  readonly messageId: string | undefined;
  readonly correlationId: string | undefined;
  readonly timestamp: number | undefined;
  readonly source: string | undefined;
  /** For asynchronous replies: their Reply/Result. */
  readonly result: ReplyResult | undefined;
  readonly payload: PlainObject | undefined;
  /** The message as received. */
  readonly body: string;
}

export interface DmsListenerOptions {
  readonly host?: string;
  /** 0 (default): any free port. */
  readonly port?: number;
  readonly namespaces?: NamespaceOverrides;
  readonly bodyBytes?: number;
  readonly limits?: DecodeLimits;
  /** Each message, acknowledged or not. */
  readonly onMessage: (m: ReceivedMessage) => void;
  /** Bodies that could not be read as messages (answered with a FaultMessage). */
  readonly onRejected?: (reason: string) => void;
}

export interface DmsListener {
  readonly app: FastifyInstance;
  /** Base URL, e.g. http://127.0.0.1:9000; it accepts POSTs on any path. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A DMS endpoint: accepts the EventMessages a DERMS pushes (and asynchronous replies) on any
 * path, answers each with a ResponseMessage (reply, OK, 0.0, the event's CorrelationID or
 * MessageID), and hands it to `onMessage`. Decoding is as hardened as the server's.
 */
export async function startDmsListener(o: DmsListenerOptions): Promise<DmsListener> {
  const ns = cimNamespaces(o.namespaces);
  const prefixes = preferredPrefixes(ns);
  const limits = o.limits ?? { maxDepth: 64, maxElements: 1_000_000 };
  const app = Fastify({ bodyLimit: o.bodyBytes ?? 16 * 1024 * 1024, logger: false, forceCloseConnections: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
  const fault = (json: boolean, error: CimError): { body: string; contentType: string } =>
    encodeMessage({ root: { name: 'FaultMessage', ns: ns.message }, reply: { result: 'FAILED', errors: [error] } }, json ? 'json' : 'xml', ns, prefixes);
  app.setErrorHandler((err: Error & { code?: string }, req, reply) => {
    o.onRejected?.(err.message);
    const e = fault(/json/i.test(req.headers['content-type'] ?? ''), { code: err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? ReplyCode.tooMany : ReplyCode.invalidSchema, level: 'FATAL', reason: err.message });
    return reply.code(err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 413 : 400).header('content-type', e.contentType).send(e.body);
  });
  app.post('/*', async (req, reply) => {
    const body = typeof req.body === 'string' ? req.body : '';
    const ct = req.headers['content-type'];
    let m: IncomingMessage;
    try {
      m = readMessage(decodeBody(body, ct, limits));
    } catch (e) {
      const error: CimError = e instanceof CimFault ? e.errors[0]! : { code: ReplyCode.invalidSchema, level: 'FATAL', reason: String(e) };
      o.onRejected?.(`${error.code} ${error.reason}`);
      const f = fault(/json/i.test(ct ?? ''), error);
      return reply.code(400).header('content-type', f.contentType).send(f.body);
    }
    let result: ReplyResult | undefined;
    if (m.reply) {
      try {
        result = parseProfile(replySchema, m.reply, 'Reply').Result;
      } catch {
        result = undefined;
      }
    }
    const h = m.header;
    const received: ReceivedMessage = {
      receivedAt: Date.now(),
      path: req.url,
      kind: m.doc.rootName || (m.reply ? 'ResponseMessage' : 'EventMessage'),
      encoding: m.doc.encoding,
      verb: h.verb,
      noun: h.noun,
      messageId: h.messageId,
      correlationId: h.correlationId,
      timestamp: h.timestamp,
      source: h.source,
      result,
      payload: m.payload,
      body,
    };
    try {
      o.onMessage(received);
    } catch (e) {
      // Our side failed, not the sender: 500, so the DERMS keeps the message and retries.
      const f = fault(/json/i.test(ct ?? ''), { code: ReplyCode.attemptedFailed, level: 'FATAL', reason: `the DMS could not process the message: ${e instanceof Error ? e.message : String(e)}` });
      return reply.code(500).header('content-type', f.contentType).send(f.body);
    }
    const ack: OutMessage = {
      root: responseRootFor(m.doc, ns),
      header: { verb: 'reply', noun: h.noun, timestamp: Date.now(), messageId: randomUUID(), correlationId: h.correlationId ?? h.messageId, source: 'derms-dms' },
      reply: { result: 'OK', errors: [{ code: ReplyCode.ok, level: 'INFORM', reason: 'received' }] },
    };
    const e = encodeMessage(ack, m.doc.encoding, ns, prefixes);
    return reply.header('content-type', e.contentType).send(e.body);
  });
  const url = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
  return { app, url, close: () => app.close() };
}
