import Fastify, { type FastifyInstance } from 'fastify';
import type { AddressInfo } from 'node:net';
import { coreForecaster, createCimFacade, ratioLearner } from '../cim-api/index.js';
import { PerformanceRatioTracker } from '../core/forecast.js';
import { derFunctionNames, type DerFunctions } from '../core/model/group.js';
import type { Site } from '../core/solar.js';
import { VirtualClock } from '../core/virtual-clock.js';
import { Simulation } from '../sim/engine.js';
import { loadFleetFile } from '../sim/fleet-file.js';
import type { FleetSpec } from '../sim/fleet-spec.js';
import { pace } from '../sim/pacer.js';
import { buildCore, type CoreParts } from './core.js';
import { registerDashboard } from './dashboard/index.js';
import { dashboardServices } from './dashboard-services.js';
import { Subject } from 'rxjs';
import { DeviceAdapters, endpointOf, entryFromDer, type DeviceEntry } from './devices.js';
import { RegistryPersister } from './registry-persister.js';
import { endpointSchema, type Der } from '../core/model/der.js';
import type { TelemetrySample } from '../core/model/telemetry.js';
import { DEFAULT_STORE_URL, DurableRegistry, loadRegistry, openStore, parseStoreUrl, redactStoreUrl } from '../store/index.js';
import { adapterProbe, bootstrapDso, bootstrapOptionsFromEnv, DispatchRecorder, DurableCimOutbox, EnergyRollups, registerCustomerServices, seedDemo } from '../services/index.js';
import { loadLabDevices } from './lab-devices.js';
import { Lifecycle } from './lifecycle.js';
import { SystemMetrics } from './metrics.js';
import { serveFleet } from '../sim/serve-fleet.js';

export interface SystemOptions {
  /** Fleet file to simulate; null with `--no-sim`. */
  readonly fleet: string | null;
  /** Real devices to manage (a lab's inverters by URL); used with `--no-sim`. */
  readonly devices: string | null;
  readonly host: string;
  /** HTTP port of the API, dashboard and metrics; 0 takes any free port. */
  readonly port: number;
  /** MQTT broker for OpenFMB devices: `embedded` (started here) or an external broker's URL. */
  readonly mqtt?: string | undefined;
  /** Where state is kept: `sqlite:PATH` (default sqlite:data/derms.db) or `postgres://...`. */
  readonly store?: string | undefined;
  /** DMS endpoints that receive CIM EventMessages (statuses, forecasts, group changes, device events). */
  readonly dmsEndpoints?: readonly string[];
  /** Virtual seconds per real second; the fleet file's pace when undefined. */
  readonly speed?: number | undefined;
  /** How long to wait for every device to come online before declaring ready anyway. */
  readonly connectTimeoutMs?: number;
  /** Modbus TCP requests in flight per connection (default 1). */
  readonly modbusInFlight?: number;
  /** One line per part as it comes up. */
  readonly say: (part: string, message: string, detail?: Record<string, unknown>) => void;
  /** While devices connect: how many of how many are online. */
  readonly onConnectProgress?: (online: number, total: number) => void;
}

/** Where the running parts answer; only parts that are mounted are listed. */
export interface SystemUrls {
  readonly api?: string;
  /** Customer services (JSON, OpenAPI at /api/openapi.json). */
  readonly services?: string;
  readonly dashboard?: string;
  readonly metrics: string;
  readonly health: string;
}

export interface RunningSystem {
  readonly urls: SystemUrls;
  readonly core: CoreParts;
  readonly sim: Simulation | null;
  readonly fleet: FleetSpec | null;
  readonly devices: readonly DeviceEntry[];
  readonly online: number;
  /** Stop polling, flush, close sockets; resolves when everything is down (or reported stuck). */
  stop(): Promise<void>;
}

const allFunctions = Object.fromEntries(derFunctionNames.map((n) => [n, true])) as DerFunctions;

/**
 * The whole system in one process: the simulated fleet serving its protocols (or a lab's real
 * devices), one adapter per device over its protocol, the core, and the HTTP server (health,
 * metrics; the CIM API, customer services and dashboard mount here as they exist).
 */
