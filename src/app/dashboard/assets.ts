import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { packageRoot } from '../../cli/paths.js';

export interface Asset {
  readonly body: Buffer;
  readonly type: string;
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * The page's files, read once: our own from src/app/dashboard/static (plain files, resolved from
 * the package root because `tsc` copies no assets to dist, so sources and built output serve the
 * same files) and uPlot's from its installed package. Keyed by the path under /ui/.
 */
export function loadAssets(): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  const dir = staticDir();
  for (const name of readdirSync(dir)) {
    const type = types[extname(name)];
    if (type) assets.set(name, { body: readFileSync(join(dir, name)), type });
  }
  const uplot = join(dirname(createRequire(import.meta.url).resolve('uplot/package.json')), 'dist');
  assets.set('vendor/uPlot.iife.min.js', { body: readFileSync(join(uplot, 'uPlot.iife.min.js')), type: types['.js']! });
  assets.set('vendor/uPlot.min.css', { body: readFileSync(join(uplot, 'uPlot.min.css')), type: types['.css']! });
  return assets;
}

export function staticDir(): string {
  return join(packageRoot(), 'src', 'app', 'dashboard', 'static');
}
