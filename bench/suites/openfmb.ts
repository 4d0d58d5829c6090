/**
 * OpenFMB over MQTT at scale: simulated devices publish Reading profiles at 1 Hz through the
 * embedded broker into the core (bus -> adapters -> hub -> aggregator -> group status).
 *
 * Sizes: `--quick` runs small levels; otherwise the levels below. `BENCH_OPENFMB_LEVELS=1000,5000`
 * (device counts, tried in order until one misses) overrides both; `--samples` sets the window (s).
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { asyncScheduler, type Subscription } from 'rxjs';
import { OpenFmbAdapter } from '../../src/adapters/openfmb/adapter.js';
import { OpenFmbBus } from '../../src/adapters/openfmb/bus.js';
import { Aggregator } from '../../src/core/aggregator.js';
import { TelemetryHub } from '../../src/core/hub.js';
import type { DerInput } from '../../src/core/model/der.js';
import type { TelemetrySample } from '../../src/core/model/telemetry.js';
import { Registry } from '../../src/core/registry.js';
import { EmbeddedBroker } from '../../src/protocols/mqtt/broker.js';
import type { BrokerTarget } from '../../src/protocols/mqtt/url.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { OpenFmbGateway } from '../../src/sim/openfmb/gateway.js';
import { moduleOf } from '../../src/sim/openfmb/faces.js';
import { derId, kindOf } from '../lib/fleet.js';
import { fmt, machine, median, nowMs, pct, percentile, round } from '../lib/measure.js';
import { startService, type Service, type ServiceHandle } from '../lib/service.js';
import { deviceSpec, noonSky } from '../lib/sim-devices.js';
import { BenchFailure, type Figure, type Suite, type SuiteOptions, type SuiteResult } from '../lib/types.js';

const ISSUE = 'issue target';
const self = import.meta.url;
const TARGET_DEVICES = 20_000;
const PERIOD_MS = 1000;
const STATUS_PERIOD_MS = 5000;
/** Devices per simulated gateway (one MQTT connection each), as OpenFMB adapters serve several devices. */
const DEVICES_PER_GATEWAY = 1000;
/** DERs per group in the core. */
const GROUP_SIZE = 500;
const T0 = Date.UTC(2026, 5, 21, 18);
/** Node timers may fire a millisecond or two before their time by Date.now(): a reading published that early counts for its period. */
const TIMER_EARLY_MS = 5;

interface OpenFmbParams {
  readonly levels: readonly number[];
  readonly warmupS: number;
  readonly windowS: number;
  /** Bisection steps between the last passing level and the first miss. */
  readonly refinements: number;
  readonly grid: number;
}

