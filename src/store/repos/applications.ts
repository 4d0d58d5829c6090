import { DermsError } from '../../core/errors.js';
import { forUpdate } from '../sql.js';
import type { Application, ApplicationState, ApplicationTransition, WorkOrder, WorkOrderState } from '../records.js';
import { audit, fromJson, newId, notFound, toJson, where, type RepoContext } from './context.js';

interface ApplicationRow {
  id: string;
  der_id: string;
  customer_id: string;
  agreement_id: string;
  state: ApplicationState;
  reason: string | null;
  submitted_by_user_id: string | null;
  submitted_by_org_id: string | null;
  created_at: number;
  updated_at: number;
}
const application = (r: ApplicationRow): Application => ({
  id: r.id,
  derId: r.der_id,
  customerId: r.customer_id,
  agreementId: r.agreement_id,
  state: r.state,
  reason: r.reason,
  submittedByUserId: r.submitted_by_user_id,
  submittedByOrgId: r.submitted_by_org_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface ApplicationFilter {
  readonly customerId?: string;
  /** Applications for DER whose relationship this provider owns. */
  readonly providerOrgId?: string;
  readonly state?: ApplicationState;
}

export class ApplicationRepo {
  constructor(private readonly c: RepoContext) {}

  /** A new application in state `submitted`, its first transition recorded. */
  create(o: { derId: string; customerId: string; agreementId: string }): Promise<Application> {
    return this.c.atomic(async (c) => {
      const now = c.now();
      const row: ApplicationRow = {
        id: newId('app'),
        der_id: o.derId,
        customer_id: o.customerId,
        agreement_id: o.agreementId,
        state: 'submitted',
        reason: null,
        submitted_by_user_id: c.actor.userId,
        submitted_by_org_id: c.actor.orgId,
        created_at: now,
        updated_at: now,
      };
      await c.sql.run(
        `INSERT INTO applications (id, der_id, customer_id, agreement_id, state, reason, submitted_by_user_id, submitted_by_org_id, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [row.id, row.der_id, row.customer_id, row.agreement_id, row.state, row.reason, row.submitted_by_user_id, row.submitted_by_org_id, now, now],
      );
      await c.sql.run('INSERT INTO application_transitions (application_id, from_state, to_state, at, by_user_id, reason) VALUES (?, ?, ?, ?, ?, ?)', [
        row.id, null, 'submitted', now, c.actor.userId, null,
      ]);
      await audit(c, 'application.submitted', 'application', row.id, { derId: o.derId, customerId: o.customerId, agreementId: o.agreementId });
      return application(row);
    });
  }

  async get(id: string, o: { lock?: boolean } = {}): Promise<Application | undefined> {
    const r = await this.c.sql.get<ApplicationRow>(`SELECT * FROM applications WHERE id = ?${o.lock ? forUpdate(this.c.sql) : ''}`, [id]);
    return r && application(r);
  }

  async require(id: string, o: { lock?: boolean } = {}): Promise<Application> {
    const a = await this.get(id, o);
    if (!a) throw notFound('application', id);
    return a;
  }

  async forDer(derId: string): Promise<Application | undefined> {
    const r = await this.c.sql.get<ApplicationRow>('SELECT * FROM applications WHERE der_id = ?', [derId]);
    return r && application(r);
  }

  async list(f: ApplicationFilter = {}): Promise<Application[]> {
    const w = where([
      ['a.customer_id = ?', f.customerId],
      ['d.provider_org_id = ?', f.providerOrgId],
      ['a.state = ?', f.state],
    ]);
    const rows = await this.c.sql.all<ApplicationRow>(`SELECT a.* FROM applications a JOIN ders d ON d.id = a.der_id${w.clause} ORDER BY a.created_at, a.id`, w.params);
    return rows.map(application);
  }

  /**
   * Move an application from one of `from` to `to`, recording who and why. Any other current
   * state is a CONFLICT naming it, so "approve a rejected application" is refused with the reason.
   */
  transition(id: string, o: { from: readonly ApplicationState[]; to: ApplicationState; reason?: string | null; action: string }): Promise<Application> {
    return this.c.atomic(async (c) => {
      const before = await new ApplicationRepo(c).require(id, { lock: true });
      if (!o.from.includes(before.state)) {
        throw new DermsError('CONFLICT', `cannot ${o.action} application ${id}: it is ${before.state}${before.reason ? ` (${before.reason})` : ''}; only ${o.from.join(' or ')} can be`);
      }
      const now = c.now();
      const reason = o.reason ?? null;
      await c.sql.run('UPDATE applications SET state = ?, reason = ?, updated_at = ? WHERE id = ?', [o.to, reason, now, id]);
      await c.sql.run('INSERT INTO application_transitions (application_id, from_state, to_state, at, by_user_id, reason) VALUES (?, ?, ?, ?, ?, ?)', [
        id, before.state, o.to, now, c.actor.userId, reason,
      ]);
      await audit(c, `application.${o.to}`, 'application', id, { from: before.state, to: o.to, reason });
      return { ...before, state: o.to, reason, updatedAt: now };
    });
  }

  async history(id: string): Promise<ApplicationTransition[]> {
    const rows = await this.c.sql.all<{ application_id: string; from_state: ApplicationState | null; to_state: ApplicationState; at: number; by_user_id: string | null; reason: string | null }>(
      'SELECT application_id, from_state, to_state, at, by_user_id, reason FROM application_transitions WHERE application_id = ? ORDER BY id',
      [id],
    );
    return rows.map((r) => ({ applicationId: r.application_id, from: r.from_state, to: r.to_state, at: r.at, byUserId: r.by_user_id, reason: r.reason }));
  }
}

interface WorkOrderRow {
  id: string;
  application_id: string;
  kind: 'verify-installation';
  state: WorkOrderState;
  checklist: string;
  result: string | null;
  created_at: number;
  closed_at: number | null;
  closed_by_user_id: string | null;
}
const workOrder = (r: WorkOrderRow): WorkOrder => ({
  id: r.id,
  applicationId: r.application_id,
  kind: r.kind,
  state: r.state,
  checklist: fromJson<string[]>(r.checklist),
  result: r.result === null ? null : fromJson<unknown>(r.result),
  createdAt: r.created_at,
  closedAt: r.closed_at,
  closedByUserId: r.closed_by_user_id,
});

export class WorkOrderRepo {
  constructor(private readonly c: RepoContext) {}

  create(o: { applicationId: string; checklist: readonly string[] }): Promise<WorkOrder> {
    return this.c.atomic(async (c) => {
      const row: WorkOrderRow = {
        id: newId('wo'),
        application_id: o.applicationId,
        kind: 'verify-installation',
        state: 'open',
        checklist: toJson(o.checklist),
        result: null,
        created_at: c.now(),
        closed_at: null,
        closed_by_user_id: null,
      };
      await c.sql.run('INSERT INTO work_orders (id, application_id, kind, state, checklist, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        row.id, row.application_id, row.kind, row.state, row.checklist, row.created_at,
      ]);
      await audit(c, 'work-order.opened', 'work-order', row.id, { applicationId: o.applicationId, checklist: o.checklist });
      return workOrder(row);
    });
  }

  async get(id: string, o: { lock?: boolean } = {}): Promise<WorkOrder | undefined> {
    const r = await this.c.sql.get<WorkOrderRow>(`SELECT * FROM work_orders WHERE id = ?${o.lock ? forUpdate(this.c.sql) : ''}`, [id]);
    return r && workOrder(r);
  }

  async require(id: string, o: { lock?: boolean } = {}): Promise<WorkOrder> {
    const w = await this.get(id, o);
    if (!w) throw notFound('work order', id);
    return w;
  }

  async list(f: { applicationId?: string; state?: WorkOrderState } = {}): Promise<WorkOrder[]> {
    const w = where([['application_id = ?', f.applicationId], ['state = ?', f.state]]);
    return (await this.c.sql.all<WorkOrderRow>(`SELECT * FROM work_orders${w.clause} ORDER BY created_at, id`, w.params)).map(workOrder);
  }

  /** Close an open order as passed or failed with the crew's findings; a closed order is a CONFLICT. */
  close(id: string, state: Exclude<WorkOrderState, 'open'>, result: unknown): Promise<WorkOrder> {
    return this.c.atomic(async (c) => {
      const before = await new WorkOrderRepo(c).require(id, { lock: true });
      if (before.state !== 'open') throw new DermsError('CONFLICT', `work order ${id} is already closed (${before.state})`);
      const now = c.now();
      await c.sql.run('UPDATE work_orders SET state = ?, result = ?, closed_at = ?, closed_by_user_id = ? WHERE id = ?', [state, toJson(result), now, c.actor.userId, id]);
      await audit(c, `work-order.${state}`, 'work-order', id, { applicationId: before.applicationId, result });
      return { ...before, state, result, closedAt: now, closedByUserId: c.actor.userId };
    });
  }
}
