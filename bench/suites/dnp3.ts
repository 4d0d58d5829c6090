/**
 * DNP3 at scale: simulated DER outstations (in a worker thread) polled by one Dnp3Adapter each
 * (on the main thread), event poll every second, integrity poll every minute, unsolicited
 * reports on; and command round trips while they are polled.
 *
 * Sizes: `--quick` runs small levels; otherwise the levels below. `BENCH_DNP3_LEVELS=500,1000,2000`
 * (outstation counts, tried in order until one misses) overrides both; `--samples` sets the
 * window (s), `--runs` the number of timed commands per level.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { asyncScheduler, filter, firstValueFrom, timeout } from 'rxjs';
import { Dnp3Adapter } from '../../src/adapters/dnp3/adapter.js';
import { scanDnp3 } from '../../src/cli/dnp3-commands.js';
import { defaultDerPointMap } from '../../src/protocols/dnp3/der-profile/index.js';
import { parseDnp3Url } from '../../src/protocols/dnp3/url.js';
import { Dnp3Servers } from '../../src/sim/dnp3/servers.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { type BenchKind, derId, kindIndex, kindOf } from '../lib/fleet.js';
import { fileDescriptorLimit, fmt, machine, maxOf, median, nowMs, pct, percentile, Rng, round, settle } from '../lib/measure.js';
import { startService, type Service, type ServiceHandle } from '../lib/service.js';
import { deviceSpec, noonSky } from '../lib/sim-devices.js';
import { BenchFailure, type Figure, type Suite, type SuiteOptions, type SuiteResult } from '../lib/types.js';

const ISSUE = 'issue target';
/** This module, for `startService`: the outstations are served from a worker thread. */
const self = import.meta.url;
const TARGET_OUTSTATIONS = 2_000;
const EVENT_POLL_MS = 1000;
const INTEGRITY_POLL_MS = 60_000;
const RESPONSE_TIMEOUT_MS = 2000;
/** Outstations behind one listening port (told apart by link address). */
const PER_PORT = 250;
/** Adapters connected at once while setting up a level (startup: integrity poll of ~4.4 kB each). */
const SETUP_BATCH = 100;
const ONLINE_TIMEOUT_MS = 60_000;
const T0 = Date.UTC(2026, 5, 21, 18);
const AO_LIMIT = defaultDerPointMap.points['ao.activePowerLimitGen']!;

interface Dnp3Params {
  readonly levels: readonly number[];
  readonly warmupS: number;
  readonly windowS: number;
  /** Bisection steps between the last passing level and the first miss. */
  readonly refinements: number;
  readonly grid: number;
  /** Timed direct operates per level (and a quarter as many whole setpoints). */
  readonly commands: number;
  /** Each step's terminal voltage varies by up to this much (uniform), so outstations have events to report. */
  readonly voltageNoisePct: number;
  /** Stop adding or refining levels once the suite has run this long. */
  readonly budgetS: number;
  readonly scanRuns: number;
}

