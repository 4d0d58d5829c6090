import { DermsError } from '../core/errors.js';

export type Dialect = 'sqlite' | 'postgres';

/** Values a statement parameter may take; booleans are stored as 0/1 on both engines. */
export type SqlValue = string | number | boolean | null | undefined;

/**
 * One connection's worth of SQL: a pooled connection, or the one inside a transaction. Statements
 * use `?` placeholders on both engines (PostgreSQL's `$n` is produced by its driver wrapper) and
 * the portable subset both engines share: TEXT, BIGINT, DOUBLE PRECISION, INTEGER, RETURNING,
 * ON CONFLICT.
 */
export interface Sql {
  readonly dialect: Dialect;
  all<R>(text: string, params?: readonly SqlValue[]): Promise<R[]>;
  get<R>(text: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  /** Run a statement; resolves to the number of rows it changed. */
  run(text: string, params?: readonly SqlValue[]): Promise<number>;
}

/** A database: statements outside a transaction autocommit one by one. */
export interface SqlDatabase extends Sql {
  /** Where it is, without secrets (for logs and errors). */
  readonly description: string;
  /** Everything `fn` does through its `Sql` commits together, or not at all if `fn` throws. */
  transaction<T>(fn: (sql: Sql) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** `FOR UPDATE` where the engine has row locks; SQLite serializes writers and has none. */
export function forUpdate(sql: Sql): string {
  return sql.dialect === 'postgres' ? ' FOR UPDATE' : '';
}

/** `IN (?, ?, ...)` with one placeholder per value (callers pass at least one value). */
export function inList(n: number): string {
  return `(${Array.from({ length: n }, () => '?').join(', ')})`;
}

/** Thrown by an append-only table's trigger; both engines' messages start with this. */
export const APPEND_ONLY = 'append-only table';

/**
 * A driver error as a DermsError with a stable code: constraint violations are the caller's
 * mistake (ALREADY_EXISTS, NOT_FOUND for a missing referenced row, INVALID_INPUT for a failed
 * check), an append-only violation is a CONFLICT, anything else means the store is not usable.
 */
export function storeError(e: unknown, where: string): DermsError {
  if (e instanceof DermsError) return e;
  const err = e as { code?: unknown; message?: unknown; detail?: unknown };
  const code = typeof err.code === 'string' ? err.code : '';
  const message = typeof err.message === 'string' ? err.message : String(e);
  const detail = typeof err.detail === 'string' ? ` (${err.detail})` : '';
  if (message.includes(APPEND_ONLY)) return new DermsError('CONFLICT', `refused: ${message}`);
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new DermsError('ALREADY_EXISTS', `already exists: ${message}${detail}`);
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new DermsError('NOT_FOUND', `refers to a record that does not exist: ${message}${detail}`);
  }
  if (code === '23514' || code === '23502' || code === 'SQLITE_CONSTRAINT_CHECK' || code === 'SQLITE_CONSTRAINT_NOTNULL') {
    return new DermsError('INVALID_INPUT', `rejected by the store: ${message}${detail}`);
  }
  return new DermsError('UNAVAILABLE', `store ${where}: ${message}`);
}

/**
 * Serializes async work: each task starts when the previous one settled. SQLite has one writer
 * and one connection here, so its transactions (which await between statements) take turns.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
