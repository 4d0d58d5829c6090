import { z } from 'zod';
import { derKinds, installedRangeW, type Der } from '../core/model/der.js';
import type { Dispatch } from '../core/model/control.js';
import type { DerGroup } from '../core/model/group.js';
import type { applicationStates, roles } from './migrations.js';

/** What the store keeps, as the rest of the program sees it (camelCase, parsed JSON, epoch ms). */

export type Role = (typeof roles)[number];
export type OrgKind = 'dso' | 'provider';
export const phases = ['A', 'B', 'C', 'AB', 'BC', 'CA', 'ABC'] as const;
export type Phase = (typeof phases)[number];
export type ApplicationState = (typeof applicationStates)[number];

export interface Organization {
  readonly id: string;
  readonly name: string;
  readonly kind: OrgKind;
  readonly createdAt: number;
}

export interface User {
  readonly id: string;
  readonly orgId: string;
  readonly name: string;
  readonly role: Role;
  /** The customer a `customer` user speaks for; null for every other role. */
  readonly customerId: string | null;
  readonly createdAt: number;
}

/** Who is asking: a user, its role and organization (resolved from an API token). */
export interface Actor {
  readonly userId: string;
  readonly orgId: string;
  readonly orgKind: OrgKind;
  readonly role: Role;
  readonly customerId: string | null;
}

export interface ApiToken {
  readonly id: string;
  readonly userId: string;
  readonly label: string;
  readonly createdAt: number;
  readonly revokedAt: number | null;
}

