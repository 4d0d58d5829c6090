import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { DermsError } from '../core/errors.js';
import { SerialQueue, storeError, type Sql, type SqlDatabase, type SqlValue } from './sql.js';

export const MEMORY = ':memory:';

type Param = string | number | null;

function bind(params: readonly SqlValue[]): Param[] {
  return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/**
 * SQLite through better-sqlite3: one connection, WAL journal (readers never block the writer and a
 * commit is one append), foreign keys enforced, and synchronous=FULL so a commit is on disk before
 * it returns: the store promises that an acknowledged change survives a power cut, not only a
 * process crash (NORMAL would survive a crash but may lose the last commits on power loss).
 * The driver is synchronous; transactions that await between statements are serialized by a queue.
 */
export function openSqlite(path: string): SqlDatabase {
  if (path !== MEMORY) mkdirSync(dirname(path), { recursive: true });
  let db: Database.Database;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
  } catch (e) {
    throw new DermsError('UNAVAILABLE', `cannot open SQLite database ${path}: ${(e as Error).message}`);
  }
  return new SqliteDatabase(db, path);
}

class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly queue = new SerialQueue();
  private readonly inTransaction = new AsyncLocalStorage<true>();
  private readonly raw: Sql;
  private closed = false;

  constructor(
    private readonly db: Database.Database,
    readonly description: string,
  ) {
    this.raw = {
      dialect: 'sqlite',
      all: async <R>(text: string, params: readonly SqlValue[] = []) => this.exec(() => this.prepare(text).all(...bind(params)) as R[]),
      get: async <R>(text: string, params: readonly SqlValue[] = []) => this.exec(() => this.prepare(text).get(...bind(params)) as R | undefined),
      run: async (text: string, params: readonly SqlValue[] = []) => this.exec(() => this.prepare(text).run(...bind(params)).changes),
    };
  }

  all<R>(text: string, params?: readonly SqlValue[]): Promise<R[]> {
    return this.outside(() => this.raw.all<R>(text, params));
  }
  get<R>(text: string, params?: readonly SqlValue[]): Promise<R | undefined> {
    return this.outside(() => this.raw.get<R>(text, params));
  }
  run(text: string, params?: readonly SqlValue[]): Promise<number> {
    return this.outside(() => this.raw.run(text, params));
  }

  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    return this.outside(() =>
      this.inTransaction.run(true, async () => {
        this.exec(() => this.db.exec('BEGIN IMMEDIATE'));
        try {
          const result = await fn(this.raw);
          this.exec(() => this.db.exec('COMMIT'));
          return result;
        } catch (e) {
          if (this.db.inTransaction) this.db.exec('ROLLBACK');
          throw e;
        }
      }),
    );
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      if (this.closed) return;
      this.closed = true;
      this.statements.clear();
      this.db.close();
    });
  }

  /** Queue work behind any running transaction; refuse to deadlock if called from inside one. */
  private outside<T>(task: () => Promise<T>): Promise<T> {
    if (this.inTransaction.getStore()) {
      return Promise.reject(new Error('the store was used directly inside one of its own transactions; use the transaction handle'));
    }
    return this.queue.run(async () => {
      if (this.closed) throw new DermsError('UNAVAILABLE', `SQLite database ${this.description} is closed`);
      return task();
    });
  }

  private prepare(text: string): Database.Statement {
    let s = this.statements.get(text);
    if (!s) {
      s = this.db.prepare(text);
      this.statements.set(text, s);
    }
    return s;
  }

  private exec<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw storeError(e, `SQLite ${this.description}`);
    }
  }
}
