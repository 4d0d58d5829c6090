import { DermsError } from '../core/errors.js';
import { forUpdate, inList } from './sql.js';
import { fromJson, toJson, where, type RepoContext } from './repos/context.js';

export type OutboxState = 'pending' | 'done' | 'dead';

export interface OutboxMessage {
  readonly id: number;
  readonly topic: string;
  /** Messages with the same key are delivered in id order, each after the previous is done or dead. */
  readonly key: string | null;
  readonly payload: unknown;
  /** The sender's id for the message, when it gave one. */
  readonly extId: string | null;
  /** Delivery attempts so far, including the one in progress after a claim. */
  readonly attempts: number;
  readonly createdAt: number;
  readonly availableAt: number;
  readonly state: OutboxState;
  readonly lastError: string | null;
}

export interface OutboxOptions {
  /** Wait before the first retry; it doubles with each failure up to `maxDelayMs`. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** After this many failed attempts a message is dead (kept, never retried). */
  readonly maxAttempts?: number;
}

const DEFAULTS: Required<OutboxOptions> = { baseDelayMs: 1000, maxDelayMs: 300_000, maxAttempts: 12 };

export function retryDelayMs(attempts: number, o: OutboxOptions = {}): number {
  const { baseDelayMs, maxDelayMs } = { ...DEFAULTS, ...o };
  return Math.min(maxDelayMs, baseDelayMs * 2 ** Math.max(0, attempts - 1));
}

/**
 * Messages to other systems (CIM pushes to the DMS, customer and provider notifications), written
 * in the same transaction as the change they announce, then delivered at least once by a relay:
 * claim (a lease), ack when delivered, fail to retry with backoff.
 */
export interface Outbox {
  /** Queue a message; `extId` is the sender's own id for it, `coalesceKey` see `supersede`. */
  enqueue(m: { topic: string; key?: string | null; payload: unknown; delayMs?: number; extId?: string; coalesceKey?: string }): Promise<number>;
  /** Up to `limit` ready messages, leased to `worker` for `leaseMs` (an unacked lease expires and the message is claimable again). */
  claim(o: { worker: string; topics?: readonly string[]; limit?: number; leaseMs?: number }): Promise<OutboxMessage[]>;
  ack(id: number, worker: string): Promise<void>;
  /** Delivery failed: retry after a backoff, or dead after too many attempts. */
  fail(id: number, worker: string, error: string): Promise<{ state: 'pending' | 'dead'; retryAt: number | null }>;
}

interface Row {
  id: number;
  topic: string;
  msg_key: string | null;
  payload: string;
  attempts: number;
  created_at: number;
  available_at: number;
  state: OutboxState;
  last_error: string | null;
  claimed_by?: string | null;
  ext_id: string | null;
}
const message = (r: Row): OutboxMessage => ({
  id: r.id,
  topic: r.topic,
  key: r.msg_key,
  payload: fromJson<unknown>(r.payload),
  extId: r.ext_id,
  attempts: r.attempts,
  createdAt: r.created_at,
  availableAt: r.available_at,
  state: r.state,
  lastError: r.last_error,
});

const COLUMNS = 'id, topic, msg_key, payload, ext_id, attempts, created_at, available_at, state, last_error';

export class OutboxRepo implements Outbox {
  private readonly o: Required<OutboxOptions>;

  constructor(
    private readonly c: RepoContext,
    options: OutboxOptions = {},
  ) {
    this.o = { ...DEFAULTS, ...options };
  }

  async enqueue(m: { topic: string; key?: string | null; payload: unknown; delayMs?: number; extId?: string; coalesceKey?: string }): Promise<number> {
    const now = this.c.now();
    const r = await this.c.sql.get<{ id: number }>(
      "INSERT INTO outbox (topic, msg_key, payload, created_at, available_at, attempts, state, ext_id, coalesce_key) VALUES (?, ?, ?, ?, ?, 0, 'pending', ?, ?) RETURNING id",
      [m.topic, m.key ?? null, toJson(m.payload), now, now + (m.delayMs ?? 0), m.extId ?? null, m.coalesceKey ?? null],
    );
    return r!.id;
  }

