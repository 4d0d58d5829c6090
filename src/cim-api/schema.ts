import { z } from 'zod';
import { derFunctionNames, type DerFunctionName } from '../core/model/group.js';
import { CimFault, ReplyCode, type CimError } from './codes.js';
import { curveStyleKinds, derParameterKinds, derUnitSymbols, flowDirectionKinds, timeIntervalKinds, unitMultiplierNames, verbs } from './enums.js';

/**
 * zod schemas of the profile documents, over the plain tree of decode.ts: every element may be
 * one value or an array (XML does not say), leaves are strings from XML or typed values from
 * JSON. Unknown children are accepted (later profile versions add some). Each issue becomes one
 * Reply Error with code 1.8 and an XPath-like location.
 */

/**
 * Leaves are one zod step each (a transform that checks and converts), not a chain of unions and
 * pipes: every request runs dozens of them, on the status-query hot path.
 */
type Ctx = z.core.$RefinementCtx;

/** Text of a leaf (string from XML, scalar from JSON); an element that also has attributes contributes its `#text`. */
function leafText(v: unknown, ctx: Ctx): string {
  const x = v !== null && typeof v === 'object' && !Array.isArray(v) && '#text' in v ? (v as { '#text': unknown })['#text'] : v;
  if (typeof x === 'string') return x.trim();
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  ctx.addIssue({ code: 'custom', message: x === undefined ? 'mandatory element missing' : `expected text, got ${Array.isArray(x) ? 'a repeated element' : typeof x === 'object' ? 'an element with children' : typeof x}`, input: x });
  return z.NEVER;
}

const leaf = <T>(check: (s: string, ctx: Ctx) => T) =>
  z.unknown().transform((v, ctx) => {
    const s = leafText(v, ctx);
    return s === z.NEVER ? z.NEVER : check(s, ctx);
  });
const bad = (ctx: Ctx, message: string): never => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

export const text = leaf((s) => s);
export const nonEmpty = leaf((s, ctx) => (s.length === 0 ? bad(ctx, 'must not be empty') : s.length > 1024 ? bad(ctx, 'at most 1024 characters') : s));
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const toNumber = (s: string, ctx: Ctx): number => {
  const x = NUMBER.test(s) ? Number(s) : NaN;
  return Number.isFinite(x) ? x : bad(ctx, 'must be a finite number');
};
export const num = leaf(toNumber);
export const int = leaf((s, ctx) => {
  const x = toNumber(s, ctx);
  return x === z.NEVER || Number.isInteger(x) ? x : bad(ctx, 'must be an integer');
});
export const posInt = leaf((s, ctx) => {
  const x = toNumber(s, ctx);
  return x === z.NEVER ? x : !Number.isInteger(x) ? bad(ctx, 'must be an integer') : x < 1 ? bad(ctx, 'must be at least 1') : x;
});
export const bool = leaf((s, ctx) => (s === 'true' || s === '1' ? true : s === 'false' || s === '0' ? false : bad(ctx, 'must be true or false')));
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/;
/** xs:dateTime; without an offset it is read as UTC. Epoch ms out. */
export const dateTime = leaf((s, ctx) => {
  if (!DATETIME.test(s)) return bad(ctx, 'must be an xs:dateTime such as 2024-05-01T10:00:00Z');
  const t = Date.parse(/(Z|[+-]\d{2}:\d{2})$/.test(s) ? s : `${s}Z`);
  return Number.isFinite(t) ? t : bad(ctx, 'is not a valid date and time');
});
export const enumText = <const T extends readonly [string, ...string[]]>(values: T) => {
  const set: ReadonlySet<string> = new Set(values);
  const expected = values.map((v) => JSON.stringify(v)).join('|');
  return leaf((s, ctx) => (set.has(s) ? (s as T[number]) : bad(ctx, `Invalid option: expected one of ${expected}`)));
};

/** An element with children, where an empty element (`<DERFunction/>`, JSON "") means none. */
export const node = <T extends z.ZodType>(s: T) => z.preprocess((v) => (v === '' ? {} : v), s);

