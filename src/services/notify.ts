import type { DerGroup } from '../core/model/group.js';
import type { Application, GroupRequest } from '../store/records.js';
import type { StoreTx } from '../store/store.js';
import { topics, type CimGroupEvent, type CustomerNotification, type CustomerNotificationKind, type ProviderNotification } from './topics.js';

/** Messages to customers, providers and Operations, written to the outbox in the caller's transaction. */
export class Notifier {
  constructor(private readonly now: () => number) {}

  async customer(tx: StoreTx, app: Application, kind: CustomerNotificationKind, message: string): Promise<void> {
    const payload: CustomerNotification = { customerId: app.customerId, kind, applicationId: app.id, derId: app.derId, message, at: this.now() };
    await tx.outbox.enqueue({ topic: topics.customer, key: app.customerId, payload });
  }

  async provider(tx: StoreTx, payload: ProviderNotification): Promise<void> {
    await tx.outbox.enqueue({ topic: topics.provider, key: payload.providerOrgId, payload });
  }

  async requester(tx: StoreTx, req: GroupRequest): Promise<void> {
    const org = await tx.orgs.get(req.orgId);
    if (org?.kind !== 'provider' || req.state === 'pending') return;
    await this.provider(tx, { providerOrgId: org.id, kind: 'group-request-decided', requestId: req.id, state: req.state, reasons: req.reasons, at: this.now() });
  }

  async group(tx: StoreTx, verb: CimGroupEvent['verb'], group: DerGroup, previous: DerGroup | null, requestId: string | null): Promise<void> {
    const before = new Set(previous?.members ?? []);
    const after = new Set(group.members);
    const payload: CimGroupEvent = {
      verb,
      noun: 'DERGroups',
      groupId: group.mRID,
      group,
      added: verb === 'created' ? group.members : verb === 'changed' ? group.members.filter((m) => !before.has(m)) : [],
      removed: verb === 'deleted' ? group.members : verb === 'changed' ? [...before].filter((m) => !after.has(m)) : [],
      requestId,
      at: this.now(),
    };
    await tx.outbox.enqueue({ topic: topics.cimGroups, key: group.mRID, payload });
  }
}
