import { z } from 'zod';
import { parseWith } from './validate.js';

export const derKinds = ['pv', 'battery', 'hybrid', 'other'] as const;
export type DerKind = (typeof derKinds)[number];

/** Identifier used across the system (CIM mRID): non-empty, no control characters. */
export const mrid = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'at most 128 characters')
  .regex(/^[^\s\p{Cc}]+$/u, 'no whitespace or control characters');

const rating = z.number().min(0, 'must not be negative');

/** IEEE 1547-2018 performance categories (normal: A/B, abnormal: I/II/III). */
export const normalCategories = ['A', 'B'] as const;
export const abnormalCategories = ['I', 'II', 'III'] as const;

export const nameplateSchema = z
  .object({
    maxW: rating,
    maxVA: rating,
    maxVarInject: rating,
    maxVarAbsorb: rating,
    maxChargeW: rating.default(0),
    maxDischargeW: rating.default(0),
    energyCapacityWh: rating.default(0),
    nominalV: z.number().positive('must be positive'),
    normalCategory: z.enum(normalCategories).default('B'),
    abnormalCategory: z.enum(abnormalCategories).default('II'),
  })
  .strict();
export type Nameplate = z.output<typeof nameplateSchema>;

/**
 * Where and how the DERMS reaches a device. `key` groups DERs that share one connection (a Modbus
 * gateway with several unit ids, one DNP3 link) so writes to them can be bounded together.
 */
export const endpointSchema = z.discriminatedUnion('protocol', [
  z.object({ protocol: z.literal('sunspec-tcp'), host: z.string().min(1), port: z.number().int().min(1).max(65535), unitId: z.number().int().min(0).max(247).default(1) }).strict(),
  z.object({ protocol: z.literal('sunspec-rtu'), path: z.string().min(1), baudRate: z.number().int().positive().default(9600), unitId: z.number().int().min(1).max(247) }).strict(),
  z.object({ protocol: z.literal('dnp3'), host: z.string().min(1), port: z.number().int().min(1).max(65535), outstation: z.number().int().min(0).max(65519), master: z.number().int().min(0).max(65519).default(1) }).strict(),
  z.object({ protocol: z.literal('openfmb'), broker: z.string().min(1).optional(), equipmentMRID: z.string().min(1), module: z.enum(['solar', 'ess']) }).strict(),
  z.object({ protocol: z.literal('in-process'), device: z.string().min(1) }).strict(),
]);
export type Endpoint = z.output<typeof endpointSchema>;

export function endpointKey(e: Endpoint): string {
  switch (e.protocol) {
    case 'sunspec-tcp':
      return `${e.protocol}://${e.host}:${e.port}`;
    case 'dnp3':
      // Each outstation has its own association (connection), even behind a shared port.
      return `dnp3://${e.host}:${e.port}/${e.outstation}`;
    case 'sunspec-rtu':
      return `sunspec-rtu://${e.path}`;
    case 'openfmb':
      return `openfmb://${e.broker ?? 'embedded'}/${e.equipmentMRID}`;
    case 'in-process':
      return `in-process://${e.device}`;
  }
}

export const derSchema = z
  .object({
    mRID: mrid,
    name: z.string().min(1).max(256),
    kind: z.enum(derKinds),
    nameplate: nameplateSchema,
    endpoint: endpointSchema,
  })
  .strict()
  .superRefine((d, ctx) => {
    const n = d.nameplate;
    if (n.maxW > n.maxVA) ctx.addIssue({ code: 'custom', path: ['nameplate', 'maxW'], message: 'maxW exceeds maxVA' });
    for (const k of ['maxVarInject', 'maxVarAbsorb'] as const) {
      if (n[k] > n.maxVA) ctx.addIssue({ code: 'custom', path: ['nameplate', k], message: `${k} exceeds maxVA` });
    }
    const storage = d.kind === 'battery' || d.kind === 'hybrid';
    if (storage && n.energyCapacityWh <= 0) {
      ctx.addIssue({ code: 'custom', path: ['nameplate', 'energyCapacityWh'], message: `a ${d.kind} needs a positive energy capacity` });
    }
    if (!storage && (n.maxChargeW > 0 || n.energyCapacityWh > 0)) {
      ctx.addIssue({ code: 'custom', path: ['nameplate'], message: `a ${d.kind} DER has no storage: maxChargeW and energyCapacityWh must be 0` });
    }
    if (d.kind === 'battery' && n.maxDischargeW > n.maxVA) {
      ctx.addIssue({ code: 'custom', path: ['nameplate', 'maxDischargeW'], message: 'maxDischargeW exceeds maxVA' });
    }
  });
export type Der = z.output<typeof derSchema>;
export type DerInput = z.input<typeof derSchema>;

export function parseDer(value: unknown): Der {
  return parseWith(derSchema, value, 'DER');
}

export function hasStorage(d: Pick<Der, 'kind'>): boolean {
  return d.kind === 'battery' || d.kind === 'hybrid';
}

/** Installed active-power range: generation positive, charging negative. */
export function installedRangeW(d: Pick<Der, 'kind' | 'nameplate'>): { min: number; max: number } {
  const n = d.nameplate;
  switch (d.kind) {
    case 'battery':
      return { min: -n.maxChargeW, max: Math.min(n.maxDischargeW || n.maxW, n.maxVA) };
    case 'hybrid':
      return { min: -Math.min(n.maxChargeW, n.maxVA), max: n.maxW };
    default:
      return { min: 0, max: n.maxW };
  }
}
