import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyPluginAsync, type FastifyReply } from 'fastify';
import { Subscription } from 'rxjs';
import type { GroupStatus } from '../core/group-status.js';
import { ReplyCode, type CimError } from './codes.js';
import type { Encoding } from './decode.js';
import { encodeMessage, type OutMessage } from './envelope.js';
import type { UnitMultiplier } from './enums.js';
import { ConfigSchedules } from './handlers/config-schedule.js';
import type { VoltageRegulation } from './handlers/context.js';
import { cimNamespaces, preferredPrefixes, type CimNamespaces, type NamespaceOverrides } from './namespaces.js';
import { openApiDocument } from './openapi.js';
import { Deliverer, MemoryOutbox, type EndpointState, type Outbox, type OutboxCounters, type RetryOptions } from './outbox.js';
import { CimProcessor, type ProcessorCounters } from './processor.js';
import { PushPublisher, type PushOptions } from './pushes.js';
import { registerStream, type StreamOptions } from './stream.js';
import type { CimSystem } from './system.js';
import { replyResultOf } from './client.js';

export interface CimLimits {
  /** Largest request body, bytes (default 1 MiB); larger ones get 413 and a 3.1 FaultMessage. */
  readonly bodyBytes?: number;
  /** Deepest element nesting, SOAP envelope included (default 32). */
  readonly maxDepth?: number;
  /** Most elements in one message (default 200 000). */
  readonly maxElements?: number;
  /** Most objects (groups, dispatches, controls, operations) in one message (default 10 000). */
  readonly maxObjects?: number;
  /** Most intervals one forecast may ask for (default 10 000). */
  readonly maxForecastIntervals?: number;
}

export interface CimServerOptions {
  readonly namespaces?: NamespaceOverrides;
  /** Refuse elements outside the configured namespaces (default false: match by local name). */
  readonly strictNamespaces?: boolean;
  readonly limits?: CimLimits;
  /** Pushes to the DMS: endpoints, periods, significant change; the outbox and retry policy. */
  readonly push?: PushOptions & {
    /** Where pushed messages wait (default: a MemoryOutbox of `capacity` messages). */
    readonly outbox?: Outbox;
    readonly capacity?: number;
    readonly retry?: RetryOptions;
  };
  /** Which ReplyAddress URLs asynchronous replies may go to (default: any http or https URL). */
  readonly allowReplyAddress?: (url: URL) => boolean;
  /**
   * Write only elements of the 2017 draft profiles (for a DMS that validates strictly): no
   * capability in DERGroups (read it from DERGroupStatuses), no status details (default false).
   */
  readonly draftProfilesOnly?: boolean;
  /** Multiplier of power values the DERMS writes (default k). */
  readonly multiplier?: UnitMultiplier;
  /** Reply code for a group or device that does not exist (default 2.15). */
  readonly unknownObjectCode?: string;
  /** Header/Source of the DERMS's messages (default derms-sim). */
  readonly source?: string;
  /** Shape of the volt-var curve that stands for a `voltage` dispatch (% of base voltage / % of var rating). */
  readonly voltageRegulation?: Partial<VoltageRegulation>;
  readonly stream?: Partial<StreamOptions>;
  /** One line per thing an operator should know: malformed requests, drops, delivery failures. */
  readonly log?: (line: string) => void;
  /** mRIDs and MessageIDs (default random UUIDs). */
  readonly newId?: () => string;
}

export interface CimStats {
  readonly requests: ProcessorCounters;
  readonly outbox: OutboxCounters;
  readonly endpoints: Readonly<Record<string, EndpointState>>;
}

/** The facade without a server of its own: mount `plugin` on any Fastify instance. */
export interface CimFacade {
  /**
   * Every route (POST /cim, /cim/*, GET /cim/stream, /cim/status, /cim/stats, /openapi.json) as
   * an encapsulated Fastify plugin: its body parsing, size limit and error replies stay inside.
   */
  readonly plugin: FastifyPluginAsync;
  readonly processor: CimProcessor;
  readonly pushes: PushPublisher;
  readonly deliverer: Deliverer;
  readonly namespaces: CimNamespaces;
  stats(): CimStats;
  /** Start pushes (subscriptions, periodic timers on the system clock) and resume delivery. */
  start(): void;
  /** Stop pushes, dispatch schedules and delivery. Queued messages stay in the outbox. */
  stop(): void;
}

export interface CimServer extends Omit<CimFacade, 'plugin' | 'start' | 'stop'> {
  readonly app: FastifyInstance;
  /** Start listening (default 127.0.0.1, port 0 = any free port); the base URL, e.g. http://127.0.0.1:8761. */
  listen(o?: { host?: string; port?: number }): Promise<string>;
  /** Stop the facade and the HTTP server (live streams included). */
  close(): Promise<void>;
}

