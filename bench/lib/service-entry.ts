/** Worker side of `startService` (bench/lib/service.ts): build the service, then answer calls until stopped. */
import { parentPort, workerData } from 'node:worker_threads';
import type { Service, ServiceCall, ServiceMessage, ServiceRequest } from './service.js';
import { BenchFailure } from './types.js';

type Start = (arg: unknown, log: (message: string) => void) => Promise<Service<unknown>>;

const failure = (e: unknown): { message: string; stack: string | undefined; benchFailure: boolean } => {
  const err = e instanceof Error ? e : new Error(String(e));
  return { message: err.message, stack: err.stack, benchFailure: e instanceof BenchFailure || err.name === 'BenchFailure' };
};

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (m: ServiceMessage): void => port.postMessage(m);
  const { moduleUrl, fn, arg } = workerData as ServiceRequest;
  let service: Service<unknown>;
  try {
    const mod = (await import(moduleUrl)) as Record<string, unknown>;
    const f = mod[fn];
    if (typeof f !== 'function') throw new Error(`${moduleUrl} exports no function ${fn}`);
    service = await (f as Start)(arg, (message) => post({ type: 'log', message }));
  } catch (e) {
    post({ type: 'error', ...failure(e) });
    return;
  }
  port.on('message', (m: ServiceCall) => {
    void (async () => {
      try {
        let value: unknown;
        if (m.method === '__stop') value = await service.close();
        else {
          const h = service.handlers[m.method];
          if (!h) throw new Error(`service ${fn} has no handler ${m.method}`);
          value = await h(m.arg);
        }
        post({ type: 'reply', id: m.id, ok: true, value });
      } catch (e) {
        post({ type: 'reply', id: m.id, ok: false, ...failure(e) });
      }
    })();
  });
  post({ type: 'ready', info: service.info });
}

if (parentPort) void main(parentPort);
