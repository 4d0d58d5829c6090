import type { DerGroup } from '../core/model/group.js';

/**
 * Outbox topics and their payloads: what customer services tells other systems. Each message is
 * written in the transaction of the change it announces; a relay delivers it (see OutboxRelay).
 */
export const topics = {
  /** IEC 61968-5 DERGroups events for the DMS (Operations): created, changed (members), deleted. Keyed by group. */
  cimGroups: 'cim.DERGroups',
  /** Something a customer is told (application received, approved, connected, ...). Keyed by customer. */
  customer: 'customer.notification',
  /** Something a third-party provider is told (a registration shared with it, a group request decided). Keyed by provider. */
  provider: 'provider.notification',
} as const;

/** A DERMS instance's registry changes made by another process (distributed deployment). Keyed by DER or group. */
export function registryTopic(dermsInstance: string): string {
  return `registry.${dermsInstance}`;
}

export interface CimGroupEvent {
  readonly verb: 'created' | 'changed' | 'deleted';
  readonly noun: 'DERGroups';
  readonly groupId: string;
  /** The group as it now is (created, changed) or was (deleted). */
  readonly group: DerGroup;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly requestId: string | null;
  readonly at: number;
}

export type CustomerNotificationKind =
  | 'application-received'
  | 'application-under-review'
  | 'application-approved'
  | 'application-held'
  | 'application-rejected'
  | 'application-withdrawn'
  | 'installation-verified'
  | 'installation-failed'
  | 'connected';

export interface CustomerNotification {
  readonly customerId: string;
  readonly kind: CustomerNotificationKind;
  readonly applicationId: string;
  readonly derId: string;
  readonly message: string;
  readonly at: number;
}

export type ProviderNotification =
  | { readonly providerOrgId: string; readonly kind: 'registration-shared'; readonly registration: unknown; readonly at: number }
  | { readonly providerOrgId: string; readonly kind: 'registration-withdrawn'; readonly derId: string; readonly reason: string; readonly at: number }
  | { readonly providerOrgId: string; readonly kind: 'group-request-decided'; readonly requestId: string; readonly state: 'approved' | 'refused'; readonly reasons: readonly string[]; readonly at: number };

export type RegistryChangeMessage =
  | { readonly change: 'der'; readonly derId: string }
  | { readonly change: 'group'; readonly groupId: string };
