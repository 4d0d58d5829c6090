import { describe, expect, it } from 'vitest';
import type { DerView } from '../../src/core/aggregator.js';
import { parseDer } from '../../src/core/model/der.js';
import { controlSchema, type Control } from '../../src/core/model/control.js';
import { planControl, planRelease } from '../../src/core/planner/plan.js';
import type { SetpointKind } from '../../src/core/model/setpoint.js';
import { battery, pv, sample } from '../support/fixtures.js';

const T = 1_000;
const view = (input: ReturnType<typeof pv>, over: Parameters<typeof sample>[2] = {}, freshness: DerView['freshness'] = 'fresh'): DerView => ({
  der: parseDer(input),
  freshness,
  sample: sample(input.mRID, T, over),
});
const all = (): boolean => true;
const plan = (control: unknown, members: DerView[], extra: Partial<Parameters<typeof planControl>[0]> = {}) =>
  planControl({ dispatchId: 'd', control: controlSchema.parse(control) as Control, value: (control as { value?: number }).value, policy: 'headroom', members, supports: all, ...extra });

describe('planControl', () => {
  const members = [
    view(pv('p1', 10_000), { w: 5000, availWMax: 8000, availVarMax: 4400, availVarMin: -4400 }),
    view(pv('p2', 10_000), { w: 1000, availWMax: 2000, availVarMax: 4400, availVarMin: -4400 }),
    view(battery('b1', 5000), { w: 0, soc: 60, availWMax: 5000, availWMin: -5000, availVarMax: 2200, availVarMin: -2200 }),
  ];

  it('splits active power by headroom and reports a feasible plan', () => {
    const p = plan({ kind: 'activePower', value: 7500 }, members);
    expect(p.setpoints.map((s) => s.kind === 'activePower' && s.w)).toEqual([4000, 1000, 2500]);
    expect(p.shortfall).toBe(0);
    expect(p.achievable).toBe(7500);
    expect(p.setpoints.every((s) => s.dispatchId === 'd')).toBe(true);
  });

  it('charges storage for a negative target and reports the shortfall', () => {
    const p = plan({ kind: 'activePower', value: -8000 }, members);
    expect(p.setpoints.map((s) => s.kind === 'activePower' && s.w)).toEqual([0, 0, -5000]);
    expect(p.shortfall).toBe(-3000);
  });

  it('takes % of the installed rating in the requested direction', () => {
    const p = plan({ kind: 'activePower', value: 50, unit: '%' }, members);
    expect(p.target).toBe(12_500);
  });

  it('leaves out stale, offline, disconnected and unsupporting members, with reasons', () => {
    const ms = [
      view(pv('ok', 1000), { availWMax: 1000 }),
      view(pv('st', 1000), { availWMax: 1000 }, 'stale'),
      view(pv('off', 1000), {}, 'offline'),
      view(pv('disc', 1000), { connected: false, availWMax: 1000 }),
      view(pv('nos', 1000), { availWMax: 1000 }),
      view(pv('bad', 1000), { availWMax: 1000 }),
    ];
    const p = plan({ kind: 'activePower', value: 500 }, ms, {
      supports: (id: string, k: SetpointKind) => !(id === 'nos' && k === 'activePower'),
      exclude: new Map([['bad', 'rejected: busy']]),
    });
    expect(p.setpoints.map((s) => s.derId)).toEqual(['ok']);
    expect(Object.fromEntries(p.excluded.map((e) => [e.derId, e.reason]))).toEqual({
      st: 'stale',
      off: 'offline',
      disc: 'disconnected',
      nos: 'does not support activePower',
      bad: 'rejected: busy',
    });
  });

  it('keeps reactive power inside each VA circle', () => {
    // 10 kW at 10 kW output on an 11 kVA inverter leaves sqrt(11^2-10^2) = 4.58 kvar, capped at 4.4.
    const ms = [view(pv('p', 10_000), { w: 10_000, availWMax: 10_000, availVarMax: 4400, availVarMin: -4400 })];
    expect(plan({ kind: 'reactivePower', value: 9000 }, ms).achievable).toBeCloseTo(4400);
    const p = plan({ kind: 'reactivePower', value: 9000 }, ms, { plannedW: new Map([['p', 10_900]]) });
    expect(p.achievable).toBeCloseTo(Math.sqrt(11_000 ** 2 - 10_900 ** 2), 6);
    expect(p.shortfall).toBeGreaterThan(0);
  });

  it('gives every member the same limit percentage, the same pf and the same curves', () => {
    const lim = plan({ kind: 'activePowerLimit', value: 12_500, unit: 'W' }, members);
    expect(lim.setpoints.map((s) => s.kind === 'activePowerLimit' && [s.pct, s.w])).toEqual([[50, 5000], [50, 5000], [50, 2500]]);
    const pf = plan({ kind: 'powerFactor', value: 0.95, excitation: 'absorbing' }, members);
    expect(pf.setpoints.every((s) => s.kind === 'powerFactor' && s.pf === 0.95 && s.excitation === 'absorbing')).toBe(true);
    const curve = [{ v: 92, var: 44 }, { v: 108, var: -44 }];
    expect(plan({ kind: 'voltVar', curve }, members).setpoints).toHaveLength(3);
    expect(plan({ kind: 'connect', connected: false }, members).setpoints.every((s) => s.kind === 'connect' && !s.connected)).toBe(true);
  });

  it('shares a group W/s ramp rate by rating and takes %/s per DER', () => {
    const r = plan({ kind: 'rampRates', rates: { increasing: 2500, unit: 'W/s' } }, members);
    expect(r.setpoints.map((s) => s.kind === 'rampRates' && s.increasingWPerS)).toEqual([1000, 1000, 500]);
    expect(r.setpoints.every((s) => s.kind === 'rampRates' && s.decreasingWPerS === null)).toBe(true);
  });

  it('releases a slot on every reachable member', () => {
    const rel = planRelease({ dispatchId: 'd', members: [...members, view(pv('x', 1), {}, 'offline')], supports: all }, 'activePower');
    expect(rel.map((s) => s.derId)).toEqual(['p1', 'p2', 'b1']);
  });
});
