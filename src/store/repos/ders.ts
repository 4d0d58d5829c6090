import type { Der } from '../../core/model/der.js';
import { forUpdate, inList } from '../sql.js';
import { derRatingW, type Agreement, type DerRecord, type ProviderChange } from '../records.js';
import { audit, fromJson, newId, notFound, toJson, where, type RepoContext } from './context.js';

interface DerRow {
  id: string;
  spec: string;
  kind: string;
  rated_w: number;
  customer_id: string | null;
  service_point_id: string | null;
  provider_org_id: string | null;
  managed: number;
  created_at: number;
  updated_at: number;
}
const record = (r: DerRow): DerRecord => ({
  der: fromJson<Der>(r.spec),
  ratedW: r.rated_w,
  customerId: r.customer_id,
  servicePointId: r.service_point_id,
  providerOrgId: r.provider_org_id,
  managed: r.managed === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export interface DerFilter {
  readonly customerId?: string;
  readonly providerOrgId?: string;
  readonly feederId?: string;
  readonly managed?: boolean;
  /** Only DER on feeders of this DERMS instance (distributed deployments). */
  readonly dermsInstance?: string;
  readonly ids?: readonly string[];
}

export class DerRepo {
  constructor(private readonly c: RepoContext) {}

  /** A DER the DSO now knows of, with its customer, service point and provider (not yet in the DERMS). */
  register(o: { der: Der; customerId: string | null; servicePointId: string | null; providerOrgId: string | null; managed?: boolean }): Promise<DerRecord> {
    return this.c.atomic(async (c) => {
      const now = c.now();
      const row: DerRow = {
        id: o.der.mRID,
        spec: toJson(o.der),
        kind: o.der.kind,
        rated_w: derRatingW(o.der),
        customer_id: o.customerId,
        service_point_id: o.servicePointId,
        provider_org_id: o.providerOrgId,
        managed: o.managed ? 1 : 0,
        created_at: now,
        updated_at: now,
      };
      await c.sql.run(
        'INSERT INTO ders (id, spec, kind, rated_w, customer_id, service_point_id, provider_org_id, managed, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [row.id, row.spec, row.kind, row.rated_w, row.customer_id, row.service_point_id, row.provider_org_id, row.managed, now, now],
      );
      if (row.provider_org_id !== null) {
        await c.sql.run('INSERT INTO der_provider_history (der_id, provider_org_id, at, by_user_id, reason) VALUES (?, ?, ?, ?, ?)', [
          row.id, row.provider_org_id, now, c.actor.userId, 'registered by the provider',
        ]);
      }
      await audit(c, 'der.registered', 'der', row.id, { customerId: o.customerId, servicePointId: o.servicePointId, providerOrgId: o.providerOrgId, managed: row.managed === 1 });
      return record(row);
    });
  }

  async get(id: string, o: { lock?: boolean } = {}): Promise<DerRecord | undefined> {
    const r = await this.c.sql.get<DerRow>(`SELECT * FROM ders WHERE id = ?${o.lock ? forUpdate(this.c.sql) : ''}`, [id]);
    return r && record(r);
  }

  async require(id: string, o: { lock?: boolean } = {}): Promise<DerRecord> {
    const r = await this.get(id, o);
    if (!r) throw notFound('DER', id);
    return r;
  }

  async list(f: DerFilter = {}): Promise<DerRecord[]> {
    if (f.ids && f.ids.length === 0) return [];
    const w = where([
      ['d.customer_id = ?', f.customerId],
      ['d.provider_org_id = ?', f.providerOrgId],
      ['sp.feeder_id = ?', f.feederId],
      ['d.managed = ?', f.managed],
      ['fe.derms_instance = ?', f.dermsInstance],
      [`d.id IN ${inList(f.ids?.length ?? 0)}`, f.ids],
    ]);
    const rows = await this.c.sql.all<DerRow>(
      `SELECT d.* FROM ders d LEFT JOIN service_points sp ON sp.id = d.service_point_id LEFT JOIN feeders fe ON fe.id = sp.feeder_id${w.clause} ORDER BY d.created_at, d.id`,
      w.params,
    );
    return rows.map(record);
  }

  /** Replace the DER's nameplate and endpoint (as built, or as changed through the core). */
  updateSpec(der: Der): Promise<DerRecord> {
    return this.c.atomic(async (c) => {
      const before = await new DerRepo(c).require(der.mRID, { lock: true });
      await c.sql.run('UPDATE ders SET spec = ?, kind = ?, rated_w = ?, updated_at = ? WHERE id = ?', [toJson(der), der.kind, derRatingW(der), c.now(), der.mRID]);
      await audit(c, 'der.updated', 'der', der.mRID, { previous: before.der, der });
      return { ...before, der, ratedW: derRatingW(der), updatedAt: c.now() };
    });
  }

  /** Into or out of the DERMS (the core's registry). */
  setManaged(id: string, managed: boolean): Promise<void> {
    return this.c.atomic(async (c) => {
      const before = await new DerRepo(c).require(id, { lock: true });
      if (before.managed === managed) return;
      await c.sql.run('UPDATE ders SET managed = ?, updated_at = ? WHERE id = ?', [managed ? 1 : 0, c.now(), id]);
      await audit(c, managed ? 'der.managed' : 'der.unmanaged', 'der', id);
    });
  }

  /** The core port's save: the DER's current spec, in the DERMS; a DER new to the store has no customer. */
  save(der: Der): Promise<void> {
    return this.c.atomic(async (c) => {
      const repo = new DerRepo(c);
      const before = await repo.get(der.mRID, { lock: true });
      if (!before) {
        await repo.register({ der, customerId: null, servicePointId: null, providerOrgId: null, managed: true });
        return;
      }
      if (toJson(before.der) !== toJson(der)) await repo.updateSpec(der);
      await repo.setManaged(der.mRID, true);
    });
  }

  /**
   * Hand the DER's relationship to a provider (or back to the DSO with null). The history keeps
   * every owner; the DER's agreement, and so its tariff, is untouched.
   */
  setProvider(id: string, providerOrgId: string | null, reason: string): Promise<DerRecord> {
    return this.c.atomic(async (c) => {
      const before = await new DerRepo(c).require(id, { lock: true });
      if (before.providerOrgId === providerOrgId) return before;
      const now = c.now();
      await c.sql.run('UPDATE ders SET provider_org_id = ?, updated_at = ? WHERE id = ?', [providerOrgId, now, id]);
      await c.sql.run('INSERT INTO der_provider_history (der_id, provider_org_id, at, by_user_id, reason) VALUES (?, ?, ?, ?, ?)', [id, providerOrgId, now, c.actor.userId, reason]);
      await audit(c, 'der.provider-changed', 'der', id, { from: before.providerOrgId, to: providerOrgId, reason });
      return { ...before, providerOrgId, updatedAt: now };
    });
  }

  async providerHistory(id: string): Promise<ProviderChange[]> {
    const rows = await this.c.sql.all<{ der_id: string; provider_org_id: string | null; at: number; by_user_id: string | null; reason: string }>(
      'SELECT der_id, provider_org_id, at, by_user_id, reason FROM der_provider_history WHERE der_id = ? ORDER BY id',
      [id],
    );
    return rows.map((r) => ({ derId: r.der_id, providerOrgId: r.provider_org_id, at: r.at, byUserId: r.by_user_id, reason: r.reason }));
  }
}

interface AgreementRow { id: string; customer_id: string; der_id: string; tariff_id: string; accepted_at: number; ended_at: number | null }
const agreement = (r: AgreementRow): Agreement => ({ id: r.id, customerId: r.customer_id, derId: r.der_id, tariffId: r.tariff_id, acceptedAt: r.accepted_at, endedAt: r.ended_at });

/** Customer agreements: a DER under a tariff, accepted by its customer. */
export class AgreementRepo {
  constructor(private readonly c: RepoContext) {}

  create(o: { customerId: string; derId: string; tariffId: string }): Promise<Agreement> {
    return this.c.atomic(async (c) => {
      const row: AgreementRow = { id: newId('agr'), customer_id: o.customerId, der_id: o.derId, tariff_id: o.tariffId, accepted_at: c.now(), ended_at: null };
      await c.sql.run('INSERT INTO agreements (id, customer_id, der_id, tariff_id, accepted_at) VALUES (?, ?, ?, ?, ?)', [row.id, row.customer_id, row.der_id, row.tariff_id, row.accepted_at]);
      await audit(c, 'agreement.accepted', 'agreement', row.id, { customerId: o.customerId, derId: o.derId, tariffId: o.tariffId });
      return agreement(row);
    });
  }

  async get(id: string): Promise<Agreement | undefined> {
    const r = await this.c.sql.get<AgreementRow>('SELECT * FROM agreements WHERE id = ?', [id]);
    return r && agreement(r);
  }

  /** The DER's agreement in force (the newest not ended). */
  async current(derId: string): Promise<Agreement | undefined> {
    const r = await this.c.sql.get<AgreementRow>('SELECT * FROM agreements WHERE der_id = ? AND ended_at IS NULL ORDER BY accepted_at DESC, id DESC', [derId]);
    return r && agreement(r);
  }

  async list(f: { customerId?: string; derId?: string } = {}): Promise<Agreement[]> {
    const w = where([['customer_id = ?', f.customerId], ['der_id = ?', f.derId]]);
    return (await this.c.sql.all<AgreementRow>(`SELECT * FROM agreements${w.clause} ORDER BY accepted_at, id`, w.params)).map(agreement);
  }

  end(id: string): Promise<void> {
    return this.c.atomic(async (c) => {
      const n = await c.sql.run('UPDATE agreements SET ended_at = ? WHERE id = ? AND ended_at IS NULL', [c.now(), id]);
      if (n > 0) await audit(c, 'agreement.ended', 'agreement', id);
    });
  }
}
