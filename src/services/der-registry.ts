import type { z } from 'zod';
import { ValidationError } from '../core/errors.js';
import type { Actor, DerRecord } from '../store/records.js';
import type { StoreTx } from '../store/store.js';
import { authorize, isDso } from './authz.js';
import type { ServiceContext } from './context.js';
import { writeCore } from './core-writer.js';
import type { providerBody } from './schemas.js';

type Body<S extends z.ZodType> = z.output<S>;

/** The DER registry as each actor sees it, and the third-party relationship of each DER. */
export class DerRegistry {
  constructor(private readonly c: ServiceContext) {}

  private async derView(tx: StoreTx, actor: Actor, r: DerRecord) {
    const sp = r.servicePointId ? await tx.customers.servicePoint(r.servicePointId) : undefined;
    const agreement = await tx.agreements.current(r.der.mRID);
    const application = await tx.applications.forDer(r.der.mRID);
    const groups: string[] = [];
    for (const id of await tx.groups.ofDer(r.der.mRID)) {
      if (isDso(actor) || (actor.role === 'provider' && (await tx.groups.get(id))?.ownerOrgId === actor.orgId)) groups.push(id);
    }
    return {
      ...r,
      feederId: sp?.feederId ?? null,
      phase: sp?.phase ?? null,
      tariffId: agreement?.tariffId ?? null,
      applicationId: application?.id ?? null,
      applicationState: application?.state ?? null,
      groups: actor.role === 'customer' ? undefined : groups,
    };
  }

  async listDers(actor: Actor) {
    authorize(actor, 'der.read');
    const filter = actor.role === 'provider' ? { providerOrgId: actor.orgId } : actor.role === 'customer' ? { customerId: actor.customerId! } : {};
    return this.c.store.ders.list(filter);
  }

  async getDer(actor: Actor, id: string) {
    authorize(actor, 'der.read');
    return this.c.store.transaction(async (tx) => this.derView(tx, actor, await this.c.scope.visibleDer(tx, actor, id)));
  }

  /**
   * Share a DER's registration with a third party (or move it to another, or back to the DSO with
   * null). The DSO keeps the record and the provider history; the agreement and its tariff stay.
   * The DER leaves groups the previous provider formed, since that provider no longer manages it.
   */
  async setDerProvider(actor: Actor, id: string, b: Body<typeof providerBody>) {
    authorize(actor, 'der.assign-provider');
    return writeCore(this.c.store, this.c.deps, actor, async (tx, core) => {
      const before = await this.c.scope.visibleDer(tx, actor, id);
      if (b.providerOrgId !== null) {
        const p = await tx.orgs.get(b.providerOrgId);
        if (!p || p.kind !== 'provider') throw new ValidationError('provider change', [{ path: 'providerOrgId', message: `${JSON.stringify(b.providerOrgId)} is not a third-party provider` }]);
      }
      if (before.providerOrgId === b.providerOrgId) return { der: before, leftGroups: [] as string[] };
      const leftGroups: string[] = [];
      if (before.providerOrgId !== null) {
        for (const groupId of await tx.groups.ofDer(id)) {
          const g = await tx.groups.require(groupId);
          if (g.ownerOrgId !== before.providerOrgId) continue;
          const why = { reason: `provider changed from ${before.providerOrgId} to ${b.providerOrgId ?? 'the DSO'}: ${b.reason}` };
          const { group, previous } = await core.changeGroup(groupId, g.dermsInstance, { removeMembers: [id] }, why);
          await this.c.notify.group(tx, 'changed', group, previous, null);
          leftGroups.push(groupId);
        }
        await this.c.notify.provider(tx, { providerOrgId: before.providerOrgId, kind: 'registration-withdrawn', derId: id, reason: b.reason, at: this.c.now() });
      }
      const der = await tx.ders.setProvider(id, b.providerOrgId, b.reason);
      if (b.providerOrgId !== null) {
        await this.c.notify.provider(tx, { providerOrgId: b.providerOrgId, kind: 'registration-shared', registration: await this.derView(tx, actor, der), at: this.c.now() });
      }
      return { der, leftGroups };
    });
  }

  async derProviderHistory(actor: Actor, id: string) {
    authorize(actor, 'der.provider-history');
    await this.c.scope.visibleDer(this.c.store, actor, id);
    return this.c.store.ders.providerHistory(id);
  }
}
