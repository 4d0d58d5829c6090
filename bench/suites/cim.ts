import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InProcessAdapter } from '../../src/adapters/in-process.js';
import { CimClient } from '../../src/cim-api/client.js';
import { dispatchRequest, getStatusesRequest } from '../../src/cim-api/requests.js';
import { createCimServer } from '../../src/cim-api/server.js';
import { Aggregator } from '../../src/core/aggregator.js';
import { TelemetryHub } from '../../src/core/hub.js';
import { derFunctionNames, type DerFunctions } from '../../src/core/model/group.js';
import { Registry } from '../../src/core/registry.js';
import { DispatchTracker } from '../../src/core/tracker.js';
import { VirtualClock } from '../../src/core/virtual-clock.js';
import { Simulation } from '../../src/sim/engine.js';
import { loadFleetFile } from '../../src/sim/fleet-file.js';
import { InProcessLink } from '../../src/sim/in-process-link.js';
import { BenchAdapter, derId, derInput, kindOf, sampleFor } from '../lib/fleet.js';
import { collectGarbage, fmt, machine, median, nowMs, percentile, Rng, round } from '../lib/measure.js';
import { startService, type Service } from '../lib/service.js';
import { BenchFailure, type Figure, type Suite, type SuiteOptions, type SuiteResult } from '../lib/types.js';

const ISSUE = 'issue target';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** This module, for `startService`: the query load comes from a worker thread. */
const self = import.meta.url;
const LARGE = 'fixtures/fleets/large.yaml';
const allOn = Object.fromEntries(derFunctionNames.map((n) => [n, true])) as DerFunctions;

interface CimParams {
  readonly statusMembers: number;
  readonly statusConcurrency: number;
  readonly statusWindowS: number;
  readonly statusRuns: number;
  readonly dispatchMembers: number;
  readonly dispatchWarmup: number;
  readonly dispatches: number;
}

export const cimSuite: Suite = {
  name: 'cim',
  title: 'CIM facade: status queries and dispatch latency over HTTP',
  async run(opts: SuiteOptions): Promise<SuiteResult> {
    const p: CimParams = {
      statusMembers: 100,
      statusConcurrency: 32,
      statusWindowS: opts.samples ?? (opts.quick ? 2 : 10),
      statusRuns: opts.runs ?? (opts.quick ? 2 : 5),
      dispatchMembers: 1000,
      dispatchWarmup: opts.quick ? 3 : 10,
      dispatches: opts.quick ? 10 : 100,
    };
    const status = await benchStatus(p, opts.log);
    const dispatch = await benchDispatch(p, opts.log);
    return {
      schema: 1,
      suite: 'cim',
      title: cimSuite.title,
      date: new Date().toISOString(),
      machine: machine(),
      params: { ...p, quick: opts.quick },
      workloads: [
        {
          name: 'Status queries (statusQueriesPerSecond)',
          description:
            `A group of ${p.statusMembers} DERs (bench fleet mix: 60 % PV, 25 % battery, 15 % hybrid), each with a fresh sample in the ` +
            '`Aggregator`, served by `createCimServer` on 127.0.0.1. A worker thread sends `get DERGroupStatuses` for the group ' +
            `(a DERGroupStatusQueriesRequestMessage in XML, built by the DMS-side request builder) over ${p.statusConcurrency} keep-alive ` +
            `connections, each sending its next request when the reply has arrived, for ${p.statusWindowS} s; every reply is checked for ` +
            `Result OK. ${p.statusRuns} runs after a 1 s warm-up; the figure is the median run. The server parses (hardened XML), ` +
            'validates, reads the live aggregation and writes the DERGroupStatuses reply for every request.',
        },
        {
          name: 'Dispatch latency (dispatchP50Ms, dispatchP99Ms)',
          description:
            `The first ${p.dispatchMembers} devices of feeder f1 of ${LARGE} simulated (\`Simulation\`, that feeder only) on a ` +
            '`VirtualClock`, each reached through an `InProcessAdapter` polled every second, registered and grouped (all DERFunctions ' +
            'on), with the `Aggregator`, `TelemetryHub`, `DispatchTracker` and `createCimServer` on the same thread. Each measured ' +
            '`create DERGroupDispatches` (activePower, alternately 40 % and 60 % of the group\'s available maximum, XML over HTTP from ' +
            'the same process) is timed from the moment the request is sent to the moment the tracker has reported the last ' +
            `member's setpoint applied. ${p.dispatchWarmup} warm-up dispatches, then ${p.dispatches}; one virtual second passes ` +
            'between dispatches (outside the timing) so devices report. The figures are the p50 and p99 of the dispatches; the HTTP ' +
            'reply time is reported beside them.',
        },
      ],
      threading:
        'Status queries: the DERMS (core and CIM server) on the main thread, the query load in one worker thread. Dispatch ' +
        'latency: simulation, core, CIM server and the HTTP client on the main thread.',
      figures,
      metrics: { ...status, ...dispatch },
    };
  },
};

