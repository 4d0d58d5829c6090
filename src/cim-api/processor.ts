import type { Registry } from '../core/registry.js';
import { CimFault, ReplyCode, errorFromException, fault, type CimError, type IdRef } from './codes.js';
import type { DecodeLimits, Document, Encoding } from './decode.js';
import { decodeBody, headerHint, readMessage, responseRootFor, type HeaderHint, type IncomingMessage, type OutMessage, type OutReply } from './envelope.js';
import { verbs, type Verb } from './enums.js';
import type { ConfigSchedules } from './handlers/config-schedule.js';
import type { ControlListener, Handler, HandlerContext, HandlerResult, VoltageRegulation } from './handlers/context.js';
import { createEndDeviceControls } from './handlers/controls.js';
import { cancelDispatches, createDispatches } from './handlers/dispatch.js';
import { changeGroups, createGroups, deleteGroups, executeOperationSet, getGroups } from './handlers/groups.js';
import { getForecasts, getStatuses } from './handlers/queries.js';
import { knownNamespaces, type CimNamespaces } from './namespaces.js';
import type { RenderContext } from './payloads.js';
import type { CimSystem } from './system.js';

/** Which verbs each noun takes on POST /cim, and who handles them. */
export const routes: Readonly<Record<string, Partial<Record<Verb, Handler>>>> = {
  DERGroups: { create: createGroups, change: changeGroups, delete: deleteGroups, get: getGroups },
  DERGroupStatuses: { get: getStatuses },
  DERGroupForecasts: { get: getForecasts },
  DERGroupDispatches: { create: createDispatches, cancel: cancelDispatches },
  EndDeviceControls: { create: createEndDeviceControls },
  OperationSet: { execute: executeOperationSet },
};

export interface ProcessorConfig {
  readonly ns: CimNamespaces;
  readonly render: RenderContext;
  readonly limits: DecodeLimits & { readonly maxObjects: number; readonly maxForecastIntervals: number };
  readonly strictNamespaces: boolean;
  readonly unknownObjectCode: string;
  readonly source: string;
  readonly voltage: VoltageRegulation;
  readonly newId: () => string;
}

/** A request read far enough to answer: the message, or what could be salvaged for a fault reply. */
export type Decoded =
  | { readonly ok: true; readonly message: IncomingMessage }
  | { readonly ok: false; readonly reply: OutMessage; readonly encoding: Encoding };

export interface ProcessorCounters {
  requests: number;
  ok: number;
  partial: number;
  failed: number;
  /** Bodies that could not be read as a message at all (FaultMessage answers). */
  malformed: number;
}

/**
 * Turns request bodies into replies: decode (hardened), read the envelope, route by Verb and
 * Noun, run the handler against the core, and assemble Reply (OK / PARTIAL / FAILED, one Error
 * per failed object, IDs of what was created or changed, CorrelationID echoed). Never throws.
 */
export class CimProcessor {
  readonly counters: ProcessorCounters = { requests: 0, ok: 0, partial: 0, failed: 0, malformed: 0 };
  private readonly known: Set<string>;

  constructor(
    private readonly system: CimSystem,
    private readonly config: ProcessorConfig,
    private readonly controls: ControlListener,
    private readonly configSchedules: ConfigSchedules,
  ) {
    this.known = knownNamespaces(config.ns);
  }

  decode(body: string, contentType: string | undefined): Decoded {
    this.counters.requests++;
    let doc: Document;
    try {
      doc = decodeBody(body, contentType, this.config.limits);
    } catch (e) {
      this.counters.malformed++;
      this.counters.failed++;
      const json = contentType ? /json/i.test(contentType) : false;
      return { ok: false, reply: this.faultMessage(errorsOf(e, this.config.unknownObjectCode)), encoding: json ? 'json' : 'xml' };
    }
    try {
      if (this.config.strictNamespaces) this.checkNamespaces(doc);
      return { ok: true, message: readMessage(doc) };
    } catch (e) {
      this.counters.failed++;
      return { ok: false, reply: this.failure(doc, headerHint(doc.body), errorsOf(e, this.config.unknownObjectCode)), encoding: doc.encoding };
    }
  }

  /** The full reply to a message that decoded. */
  process(message: IncomingMessage): OutMessage {
    const h = message.header;
    let result: HandlerResult;
    try {
      const handler = this.route(h.verb, h.noun);
      result = handler(this.context(message, this.system.registry));
    } catch (e) {
      // A fault of the whole message keeps every error it lists (several schema issues).
      result = { outcomes: errorsOf(e, this.config.unknownObjectCode).map((error) => ({ ok: false as const, error })) };
    }
    const reply = assemble(result);
    this.count(reply.result);
    return {
      root: responseRootFor(message.doc, this.config.ns),
      header: this.replyHeader(h.noun, correlationOf(h)),
      reply,
      payload: result.payload,
    };
  }

