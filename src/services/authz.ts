import type { Actor, Role } from '../store/records.js';

/** Not authenticated (401) or not allowed (403). Out-of-scope records answer NOT_FOUND instead, so they are not revealed. */
export class AccessError extends Error {
  override readonly name = 'AccessError';
  constructor(
    readonly status: 401 | 403,
    message: string,
  ) {
    super(message);
  }
}

const DSO: readonly Role[] = ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations'];

/**
 * Which roles may attempt each action. Scope (a provider's own DER and customers, a customer's
 * own records) is checked on the records themselves; this table is the coarse gate, and the
 * OpenAPI document lists it per operation.
 */
export const permissions = {
  'me.read': ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations', 'provider', 'customer'],
  'organization.manage': ['dso-admin'],
  'organization.read': [...DSO, 'provider'],
  'user.create': ['dso-admin', 'provider'],
  'token.issue': ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations', 'provider', 'customer'],
  'tariff.manage': ['dso-admin'],
  'tariff.read': ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations', 'provider', 'customer'],
  'feeder.manage': ['dso-admin', 'dso-engineering'],
  'feeder.read': DSO,
  'customer.create': ['dso-support', 'provider'],
  'customer.read': ['dso-admin', 'dso-support', 'dso-engineering', 'provider', 'customer'],
  'service-point.create': ['dso-support', 'provider', 'customer'],
  'application.submit': ['dso-support', 'provider', 'customer'],
  'application.read': ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations', 'provider', 'customer'],
  'application.review': ['dso-support'],
  'application.hosting': ['dso-support', 'dso-engineering', 'dso-operations'],
  'application.decide': ['dso-engineering'],
  'application.connect': ['dso-support', 'dso-operations'],
  'application.withdraw': ['dso-support', 'provider', 'customer'],
  'work-order.read': ['dso-support', 'dso-engineering'],
  'work-order.manage': ['dso-engineering'],
  'der.read': ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations', 'provider', 'customer'],
  'der.assign-provider': ['dso-support'],
  'der.provider-history': DSO,
  'participation.read': ['dso-admin', 'dso-support', 'dso-operations', 'provider', 'customer'],
  'statement.read': ['dso-admin', 'dso-support', 'provider', 'customer'],
  'group.read': [...DSO, 'provider'],
  'group-request.submit': ['dso-support', 'dso-operations', 'provider'],
  'group-request.read': [...DSO, 'provider'],
  'group-request.decide': ['dso-support'],
  'invoice.read': ['dso-admin', 'dso-support', 'dso-operations', 'provider'],
  'audit.read': ['dso-admin', 'dso-support'],
  'outbox.read': ['dso-admin'],
} as const satisfies Record<string, readonly Role[]>;

export type Action = keyof typeof permissions;

export function allows(role: Role, action: Action): boolean {
  return (permissions[action] as readonly Role[]).includes(role);
}

export function authorize(actor: Actor, action: Action): void {
  if (!allows(actor.role, action)) throw new AccessError(403, `role ${actor.role} may not ${action.replace('.', ' ')}`);
}

export function isDso(actor: Actor): boolean {
  return actor.orgKind === 'dso' && actor.role !== 'customer';
}
