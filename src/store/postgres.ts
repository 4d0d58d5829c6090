import pg from 'pg';
import { DermsError } from '../core/errors.js';
import { storeError, type Sql, type SqlDatabase, type SqlValue } from './sql.js';

const INT8 = 20;

/** int8 (BIGINT, COUNT) as a JS number: our BIGINTs are epoch ms and row ids, far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

const numbered = new Map<string, string>();

/** `?` placeholders to PostgreSQL's `$1, $2, ...` (our statements have no `?` inside literals). */
function toPg(text: string): string {
  let out = numbered.get(text);
  if (out === undefined) {
    let n = 0;
    out = text.replace(/\?/g, () => `$${++n}`);
    numbered.set(text, out);
  }
  return out;
}

function bind(params: readonly SqlValue[]): unknown[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable)';
  }
}

function on(client: pg.Pool | pg.PoolClient, where: string): Sql {
  const query = async (text: string, params: readonly SqlValue[]) => {
    try {
      return await client.query(toPg(text), bind(params));
    } catch (e) {
      throw storeError(e, where);
    }
  };
  return {
    dialect: 'postgres',
    all: async <R>(text: string, params: readonly SqlValue[] = []) => (await query(text, params)).rows as R[],
    get: async <R>(text: string, params: readonly SqlValue[] = []) => (await query(text, params)).rows[0] as R | undefined,
    run: async (text: string, params: readonly SqlValue[] = []) => (await query(text, params)).rowCount ?? 0,
  };
}

/**
 * PostgreSQL through a pg pool. Each transaction takes its own pooled connection (READ COMMITTED;
 * writers that must not interleave lock the row they depend on with `forUpdate`). Reaching the
 * server is checked at open, so a wrong URL fails at start rather than at the first request.
 */
export async function openPostgres(url: string, o: { maxConnections?: number; onError?: (e: Error) => void } = {}): Promise<SqlDatabase> {
  const description = redactUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: o.maxConnections ?? 10, types, application_name: 'derms' });
  // An idle connection dropped by the server must not take the process down; the next query reconnects.
  pool.on('error', (e) => o.onError?.(e));
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(() => undefined);
    throw new DermsError('UNAVAILABLE', `cannot reach PostgreSQL at ${description}: ${(e as Error).message}`);
  }
  const where = `PostgreSQL ${description}`;
  const sql = on(pool, where);
  let closed = false;
  return {
    ...sql,
    description,
    async transaction<T>(fn: (tx: Sql) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw storeError(e, where);
      }
      const tx = on(client, where);
      let broken = false;
      try {
        await tx.run('BEGIN');
        const result = await fn(tx);
        await tx.run('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
        throw e;
      } finally {
        client.release(broken);
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
