import { z } from 'zod';
import { voltVarCurveSchema, voltWattCurveSchema } from '../core/model/control.js';
import type { Ieee1547Settings } from './fleet-spec.js';

const nonNeg = z.number().min(0);
const positive = z.number().positive();

/** Every writable IEEE 1547 setting, with its valid range. */
export const settingsSchema = z
  .object({
    activePowerLimitPct: z.number().min(0).max(100).nullable(),
    reactiveMode: z.enum(['none', 'constantPf', 'constantVar', 'voltVar']),
    pf: z.number().gt(0).max(1),
    pfExcitation: z.enum(['injecting', 'absorbing']),
    constantVarPct: z.number().min(-100).max(100),
    voltVarCurve: voltVarCurveSchema,
    voltVarResponseS: positive.max(90),
    voltWattEnabled: z.boolean(),
    voltWattCurve: voltWattCurveSchema,
    voltWattResponseS: positive.max(60),
    freqWattEnabled: z.boolean(),
    fwDbOverHz: nonNeg.max(1),
    fwDbUnderHz: nonNeg.max(1),
    fwKOver: z.number().min(0.02).max(0.07),
    fwKUnder: z.number().min(0.02).max(0.07),
    fwResponseS: positive.max(10),
    rampUpPctPerS: nonNeg.max(100),
    rampDownPctPerS: nonNeg.max(100),
    esVMinPu: z.number().min(0.88).max(0.95),
    esVMaxPu: z.number().min(1.05).max(1.06),
    esFMinHz: z.number().min(59).max(59.9),
    esFMaxHz: z.number().min(60.1).max(61),
    esDelayS: nonNeg.max(600),
    esRandomWindowS: nonNeg.max(1000),
    esRampS: z.number().min(1).max(1000),
    activePowerResponseS: positive.max(60),
  })
  .strict() satisfies z.ZodType<Ieee1547Settings>;

/**
 * A write to a simulated device: any settings plus the commands that are not settings, permit
 * service (connect / disconnect), the active-power setpoint (null releases it) and a ramp time
 * over which a new limit or setpoint in the same write is reached (SunSpec `*_RmpTms`).
 */
export const controlPatchSchema = settingsSchema
  .partial()
  .extend({
    permitService: z.boolean().optional(),
    activePowerSetpointW: z.number().nullable().optional(),
    rampTimeS: nonNeg.max(65_535).optional(),
  })
  .strict();
export type ControlPatch = z.input<typeof controlPatchSchema>;

export type ControlResult = { readonly ok: true } | { readonly ok: false; readonly reason: string };
