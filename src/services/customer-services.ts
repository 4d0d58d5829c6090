import { DermsError, NotFoundError, ValidationError, type ErrorIssue } from '../core/errors.js';
import { derSchema, type Der } from '../core/model/der.js';
import { parseGroup, type DerGroup } from '../core/model/group.js';
import { newId } from '../store/repos/context.js';
import { tariffSpecSchema, derRatingW, type Actor, type Application, type ApplicationState, type Customer, type DerRecord, type GroupRecord, type GroupRequest, type ServicePoint, type Tariff } from '../store/records.js';
import type { DermsStore, StoreTx } from '../store/store.js';
import type { OutboxState } from '../store/outbox.js';
import { AccessError, authorize, isDso } from './authz.js';
import { writeCore, type CoreTarget } from './core-writer.js';
import { amountFor, energyIn, memberParticipation, type MemberParticipation } from './participation.js';
import type { Probe } from './probe.js';
import type { z } from 'zod';
import type {
  applicationBody,
  customerBody,
  decisionBody,
  feederBody,
  GroupRequestBody,
  organizationBody,
  providerBody,
  servicePointBody,
  tariffBody,
  userBody,
  workOrderBody,
} from './schemas.js';
import { topics, type CimGroupEvent, type CustomerNotification, type CustomerNotificationKind, type ProviderNotification } from './topics.js';

export interface CustomerServicesDeps extends CoreTarget {
  readonly store: DermsStore;
  /** Hand-over check for tariffs that require monitoring or control (see probe.ts). */
  readonly probe: Probe;
  /** Time for notifications and running dispatches; the system clock by default. */
  readonly clock?: { now(): number };
}

type Body<S extends z.ZodType> = z.output<S>;
type Period = { from: number; to: number };

/** What Engineering sees before deciding: the DER's export rating against its feeder's room. */
export interface HostingCheck {
  readonly feederId: string;
  readonly hostingLimitW: number;
  /** Rating of DER already connected or approved on the feeder, this one left out. */
  readonly committedW: number;
  readonly committedDers: number;
  readonly availableW: number;
  readonly derRatingW: number;
  readonly fits: boolean;
}

/** Eligibility of a DER for a tariff, as field issues (paths relative to the DER). */
export function eligibilityIssues(der: Pick<Der, 'kind' | 'nameplate'>, tariff: Tariff): ErrorIssue[] {
  const e = tariff.spec.eligibility;
  const issues: ErrorIssue[] = [];
  const rating = derRatingW(der);
  if (!e.kinds.includes(der.kind)) issues.push({ path: 'kind', message: `tariff ${tariff.id} does not take ${der.kind} DER (only ${e.kinds.join(', ')})` });
  if (rating > e.maxW) issues.push({ path: 'nameplate.maxW', message: `export rating ${rating} W exceeds tariff ${tariff.id}'s limit of ${e.maxW} W` });
  if (rating < e.minW) issues.push({ path: 'nameplate.maxW', message: `export rating ${rating} W is below tariff ${tariff.id}'s minimum of ${e.minW} W` });
  if (e.maxEnergyWh !== undefined && der.nameplate.energyCapacityWh > e.maxEnergyWh) {
    issues.push({ path: 'nameplate.energyCapacityWh', message: `storage ${der.nameplate.energyCapacityWh} Wh exceeds tariff ${tariff.id}'s limit of ${e.maxEnergyWh} Wh` });
  }
  return issues;
}

/** The same refusal the store gives for a transition from the wrong state, before any work is done. */
function assertState(app: Application, from: readonly ApplicationState[], action: string): void {
  if (!from.includes(app.state)) {
    throw new DermsError('CONFLICT', `cannot ${action} application ${app.id}: it is ${app.state}${app.reason ? ` (${app.reason})` : ''}; only ${from.join(' or ')} can be`);
  }
}

function prefixed(prefix: string, issues: readonly ErrorIssue[]): ErrorIssue[] {
  return issues.map((i) => ({ path: i.path ? `${prefix}.${i.path}` : prefix, message: i.message }));
}

function checklist(tariff: Tariff, der: Der, sp: ServicePoint | undefined): string[] {
  const t = tariff.spec;
  const items = [
    `nameplate as registered: ${der.kind}, ${der.nameplate.maxW} W, ${der.nameplate.maxVA} VA${der.nameplate.energyCapacityWh ? `, ${der.nameplate.energyCapacityWh} Wh` : ''}`,
    `export rating within tariff ${tariff.id}: ${t.eligibility.minW}..${t.eligibility.maxW} W`,
  ];
  if (sp) items.push(`connected at ${sp.address} (feeder ${sp.feederId}, phase ${sp.phase})`);
  if (t.requirements.telemetry) items.push(`reports telemetry to the DERMS over ${der.endpoint.protocol}`);
  if (t.requirements.control) items.push(`accepts DERMS controls over ${der.endpoint.protocol}`);
  return items;
}

/**
 * Customer services around the DERMS (flows A to H of the EPRI report, and the group formation and
 * dissolution requests): each method takes the actor, checks role and scope, and commits its
 * records, audit entries, registry changes and outbox messages in one transaction.
 */
export class CustomerServices {
  private readonly store: DermsStore;
  private readonly now: () => number;

  constructor(private readonly deps: CustomerServicesDeps) {
    this.store = deps.store;
    const clock = deps.clock ?? { now: () => Date.now() };
    this.now = () => clock.now();
  }

  // ---- who and what is visible -------------------------------------------------------------

  private seesDer(actor: Actor, r: DerRecord): boolean {
    if (isDso(actor)) return true;
    if (actor.role === 'provider') return r.providerOrgId === actor.orgId;
    return actor.role === 'customer' && r.customerId !== null && r.customerId === actor.customerId;
  }

  private async visibleDer(tx: StoreTx, actor: Actor, id: string): Promise<DerRecord> {
    const r = await tx.ders.get(id);
    if (!r || !this.seesDer(actor, r)) throw new NotFoundError('DER', id);
    return r;
  }

