import type { AuditEntry } from '../records.js';
import { fromJson, where, type RepoContext } from './context.js';

interface AuditRow { id: number; at: number; actor_user_id: string | null; actor_org_id: string | null; action: string; entity_type: string; entity_id: string; detail: string }

/** Reading the audit log (entries are written by each change, in its own transaction). */
export class AuditRepo {
  constructor(private readonly c: RepoContext) {}

  async list(f: { entityType?: string; entityId?: string; actorOrgId?: string; afterId?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    const w = where([
      ['entity_type = ?', f.entityType],
      ['entity_id = ?', f.entityId],
      ['actor_org_id = ?', f.actorOrgId],
      ['id > ?', f.afterId],
    ]);
    const rows = await this.c.sql.all<AuditRow>(`SELECT * FROM audit_log${w.clause} ORDER BY id LIMIT ?`, [...w.params, f.limit ?? 1000]);
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actorUserId: r.actor_user_id,
      actorOrgId: r.actor_org_id,
      action: r.action,
      entityType: r.entity_type,
      entityId: r.entity_id,
      detail: fromJson<unknown>(r.detail),
    }));
  }
}
