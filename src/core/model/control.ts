import { z } from 'zod';
import { mrid } from './der.js';
import { parseWith } from './validate.js';

const finite = z.number();

/** Volt-var: x in percent of nominal voltage, y in percent of the DER's max var (inject positive). */
export const voltVarPoint = z.object({ v: finite.gt(0).max(200), var: finite.min(-100).max(100) }).strict();
/** Volt-watt: x in percent of nominal voltage, y in percent of the DER's max W. */
export const voltWattPoint = z.object({ v: finite.gt(0).max(200), w: finite.min(-100).max(100) }).strict();

function increasingV<T extends { v: number }>(pts: T[], ctx: z.RefinementCtx): void {
  for (let i = 1; i < pts.length; i++) {
    if (pts[i]!.v <= pts[i - 1]!.v) ctx.addIssue({ code: 'custom', path: [i, 'v'], message: 'voltages must strictly increase' });
  }
}
export const voltVarCurveSchema = z.array(voltVarPoint).min(2).max(10).superRefine(increasingV);
export const voltWattCurveSchema = z.array(voltWattPoint).min(2).max(10).superRefine(increasingV);
export type VoltVarCurve = z.output<typeof voltVarCurveSchema>;
export type VoltWattCurve = z.output<typeof voltWattCurveSchema>;

/** IEEE 1547-2018 category B default volt-var curve (Table 8), V in % of nominal, var in % of rating. */
export const defaultVoltVarCurveB: VoltVarCurve = [
  { v: 92, var: 44 },
  { v: 98, var: 0 },
  { v: 102, var: 0 },
  { v: 108, var: -44 },
];

export const rampUnits = ['W/s', '%/s'] as const;
export const rampRatesSchema = z
  .object({
    increasing: finite.positive().optional(),
    decreasing: finite.positive().optional(),
    unit: z.enum(rampUnits).default('%/s'),
  })
  .strict()
  .refine((r) => r.increasing !== undefined || r.decreasing !== undefined, 'give increasing, decreasing or both');
export type RampRates = z.output<typeof rampRatesSchema>;

export const powerUnits = ['W', '%'] as const;
export type PowerUnit = (typeof powerUnits)[number];
export const reactiveUnits = ['var', '%'] as const;
export const excitations = ['injecting', 'absorbing'] as const;
export type Excitation = (typeof excitations)[number];

/**
 * A group control. Scalar controls take `value` or, when dispatched with a schedule, the
 * schedule's y values (then `value` is ignored). `%` means percent of the group's installed rating
 * in the relevant direction.
 */
export const controlSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('activePower'), value: finite.optional(), unit: z.enum(powerUnits).default('W') }).strict(),
  z.object({ kind: z.literal('reactivePower'), value: finite.optional(), unit: z.enum(reactiveUnits).default('var') }).strict(),
  z.object({ kind: z.literal('powerFactor'), value: finite.gt(0).max(1).optional(), excitation: z.enum(excitations).default('injecting') }).strict(),
  z.object({ kind: z.literal('activePowerLimit'), value: finite.min(0).optional(), unit: z.enum(powerUnits).default('%') }).strict(),
  z.object({ kind: z.literal('voltVar'), curve: voltVarCurveSchema }).strict(),
  z.object({ kind: z.literal('voltWatt'), curve: voltWattCurveSchema }).strict(),
  z.object({ kind: z.literal('rampRates'), rates: rampRatesSchema }).strict(),
  z.object({ kind: z.literal('connect'), connected: z.boolean() }).strict(),
]);
export type Control = z.output<typeof controlSchema>;
export type ControlKind = Control['kind'];
export const scalarControlKinds = ['activePower', 'reactivePower', 'powerFactor', 'activePowerLimit'] as const;
export type ScalarControlKind = (typeof scalarControlKinds)[number];
export function isScalarControl(c: Control): c is Extract<Control, { kind: ScalarControlKind }> {
  return (scalarControlKinds as readonly string[]).includes(c.kind);
}