  private async seesCustomer(tx: StoreTx, actor: Actor, c: Customer): Promise<boolean> {
    if (isDso(actor)) return true;
    if (actor.role === 'customer') return c.id === actor.customerId;
    if (c.providerOrgId === actor.orgId) return true;
    return (await tx.ders.list({ customerId: c.id, providerOrgId: actor.orgId })).length > 0;
  }

  private async visibleCustomer(tx: StoreTx, actor: Actor, id: string): Promise<Customer> {
    const c = await tx.customers.get(id);
    if (!c || !(await this.seesCustomer(tx, actor, c))) throw new NotFoundError('customer', id);
    return c;
  }

  private async visibleApplication(tx: StoreTx, actor: Actor, id: string, o: { lock?: boolean } = {}): Promise<{ app: Application; der: DerRecord }> {
    const app = await tx.applications.get(id, o);
    const der = app && (await tx.ders.get(app.derId));
    if (!app || !der || !this.seesDer(actor, der)) throw new NotFoundError('application', id);
    return { app, der };
  }

  private seesGroup(actor: Actor, g: GroupRecord): boolean {
    return isDso(actor) || (actor.role === 'provider' && g.ownerOrgId === actor.orgId);
  }

  private async visibleGroup(tx: StoreTx, actor: Actor, id: string): Promise<GroupRecord> {
    const g = await tx.groups.get(id);
    if (!g || !this.seesGroup(actor, g)) throw new NotFoundError('DER group', id);
    return g;
  }

  private async visibleRequest(tx: StoreTx, actor: Actor, id: string, o: { lock?: boolean } = {}): Promise<GroupRequest> {
    const r = await tx.groupRequests.get(id, o);
    if (!r || !(isDso(actor) || r.orgId === actor.orgId)) throw new NotFoundError('group request', id);
    return r;
  }

  // ---- organizations, users, tokens, tariffs, feeders ---------------------------------------

  async me(actor: Actor) {
    authorize(actor, 'me.read');
    const [user, organization] = await Promise.all([this.store.users.get(actor.userId), this.store.orgs.get(actor.orgId)]);
    return { user, organization, role: actor.role, customerId: actor.customerId };
  }

  async createOrganization(actor: Actor, b: Body<typeof organizationBody>) {
    authorize(actor, 'organization.manage');
    return this.store.transaction((tx) => tx.orgs.create(b), actor);
  }

  async listOrganizations(actor: Actor) {
    authorize(actor, 'organization.read');
    const all = await this.store.orgs.list();
    return isDso(actor) ? all : all.filter((o) => o.id === actor.orgId);
  }

  /** A DSO admin creates users anywhere; a provider creates its own staff and its customers' users. */
  async createUser(actor: Actor, b: Body<typeof userBody>) {
    authorize(actor, 'user.create');
    return this.store.transaction(async (tx) => {
      if (actor.role === 'provider') {
        if (b.orgId !== actor.orgId) throw new AccessError(403, 'a provider creates users in its own organization only');
        if (b.role !== 'provider' && b.role !== 'customer') throw new AccessError(403, `a provider may not create ${b.role} users`);
        if (b.customerId !== undefined) await this.visibleCustomer(tx, actor, b.customerId);
      }
      return tx.users.create({ ...b, customerId: b.customerId ?? null });
    }, actor);
  }

  /** Admins issue tokens for anyone, a provider for its own organization's users, everyone for themselves. */
  async issueToken(actor: Actor, userId: string, label: string) {
    authorize(actor, 'token.issue');
    return this.store.transaction(async (tx) => {
      const user = await tx.users.get(userId);
      const allowed = user && (actor.role === 'dso-admin' || user.id === actor.userId || (actor.role === 'provider' && user.orgId === actor.orgId));
      if (!user || !allowed) throw new NotFoundError('user', userId);
      const { token, record } = await tx.users.issueToken(userId, label);
      return { token, id: record.id, userId, label, createdAt: record.createdAt };
    }, actor);
  }

  async createTariff(actor: Actor, b: Body<typeof tariffBody>) {
    authorize(actor, 'tariff.manage');
    return this.store.transaction((tx) => tx.tariffs.create(tariffSpecSchema.parse(b.spec), b.id), actor);
  }

  async listTariffs(actor: Actor) {
    authorize(actor, 'tariff.read');
    return this.store.tariffs.list();
  }

