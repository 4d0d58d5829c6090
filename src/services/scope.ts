import { NotFoundError } from '../core/errors.js';
import type { Actor, Application, Customer, DerRecord, GroupRecord, GroupRequest } from '../store/records.js';
import type { StoreTx } from '../store/store.js';
import { isDso } from './authz.js';

/**
 * What each actor may see: the DSO's staff everything, a provider the DER whose relationship it
 * owns (and their customers, and the groups and requests it made), a customer its own. A record
 * out of scope is NOT_FOUND, exactly as one that does not exist, so its existence is not revealed.
 */
export class Scope {
  seesDer(actor: Actor, r: DerRecord): boolean {
    if (isDso(actor)) return true;
    if (actor.role === 'provider') return r.providerOrgId === actor.orgId;
    return actor.role === 'customer' && r.customerId !== null && r.customerId === actor.customerId;
  }

  async visibleDer(tx: StoreTx, actor: Actor, id: string): Promise<DerRecord> {
    const r = await tx.ders.get(id);
    if (!r || !this.seesDer(actor, r)) throw new NotFoundError('DER', id);
    return r;
  }

  async seesCustomer(tx: StoreTx, actor: Actor, c: Customer): Promise<boolean> {
    if (isDso(actor)) return true;
    if (actor.role === 'customer') return c.id === actor.customerId;
    if (c.providerOrgId === actor.orgId) return true;
    return (await tx.ders.list({ customerId: c.id, providerOrgId: actor.orgId })).length > 0;
  }

  async visibleCustomer(tx: StoreTx, actor: Actor, id: string): Promise<Customer> {
    const c = await tx.customers.get(id);
    if (!c || !(await this.seesCustomer(tx, actor, c))) throw new NotFoundError('customer', id);
    return c;
  }

  async visibleApplication(tx: StoreTx, actor: Actor, id: string, o: { lock?: boolean } = {}): Promise<{ app: Application; der: DerRecord }> {
    const app = await tx.applications.get(id, o);
    const der = app && (await tx.ders.get(app.derId));
    if (!app || !der || !this.seesDer(actor, der)) throw new NotFoundError('application', id);
    return { app, der };
  }

  seesGroup(actor: Actor, g: GroupRecord): boolean {
    return isDso(actor) || (actor.role === 'provider' && g.ownerOrgId === actor.orgId);
  }

  async visibleGroup(tx: StoreTx, actor: Actor, id: string): Promise<GroupRecord> {
    const g = await tx.groups.get(id);
    if (!g || !this.seesGroup(actor, g)) throw new NotFoundError('DER group', id);
    return g;
  }

  async visibleRequest(tx: StoreTx, actor: Actor, id: string, o: { lock?: boolean } = {}): Promise<GroupRequest> {
    const r = await tx.groupRequests.get(id, o);
    if (!r || !(isDso(actor) || r.orgId === actor.orgId)) throw new NotFoundError('group request', id);
    return r;
  }
}