  /** The immediate answer to an asynchronous request (0.3, acknowledged). */
  acknowledge(message: IncomingMessage): OutMessage {
    return {
      root: responseRootFor(message.doc, this.config.ns),
      header: this.replyHeader(message.header.noun, correlationOf(message.header)),
      reply: { result: 'OK', errors: [{ code: ReplyCode.ack, level: 'INFORM', reason: `accepted; the reply follows at ${message.header.replyAddress}` }] },
    };
  }

  /** A reply refusing `message` as a whole with `error`. */
  refuse(message: IncomingMessage, error: CimError): OutMessage {
    this.count('FAILED');
    return this.failure(message.doc, { noun: message.header.noun, messageId: message.header.messageId, correlationId: message.header.correlationId }, [error]);
  }

  private route(verb: string, noun: string): Handler {
    if (!(verbs as readonly string[]).includes(verb)) throw fault(ReplyCode.invalidVerb, `unknown Verb ${JSON.stringify(verb)}`, { details: `IEC 61968-100 verbs: ${verbs.join(', ')}` });
    const byVerb = routes[noun];
    if (!byVerb) throw fault(ReplyCode.invalidNoun, `unsupported Noun ${JSON.stringify(noun)}`, { details: `supported: ${Object.keys(routes).join(', ')}` });
    const handler = byVerb[verb as Verb];
    if (!handler) throw fault(ReplyCode.invalidVerb, `Verb ${verb} does not apply to ${noun}`, { details: `${noun} takes ${Object.keys(byVerb).join(', ')}` });
    return handler;
  }

  private context(message: IncomingMessage, registry: Registry): HandlerContext {
    const c = this.config;
    return {
      system: this.system,
      registry,
      render: c.render,
      message,
      correlationId: correlationOf(message.header),
      newId: c.newId,
      maxObjects: c.limits.maxObjects,
      maxForecastIntervals: c.limits.maxForecastIntervals,
      unknownObjectCode: c.unknownObjectCode,
      controls: this.controls,
      configSchedules: this.configSchedules,
      voltage: c.voltage,
      live: true,
    };
  }

  private replyHeader(noun: string, correlationId: string | undefined) {
    return { verb: 'reply' as const, noun, timestamp: this.system.clock.now(), messageId: this.config.newId(), correlationId, source: this.config.source };
  }

  private failure(doc: Pick<Document, 'encoding' | 'rootName' | 'rootNs'>, hint: HeaderHint, errors: readonly CimError[]): OutMessage {
    if (!hint.noun) return this.faultMessage(errors);
    return {
      root: responseRootFor(doc, this.config.ns),
      header: this.replyHeader(hint.noun, hint.correlationId ?? hint.messageId),
      reply: { result: 'FAILED', errors },
    };
  }

  private faultMessage(errors: readonly CimError[]): OutMessage {
    return { root: { name: 'FaultMessage', ns: this.config.ns.message }, reply: { result: 'FAILED', errors } };
  }

  private checkNamespaces(doc: Document): void {
    const unknown = [...doc.namespaces].filter((n) => !this.known.has(n));
    if (unknown.length) throw fault(ReplyCode.invalidSchema, `elements in unknown namespace${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`);
  }

  private count(r: OutReply['result']): void {
    if (r === 'OK') this.counters.ok++;
    else if (r === 'PARTIAL') this.counters.partial++;
    else this.counters.failed++;
  }
}

/** Responders echo the request's CorrelationID, else its MessageID. */
export function correlationOf(h: { correlationId?: string | undefined; messageId?: string | undefined }): string | undefined {
  return h.correlationId ?? h.messageId;
}

function errorsOf(e: unknown, unknownObjectCode: string): readonly CimError[] {
  return e instanceof CimFault ? e.errors : [errorFromException(e, undefined, unknownObjectCode)];
}

/** Reply from per-object outcomes: all fine OK (0.0), none FAILED, else PARTIAL. */
export function assemble(r: HandlerResult): OutReply {
  const failed = r.outcomes.filter((o) => !o.ok);
  const okCount = r.outcomes.length - failed.length;
  const warnings = r.outcomes.flatMap((o) => (o.ok ? (o.warnings ?? []) : []));
  const ids: IdRef[] = [];
  const seen = new Set<string>();
  for (const o of r.outcomes) {
    if (!o.ok || !o.id) continue;
    const k = `${o.id.objectType}\u0000${o.id.value}`;
    if (!seen.has(k)) {
      seen.add(k);
      ids.push(o.id);
    }
  }
  const errors = failed.map((o) => (o.ok ? null : o.error)).filter((e): e is CimError => e !== null);
  if (failed.length === 0) return { result: 'OK', errors: [{ code: ReplyCode.ok, level: 'INFORM', reason: 'OK' }, ...warnings], ids };
  return { result: okCount === 0 ? 'FAILED' : 'PARTIAL', errors: [...errors, ...warnings], ids };
}
