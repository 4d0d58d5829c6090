/**
 * The DNP3 DER point map: which outstation point carries which quantity of our model, and how it
 * is scaled. The facts live in `der-points.json`; this module names the points the code uses,
 * validates a map and merges a user's overrides over the built-in one.
 */
import { z } from 'zod';
import { ValidationError, type ErrorIssue } from '../../../core/errors.js';
import builtIn from './der-points.json' with { type: 'json' };

export const pointTypes = ['AI', 'BI', 'AO', 'BO', 'counter'] as const;
export type PointType = (typeof pointTypes)[number];

/** Every point the code knows, by our id, with the DNP3 type it must have. */
export const pointRoles = {
  'ai.nameplateW': 'AI',
  'ai.nameplateChargeW': 'AI',
  'ai.nameplateVarInject': 'AI',
  'ai.nameplateVarAbsorb': 'AI',
  'ai.nameplateVA': 'AI',
  'ai.nameplateWh': 'AI',
  'ai.normalCategory': 'AI',
  'ai.abnormalCategory': 'AI',
  'ai.vRef': 'AI',
  'ai.availW': 'AI',
  'ai.availChargeW': 'AI',
  'ai.availVarInject': 'AI',
  'ai.availVarAbsorb': 'AI',
  'ai.socActual': 'AI',
  'ai.soc': 'AI',
  'ai.activePowerLimitRampTime': 'AI',
  'ai.activePowerLimitGen': 'AI',
  'ai.activePowerTargetRampTime': 'AI',
  'ai.activePowerTarget': 'AI',
  'ai.rampUp': 'AI',
  'ai.rampDown': 'AI',
  'ai.voltWattCurveIndex': 'AI',
  'ai.constantVarTarget': 'AI',
  'ai.pfGen': 'AI',
  'ai.pfCharge': 'AI',
  'ai.voltVarCurveIndex': 'AI',
  'ai.curveEditSelector': 'AI',
  'ai.curveModeType': 'AI',
  'ai.curvePointCount': 'AI',
  'ai.curveXUnits': 'AI',
  'ai.curveYUnits': 'AI',
  'ai.curveX': 'AI',
  'ai.curveY': 'AI',
  'ai.hz': 'AI',
  'ai.w': 'AI',
  'ai.var': 'AI',
  'ai.pf': 'AI',
  'ai.va': 'AI',
  'ai.vPhaseA': 'AI',
  'ai.vAvgLL': 'AI',
  'bi.alarmP1': 'BI',
  'bi.starting': 'BI',
  'bi.stopping': 'BI',
  'bi.started': 'BI',
  'bi.stopped': 'BI',
  'bi.connectedIdle': 'BI',
  'bi.connectedGenerating': 'BI',
  'bi.connectedCharging': 'BI',
  'bi.offAvailable': 'BI',
  'bi.offNotAvailable': 'BI',
  'bi.switchClosed': 'BI',
  'bi.pfExcitationGen': 'BI',
  'bi.pfExcitationCharge': 'BI',
  'bi.freqWattEnabled': 'BI',
  'bi.activePowerLimitEnabled': 'BI',
  'bi.chargeDischargeEnabled': 'BI',
  'bi.voltWattEnabled': 'BI',
  'bi.constantVarEnabled': 'BI',
  'bi.fixedPfEnabled': 'BI',
  'bi.voltVarEnabled': 'BI',
  'bo.connect': 'BO',
  'bo.pfExcitationGen': 'BO',
  'bo.pfExcitationCharge': 'BO',
  'bo.activePowerLimitEnable': 'BO',
  'bo.chargeDischargeEnable': 'BO',
  'bo.voltWattEnable': 'BO',
  'bo.constantVarEnable': 'BO',
  'bo.fixedPfEnable': 'BO',
  'bo.voltVarEnable': 'BO',
  'ao.activePowerLimitRampTime': 'AO',
  'ao.activePowerLimitGen': 'AO',
  'ao.activePowerTargetRampTime': 'AO',
  'ao.activePowerTarget': 'AO',
  'ao.rampUp': 'AO',
  'ao.rampDown': 'AO',
  'ao.voltWattCurveIndex': 'AO',
  'ao.constantVarTarget': 'AO',
  'ao.pfGen': 'AO',
  'ao.pfCharge': 'AO',
  'ao.voltVarCurveIndex': 'AO',
  'ao.curveEditSelector': 'AO',
  'ao.curveModeType': 'AO',
  'ao.curvePointCount': 'AO',
  'ao.curveXUnits': 'AO',
  'ao.curveYUnits': 'AO',
  'ao.curveX': 'AO',
  'ao.curveY': 'AO',
  'counter.exportedWh': 'counter',
  'counter.importedWh': 'counter',
} as const satisfies Record<string, PointType>;

