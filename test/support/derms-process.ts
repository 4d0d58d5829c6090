import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../src/cli/paths.js';

const main = join(packageRoot(), 'src', 'cli', 'main.ts');
/** tsx resolved from the package, not from the (foreign) working directory. */
const tsx = pathToFileURL(join(packageRoot(), 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

export interface DermsProcess {
  readonly child: ChildProcess;
  /** Every line printed so far (each one JSON object with --json). */
  readonly lines: Record<string, unknown>[];
  readonly ready: Record<string, unknown>;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** `derms start --json ...args` in `cwd`, resolved once it prints its ready line. */
export async function startDerms(cwd: string, args: readonly string[], timeoutMs = 60_000): Promise<DermsProcess> {
  const child = spawn(process.execPath, ['--import', tsx, main, 'start', '--json', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines: Record<string, unknown>[] = [];
  try {
    const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const obj = JSON.parse(line) as Record<string, unknown>; // every line is one JSON object
        lines.push(obj);
        if (obj.ready === true) {
          clearTimeout(timer);
          resolve(obj);
        }
      });
      void exited.then((code) => reject(new Error(`exited ${code} before ready; stderr: ${stderr}`)));
    });
    return { child, lines, ready, exited, stderr: () => stderr };
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
}
