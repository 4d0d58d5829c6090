import { randomUUID } from 'node:crypto';
import { DermsError } from '../../core/errors.js';
import type { Sql } from '../sql.js';

/** Who a change is recorded against in the audit log; null fields mean the system itself. */
export interface AuditActor {
  readonly userId: string | null;
  readonly orgId: string | null;
}

export const SYSTEM: AuditActor = { userId: null, orgId: null };

/**
 * What every repository works with: the connection (a transaction's, or the database's for a
 * single autocommitted statement), the store's clock, and `atomic` for changes of several
 * statements, which joins the caller's transaction or opens one.
 */
export interface RepoContext {
  readonly sql: Sql;
  readonly actor: AuditActor;
  now(): number;
  atomic<T>(fn: (c: RepoContext) => Promise<T>): Promise<T>;
  /** The same connection, recording changes against another actor. */
  withActor(actor: AuditActor): RepoContext;
}

export function newId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

export const toJson = (v: unknown): string => JSON.stringify(v);
export const fromJson = <T>(s: string): T => JSON.parse(s) as T;

/** Append one audit entry on the context's connection (so it commits with the change it records). */
export async function audit(c: RepoContext, action: string, entityType: string, entityId: string, detail: unknown = {}): Promise<void> {
  await c.sql.run(
    'INSERT INTO audit_log (at, actor_user_id, actor_org_id, action, entity_type, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?)',
    [c.now(), c.actor.userId, c.actor.orgId, action, entityType, entityId, toJson(detail)],
  );
}

export function notFound(what: string, id: string): DermsError {
  return new DermsError('NOT_FOUND', `${what} ${JSON.stringify(id)} does not exist`);
}

/** `WHERE a = ? AND b = ?` from the filters that are set (undefined ones are left out; an array fills an `IN` list). */
export function where(filters: ReadonlyArray<readonly [string, unknown]>): { clause: string; params: (string | number | null)[] } {
  const parts: string[] = [];
  const params: (string | number | null)[] = [];
  for (const [cond, value] of filters) {
    if (value === undefined) continue;
    parts.push(cond);
    if (!cond.includes('?')) continue;
    if (Array.isArray(value)) params.push(...(value as (string | number)[]));
    else params.push(typeof value === 'boolean' ? (value ? 1 : 0) : (value as string | number | null));
  }
  return { clause: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}
