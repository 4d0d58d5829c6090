import type { z } from 'zod';
import { DermsError, ValidationError, type ErrorIssue } from '../core/errors.js';
import { derSchema, type Der } from '../core/model/der.js';
import { newId } from '../store/repos/context.js';
import { derRatingW, type Actor, type Application, type ApplicationState, type DerRecord, type ServicePoint, type Tariff } from '../store/records.js';
import type { StoreTx } from '../store/store.js';
import { AccessError, authorize } from './authz.js';
import type { ServiceContext } from './context.js';
import { dermsInstanceOf, writeCore } from './core-writer.js';
import type { applicationBody, customerBody, decisionBody, servicePointBody, workOrderBody } from './schemas.js';

type Body<S extends z.ZodType> = z.output<S>;

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

function zodIssues(e: unknown): ErrorIssue[] {
  return (e as z.ZodError).issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message }));
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
 * Flows A to C: customers and service points, registration (the DER, its agreement and the
 * application together), engineering review with the hosting-capacity check and the installation
 * work order, and the hand-over to the DERMS.
 */
export class Registration {
  constructor(private readonly c: ServiceContext) {}

  async createCustomer(actor: Actor, b: Body<typeof customerBody>) {
    authorize(actor, 'customer.create');
    if (actor.role === 'provider' && b.providerOrgId !== undefined && b.providerOrgId !== actor.orgId) {
      throw new AccessError(403, 'a provider opens customer accounts for itself only');
    }
    const providerOrgId = actor.role === 'provider' ? actor.orgId : (b.providerOrgId ?? null);
    return this.c.store.transaction((tx) => tx.customers.create({ ...b, providerOrgId }), actor);
  }

  async listCustomers(actor: Actor) {
    authorize(actor, 'customer.read');
    if (actor.role === 'customer') return [await this.c.store.customers.require(actor.customerId!)];
    if (actor.role === 'provider') return this.c.store.customers.list({ visibleToProvider: actor.orgId });
    return this.c.store.customers.list();
  }

  async getCustomer(actor: Actor, id: string) {
    authorize(actor, 'customer.read');
    return this.c.store.transaction(async (tx) => {
      const customer = await this.c.scope.visibleCustomer(tx, actor, id);
      const ders = (await tx.ders.list({ customerId: id })).filter((d) => this.c.scope.seesDer(actor, d));
      const agreements = (await tx.agreements.list({ customerId: id })).filter((a) => ders.some((d) => d.der.mRID === a.derId));
      return { customer, servicePoints: await tx.customers.servicePoints(id), ders: ders.map((d) => d.der.mRID), agreements };
    });
  }