/**
 * Which device function a control occupies. Controls in one slot exclude each other (IEEE 1547
 * allows one reactive-power mode at a time), so a new request supersedes any other in its slot.
 */
export type ControlSlot = 'activePower' | 'activePowerLimit' | 'reactive' | 'voltWatt' | 'rampRates' | 'connect';
export function slotOf(kind: ControlKind): ControlSlot {
  switch (kind) {
    case 'reactivePower':
    case 'powerFactor':
    case 'voltVar':
      return 'reactive';
    default:
      return kind;
  }
}

export const timeIntervalUnits = ['s', 'm', 'h', 'D', 'M', 'Y'] as const;
export type TimeIntervalUnit = (typeof timeIntervalUnits)[number];
export const curveStyles = ['constantYValue', 'straightLineYValues'] as const;
export type CurveStyle = (typeof curveStyles)[number];

export const scheduleSchema = z
  .object({
    /** Epoch milliseconds of the start of interval 1. */
    start: finite.int().min(0),
    intervalDuration: finite.int().positive(),
    intervalUnit: z.enum(timeIntervalUnits),
    curveStyle: z.enum(curveStyles),
    /** y value at each interval (1-based), as in IEC 61968-5 DERCurveData. */
    points: z
      .array(z.object({ interval: finite.int().min(1), value: finite }).strict())
      .min(1)
      .max(10_000),
    /** How often an interpolated (straightLineYValues) setpoint is re-issued. */
    stepMs: finite.int().min(100).default(60_000),
  })
  .strict()
  .superRefine((s, ctx) => {
    for (let i = 1; i < s.points.length; i++) {
      if (s.points[i]!.interval <= s.points[i - 1]!.interval) {
        ctx.addIssue({ code: 'custom', path: ['points', i, 'interval'], message: 'interval numbers must strictly increase' });
      }
    }
  });
export type Schedule = z.output<typeof scheduleSchema>;

export const allocationPolicies = ['headroom', 'rating', 'soc-balance', 'priority'] as const;
export type AllocationPolicy = (typeof allocationPolicies)[number];

export const dispatchSchema = z
  .object({
    mRID: mrid,
    groupId: mrid,
    control: controlSchema,
    schedule: scheduleSchema.optional(),
    policy: z.enum(allocationPolicies).default('headroom'),
    /** For the priority policy: lower number dispatched first; unlisted members last. */
    priorities: z.record(z.string(), finite.int()).optional(),
    /** After a schedule's last interval: return the slot to the device default, or hold the last value. */
    onEnd: z.enum(['restoreDefault', 'hold']).default('restoreDefault'),
  })
  .strict()
  .superRefine((d, ctx) => {
    const c = d.control;
    if (isScalarControl(c)) {
      if (c.value === undefined && !d.schedule) ctx.addIssue({ code: 'custom', path: ['control', 'value'], message: `${c.kind} needs a value or a schedule` });
      if (c.kind === 'powerFactor' && d.schedule) {
        d.schedule.points.forEach((p, i) => {
          if (!(p.value > 0 && p.value <= 1)) ctx.addIssue({ code: 'custom', path: ['schedule', 'points', i, 'value'], message: 'power factor must be in (0, 1]' });
        });
      }
      if (c.kind === 'activePowerLimit' && d.schedule) {
        d.schedule.points.forEach((p, i) => {
          if (p.value < 0) ctx.addIssue({ code: 'custom', path: ['schedule', 'points', i, 'value'], message: 'a limit must not be negative' });
        });
      }
    } else if (d.schedule) {
      ctx.addIssue({ code: 'custom', path: ['schedule'], message: `${c.kind} takes no schedule of values` });
    }
  });
export type Dispatch = z.output<typeof dispatchSchema>;
export type DispatchInput = z.input<typeof dispatchSchema>;

export function parseDispatch(value: unknown): Dispatch {
  return parseWith(dispatchSchema, value, 'dispatch');
}
