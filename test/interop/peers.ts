import { spawnSync } from 'node:child_process';

/**
 * Whether a real peer (a program we did not write) is installed. In CI (`CI=true`) a missing
 * peer is a failure, since .ci/run installs them; elsewhere the test is skipped with the reason.
 */
export function peer(name: string, probe: readonly string[]): { available: boolean; reason: string } {
  const r = spawnSync(probe[0]!, probe.slice(1), { encoding: 'utf8', timeout: 10_000 });
  const available = r.status === 0;
  const reason = available ? '' : `${name} is not installed (${(r.stderr || r.error?.message || '').trim().split('\n').at(-1) ?? ''})`;
  if (!available && process.env.CI === 'true') throw new Error(`CI needs ${name}: ${reason}`);
  if (!available) console.warn(`skipping: ${reason}`);
  return { available, reason };
}

/** Debian's own python, where python3-pymodbus lives (not a pyenv one on PATH). */
export const DEBIAN_PYTHON = '/usr/bin/python3';