  async addServicePoint(actor: Actor, customerId: string, b: Body<typeof servicePointBody>) {
    authorize(actor, 'service-point.create');
    return this.c.store.transaction(async (tx) => {
      await this.c.scope.visibleCustomer(tx, actor, customerId);
      if (!(await tx.feeders.get(b.feederId))) throw new ValidationError('service point', [{ path: 'feederId', message: `feeder ${JSON.stringify(b.feederId)} does not exist` }]);
      return tx.customers.addServicePoint({ customerId, ...b });
    }, actor);
  }

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
      throw new ValidationError('application', prefixed('der', zodIssues(e)));
    }
    return this.c.store.transaction(async (tx) => {
      const customer = await tx.customers.get(customerId);
      if (!customer || !(await this.c.scope.seesCustomer(tx, actor, customer))) {
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
      await this.c.notify.customer(tx, application, 'application-received', message);
      return { application, der: record, agreement, servicePoint: sp, acknowledgement: { applicationId: application.id, state: application.state, message } };
    }, actor);
  }

  async listApplications(actor: Actor, q: { state?: Application['state'] }) {
    authorize(actor, 'application.read');
    if (actor.role === 'customer') return this.c.store.applications.list({ customerId: actor.customerId!, ...q });
    if (actor.role === 'provider') return this.c.store.applications.list({ providerOrgId: actor.orgId, ...q });
    return this.c.store.applications.list(q);
  }

  async getApplication(actor: Actor, id: string) {
    authorize(actor, 'application.read');
    return this.c.store.transaction(async (tx) => {
      const { app, der } = await this.c.scope.visibleApplication(tx, actor, id);
      const agreement = await tx.agreements.get(app.agreementId);
      const workOrders = actor.role === 'dso-support' || actor.role === 'dso-engineering' ? await tx.workOrders.list({ applicationId: id }) : undefined;
      return { application: app, der, agreement, history: await tx.applications.history(id), workOrders };
    });
  }

  /** Customer support sends a submitted application to Engineering. */
  async reviewApplication(actor: Actor, id: string) {
    authorize(actor, 'application.review');
    return this.c.store.transaction(async (tx) => {
      await this.c.scope.visibleApplication(tx, actor, id);
      const app = await tx.applications.transition(id, { from: ['submitted'], to: 'under-review', action: 'send to engineering review' });
      await this.c.notify.customer(tx, app, 'application-under-review', `Application ${id} is under engineering review.`);
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
    return this.c.store.transaction(async (tx) => {
      const { der } = await this.c.scope.visibleApplication(tx, actor, id);
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
    return this.c.store.transaction(async (tx) => {
      const { der } = await this.c.scope.visibleApplication(tx, actor, id, { lock: true });
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
        await this.c.notify.customer(tx, app, 'application-approved', `Application ${id} is approved; a crew will verify the installation (work order ${workOrder.id}).`);
        return { application: app, hosting: check, workOrder };
      }
      if (b.decision === 'hold') {
        const app = await tx.applications.transition(id, { from: ['under-review'], to: 'held-for-upgrade', reason: b.reason, action: 'hold' });
        await this.c.notify.customer(tx, app, 'application-held', `Application ${id} is held until the network is upgraded: ${b.reason}`);
        return { application: app };
      }
      const app = await tx.applications.transition(id, { from: ['submitted', 'under-review', 'held-for-upgrade'], to: 'rejected', reason: b.reason, action: 'reject' });
      await tx.agreements.end(app.agreementId);
      await this.c.notify.customer(tx, app, 'application-rejected', `Application ${id} is rejected: ${b.reason}`);
      return { application: app };
    }, actor);
  }

  async listWorkOrders(actor: Actor, q: { state?: 'open' | 'passed' | 'failed' }) {
    authorize(actor, 'work-order.read');
    return this.c.store.workOrders.list(q);
  }

  /** A new verification after a failed one. */
  async openWorkOrder(actor: Actor, applicationId: string) {
    authorize(actor, 'work-order.manage');
    return this.c.store.transaction(async (tx) => {
      const { app, der } = await this.c.scope.visibleApplication(tx, actor, applicationId, { lock: true });
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
    return this.c.store.transaction(async (tx) => {
      const wo = await tx.workOrders.require(id, { lock: true });
      const { app, der } = await this.c.scope.visibleApplication(tx, actor, wo.applicationId, { lock: true });
      if (wo.state !== 'open') throw new DermsError('CONFLICT', `work order ${id} is already closed (${wo.state})`);
      if (b.result === 'failed') {
        const closed = await tx.workOrders.close(id, 'failed', { notes: b.notes, asBuilt: b.asBuilt ?? null });
        await this.c.notify.customer(tx, app, 'installation-failed', `The installation check for application ${app.id} did not pass: ${b.notes || 'see the work order'}`);
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
          throw new ValidationError('work order', prefixed('asBuilt', zodIssues(e)));
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
      await this.c.notify.customer(tx, verified, 'installation-verified', `The installation for application ${app.id} is verified against tariff ${tariff.spec.name}.`);
      return { workOrder: closed, application: verified, der: built };
    }, actor);
  }

  /**
   * Hand a verified DER to the DERMS: it enters the core's registry and the application is
   * connected; the customer is told the request is complete. When the tariff requires monitoring or
   * control, the DER must first answer on its endpoint (the probe), else nothing changes.
   */
  async connectApplication(actor: Actor, id: string) {
    authorize(actor, 'application.connect');
    const { app, der, tariff } = await this.c.store.transaction(async (tx) => {
      const v = await this.c.scope.visibleApplication(tx, actor, id);
      const agreement = await tx.agreements.get(v.app.agreementId);
      return { ...v, tariff: await tx.tariffs.require(agreement!.tariffId) };
    });
    assertState(app, ['installation-verified'], 'connect');
    const req = tariff.spec.requirements;
    let probed: string | null = null;
    if (req.telemetry || req.control) {
      const r = await this.c.deps.probe(der.der);
      if (r !== true) {
        throw new DermsError('UNAVAILABLE', `cannot hand DER ${der.der.mRID} to the DERMS: tariff ${tariff.id} requires ${req.control ? 'monitoring and control' : 'monitoring'} and the DER did not answer on its endpoint (${r})`);
      }
      probed = `answered on ${der.der.endpoint.protocol}`;
    }
    return writeCore(this.c.store, this.c.deps, actor, async (tx, core) => {
      const current = await tx.ders.require(der.der.mRID, { lock: true });
      const connected = await tx.applications.transition(id, { from: ['installation-verified'], to: 'connected', reason: probed, action: 'connect' });
      await core.addDer(current.der, await dermsInstanceOf(tx, current));
      await this.c.notify.customer(tx, connected, 'connected', `Your request is complete: ${current.der.name} is connected and managed by the DERMS.`);
      return { application: connected, der: await tx.ders.require(der.der.mRID), probe: probed };
    });
  }

  async withdrawApplication(actor: Actor, id: string, reason: string) {
    authorize(actor, 'application.withdraw');
    return this.c.store.transaction(async (tx) => {
      await this.c.scope.visibleApplication(tx, actor, id, { lock: true });
      const app = await tx.applications.transition(id, {
        from: ['submitted', 'under-review', 'held-for-upgrade', 'approved', 'installation-verified'],
        to: 'withdrawn',
        reason,
        action: 'withdraw',
      });
      await tx.agreements.end(app.agreementId);
      await this.c.notify.customer(tx, app, 'application-withdrawn', `Application ${id} is withdrawn: ${reason}`);
      return app;
    }, actor);
  }
}