const figures: Figure[] = [
  { key: 'statusQueriesPerSecond', label: 'get DERGroupStatuses, 100-member group, XML (median run)', unit: 'queries/s', digits: 0, target: { op: '>=', value: 5000, source: ISSUE } },
  { key: 'dispatchP99Ms', label: 'Dispatch, 1,000 members, request to every setpoint acknowledged (p99)', unit: 'ms', digits: 1, target: { op: '<', value: 1000, source: ISSUE } },
  { key: 'dispatchP50Ms', label: 'Dispatch, 1,000 members (p50)', unit: 'ms', digits: 1 },
  { key: 'dispatchReplyP50Ms', label: 'Dispatch, 1,000 members, HTTP reply received (p50)', unit: 'ms', digits: 1 },
  { key: 'statusLatencyP50Ms', label: 'Status query latency under that load (p50)', unit: 'ms', digits: 2 },
  { key: 'statusLatencyP99Ms', label: 'Status query latency under that load (p99)', unit: 'ms', digits: 2 },
  { key: 'statusReplyBytes', label: 'Status reply size', unit: 'bytes', digits: 0 },
];

// ---------------------------------------------------------------------------------------------
// Status queries per second

async function benchStatus(p: CimParams, log: (m: string) => void): Promise<Record<string, number | number[]>> {
  const clock = new VirtualClock(Date.UTC(2026, 5, 21, 18));
  const registry = new Registry();
  const rng = new Rng(3);
  const ids: string[] = [];
  for (let i = 0; i < p.statusMembers; i++) {
    const id = derId('der-', i);
    registry.addDer(derInput(id, kindOf(i), rng));
    ids.push(id);
  }
  registry.createGroup({ mRID: 'bench-group', names: ['Bench'], functions: allOn, members: ids });
  const aggregator = new Aggregator(registry, clock).start();
  const hub = new TelemetryHub(aggregator);
  for (const id of ids) {
    const a = new BenchAdapter(id);
    hub.attach(a);
    a.telemetry$.next(sampleFor(registry.requireDer(id), clock.now(), rng));
  }
  if (aggregator.status('bench-group')!.members.reporting !== p.statusMembers) throw new BenchFailure('status: not every member reports');
  const tracker = new DispatchTracker(registry, aggregator, hub, clock);
  const server = createCimServer({ clock, registry, aggregator, tracker, adapters: hub });
  const base = await server.listen();
  const client = new CimClient({ url: `${base}/cim` });
  const body = client.encode(getStatusesRequest(client.ns, [{ name: 'Bench' }])).body;
  const check = await client.send(getStatusesRequest(client.ns, [{ name: 'Bench' }]));
  if (check.result !== 'OK') throw new BenchFailure(`status: the server answered ${check.result}: ${check.body.slice(0, 300)}`);
  log(`cim: ${fmt(p.statusMembers)}-member group served at ${base}; query load from a worker thread`);
  const load = await startService<LoadArg, LoadInfo>(self, 'statusLoad', { url: `${base}/cim`, body, concurrency: p.statusConcurrency }, log);
  try {
    await load.call<LoadResult>('run', 1); // warm-up
    const runs: LoadResult[] = [];
    for (let r = 0; r < p.statusRuns; r++) {
      collectGarbage();
      const res = await load.call<LoadResult>('run', p.statusWindowS);
      if (res.errors > 0) throw new BenchFailure(`status: ${res.errors} requests failed (${res.firstError})`);
      log(`cim: status run ${r + 1}/${p.statusRuns}: ${fmt(Math.round(res.count / res.seconds))} queries/s`);
      runs.push(res);
    }
    const qps = runs.map((r) => r.count / r.seconds);
    return {
      statusQueriesPerSecond: round(median(qps), 0),
      statusQueriesPerSecondRuns: qps.map((x) => round(x, 0)),
      statusLatencyP50Ms: round(median(runs.map((r) => r.p50Ms)), 3),
      statusLatencyP99Ms: round(median(runs.map((r) => r.p99Ms)), 3),
      statusReplyBytes: check.body.length,
    };
  } finally {
    await load.stop();
    await server.close();
    aggregator.stop();
    tracker.stop();
  }
}