export async function startSystem(o: SystemOptions): Promise<RunningSystem> {
  const life = new Lifecycle();
  try {
    return await bringUp(o, life);
  } catch (e) {
    await life.stopAll(3000);
    throw e;
  }
}

async function bringUp(o: SystemOptions, life: Lifecycle): Promise<RunningSystem> {
  // The fleet and its clock: virtual time paced against the wall clock; real time without a simulator.
  const fleet = o.fleet ? await loadFleetFile(o.fleet) : null;
  const clock = new VirtualClock(fleet ? fleet.clock.start : Date.now());
  const sim = fleet ? new Simulation(fleet) : null;
  if (fleet && sim) {
    const sub = sim.attach(clock);
    life.add('simulator', () => sub.unsubscribe());
    const counts = countBy(fleet.devices, (d) => d.kind);
    o.say('simulator', `${fleet.devices.length} simulated DERs (${describe(counts)}) on ${fleet.feeders.length} feeder(s) from ${o.fleet}`, { ders: fleet.devices.length, counts, feeders: fleet.feeders.length });
  }

  const stopPacing = new AbortController();
  const speed = fleet ? (o.speed ?? (fleet.clock.mode === 'realtime' ? 1 : fleet.clock.speed)) : 1;
  const pacing = pace(clock, { mode: speed === 1 ? 'realtime' : 'accelerated', speed, untilMs: Infinity, signal: stopPacing.signal });
  life.add('clock', async () => {
    stopPacing.abort();
    await pacing;
  });

  // Device side (simulated servers) and the list of endpoints the DERMS will manage.
  let devices: DeviceEntry[];
  if (fleet && sim) {
    const served = await serveFleet(sim, fleet, clock, { host: o.host, mqtt: o.mqtt });
    life.add('device servers', () => served.close());
    const specs = new Map(fleet.devices.map((d) => [d.id, d]));
    const entry = (id: string, protocol: DeviceEntry['protocol'], url: string): DeviceEntry => {
      const d = specs.get(id)!;
      return { der: { mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: endpointOf(protocol, url, d.id) }, protocol, url };
    };
    devices = [...served.endpoints.map((e) => entry(e.mRID, e.protocol, e.url)), ...served.unserved.map((id) => entry(id, 'in-process', `in-process:${id}`))];
    for (const [protocol, line] of served.summary) o.say(`devices/${protocol}`, protocol === 'unserved' ? `${line}: reached in process` : line);
  } else if (o.devices) {
    devices = await loadLabDevices(o.devices, { timeoutMs: 3000 });
    o.say('devices', `${devices.length} device(s) from ${o.devices}`, { devices: devices.length });
  } else {
    devices = [];
    o.say('devices', 'no fleet and no devices file: managing nothing until DERs are registered');
  }

  // The store: registry, groups and their history, customers, dispatch log, energy; opened first, closed last.
  const storeUrl = o.store ?? DEFAULT_STORE_URL;
  const store = await openStore(storeUrl, { clock });
  life.add('store', () => store.close());
  const boot = await bootstrapDso(store, bootstrapOptionsFromEnv());
  o.say('store', `${parseStoreUrl(storeUrl).kind === 'postgres' ? 'PostgreSQL' : 'SQLite'} store ${redactStoreUrl(storeUrl)} (DSO ${boot.organization.name})`, { store: redactStoreUrl(storeUrl) });
  if (boot.token) o.say('store', `DSO administrator token (shown once): ${boot.token}`, { adminToken: boot.token });
  if (fleet) {
    const endpoints = new Map(devices.map((d) => [d.der.mRID, d.der.endpoint]));
    const seeded = await seedDemo(store, fleet, { groups: false, endpointFor: (d) => endpointSchema.parse(endpoints.get(d.id)) });
    if (seeded.seeded) o.say('store', `demo customer data seeded: ${seeded.customers} customers, ${seeded.ders} DERs`, { tokens: seeded.tokens });
    if (seeded.tokens) for (const [who, token] of Object.entries(seeded.tokens)) o.say('store', `demo ${who} token: ${token}`);
  }

  const core = buildCore(clock);
  life.add('core', () => core.stop());
  await loadRegistry(store, { into: core.registry });
  const durable = new DurableRegistry(core.registry, store);
  // Changes made outside customer services (CIM facade, dashboard) are stored before their reply goes out.
  const persister = new RegistryPersister(core.registry, store, (line) => o.say('store', line));
  life.add('registry persister', async () => {
    persister.stop();
    await persister.flush().catch(() => undefined);
  });
  for (const d of devices) {
    const known = core.registry.der(d.der.mRID);
    if (!known) await durable.addDer(d.der);
    else if (JSON.stringify(known.endpoint) !== JSON.stringify(endpointSchema.parse(d.der.endpoint))) await durable.updateDer({ ...known, endpoint: d.der.endpoint });
  }
  if (fleet) await createDefaultGroups(core, durable, fleet);

  const protocols = new Map(devices.map((d) => [d.der.mRID, d.protocol]));
  const protocolOf = (derId: string): string => protocols.get(derId) ?? core.registry.der(derId)?.endpoint.protocol ?? 'unknown';
  // CIM facade, with forecasts learned from the fleet's own telemetry (sites from the fleet file); pushes wait in the store.
  const sites = new Map((fleet?.devices ?? []).map((d) => [d.id, d.site]));
  const siteOf = (derId: string): Site | undefined => sites.get(derId);
  const ratios = new PerformanceRatioTracker();
  const learn = ratioLearner(core.registry, siteOf, ratios);
  const forecaster = coreForecaster({ registry: core.registry, aggregator: core.aggregator, ratios, siteOf });
  const cim = createCimFacade(
    { clock, registry: core.registry, aggregator: core.aggregator, tracker: core.tracker, adapters: core.hub, forecaster },
    { push: { endpoints: (o.dmsEndpoints ?? []).map((url) => ({ url })), outbox: await DurableCimOutbox.open(store) }, log: (line) => o.say('cim', line) },
  );
  const metrics = new SystemMetrics(core, protocolOf, { pushQueueDepth: () => cim.stats().outbox.depth });
  life.add('metrics', () => metrics.stop());

  // Dispatch log and energy rollups, for participation statements and invoices.
  const samples = new Subject<TelemetrySample>();
  const recorder = new DispatchRecorder(store);
  const recording = recorder.attach(core.tracker.events$);
  const rollups = new EnergyRollups(store, { intervalMs: 300_000 });
  const rolling = [rollups.attach(samples), rollups.start(clock)];
  life.add('dispatch log and energy rollups', async () => {
    recording.unsubscribe();
    rolling.forEach((r) => r.unsubscribe());
    await recorder.close();
    await rollups.flush();
  });

  // Adapters: one per device over its protocol; DERs registered later (customer services) get one too.
  const adapters = new DeviceAdapters({ clock, sim, pollPeriodMs: 1000, speed, metrics, clientId: 'derms', modbusInFlight: o.modbusInFlight, log: (line) => o.say('adapters', line) });
  life.add('adapters', () => adapters.close());
  const attach = (d: DeviceEntry): void => {
    const a = adapters.open(d);
    a.telemetry$.subscribe((sample) => {
      metrics.sample(d.protocol);
      learn(sample);
      samples.next(sample);
    });
    core.hub.attach(a);
  };
  devices.forEach(attach);
  const others = [...core.registry.allDers()].filter((der) => !protocols.has(der.mRID));
  for (const der of others) tryAttach(der);
  function tryAttach(der: Der): void {
    try {
      attach(entryFromDer(der));
    } catch (e) {
      o.say('adapters', `${der.mRID}: no adapter (${e instanceof Error ? e.message : String(e)})`);
    }
  }
  const registrySub = core.registry.changes$.subscribe((c) => {
    if (c.type === 'derAdded' && !core.hub.adapter(c.der.mRID)) tryAttach(c.der);
    if (c.type === 'derRemoved') void adapters.closeOne(core.hub.detach(c.der.mRID));
  });
  life.add('registry watch', () => registrySub.unsubscribe());
  const managed = devices.length + others.length;
  o.say('core', `core up: ${managed} DER(s) registered, adapters connecting (${describe(countBy(devices, (d) => d.protocol))}${others.length ? `, ${others.length} from the store` : ''})`);

  // HTTP: health and metrics (API, customer services and the dashboard mount here).
  let ready = false;
  const app: FastifyInstance = Fastify({ logger: false });
  app.get('/health', async (_req, reply) => {
    const body = { status: ready ? 'ready' : 'starting', live: true, ready, ders: managed, online: online(core) };
    return reply.code(ready ? 200 : 503).send(body);
  });
  app.get('/health/live', async () => ({ live: true }));
  app.get('/metrics', async (_req, reply) => reply.type(metrics.contentType).send(await metrics.text()));
  // No change is acknowledged before the store has it (hooks reach every plugin registered after them).
  app.addHook('onSend', async (req, reply, payload) => {
    if (req.method === 'GET' || req.method === 'HEAD') return payload;
    try {
      await persister.flush();
      return payload;
    } catch (e) {
      reply.code(503).type('application/json');
      return JSON.stringify({ error: { code: 'UNAVAILABLE', message: `the change could not be stored: ${e instanceof Error ? e.message : String(e)}` } });
    }
  });
  const probe = adapterProbe((der) => adapters.create(entryFromDer(der)), clock, { timeoutMs: 10_000 * speed });
  const services = await registerCustomerServices(app, { store, registry: durable, probe, clock });
  await registerDashboard(app, { core, sim, fleet, protocolOf, services: await dashboardServices(store, services) });
  await app.register(cim.plugin);
  await app.listen({ host: o.host, port: o.port });
  life.add('http', () => app.close());
  cim.start();
  life.add('cim pushes', () => cim.stop());
  const port = (app.server.address() as AddressInfo).port;
  const base = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  o.say('http', `HTTP on ${base}`, { url: base });

  // Wait for the fleet to connect (progress shown by the caller), then ready.
  const count = await waitOnline(core, managed, o.connectTimeoutMs ?? 30_000, o.onConnectProgress);
  ready = true;
  const urls: SystemUrls = { api: `${base}/cim`, services: `${base}/api`, dashboard: `${base}/`, metrics: `${base}/metrics`, health: `${base}/health` };
  return {
    urls,
    core,
    sim,
    fleet,
    devices,
    online: count,
    stop: () => life.stopAll(5000, (name, problem) => o.say(name, `stopping: ${problem}`)),
  };
}