export const dnp3Suite: Suite = {
  name: 'dnp3',
  title: 'DNP3: simulated DER outstations polled by the DERMS (event poll each second, integrity each minute)',
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const started = nowMs();
    const fdCap = fileDescriptorLimit();
    const fromEnv = process.env.BENCH_DNP3_LEVELS?.split(',').map((x) => Number(x.trim()));
    if (fromEnv && fromEnv.some((n) => !Number.isInteger(n) || n < 1)) throw new BenchFailure(`BENCH_DNP3_LEVELS must list positive integers, got ${process.env.BENCH_DNP3_LEVELS}`);
    // Each outstation costs two sockets in this process (the master's and the server side's).
    const fits = (n: number): boolean => 2 * n + 500 <= fdCap;
    const p: Dnp3Params = {
      levels: (fromEnv ?? (opts.quick ? [100, 250] : [1000, 2000, 3000, 4000, 5000, 6000])).filter(fits),
      warmupS: opts.quick ? 2 : 3,
      windowS: opts.samples ?? (opts.quick ? 3 : 15),
      refinements: opts.quick || fromEnv ? 0 : 2,
      grid: 250,
      commands: opts.runs ?? (opts.quick ? 40 : 400),
      voltageNoisePct: 0.5,
      budgetS: opts.quick ? 90 : 400,
      scanRuns: opts.quick ? 3 : 5,
    };
    if (p.levels.length === 0) throw new BenchFailure(`the open-file limit (${fdCap}) leaves too few sockets for the smallest level; raise it (ulimit -n)`);
    const log = opts.log;
    const elapsedS = (): number => (nowMs() - started) / 1000;
    const max = Math.max(...p.levels);

    log(`dnp3: starting ${fmt(max)} simulated outstations (${PER_PORT} per port) in a worker thread`);
    const host = await startService<HostArg, HostInfo>(self, 'serveOutstations', { count: max, seed: 7, voltageNoisePct: p.voltageNoisePct }, log);
    const levels: Level[] = [];
    const notRun: number[] = [];
    let best: Level | null = null;
    let scan: ScanResult;
    let stepMs = Number.NaN;
    const pool = new AdapterPool(host.info.endpoints);
    try {
      log(`dnp3: ${fmt(max)} outstations on ${host.info.ports} ports, ready in ${(host.info.startMs / 1000).toFixed(1)} s`);
      scan = await benchScan(host.info.endpoints[kindIndex(host.info.endpoints, 'battery')]!.url, p.scanRuns, log);
      const tryLevel = async (n: number): Promise<Level> => {
        const s = nowMs();
        await pool.resize(n, log);
        const setupS = (nowMs() - s) / 1000;
        const l = await runLevel(pool, host, p, setupS);
        levels.push(l);
        log(
          `dnp3: ${fmt(n)} outstations: ${l.passed ? 'pass' : 'MISS'} (${pct(l.inTime / l.expected)} of ${fmt(l.expected)} event polls in time, ` +
            `late ${l.late}, failed ${l.failed}, missing ${l.missing}, skipped ${l.skipped}; poll p50 ${l.pollP50.toFixed(2)} ms p99 ${l.pollP99.toFixed(1)} ms; ` +
            `direct operate p50 ${l.commandP50.toFixed(2)} ms p99 ${l.commandP99.toFixed(1)} ms; setpoint p50 ${l.setpointP50.toFixed(1)} ms; ` +
            `busy: DERMS ${pct(l.dermsElu)}, outstations ${pct(l.devicesElu)}${l.firstError ? `; first error: ${l.firstError}` : ''})`,
        );
        return l;
      };
      let miss: number | null = null;
      for (const n of p.levels) {
        if (miss !== null || (levels.length > 0 && elapsedS() > p.budgetS)) {
          notRun.push(n);
          continue;
        }
        const l = await tryLevel(n);
        if (l.passed) best = l;
        else miss = n;
      }
      for (let k = 0; k < p.refinements && miss !== null && elapsedS() < p.budgetS; k++) {
        const lo = best?.n ?? 0;
        const mid = Math.round((lo + miss) / 2 / p.grid) * p.grid;
        if (mid <= lo || mid >= miss) break;
        const l = await tryLevel(mid);
        if (l.passed) best = l;
        else miss = mid;
      }
      stepMs = await host.call<number>('stepMs');
    } finally {
      await pool.resize(0, log);
      await host.stop();
    }
    levels.sort((a, b) => a.n - b.n);
    const shown = best ?? levels[0]!;
    const metrics: Record<string, number | number[]> = {
      outstationsAt1Hz: best?.n ?? 0,
      eventPollP50Ms: round(shown.pollP50, 2),
      eventPollP99Ms: round(shown.pollP99, 2),
      commandRttP50Ms: round(shown.commandP50, 2),
      commandRttP99Ms: round(shown.commandP99, 2),
      setpointApplyP50Ms: round(shown.setpointP50, 2),
      setpointApplyP99Ms: round(shown.setpointP99, 2),
      scanSeconds: round(scan.median, 4),
      levels: levels.map((l) => l.n),
      passed: levels.map((l) => (l.passed ? 1 : 0)),
      completionRatio: levels.map((l) => round(l.inTime / l.expected, 5)),
      deviceStepMs: round(stepMs, 2),
    };
    for (const l of levels) {
      const k = `n${l.n}`;
      metrics[`${k}Passed`] = l.passed ? 1 : 0;
      metrics[`${k}InTimePct`] = round((100 * l.inTime) / l.expected, 3);
      metrics[`${k}Late`] = l.late;
      metrics[`${k}Missing`] = l.missing;
      metrics[`${k}Failed`] = l.failed;
      metrics[`${k}Skipped`] = l.skipped;
      metrics[`${k}PollP50Ms`] = round(l.pollP50, 2);
      metrics[`${k}PollP99Ms`] = round(l.pollP99, 2);
      metrics[`${k}PollMaxMs`] = round(l.pollMax, 1);
      metrics[`${k}CommandP50Ms`] = round(l.commandP50, 2);
      metrics[`${k}CommandP99Ms`] = round(l.commandP99, 2);
      metrics[`${k}SetpointP50Ms`] = round(l.setpointP50, 2);
      metrics[`${k}SetpointP99Ms`] = round(l.setpointP99, 2);
      metrics[`${k}UnsolicitedPerS`] = round(l.unsolicitedPerS, 0);
      metrics[`${k}DermsEluPct`] = round(100 * l.dermsElu, 1);
      metrics[`${k}DevicesEluPct`] = round(100 * l.devicesElu, 1);
      metrics[`${k}CpuCores`] = round(l.cpuCores, 2);
      metrics[`${k}SetupS`] = round(l.setupS, 1);
    }
    return {
      schema: 1,
      suite: 'dnp3',
      title: dnp3Suite.title,
      date: new Date().toISOString(),
      machine: machine(),
      params: {
        levels: p.levels.join(','),
        notRun: notRun.join(',') || 'none',
        warmupS: p.warmupS,
        windowS: p.windowS,
        eventPollMs: EVENT_POLL_MS,
        integrityPollMs: INTEGRITY_POLL_MS,
        responseTimeoutMs: RESPONSE_TIMEOUT_MS,
        outstationsPerPort: PER_PORT,
        commandsPerLevel: p.commands,
        voltageNoisePct: p.voltageNoisePct,
        fileDescriptorLimit: fdCap,
        quick: opts.quick,
      },
      threading:
        'Two threads: the simulated devices and their DNP3 outstations (Dnp3Servers) in one worker thread, the DERMS side ' +
        "(one Dnp3Adapter, i.e. one master and one TCP connection, per outstation) on Node's main thread; V8's garbage collector may use helper threads.",
      workloads: workloads(p, levels, notRun, scan),
      figures: figures(levels, best).filter((f) => typeof metrics[f.key] === 'number'),
      metrics,
    };
  },
};

