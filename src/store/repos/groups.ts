import { DermsError } from '../../core/errors.js';
import type { DerGroup } from '../../core/model/group.js';
import { forUpdate } from '../sql.js';
import type { GroupRecord, GroupRequest, GroupRequestKind, GroupRequestState, MembershipEvent } from '../records.js';
import { audit, fromJson, newId, notFound, toJson, where, type RepoContext } from './context.js';

interface GroupRow {
  id: string;
  spec: string;
  owner_org_id: string | null;
  tariff_id: string | null;
  derms_instance: string | null;
  active: number;
  created_at: number;
  updated_at: number;
}
const groupRecord = (r: GroupRow): GroupRecord => ({
  group: fromJson<DerGroup>(r.spec),
  ownerOrgId: r.owner_org_id,
  tariffId: r.tariff_id,
  dermsInstance: r.derms_instance,
  active: r.active === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

interface HistoryRow { id: number; group_id: string; der_id: string; action: 'joined' | 'left'; at: number; request_id: string | null; by_user_id: string | null; reason: string }
const membershipEvent = (r: HistoryRow): MembershipEvent => ({
  id: r.id,
  groupId: r.group_id,
  derId: r.der_id,
  action: r.action,
  at: r.at,
  requestId: r.request_id,
  byUserId: r.by_user_id,
  reason: r.reason,
});

/** Why a membership changed: free text, and the group request that asked for it when there was one. */
export interface GroupChangeContext {
  readonly reason: string;
  readonly requestId?: string | null;
}

/** Set when a group is first stored: who formed it, under which tariff, on which DERMS instance. */
export interface GroupOwnership {
  readonly ownerOrgId?: string | null;
  readonly tariffId?: string | null;
  readonly dermsInstance?: string | null;
}

export class GroupRepo {
  constructor(private readonly c: RepoContext) {}

  /**
   * Store a group as the core now has it. Members who joined or left since the stored version are
   * appended to the membership history (never rewritten); a dissolved group saved again comes back
   * with all its members joining anew.
   */
  save(group: DerGroup, why: GroupChangeContext, ownership: GroupOwnership = {}): Promise<GroupRecord> {
    return this.c.atomic(async (c) => {
      const before = await c.sql.get<GroupRow>(`SELECT * FROM der_groups WHERE id = ?${forUpdate(c.sql)}`, [group.mRID]);
      const current = new Set(
        before?.active === 1 ? (await c.sql.all<{ der_id: string }>('SELECT der_id FROM group_members WHERE group_id = ?', [group.mRID])).map((r) => r.der_id) : [],
      );
      const now = c.now();
      const row: GroupRow = {
        id: group.mRID,
        spec: toJson(group),
        owner_org_id: ownership.ownerOrgId !== undefined ? ownership.ownerOrgId : (before?.owner_org_id ?? null),
        tariff_id: ownership.tariffId !== undefined ? ownership.tariffId : (before?.tariff_id ?? null),
        derms_instance: ownership.dermsInstance !== undefined ? ownership.dermsInstance : (before?.derms_instance ?? null),
        active: 1,
        created_at: before?.created_at ?? now,
        updated_at: now,
      };
      if (before) {
        await c.sql.run('UPDATE der_groups SET spec = ?, owner_org_id = ?, tariff_id = ?, derms_instance = ?, active = 1, updated_at = ? WHERE id = ?', [
          row.spec, row.owner_org_id, row.tariff_id, row.derms_instance, now, row.id,
        ]);
      } else {
        await c.sql.run('INSERT INTO der_groups (id, spec, owner_org_id, tariff_id, derms_instance, active, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)', [
          row.id, row.spec, row.owner_org_id, row.tariff_id, row.derms_instance, now, now,
        ]);
      }
      const next = new Set(group.members);
      const joined = group.members.filter((m) => !current.has(m));
      const left = [...current].filter((m) => !next.has(m));
      for (const m of left) await c.sql.run('DELETE FROM group_members WHERE group_id = ? AND der_id = ?', [group.mRID, m]);
      for (const m of joined) await c.sql.run('INSERT INTO group_members (group_id, der_id) VALUES (?, ?)', [group.mRID, m]);
      await appendHistory(c, group.mRID, left, 'left', why);
      await appendHistory(c, group.mRID, joined, 'joined', why);
      const action = !before ? 'group.created' : before.active === 0 ? 'group.re-created' : 'group.changed';
      await audit(c, action, 'group', group.mRID, { version: group.version, joined, left, reason: why.reason, requestId: why.requestId ?? null });
      return groupRecord(row);
    });
  }

  /** Dissolve a group: every member leaves (in the history), the record stays for audit. */
  delete(id: string, why: GroupChangeContext): Promise<GroupRecord> {
    return this.c.atomic(async (c) => {
      const before = await c.sql.get<GroupRow>(`SELECT * FROM der_groups WHERE id = ?${forUpdate(c.sql)}`, [id]);
      if (!before || before.active === 0) throw notFound('DER group', id);
      const members = (await c.sql.all<{ der_id: string }>('SELECT der_id FROM group_members WHERE group_id = ? ORDER BY der_id', [id])).map((r) => r.der_id);
      await c.sql.run('DELETE FROM group_members WHERE group_id = ?', [id]);
      await appendHistory(c, id, members, 'left', why);
      const now = c.now();
      await c.sql.run('UPDATE der_groups SET active = 0, updated_at = ? WHERE id = ?', [now, id]);
      await audit(c, 'group.dissolved', 'group', id, { left: members, reason: why.reason, requestId: why.requestId ?? null });
      return { ...groupRecord(before), active: false, updatedAt: now };
    });
  }

  /** The group; with `lock`, locked for the rest of the transaction on PostgreSQL (changes to one group serialize). */
  async get(id: string, o: { lock?: boolean } = {}): Promise<GroupRecord | undefined> {
    const r = await this.c.sql.get<GroupRow>(`SELECT * FROM der_groups WHERE id = ?${o.lock ? forUpdate(this.c.sql) : ''}`, [id]);
    return r && groupRecord(r);
  }

  async require(id: string, o: { lock?: boolean } = {}): Promise<GroupRecord> {
    const g = await this.get(id, o);
    if (!g) throw notFound('DER group', id);
    return g;
  }

  async list(f: { ownerOrgId?: string; active?: boolean; dermsInstance?: string; tariffId?: string } = {}): Promise<GroupRecord[]> {
    const w = where([
      ['owner_org_id = ?', f.ownerOrgId],
      ['active = ?', f.active],
      ['derms_instance = ?', f.dermsInstance],
      ['tariff_id = ?', f.tariffId],
    ]);
    return (await this.c.sql.all<GroupRow>(`SELECT * FROM der_groups${w.clause} ORDER BY created_at, id`, w.params)).map(groupRecord);
  }

  /** Active groups a DER is a member of now. */
  async ofDer(derId: string): Promise<string[]> {
    return (await this.c.sql.all<{ group_id: string }>('SELECT group_id FROM group_members WHERE der_id = ? ORDER BY group_id', [derId])).map((r) => r.group_id);
  }

  async history(f: { groupId?: string; derId?: string; from?: number; to?: number } = {}): Promise<MembershipEvent[]> {
    const w = where([
      ['group_id = ?', f.groupId],
      ['der_id = ?', f.derId],
      ['at >= ?', f.from],
      ['at < ?', f.to],
    ]);
    return (await this.c.sql.all<HistoryRow>(`SELECT * FROM group_membership_history${w.clause} ORDER BY id`, w.params)).map(membershipEvent);
  }
}

async function appendHistory(c: RepoContext, groupId: string, ders: readonly string[], action: 'joined' | 'left', why: GroupChangeContext): Promise<void> {
  const now = c.now();
  for (const d of ders) {
    await c.sql.run('INSERT INTO group_membership_history (group_id, der_id, action, at, request_id, by_user_id, reason) VALUES (?, ?, ?, ?, ?, ?, ?)', [
      groupId, d, action, now, why.requestId ?? null, c.actor.userId, why.reason,
    ]);
  }
}

interface RequestRow {
  id: string;
  kind: GroupRequestKind;
  group_id: string;
  org_id: string;
  requested_by_user_id: string;
  body: string;
  state: GroupRequestState;
  reasons: string;
  created_at: number;
  decided_at: number | null;
  decided_by_user_id: string | null;
}
const groupRequest = (r: RequestRow): GroupRequest => ({
  id: r.id,
  kind: r.kind,
  groupId: r.group_id,
  orgId: r.org_id,
  requestedByUserId: r.requested_by_user_id,
  body: fromJson<unknown>(r.body),
  state: r.state,
  reasons: fromJson<string[]>(r.reasons),
  createdAt: r.created_at,
  decidedAt: r.decided_at,
  decidedByUserId: r.decided_by_user_id,
});

/** Requests to form, change or dissolve groups (the Part 8 messages), and their decisions. */
export class GroupRequestRepo {
  constructor(private readonly c: RepoContext) {}

  /**
   * Record a request by the context's actor. With `refusedFor` it is recorded already refused by
   * the tariff rules (the reasons say which), so a refusal is as durable as an approval.
   */
  create(o: { kind: GroupRequestKind; groupId: string; body: unknown; refusedFor?: readonly string[] }): Promise<GroupRequest> {
    return this.c.atomic(async (c) => {
      const { userId, orgId } = c.actor;
      if (!userId || !orgId) throw new DermsError('INVALID_INPUT', 'a group request needs a requesting user');
      const refused = (o.refusedFor?.length ?? 0) > 0;
      const now = c.now();
      const row: RequestRow = {
        id: newId('grq'),
        kind: o.kind,
        group_id: o.groupId,
        org_id: orgId,
        requested_by_user_id: userId,
        body: toJson(o.body),
        state: refused ? 'refused' : 'pending',
        reasons: toJson(o.refusedFor ?? []),
        created_at: now,
        decided_at: refused ? now : null,
        decided_by_user_id: null,
      };
      await c.sql.run(
        `INSERT INTO group_requests (id, kind, group_id, org_id, requested_by_user_id, body, state, reasons, created_at, decided_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [row.id, row.kind, row.group_id, row.org_id, row.requested_by_user_id, row.body, row.state, row.reasons, now, row.decided_at],
      );
      await audit(c, refused ? 'group-request.refused' : 'group-request.submitted', 'group-request', row.id, { kind: o.kind, groupId: o.groupId, reasons: o.refusedFor ?? [] });
      return groupRequest(row);
    });
  }

  async get(id: string, o: { lock?: boolean } = {}): Promise<GroupRequest | undefined> {
    const r = await this.c.sql.get<RequestRow>(`SELECT * FROM group_requests WHERE id = ?${o.lock ? forUpdate(this.c.sql) : ''}`, [id]);
    return r && groupRequest(r);
  }

  async require(id: string, o: { lock?: boolean } = {}): Promise<GroupRequest> {
    const r = await this.get(id, o);
    if (!r) throw notFound('group request', id);
    return r;
  }

  async list(f: { orgId?: string; state?: GroupRequestState; groupId?: string } = {}): Promise<GroupRequest[]> {
    const w = where([['org_id = ?', f.orgId], ['state = ?', f.state], ['group_id = ?', f.groupId]]);
    return (await this.c.sql.all<RequestRow>(`SELECT * FROM group_requests${w.clause} ORDER BY created_at, id`, w.params)).map(groupRequest);
  }

  /** Approve or refuse a pending request; deciding twice is a CONFLICT naming the first decision. */
  decide(id: string, state: Exclude<GroupRequestState, 'pending'>, reasons: readonly string[]): Promise<GroupRequest> {
    return this.c.atomic(async (c) => {
      const before = await new GroupRequestRepo(c).require(id, { lock: true });
      if (before.state !== 'pending') {
        throw new DermsError('CONFLICT', `group request ${id} is already ${before.state}${before.reasons.length ? ` (${before.reasons.join('; ')})` : ''}`);
      }
      const now = c.now();
      await c.sql.run('UPDATE group_requests SET state = ?, reasons = ?, decided_at = ?, decided_by_user_id = ? WHERE id = ?', [state, toJson(reasons), now, c.actor.userId, id]);
      await audit(c, `group-request.${state}`, 'group-request', id, { reasons });
      return { ...before, state, reasons, decidedAt: now, decidedByUserId: c.actor.userId };
    });
  }
}
