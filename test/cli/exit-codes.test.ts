import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/cli/paths.js';

const main = join(packageRoot(), 'src', 'cli', 'main.ts');
const derms = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', timeout: 30_000 });

describe('derms exit codes', () => {
  it('says what was wrong in one line and exits by kind of error', () => {
    const bad = derms('scan', 'bogus');
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^derms: not a URL/);
    const unreachable = derms('scan', 'modbus-tcp://127.0.0.1:1?unit=1', '--timeout', '200');
    expect(unreachable.status).toBe(4);
    expect(unreachable.stderr).toMatch(/cannot connect/);
    const missing = derms('sim', 'run', '--fleet', 'no/such/fleet.yaml');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/no such file/);
  }, 60_000); // three CLI processes, each loading TypeScript through tsx
});
