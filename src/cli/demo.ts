import { interval } from 'rxjs';
import { Aggregator } from '../core/aggregator.js';
import type { DispatchEvent } from '../core/dispatch-events.js';
import type { GroupStatus } from '../core/group-status.js';
import { TelemetryHub } from '../core/hub.js';
import { derFunctionNames, type DerFunctions } from '../core/model/group.js';
import type { DerInput } from '../core/model/der.js';
import { Registry } from '../core/registry.js';
import { DispatchTracker } from '../core/tracker.js';
import { VirtualClock } from '../core/virtual-clock.js';
import { InProcessAdapter } from '../adapters/in-process.js';
import { SimpleDer, type Site } from '../sim/simple-der.js';
import { seededRandom } from '../sim/random.js';

export interface DemoOptions {
  readonly ders: number;
  /** Virtual seconds per real second. */
  readonly speed: number;
  /** Stop after this many virtual seconds; run until interrupted when undefined. */
  readonly durationS: number | undefined;
  readonly json: boolean;
  readonly seed: number;
  readonly out: (line: string) => void;
}

const SITE: Site = { latitudeDeg: 40, longitudeDeg: 0 };
const allOn = Object.fromEntries(derFunctionNames.map((n) => [n, true])) as DerFunctions;

/** A demo fleet: 60 % PV, 25 % battery, 15 % hybrid, with plausible residential ratings. */
export function demoFleet(count: number, seed: number): DerInput[] {
  const rand = seededRandom(seed);
  const out: DerInput[] = [];
  for (let i = 0; i < count; i++) {
    const r = i % 20;
    const id = `der-${String(i + 1).padStart(5, '0')}`;
    const endpoint = { protocol: 'in-process' as const, device: id };
    if (r < 12) {
      const maxW = Math.round(5000 + rand() * 5000);
      out.push({ mRID: id, name: `PV ${i + 1}`, kind: 'pv', nameplate: { maxW, maxVA: Math.round(maxW * 1.1), maxVarInject: Math.round(maxW * 0.44), maxVarAbsorb: Math.round(maxW * 0.44), nominalV: 240 }, endpoint });
    } else if (r < 17) {
      out.push({ mRID: id, name: `Battery ${i + 1}`, kind: 'battery', nameplate: { maxW: 5000, maxVA: 5000, maxVarInject: 2200, maxVarAbsorb: 2200, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 13_500, nominalV: 240 }, endpoint });
    } else {
      out.push({ mRID: id, name: `Hybrid ${i + 1}`, kind: 'hybrid', nameplate: { maxW: 8000, maxVA: 8000, maxVarInject: 3500, maxVarAbsorb: 3500, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 10_000, nominalV: 240 }, endpoint });
    }
  }
  return out;
}

/**
 * The core on an in-process fleet: registry, aggregation, planning and closed-loop tracking
 * driving simulated inverters through the DeviceAdapter port, with a scripted sequence of group
 * dispatches and a simulated communications loss. Returns when the duration has elapsed.
 */
export async function runDemo(o: DemoOptions): Promise<void> {
  const start = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate(), 10, 30);
  const clock = new VirtualClock(start);
  const registry = new Registry();
  const aggregator = new Aggregator(registry, clock, { statusIntervalMs: 1000, pollPeriodMs: 1000, staleAfterPolls: 3 }).start();
  const hub = new TelemetryHub(aggregator);
  const tracker = new DispatchTracker(registry, aggregator, hub, clock, { applyTimeoutMs: 3000 });

  const fleet = demoFleet(o.ders, o.seed);
  const adapters: InProcessAdapter[] = [];
  fleet.forEach((input, i) => {
    const der = registry.addDer(input);
    const adapter = new InProcessAdapter(der.mRID, new SimpleDer(der, clock, SITE, o.seed + i), clock, { pollPeriodMs: 1000 });
    adapters.push(adapter);
    hub.attach(adapter);
  });
  const half = Math.ceil(fleet.length / 2);
  const storage = fleet.filter((d) => d.kind !== 'pv').map((d) => d.mRID);
  registry.createGroup({ mRID: 'feeder-a', names: ['Feeder A'], description: 'first half of the fleet', functions: allOn, members: fleet.slice(0, half).map((d) => d.mRID) });
  registry.createGroup({ mRID: 'feeder-b', names: ['Feeder B'], description: 'second half of the fleet', functions: allOn, members: fleet.slice(half).map((d) => d.mRID) });
  registry.createGroup({ mRID: 'storage', names: ['Storage'], description: 'every battery and hybrid', functions: allOn, members: storage });

  const counts = fleet.reduce<Record<string, number>>((c, d) => ((c[d.kind] = (c[d.kind] ?? 0) + 1), c), {});
  const t = (at: number): string => `t+${String(Math.round((at - start) / 1000)).padStart(4, ' ')}s`;
  const say = (line: string, json: object): void => o.out(o.json ? JSON.stringify(json) : line);

  say(
    `derms core demo: ${fleet.length} in-process DERs (${counts.pv ?? 0} PV, ${counts.battery ?? 0} battery, ${counts.hybrid ?? 0} hybrid) in 3 groups; ` +
      `virtual clock at ${o.speed}x from ${new Date(start).toISOString()}. Protocol servers and the CIM API arrive in later issues.`,
    { type: 'start', ders: fleet.length, counts, groups: ['feeder-a', 'feeder-b', 'storage'], speed: o.speed, virtualStart: start },
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
    // A communications loss: two storage members drop off; the tracker re-plans around them.
    for (const id of storage.slice(0, 2)) {
      hub.detach(id);
      say(`${t(clock.now())} comms lost to ${id}`, { type: 'comms-lost', derId: id });
    }
  });
  at(60, () => tracker.submit({ mRID: 'volt-support', groupId: 'feeder-b', control: { kind: 'reactivePower', value: -20, unit: '%' } }));
  at(110, () => tracker.cancel('limit-a', 'operator lifted the limit'));

  const end = o.durationS === undefined ? Infinity : start + o.durationS * 1000;
  const tickMs = 100;
  let stop = (): void => {};
  await new Promise<void>((resolve) => {
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      const target = Math.min(end, clock.now() + tickMs * o.speed);
      void clock.advanceTo(target).then(() => {
        busy = false;
        if (clock.now() >= end) {
          clearInterval(timer);
          resolve();
        }
      });
    }, tickMs);
    stop = (): void => {
      clearInterval(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  process.off('SIGINT', stop);
  process.off('SIGTERM', stop);
  say(`${t(clock.now())} demo stopped; ${aggregator.droppedSamples} samples dropped`, { type: 'stop', at: clock.now(), droppedSamples: aggregator.droppedSamples });
  printer.unsubscribe();
  tracker.stop();
  aggregator.stop();
  hub.stop();
  await Promise.all(adapters.map((a) => a.close()));
}