interface LoadArg {
  readonly url: string;
  readonly body: string;
  readonly concurrency: number;
}
type LoadInfo = Record<string, never>;
interface LoadResult {
  readonly count: number;
  readonly errors: number;
  readonly firstError: string | null;
  readonly seconds: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Worker side: `concurrency` keep-alive clients posting the same query back to back. */
export async function statusLoad(arg: LoadArg): Promise<Service<LoadInfo>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: arg.concurrency });
  const url = new URL(arg.url);
  const payload = Buffer.from(arg.body);
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        { agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/xml', 'content-length': payload.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            if (res.statusCode === 200 && text.includes('<msg:Result>OK</msg:Result>')) resolve();
            else reject(new Error(`HTTP ${res.statusCode}: ${text.slice(0, 200)}`));
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  return {
    info: {},
    handlers: {
      run: async (seconds: unknown) => {
        const end = nowMs() + (seconds as number) * 1000;
        const started = nowMs();
        let count = 0;
        let errors = 0;
        let firstError: string | null = null;
        const lat: number[] = [];
        const client = async (): Promise<void> => {
          while (nowMs() < end) {
            const t = nowMs();
            try {
              await one();
              count++;
              lat.push(nowMs() - t);
            } catch (e) {
              errors++;
              firstError ??= e instanceof Error ? e.message : String(e);
            }
          }
        };
        await Promise.all(Array.from({ length: arg.concurrency }, client));
        return { count, errors, firstError, seconds: (nowMs() - started) / 1000, p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99) } satisfies LoadResult;
      },
    },
    close: async () => {
      agent.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Dispatch latency

async function benchDispatch(p: CimParams, log: (m: string) => void): Promise<Record<string, number | number[]>> {
  const spec = await loadFleetFile(path.join(root, LARGE));
  const feeder = spec.feeders[0]!.id;
  const sim = new Simulation(spec, { only: [feeder] });
  const clock = new VirtualClock(spec.clock.start);
  const simSub = sim.attach(clock);
  const registry = new Registry();
  const aggregator = new Aggregator(registry, clock, { statusIntervalMs: 1000, pollPeriodMs: 1000, staleAfterPolls: 3 }).start();
  const hub = new TelemetryHub(aggregator);
  const tracker = new DispatchTracker(registry, aggregator, hub, clock, { applyTimeoutMs: 5000 });
  const members = spec.devices.filter((d) => d.feeder === feeder).slice(0, p.dispatchMembers);
  if (members.length < p.dispatchMembers) throw new BenchFailure(`dispatch: feeder ${feeder} has only ${members.length} devices`);
  const adapters: InProcessAdapter[] = [];
  for (const d of members) {
    registry.addDer({ mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: { protocol: 'in-process', device: d.id } });
    const a = new InProcessAdapter(d.id, new InProcessLink(sim.device(d.id)), clock, { pollPeriodMs: 1000, timeoutMs: 5000 });
    adapters.push(a);
    hub.attach(a);
  }
  registry.createGroup({ mRID: 'bench-dispatch', names: ['Bench-1000'], functions: allOn, members: members.map((d) => d.id) });
  const server = createCimServer({ clock, registry, aggregator, tracker, adapters: hub });
  const base = await server.listen();
  const client = new CimClient({ url: `${base}/cim` });
  for (let s = 0; s < 60; s++) await clock.advanceBy(1000); // through start-up: every device running and reporting
  const st = aggregator.status('bench-dispatch')!;
  if (st.members.reporting !== p.dispatchMembers) throw new BenchFailure(`dispatch: ${st.members.reporting} of ${p.dispatchMembers} members report`);
  log(`cim: ${fmt(p.dispatchMembers)}-member group on simulated ${LARGE} (${feeder}); available ${fmt(Math.round(st.availableMaxW / 1000))} kW`);

  let applied = 0;
  let current = '';
  let allAckedAt = 0;
  const sub = tracker.events$.subscribe((e) => {
    if (e.type === 'outcome' && e.dispatchId === current) {
      if (e.outcome.status !== 'applied') throw new BenchFailure(`dispatch: ${e.derId} ${e.outcome.status}`);
      if (++applied === p.dispatchMembers) allAckedAt = nowMs();
    }
  });
  const acked: number[] = [];
  const replied: number[] = [];
  try {
    for (let i = 0; i < p.dispatchWarmup + p.dispatches; i++) {
      const avail = aggregator.status('bench-dispatch')!.availableMaxW;
      const kw = round(((i % 2 === 0 ? 0.4 : 0.6) * avail) / 1000, 3);
      const req = dispatchRequest(client.ns, [
        {
          group: { name: 'Bench-1000' },
          mRID: `bench-d-${i}`,
          parameter: 'activePower',
          multiplier: 'k',
          values: [kw],
          schedule: { start: clock.now(), intervalDuration: 1, intervalUnit: 'h', curveStyle: 'constantYValue' },
        },
      ]);
      current = `bench-d-${i}`;
      applied = 0;
      allAckedAt = 0;
      const t0 = nowMs();
      const reply = await client.send(req);
      const tReply = nowMs();
      if (reply.result !== 'OK') throw new BenchFailure(`dispatch: the server answered ${reply.result}: ${reply.body.slice(0, 300)}`);
      const deadline = t0 + 10_000;
      while (allAckedAt === 0) {
        if (nowMs() > deadline) throw new BenchFailure(`dispatch: only ${applied} of ${p.dispatchMembers} setpoints acknowledged after 10 s`);
        await new Promise((r) => setImmediate(r));
      }
      if (i >= p.dispatchWarmup) {
        acked.push(Math.max(allAckedAt, t0) - t0);
        replied.push(tReply - t0);
      }
      await clock.advanceBy(1000);
    }
  } finally {
    sub.unsubscribe();
    await server.close();
    simSub.unsubscribe();
    tracker.stop();
    aggregator.stop();
    hub.stop();
    await Promise.all(adapters.map((a) => a.close()));
  }
  log(`cim: dispatch p50 ${median(acked).toFixed(1)} ms, p99 ${percentile(acked, 99).toFixed(1)} ms over ${acked.length} dispatches`);
  return {
    dispatchP50Ms: round(median(acked), 2),
    dispatchP99Ms: round(percentile(acked, 99), 2),
    dispatchMaxMs: round(Math.max(...acked), 2),
    dispatchReplyP50Ms: round(median(replied), 2),
    dispatchReplyP99Ms: round(percentile(replied, 99), 2),
  };
}
