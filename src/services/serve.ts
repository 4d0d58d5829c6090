import Fastify, { type FastifyInstance } from 'fastify';
import { Registry } from '../core/registry.js';
import { DurableRegistry, loadRegistry } from '../store/durable-registry.js';
import { openStore, type DermsStore, type StoreOptions } from '../store/store.js';
import { bootstrapDso, type BootstrapOptions, type Bootstrapped } from './bootstrap.js';
import { registerCustomerServices } from './http.js';
import { probeByProtocol, tcpProbe, type Probe } from './probe.js';

export interface CustomerServicesServerOptions extends StoreOptions {
  /** Store URL: sqlite:PATH or postgres://... */
  readonly store: string;
  readonly host?: string;
  /** 0 for any free port. */
  readonly port?: number;
  /** Load the core's registry from the store and write it through (false: customer services only, as the central process of a distributed deployment). */
  readonly withRegistry?: boolean;
  readonly dermsInstance?: string;
  readonly probe?: Probe;
  readonly bootstrap?: BootstrapOptions;
}

export interface CustomerServicesServer {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly store: DermsStore;
  readonly registry: DurableRegistry | undefined;
  readonly bootstrapped: Bootstrapped;
  close(): Promise<void>;
}

/**
 * Customer services as a process of its own: open the store (migrating it), bootstrap the DSO,
 * load the registry, serve /api. `derms start` mounts the same API beside the CIM server instead.
 */
export async function serveCustomerServices(o: CustomerServicesServerOptions): Promise<CustomerServicesServer> {
  const store = await openStore(o.store, o);
  try {
    const bootstrapped = await bootstrapDso(store, o.bootstrap);
    const registry = o.withRegistry === false ? undefined : new DurableRegistry(await loadRegistry(store, { into: new Registry(), ...(o.dermsInstance ? { dermsInstance: o.dermsInstance } : {}) }), store);
    const app = Fastify();
    const probe = o.probe ?? probeByProtocol({ 'sunspec-tcp': tcpProbe(), dnp3: tcpProbe() });
    await registerCustomerServices(app, { store, probe, ...(registry ? { registry } : {}), ...(o.dermsInstance ? { dermsInstance: o.dermsInstance } : {}), ...(o.clock ? { clock: o.clock } : {}) });
    const url = await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 0 });
    return {
      url,
      app,
      store,
      registry,
      bootstrapped,
      async close() {
        await app.close();
        await store.close();
      },
    };
  } catch (e) {
    await store.close();
    throw e;
  }
}
