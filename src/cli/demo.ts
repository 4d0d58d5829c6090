import { join } from 'node:path';
import { interval } from 'rxjs';
import type { DispatchEvent } from '../core/dispatch-events.js';
import type { GroupStatus } from '../core/group-status.js';
import { derFunctionNames, type DerFunctions } from '../core/model/group.js';
import { VirtualClock } from '../core/virtual-clock.js';
import { InProcessAdapter } from '../adapters/in-process.js';
import { buildCore } from '../app/core.js';
import { Simulation } from '../sim/engine.js';
import { loadFleetFile } from '../sim/fleet-file.js';
import { InProcessLink } from '../sim/in-process-link.js';
import { pace } from '../sim/pacer.js';
import { packageRoot } from './paths.js';

export interface DemoOptions {
  /** Fleet file; the demo fleet by default. */
  readonly fleet: string;
  /** Virtual seconds per real second; the fleet file's pace when undefined. */
  readonly speed: number | undefined;
  /** Stop after this many virtual seconds; run until interrupted when undefined. */
  readonly durationS: number | undefined;
  readonly json: boolean;
  readonly out: (line: string) => void;
}

/** The demo fleet shipped with the package (resolved from this file, so any working directory does). */
export const DEMO_FLEET = join(packageRoot(), 'fixtures', 'fleets', 'demo.yaml');

const allOn = Object.fromEntries(derFunctionNames.map((n) => [n, true])) as DerFunctions;

