import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { peer } from '../interop/peers.js';

/** Debian's chromium (installed by .ci/run); playwright-core drives it, it downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** Flags for a quiet, self-contained headless run: no sandbox (containers), no GPU, no calls home. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

/** Whether chromium is here: skipped with the reason outside CI, a failure in CI (see peer()). */
export function chromiumPeer(): { available: boolean; reason: string } {
  return peer('chromium', [CHROMIUM, '--version']);
}

export interface HeadlessBrowser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Launch chromium headless with a fresh profile in a temporary folder (playwright takes the
 * profile folder as launchPersistentContext's argument rather than as `--user-data-dir`), and
 * remove the folder on close.
 */
export async function launchChromium(o: { viewport?: { width: number; height: number } } = {}): Promise<HeadlessBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'derms-chromium-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
      viewport: o.viewport ?? { width: 1400, height: 900 },
    });
    return {
      context,
      async close() {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (e) {
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
}