/**
 * The IEC 61968-5 facade on a Fastify server of its own: POST /cim for every request message
 * (XML, SOAP, JSON), pushes to the DMS, GET /cim/stream (SSE), GET /cim/status and /cim/stats,
 * GET /openapi.json. Pushes start at once.
 */
export function createCimServer(system: CimSystem, options: CimServerOptions = {}): CimServer {
  const facade = createCimFacade(system, options);
  // Closing ends every connection, live streams included.
  const app = Fastify({ logger: false, forceCloseConnections: true });
  void app.register(facade.plugin);
  facade.start();
  return {
    app,
    processor: facade.processor,
    pushes: facade.pushes,
    deliverer: facade.deliverer,
    namespaces: facade.namespaces,
    stats: facade.stats,
    listen: (o = {}) => app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 }),
    async close() {
      facade.stop();
      await app.close();
    },
  };
}

/** The facade's parts and routes, for a server of its own (createCimServer) or a shared one. */
export function createCimFacade(system: CimSystem, options: CimServerOptions = {}): CimFacade {
  const ns = cimNamespaces(options.namespaces);
  const prefixes = preferredPrefixes(ns);
  const newId = options.newId ?? randomUUID;
  const source = options.source ?? 'derms-sim';
  const log = options.log ?? (() => undefined);
  const l = options.limits ?? {};
  const limits = {
    maxDepth: l.maxDepth ?? 32,
    maxElements: l.maxElements ?? 200_000,
    maxObjects: l.maxObjects ?? 10_000,
    maxForecastIntervals: l.maxForecastIntervals ?? 10_000,
  };
  const bodyBytes = l.bodyBytes ?? 1024 * 1024;
  const render = { ns, multiplier: options.multiplier ?? 'k', registry: system.registry, extensions: !(options.draftProfilesOnly ?? false) };
  const push = options.push ?? {};

  const outbox = push.outbox ?? new MemoryOutbox(push.capacity ?? 10_000);
  const deliverer = new Deliverer(outbox, push.retry, (_status, body) => replyResultOf(body) === 'FAILED');
  const configSchedules = new ConfigSchedules(system.tracker, system.clock, (id, e) => log(`cim: dispatch ${id} stopped following its schedule: ${e instanceof Error ? e.message : String(e)}`));
  const pushes = new PushPublisher(system, render, ns, prefixes, deliverer, newId, source, push);
  const processor = new CimProcessor(
    system,
    {
      ns,
      render,
      limits,
      strictNamespaces: options.strictNamespaces ?? false,
      unknownObjectCode: options.unknownObjectCode ?? ReplyCode.unknownObject,
      source,
      voltage: { deadbandPct: 1, fullResponsePct: 5, maxVarPct: 44, ...options.voltageRegulation },
      newId,
    },
    pushes,
    configSchedules,
  );
  const subs = new Subscription();
  subs.add(outbox.dropped$.subscribe((d) => log(`cim: outbox dropped ${d.message.kind} for ${d.message.endpoint}: ${d.reason}`)));
  subs.add(
    deliverer.events$.subscribe((e) => {
      if (e.type === 'failed') log(`cim: delivery of ${e.message.kind} to ${e.message.endpoint} failed (${e.error}); retry in ${e.retryInMs} ms`);
      else if (e.type === 'refused') log(`cim: ${e.message.endpoint} refused ${e.message.kind} (HTTP ${e.status})`);
      else if (e.type === 'outboxError') log(`cim: outbox failure for ${e.endpoint}: ${e.error}`);
    }),
  );

  const send = (reply: FastifyReply, msg: OutMessage, encoding: Encoding, status: number): FastifyReply => {
    const e = encodeMessage(msg, encoding, ns, prefixes);
    return reply.code(status).header('content-type', e.contentType).send(e.body);
  };
  const faultReply = (reply: FastifyReply, json: boolean, status: number, error: CimError): FastifyReply =>
    send(reply, { root: { name: 'FaultMessage', ns: ns.message }, reply: { result: 'FAILED', errors: [error] } }, json ? 'json' : 'xml', status);

  const stats = (): CimStats => ({ requests: { ...processor.counters }, outbox: outbox.stats, endpoints: deliverer.endpointStates() });
  const doc = openApiDocument();
  const plugin: FastifyPluginAsync = async (child) => {
    child.removeAllContentTypeParsers();
    child.addContentTypeParser('*', { parseAs: 'string', bodyLimit: bodyBytes }, (_req, body, done) => done(null, body));
    child.setErrorHandler((err: Error & { code?: string; statusCode?: number }, req, reply) => {
      processor.counters.requests++;
      processor.counters.malformed++;
      processor.counters.failed++;
      const json = /json/i.test(req.headers['content-type'] ?? '');
      const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
      log(`cim: ${req.method} ${req.url} refused: ${err.message}`);
      return faultReply(reply, json, tooLarge ? 413 : (err.statusCode ?? 500) < 500 ? err.statusCode! : 500, {
        code: tooLarge ? ReplyCode.tooMany : ReplyCode.invalidSchema,
        level: 'FATAL',
        reason: tooLarge ? `the body is larger than ${bodyBytes} bytes` : err.message,
      });
    });

    const handle = async (req: { body: unknown; headers: Record<string, string | string[] | undefined> }, reply: FastifyReply): Promise<FastifyReply> => {
      const ct = req.headers['content-type'];
      const contentType = Array.isArray(ct) ? ct[0] : ct;
      const d = processor.decode(typeof req.body === 'string' ? req.body : '', contentType);
      if (!d.ok) {
        const why = d.reply.reply?.errors[0];
        log(`cim: request refused: ${why?.code} ${why?.reason}`);
        return send(reply, d.reply, d.encoding, d.reply.root.name === 'FaultMessage' ? 400 : 200);
      }
      const m = d.message;
      const enc = m.doc.encoding;
      if (m.header.asyncReplyFlag) {
        const address = m.header.replyAddress;
        if (!address) return send(reply, processor.refuse(m, { code: ReplyCode.missingHeader, level: 'FATAL', reason: 'AsyncReplyFlag is true but the Header has no ReplyAddress' }), enc, 200);
        let url: URL | null = null;
        try {
          url = new URL(address);
        } catch {
          url = null;
        }
        if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
          return send(reply, processor.refuse(m, { code: ReplyCode.invalidSchema, level: 'FATAL', reason: `ReplyAddress ${JSON.stringify(address)} is not an http or https URL` }), enc, 200);
        }
        if (options.allowReplyAddress && !options.allowReplyAddress(url)) {
          return send(reply, processor.refuse(m, { code: ReplyCode.businessRule, level: 'FATAL', reason: `replies may not be sent to ${url.origin}` }), enc, 200);
        }
        if (outbox.stats.depth >= outbox.stats.capacity) {
          return send(reply, processor.refuse(m, { code: ReplyCode.tooManyPending, level: 'FATAL', reason: 'the outbox is full; send the request synchronously or later' }), enc, 200);
        }
        const ack = send(reply, processor.acknowledge(m), enc, 200);
        setImmediate(() => {
          const full = encodeMessage(processor.process(m), enc, ns, prefixes);
          void deliverer.send({ id: newId(), endpoint: url.href, kind: 'AsyncReply', body: full.body, contentType: full.contentType, queuedAt: Date.now() });
        });
        return ack;
      }
      return send(reply, processor.process(m), enc, 200);
    };
    child.post('/cim', { bodyLimit: bodyBytes }, handle);
    // DMS that post each service to its own URL (/cim/create/executeDERGroups, ...) reach the same handler.
    child.post('/cim/*', { bodyLimit: bodyBytes }, handle);

    child.get('/cim/status', async (req, reply) => {
      const q = (req.query as Record<string, string | undefined>)['groups'];
      const statuses: GroupStatus[] = [];
      if (q) {
        for (const name of q.split(',').map((s) => s.trim()).filter(Boolean)) {
          const g = system.registry.findGroup(name);
          if (!g) return reply.code(404).send({ error: `group ${JSON.stringify(name)} does not exist` });
          statuses.push(system.aggregator.status(g.mRID)!);
        }
      } else {
        for (const g of system.registry.allGroups()) statuses.push(system.aggregator.status(g.mRID)!);
      }
      return { statuses };
    });
    child.get('/cim/stats', async () => stats());
    child.get('/openapi.json', async () => doc);
    registerStream(child, system, pushes, { heartbeatMs: options.stream?.heartbeatMs ?? 15_000, maxBufferedBytes: options.stream?.maxBufferedBytes ?? 1024 * 1024 });
  };

  return {
    plugin,
    processor,
    pushes,
    deliverer,
    namespaces: ns,
    stats,
    start() {
      pushes.start();
      void deliverer.resume();
    },
    stop() {
      subs.unsubscribe();
      pushes.stop();
      configSchedules.stopAll();
      deliverer.stop();
    },
  };
}
