import type { Der } from '../../core/model/der.js';
import type { ApplyOutcome } from '../../core/model/setpoint.js';
import type { DerGroup } from '../../core/model/group.js';
import type { Registry } from '../../core/registry.js';
import { ReplyCode, errorFromException, fault, type CimError, type IdRef } from '../codes.js';
import type { PlainObject } from '../decode.js';
import type { IncomingMessage } from '../envelope.js';
import type { RenderContext } from '../payloads.js';
import type { Ref } from '../schema.js';
import type { CimSystem } from '../system.js';
import type { El } from '../tree.js';
import type { ConfigSchedules } from './config-schedule.js';

/** Told when a connect/disconnect goes out, so device outcomes become EndDeviceEvents. */
export interface ControlListener {
  /** A group connect/disconnect dispatch `dispatchId` for the request with `correlationId`. */
  groupControl(dispatchId: string, correlationId: string | undefined): void;
  /** What a device did with a connect/disconnect sent to it alone. */
  deviceControlled(derId: string, connected: boolean, correlationId: string | undefined, outcome: ApplyOutcome): void;
}

export interface VoltageRegulation {
  /** Half-width of the no-reaction band around the target, % of the base voltage. */
  readonly deadbandPct: number;
  /** Distance from the target at which the var limit is reached, % of the base voltage. */
  readonly fullResponsePct: number;
  /** Var at full response, % of each DER's var rating. */
  readonly maxVarPct: number;
}

export interface HandlerContext {
  readonly system: CimSystem;
  /** The registry to act on (a scratch copy while an OperationSet is checked for integrity). */
  readonly registry: Registry;
  readonly render: RenderContext;
  readonly message: IncomingMessage;
  readonly correlationId: string | undefined;
  readonly newId: () => string;
  readonly maxObjects: number;
  readonly maxForecastIntervals: number;
  readonly unknownObjectCode: string;
  readonly controls: ControlListener;
  readonly configSchedules: ConfigSchedules;
  readonly voltage: VoltageRegulation;
  /** False during an integrity check: change nothing outside the registry. */
  readonly live: boolean;
}

/** The outcome for one object of a request. */
export type Outcome =
  | { readonly ok: true; readonly id?: IdRef | undefined; readonly warnings?: readonly CimError[] | undefined }
  | { readonly ok: false; readonly error: CimError };

export interface HandlerResult {
  readonly outcomes: readonly Outcome[];
  /** Profile documents for the reply's Payload. */
  readonly payload?: readonly El[] | undefined;
}

export type Handler = (ctx: HandlerContext) => HandlerResult;

/** The reference as a Reply ID: uuid when an mRID is given, else its first name. */
export function refId(ref: Ref, objectType: string): IdRef | undefined {
  if (ref.mRID) return { value: ref.mRID, kind: 'uuid', objectType };
  const n = ref.Names[0]?.name;
  return n === undefined ? undefined : { value: n, kind: 'name', objectType };
}

export function groupId(g: DerGroup): IdRef {
  return { value: g.mRID, kind: 'uuid', objectType: 'DERGroup' };
}

/** The group a reference names: by mRID, else by any of its names. */
export function resolveGroup(ctx: HandlerContext, ref: Ref): DerGroup {
  if (!ref.mRID && ref.Names.length === 0) throw fault(ReplyCode.mandatoryMissing, 'EndDeviceGroup names no group: give mRID or Names/name');
  const g = (ref.mRID ? ctx.registry.group(ref.mRID) : undefined) ?? ref.Names.map((n) => ctx.registry.findGroup(n.name)).find((x) => x !== undefined);
  if (!g) throw fault(ctx.unknownObjectCode, `DERGroup ${refId(ref, 'DERGroup')!.value} does not exist`, { id: refId(ref, 'DERGroup') });
  return g;
}

/** The DERs the references name: by mRID, else by DER name. */
export function resolveDers(ctx: HandlerContext, refs: readonly Ref[]): Der[] {
  let byName: Map<string, Der> | undefined;
  return refs.map((ref) => {
    if (ref.mRID) {
      const d = ctx.registry.der(ref.mRID);
      if (d) return d;
    }
    for (const n of ref.Names) {
      byName ??= new Map([...ctx.registry.allDers()].map((d) => [d.name, d]));
      const d = byName.get(n.name);
      if (d) return d;
    }
    const id = refId(ref, 'EndDevice');
    if (!id) throw fault(ReplyCode.mandatoryMissing, 'EndDevices names no device: give mRID or Names/name');
    throw fault(ctx.unknownObjectCode, `EndDevice ${id.value} does not exist`, { id });
  });
}

/** Run `fn` for one object; anything it throws becomes that object's error. */
export function attempt(ctx: HandlerContext, id: IdRef | undefined, fn: () => Outcome): Outcome {
  try {
    return fn();
  } catch (e) {
    return { ok: false, error: errorFromException(e, id, ctx.unknownObjectCode) };
  }
}

/** The profile document `name` inside Payload; 1.7 when there is none. */
export function payloadDoc(ctx: HandlerContext, name: string): unknown {
  const p = ctx.message.payload;
  if (!p) throw fault(ReplyCode.missingPayload, `${ctx.message.header.verb} ${ctx.message.header.noun} needs a Payload`);
  const doc = p[name];
  if (doc === undefined) throw fault(ReplyCode.missingPayload, `the Payload holds no ${name}`, { details: `found: ${Object.keys(p).join(', ') || 'nothing'}` });
  return doc === '' ? {} : doc;
}

/** The query document `name` inside Request; 1.6 when there is none. */
export function requestDoc(ctx: HandlerContext, name: string): unknown {
  const r: PlainObject | undefined = ctx.message.request;
  if (!r) throw fault(ReplyCode.missingRequest, `get ${ctx.message.header.noun} needs a Request holding ${name}`);
  const doc = r[name];
  if (doc === undefined) throw fault(ReplyCode.missingRequest, `the Request holds no ${name}`);
  return doc === '' ? {} : doc;
}

export function tooMany(ctx: HandlerContext, n: number, what: string): void {
  if (n > ctx.maxObjects) throw fault(ReplyCode.tooMany, `${n} ${what} in one message; at most ${ctx.maxObjects}`);
}