  /** Create or change a feeder; raising its hosting limit (a network upgrade) lists the applications held for it. */
  async upsertFeeder(actor: Actor, id: string, b: Body<typeof feederBody>) {
    authorize(actor, 'feeder.manage');
    return this.store.transaction(async (tx) => {
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
    const feeders = await this.store.feeders.list();
    return Promise.all(feeders.map(async (f) => ({ ...f, committed: await this.store.feeders.committedW(f.id) })));
  }

  // ---- customers and service points ---------------------------------------------------------

  async createCustomer(actor: Actor, b: Body<typeof customerBody>) {
    authorize(actor, 'customer.create');
    if (actor.role === 'provider' && b.providerOrgId !== undefined && b.providerOrgId !== actor.orgId) {
      throw new AccessError(403, 'a provider opens customer accounts for itself only');
    }
    const providerOrgId = actor.role === 'provider' ? actor.orgId : (b.providerOrgId ?? null);
    return this.store.transaction((tx) => tx.customers.create({ ...b, providerOrgId }), actor);
  }

  async listCustomers(actor: Actor) {
    authorize(actor, 'customer.read');
    if (actor.role === 'customer') return [await this.store.customers.require(actor.customerId!)];
    if (actor.role === 'provider') return this.store.customers.list({ visibleToProvider: actor.orgId });
    return this.store.customers.list();
  }

  async getCustomer(actor: Actor, id: string) {
    authorize(actor, 'customer.read');
    return this.store.transaction(async (tx) => {
      const customer = await this.visibleCustomer(tx, actor, id);
      const ders = (await tx.ders.list({ customerId: id })).filter((d) => this.seesDer(actor, d));
      const agreements = (await tx.agreements.list({ customerId: id })).filter((a) => ders.some((d) => d.der.mRID === a.derId));
      return { customer, servicePoints: await tx.customers.servicePoints(id), ders: ders.map((d) => d.der.mRID), agreements };
    });
  }

  async addServicePoint(actor: Actor, customerId: string, b: Body<typeof servicePointBody>) {
    authorize(actor, 'service-point.create');
    return this.store.transaction(async (tx) => {
      await this.visibleCustomer(tx, actor, customerId);
      if (!(await tx.feeders.get(b.feederId))) throw new ValidationError('service point', [{ path: 'feederId', message: `feeder ${JSON.stringify(b.feederId)} does not exist` }]);
      return tx.customers.addServicePoint({ customerId, ...b });
    }, actor);
  }

  // ---- flow A: registration -----------------------------------------------------------------

  /**
   * A customer (or DSO support, or a third party for its customer) registers a DER at a service
   * point and accepts a tariff: the DER, the agreement and the application are created together
   * and the application is acknowledged (in the reply, and to the customer through the outbox).
   */
  async submitApplication(actor: Actor, b: Body<typeof applicationBody>) {
    authorize(actor, 'application.submit');
    const customerId = actor.role === 'customer' ? actor.customerId! : b.customerId;
    if (customerId === undefined) throw new ValidationError('application', [{ path: 'customerId', message: 'required: the customer the DER belongs to' }]);
    if (actor.role === 'customer' && b.customerId !== undefined && b.customerId !== actor.customerId) throw new AccessError(403, 'a customer applies for itself only');
    let der: Der;
    try {
      der = derSchema.parse({ ...b.der, mRID: b.der.mRID ?? newId('der') });
    } catch (e) {
      const issues = (e as z.ZodError).issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
      throw new ValidationError('application', prefixed('der', issues));
    }
    return this.store.transaction(async (tx) => {
      const customer = await tx.customers.get(customerId);
      if (!customer || !(await this.seesCustomer(tx, actor, customer))) {
        throw new ValidationError('application', [{ path: 'customerId', message: `customer ${JSON.stringify(customerId)} does not exist` }]);
      }
      const tariff = await tx.tariffs.get(b.tariffId);
      if (!tariff) throw new ValidationError('application', [{ path: 'tariffId', message: `tariff ${JSON.stringify(b.tariffId)} does not exist` }]);
      const issues = eligibilityIssues(der, tariff);
      if (issues.length) throw new ValidationError('application', prefixed('der', issues));
      let sp: ServicePoint | undefined;
      if (b.servicePointId !== undefined) {
        sp = await tx.customers.servicePoint(b.servicePointId);
        if (!sp || sp.customerId !== customer.id) throw new ValidationError('application', [{ path: 'servicePointId', message: `customer ${customer.id} has no service point ${JSON.stringify(b.servicePointId)}` }]);
      } else {
        const p = b.servicePoint!;
        if (!(await tx.feeders.get(p.feederId))) throw new ValidationError('application', [{ path: 'servicePoint.feederId', message: `feeder ${JSON.stringify(p.feederId)} does not exist` }]);
        sp = await tx.customers.addServicePoint({ customerId: customer.id, ...p });
      }
      if (await tx.ders.get(der.mRID)) throw new DermsError('ALREADY_EXISTS', `DER ${JSON.stringify(der.mRID)} is already registered`, [{ path: 'der.mRID', message: 'already registered' }]);
      const providerOrgId = actor.role === 'provider' ? actor.orgId : customer.providerOrgId;
      const record = await tx.ders.register({ der, customerId: customer.id, servicePointId: sp.id, providerOrgId });
      const agreement = await tx.agreements.create({ customerId: customer.id, derId: der.mRID, tariffId: tariff.id });
      const application = await tx.applications.create({ derId: der.mRID, customerId: customer.id, agreementId: agreement.id });
      const message = `Application ${application.id} for ${der.name} under tariff ${tariff.spec.name} is received; it goes to engineering review.`;
      await this.notifyCustomer(tx, application, 'application-received', message);
      return { application, der: record, agreement, servicePoint: sp, acknowledgement: { applicationId: application.id, state: application.state, message } };
    }, actor);
  }

  async listApplications(actor: Actor, q: { state?: Application['state'] }) {
    authorize(actor, 'application.read');
    if (actor.role === 'customer') return this.store.applications.list({ customerId: actor.customerId!, ...q });
    if (actor.role === 'provider') return this.store.applications.list({ providerOrgId: actor.orgId, ...q });
    return this.store.applications.list(q);
  }

  async getApplication(actor: Actor, id: string) {
    authorize(actor, 'application.read');
    return this.store.transaction(async (tx) => {
      const { app, der } = await this.visibleApplication(tx, actor, id);
      const agreement = await tx.agreements.get(app.agreementId);
      const workOrders = actor.role === 'dso-support' || actor.role === 'dso-engineering' ? await tx.workOrders.list({ applicationId: id }) : undefined;
      return { application: app, der, agreement, history: await tx.applications.history(id), workOrders };
    });
  }

  // ---- flow B: engineering review -----------------------------------------------------------

  /** Customer support sends a submitted application to Engineering. */
  async reviewApplication(actor: Actor, id: string) {
    authorize(actor, 'application.review');
    return this.store.transaction(async (tx) => {
      await this.visibleApplication(tx, actor, id);
      const app = await tx.applications.transition(id, { from: ['submitted'], to: 'under-review', action: 'send to engineering review' });
      await this.notifyCustomer(tx, app, 'application-under-review', `Application ${id} is under engineering review.`);
      return app;
    }, actor);
  }

  private async hosting(tx: StoreTx, der: DerRecord, lock: boolean): Promise<HostingCheck> {
    const sp = der.servicePointId ? await tx.customers.servicePoint(der.servicePointId) : undefined;
    if (!sp) throw new DermsError('CONFLICT', `DER ${der.der.mRID} has no service point, so no feeder to check`);
    const feeder = await tx.feeders.require(sp.feederId, { lock });
    const committed = await tx.feeders.committedW(feeder.id, der.der.mRID);
    const availableW = feeder.hostingLimitW - committed.w;
    return {
      feederId: feeder.id,
      hostingLimitW: feeder.hostingLimitW,
      committedW: committed.w,
      committedDers: committed.ders,
      availableW,
      derRatingW: der.ratedW,
      fits: der.ratedW <= availableW,
    };
  }

  /** The hosting-capacity check for an application's DER on its feeder. */
  async hostingCheck(actor: Actor, id: string): Promise<HostingCheck> {
    authorize(actor, 'application.hosting');
    return this.store.transaction(async (tx) => {
      const { der } = await this.visibleApplication(tx, actor, id);
      return this.hosting(tx, der, false);
    });
  }

  /**
   * Engineering's decision. Approval needs room on the feeder (checked with the feeder locked, so
   * two approvals cannot both take the last of it) and raises the installation work order; a hold
   * waits for a network upgrade; a rejection ends the agreement.
   */
  async decideApplication(actor: Actor, id: string, b: Body<typeof decisionBody>) {
    authorize(actor, 'application.decide');
    return this.store.transaction(async (tx) => {
      const { der } = await this.visibleApplication(tx, actor, id, { lock: true });
      if (b.decision === 'approve') {
        assertState(await tx.applications.require(id), ['under-review', 'held-for-upgrade'], 'approve');
        const check = await this.hosting(tx, der, true);
        if (!check.fits) {
          throw new DermsError(
            'CONFLICT',
            `cannot approve application ${id}: feeder ${check.feederId} has ${Math.max(0, check.availableW)} W of hosting capacity left ` +
              `(limit ${check.hostingLimitW} W, ${check.committedW} W committed) and the DER is rated ${check.derRatingW} W; hold it for a network upgrade or reject it`,
          );
        }
        const app = await tx.applications.transition(id, { from: ['under-review', 'held-for-upgrade'], to: 'approved', reason: b.reason ?? null, action: 'approve' });
        const agreement = await tx.agreements.get(app.agreementId);
        const tariff = await tx.tariffs.require(agreement!.tariffId);
        const sp = der.servicePointId ? await tx.customers.servicePoint(der.servicePointId) : undefined;
        const workOrder = await tx.workOrders.create({ applicationId: id, checklist: checklist(tariff, der.der, sp) });
        await this.notifyCustomer(tx, app, 'application-approved', `Application ${id} is approved; a crew will verify the installation (work order ${workOrder.id}).`);
        return { application: app, hosting: check, workOrder };
      }
      if (b.decision === 'hold') {
        const app = await tx.applications.transition(id, { from: ['under-review'], to: 'held-for-upgrade', reason: b.reason, action: 'hold' });
        await this.notifyCustomer(tx, app, 'application-held', `Application ${id} is held until the network is upgraded: ${b.reason}`);
        return { application: app };
      }
      const app = await tx.applications.transition(id, { from: ['submitted', 'under-review', 'held-for-upgrade'], to: 'rejected', reason: b.reason, action: 'reject' });
      await tx.agreements.end(app.agreementId);
      await this.notifyCustomer(tx, app, 'application-rejected', `Application ${id} is rejected: ${b.reason}`);
      return { application: app };
    }, actor);
  }

  async listWorkOrders(actor: Actor, q: { state?: 'open' | 'passed' | 'failed' }) {
    authorize(actor, 'work-order.read');
    return this.store.workOrders.list(q);
  }

  /** A new verification after a failed one. */
  async openWorkOrder(actor: Actor, applicationId: string) {
    authorize(actor, 'work-order.manage');
    return this.store.transaction(async (tx) => {
      const { app, der } = await this.visibleApplication(tx, actor, applicationId, { lock: true });
      if (app.state !== 'approved') throw new DermsError('CONFLICT', `application ${applicationId} is ${app.state}; only an approved application's installation is verified`);
      if ((await tx.workOrders.list({ applicationId, state: 'open' })).length) throw new DermsError('CONFLICT', `application ${applicationId} already has an open work order`);
      const agreement = await tx.agreements.get(app.agreementId);
      const tariff = await tx.tariffs.require(agreement!.tariffId);
      const sp = der.servicePointId ? await tx.customers.servicePoint(der.servicePointId) : undefined;
      return tx.workOrders.create({ applicationId, checklist: checklist(tariff, der.der, sp) });
    }, actor);
  }

  /**
   * The crew's result. Passed means the installation matches the tariff: an as-built nameplate
   * that breaks the tariff's terms, or no longer fits the feeder, is refused (record it as failed).
   */
  async completeWorkOrder(actor: Actor, id: string, b: Body<typeof workOrderBody>) {
    authorize(actor, 'work-order.manage');
    return this.store.transaction(async (tx) => {
      const wo = await tx.workOrders.require(id, { lock: true });
      const { app, der } = await this.visibleApplication(tx, actor, wo.applicationId, { lock: true });
      if (wo.state !== 'open') throw new DermsError('CONFLICT', `work order ${id} is already closed (${wo.state})`);
      if (b.result === 'failed') {
        const closed = await tx.workOrders.close(id, 'failed', { notes: b.notes, asBuilt: b.asBuilt ?? null });
        await this.notifyCustomer(tx, app, 'installation-failed', `The installation check for application ${app.id} did not pass: ${b.notes || 'see the work order'}`);
        return { workOrder: closed, application: app };
      }
      if (app.state !== 'approved') throw new DermsError('CONFLICT', `application ${app.id} is ${app.state}; only an approved application's installation can be verified`);
      const agreement = await tx.agreements.get(app.agreementId);
      const tariff = await tx.tariffs.require(agreement!.tariffId);
      let built = der;
      if (b.asBuilt) {
        let asBuilt: Der;
        try {
          asBuilt = derSchema.parse({ ...der.der, nameplate: b.asBuilt.nameplate, endpoint: b.asBuilt.endpoint ?? der.der.endpoint });
        } catch (e) {
          throw new ValidationError('work order', prefixed('asBuilt', (e as z.ZodError).issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }))));
        }
        const issues = eligibilityIssues(asBuilt, tariff);
        if (issues.length) {
          throw new DermsError('CONFLICT', `the installation as built does not meet tariff ${tariff.id}: ${issues.map((i) => i.message).join('; ')}; record the work order as failed`, prefixed('asBuilt', issues));
        }
        built = await tx.ders.updateSpec(asBuilt);
        const check = await this.hosting(tx, built, true);
        if (!check.fits) throw new DermsError('CONFLICT', `as built, the DER is rated ${check.derRatingW} W but feeder ${check.feederId} has ${Math.max(0, check.availableW)} W left; record the work order as failed`);
      }
      const closed = await tx.workOrders.close(id, 'passed', { notes: b.notes, asBuilt: b.asBuilt ?? null });
      const verified = await tx.applications.transition(app.id, { from: ['approved'], to: 'installation-verified', action: 'verify the installation of' });
      await this.notifyCustomer(tx, verified, 'installation-verified', `The installation for application ${app.id} is verified against tariff ${tariff.spec.name}.`);
      return { workOrder: closed, application: verified, der: built };
    }, actor);
  }

  // ---- flow C: hand-over to the DERMS -------------------------------------------------------

  /**
   * Hand a verified DER to the DERMS: it enters the core's registry and the application is
   * connected; the customer is told the request is complete. When the tariff requires monitoring or
   * control, the DER must first answer on its endpoint (the probe), else nothing changes.
   */
  async connectApplication(actor: Actor, id: string) {
    authorize(actor, 'application.connect');
    const { app, der, tariff } = await this.store.transaction(async (tx) => {
      const v = await this.visibleApplication(tx, actor, id);
      const agreement = await tx.agreements.get(v.app.agreementId);
      return { ...v, tariff: await tx.tariffs.require(agreement!.tariffId) };
    });
    assertState(app, ['installation-verified'], 'connect');
    const req = tariff.spec.requirements;
    let probed: string | null = null;
    if (req.telemetry || req.control) {
      const r = await this.deps.probe(der.der);
      if (r !== true) {
        throw new DermsError('UNAVAILABLE', `cannot hand DER ${der.der.mRID} to the DERMS: tariff ${tariff.id} requires ${req.control ? 'monitoring and control' : 'monitoring'} and the DER did not answer on its endpoint (${r})`);
      }
      probed = `answered on ${der.der.endpoint.protocol}`;
    }
    return writeCore(this.store, this.deps, actor, async (tx, core) => {
      const current = await tx.ders.require(der.der.mRID, { lock: true });
      const connected = await tx.applications.transition(id, { from: ['installation-verified'], to: 'connected', reason: probed, action: 'connect' });
      await core.addDer(current.der, await this.instanceOf(tx, current));
      await this.notifyCustomer(tx, connected, 'connected', `Your request is complete: ${current.der.name} is connected and managed by the DERMS.`);
      return { application: connected, der: await tx.ders.require(der.der.mRID), probe: probed };
    });
  }

  async withdrawApplication(actor: Actor, id: string, reason: string) {
    authorize(actor, 'application.withdraw');
    return this.store.transaction(async (tx) => {
      await this.visibleApplication(tx, actor, id, { lock: true });
      const app = await tx.applications.transition(id, {
        from: ['submitted', 'under-review', 'held-for-upgrade', 'approved', 'installation-verified'],
        to: 'withdrawn',
        reason,
        action: 'withdraw',
      });
      await tx.agreements.end(app.agreementId);
      await this.notifyCustomer(tx, app, 'application-withdrawn', `Application ${id} is withdrawn: ${reason}`);
      return app;
    }, actor);
  }

  private async instanceOf(tx: StoreTx, der: DerRecord): Promise<string | null> {
    const sp = der.servicePointId ? await tx.customers.servicePoint(der.servicePointId) : undefined;
    return sp ? ((await tx.feeders.get(sp.feederId))?.dermsInstance ?? null) : null;
  }

  // ---- the DER registry and third parties ---------------------------------------------------

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
    return this.store.ders.list(filter);
  }

  async getDer(actor: Actor, id: string) {
    authorize(actor, 'der.read');
    return this.store.transaction(async (tx) => this.derView(tx, actor, await this.visibleDer(tx, actor, id)));
  }

  /**
   * Share a DER's registration with a third party (or move it to another, or back to the DSO with
   * null). The DSO keeps the record and the provider history; the agreement and its tariff stay.
   * The DER leaves groups the previous provider formed, since that provider no longer manages it.
   */
  async setDerProvider(actor: Actor, id: string, b: Body<typeof providerBody>) {
    authorize(actor, 'der.assign-provider');
    return writeCore(this.store, this.deps, actor, async (tx, core) => {
      const before = await this.visibleDer(tx, actor, id);
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
          await this.announceGroup(tx, 'changed', group, previous, null);
          leftGroups.push(groupId);
        }
        await this.notifyProvider(tx, { providerOrgId: before.providerOrgId, kind: 'registration-withdrawn', derId: id, reason: b.reason, at: this.now() });
      }
      const der = await tx.ders.setProvider(id, b.providerOrgId, b.reason);
      if (b.providerOrgId !== null) {
        await this.notifyProvider(tx, { providerOrgId: b.providerOrgId, kind: 'registration-shared', registration: await this.derView(tx, actor, der), at: this.now() });
      }
      return { der, leftGroups };
    });
  }

  async derProviderHistory(actor: Actor, id: string) {
    authorize(actor, 'der.provider-history');
    await this.visibleDer(this.store, actor, id);
    return this.store.ders.providerHistory(id);
  }

  // ---- groups: formation and dissolution requests -------------------------------------------

  async listGroups(actor: Actor) {
    authorize(actor, 'group.read');
    return actor.role === 'provider' ? this.store.groups.list({ ownerOrgId: actor.orgId, active: true }) : this.store.groups.list({ active: true });
  }

  async getGroup(actor: Actor, id: string) {
    authorize(actor, 'group.read');
    return this.visibleGroup(this.store, actor, id);
  }

  async groupHistory(actor: Actor, id: string) {
    authorize(actor, 'group.read');
    await this.visibleGroup(this.store, actor, id);
    return this.store.groups.history({ groupId: id });
  }

  /**
   * Why a request breaks the rules: members must be visible to the requester, registered, approved
   * and handed over to the DERMS, under the group's tariff, eligible for it, within the tariff's
   * group size and total rating, and on one DERMS instance. An empty list means it may go ahead.
   */
  private async refusals(tx: StoreTx, actor: Actor, b: GroupRequestBody): Promise<{ reasons: string[]; instance: string | null }> {
    const reasons: string[] = [];
    let group: GroupRecord | undefined;
    if (b.kind !== 'form') {
      group = await tx.groups.get(b.groupId);
      if (!group || !group.active || !this.seesGroup(actor, group)) return { reasons: [`unknown group ${b.groupId}`], instance: null };
      if (actor.role === 'provider' && group.ownerOrgId !== actor.orgId) reasons.push(`group ${b.groupId} was formed by another organization`);
    } else {
      const existing = await tx.groups.get(b.group.mRID);
      if (existing?.active) reasons.push(`group ${b.group.mRID} already exists`);
      if (actor.role === 'provider' && b.tariffId === undefined) reasons.push('a third party offers a group under a tariff: give tariffId');
    }
    if (b.kind === 'dissolve') return { reasons, instance: group!.dermsInstance };
    const tariffId = b.kind === 'form' ? b.tariffId : (group!.tariffId ?? undefined);
    const tariff = tariffId === undefined ? undefined : await tx.tariffs.get(tariffId);
    if (tariffId !== undefined && !tariff) return { reasons: [...reasons, `unknown tariff ${tariffId}`], instance: null };
    const rules = tariff?.spec.grouping;
    if (rules && !rules.allowed) reasons.push(`tariff ${tariff!.id} does not allow groups`);

    const current = group ? group.group.members : [];
    const asked = b.kind === 'form' ? b.group.members : b.members;
    const dupes = asked.filter((m, i) => asked.indexOf(m) !== i);
    if (dupes.length) reasons.push(`members listed twice: ${[...new Set(dupes)].join(', ')}`);
    let members: string[];
    if (b.kind === 'remove-members') {
      const absent = asked.filter((m) => !current.includes(m));
      if (absent.length) reasons.push(`not members of ${b.groupId}: ${absent.join(', ')}`);
      members = current.filter((m) => !asked.includes(m));
    } else {
      const joining = asked.filter((m) => !current.includes(m));
      if (b.kind === 'add-members' && joining.length < asked.length) reasons.push(`already members of ${b.groupId}: ${asked.filter((m) => current.includes(m)).join(', ')}`);
      for (const m of [...new Set(joining)]) reasons.push(...(await this.memberRefusals(tx, actor, m, tariff)));
      members = [...new Set([...current, ...asked])];
    }
    if (rules) {
      if (members.length < rules.minMembers) {
        reasons.push(`a group under tariff ${tariff!.id} needs at least ${rules.minMembers} members; this one would have ${members.length}${b.kind === 'remove-members' ? ' (dissolve it instead)' : ''}`);
      }
      if (rules.maxMembers !== undefined && members.length > rules.maxMembers) reasons.push(`a group under tariff ${tariff!.id} has at most ${rules.maxMembers} members; this one would have ${members.length}`);
      const recs = await tx.ders.list({ ids: members });
      const total = recs.reduce((s, r) => s + r.ratedW, 0);
      if (total < rules.minTotalW) reasons.push(`a group under tariff ${tariff!.id} needs at least ${rules.minTotalW} W in total; this one would have ${total} W`);
    }
    const instances = new Set<string | null>();
    for (const r of await tx.ders.list({ ids: members })) instances.add(await this.instanceOf(tx, r));
    if (group) instances.add(group.dermsInstance);
    if (instances.size > 1) reasons.push(`members are managed by different DERMS instances (${[...instances].map((i) => i ?? 'central').join(', ')}); a group lives on one`);
    return { reasons, instance: [...instances][0] ?? null };
  }

  private async memberRefusals(tx: StoreTx, actor: Actor, derId: string, tariff: Tariff | undefined): Promise<string[]> {
    const r = await tx.ders.get(derId);
    if (!r || !this.seesDer(actor, r)) return [`unknown DER ${derId}`];
    if (!r.managed) {
      const app = await tx.applications.forDer(derId);
      const state = app?.state ?? 'not applied for';
      if (app && (state === 'approved' || state === 'installation-verified')) return [`DER ${derId} is approved but not yet handed over to the DERMS (${state})`];
      return [`DER ${derId} is not approved and connected (application ${state})`];
    }
    if (!tariff) return [];
    const out: string[] = [];
    const agreement = await tx.agreements.current(derId);
    if (agreement?.tariffId !== tariff.id) out.push(`DER ${derId} is under tariff ${agreement?.tariffId ?? 'none'}, not ${tariff.id}`);
    for (const i of eligibilityIssues(r.der, tariff)) out.push(`DER ${derId}: ${i.message}`);
    return out;
  }

  /** A request to form, change or dissolve a group; one that breaks the rules is recorded refused, with the reasons. */
  async submitGroupRequest(actor: Actor, b: GroupRequestBody) {
    authorize(actor, 'group-request.submit');
    return this.store.transaction(async (tx) => {
      const { reasons } = await this.refusals(tx, actor, b);
      const groupId = b.kind === 'form' ? b.group.mRID : b.groupId;
      return tx.groupRequests.create({ kind: b.kind, groupId, body: b, refusedFor: reasons });
    }, actor);
  }

  async listGroupRequests(actor: Actor) {
    authorize(actor, 'group-request.read');
    return isDso(actor) ? this.store.groupRequests.list() : this.store.groupRequests.list({ orgId: actor.orgId });
  }

  async getGroupRequest(actor: Actor, id: string) {
    authorize(actor, 'group-request.read');
    return this.visibleRequest(this.store, actor, id);
  }

  /**
   * DSO customer support approves a pending request: the rules are checked again (things may have
   * changed since it was submitted), the group is formed, changed or dissolved in the DERMS with
   * the membership history, and Operations is told through a DERGroups event.
   */
  async approveGroupRequest(actor: Actor, id: string) {
    authorize(actor, 'group-request.decide');
    return writeCore(this.store, this.deps, actor, async (tx, core) => {
      const req = await this.visibleRequest(tx, actor, id, { lock: true });
      if (req.state !== 'pending') throw new DermsError('CONFLICT', `group request ${id} is already ${req.state}${req.reasons.length ? ` (${req.reasons.join('; ')})` : ''}`);
      const b = req.body as GroupRequestBody;
      const requester: Actor = { ...actor, orgId: req.orgId, orgKind: (await tx.orgs.require(req.orgId)).kind, role: (await tx.users.get(req.requestedByUserId))?.role ?? actor.role, userId: req.requestedByUserId };
      const { reasons, instance } = await this.refusals(tx, requester, b);
      if (reasons.length) throw new DermsError('CONFLICT', `group request ${id} no longer meets the rules: ${reasons.join('; ')}`, reasons.map((message) => ({ path: '', message })));
      const why = { reason: b.reason ?? `group request ${id} (${b.kind})`, requestId: id };
      let group: DerGroup;
      if (b.kind === 'form') {
        group = await core.createGroup(parseGroup(b.group), instance, why, { ownerOrgId: req.orgId, tariffId: b.tariffId ?? null, dermsInstance: instance });
        await this.announceGroup(tx, 'created', group, null, id);
      } else if (b.kind === 'dissolve') {
        group = await core.deleteGroup(b.groupId, instance, why);
        await this.announceGroup(tx, 'deleted', group, null, id);
      } else {
        const change = b.kind === 'add-members' ? { addMembers: b.members } : { removeMembers: b.members };
        const r = await core.changeGroup(b.groupId, instance, change, why);
        group = r.group;
        await this.announceGroup(tx, 'changed', group, r.previous, id);
      }
      const decided = await tx.groupRequests.decide(id, 'approved', []);
      await this.notifyRequester(tx, decided);
      return { request: decided, group };
    });
  }

  async refuseGroupRequest(actor: Actor, id: string, reason: string) {
    authorize(actor, 'group-request.decide');
    return this.store.transaction(async (tx) => {
      await this.visibleRequest(tx, actor, id, { lock: true });
      const decided = await tx.groupRequests.decide(id, 'refused', [reason]);
      await this.notifyRequester(tx, decided);
      return decided;
    }, actor);
  }

  // ---- participation, statements, invoices --------------------------------------------------

  private async participationOf(tx: StoreTx, derId: string, p: Period): Promise<MemberParticipation[]> {
    const out: MemberParticipation[] = [];
    const energy = await tx.energy.range(derId, p.from, p.to);
    for (const d of await tx.dispatches.ofDer(derId, p)) {
      const m = memberParticipation(d, await tx.dispatches.outcomes(d.id, derId), energy, p.from, p.to, this.now());
      if (m) out.push(m);
    }
    return out;
  }

  private async rateOf(tx: StoreTx, derId: string): Promise<{ tariff: Tariff | undefined; agreementId: string | null }> {
    const agreement = await tx.agreements.current(derId);
    return { tariff: agreement ? await tx.tariffs.get(agreement.tariffId) : undefined, agreementId: agreement?.id ?? null };
  }

  /** Per dispatch the DER took part in: energy requested, delivered (from the rollups) and settled, and what it earns. */
  async derParticipation(actor: Actor, id: string, p: Period) {
    authorize(actor, 'participation.read');
    return this.store.transaction(async (tx) => {
      await this.visibleDer(tx, actor, id);
      const { tariff } = await this.rateOf(tx, id);
      const rate = tariff?.spec.settlement;
      const dispatches = (await this.participationOf(tx, id, p)).map((m) => this.forActor(actor, { ...m, amount: rate ? amountFor(m.settledWh, rate.ratePerKWh) : 0 }));
      return { derId: id, from: p.from, to: p.to, currency: rate?.currency ?? null, dispatches };
    });
  }

  /** Customers are told when their DER were dispatched and what they delivered, not which group asked. */
  private forActor<T extends { groupId: string }>(actor: Actor, m: T): T | Omit<T, 'groupId'> {
    if (actor.role !== 'customer') return m;
    const { groupId: _g, ...rest } = m;
    return rest;
  }

  /** A customer's statement for a period: per DER, energy produced and consumed, participation and credit. */
  async customerStatement(actor: Actor, customerId: string, p: Period) {
    authorize(actor, 'statement.read');
    return this.store.transaction(async (tx) => {
      const customer = await this.visibleCustomer(tx, actor, customerId);
      const ders = (await tx.ders.list({ customerId })).filter((d) => this.seesDer(actor, d));
      const lines = [];
      for (const d of ders) {
        const { tariff, agreementId } = await this.rateOf(tx, d.der.mRID);
        const energy = energyIn(await tx.energy.range(d.der.mRID, p.from, p.to), p.from, p.to);
        const parts = await this.participationOf(tx, d.der.mRID, p);
        const rate = tariff?.spec.settlement.ratePerKWh ?? 0;
        const dispatches = parts.map((m) => this.forActor(actor, { ...m, amount: amountFor(m.settledWh, rate) }));
        lines.push({
          derId: d.der.mRID,
          name: d.der.name,
          agreementId,
          tariffId: tariff?.id ?? null,
          producedWh: energy.outWh,
          consumedWh: energy.inWh,
          dispatches,
          credit: Math.round(dispatches.reduce((s, x) => s + x.amount, 0) * 100) / 100,
        });
      }
      const currencies = new Set((await Promise.all(ders.map((d) => this.rateOf(tx, d.der.mRID)))).map((r) => r.tariff?.spec.settlement.currency ?? null).filter((c) => c !== null));
      return {
        customerId: customer.id,
        name: customer.name,
        from: p.from,
        to: p.to,
        currency: currencies.size === 1 ? [...currencies][0]! : null,
        ders: lines,
        totalCredit: Math.round(lines.reduce((s, l) => s + l.credit, 0) * 100) / 100,
      };
    });
  }

  /**
   * What the group's owner invoices the DSO for a period: per dispatch, energy requested, delivered
   * and settled over the members that took part, at the group's tariff rate, with the breakdown per
   * DER, agreement and customer that customer invoicing needs.
   */
  async groupInvoice(actor: Actor, groupId: string, p: Period) {
    authorize(actor, 'invoice.read');
    return this.store.transaction(async (tx) => {
      const g = await this.visibleGroup(tx, actor, groupId);
      const groupTariff = g.tariffId ? await tx.tariffs.get(g.tariffId) : undefined;
      const dispatches = [];
      for (const d of await tx.dispatches.list({ groupId, ...p })) {
        const members: Array<{ derId: string; customerId: string | null; agreementId: string | null; requestedWh: number | null; deliveredWh: number; settledWh: number; amount: number }> = [];
        for (const derId of [...new Set((await tx.dispatches.outcomes(d.id)).map((o) => o.derId))]) {
          const m = memberParticipation(d, await tx.dispatches.outcomes(d.id, derId), await tx.energy.range(derId, p.from, p.to), p.from, p.to, this.now());
          if (!m) continue;
          const rec = await tx.ders.get(derId);
          const { tariff, agreementId } = await this.rateOf(tx, derId);
          const rate = (groupTariff ?? tariff)?.spec.settlement.ratePerKWh ?? 0;
          members.push({ derId, customerId: rec?.customerId ?? null, agreementId, requestedWh: m.requestedWh, deliveredWh: m.deliveredWh, settledWh: m.settledWh, amount: amountFor(m.settledWh, rate) });
        }
        const sum = (k: 'deliveredWh' | 'settledWh' | 'amount') => members.reduce((s, m) => s + m[k], 0);
        const requested = members.some((m) => m.requestedWh !== null) ? members.reduce((s, m) => s + (m.requestedWh ?? 0), 0) : null;
        dispatches.push({
          dispatchId: d.id,
          controlKind: d.controlKind,
          from: Math.max(d.acceptedAt, p.from),
          to: Math.min(d.endedAt ?? this.now(), p.to),
          state: d.state,
          requestedWh: requested,
          deliveredWh: sum('deliveredWh'),
          settledWh: sum('settledWh'),
          // The group's tariff prices the aggregate; without one each member is paid at its own tariff.
          amount: groupTariff ? amountFor(sum('settledWh'), groupTariff.spec.settlement.ratePerKWh) : Math.round(sum('amount') * 100) / 100,
          members,
        });
      }
      return {
        groupId,
        ownerOrgId: g.ownerOrgId,
        tariffId: g.tariffId,
        ratePerKWh: groupTariff?.spec.settlement.ratePerKWh ?? null,
        currency: groupTariff?.spec.settlement.currency ?? null,
        from: p.from,
        to: p.to,
        dispatches,
        totalSettledWh: dispatches.reduce((s, d) => s + d.settledWh, 0),
        totalAmount: Math.round(dispatches.reduce((s, d) => s + d.amount, 0) * 100) / 100,
      };
    });
  }

  // ---- audit and outbox --------------------------------------------------------------------

  async listAudit(actor: Actor, q: { entityType?: string; entityId?: string; afterId?: number; limit?: number }) {
    authorize(actor, 'audit.read');
    return this.store.audit.list(q);
  }

  async listOutbox(actor: Actor, q: { state?: OutboxState; topic?: string }) {
    authorize(actor, 'outbox.read');
    return { counts: await this.store.outbox.counts(), messages: await this.store.outbox.list(q) };
  }

  // ---- notifications -----------------------------------------------------------------------

  private async notifyCustomer(tx: StoreTx, app: Application, kind: CustomerNotificationKind, message: string): Promise<void> {
    const payload: CustomerNotification = { customerId: app.customerId, kind, applicationId: app.id, derId: app.derId, message, at: this.now() };
    await tx.outbox.enqueue({ topic: topics.customer, key: app.customerId, payload });
  }

  private async notifyProvider(tx: StoreTx, payload: ProviderNotification): Promise<void> {
    await tx.outbox.enqueue({ topic: topics.provider, key: payload.providerOrgId, payload });
  }

  private async notifyRequester(tx: StoreTx, req: GroupRequest): Promise<void> {
    const org = await tx.orgs.get(req.orgId);
    if (org?.kind !== 'provider' || req.state === 'pending') return;
    await this.notifyProvider(tx, { providerOrgId: org.id, kind: 'group-request-decided', requestId: req.id, state: req.state, reasons: req.reasons, at: this.now() });
  }

  private async announceGroup(tx: StoreTx, verb: CimGroupEvent['verb'], group: DerGroup, previous: DerGroup | null, requestId: string | null): Promise<void> {
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
