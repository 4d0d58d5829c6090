import { Worker } from 'node:worker_threads';
import { BenchFailure } from './types.js';

/**
 * Run one measurement in a fresh worker thread: its own V8 heap, its own compiled code and type
 * feedback, as a fresh `derms ...` process would have. Measurements that build large object graphs
 * and step them in a hot loop are sensitive to what ran before them in the same isolate (the second
 * of two simulations built in one process stepped markedly slower than the first); a worker per
 * measurement keeps them independent. The worker runs on one thread while the main thread waits.
 *
 * `moduleUrl` must export `fn` as `(arg, log) => result | Promise<result>`; `arg` and the result
 * must be structured-cloneable. Progress sent to `log` comes back to the caller's `log`.
 */
export function runIsolated<A, R>(moduleUrl: string, fn: string, arg: A, log: (message: string) => void): Promise<R> {
  const entry = new URL(`./isolated-entry.${moduleUrl.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href;
  const boot = entry.endsWith('.ts')
    ? `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`
    : `import(${JSON.stringify(entry)})`;
  const request: IsolatedRequest = { moduleUrl, fn, arg };
  // The worker's own stdout is not ours: under --json, stdout carries only the result object.
  const worker = new Worker(boot, { eval: true, workerData: request, stdout: true });
  worker.stdout.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      f();
      void worker.terminate();
    };
    worker.on('message', (m: IsolatedMessage) => {
      if (m.type === 'log') log(m.message);
      else if (m.type === 'result') settle(() => resolve(m.value as R));
      else settle(() => reject(m.benchFailure ? new BenchFailure(m.message) : Object.assign(new Error(m.message), { stack: m.stack })));
    });
    worker.on('error', (e) => settle(() => reject(e)));
    worker.on('exit', (code) => settle(() => reject(new Error(`benchmark worker for ${fn} exited with code ${code} before answering`))));
  });
}

export interface IsolatedRequest {
  readonly moduleUrl: string;
  readonly fn: string;
  readonly arg: unknown;
}

export type IsolatedMessage =
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'result'; readonly value: unknown }
  | { readonly type: 'error'; readonly message: string; readonly stack: string | undefined; readonly benchFailure: boolean };