// ---------------------------------------------------------------------------------------------
// Outstation side (worker thread)

export interface HostArg {
  readonly count: number;
  readonly seed: number;
  readonly voltageNoisePct: number;
}

export interface OutstationEndpoint {
  readonly id: string;
  readonly kind: BenchKind;
  readonly url: string;
}

export interface HostInfo {
  readonly endpoints: OutstationEndpoint[];
  readonly ports: number;
  readonly startMs: number;
}

/**
 * The device side, in a worker: `count` SimInverters (60 % PV, 25 % battery, 15 % hybrid) served
 * as DNP3 outstations by `Dnp3Servers` (shared ports, link address per outstation), stepped once a
 * second in real time under a clear noon sky with a jittering terminal voltage, and refreshed
 * after each step.
 */
export async function serveOutstations(arg: HostArg, log: (m: string) => void): Promise<Service<HostInfo>> {
  const t0 = nowMs();
  const devices = Array.from({ length: arg.count }, (_, i) => new SimInverter(deviceSpec(derId('dn', i), kindOf(i)), arg.seed + i));
  const rng = new Rng(arg.seed);
  let t = T0;
  const stepAll = (jitter: boolean): void => {
    t += EVENT_POLL_MS;
    for (const d of devices) d.step(t, EVENT_POLL_MS / 1000, noonSky, jitter ? 240 * (1 + (arg.voltageNoisePct / 100) * (2 * rng.next() - 1)) : 240, 60);
  };
  for (let k = 0; k < 30; k++) stepAll(false); // out of start-up: every device running
  if (devices.some((d) => d.operating !== 'running')) throw new BenchFailure('outstations: not every device is running after warm-up');
  const servers = await Dnp3Servers.start(
    devices.map((device) => ({ device, mode: 'shared' as const })),
    { perPort: PER_PORT },
  );
  const stepMs: number[] = [];
  const timer = setInterval(() => {
    const s = nowMs();
    stepAll(true);
    servers.refresh();
    stepMs.push(nowMs() - s);
  }, EVENT_POLL_MS);
  const byId = new Map(servers.endpoints().map((e) => [e.mRID, e]));
  const endpoints = devices.map((d, i): OutstationEndpoint => {
    const e = byId.get(d.id);
    if (!e) throw new BenchFailure(`outstations: ${d.id} is not served`);
    return { id: d.id, kind: kindOf(i), url: e.url };
  });
  const ports = servers.stats().ports;
  log(`dnp3: outstation worker serves ${fmt(devices.length)} outstations on ${ports} ports`);
  return {
    info: { endpoints, ports, startMs: nowMs() - t0 },
    handlers: {
      elu: () => performance.eventLoopUtilization(),
      stepMs: () => (stepMs.length ? median(stepMs.slice(-60)) : 0),
      stats: () => servers.stats(),
    },
    close: async () => {
      clearInterval(timer);
      await servers.close();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// DERMS side (main thread)

/**
 * Event polls due inside the window [from, to) (adapter clock time: Date.now()): in time when
 * answered before the next one was due, late, or failed.
 */
class PollRecorder {
  from = Infinity;
  to = -Infinity;
  inTime = 0;
  late = 0;
  failed = 0;
  firstError: string | null = null;
  readonly latencies: number[] = [];

  get recorded(): number {
    return this.inTime + this.late + this.failed;
  }

  record(ms: number, ok: boolean, dueAt: number, id: string, why: () => string | null): void {
    if (dueAt < this.from || dueAt >= this.to) return;
    if (!ok) {
      this.failed++;
      this.firstError ??= `${id}: ${why() ?? 'poll failed'}`;
      return;
    }
    this.latencies.push(ms);
    if (Date.now() < dueAt + EVENT_POLL_MS) this.inTime++;
    else this.late++;
  }

  open(from: number, to: number): void {
    this.from = from;
    this.to = to;
    this.inTime = this.late = this.failed = 0;
    this.firstError = null;
    this.latencies.length = 0;
  }
}

/** The first `n` outstations, each with a Dnp3Adapter as the DERMS runs it (asyncScheduler, 1 s event polls, 60 s integrity). */
class AdapterPool {
  readonly adapters: Dnp3Adapter[] = [];
  readonly recorder = new PollRecorder();
  /** Adapters whose link is online now. */
  readonly online = new Set<Dnp3Adapter>();

  constructor(private readonly endpoints: readonly OutstationEndpoint[]) {}

  async resize(n: number, log: (m: string) => void): Promise<void> {
    while (this.adapters.length > n) await this.adapters.pop()!.close();
    for (let from = this.adapters.length; from < n; from += SETUP_BATCH) {
      const batch = this.endpoints.slice(from, Math.min(n, from + SETUP_BATCH)).map((ep) => {
        const a = new Dnp3Adapter(ep.id, parseDnp3Url(ep.url), asyncScheduler, {
          eventPollMs: EVENT_POLL_MS,
          integrityPollMs: INTEGRITY_POLL_MS,
          responseTimeoutMs: RESPONSE_TIMEOUT_MS,
          onPoll: (ms, ok, dueAt) => this.recorder.record(ms, ok, dueAt, ep.id, () => a.lastError),
        });
        a.link$.subscribe((l) => (l === 'online' ? this.online.add(a) : this.online.delete(a)));
        this.adapters.push(a);
        return a;
      });
      await Promise.all(
        batch.map((a) =>
          firstValueFrom(a.link$.pipe(filter((l) => l === 'online'), timeout(ONLINE_TIMEOUT_MS))).catch(() => {
            throw new BenchFailure(`${a.derId} did not come online within ${ONLINE_TIMEOUT_MS} ms: ${a.lastError ?? 'no reason'}`);
          }),
        ),
      );
    }
    if (n > 0) log(`dnp3: ${fmt(n)} adapters online`);
  }
}

interface Level {
  readonly n: number;
  readonly expected: number;
  readonly inTime: number;
  readonly late: number;
  /** Polls due in the window that never completed (skipped, or still out at the end). */
  readonly missing: number;
  readonly failed: number;
  readonly skipped: number;
  readonly passed: boolean;
  readonly pollP50: number;
  readonly pollP99: number;
  readonly pollMax: number;
  readonly commandP50: number;
  readonly commandP99: number;
  readonly setpointP50: number;
  readonly setpointP99: number;
  readonly unsolicitedPerS: number;
  readonly dermsElu: number;
  readonly devicesElu: number;
  readonly cpuCores: number;
  readonly setupS: number;
  readonly firstError: string | null;
}

/**
 * Let the level's adapters poll for `warmupS`, then count a `windowS` window: every event poll
 * completed in it is in time when it was answered within the poll period. Then, with polling
 * going on, time direct operates of AO88 and whole active-power-limit setpoints.
 */
async function runLevel(pool: AdapterPool, host: ServiceHandle<HostInfo>, p: Dnp3Params, setupS: number): Promise<Level> {
  const adapters = pool.adapters;
  const n = adapters.length;
  const rec = pool.recorder;
  const sum = (f: (a: Dnp3Adapter) => number): number => adapters.reduce((s, a) => s + f(a), 0);
  const w0 = Date.now() + p.warmupS * 1000;
  const w1 = w0 + p.windowS * 1000;
  rec.open(w0, w1);
  await settle(w0 - Date.now());
  const skipped0 = sum((a) => a.stats().skipped);
  const uns0 = sum((a) => a.master.stats().unsolicited);
  const elu0 = performance.eventLoopUtilization();
  const devElu0 = await host.call<EventLoopUtilization>('elu');
  const cpu0 = process.cpuUsage();
  const t0 = nowMs();
  await settle(w1 - Date.now());
  const wall = nowMs() - t0;
  const dermsElu = performance.eventLoopUtilization(elu0).utilization;
  const devElu1 = await host.call<EventLoopUtilization>('elu');
  const devicesElu = (devElu1.active - devElu0.active) / (devElu1.active + devElu1.idle - devElu0.active - devElu0.idle);
  const cpu = process.cpuUsage(cpu0);
  const skipped = sum((a) => a.stats().skipped) - skipped0;
  const unsolicitedPerS = (sum((a) => a.master.stats().unsolicited) - uns0) / (wall / 1000);
  const offline = adapters.filter((a) => !pool.online.has(a)).length;
  const expected = n * p.windowS;
  // The window's last polls: answered, failed (after the response timeout) or given up on.
  const drainUntil = nowMs() + 2 * RESPONSE_TIMEOUT_MS + 500;
  while (rec.recorded < expected && nowMs() < drainUntil) await settle(20);
  const lat = [...rec.latencies];
  const passed = rec.inTime === expected && offline === 0;
  const { commands, setpoints } = await timeCommands(adapters, p.commands);
  return {
    n,
    expected,
    inTime: rec.inTime,
    late: rec.late,
    missing: expected - rec.recorded,
    failed: rec.failed,
    skipped,
    passed,
    pollP50: percentile(lat, 50),
    pollP99: percentile(lat, 99),
    pollMax: maxOf(lat),
    commandP50: percentile(commands, 50),
    commandP99: percentile(commands, 99),
    setpointP50: percentile(setpoints, 50),
    setpointP99: percentile(setpoints, 99),
    unsolicitedPerS,
    dermsElu,
    devicesElu,
    cpuCores: (cpu.user + cpu.system) / 1000 / wall,
    setupS,
    firstError: rec.firstError,
  };
}

/**
 * `count` direct operates of AO88 (active power limit, staged while its enable is off) spread
 * over the outstations, one at a time, then `count / 4` whole setpoints (activePowerLimit: AO84,
 * AO88, BO17 and the read-back), each timed from the call to its result.
 */
async function timeCommands(adapters: readonly Dnp3Adapter[], count: number): Promise<{ commands: number[]; setpoints: number[] }> {
  const rng = new Rng(11);
  const commands: number[] = [];
  for (let k = 0; k < count; k++) {
    const a = adapters[rng.int(adapters.length)]!;
    const pctValue = 30 + rng.int(70);
    const t = nowMs();
    const r = await a.master.directOperate({ type: 'analogOutput', index: AO_LIMIT.index, value: pctValue * AO_LIMIT.multiplier, variation: 1 });
    commands.push(nowMs() - t);
    if (!r.ok) throw new BenchFailure(`${a.derId}: direct operate of AO${AO_LIMIT.index} failed: ${r.error?.message ?? `status ${r.statuses.join(',')}`}`);
  }
  const setpoints: number[] = [];
  for (let k = 0; k < Math.max(1, Math.floor(count / 4)); k++) {
    const a = adapters[rng.int(adapters.length)]!;
    const pctValue = 30 + rng.int(70);
    const maxW = a.nameplate()!.nameplate.maxW;
    const t = nowMs();
    const r = await a.apply({ derId: a.derId, kind: 'activePowerLimit', pct: pctValue, w: (pctValue / 100) * maxW });
    setpoints.push(nowMs() - t);
    if (r.status !== 'applied') throw new BenchFailure(`${a.derId}: activePowerLimit ${pctValue} %: ${JSON.stringify(r)}`);
    // Back to no limit, untimed, so the fleet keeps producing.
    await a.apply({ derId: a.derId, kind: 'release', slot: 'activePowerLimit' });
  }
  return { commands, setpoints };
}

// ---------------------------------------------------------------------------------------------
// derms scan

interface ScanResult {
  readonly median: number;
  readonly runs: number[];
  readonly points: number;
}

/** `derms scan URL --json` (the CLI's `scanDnp3`, output captured) against one outstation, timed around the call. */
async function benchScan(url: string, runs: number, log: (m: string) => void): Promise<ScanResult> {
  const times: number[] = [];
  let points = 0;
  for (let k = 0; k < runs; k++) {
    const lines: string[] = [];
    const t = nowMs();
    await scanDnp3(url, { json: true, timeoutMs: RESPONSE_TIMEOUT_MS, out: (line) => lines.push(line) });
    times.push((nowMs() - t) / 1000);
    const parsed = JSON.parse(lines.join('\n')) as { points: { value: unknown }[] };
    points = parsed.points.filter((x) => x.value !== null).length;
    if (points !== parsed.points.length) throw new BenchFailure(`scan: ${points} of ${parsed.points.length} profile points reported`);
  }
  const med = median(times);
  log(`dnp3: derms scan ${url}: ${points} profile points, median ${(med * 1000).toFixed(1)} ms of ${runs}`);
  return { median: med, runs: times, points };
}

// ---------------------------------------------------------------------------------------------
// Reporting

function figures(levels: readonly Level[], best: Level | null): Figure[] {
  const at = best ? `${fmt(best.n)} outstations` : 'the smallest level (none passed)';
  const out: Figure[] = [
    {
      key: 'outstationsAt1Hz',
      label: 'Outstations with every event poll answered within its second',
      unit: 'outstations',
      digits: 0,
      target: { op: '>=', value: TARGET_OUTSTATIONS, source: `${ISSUE}: ${fmt(TARGET_OUTSTATIONS)} outstations, simulator and DERMS on one machine` },
    },
    { key: 'eventPollP50Ms', label: `Event poll round trip, p50 at ${at}`, unit: 'ms', digits: 2 },
    { key: 'eventPollP99Ms', label: `Event poll round trip, p99 at ${at}`, unit: 'ms', digits: 2 },
    { key: 'commandRttP50Ms', label: `Direct operate of an AO setpoint, p50 at ${at}`, unit: 'ms', digits: 2 },
    { key: 'commandRttP99Ms', label: `Direct operate of an AO setpoint, p99 at ${at}`, unit: 'ms', digits: 2 },
    { key: 'setpointApplyP50Ms', label: `Whole setpoint (3 controls and a read-back), p50 at ${at}`, unit: 'ms', digits: 2 },
    { key: 'setpointApplyP99Ms', label: `Whole setpoint (3 controls and a read-back), p99 at ${at}`, unit: 'ms', digits: 2 },
    { key: 'scanSeconds', label: 'derms scan of one outstation (median)', unit: 's', digits: 3 },
  ];
  for (const l of levels) {
    const k = `n${l.n}`;
    out.push(
      { key: `${k}InTimePct`, label: `${fmt(l.n)} outstations: event polls in time${l.passed ? '' : ' (MISS)'}`, unit: '%', digits: 2 },
      { key: `${k}PollP99Ms`, label: `${fmt(l.n)} outstations: event poll p99`, unit: 'ms', digits: 1 },
      { key: `${k}CommandP99Ms`, label: `${fmt(l.n)} outstations: direct operate p99`, unit: 'ms', digits: 1 },
      { key: `${k}UnsolicitedPerS`, label: `${fmt(l.n)} outstations: unsolicited reports`, unit: '/s', digits: 0 },
      { key: `${k}DermsEluPct`, label: `${fmt(l.n)} outstations: DERMS thread busy`, unit: '%', digits: 0 },
      { key: `${k}DevicesEluPct`, label: `${fmt(l.n)} outstations: outstation thread busy`, unit: '%', digits: 0 },
    );
  }
  out.push({ key: 'deviceStepMs', label: 'Stepping and refreshing every served outstation once (outstation thread, median)', unit: 'ms', digits: 2 });
  return out;
}

function workloads(p: Dnp3Params, levels: readonly Level[], notRun: readonly number[], scan: ScanResult): { name: string; description: string }[] {
  const run = [
    ...levels.map((l) => `${fmt(l.n)} ${l.passed ? 'pass' : `miss (${pct(l.inTime / l.expected)} in time, ${l.late} late, ${l.failed} failed, ${l.missing} missing)`}`),
    ...notRun.map((n) => `${fmt(n)} not run`),
  ].join('; ');
  return [
    {
      name: 'Outstations polled at 1 Hz (outstationsAt1Hz, eventPollP50Ms, eventPollP99Ms)',
      description:
        `Simulator and DERMS both on this machine, over loopback TCP. Outstation side, in a worker thread: \`SimInverter\`s (60 % 10 kW PV, ` +
        `25 % 5 kW / 13.5 kWh battery, 15 % 7.6 kW hybrid), warmed up 30 s under a clear noon sky, then stepped once a second in real time with ` +
        `the terminal voltage drawn uniformly within ±${p.voltageNoisePct} % of 240 V (so most outstations have a voltage event most seconds: ` +
        `the deadband is 0.2 %), each served as a DNP3 outstation under the DER profile by \`Dnp3Servers.start\` in mode 'shared' (${PER_PORT} ` +
        `outstations behind each listening port, told apart by link address) and refreshed after each step. DERMS side, on the main thread: one ` +
        `\`Dnp3Adapter\` per outstation (its own \`Dnp3Master\` and TCP connection), as the DERMS runs it: startup sequence, integrity poll at ` +
        `startup and every ${INTEGRITY_POLL_MS / 1000} s, an event poll (classes 1, 2, 3) every ${EVENT_POLL_MS} ms on a fixed grid from its ` +
        `connection, unsolicited reporting enabled, a TelemetrySample after every poll and report; response timeout ${RESPONSE_TIMEOUT_MS} ms. ` +
        `Adapters connect ${SETUP_BATCH} at a time until all are online (setup, not timed). Each adapter's polls are due on its own fixed ` +
        `grid (connection time + k × ${EVENT_POLL_MS} ms; a late timer does not shift the later ones), so a window of W seconds holds exactly W ` +
        `polls per outstation. Per level: ${p.warmupS} s of warm-up, then a ${p.windowS} s window; a poll due in the window is in time when its ` +
        `response (and the sample) came before the adapter's next poll was due. A level passes when every poll due in the window (outstations × ` +
        `window seconds) was in time (none late, failed or skipped) and every adapter is online. The window holds about ` +
        `${Math.round((100 * p.windowS * 1000) / INTEGRITY_POLL_MS)} % of the minute's integrity polls, which queue ahead of event polls. ` +
        `outstationsAt1Hz is the largest passing level (levels in order until the first miss, then up to ${p.refinements} bisection steps on a ` +
        `${p.grid}-outstation grid). Levels run: ${run}.`,
    },
    {
      name: 'Command round trip (commandRttP50Ms, commandRttP99Ms, setpointApplyP50Ms, setpointApplyP99Ms)',
      description:
        `After each level's window, with every adapter still polling: ${p.commands} DIRECT_OPERATE requests of one analog output block ` +
        `(g41v1, AO${AO_LIMIT.index}, the active power limit, 30-99 %) through \`Dnp3Master.directOperate\` of randomly chosen adapters, one at ` +
        `a time, each timed from the call to its echoed SUCCESS; then ${Math.max(1, Math.floor(p.commands / 4))} whole \`Dnp3Adapter.apply\` ` +
        `calls of an activePowerLimit setpoint (AO84 ramp time, AO88, BO17 by direct operate, then a static READ of the statuses and the ` +
        `read-back comparison), timed likewise (each followed by an untimed release).`,
    },
    {
      name: 'derms scan (scanSeconds)',
      description:
        `\`scanDnp3(url, { json: true })\` from src/cli/dnp3-commands.ts (what \`derms scan dnp3://...\` runs, output captured) against one ` +
        `battery outstation behind a shared port before any adapter connects: TCP connect, the master's startup integrity poll and the scan's ` +
        `own (${scan.points} profile points reported), the JSON output; median of ${scan.runs.length} runs.`,
    },
  ];
}