export type PointRole = keyof typeof pointRoles;
type RolesOf<T extends PointType> = { [K in PointRole]: (typeof pointRoles)[K] extends T ? K : never }[PointRole];
export type AiRole = RolesOf<'AI'>;
export type BiRole = RolesOf<'BI'>;
export type AoRole = RolesOf<'AO'>;
export type BoRole = RolesOf<'BO'>;
export type CounterRole = RolesOf<'counter'>;

/** Curve points are blocks of indexes (X1, Y1, X2, Y2 ...); every other point is one index. */
const repeatedRoles: ReadonlySet<PointRole> = new Set(['ai.curveX', 'ai.curveY', 'ao.curveX', 'ao.curveY']);

const isRole = (s: string): s is PointRole => Object.hasOwn(pointRoles, s);

const nonZero = z.number().refine((m) => m !== 0, 'must not be 0');
const repeatSchema = z.object({ count: z.number().int().min(1).max(100), stride: z.number().int().min(1).max(16) }).strict();

/** Fields of one point; the full schema adds defaults, the override schema leaves them out. */
const pointFields = {
  type: z.enum(pointTypes),
  index: z.number().int().min(0).max(65_535),
  units: z.string().min(1),
  multiplier: nonZero,
  offset: z.number(),
  range: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => lo <= hi, 'range minimum exceeds its maximum'),
  repeat: repeatSchema,
  selectRequired: z.boolean(),
  means: z.string().min(1),
  note: z.string(),
};

const pointSchema = z
  .object({
    ...pointFields,
    units: pointFields.units.optional(),
    multiplier: pointFields.multiplier.default(1),
    offset: pointFields.offset.default(0),
    range: pointFields.range.optional(),
    repeat: pointFields.repeat.optional(),
    selectRequired: pointFields.selectRequired.default(false),
    note: pointFields.note.optional(),
  })
  .strict();
export type PointDef = z.output<typeof pointSchema>;

const curveFields = {
  /** Curve slots the device keeps (AO244 selects 1..slots). */
  slots: z.number().int().min(2).max(100),
  /** Most points a curve may have (at most the repeat count of the point blocks). */
  maxPoints: z.number().int().min(2).max(100),
  /** Slots the DERMS edits for volt-var and volt-watt. */
  voltVarSlot: z.number().int().min(1),
  voltWattSlot: z.number().int().min(1),
  /** AN2018 enumerations: AO245 mode type, AO247 X units, AO248 Y units. */
  voltVarModeType: z.number().int().min(1),
  voltWattModeType: z.number().int().min(1),
  xUnitsPercentVoltage: z.number().int().min(1),
  yUnitsPercentVar: z.number().int().min(1),
  yUnitsPercentW: z.number().int().min(1),
};
const curvesSchema = z.object(curveFields).strict();
export type CurveConfig = z.output<typeof curvesSchema>;

const mapSchema = z
  .object({
    profile: z.string().min(1),
    about: z.array(z.string()).optional(),
    points: z.record(z.string(), pointSchema),
    curves: curvesSchema,
  })
  .strict()
  .superRefine((m, ctx) => {
    for (const issue of mapProblems(m)) ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  });

const overrideSchema = z
  .object({
    profile: z.string().min(1).optional(),
    about: z.array(z.string()).optional(),
    points: z.record(z.string(), z.object(pointFields).partial().strict().nullable()).optional(),
    curves: curvesSchema.partial().optional(),
  })
  .strict();

export interface DerPointMap {
  readonly profile: string;
  readonly about?: readonly string[] | undefined;
  /** Points the device has, by our id; an absent id is a point the device does not have. */
  readonly points: Readonly<Partial<Record<PointRole, PointDef>>>;
  readonly curves: CurveConfig;
}

type ParsedMap = z.output<typeof mapSchema>;

