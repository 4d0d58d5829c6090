import Fastify, { type FastifyInstance } from 'fastify';
import { InProcessAdapter } from '../../../src/adapters/in-process.js';
import { buildCore, type CoreParts } from '../../../src/app/core.js';
import { registerDashboard, type DashboardOptions, type DashboardServices } from '../../../src/app/dashboard/index.js';
import { DEMO_FLEET } from '../../../src/cli/demo.js';
import { derFunctionNames, type DerFunctions } from '../../../src/core/model/group.js';
import { VirtualClock } from '../../../src/core/virtual-clock.js';
import { Simulation } from '../../../src/sim/engine.js';
import { loadFleetFile } from '../../../src/sim/fleet-file.js';
import type { FleetSpec } from '../../../src/sim/fleet-spec.js';
import { InProcessLink } from '../../../src/sim/in-process-link.js';

export const allOn = Object.fromEntries(derFunctionNames.map((n) => [n, true])) as DerFunctions;

export interface DemoSystem {
  readonly spec: FleetSpec;
  readonly clock: VirtualClock;
  readonly sim: Simulation;
  readonly core: CoreParts;
  readonly app: FastifyInstance;
  readonly protocolOf: (derId: string) => string;
  readonly services: DashboardServices | undefined;
  stop(): Promise<void>;
}

/**
 * The demo fleet simulated and managed as `derms start` runs it (the in-process link standing in
 * for the protocols), with the demo's three groups and the dashboard on a Fastify app.
 */
export async function demoSystem(
  o: { services?: (core: CoreParts) => DashboardServices; options?: DashboardOptions } = {},
): Promise<DemoSystem> {
  const spec = await loadFleetFile(DEMO_FLEET);
  const clock = new VirtualClock(spec.clock.start);
  const sim = new Simulation(spec);
  const simSub = sim.attach(clock);
  const core = buildCore(clock);
  // Services first, so their membership history sees the groups being formed.
  const services = o.services?.(core);
  const adapters: InProcessAdapter[] = [];
  for (const d of spec.devices) {
    core.registry.addDer({ mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: { protocol: 'in-process', device: d.id } });
    const a = new InProcessAdapter(d.id, new InProcessLink(sim.device(d.id)), clock, { pollPeriodMs: 1000, timeoutMs: 3000 });
    adapters.push(a);
    core.hub.attach(a);
  }
  const on = (f: string): string[] => spec.devices.filter((d) => d.feeder === f).map((d) => d.id);
  core.registry.createGroup({ mRID: 'feeder-a', names: ['Feeder A'], description: 'every DER on feeder-a', functions: allOn, members: on('feeder-a') });
  core.registry.createGroup({ mRID: 'feeder-b', names: ['Feeder B'], description: 'every DER on feeder-b', functions: allOn, members: on('feeder-b') });
  core.registry.createGroup({ mRID: 'storage', names: ['Storage'], description: 'every battery and hybrid', functions: allOn, members: spec.devices.filter((d) => d.kind !== 'pv').map((d) => d.id) });
  const protocols = new Map(spec.devices.map((d) => [d.id, d.protocol]));
  const protocolOf = (id: string): string => protocols.get(id) ?? 'unknown';
  const app = Fastify();
  await registerDashboard(app, { core, sim, fleet: spec, protocolOf, services, options: o.options });
  return {
    spec,
    clock,
    sim,
    core,
    app,
    protocolOf,
    services,
    async stop() {
      await app.close();
      simSub.unsubscribe();
      core.stop();
      await Promise.all(adapters.map((a) => a.close()));
    },
  };
}
