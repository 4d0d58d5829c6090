import { z } from 'zod';
import { mrid } from './der.js';
import { parseWith } from './validate.js';

/** The nine DERFunction flags of IEC 61968-5, in the standard's spelling. */
export const derFunctionNames = [
  'connectDisconnect',
  'frequencyWattCurveFunction',
  'maxRealPowerLimiting',
  'rampRateControl',
  'reactivePowerDispatch',
  'realPowerDispatch',
  'voltageRegulation',
  'voltVarCurveFunction',
  'voltWattCurveFunction',
] as const;
export type DerFunctionName = (typeof derFunctionNames)[number];
export type DerFunctions = Record<DerFunctionName, boolean>;

export const derFunctionsSchema = z
  .object(Object.fromEntries(derFunctionNames.map((n) => [n, z.boolean().default(false)])) as Record<DerFunctionName, z.ZodDefault<z.ZodBoolean>>)
  .strict();

export const groupVersionSchema = z.object({
  major: z.number().int().min(0),
  minor: z.number().int().min(0),
  revision: z.number().int().min(0),
});
export type GroupVersion = z.output<typeof groupVersionSchema>;

export const groupSchema = z
  .object({
    mRID: mrid,
    names: z.array(z.string().min(1).max(256)).default([]),
    description: z.string().max(4096).default(''),
    functions: derFunctionsSchema.default(Object.fromEntries(derFunctionNames.map((n) => [n, false])) as DerFunctions),
    members: z.array(mrid).default([]),
    version: groupVersionSchema.default({ major: 1, minor: 0, revision: 0 }),
  })
  .strict()
  .superRefine((g, ctx) => {
    const seen = new Set<string>();
    g.members.forEach((m, i) => {
      if (seen.has(m)) ctx.addIssue({ code: 'custom', path: ['members', i], message: `duplicate member ${m}` });
      seen.add(m);
    });
  });
export type DerGroup = z.output<typeof groupSchema>;
export type DerGroupInput = z.input<typeof groupSchema>;

export function parseGroup(value: unknown): DerGroup {
  return parseWith(groupSchema, value, 'DER group');
}