export const openfmbSuite: Suite = {
  name: 'openfmb',
  title: 'OpenFMB over MQTT: simulated devices publishing at 1 Hz through the embedded broker into the core',
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const fromEnv = process.env.BENCH_OPENFMB_LEVELS?.split(',').map((x) => Number(x.trim()));
    if (fromEnv && fromEnv.some((n) => !Number.isInteger(n) || n < 1)) throw new BenchFailure(`BENCH_OPENFMB_LEVELS must list positive integers, got ${process.env.BENCH_OPENFMB_LEVELS}`);
    const p: OpenFmbParams = {
      levels: fromEnv ?? (opts.quick ? [200, 1000] : [5000, 10_000, 15_000, 20_000, 25_000, 30_000]),
      warmupS: 3,
      windowS: opts.samples ?? (opts.quick ? 3 : 10),
      refinements: opts.quick || fromEnv ? 0 : 2,
      grid: 1000,
    };
    const log = opts.log;
    const levels: Level[] = [];
    const notRun: number[] = [];
    const failed: { n: number; reason: string }[] = [];
    let best: Level | null = null;
    try {
      // Every level on a fresh broker and device thread: the sessions and subscriptions of earlier
      // levels (persistent, as the parties keep them) would otherwise load the broker of the next.
      const tryLevel = async (n: number): Promise<Level> => {
        log(`openfmb: ${fmt(n)} devices: starting the embedded MQTT broker and the devices, each in a worker thread`);
        const broker = await startService<null, BrokerInfo>(self, 'serveBroker', null, log);
        let l: Level;
        try {
          const devices = await startService<DeviceHostArg, DeviceHostInfo>(self, 'serveDevices', { count: n, port: broker.info.port, seed: 7 }, log);
          try {
            l = await runLevel(n, broker, devices, p, log);
          } finally {
            await devices.stop();
          }
        } finally {
          await broker.stop();
        }
        levels.push(l);
        log(
          `openfmb: ${fmt(n)} devices: ${l.passed ? 'pass' : 'MISS'} (${pct(l.inTime / l.expected, 1)} of ${fmt(l.expected)} readings in time, ` +
            `transport p50 ${l.transportP50.toFixed(1)} ms p99 ${l.transportP99.toFixed(1)} ms, to group status p50 ${l.e2eP50.toFixed(0)} ms p99 ${l.e2eP99.toFixed(0)} ms; ` +
            `busy: DERMS ${pct(l.dermsElu, 1)}, broker ${pct(l.brokerElu, 1)}, devices ${pct(l.devicesElu, 1)}; ` +
            `late ${l.late}, missing ${l.missing}, doubled ${l.doubled}, published ${fmt(l.publishedReadings)}, offline slots ${l.slotsOffline}, slots a period late ${l.slotsLate}, publish failures ${l.publishFailures}, gateway disconnects ${l.deviceDisconnects})`,
        );
        return l;
      };
      let miss: number | null = null;
      for (const n of p.levels) {
        if (miss !== null) {
          notRun.push(n);
          continue;
        }
        try {
          const l = await tryLevel(n);
          if (l.passed) best = l;
          else miss = n;
        } catch (e) {
          // A level that breaks (the broker drops the DERMS connection under the load) is a miss, not a crash of the suite.
          failed.push({ n, reason: e instanceof Error ? e.message : String(e) });
          log(`openfmb: ${fmt(n)} devices: MISS (the level failed: ${failed.at(-1)!.reason})`);
          miss = n;
        }
      }
      // A level that broke is not a reliable bound for bisection.
      for (let k = 0; k < p.refinements && miss !== null && failed.length === 0; k++) {
        const lo = best?.n ?? 0;
        const mid = Math.round((lo + miss) / 2 / p.grid) * p.grid;
        if (mid <= lo || mid >= miss) break;
        const l = await tryLevel(mid);
        if (l.passed) best = l;
        else miss = mid;
      }
    } finally {
      levels.sort((a, b) => a.n - b.n);
    }
    const shown = best ?? levels[0]!;
    const metrics: Record<string, number | number[]> = {
      devicesAt1Hz: best?.n ?? 0,
      latencyP50Ms: round(shown.e2eP50, 1),
      latencyP99Ms: round(shown.e2eP99, 1),
      transportP50Ms: round(shown.transportP50, 2),
      transportP99Ms: round(shown.transportP99, 2),
      levels: levels.map((l) => l.n),
      passed: levels.map((l) => (l.passed ? 1 : 0)),
      completionRatio: levels.map((l) => round(l.inTime / l.expected, 5)),
    };
    for (const l of levels) {
      const k = `n${l.n}`;
      metrics[`${k}Passed`] = l.passed ? 1 : 0;
      metrics[`${k}InTimePct`] = round((100 * l.inTime) / l.expected, 3);
      metrics[`${k}Missing`] = l.missing;
      metrics[`${k}Late`] = l.late;
      metrics[`${k}TransportP50Ms`] = round(l.transportP50, 2);
      metrics[`${k}TransportP99Ms`] = round(l.transportP99, 2);
      metrics[`${k}TransportMaxMs`] = round(l.transportMax, 1);
      metrics[`${k}E2eP50Ms`] = round(l.e2eP50, 1);
      metrics[`${k}E2eP99Ms`] = round(l.e2eP99, 1);
      metrics[`${k}DermsEluPct`] = round(100 * l.dermsElu, 1);
      metrics[`${k}BrokerEluPct`] = round(100 * l.brokerElu, 1);
      metrics[`${k}DevicesEluPct`] = round(100 * l.devicesElu, 1);
      metrics[`${k}MessagesPerS`] = round(l.messagesPerS, 0);
      metrics[`${k}Dropped`] = l.dropped;
      metrics[`${k}WireProblems`] = l.wireProblems;
      metrics[`${k}Doubled`] = l.doubled;
      metrics[`${k}PublishedReadings`] = l.publishedReadings;
      metrics[`${k}GatewayDisconnects`] = l.deviceDisconnects;
    }
    return {
      schema: 1,
      suite: 'openfmb',
      title: openfmbSuite.title,
      date: new Date().toISOString(),
      machine: machine(),
      params: {
        levels: p.levels.join(','),
        notRun: notRun.join(',') || 'none',
        warmupS: p.warmupS,
        windowS: p.windowS,
        readingPeriodMs: PERIOD_MS,
        statusPeriodMs: STATUS_PERIOD_MS,
        devicesPerGateway: DEVICES_PER_GATEWAY,
        groupSize: GROUP_SIZE,
        statusIntervalMs: 1000,
        quick: opts.quick,
      },
      threading:
        'Three threads: the embedded MQTT broker (aedes) in one worker thread, the simulated devices and their OpenFMB gateways in another, ' +
        'the DERMS side (one MQTT connection, decoding, adapters, hub, aggregator) on Node\'s main thread; V8\'s garbage collector may use helper threads.',
      workloads: [
        {
          name: 'Devices at 1 Hz (devicesAt1Hz, latencyP50Ms, latencyP99Ms)',
          description:
            `Device side, in a worker thread: \`SimInverter\`s (60 % 10 kW PV on solarmodule, 25 % 5 kW / 13.5 kWh battery and 15 % 7.6 kW hybrid on essmodule), ` +
            `warmed up 30 s under a clear noon sky and stepped once a second in real time, served by \`OpenFmbGateway\`s of ${fmt(DEVICES_PER_GATEWAY)} devices each ` +
            `(one MQTT connection per gateway, persistent session, each device's Control and DiscreteControl topics subscribed with QoS 1): every device ` +
            `publishes a Reading profile every ${PERIOD_MS} ms (QoS 0, the devices spread over ten slots of the second) and a Status profile every ` +
            `${STATUS_PERIOD_MS} ms, its Capability once (retained). Broker: \`EmbeddedBroker\` (aedes, in-memory) in a worker thread of its own, on loopback TCP. Each level starts a fresh broker and device thread. ` +
            `DERMS side, on the main thread: one \`OpenFmbBus\` (one connection, wildcard subscriptions to the Reading, Status and Capability profiles of both modules), ` +
            `one \`OpenFmbAdapter\` per device attached to a \`TelemetryHub\` feeding an \`Aggregator\` (real-time clock, status every 1000 ms) with the devices in groups ` +
            `of ${GROUP_SIZE}. Per level: the level's devices start publishing, ${p.warmupS} s of warm-up, then a ${p.windowS} s window. Each device's readings are due ` +
            `once a period at its own phase (its gateway's slot: the gateway's schedule start plus the slot, told by the device worker), and a reading counts ` +
            `for the period it was published in (its message timestamp; the slots keep time, so a reading is never published before it is due, but for timers firing up to ${TIMER_EARLY_MS} ms early); ` +
            `a device-second is in time when its reading reached \`Aggregator.ingest\` (decoded, normalized, checked) less than ${PERIOD_MS} ms after it was ` +
            `published; a level passes when every device-second of the window is in time and no sample was dropped. devicesAt1Hz is the largest passing level ` +
            `(levels in order until the first miss, then up to ${p.refinements} bisection steps on a ${fmt(p.grid)}-device grid). Latency to group status: from the ` +
            `reading's publication (its message timestamp, taken when the gateway encodes it) to the first group status emitted after its ingestion (so it includes ` +
            `the wait for the 1 s status tick); transport latency: publication to ingestion. Levels run: ${levels.map((l) => `${fmt(l.n)} ${l.passed ? 'pass' : 'miss'}`).join('; ')}${failed.map((f) => `; ${fmt(f.n)} failed (${f.reason})`).join('')}${notRun.length ? `; not run: ${notRun.map(fmt).join(', ')}` : ''}.`,
        },
      ],
      figures: figures(levels, best).filter((f) => typeof metrics[f.key] === 'number'),
      metrics,
    };
  },
};

