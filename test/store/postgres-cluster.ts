import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { peer } from '../interop/peers.js';

/**
 * A throwaway PostgreSQL for tests: `PG_TEST_URL` when set (a server where that role may create
 * databases), else a cluster of our own from the installed Debian binaries, initdb'd into a temp
 * dir and listening on a free 127.0.0.1 port with its socket in that dir. PostgreSQL refuses to run
 * as root, so as root the dir is chowned to `postgres` and the binaries run through runuser.
 * Missing PostgreSQL skips the tests with a reason, except in CI (CI=true), where it fails.
 */
export interface PgTestServer {
  /** A new empty database on the server, as a URL. */
  freshDatabase(): Promise<string>;
  stop(): Promise<void>;
}

function binDir(): string | undefined {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

/** Whether the tests can have a PostgreSQL (checked at collection time, so describe.skipIf can use it). */
export function postgresAvailable(): { available: boolean; reason: string } {
  if (process.env.PG_TEST_URL) return { available: true, reason: '' };
  const bin = binDir();
  return peer('postgresql', [bin ? join(bin, 'initdb') : 'initdb', '--version']);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function run(asPostgres: boolean, cmd: string, args: readonly string[]): void {
  const [file, argv] = asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, [...args]];
  const r = spawnSync(file, argv, { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr || r.stdout || r.error?.message}`);
}

let counter = 0;

function server(adminUrl: string, stop: () => Promise<void>): PgTestServer {
  return {
    async freshDatabase() {
      const name = `derms_test_${process.pid}_${Date.now().toString(36)}_${++counter}`;
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      return u.toString();
    },
    stop,
  };
}

export async function startPostgres(): Promise<PgTestServer> {
  if (process.env.PG_TEST_URL) return server(process.env.PG_TEST_URL, async () => undefined);
  const bin = binDir() ?? '';
  const asPostgres = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'derms-pg-'));
  if (asPostgres) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gids = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(ids.stdout.trim()), Number(gids.stdout.trim()));
  }
  const data = join(dir, 'data');
  run(asPostgres, join(bin, 'initdb'), ['-D', data, '-U', 'derms', '--auth=trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  // fsync off: a throwaway test cluster; durability is the engine's job and is not what these tests check.
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  run(asPostgres, join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', '60', 'start']);
  const stop = async (): Promise<void> => {
    try {
      run(asPostgres, join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  return server(`postgres://derms@127.0.0.1:${port}/postgres`, stop);
}
