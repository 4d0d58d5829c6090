/** Worker side of `runIsolated` (bench/lib/isolated.ts): import the module, call the function, post the result. */
import { parentPort, workerData } from 'node:worker_threads';
import type { IsolatedMessage, IsolatedRequest } from './isolated.js';
import { BenchFailure } from './types.js';

type Measurement = (arg: unknown, log: (message: string) => void) => unknown;

async function main(port: NonNullable<typeof parentPort>): Promise<void> {
  const post = (m: IsolatedMessage): void => port.postMessage(m);
  const { moduleUrl, fn, arg } = workerData as IsolatedRequest;
  try {
    const mod = (await import(moduleUrl)) as Record<string, unknown>;
    const f = mod[fn];
    if (typeof f !== 'function') throw new Error(`${moduleUrl} exports no function ${fn}`);
    const value = await (f as Measurement)(arg, (message) => post({ type: 'log', message }));
    post({ type: 'result', value });
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: 'error', message: err.message, stack: err.stack, benchFailure: e instanceof BenchFailure || err.name === 'BenchFailure' });
  }
}

if (parentPort) void main(parentPort);
