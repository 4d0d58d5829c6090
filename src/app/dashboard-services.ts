import { ValidationError } from '../core/errors.js';
import type { DermsStore } from '../store/index.js';
import type { Actor, Application } from '../store/records.js';
import type { CustomerServices } from '../services/index.js';
import type { ApplicationSummary, DashboardServices } from './dashboard/deps.js';

/**
 * The dashboard's customer-services view over the real services: the operator acts as the DSO's
 * engineering desk (a user of that role, created once if the DSO has none), so every decision
 * goes through the same checks, transactions and audit log as the /api route.
 */
export async function dashboardServices(store: DermsStore, services: CustomerServices): Promise<DashboardServices> {
  const dso = (await store.orgs.list({ kind: 'dso' }))[0];
  if (!dso) throw new Error('the store has no DSO organization (bootstrap runs first)');
  const user = (await store.users.list({ orgId: dso.id, role: 'dso-engineering' }))[0] ?? (await store.users.create({ orgId: dso.id, name: 'Operator dashboard (engineering)', role: 'dso-engineering' }));
  const actor: Actor = { userId: user.id, orgId: dso.id, orgKind: 'dso', role: 'dso-engineering', customerId: null };

  const summary = async (a: Application): Promise<ApplicationSummary> => {
    const der = await store.ders.get(a.derId);
    const customer = await store.customers.get(a.customerId);
    const sp = der?.servicePointId ? await store.customers.servicePoint(der.servicePointId) : undefined;
    const agreement = await store.agreements.get(a.agreementId);
    return {
      id: a.id,
      customer: customer?.name ?? a.customerId,
      derId: a.derId,
      derKind: der?.der.kind ?? null,
      ratingW: der?.ratedW ?? null,
      feeder: sp?.feederId ?? null,
      tariff: agreement?.tariffId ?? null,
      state: a.state,
      submittedAt: a.createdAt,
      updatedAt: a.updatedAt,
      note: a.reason,
    };
  };

  return {
    async listApplications() {
      const apps = await services.registration.listApplications(actor, {});
      return Promise.all(apps.map(summary));
    },
    async decide(id, action, reason) {
      const decision = action === 'approve' ? { decision: action, ...(reason ? { reason } : {}) } : reason ? { decision: action, reason } : null;
      if (!decision) throw new ValidationError('decision', [{ path: 'reason', message: `a reason is required to ${action} an application` }]);
      await services.registration.decideApplication(actor, id, decision);
      return summary((await store.applications.get(id))!);
    },
    async membershipHistory(groupId) {
      const events = await store.groups.history(groupId ? { groupId } : {});
      return events
        .map((e) => ({ groupId: e.groupId, derId: e.derId, change: e.action, at: e.at, reason: e.reason }))
        .sort((x, y) => y.at - x.at);
    },
  };
}
