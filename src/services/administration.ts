import type { z } from 'zod';
import { NotFoundError } from '../core/errors.js';
import { tariffSpecSchema, type Actor, type Application } from '../store/records.js';
import type { OutboxState } from '../store/outbox.js';
import { AccessError, authorize, isDso } from './authz.js';
import type { ServiceContext } from './context.js';
import type { feederBody, organizationBody, tariffBody, userBody } from './schemas.js';

type Body<S extends z.ZodType> = z.output<S>;

/** Organizations, users and tokens, tariffs, feeders, and the audit log and outbox for admins. */
export class Administration {
  constructor(private readonly c: ServiceContext) {}

  async me(actor: Actor) {
    authorize(actor, 'me.read');
    const [user, organization] = await Promise.all([this.c.store.users.get(actor.userId), this.c.store.orgs.get(actor.orgId)]);
    return { user, organization, role: actor.role, customerId: actor.customerId };
  }

  async createOrganization(actor: Actor, b: Body<typeof organizationBody>) {
    authorize(actor, 'organization.manage');
    return this.c.store.transaction((tx) => tx.orgs.create(b), actor);
  }

  async listOrganizations(actor: Actor) {
    authorize(actor, 'organization.read');
    const all = await this.c.store.orgs.list();
    return isDso(actor) ? all : all.filter((o) => o.id === actor.orgId);
  }

  /** A DSO admin creates users anywhere; a provider creates its own staff and its customers' users. */
  async createUser(actor: Actor, b: Body<typeof userBody>) {
    authorize(actor, 'user.create');
    return this.c.store.transaction(async (tx) => {
      if (actor.role === 'provider') {
        if (b.orgId !== actor.orgId) throw new AccessError(403, 'a provider creates users in its own organization only');
        if (b.role !== 'provider' && b.role !== 'customer') throw new AccessError(403, `a provider may not create ${b.role} users`);
        if (b.customerId !== undefined) await this.c.scope.visibleCustomer(tx, actor, b.customerId);
      }
      return tx.users.create({ ...b, customerId: b.customerId ?? null });
    }, actor);
  }

  /** Admins issue tokens for anyone, a provider for its own organization's users, everyone for themselves. */
  async issueToken(actor: Actor, userId: string, label: string) {
    authorize(actor, 'token.issue');
    return this.c.store.transaction(async (tx) => {
      const user = await tx.users.get(userId);
      const allowed = user && (actor.role === 'dso-admin' || user.id === actor.userId || (actor.role === 'provider' && user.orgId === actor.orgId));
      if (!user || !allowed) throw new NotFoundError('user', userId);
      const { token, record } = await tx.users.issueToken(userId, label);
      return { token, id: record.id, userId, label, createdAt: record.createdAt };
    }, actor);
  }

  async createTariff(actor: Actor, b: Body<typeof tariffBody>) {
    authorize(actor, 'tariff.manage');
    return this.c.store.transaction((tx) => tx.tariffs.create(tariffSpecSchema.parse(b.spec), b.id), actor);
  }

  async listTariffs(actor: Actor) {
    authorize(actor, 'tariff.read');
    return this.c.store.tariffs.list();
  }

  /** Create or change a feeder; raising its hosting limit (a network upgrade) lists the applications held for it. */
  async upsertFeeder(actor: Actor, id: string, b: Body<typeof feederBody>) {
    authorize(actor, 'feeder.manage');
    return this.c.store.transaction(async (tx) => {
      const feeder = await tx.feeders.upsert({ id, ...b });
      const held = await tx.applications.list({ state: 'held-for-upgrade' });
      const onFeeder: Application[] = [];
      for (const a of held) {
        const d = await tx.ders.get(a.derId);
        const sp = d?.servicePointId ? await tx.customers.servicePoint(d.servicePointId) : undefined;
        if (sp?.feederId === id) onFeeder.push(a);
      }
      return { feeder, heldApplications: onFeeder.map((a) => a.id) };
    }, actor);
  }

  async listFeeders(actor: Actor) {
    authorize(actor, 'feeder.read');
    const feeders = await this.c.store.feeders.list();
    return Promise.all(feeders.map(async (f) => ({ ...f, committed: await this.c.store.feeders.committedW(f.id) })));
  }

  async listAudit(actor: Actor, q: { entityType?: string; entityId?: string; afterId?: number; limit?: number }) {
    authorize(actor, 'audit.read');
    return this.c.store.audit.list(q);
  }

  async listOutbox(actor: Actor, q: { state?: OutboxState; topic?: string }) {
    authorize(actor, 'outbox.read');
    return { counts: await this.c.store.outbox.counts(), messages: await this.c.store.outbox.list(q) };
  }
}