  // Queue-style use (one sender per topic that peeks at the head of each key's queue, as the CIM
  // facade's Deliverer does): the head of a key may be in flight, so it is never replaced or dropped.

  /** The oldest waiting message of a key. */
  async head(topic: string, key: string): Promise<OutboxMessage | undefined> {
    const r = await this.c.sql.get<Row>(`SELECT ${COLUMNS} FROM outbox WHERE topic = ? AND msg_key = ? AND state = 'pending' ORDER BY id LIMIT 1`, [topic, key]);
    return r && message(r);
  }

  /** Delete waiting messages of a key with this coalesce key, except the head; resolves to how many. */
  async supersede(topic: string, key: string, coalesceKey: string): Promise<number> {
    return this.c.sql.run(
      `DELETE FROM outbox WHERE topic = ? AND msg_key = ? AND coalesce_key = ? AND state = 'pending'
         AND id > (SELECT MIN(h.id) FROM outbox h WHERE h.topic = ? AND h.msg_key = ? AND h.state = 'pending')`,
      [topic, key, coalesceKey, topic, key],
    );
  }

  /** Delete and return the oldest waiting message of a topic that is not the head of its key. */
  dropOldestQueued(topic: string): Promise<OutboxMessage | undefined> {
    return this.c.atomic(async (c) => {
      const r = await c.sql.get<Row>(
        `SELECT ${COLUMNS} FROM outbox o WHERE o.topic = ? AND o.state = 'pending'
           AND o.id > (SELECT MIN(h.id) FROM outbox h WHERE h.topic = o.topic AND h.msg_key = o.msg_key AND h.state = 'pending')
         ORDER BY o.id LIMIT 1`,
        [topic],
      );
      if (r) await c.sql.run('DELETE FROM outbox WHERE id = ?', [r.id]);
      return r && message(r);
    });
  }

  /** Mark a message delivered by the sender's id; resolves to its key, or undefined when it was not waiting. */
  async settle(topic: string, extId: string): Promise<string | null | undefined> {
    const r = await this.c.sql.get<{ msg_key: string | null }>(
      "UPDATE outbox SET state = 'done', done_at = ? WHERE topic = ? AND ext_id = ? AND state = 'pending' RETURNING msg_key",
      [this.c.now(), topic, extId],
    );
    return r?.msg_key;
  }

  /** Waiting messages of a topic per key. */
  async depthByKey(topic: string): Promise<Record<string, number>> {
    const rows = await this.c.sql.all<{ k: string; n: number }>("SELECT msg_key AS k, COUNT(*) AS n FROM outbox WHERE topic = ? AND state = 'pending' AND msg_key IS NOT NULL GROUP BY msg_key", [topic]);
    return Object.fromEntries(rows.map((r) => [r.k, r.n]));
  }

  async claim(o: { worker: string; topics?: readonly string[]; limit?: number; leaseMs?: number }): Promise<OutboxMessage[]> {
    if (o.topics && o.topics.length === 0) return [];
    const now = this.c.now();
    const topics = o.topics ? ` AND o.topic IN ${inList(o.topics.length)}` : '';
    // On PostgreSQL concurrent claimers skip rows another claimer has locked (SKIP LOCKED), so each
    // gets its own; the selection is a CTE so it runs once (an IN subquery with LIMIT may be re-run
    // per row). The update repeats the conditions as a guard against a row leased in between.
    // SQLite has one writer at a time.
    const lock = this.c.sql.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '';
    const rows = await this.c.sql.all<Row>(
      `WITH picked AS (
         SELECT o.id AS picked_id FROM outbox o
         WHERE o.state = 'pending' AND o.available_at <= ? AND (o.claim_until IS NULL OR o.claim_until <= ?)${topics}
           AND NOT EXISTS (SELECT 1 FROM outbox p WHERE p.msg_key = o.msg_key AND p.state = 'pending' AND p.id < o.id)
         ORDER BY o.id LIMIT ?${lock})
       UPDATE outbox SET claimed_by = ?, claim_until = ?, attempts = attempts + 1
       FROM picked
       WHERE outbox.id = picked.picked_id AND outbox.state = 'pending' AND (outbox.claim_until IS NULL OR outbox.claim_until <= ?)
       RETURNING ${COLUMNS}`,
      [now, now, ...(o.topics ?? []), o.limit ?? 20, o.worker, now + (o.leaseMs ?? 30_000), now],
    );
    return rows.map(message).sort((a, b) => a.id - b.id);
  }

