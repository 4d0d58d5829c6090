import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { SunSpecClient } from '../../src/adapters/sunspec/client.js';
import { ModbusTcpPool } from '../../src/adapters/sunspec/modbus-tcp.js';
import type { RegisterTransport } from '../../src/adapters/sunspec/modbus-transport.js';
import { capabilitiesFrom, sampleFrom, type SunSpecCapabilities } from '../../src/adapters/sunspec/semantics.js';
import { scan } from '../../src/cli/sunspec-commands.js';
import { ModelRegistry } from '../../src/protocols/sunspec/index.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { SunSpecServers } from '../../src/sim/sunspec/server.js';
import { type BenchKind, derId, kindIndex, kindOf } from '../lib/fleet.js';
import { fileDescriptorLimit, fmt, machine, maxOf, median, nowMs, pct, percentile, round, settle } from '../lib/measure.js';
import { startService, type Service, type ServiceHandle } from '../lib/service.js';
import { deviceSpec, noonSky } from '../lib/sim-devices.js';
import { BenchFailure, type Figure, type Suite, type SuiteOptions, type SuiteResult } from '../lib/types.js';

const ISSUE = 'issue target';
/** This module, for `startService`: the devices are served from a worker thread. */
const self = import.meta.url;

/** The target: this many SunSpec devices polled at 1 Hz, simulator and DERMS on this machine. */
const TARGET_DEVICES = 5_000;
/** The models SunSpecAdapter polls when the device has them (its POLLED list). */
const POLLED = [701, 713, 101, 102, 103, 111, 112, 113, 122, 124];
const PERIOD_MS = 1000;
const REQUEST_TIMEOUT_MS = 2000;
/** Discoveries in flight at once while connecting a level's devices (setup, not timed). */
const SETUP_CONCURRENCY = 512;
const T0 = Date.UTC(2026, 5, 21, 18);

type Mode = 'gateway' | 'port';
/**
 * Requests in flight per connection for the pipelined sweep (`derms start --modbus-inflight N`);
 * the headline sweep runs the default, 1.
 */
const PIPELINE = Number(process.env['BENCH_SUNSPEC_INFLIGHT'] ?? 8);

/** Device counts to try in order until one misses, then bisection steps between the last pass and the miss. */
interface SweepPlan {
  readonly levels: readonly number[];
  /** Bisection levels are multiples of this. */
  readonly grid: number;
  readonly refinements: number;
}

interface SunSpecParams {
  /** Gateway mode with the adapter's defaults: one connection per gateway port, one request in flight. */
  readonly gateway: SweepPlan;
  /** Gateway again, PIPELINE requests in flight per connection. */
  readonly pipelined: SweepPlan;
  readonly port: SweepPlan;
  readonly warmupS: number;
  readonly windowS: number;
  readonly scanRuns: number;
  /** Stop refining or adding levels once the suite has run this long. */
  readonly budgetS: number;
}