function online(core: CoreParts): number {
  let n = 0;
  for (const der of core.registry.allDers()) if (core.aggregator.view(der.mRID)?.freshness === 'fresh') n++;
  return n;
}

async function waitOnline(core: CoreParts, total: number, timeoutMs: number, progress?: (online: number, total: number) => void): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const n = online(core);
    progress?.(n, total);
    if (n >= total || performance.now() >= deadline) return n;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One group per feeder and one of all storage, unless the store has them: something to look at and dispatch on a fresh start. */
async function createDefaultGroups(core: CoreParts, durable: DurableRegistry, fleet: FleetSpec): Promise<void> {
  const why = { reason: 'default group of the simulated fleet' };
  const create = async (mRID: string, name: string, description: string, members: string[]): Promise<void> => {
    if (members.length && !core.registry.group(mRID)) await durable.createGroup({ mRID, names: [name], description, functions: allFunctions, members }, why);
  };
  for (const f of fleet.feeders) await create(`feeder-${f.id}`, `Feeder ${f.id}`, `every DER on feeder ${f.id}`, fleet.devices.filter((d) => d.feeder === f.id).map((d) => d.id));
  await create('storage', 'Storage', 'every battery and hybrid', fleet.devices.filter((d) => d.kind !== 'pv').map((d) => d.id));
}

function countBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

function describe(counts: Record<string, number>): string {
  return Object.entries(counts)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
}