/**
 * The core on the simulated fleet: registry, aggregation, planning and closed-loop tracking
 * driving IEEE 1547 inverter models through the DeviceAdapter port (over the in-process link
 * until the protocol servers exist), on one clock shared with the simulation, with a scripted
 * sequence of group dispatches and a communications loss. Returns when the duration has elapsed.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const spec = await loadFleetFile(o.fleet);
  const start = spec.clock.start;
  const clock = new VirtualClock(start);
  const sim = new Simulation(spec);
  const simSub = sim.attach(clock);
  const core = buildCore(clock);
  const { registry, aggregator, hub, tracker } = core;

  const fleet = spec.devices;
  const adapters: InProcessAdapter[] = [];
  for (const d of fleet) {
    registry.addDer({ mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: { protocol: 'in-process', device: d.id } });
    const adapter = new InProcessAdapter(d.id, new InProcessLink(sim.device(d.id)), clock, { pollPeriodMs: 1000, timeoutMs: 3000 });
    adapters.push(adapter);
    hub.attach(adapter);
  }
  const onFeeder = (f: string): string[] => fleet.filter((d) => d.feeder === f).map((d) => d.id);
  const storage = fleet.filter((d) => d.kind !== 'pv').map((d) => d.id);
  const fa = spec.feeders[0]!.id;
  const fb = spec.feeders[1]?.id ?? fa;
  registry.createGroup({ mRID: 'feeder-a', names: ['Feeder A'], description: `every DER on ${fa}`, functions: allOn, members: onFeeder(fa) });
  registry.createGroup({ mRID: 'feeder-b', names: ['Feeder B'], description: `every DER on ${fb}`, functions: allOn, members: onFeeder(fb) });
  registry.createGroup({ mRID: 'storage', names: ['Storage'], description: 'every battery and hybrid', functions: allOn, members: storage });

  const speed = o.speed ?? (spec.clock.mode === 'realtime' ? 1 : spec.clock.speed);
  const counts = fleet.reduce<Record<string, number>>((c, d) => ((c[d.kind] = (c[d.kind] ?? 0) + 1), c), {});
  const t = (at: number): string => `t+${String(Math.round((at - start) / 1000)).padStart(4, ' ')}s`;
  const say = (line: string, json: object): void => o.out(o.json ? JSON.stringify(json) : line);

  say(
    `derms core demo: ${fleet.length} in-process DERs (${counts.pv ?? 0} PV, ${counts.battery ?? 0} battery, ${counts.hybrid ?? 0} hybrid) in 3 groups; ` +
      `${speed === 1 ? 'real time' : `${speed}x real time`} from ${new Date(start).toISOString()} (fleet ${o.fleet}). ` +
      'Devices are reached over the in-process link; SunSpec, DNP3, OpenFMB and the CIM API arrive in later issues.',
    { type: 'start', ders: fleet.length, counts, groups: ['feeder-a', 'feeder-b', 'storage'], speed, virtualStart: start },
  );

  tracker.events$.subscribe((e: DispatchEvent) => {
    if (e.type === 'planned') {
      const kw = (x: number | null): string => (x === null ? '-' : `${(x / 1000).toFixed(1)} k`);
      say(`${t(e.at)} ${e.dispatchId}: planned (${e.reason}) target ${kw(e.target)} achievable ${kw(e.achievable)} shortfall ${kw(e.shortfall)} setpoints ${e.setpoints} excluded ${e.excluded.length}`, e);
    } else if (e.type === 'ended') {
      say(`${t(e.at)} ${e.dispatchId}: ${e.state} (${e.reason})`, e);
    } else if (e.type === 'outcome' && e.outcome.status !== 'applied') {
      say(`${t(e.at)} ${e.dispatchId}: ${e.derId} ${e.outcome.status}${e.outcome.status === 'rejected' ? `: ${e.outcome.reason}` : ''}`, e);
    }
  });
  // Group status every 10 virtual seconds.
  const printer = interval(10_000, clock).subscribe(() => {
    for (const id of ['feeder-a', 'feeder-b', 'storage']) {
      const g: GroupStatus = aggregator.status(id)!;
      const soc = g.storage?.socPct;
      say(
        `${t(g.at)} ${id.padEnd(8)} P ${(g.activePowerW / 1000).toFixed(1).padStart(7)} kW  Q ${(g.reactivePowerVar / 1000).toFixed(1).padStart(6)} kvar  ` +
          `avail ${(g.availableMinW / 1000).toFixed(1)}..${(g.availableMaxW / 1000).toFixed(1)} kW  ${soc === null || soc === undefined ? '' : `SoC ${soc.toFixed(1)} %  `}` +
          `members ${g.members.reporting}/${g.members.total} reporting, ${g.members.stale} stale, ${g.members.offline} offline`,
        { type: 'status', ...g },
      );
    }
  });

  // The script, in virtual seconds from the start.
  const at = (s: number, fn: () => void): void => {
    clock.schedule(() => {
      try {
        fn();
      } catch (e) {
        o.out(`script step at ${s}s failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }, s * 1000);
  };
  const installed = (g: string): number => aggregator.status(g)!.installedMaxW;
  at(10, () => tracker.submit({ mRID: 'limit-a', groupId: 'feeder-a', control: { kind: 'activePowerLimit', value: 60, unit: '%' } }));
  at(20, () => tracker.submit({ mRID: 'charge', groupId: 'storage', control: { kind: 'activePower', value: -0.4 * installed('storage') } }));
  at(40, () =>
    tracker.submit({
      mRID: 'peak',
      groupId: 'storage',
      control: { kind: 'activePower' },
      policy: 'soc-balance',
      schedule: {
        start: clock.now(),
        intervalDuration: 20,
        intervalUnit: 's',
        curveStyle: 'constantYValue',
        points: [0.2, 0.6, 0.3].map((f, i) => ({ interval: i + 1, value: Math.round(f * installed('storage')) })),
      },
    }),
  );
  at(50, () => {
    // A communications loss: two storage members stop answering; the tracker re-plans around them.
    const lost = storage.slice(0, 2);
    sim.injectFault(lost, 'commsLoss', 120);
    say(`${t(clock.now())} comms lost to ${lost.join(', ')} for 120 s`, { type: 'comms-lost', derIds: lost });
  });
  at(60, () => tracker.submit({ mRID: 'volt-support', groupId: 'feeder-b', control: { kind: 'reactivePower', value: -20, unit: '%' } }));
  at(110, () => tracker.cancel('limit-a', 'operator lifted the limit'));

  const end = o.durationS === undefined ? Infinity : start + o.durationS * 1000;
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  await pace(clock, { mode: speed === 1 ? 'realtime' : 'accelerated', speed, untilMs: end, signal: stop.signal });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  say(`${t(clock.now())} demo stopped; ${aggregator.droppedSamples} samples dropped`, { type: 'stop', at: clock.now(), droppedSamples: aggregator.droppedSamples });
  printer.unsubscribe();
  simSub.unsubscribe();
  core.stop();
  await Promise.all(adapters.map((a) => a.close()));
}