export const sunspecSuite: Suite = {
  name: 'sunspec',
  title: 'SunSpec Modbus TCP: simulated devices polled at 1 Hz',
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const started = nowMs();
    const fdCap = fileDescriptorLimit();
    // Sockets a level needs: both ends of each connection (one per gateway port of 247 units, or one per device).
    const cap = (levels: number[], perConnection: number, unitsPerConnection: number): number[] => levels.filter((n) => Math.ceil(n / unitsPerConnection) * perConnection + 500 <= fdCap);
    const p: SunSpecParams = {
      gateway: { levels: cap(opts.quick ? [250, 500, 1000] : [1000, 2000, 4000, 5000, 6000, 7000, 8000, 10000, 12000], 2, 247), grid: 500, refinements: opts.quick ? 0 : 2 },
      pipelined: { levels: cap(opts.quick ? [1000] : [8000, 12000, 16000, 20000], 2, 247), grid: 1000, refinements: opts.quick ? 0 : 1 },
      port: { levels: cap(opts.quick ? [250] : [1000, 2000], 3, 1), grid: 500, refinements: 0 },
      warmupS: 1,
      windowS: opts.samples ?? (opts.quick ? 3 : 10),
      scanRuns: opts.runs ?? (opts.quick ? 3 : 5),
      budgetS: opts.quick ? 60 : 720,
    };
    const log = opts.log;
    const elapsedS = (): number => (nowMs() - started) / 1000;
    if (!p.gateway.levels.length || !p.port.levels.length || !p.pipelined.levels.length) {
      throw new BenchFailure(`the open-file limit (${fdCap}) leaves too few sockets for the smallest levels; raise it (ulimit -n)`);
    }

    // Gateway mode: devices behind gateway ports (247 unit ids each), served from a worker thread.
    // One device worker serves both gateway sweeps: as many devices as the larger one polls.
    const gwCount = Math.max(...p.gateway.levels, ...p.pipelined.levels);
    log(`sunspec: starting ${fmt(gwCount)} simulated devices behind gateway ports in a worker thread`);
    const gw = await startService<DeviceHostArg, DeviceHostInfo>(self, 'serveDevices', { count: gwCount, mode: 'gateway', seed: 7 }, log);
    let scanRes: ScanResult;
    let gateway: Sweep;
    let pipelined: Sweep | null = null;
    try {
      log(`sunspec: ${fmt(gwCount)} devices on ${gw.info.ports} gateway ports, ready in ${(gw.info.startMs / 1000).toFixed(1)} s`);
      scanRes = await benchScan(gw.info.endpoints[kindIndex(gw.info.endpoints, 'battery')]!.url, p.scanRuns, log);
      gateway = await sweep('gateway', 1, gw, p.gateway, p, elapsedS, log);
      if (elapsedS() < p.budgetS) {
        await settle(1000);
        pipelined = await sweep('gateway', PIPELINE, gw, p.pipelined, p, elapsedS, log);
      } else log('sunspec: time budget spent; the pipelined gateway sweep skipped');
    } finally {
      await gw.stop();
    }

    let port: Sweep | null = null;
    if (elapsedS() < p.budgetS) {
      const portCount = Math.max(...p.port.levels);
      log(`sunspec: starting ${fmt(portCount)} simulated devices, one TCP port each, in a worker thread`);
      const ph = await startService<DeviceHostArg, DeviceHostInfo>(self, 'serveDevices', { count: portCount, mode: 'port', seed: 7 }, log);
      try {
        port = await sweep('port', 1, ph, p.port, p, elapsedS, log);
      } finally {
        await ph.stop();
      }
    } else log('sunspec: time budget spent; port-mode sweep skipped');

    const best = gateway.best ?? gateway.levels[0]!;
    const metrics: Record<string, number | number[]> = {
      devicesAt1Hz: gateway.best?.n ?? 0,
      pollLatencyP50Ms: round(best.p50, 2),
      pollLatencyP99Ms: round(best.p99, 2),
      scanSeconds: round(scanRes.median, 4),
      scanSecondsFirst: round(scanRes.first, 4),
      scanModels: scanRes.models,
      ...sweepMetrics('gw', gateway),
      ...(pipelined ? sweepMetrics('pipe', pipelined) : {}),
      ...(port ? sweepMetrics('port', port) : {}),
      discoveryMsPerDevice: round(gateway.setupMsPerDevice, 2),
    };

    return {
      schema: 1,
      suite: 'sunspec',
      title: sunspecSuite.title,
      date: new Date().toISOString(),
      machine: machine(),
      params: {
        profile: '700',
        gatewayLevels: p.gateway.levels.join(','),
        portLevels: port ? p.port.levels.join(',') : 'skipped',
        pipelinedLevels: pipelined ? p.pipelined.levels.join(',') : 'skipped',
        maxInFlight: PIPELINE,
        warmupS: p.warmupS,
        windowS: p.windowS,
        periodMs: PERIOD_MS,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
        scanRuns: p.scanRuns,
        fileDescriptorLimit: fdCap,
        quick: opts.quick,
      },
      threading:
        'Two threads: the simulated devices and their SunSpec Modbus TCP servers run in one worker thread, the DERMS side ' +
        '(connections, SunSpec clients, polling, decoding) on Node\'s main thread, so each side can have a core; V8\'s garbage ' +
        'collector may use helper threads.',
      workloads: workloads(p, gateway, pipelined, port, scanRes),
      figures: figures(gateway, pipelined, port).filter((f) => typeof metrics[f.key] === 'number'),
      metrics,
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Device side (worker thread)

export interface DeviceHostArg {
  readonly count: number;
  readonly mode: Mode;
  readonly seed: number;
}

export interface DeviceEndpoint {
  readonly id: string;
  readonly kind: BenchKind;
  readonly host: string;
  readonly port: number;
  readonly unit: number;
  readonly url: string;
}

export interface DeviceHostInfo {
  readonly endpoints: DeviceEndpoint[];
  readonly ports: number;
  readonly startMs: number;
}

/**
 * The device side, in a worker: `count` SimInverters (60 % PV, 25 % battery, 15 % hybrid) served
 * with profile 700 by `SunSpecServers`, stepped once a second in real time under a clear noon sky.
 */
export async function serveDevices(arg: DeviceHostArg, log: (m: string) => void): Promise<Service<DeviceHostInfo>> {
  const t0 = nowMs();
  const devices = Array.from({ length: arg.count }, (_, i) => new SimInverter(deviceSpec(derId('ss', i), kindOf(i)), arg.seed + i));
  let t = T0;
  const stepAll = (): void => {
    t += PERIOD_MS;
    for (const d of devices) d.step(t, PERIOD_MS / 1000, noonSky, 240, 60);
  };
  for (let k = 0; k < 30; k++) stepAll(); // out of start-up: every device running
  if (devices.some((d) => d.operating !== 'running')) throw new BenchFailure('devices: not every device is running after warm-up');
  const servers = await SunSpecServers.start(devices.map((device) => ({ device, profile: '700' as const, mode: arg.mode })));
  const stepMs: number[] = [];
  const timer = setInterval(() => {
    const s = nowMs();
    stepAll();
    stepMs.push(nowMs() - s);
  }, PERIOD_MS);
  const byId = new Map(servers.endpoints().map((e) => [e.mRID, e]));
  const endpoints = devices.map((d, i): DeviceEndpoint => {
    const e = byId.get(d.id);
    if (!e) throw new BenchFailure(`devices: ${d.id} is not served`);
    return { id: d.id, kind: kindOf(i), host: e.host, port: e.port, unit: e.unit, url: e.url };
  });
  const ports = new Set(endpoints.map((e) => e.port)).size;
  log(`sunspec: device worker serves ${fmt(devices.length)} devices (${arg.mode}) on ${ports} port(s)`);
  return {
    info: { endpoints, ports, startMs: nowMs() - t0 },
    handlers: {
      elu: () => performance.eventLoopUtilization(),
      stepMs: () => (stepMs.length ? median(stepMs) : 0),
    },
    close: async () => {
      clearInterval(timer);
      await servers.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DERMS side (main thread)

interface Polled {
  readonly ep: DeviceEndpoint;
  readonly client: SunSpecClient;
  readonly caps: SunSpecCapabilities;
  readonly models: readonly number[];
  busy: boolean;
}

interface Level {
  readonly n: number;
  readonly expected: number;
  readonly ok: number;
  readonly late: number;
  readonly skipped: number;
  readonly failed: number;
  readonly passed: boolean;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Poll issued after its due time, p99 (the DERMS thread's timer lateness). */
  readonly issueLagP99: number;
  /** Event-loop utilization of the DERMS (main) thread and the device thread over the window, 0..1. */
  readonly dermsElu: number;
  readonly devicesElu: number;
  /** CPU seconds of the whole process per wall second over the window. */
  readonly cpuCores: number;
  readonly firstError: string | null;
}

interface Sweep {
  readonly mode: Mode;
  /** Requests in flight per connection. */
  readonly maxInFlight: number;
  readonly levels: Level[];
  readonly best: Level | null;
  readonly connections: number;
  readonly setupMsPerDevice: number;
  /** Devices the worker serves (and steps), polled or not. */
  readonly served: number;
  /** Levels of the plan not run because the suite's time budget was spent. */
  readonly notRun: readonly number[];
  readonly stepMs: number;
}

/** Poll ever more devices until a level misses; then bisect between the last pass and the miss. */
async function sweep(mode: Mode, maxInFlight: number, host: ServiceHandle<DeviceHostInfo>, plan: SweepPlan, p: SunSpecParams, elapsedS: () => number, log: (m: string) => void): Promise<Sweep> {
  const registry = new ModelRegistry();
  const devs: Polled[] = [];
  // As SunSpecAdapter opens devices: one connection per host:port, shared by the units behind it.
  const pool = new ModbusTcpPool({ maxInFlight });
  const open = (ep: DeviceEndpoint): Promise<RegisterTransport> => pool.open({ host: ep.host, port: ep.port, unit: ep.unit }, REQUEST_TIMEOUT_MS);
  const out: Level[] = [];
  const notRun: number[] = [];
  let setupMs = 0;
  const label = `${mode}, ${maxInFlight} in flight per connection`;
  const runAt = async (n: number): Promise<Level> => {
    if (devs.length < n) {
      const s = nowMs();
      devs.push(...(await connectAll(host.info.endpoints.slice(devs.length, n), registry, open)));
      setupMs += nowMs() - s;
      log(`sunspec: ${label}: ${fmt(n)} devices connected and discovered (${((nowMs() - s) / 1000).toFixed(1)} s)`);
    }
    const r = await pollLevel(devs.slice(0, n), host, p);
    log(
      `sunspec: ${label}: ${fmt(n)} devices at 1 Hz: ${r.passed ? 'PASS' : 'MISS'} ${pct(r.ok / r.expected)} in time ` +
        `(late ${r.late}, skipped ${r.skipped}, failed ${r.failed}), latency p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms, ` +
        `ELU DERMS ${pct(r.dermsElu)} devices ${pct(r.devicesElu)}, ${r.cpuCores.toFixed(2)} cores${r.firstError ? `; first error: ${r.firstError}` : ''}`,
    );
    out.push(r);
    return r;
  };
  try {
    let lastPass = 0;
    let miss = 0;
    for (const n of plan.levels) {
      if (out.length > 0 && elapsedS() > p.budgetS) {
        log(`sunspec: ${label}: time budget spent; stopping before ${fmt(n)}`);
        notRun.push(...plan.levels.filter((x) => x >= n));
        break;
      }
      const r = await runAt(n);
      if (!r.passed) {
        miss = n;
        break;
      }
      lastPass = n;
    }
    for (let k = 0; k < plan.refinements && miss > 0 && elapsedS() < p.budgetS; k++) {
      const mid = Math.round((lastPass + miss) / 2 / plan.grid) * plan.grid;
      if (mid <= lastPass || mid >= miss) break;
      await settle(1000);
      if ((await runAt(mid)).passed) lastPass = mid;
      else miss = mid;
    }
  } finally {
    await Promise.all(devs.map((d) => d.client.close().catch(() => undefined)));
    await pool.close();
  }
  const passing = out.filter((l) => l.passed).sort((a, b) => b.n - a.n);
  return {
    mode,
    maxInFlight,
    levels: out.sort((a, b) => a.n - b.n),
    best: passing[0] ?? null,
    connections: new Set(devs.map((d) => d.ep.port)).size,
    setupMsPerDevice: devs.length ? setupMs / devs.length : 0,
    served: host.info.endpoints.length,
    notRun,
    stepMs: await host.call<number>('stepMs'),
  };
}

/**
 * Connect and discover each device, as SunSpecAdapter does on connect (discovery, one read of
 * every model for its capabilities), `SETUP_CONCURRENCY` at a time. Not timed as polling.
 */
async function connectAll(eps: readonly DeviceEndpoint[], registry: ModelRegistry, open: (ep: DeviceEndpoint) => Promise<RegisterTransport>): Promise<Polled[]> {
  const out = new Array<Polled>(eps.length);
  const all = { items: eps.map((_, i) => i), next: 0 };
  const workers = Array.from({ length: Math.min(SETUP_CONCURRENCY, eps.length) }, () => all);
  const worker = async (q: { items: number[]; next: number }): Promise<void> => {
    while (q.next < q.items.length) {
      const i = q.items[q.next++]!;
      const ep = eps[i]!;
      const transport = await open(ep);
      const client = await SunSpecClient.discover(transport, registry);
      const values = await client.readValues([...client.models.keys()]);
      const caps = capabilitiesFrom(values);
      const models = POLLED.filter((id) => client.has(id));
      const want = ep.kind === 'pv' ? [701] : [701, 713];
      if (models.join() !== want.join()) throw new BenchFailure(`${ep.id} (${ep.kind}): polls models ${models.join(', ')}, expected ${want.join(', ')}`);
      out[i] = { ep, client, caps, models, busy: false };
    }
  };
  await Promise.all(workers.map(worker));
  return out;
}

/**
 * Poll `devs` at 1 Hz for `warmupS + windowS` seconds, the i-th device due at i/n of each second
 * (uniformly staggered; ordered by unit id, then port, so that the units behind one gateway port
 * are spread over the second rather than due in one burst), one poll in flight per device (a poll due while the last is still out is
 * skipped, as SunSpecAdapter skips it). Counts the window's device-seconds whose poll completed
 * (decoded into a TelemetrySample) before the device's next poll was due.
 */
async function pollLevel(polled: readonly Polled[], host: ServiceHandle<DeviceHostInfo>, p: SunSpecParams): Promise<Level> {
  const devs = [...polled].sort((a, b) => a.ep.unit - b.ep.unit || a.ep.port - b.ep.port);
  const n = devs.length;
  const total = (p.warmupS + p.windowS) * n;
  const firstMeasured = p.warmupS * n;
  const expected = p.windowS * n;
  const period = PERIOD_MS / n;
  const lat = new Float64Array(expected);
  const lag = new Float64Array(expected);
  let nLat = 0;
  let nLag = 0;
  let ok = 0;
  let late = 0;
  let skipped = 0;
  let failed = 0;
  let firstError: string | null = null;
  let inFlight = 0;
  await settle(200);
  const start = nowMs() + 20;

  const issue = (j: number): void => {
    const i = j % n;
    const due = start + j * period;
    const measured = j >= firstMeasured;
    const d = devs[i]!;
    const issued = nowMs();
    if (measured) lag[nLag++] = issued - due;
    if (d.busy) {
      if (measured) skipped++;
      return;
    }
    d.busy = true;
    inFlight++;
    d.client.poll(d.models).then(
      (values) => {
        const s = sampleFrom(d.ep.id, Date.now(), values, d.caps);
        const done = nowMs();
        d.busy = false;
        inFlight--;
        if (!measured) return;
        if (!s || !Number.isFinite(s.w) || (d.ep.kind !== 'pv' && s.soc === undefined)) {
          failed++;
          firstError ??= `${d.ep.id}: no usable sample`;
          return;
        }
        lat[nLat++] = done - issued;
        if (done <= due + PERIOD_MS) ok++;
        else late++;
      },
      (e: unknown) => {
        d.busy = false;
        inFlight--;
        if (!measured) return;
        failed++;
        firstError ??= e instanceof Error ? e.message : String(e);
      },
    );
  };

  let elu0: EventLoopUtilization | null = null;
  let devElu0: Promise<EventLoopUtilization> | null = null;
  let cpu0: NodeJS.CpuUsage | null = null;
  let w0 = 0;
  let j = 0;
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      const now = nowMs();
      while (j < total && start + j * period <= now) {
        if (j === firstMeasured) {
          elu0 = performance.eventLoopUtilization();
          devElu0 = host.call<EventLoopUtilization>('elu');
          cpu0 = process.cpuUsage();
          w0 = nowMs();
        }
        issue(j++);
      }
      if (j < total) setTimeout(pump, Math.max(0, start + j * period - nowMs()));
      else resolve();
    };
    setTimeout(pump, Math.max(0, start - nowMs()));
  });
  const wall = nowMs() - w0;
  const dermsElu = performance.eventLoopUtilization(elu0!).utilization;
  const devEnd = await host.call<EventLoopUtilization>('elu');
  const devStart = await devElu0!;
  const devicesElu = (devEnd.active - devStart.active) / (devEnd.active + devEnd.idle - devStart.active - devStart.idle);
  const cpu = process.cpuUsage(cpu0!);
  const cpuCores = (cpu.user + cpu.system) / 1000 / wall;
  // Let the last polls finish (a late one still counts as late, not as missing).
  const drainUntil = nowMs() + REQUEST_TIMEOUT_MS + 1000;
  while (inFlight > 0 && nowMs() < drainUntil) await settle(10);
  const lats = Array.from(lat.subarray(0, nLat));
  const lags = Array.from(lag.subarray(0, nLag));
  return {
    n,
    expected,
    ok,
    late,
    skipped,
    failed,
    passed: ok === expected,
    p50: percentile(lats, 50),
    p99: percentile(lats, 99),
    max: maxOf(lats),
    issueLagP99: percentile(lags, 99),
    dermsElu,
    devicesElu,
    cpuCores,
    firstError,
  };
}

// ---------------------------------------------------------------------------------------------
// derms scan

interface ScanResult {
  readonly median: number;
  readonly first: number;
  readonly runs: number[];
  readonly models: number;
  readonly url: string;
}

/** `derms scan URL --json` (the CLI's `scan` function, output captured), timed around the call. */
async function benchScan(url: string, runs: number, log: (m: string) => void): Promise<ScanResult> {
  const times: number[] = [];
  let models = 0;
  for (let k = 0; k < runs; k++) {
    const lines: string[] = [];
    const t = nowMs();
    await scan(url, { json: true, timeoutMs: REQUEST_TIMEOUT_MS, out: (line) => lines.push(line) });
    times.push((nowMs() - t) / 1000);
    const parsed = JSON.parse(lines.join('\n')) as { models: { id: number; known: boolean; points: Record<string, unknown> | null }[] };
    const known = parsed.models.filter((m) => m.known && m.points);
    if (known.length !== parsed.models.length || !parsed.models.some((m) => m.id === 713)) {
      throw new BenchFailure(`scan: ${known.length} of ${parsed.models.length} models decoded (${parsed.models.map((m) => m.id).join(', ')})`);
    }
    models = parsed.models.length;
  }
  const med = median(times);
  log(`sunspec: derms scan ${url}: ${models} models, median ${(med * 1000).toFixed(1)} ms of ${runs} (first ${(times[0]! * 1000).toFixed(1)} ms)`);
  return { median: med, first: times[0]!, runs: times, models, url };
}

// ---------------------------------------------------------------------------------------------
// Reporting

function sweepMetrics(prefix: string, s: Sweep): Record<string, number | number[]> {
  const m: Record<string, number | number[]> = {
    [`${prefix}Levels`]: s.levels.map((l) => l.n),
    [`${prefix}Passed`]: s.levels.map((l) => (l.passed ? 1 : 0)),
    [`${prefix}CompletionRatio`]: s.levels.map((l) => round(l.ok / l.expected, 5)),
    [`${prefix}LatencyP50Ms`]: s.levels.map((l) => round(l.p50, 2)),
    [`${prefix}LatencyP99Ms`]: s.levels.map((l) => round(l.p99, 2)),
    [`${prefix}DevicesAt1Hz`]: s.best?.n ?? 0,
    [`${prefix}Connections`]: s.connections,
    [`${prefix}DeviceStepMs`]: round(s.stepMs, 2),
  };
  for (const l of s.levels) {
    const k = `${prefix}${l.n}`;
    m[`${k}Passed`] = l.passed ? 1 : 0;
    m[`${k}CompletedPct`] = round((100 * l.ok) / l.expected, 3);
    m[`${k}P50Ms`] = round(l.p50, 2);
    m[`${k}P99Ms`] = round(l.p99, 2);
    m[`${k}MaxMs`] = round(l.max, 1);
    m[`${k}Late`] = l.late;
    m[`${k}Skipped`] = l.skipped;
    m[`${k}Failed`] = l.failed;
    m[`${k}IssueLagP99Ms`] = round(l.issueLagP99, 2);
    m[`${k}DermsEluPct`] = round(100 * l.dermsElu, 1);
    m[`${k}DevicesEluPct`] = round(100 * l.devicesElu, 1);
    m[`${k}CpuCores`] = round(l.cpuCores, 2);
  }
  return m;
}

function figures(gateway: Sweep, pipelined: Sweep | null, port: Sweep | null): Figure[] {
  const out: Figure[] = [
    { key: 'devicesAt1Hz', label: `Devices polled at 1 Hz, every poll in time (gateway mode, ${gateway.maxInFlight} in flight per connection)`, unit: 'devices', digits: 0, target: { op: '>=', value: TARGET_DEVICES, source: `${ISSUE}: ${fmt(TARGET_DEVICES)} devices at 1 Hz, simulator and DERMS on one machine` } },
    { key: 'pollLatencyP50Ms', label: `Poll latency p50 at ${gateway.best ? `${fmt(gateway.best.n)} devices` : 'the smallest level (none passed)'}`, unit: 'ms', digits: 2 },
    { key: 'pollLatencyP99Ms', label: `Poll latency p99 at ${gateway.best ? `${fmt(gateway.best.n)} devices` : 'the smallest level (none passed)'}`, unit: 'ms', digits: 2 },
    { key: 'scanSeconds', label: 'derms scan of one device (median)', unit: 's', digits: 3 },
    { key: 'scanSecondsFirst', label: 'derms scan, first (cold) run', unit: 's', digits: 3 },
  ];
  /** Per level: polls in time and latency; with `busy`, each thread's event-loop utilization too. */
  const levelFigures = (prefix: string, s: Sweep, what: string, busy: boolean): Figure[] =>
    s.levels.flatMap((l): Figure[] => [
      { key: `${prefix}${l.n}CompletedPct`, label: `${what}, ${fmt(l.n)} devices: polls in time${l.passed ? '' : ' (MISS)'}`, unit: '%', digits: 2 },
      { key: `${prefix}${l.n}P50Ms`, label: `${what}, ${fmt(l.n)} devices: latency p50`, unit: 'ms', digits: 2 },
      { key: `${prefix}${l.n}P99Ms`, label: `${what}, ${fmt(l.n)} devices: latency p99`, unit: 'ms', digits: 2 },
      ...(busy
        ? [
            { key: `${prefix}${l.n}DermsEluPct`, label: `${what}, ${fmt(l.n)} devices: DERMS thread busy (event-loop utilization)`, unit: '%', digits: 0 },
            { key: `${prefix}${l.n}DevicesEluPct`, label: `${what}, ${fmt(l.n)} devices: device thread busy`, unit: '%', digits: 0 },
          ]
        : []),
    ]);
  out.push(...levelFigures('gw', gateway, 'Gateway', true));
  if (port) {
    out.push({ key: 'portDevicesAt1Hz', label: `Devices at 1 Hz, one TCP port per device (tried up to ${fmt(Math.max(...port.levels.map((l) => l.n)))})`, unit: 'devices', digits: 0 });
    out.push(...levelFigures('port', port, 'Port mode', false));
  }
  if (pipelined) {
    out.push({ key: 'pipeDevicesAt1Hz', label: `Devices at 1 Hz, gateway mode, ${pipelined.maxInFlight} requests in flight per connection (--modbus-inflight ${pipelined.maxInFlight})`, unit: 'devices', digits: 0 });
    out.push(...levelFigures('pipe', pipelined, `Gateway, ${pipelined.maxInFlight} in flight`, true));
  }
  out.push({ key: 'discoveryMsPerDevice', label: `Connect + discover + first full read, per device (setup, ${SETUP_CONCURRENCY} at a time)`, unit: 'ms', digits: 2 });
  out.push({ key: 'gwDeviceStepMs', label: `Stepping all ${fmt(gateway.served)} served devices once (device thread, median)`, unit: 'ms', digits: 2 });
  return out;
}

function workloads(p: SunSpecParams, gateway: Sweep, pipelined: Sweep | null, port: Sweep | null, s: ScanResult): { name: string; description: string }[] {
  const levels = (sw: Sweep): string =>
    [
      ...sw.levels.map((l) => `${fmt(l.n)} ${l.passed ? 'pass' : `miss (${pct(l.ok / l.expected)} in time, ${l.late} late, ${l.skipped} skipped, ${l.failed} failed)`}`),
      ...sw.notRun.map((n) => `${fmt(n)} not run (time budget)`),
    ].join('; ');
  const out = [
    {
      name: 'Devices at 1 Hz (devicesAt1Hz, pollLatencyP50Ms, pollLatencyP99Ms)',
      description:
        `Simulator and DERMS both on this machine, over loopback TCP. Device side, in a worker thread: \`SimInverter\`s (60 % 10 kW PV, ` +
        `25 % 5 kW / 13.5 kWh battery, 15 % 7.6 kW hybrid), warmed up 30 s under a clear noon sky and stepped once a second in real time, ` +
        `served with SunSpec profile '700' by \`SunSpecServers.start\` in mode 'gateway' (247 unit ids per TCP port; modbus-serial \`ServerTCP\`). ` +
        `DERMS side, on the main thread: each device opened as \`SunSpecAdapter\` opens it, through a \`ModbusTcpPool\` ` +
        `(src/adapters/sunspec/modbus-tcp.ts; timeout ${REQUEST_TIMEOUT_MS} ms): **one TCP connection per gateway port, shared by the ` +
        `up to 247 units behind it** (${gateway.connections} connections at the largest level), each request carrying its unit id and a ` +
        `transaction id, **${gateway.maxInFlight === 1 ? 'one request' : `up to ${gateway.maxInFlight} requests`} in flight per connection** ` +
        `(the adapter's default \`maxInFlight\`; the others wait their turn; requests written in one tick leave in one write), then \`SunSpecClient.discover\`, one read of every model and \`capabilitiesFrom\`, as \`SunSpecAdapter\` does on connect ` +
        `(setup, ${SETUP_CONCURRENCY} devices at a time, not timed as polling; ${gateway.setupMsPerDevice.toFixed(2)} ms per device). ` +
        `Polling as \`SunSpecAdapter.poll\`: \`client.readValues\` of the polled models the device has (701 for PV; 701 and 713 for battery ` +
        `and hybrid: 1 and 2 Modbus requests: 701 is read through its last non-string point), then \`sampleFrom\` into a TelemetrySample; a poll that falls due while the device's last one is still out is skipped, as the adapter skips it. ` +
        `The i-th of n devices is due at i/n of every second (uniformly staggered, ordered by unit id then port, so a gateway port's ` +
        `units are spread over the second). Per level: ${p.warmupS} s of warm-up, then a ${p.windowS} s window; ` +
        `a device-second counts as in time when its poll completed (sample decoded) before the device's next poll was due. ` +
        `A level passes when every device-second of the window is in time and no poll failed; devicesAt1Hz is the largest passing level ` +
        `(levels ${p.gateway.levels.map(fmt).join(', ')} in order until the first miss, then up to ${p.gateway.refinements} bisection steps ` +
        `between the last pass and the miss, on a ${p.gateway.grid}-device grid). ` +
        `Latency: from issuing a poll to its decoded sample, over the window's polls at that level. ` +
        `Per level (figures below): share of device-seconds in time, latency p50/p99, and each thread's event-loop utilization ` +
        `over the window. Near the limit a level can pass in one invocation and miss in the next (and a larger level pass where a ` +
        `smaller one missed): both threads now and then fall into episodes of large batches lasting a few hundred ms, which push some ` +
        `polls past their second; compare commits over several invocations. Levels run: ${levels(gateway)}.`,
    },
  ];
  if (port) {
    out.push({
      name: 'One TCP port per device (portDevicesAt1Hz)',
      description:
        `The same with \`SunSpecServers\` mode 'port' (one listening port and one connection per device), at smaller counts: ` +
        `levels ${p.port.levels.map(fmt).join(', ')} until the first miss: ${levels(port)}.`,
    });
  }
  if (pipelined) {
    out.push({
      name: 'Gateway, requests pipelined (pipeDevicesAt1Hz)',
      description:
        `The same devices, connections and polling with \`maxInFlight\` ${pipelined.maxInFlight} (\`derms start --modbus-inflight ` +
        `${pipelined.maxInFlight}\`): up to ${pipelined.maxInFlight} requests outstanding on each gateway connection, for gateways that queue them. ` +
        `Levels ${p.pipelined.levels.map(fmt).join(', ')} until the first miss, then up to ${p.pipelined.refinements} bisection step(s) on a ` +
        `${p.pipelined.grid}-device grid: ${levels(pipelined)}.`,
    });
  }
  out.push({
    name: 'derms scan (scanSeconds)',
    description:
      `\`scan(url, { json: true })\` from src/cli/sunspec-commands.ts (what \`derms scan URL --json\` runs, output captured) against one ` +
      `served battery device behind a gateway port while nothing else polls: model registry, connect, discovery (SunS, the model chain), ` +
      `a read of every model (${s.models} models, all decoded) and the JSON output, timed around the call; median of ${s.runs.length} runs ` +
      `(the first, cold in this process, alongside).`,
  });
  return out;
}