  async ack(id: number, worker: string): Promise<void> {
    const n = await this.c.sql.run("UPDATE outbox SET state = 'done', done_at = ?, claimed_by = NULL, claim_until = NULL WHERE id = ? AND claimed_by = ? AND state = 'pending'", [
      this.c.now(),
      id,
      worker,
    ]);
    if (n === 0) throw new DermsError('CONFLICT', `outbox message ${id} is not leased to ${worker} (lease expired or already settled)`);
  }

  fail(id: number, worker: string, error: string): Promise<{ state: 'pending' | 'dead'; retryAt: number | null }> {
    return this.c.atomic(async (c) => {
      const r = await c.sql.get<Row>(`SELECT ${COLUMNS}, claimed_by FROM outbox WHERE id = ?${forUpdate(c.sql)}`, [id]);
      if (!r || r.claimed_by !== worker || r.state !== 'pending') throw new DermsError('CONFLICT', `outbox message ${id} is not leased to ${worker} (lease expired or already settled)`);
      const text = error.slice(0, 2000);
      if (r.attempts >= this.o.maxAttempts) {
        await c.sql.run("UPDATE outbox SET state = 'dead', last_error = ?, claimed_by = NULL, claim_until = NULL, done_at = ? WHERE id = ?", [text, c.now(), id]);
        return { state: 'dead', retryAt: null };
      }
      const retryAt = c.now() + retryDelayMs(r.attempts, this.o);
      await c.sql.run('UPDATE outbox SET available_at = ?, last_error = ?, claimed_by = NULL, claim_until = NULL WHERE id = ?', [retryAt, text, id]);
      return { state: 'pending', retryAt };
    });
  }

  async get(id: number): Promise<OutboxMessage | undefined> {
    const r = await this.c.sql.get<Row>(`SELECT ${COLUMNS} FROM outbox WHERE id = ?`, [id]);
    return r && message(r);
  }

  async list(f: { topic?: string; state?: OutboxState; key?: string; afterId?: number; limit?: number } = {}): Promise<OutboxMessage[]> {
    const w = where([
      ['topic = ?', f.topic],
      ['state = ?', f.state],
      ['msg_key = ?', f.key],
      ['id > ?', f.afterId],
    ]);
    return (await this.c.sql.all<Row>(`SELECT ${COLUMNS} FROM outbox${w.clause} ORDER BY id LIMIT ?`, [...w.params, f.limit ?? 1000])).map(message);
  }

  async counts(): Promise<Record<OutboxState, number>> {
    const rows = await this.c.sql.all<{ state: OutboxState; n: number }>('SELECT state, COUNT(*) AS n FROM outbox GROUP BY state');
    const out: Record<OutboxState, number> = { pending: 0, done: 0, dead: 0 };
    for (const r of rows) out[r.state] = r.n;
    return out;
  }

  /** Delete delivered messages settled before `before` (dead ones stay for inspection). */
  async purgeDone(before: number): Promise<number> {
    return this.c.sql.run("DELETE FROM outbox WHERE state = 'done' AND done_at < ?", [before]);
  }
}
