import { z } from 'zod';
import { derKinds, endpointSchema, mrid, nameplateSchema } from '../core/model/der.js';
import { derFunctionsSchema } from '../core/model/group.js';
import { applicationStates, roles } from '../store/migrations.js';
import { phases, tariffSpecSchema } from '../store/records.js';

/** Request bodies and queries of the customer-services API (validated at the boundary, named by field in errors). */

const id = mrid;
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);
const reason = text(2000);

export const organizationBody = z.object({ id: id.optional(), name: text(256), kind: z.enum(['dso', 'provider']) }).strict();

export const userBody = z
  .object({
    id: id.optional(),
    orgId: id,
    name: text(256),
    role: z.enum(roles),
    customerId: id.optional(),
  })
  .strict();

export const tokenBody = z.object({ label: text(256) }).strict();

export const tariffBody = z.object({ id: id.optional(), spec: tariffSpecSchema }).strict();

export const feederBody = z
  .object({
    name: text(256),
    hostingLimitW: z.number().min(0, 'must not be negative'),
    dermsInstance: id.nullable().optional(),
  })
  .strict();

export const customerBody = z
  .object({
    id: id.optional(),
    name: text(256),
    email: z.email().optional(),
    /** DSO support may open an account on a provider's behalf; a provider always opens its own. */
    providerOrgId: id.optional(),
  })
  .strict();

export const servicePointBody = z.object({ address: text(512), feederId: id, phase: z.enum(phases) }).strict();

/** The DER as the customer describes it; the mRID is assigned when not given. */
export const derRegistrationSchema = z
  .object({
    mRID: id.optional(),
    name: text(256),
    kind: z.enum(derKinds),
    nameplate: nameplateSchema,
    endpoint: endpointSchema,
  })
  .strict();

export const applicationBody = z
  .object({
    /** Required unless a customer applies for itself. */
    customerId: id.optional(),
    servicePointId: id.optional(),
    servicePoint: servicePointBody.optional(),
    tariffId: id,
    der: derRegistrationSchema,
  })
  .strict()
  .superRefine((b, ctx) => {
    if ((b.servicePointId === undefined) === (b.servicePoint === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['servicePointId'], message: 'give servicePointId (an existing service point) or servicePoint (a new one), not both' });
    }
  });

export const decisionBody = z.discriminatedUnion('decision', [
  z.object({ decision: z.literal('approve'), reason: reason.optional() }).strict(),
  z.object({ decision: z.literal('hold'), reason }).strict(),
  z.object({ decision: z.literal('reject'), reason }).strict(),
]);

export const asBuiltSchema = z.object({ nameplate: nameplateSchema, endpoint: endpointSchema.optional() }).strict();

export const workOrderBody = z
  .object({
    result: z.enum(['passed', 'failed']),
    notes: z.string().max(4096).default(''),
    /** The installation as the crew found it, when it differs from the registration. */
    asBuilt: asBuiltSchema.optional(),
  })
  .strict();

export const reasonBody = z.object({ reason }).strict();
export const optionalReasonBody = z.object({ reason: reason.optional() }).strict();

export const providerBody = z.object({ providerOrgId: id.nullable(), reason }).strict();

const members = z.array(id).min(1, 'at least one member').max(100_000);

export const groupRequestBody = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('form'),
      group: z
        .object({
          mRID: id,
          names: z.array(text(256)).default([]),
          description: z.string().max(4096).default(''),
          functions: derFunctionsSchema.partial().default({}),
          members,
        })
        .strict(),
      /** The tariff the members are offered under; required of a third party. */
      tariffId: id.optional(),
      reason: reason.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('dissolve'), groupId: id, reason }).strict(),
  z.object({ kind: z.literal('add-members'), groupId: id, members, reason: reason.optional() }).strict(),
  z.object({ kind: z.literal('remove-members'), groupId: id, members, reason }).strict(),
]);
export type GroupRequestBody = z.output<typeof groupRequestBody>;

/** A time as epoch ms or an ISO 8601 string with a zone. */
const instant = z.union([
  z.string().regex(/^\d+$/).transform(Number),
  z
    .string()
    .refine((s) => /^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)$/.test(s) && Number.isFinite(Date.parse(s)), 'an ISO 8601 time with a zone, or epoch milliseconds')
    .transform((s) => Date.parse(s)),
]);

export const periodQuery = z
  .object({ from: instant, to: instant })
  .strict()
  .refine((q) => q.from < q.to, { path: ['to'], message: 'must be after from' });

export const applicationQuery = z.object({ state: z.enum(applicationStates).optional() }).strict();
export const workOrderQuery = z.object({ state: z.enum(['open', 'passed', 'failed']).optional() }).strict();
export const auditQuery = z
  .object({
    entityType: z.string().max(64).optional(),
    entityId: z.string().max(256).optional(),
    afterId: z.string().regex(/^\d+$/).transform(Number).optional(),
    limit: z.string().regex(/^\d+$/).transform(Number).pipe(z.number().int().min(1).max(1000)).optional(),
  })
  .strict();
export const outboxQuery = z.object({ state: z.enum(['pending', 'done', 'dead']).optional(), topic: z.string().max(128).optional() }).strict();
export const emptyQuery = z.object({}).strict();
