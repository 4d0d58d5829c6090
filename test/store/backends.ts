import { afterAll, beforeAll } from 'vitest';
import { openStore, type DermsStore, type StoreOptions } from '../../src/store/store.js';
import { postgresAvailable, startPostgres, type PgTestServer } from './postgres-cluster.js';

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** False when PostgreSQL is missing outside CI (the suite is skipped with the reason printed). */
  readonly available: boolean;
  /** A new, empty, migrated store. */
  open(o?: StoreOptions): Promise<DermsStore>;
  /** The location of the last store opened, to reopen it. */
  lastUrl(): string;
}

/**
 * Both store engines for one test file: SQLite in a temp file per store, and PostgreSQL with one
 * throwaway cluster for the file and a fresh database per store. Registers the file's hooks.
 */
export function storeBackends(tmpFile: () => string): readonly Backend[] {
  const pgCheck = postgresAvailable();
  let server: PgTestServer | undefined;
  beforeAll(async () => {
    if (pgCheck.available) server = await startPostgres();
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
  });
  let sqliteUrl = '';
  let pgUrl = '';
  return [
    {
      name: 'sqlite',
      available: true,
      async open(o) {
        sqliteUrl = `sqlite:${tmpFile()}`;
        return openStore(sqliteUrl, o);
      },
      lastUrl: () => sqliteUrl,
    },
    {
      name: 'postgres',
      available: pgCheck.available,
      async open(o) {
        pgUrl = await server!.freshDatabase();
        return openStore(pgUrl, o);
      },
      lastUrl: () => pgUrl,
    },
  ];
}

/** A clock tests move by hand (records' timestamps, outbox backoff). */
export class ManualClock {
  constructor(public t: number = Date.UTC(2026, 5, 1, 12)) {}
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}