function figures(levels: readonly Level[], best: Level | null): Figure[] {
  const at = best ? `${fmt(best.n)} devices` : 'the smallest level (none passed)';
  const out: Figure[] = [
    { key: 'devicesAt1Hz', label: 'Devices publishing at 1 Hz, every reading in the core within the second', unit: 'devices', digits: 0, target: { op: '>=', value: TARGET_DEVICES, source: `${ISSUE}: ${fmt(TARGET_DEVICES)} devices` } },
    { key: 'latencyP50Ms', label: `Publish to group status, p50 at ${at}`, unit: 'ms', digits: 0 },
    { key: 'latencyP99Ms', label: `Publish to group status, p99 at ${at}`, unit: 'ms', digits: 0 },
    { key: 'transportP50Ms', label: `Publish to aggregator ingest, p50 at ${at}`, unit: 'ms', digits: 1 },
    { key: 'transportP99Ms', label: `Publish to aggregator ingest, p99 at ${at}`, unit: 'ms', digits: 1 },
  ];
  for (const l of levels) {
    const k = `n${l.n}`;
    out.push(
      { key: `${k}InTimePct`, label: `${fmt(l.n)} devices: readings in time${l.passed ? '' : ' (MISS)'}`, unit: '%', digits: 2 },
      { key: `${k}TransportP99Ms`, label: `${fmt(l.n)} devices: publish to ingest p99`, unit: 'ms', digits: 1 },
      { key: `${k}MessagesPerS`, label: `${fmt(l.n)} devices: messages through the broker`, unit: '/s', digits: 0 },
      { key: `${k}DermsEluPct`, label: `${fmt(l.n)} devices: DERMS thread busy`, unit: '%', digits: 0 },
      { key: `${k}BrokerEluPct`, label: `${fmt(l.n)} devices: broker thread busy`, unit: '%', digits: 0 },
      { key: `${k}DevicesEluPct`, label: `${fmt(l.n)} devices: device thread busy`, unit: '%', digits: 0 },
    );
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Broker (worker thread)

export interface BrokerInfo {
  readonly port: number;
}

export async function serveBroker(_arg: null, log: (m: string) => void): Promise<Service<BrokerInfo>> {
  const b = await EmbeddedBroker.start({ port: 0 });
  log(`openfmb: embedded broker on ${b.url}`);
  return { info: { port: b.port }, handlers: { elu: () => performance.eventLoopUtilization(), clients: () => b.connectedClients }, close: () => b.close() };
}

// ---------------------------------------------------------------------------------------------
// Devices (worker thread)

export interface DeviceHostArg {
  readonly count: number;
  readonly port: number;
  readonly seed: number;
}

export interface DeviceDiag {
  readonly readings: number;
  readonly slotsOffline: number;
  readonly slotsLate: number;
  readonly publishFailures: number;
  readonly disconnects: number;
}

export interface DeviceHostInfo {
  readonly ids: string[];
  readonly kinds: string[];
}

/**
 * `count` SimInverters stepped once a second; `start(n)` puts the first n on the broker behind
 * gateways of DEVICES_PER_GATEWAY, `stop()` takes them off again.
 */
export async function serveDevices(arg: DeviceHostArg, log: (m: string) => void): Promise<Service<DeviceHostInfo>> {
  const devices = Array.from({ length: arg.count }, (_, i) => new SimInverter(deviceSpec(derId('of', i), kindOf(i)), arg.seed + i));
  let t = T0;
  /** Devices on the broker now: only those are stepped after the warm-up. */
  let active = devices.length;
  const stepAll = (): void => {
    t += PERIOD_MS;
    for (let i = 0; i < active; i++) devices[i]!.step(t, PERIOD_MS / 1000, noonSky, 240, 60);
  };
  for (let k = 0; k < 30; k++) stepAll();
  active = 0;
  if (devices.some((d) => d.operating !== 'running')) throw new BenchFailure('devices: not every device is running after warm-up');
  const timer = setInterval(stepAll, PERIOD_MS);
  const broker: BrokerTarget = { tls: null, host: '127.0.0.1', port: arg.port, protocolVersion: 4 };
  let gateways: OpenFmbGateway[] = [];
  let run = 0;
  const stop = async (): Promise<void> => {
    await Promise.all(gateways.map((g) => g.close()));
    gateways = [];
  };
  log(`openfmb: device worker holds ${fmt(devices.length)} devices`);
  return {
    info: { ids: devices.map((d) => d.id), kinds: devices.map((d) => d.spec.kind) },
    handlers: {
      start: async (n: unknown) => {
        await stop();
        run++;
        active = n as number;
        const chunks: SimInverter[][] = [];
        for (let i = 0; i < (n as number); i += DEVICES_PER_GATEWAY) chunks.push(devices.slice(i, Math.min(n as number, i + DEVICES_PER_GATEWAY)));
        gateways = await Promise.all(
          chunks.map((c, k) =>
            OpenFmbGateway.start(
              c.map((device) => ({ device })),
              { broker, clientId: `bench-gw-${run}-${k}`, clock: asyncScheduler, readingPeriodMs: PERIOD_MS, statusPeriodMs: STATUS_PERIOD_MS, connectTimeoutMs: 30_000 },
            ),
          ),
        );
        return null;
      },
      stop,
      elu: () => performance.eventLoopUtilization(),
      /** Each started device's first reading due time (epoch ms). */
      phases: (): [string, number][] => gateways.flatMap((g) => g.readingSchedules().map((r): [string, number] => [r.mRID, r.firstDueMs])),
      /** What the gateways did: readings published, slots skipped while offline, publish failures, disconnects. */
      diag: (): DeviceDiag => ({
        readings: gateways.reduce((a, g) => a + g.stats.readings, 0),
        slotsOffline: gateways.reduce((a, g) => a + g.stats.slotsOffline, 0),
        slotsLate: gateways.reduce((a, g) => a + g.stats.slotsLate, 0),
        publishFailures: gateways.reduce((a, g) => a + g.stats.publishFailures, 0),
        disconnects: gateways.reduce((a, g) => a + g.connectionStats.disconnects, 0),
      }),
    },
    close: async () => {
      clearInterval(timer);
      await stop();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DERMS side (main thread)

interface Level {
  readonly n: number;
  readonly expected: number;
  readonly inTime: number;
  readonly late: number;
  readonly missing: number;
  readonly passed: boolean;
  readonly transportP50: number;
  readonly transportP99: number;
  readonly transportMax: number;
  readonly e2eP50: number;
  readonly e2eP99: number;
  readonly dermsElu: number;
  readonly brokerElu: number;
  readonly devicesElu: number;
  readonly messagesPerS: number;
  readonly dropped: number;
  readonly wireProblems: number;
  readonly doubled: number;
  /** Over the window, on the device side: readings published, slots skipped while a gateway was offline, failed publishes, gateway disconnects. */
  readonly publishedReadings: number;
  readonly slotsOffline: number;
  readonly slotsLate: number;
  readonly publishFailures: number;
  readonly deviceDisconnects: number;
}

async function runLevel(n: number, broker: ServiceHandle<BrokerInfo>, devices: ServiceHandle<DeviceHostInfo>, p: OpenFmbParams, log: (m: string) => void): Promise<Level> {
  const ids = devices.info.ids.slice(0, n);
  const kinds = devices.info.kinds.slice(0, n) as ('pv' | 'battery' | 'hybrid')[];
  const registry = new Registry();
  ids.forEach((id, i) => registry.addDer(derOf(id, kinds[i]!)));
  for (let g = 0; g * GROUP_SIZE < n; g++) registry.createGroup({ mRID: derId('group-', g, 4), names: [`Group ${g}`], members: ids.slice(g * GROUP_SIZE, (g + 1) * GROUP_SIZE) });
  const aggregator = new Aggregator(registry, asyncScheduler, { statusIntervalMs: 1000, pollPeriodMs: PERIOD_MS, staleAfterPolls: 3 }).start();
  const hub = new TelemetryHub(aggregator);
  const bus = new OpenFmbBus({ broker: { tls: null, host: '127.0.0.1', port: broker.info.port, protocolVersion: 4 }, clientId: `bench-derms-${n}-${Date.now()}`, clock: asyncScheduler });
  await bus.whenReady(10_000);
  const index = new Map(ids.map((id, i) => [id, i]));
  const adapters = ids.map((id, i) => {
    const kind = kinds[i]!;
    const a = new OpenFmbAdapter(id, { mRID: id, module: moduleOf(kind) }, bus, asyncScheduler, { readingPeriodMs: PERIOD_MS, kind, ratings: registry.requireDer(id).nameplate });
    hub.attach(a);
    return a;
  });

  // Measure at the aggregator. Each device publishes once a period at its own phase (its slot in
  // its gateway's second, as the gateway schedules it), so its k-th reading is due at ref + k
  // periods and is published at or after that (never before: the slots keep time); a reading
  // counts for the period it was published in, and a device-second of the window is in time when
  // its reading was published in it and reached the core less than a period after publication.
  let windowStart = Infinity;
  const ref = new Float64Array(n).fill(Number.NaN);
  const reported = new Uint8Array(n);
  const first = new Float64Array(n);
  const seen = new Uint8Array(n * p.windowS);
  const transport: number[] = [];
  const e2e: number[] = [];
  let pendingPub: number[] = [];
  let late = 0;
  /** Readings published in a device-second that already had one (cannot happen while the gateways keep time). */
  let doubled = 0;
  let reporting = 0;
  const ingest = aggregator.ingest.bind(aggregator);
  aggregator.ingest = (s: TelemetrySample): void => {
    const now = Date.now();
    ingest(s);
    const i = index.get(s.derId)!;
    const pub = s.timestamp;
    if (reported[i] === 0) {
      reported[i] = 1;
      reporting++;
    }
    if (windowStart === Infinity) return;
    const j = Math.floor((pub - ref[i]! + TIMER_EARLY_MS) / PERIOD_MS) - first[i]!;
    if (j < 0 || j >= p.windowS) return;
    const lat = now - pub;
    transport.push(lat);
    pendingPub.push(pub);
    if (lat >= PERIOD_MS) late++;
    else if (seen[i * p.windowS + j] === 1) doubled++;
    else seen[i * p.windowS + j] = 1;
  };
  const statusSub: Subscription = aggregator.status$.subscribe(() => {
    if (pendingPub.length === 0) return;
    const now = Date.now();
    for (const pub of pendingPub) e2e.push(now - pub);
    pendingPub = [];
  });

  log(`openfmb: ${fmt(n)} devices: DERMS side ready, starting the devices`);
  const t0 = nowMs();
  await devices.call('start', n);
  // Every device in the core (its capability, status and a reading through), then the warm-up.
  while (reporting < n) {
    if (nowMs() - t0 > 120_000) throw new BenchFailure(`${fmt(n)} devices: only ${fmt(reporting)} reported within 120 s of starting`);
    await new Promise((r) => setTimeout(r, 100));
  }
  log(`openfmb: ${fmt(n)} devices: all reporting ${((nowMs() - t0) / 1000).toFixed(1)} s after starting`);
  for (const [id, due] of await devices.call<[string, number][]>('phases')) {
    const i = index.get(id);
    if (i !== undefined) ref[i] = due;
  }
  if (ref.some((x) => Number.isNaN(x))) throw new BenchFailure(`${fmt(n)} devices: the device worker did not give every device's reading schedule`);
  await new Promise((r) => setTimeout(r, p.warmupS * 1000));
  const elu0 = performance.eventLoopUtilization();
  const brokerElu0 = await broker.call<EventLoopUtilization>('elu');
  const devElu0 = await devices.call<EventLoopUtilization>('elu');
  const received0 = bus.stats.received;
  const diag0 = await devices.call<DeviceDiag>('diag');
  const w0 = nowMs();
  windowStart = Date.now() + 50;
  for (let i = 0; i < n; i++) first[i] = Number.isNaN(ref[i]!) ? Infinity : Math.ceil((windowStart - ref[i]!) / PERIOD_MS);
  await new Promise((r) => setTimeout(r, p.windowS * PERIOD_MS + 50));
  const wallS = (nowMs() - w0) / 1000;
  const dermsElu = performance.eventLoopUtilization(elu0).utilization;
  const brokerElu = performance.eventLoopUtilization(await broker.call<EventLoopUtilization>('elu'), brokerElu0).utilization;
  const devicesElu = performance.eventLoopUtilization(await devices.call<EventLoopUtilization>('elu'), devElu0).utilization;
  const messagesPerS = (bus.stats.received - received0) / wallS;
  const diag1 = await devices.call<DeviceDiag>('diag');
  // The readings due in the window's last period may still be on their way.
  await new Promise((r) => setTimeout(r, 2 * PERIOD_MS));
  await devices.call('stop');
  statusSub.unsubscribe();
  const inTime = seen.reduce((a, b) => a + b, 0);
  const expected = n * p.windowS;
  const dropped = aggregator.droppedSamples;
  const samples = adapters.reduce((a, x) => a + x.stats.samples, 0);
  const wireProblems = bus.problems.counts.malformed + bus.problems.counts.mismatch;
  await Promise.all(adapters.map((a) => a.close()));
  await bus.close();
  hub.stop();
  aggregator.stop();
  if (samples === 0) {
    throw new BenchFailure(`${fmt(n)} devices: no reading reached the core (bus ${JSON.stringify(bus.stats)}, problems ${JSON.stringify(bus.problems.counts)}, samples ${fmt(samples)}, dropped ${dropped})`);
  }
  return {
    n,
    expected,
    inTime,
    late,
    missing: expected - inTime - late,
    passed: inTime === expected && dropped === 0,
    transportP50: median(transport),
    transportP99: percentile(transport, 99),
    transportMax: transport.reduce((a, b) => (b > a ? b : a), 0),
    e2eP50: e2e.length ? median(e2e) : NaN,
    e2eP99: e2e.length ? percentile(e2e, 99) : NaN,
    dermsElu,
    brokerElu,
    devicesElu,
    messagesPerS,
    dropped,
    wireProblems,
    doubled,
    publishedReadings: diag1.readings - diag0.readings,
    slotsOffline: diag1.slotsOffline - diag0.slotsOffline,
    slotsLate: diag1.slotsLate - diag0.slotsLate,
    publishFailures: diag1.publishFailures - diag0.publishFailures,
    deviceDisconnects: diag1.disconnects - diag0.disconnects,
  };
}

function derOf(id: string, kind: 'pv' | 'battery' | 'hybrid'): DerInput {
  const spec = deviceSpec(id, kind);
  return { mRID: id, name: id, kind, nameplate: spec.nameplate, endpoint: { protocol: 'openfmb', equipmentMRID: id, module: moduleOf(kind) } };
}