/** An element that must appear at most once. */
export function one<T extends z.ZodType>(s: T) {
  return z.preprocess((v, ctx) => {
    if (Array.isArray(v)) {
      ctx.addIssue({ code: 'custom', message: 'must appear at most once' });
      return z.NEVER;
    }
    return v;
  }, s);
}
export const optOne = <T extends z.ZodType>(s: T) => one(s.optional());

/** A repeatable element, as an array; `min` 1 makes it mandatory. */
export function many<T extends z.ZodType>(s: T, min = 0) {
  return z.preprocess((v) => (v === undefined || v === '' ? [] : Array.isArray(v) ? v : [v]), z.array(s).min(min, 'mandatory element missing'));
}

export const nameSchema = z.object({ name: one(nonEmpty) }).loose();
/** A reference to a group or device: by mRID, or by one of its names. */
export const refSchema = z.object({ mRID: optOne(nonEmpty), Names: many(nameSchema) }).loose();
export type Ref = z.output<typeof refSchema>;

const flags = Object.fromEntries(derFunctionNames.map((n) => [n, optOne(bool)])) as Record<DerFunctionName, ReturnType<typeof optOne<typeof bool>>>;
export const derFunctionSchema = node(z.object(flags).loose());

export const versionSchema = node(z.object({ date: optOne(dateTime), major: optOne(int), minor: optOne(int), revision: optOne(int) }).loose());

/** Extension: a volt-var or volt-watt curve, x in % of nominal voltage, y1 in % of rating. */
export const curveSchema = z.object({ CurveData: many(z.object({ xvalue: one(num), y1value: one(num) }).loose(), 1) }).loose();
export type CurveInput = z.output<typeof curveSchema>;

const groupFields = {
  description: optOne(text),
  EndDevices: many(refSchema),
  version: optOne(versionSchema),
  VoltVarCurve: optOne(curveSchema),
  VoltWattCurve: optOne(curveSchema),
};
export const groupSchema = refSchema.extend({ ...groupFields, DERFunction: optOne(derFunctionSchema) });
export type GroupInput = z.output<typeof groupSchema>;
/** DERGroups for create: DERFunction is mandatory there. */
export const derGroupsCreateSchema = z.object({ EndDeviceGroup: many(refSchema.extend({ ...groupFields, DERFunction: one(derFunctionSchema) }), 1) }).loose();
export const derGroupsSchema = z.object({ EndDeviceGroup: many(groupSchema, 1) }).loose();

export const groupQueriesSchema = node(z.object({ EndDeviceGroup: many(refSchema) }).loose());

const derParameter = enumText(derParameterKinds);
export const forecastQueriesSchema = z
  .object({
    DERMonitorableParameter: many(z.object({ DERParameter: one(derParameter), flowDirection: optOne(enumText(flowDirectionKinds)) }).loose(), 1),
    DispatchSchedule: many(
      z
        .object({
          curveStyleKind: one(enumText(curveStyleKinds)),
          numberOfIntervals: one(posInt),
          startTime: one(dateTime),
          timeIntervalDuration: one(posInt),
          timeIntervalUnit: one(enumText(timeIntervalKinds)),
        })
        .loose(),
      1,
    ),
    EndDeviceGroup: many(refSchema, 1),
  })
  .loose();

export const dispatchScheduleSchema = z
  .object({
    curveStyleKind: one(enumText(curveStyleKinds)),
    startTime: one(dateTime),
    timeIntervalDuration: one(posInt),
    timeIntervalUnit: one(enumText(timeIntervalKinds)),
    DERCurveData: many(z.object({ intervalNumber: one(posInt), nominalYValue: one(num) }).loose(), 1),
  })
  .loose();
export type DispatchScheduleInput = z.output<typeof dispatchScheduleSchema>;

export const dispatchParameterSchema = z
  .object({
    DERParameter: one(derParameter),
    flowDirection: optOne(enumText(flowDirectionKinds)),
    yMultiplier: one(enumText(unitMultiplierNames)),
    yUnit: one(enumText(derUnitSymbols)),
    DispatchSchedule: many(dispatchScheduleSchema, 1),
    /** Extension: the voltage a `voltage` dispatch is relative to, same unit and multiplier. */
    baseVoltage: optOne(num),
  })
  .loose();