export interface Feeder {
  readonly id: string;
  readonly name: string;
  /** Total DER export the feeder can host, W (Engineering raises it after a network upgrade). */
  readonly hostingLimitW: number;
  /** The DERMS instance that manages DER on this feeder (distributed deployments); null: any. */
  readonly dermsInstance: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Customer {
  readonly id: string;
  readonly name: string;
  readonly email: string | null;
  /** The third-party provider holding this customer's account; null for the DSO's own customers. */
  readonly providerOrgId: string | null;
  readonly createdAt: number;
}

export interface ServicePoint {
  readonly id: string;
  readonly customerId: string;
  readonly address: string;
  readonly feederId: string;
  readonly phase: Phase;
  readonly createdAt: number;
}

export const tariffSpecSchema = z
  .object({
    name: z.string().min(1).max(256),
    description: z.string().max(4096).default(''),
    eligibility: z
      .object({
        kinds: z.array(z.enum(derKinds)).min(1, 'at least one DER kind'),
        /** Export rating bounds, W (see derRatingW). */
        minW: z.number().min(0).default(0),
        maxW: z.number().positive(),
        /** Largest storage capacity, Wh; any when absent. */
        maxEnergyWh: z.number().positive().optional(),
      })
      .strict()
      .refine((e) => e.minW <= e.maxW, { path: ['minW'], message: 'minW exceeds maxW' }),
    /** The DER must report telemetry to the DERMS / accept its controls before it is handed over. */
    requirements: z.object({ telemetry: z.boolean(), control: z.boolean() }).strict(),
    /** What the DSO pays per kWh of dispatched energy delivered. */
    settlement: z.object({ ratePerKWh: z.number().min(0), currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as USD') }).strict(),
    grouping: z
      .object({
        allowed: z.boolean().default(true),
        minMembers: z.number().int().min(1).default(1),
        maxMembers: z.number().int().min(1).optional(),
        /** Least total export rating of a group under this tariff, W. */
        minTotalW: z.number().min(0).default(0),
      })
      .strict()
      .default({ allowed: true, minMembers: 1, minTotalW: 0 }),
  })
  .strict();
export type TariffSpec = z.output<typeof tariffSpecSchema>;
export type TariffSpecInput = z.input<typeof tariffSpecSchema>;

export interface Tariff {
  readonly id: string;
  readonly spec: TariffSpec;
  readonly createdAt: number;
}

/** Export rating used for eligibility and hosting capacity: the most the DER can put on the feeder, W. */
export function derRatingW(der: Pick<Der, 'kind' | 'nameplate'>): number {
  return installedRangeW(der).max;
}

export interface DerRecord {
  readonly der: Der;
  readonly ratedW: number;
  /** Null for a DER the DERMS was given directly (through the core port) rather than registered. */
  readonly customerId: string | null;
  readonly servicePointId: string | null;
  /** Third party that owns the relationship for this DER; null when the DSO serves it directly. */
  readonly providerOrgId: string | null;
  /** In the core's registry (handed over to the DERMS). */
  readonly managed: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ProviderChange {
  readonly derId: string;
  readonly providerOrgId: string | null;
  readonly at: number;
  readonly byUserId: string | null;
  readonly reason: string;
}

export interface Agreement {
  readonly id: string;
  readonly customerId: string;
  readonly derId: string;
  readonly tariffId: string;
  readonly acceptedAt: number;
  readonly endedAt: number | null;
}

export interface Application {
  readonly id: string;
  readonly derId: string;
  readonly customerId: string;
  readonly agreementId: string;
  readonly state: ApplicationState;
  /** Why it is in its state (hold, rejection, withdrawal), when there is a why. */
  readonly reason: string | null;
  readonly submittedByUserId: string | null;
  readonly submittedByOrgId: string | null;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface ApplicationTransition {
  readonly applicationId: string;
  readonly from: ApplicationState | null;
  readonly to: ApplicationState;
  readonly at: number;
  readonly byUserId: string | null;
  readonly reason: string | null;
}

export type WorkOrderState = 'open' | 'passed' | 'failed';

export interface WorkOrder {
  readonly id: string;
  readonly applicationId: string;
  readonly kind: 'verify-installation';
  readonly state: WorkOrderState;
  /** What the field crew checks, derived from the tariff when the order is raised. */
  readonly checklist: readonly string[];
  readonly result: unknown;
  readonly createdAt: number;
  readonly closedAt: number | null;
  readonly closedByUserId: string | null;
}

export interface GroupRecord {
  readonly group: DerGroup;
  /** Organization that formed it (a third party for its fleet, or the DSO); null: the DMS through the core. */
  readonly ownerOrgId: string | null;
  readonly tariffId: string | null;
  readonly dermsInstance: string | null;
  readonly active: boolean;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface MembershipEvent {
  readonly id: number;
  readonly groupId: string;
  readonly derId: string;
  readonly action: 'joined' | 'left';
  readonly at: number;
  readonly requestId: string | null;
  readonly byUserId: string | null;
  readonly reason: string;
}

export const groupRequestKinds = ['form', 'dissolve', 'add-members', 'remove-members'] as const;
export type GroupRequestKind = (typeof groupRequestKinds)[number];
export type GroupRequestState = 'pending' | 'approved' | 'refused';

export interface GroupRequest {
  readonly id: string;
  readonly kind: GroupRequestKind;
  readonly groupId: string;
  readonly orgId: string;
  readonly requestedByUserId: string;
  readonly body: unknown;
  readonly state: GroupRequestState;
  readonly reasons: readonly string[];
  readonly createdAt: number;
  readonly decidedAt: number | null;
  readonly decidedByUserId: string | null;
}

export interface DispatchRow {
  readonly id: string;
  readonly groupId: string;
  readonly controlKind: string;
  readonly dispatch: Dispatch;
  readonly state: string;
  readonly acceptedAt: number;
  readonly endedAt: number | null;
  readonly endReason: string | null;
}

export interface MemberOutcome {
  readonly dispatchId: string;
  readonly derId: string;
  readonly at: number;
  readonly setpointKind: string;
  /** Active power asked of the member, W (activePower setpoints only). */
  readonly requestedW: number | null;
  readonly status: string;
  readonly detail: string | null;
}

export interface EnergyInterval {
  readonly derId: string;
  readonly intervalStart: number;
  readonly intervalMs: number;
  /** Energy exported (generation, discharge), Wh. */
  readonly outWh: number;
  /** Energy imported (charging), Wh. */
  readonly inWh: number;
  /** Part of the interval covered by telemetry, ms. */
  readonly coveredMs: number;
}

export interface AuditEntry {
  readonly id: number;
  readonly at: number;
  readonly actorUserId: string | null;
  readonly actorOrgId: string | null;
  readonly action: string;
  readonly entityType: string;
  readonly entityId: string;
  readonly detail: unknown;
}
