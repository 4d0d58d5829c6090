import { Worker } from 'node:worker_threads';
import { BenchFailure } from './types.js';

/**
 * A long-lived worker thread that serves calls from the main thread: the other side of a
 * benchmark that needs two sides running at once (simulated devices in the worker, the DERMS
 * polling them from the main thread), each on its own core.
 *
 * `moduleUrl` must export `fn` as `(arg, log) => Promise<Service<I>>`: the worker builds its side,
 * answers `ready` with `info`, then runs `handlers[method](arg)` for each `call` until `stop`, which
 * runs `close()` and ends the worker. Arguments, `info` and answers must be structured-cloneable.
 */
export interface Service<I> {
  readonly info: I;
  readonly handlers: Readonly<Record<string, (arg: unknown) => unknown>>;
  close(): Promise<void>;
}

export interface ServiceHandle<I> {
  readonly info: I;
  call<R>(method: string, arg?: unknown): Promise<R>;
  /** Close the service (its `close()`), then end the worker. */
  stop(): Promise<void>;
}

export function startService<A, I>(moduleUrl: string, fn: string, arg: A, log: (message: string) => void): Promise<ServiceHandle<I>> {
  const entry = new URL(`./service-entry.${moduleUrl.endsWith('.ts') ? 'ts' : 'js'}`, import.meta.url).href;
  const boot = entry.endsWith('.ts')
    ? `import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`
    : `import(${JSON.stringify(entry)})`;
  const request: ServiceRequest = { moduleUrl, fn, arg };
  // The worker's own stdout is not ours: under --json, stdout carries only the result object.
  const worker = new Worker(boot, { eval: true, workerData: request, stdout: true });
  worker.stdout.on('data', (chunk: Buffer) => process.stderr.write(chunk));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let ended: Error | null = null;
  const failAll = (e: Error): void => {
    ended ??= e;
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  const call = <R>(method: string, a?: unknown): Promise<R> => {
    if (ended) return Promise.reject(ended);
    const id = nextId++;
    return new Promise<R>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ type: 'call', id, method, arg: a } satisfies ServiceCall);
    });
  };
  return new Promise<ServiceHandle<I>>((resolve, reject) => {
    let started = false;
    worker.on('message', (m: ServiceMessage) => {
      switch (m.type) {
        case 'log':
          log(m.message);
          break;
        case 'ready':
          started = true;
          resolve({
            info: m.info as I,
            call,
            stop: async () => {
              if (!ended) await call('__stop').catch(() => undefined);
              failAll(new Error('service stopped'));
              await worker.terminate();
            },
          });
          break;
        case 'reply': {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (!p) break;
          if (m.ok) p.resolve(m.value);
          else p.reject(m.benchFailure ? new BenchFailure(m.message) : Object.assign(new Error(m.message), { stack: m.stack }));
          break;
        }
        case 'error': {
          const e = m.benchFailure ? new BenchFailure(m.message) : Object.assign(new Error(m.message), { stack: m.stack });
          failAll(e);
          if (!started) reject(e);
          void worker.terminate();
          break;
        }
      }
    });
    worker.on('error', (e) => {
      failAll(e);
      if (!started) reject(e);
    });
    worker.on('exit', (code) => {
      const e = new Error(`service worker for ${fn} exited with code ${code}`);
      failAll(e);
      if (!started) reject(e);
    });
  });
}

export interface ServiceRequest {
  readonly moduleUrl: string;
  readonly fn: string;
  readonly arg: unknown;
}

export interface ServiceCall {
  readonly type: 'call';
  readonly id: number;
  readonly method: string;
  readonly arg: unknown;
}

export type ServiceMessage =
  | { readonly type: 'log'; readonly message: string }
  | { readonly type: 'ready'; readonly info: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'reply'; readonly id: number; readonly ok: false; readonly message: string; readonly stack: string | undefined; readonly benchFailure: boolean }
  | { readonly type: 'error'; readonly message: string; readonly stack: string | undefined; readonly benchFailure: boolean };