export type DispatchParameterInput = z.output<typeof dispatchParameterSchema>;

export const derGroupDispatchesSchema = z
  .object({
    DERGroupDispatch: many(
      z
        .object({
          mRID: optOne(nonEmpty),
          EndDeviceGroup: one(refSchema.extend({ DERMonitorableParameter: optOne(dispatchParameterSchema), VoltVarCurve: optOne(curveSchema), VoltWattCurve: optOne(curveSchema) })),
          Names: many(nameSchema),
        })
        .loose()
        .superRefine((d, ctx) => {
          const g = d.EndDeviceGroup;
          const n = [g.DERMonitorableParameter, g.VoltVarCurve, g.VoltWattCurve].filter((x) => x !== undefined).length;
          if (n !== 1) ctx.addIssue({ code: 'custom', path: ['EndDeviceGroup'], message: 'needs exactly one of DERMonitorableParameter, VoltVarCurve, VoltWattCurve' });
        }),
      1,
    ),
  })
  .loose();
export type DispatchInput = z.output<typeof derGroupDispatchesSchema>['DERGroupDispatch'][number];

/** For cancel: dispatches named by mRID or Names. */
export const dispatchRefsSchema = z.object({ DERGroupDispatch: many(z.object({ mRID: optOne(nonEmpty), Names: many(nameSchema) }).loose(), 1) }).loose();

export const endDeviceControlsSchema = z
  .object({
    EndDeviceControl: many(
      z
        .object({
          mRID: optOne(nonEmpty),
          EndDeviceControlType: one(z.object({ '@ref': one(nonEmpty) }).loose()),
          EndDeviceGroups: many(refSchema),
          EndDevices: many(refSchema),
          reason: optOne(text),
        })
        .loose(),
      1,
    ),
  })
  .loose();
export type ControlInput = z.output<typeof endDeviceControlsSchema>['EndDeviceControl'][number];

export const operationSetSchema = z
  .object({
    enforceMsgSequence: optOne(bool),
    enforceTransactionalIntegrity: optOne(bool),
    Operation: many(
      z
        .object({
          operationId: one(int),
          noun: optOne(text),
          verb: optOne(enumText(verbs)),
          elementOperation: optOne(bool),
          DERGroups: optOne(z.unknown()),
        })
        .loose(),
      1,
    ),
  })
  .loose();

/** Reply as read by a DMS (our client and listener): lenient, for printing and exit codes. */
export const replySchema = z
  .object({
    Result: one(enumText(['OK', 'PARTIAL', 'FAILED'])),
    Error: many(
      z
        .object({
          code: one(text),
          level: optOne(text),
          reason: optOne(text),
          details: optOne(text),
          xpath: optOne(text),
          operationId: optOne(int),
          ID: optOne(z.unknown()),
        })
        .loose(),
    ),
    ID: many(z.unknown()),
  })
  .loose();
export type ReplyInput = z.output<typeof replySchema>;

/** `A/B[2]/C` from a zod path under `base`. */
export function xpathOf(base: string, path: readonly PropertyKey[]): string {
  let out = base;
  for (const p of path) out += typeof p === 'number' ? `[${p + 1}]` : `/${String(p)}`;
  return out;
}

const MAX_REPORTED = 20;
const missing = (iss: { input?: unknown; code?: string }): string | undefined => (iss.input === undefined && iss.code === 'invalid_type' ? 'mandatory element missing' : undefined);

/** Parse `value` at `base` or throw a CimFault with one 1.8 Error per issue (at most 20). */
export function parseProfile<S extends z.ZodType>(schema: S, value: unknown, base: string): z.output<S> {
  const r = schema.safeParse(value, { error: missing });
  if (r.success) return r.data;
  const errors: CimError[] = r.error.issues.slice(0, MAX_REPORTED).map((i) => {
    const xpath = xpathOf(base, i.path);
    return { code: ReplyCode.invalidSchema, level: 'FATAL', reason: `${xpath}: ${i.message}`, xpath };
  });
  throw new CimFault(errors);
}