/** Consistency that a schema per field cannot see: known ids, types, index clashes, curve blocks. */
function mapProblems(m: ParsedMap): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const taken = new Map<string, string>();
  for (const [id, p] of Object.entries(m.points)) {
    if (!isRole(id)) {
      out.push({ path: ['points', id], message: 'unknown point id (der-points.json and the README of src/protocols/dnp3/der-profile list them)' });
      continue;
    }
    const want = pointRoles[id];
    if (p.type !== want) out.push({ path: ['points', id, 'type'], message: `must be ${want}, not ${p.type}` });
    const analog = p.type === 'AI' || p.type === 'AO' || p.type === 'counter';
    if (analog && p.units === undefined) out.push({ path: ['points', id, 'units'], message: `a ${p.type} point needs units` });
    if (repeatedRoles.has(id) !== (p.repeat !== undefined)) {
      out.push({ path: ['points', id, 'repeat'], message: repeatedRoles.has(id) ? 'a curve point block needs repeat { count, stride }' : 'only curve point blocks repeat' });
    }
    for (const index of occupied(p)) {
      if (index > 65_535) {
        out.push({ path: ['points', id, 'repeat'], message: `block runs past index 65535` });
        break;
      }
      const key = `${p.type}:${index}`;
      const other = taken.get(key);
      if (other !== undefined) out.push({ path: ['points', id, 'index'], message: `${p.type}${index} is also ${other}` });
      else taken.set(key, id);
    }
  }
  const c = m.curves;
  for (const k of ['voltVarSlot', 'voltWattSlot'] as const) {
    if (c[k] > c.slots) out.push({ path: ['curves', k], message: `slot ${c[k]} exceeds the ${c.slots} slots` });
  }
  if (c.voltVarSlot === c.voltWattSlot) out.push({ path: ['curves', 'voltWattSlot'], message: 'volt-var and volt-watt need different slots' });
  if (c.voltVarModeType === c.voltWattModeType) out.push({ path: ['curves', 'voltWattModeType'], message: 'volt-var and volt-watt need different mode types' });
  for (const id of repeatedRoles) {
    const count = (m.points[id] as PointDef | undefined)?.repeat?.count;
    if (count !== undefined && count < c.maxPoints) out.push({ path: ['points', id, 'repeat', 'count'], message: `${count} points are fewer than curves.maxPoints ${c.maxPoints}` });
  }
  return out;
}

/** Indexes a point occupies (one, or a block for curve points). */
export function occupied(p: PointDef): number[] {
  const n = p.repeat?.count ?? 1;
  return Array.from({ length: n }, (_, k) => indexAt(p, k));
}

/** Index of element `k` (0-based) of a point block; the point's own index for k = 0. */
export function indexAt(p: PointDef, k: number): number {
  return p.index + k * (p.repeat?.stride ?? 1);
}

function toIssues(e: z.ZodError): ErrorIssue[] {
  return e.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
}

/** Validate a complete map; `what` names it in errors (a file name, "built-in ..."). */
export function parseDerPointMap(value: unknown, what: string): DerPointMap {
  const r = mapSchema.safeParse(value);
  if (!r.success) throw new ValidationError(what, toIssues(r.error));
  return r.data as DerPointMap;
}

/**
 * `override` over `base`: each point's fields replace the base's, `null` removes a point, curve
 * settings replace one by one. The result is validated as a whole, so a clash a user creates
 * (two ids on one index) is reported against the entry that moved.
 */
export function mergeDerPointMap(base: DerPointMap, override: unknown, what: string): DerPointMap {
  const r = overrideSchema.safeParse(override);
  if (!r.success) throw new ValidationError(what, toIssues(r.error));
  const o = r.data;
  const points: Record<string, unknown> = { ...base.points };
  for (const [id, patch] of Object.entries(o.points ?? {})) {
    if (patch === null) {
      if (!isRole(id)) throw new ValidationError(what, [{ path: `points.${id}`, message: 'unknown point id' }]);
      delete points[id];
    } else {
      points[id] = { ...(points[id] as object | undefined), ...definedFields(patch) };
    }
  }
  return parseDerPointMap(
    {
      profile: o.profile ?? base.profile,
      about: o.about ?? base.about,
      points,
      curves: { ...base.curves, ...definedFields(o.curves ?? {}) },
    },
    what,
  );
}

function definedFields(o: object): object {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** The map shipped with the project (der-points.json). */
export const defaultDerPointMap: DerPointMap = parseDerPointMap(builtIn, 'built-in DNP3 DER point map');

// ---- Scaling -------------------------------------------------------------------------------

/** Engineering value -> raw integer: round((value - offset) x multiplier), half away from zero. */
export function toRaw(p: PointDef, value: number): number {
  const x = (value - p.offset) * p.multiplier;
  return Math.sign(x) * Math.round(Math.abs(x)) + 0;
}

/** Raw integer -> engineering value. */
export function fromRaw(p: PointDef, raw: number): number {
  return raw / p.multiplier + p.offset;
}

/** The smallest step a point can express, in engineering units. */
export function quantum(p: PointDef): number {
  return 1 / Math.abs(p.multiplier);
}

/** Human name of a point for messages: `AO88 (ao.activePowerLimitGen)`. */
export function describe(role: PointRole, p: PointDef, k = 0): string {
  const t = p.type === 'counter' ? 'C' : p.type;
  return `${t}${indexAt(p, k)} (${role}${p.repeat ? `[${k + 1}]` : ''})`;
}
