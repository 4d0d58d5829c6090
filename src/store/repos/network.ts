import { forUpdate } from '../sql.js';
import type { Feeder, Tariff, TariffSpec } from '../records.js';
import { audit, fromJson, newId, notFound, toJson, type RepoContext } from './context.js';

interface FeederRow { id: string; name: string; hosting_limit_w: number; derms_instance: string | null; created_at: number; updated_at: number }
const feeder = (r: FeederRow): Feeder => ({
  id: r.id,
  name: r.name,
  hostingLimitW: r.hosting_limit_w,
  dermsInstance: r.derms_instance,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class FeederRepo {
  constructor(private readonly c: RepoContext) {}

  /** Create a feeder or change its name, hosting limit (after a network upgrade) or DERMS instance. */
  upsert(o: { id: string; name: string; hostingLimitW: number; dermsInstance?: string | null }): Promise<Feeder> {
    return this.c.atomic(async (c) => {
      const before = await c.sql.get<FeederRow>(`SELECT * FROM feeders WHERE id = ?${forUpdate(c.sql)}`, [o.id]);
      const now = c.now();
      const row: FeederRow = {
        id: o.id,
        name: o.name,
        hosting_limit_w: o.hostingLimitW,
        derms_instance: o.dermsInstance === undefined ? (before?.derms_instance ?? null) : o.dermsInstance,
        created_at: before?.created_at ?? now,
        updated_at: now,
      };
      if (before) {
        await c.sql.run('UPDATE feeders SET name = ?, hosting_limit_w = ?, derms_instance = ?, updated_at = ? WHERE id = ?', [row.name, row.hosting_limit_w, row.derms_instance, now, row.id]);
      } else {
        await c.sql.run('INSERT INTO feeders (id, name, hosting_limit_w, derms_instance, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)', [
          row.id, row.name, row.hosting_limit_w, row.derms_instance, row.created_at, row.updated_at,
        ]);
      }
      await audit(c, before ? 'feeder.changed' : 'feeder.created', 'feeder', row.id, {
        hostingLimitW: row.hosting_limit_w,
        previousHostingLimitW: before?.hosting_limit_w ?? null,
        dermsInstance: row.derms_instance,
      });
      return feeder(row);
    });
  }

  /** The feeder, locked for the rest of the transaction on PostgreSQL (hosting checks serialize per feeder). */
  async get(id: string, o: { lock?: boolean } = {}): Promise<Feeder | undefined> {
    const r = await this.c.sql.get<FeederRow>(`SELECT * FROM feeders WHERE id = ?${o.lock ? forUpdate(this.c.sql) : ''}`, [id]);
    return r && feeder(r);
  }

  async require(id: string, o: { lock?: boolean } = {}): Promise<Feeder> {
    const f = await this.get(id, o);
    if (!f) throw notFound('feeder', id);
    return f;
  }

  async list(): Promise<Feeder[]> {
    return (await this.c.sql.all<FeederRow>('SELECT * FROM feeders ORDER BY id')).map(feeder);
  }

  /**
   * Export rating already committed on a feeder, W: DER in the DERMS and DER whose application
   * is approved or further along (they will connect), optionally leaving one DER out.
   */
  async committedW(feederId: string, exceptDerId: string | null = null): Promise<{ w: number; ders: number }> {
    const r = await this.c.sql.get<{ w: number; n: number }>(
      `SELECT CAST(COALESCE(SUM(d.rated_w), 0) AS DOUBLE PRECISION) AS w, COUNT(*) AS n
       FROM ders d JOIN service_points sp ON sp.id = d.service_point_id
       LEFT JOIN applications a ON a.der_id = d.id
       WHERE sp.feeder_id = ? AND d.id <> ?
         AND (d.managed = 1 OR a.state IN ('approved', 'installation-verified', 'connected'))`,
      [feederId, exceptDerId ?? ''],
    );
    return { w: r?.w ?? 0, ders: r?.n ?? 0 };
  }
}

interface TariffRow { id: string; name: string; spec: string; created_at: number }
const tariff = (r: TariffRow): Tariff => ({ id: r.id, spec: fromJson<TariffSpec>(r.spec), createdAt: r.created_at });

export class TariffRepo {
  constructor(private readonly c: RepoContext) {}

  create(spec: TariffSpec, id?: string): Promise<Tariff> {
    return this.c.atomic(async (c) => {
      const row: TariffRow = { id: id ?? newId('trf'), name: spec.name, spec: toJson(spec), created_at: c.now() };
      await c.sql.run('INSERT INTO tariffs (id, name, spec, created_at) VALUES (?, ?, ?, ?)', [row.id, row.name, row.spec, row.created_at]);
      await audit(c, 'tariff.created', 'tariff', row.id, spec);
      return tariff(row);
    });
  }

  async get(id: string): Promise<Tariff | undefined> {
    const r = await this.c.sql.get<TariffRow>('SELECT * FROM tariffs WHERE id = ?', [id]);
    return r && tariff(r);
  }

  async require(id: string): Promise<Tariff> {
    const t = await this.get(id);
    if (!t) throw notFound('tariff', id);
    return t;
  }

  async list(): Promise<Tariff[]> {
    return (await this.c.sql.all<TariffRow>('SELECT * FROM tariffs ORDER BY created_at, id')).map(tariff);
  }
}
