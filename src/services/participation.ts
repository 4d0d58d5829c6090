import type { DispatchRow, EnergyInterval, MemberOutcome } from '../store/records.js';

/** Energy of a DER over [from, to) from its rollups, each interval counted by its overlap (energy is taken as even within an interval). */
export function energyIn(intervals: readonly EnergyInterval[], from: number, to: number): { outWh: number; inWh: number; netWh: number } {
  let outWh = 0;
  let inWh = 0;
  for (const r of intervals) {
    const start = Math.max(from, r.intervalStart);
    const end = Math.min(to, r.intervalStart + r.intervalMs);
    if (end <= start) continue;
    const share = (end - start) / r.intervalMs;
    outWh += r.outWh * share;
    inWh += r.inWh * share;
  }
  return { outWh, inWh, netWh: outWh - inWh };
}

/**
 * Energy asked of a member over [from, to), Wh: each active-power setpoint holds from its outcome
 * until the next one or the end of the dispatch. Null when the member got no active-power setpoint
 * (other controls ask for no energy).
 */
export function requestedWh(outcomes: readonly MemberOutcome[], dispatchEnd: number, from: number, to: number): number | null {
  const steps = outcomes.filter((o) => o.requestedW !== null);
  if (steps.length === 0) return null;
  let wh = 0;
  steps.forEach((o, i) => {
    const start = Math.max(from, o.at);
    const end = Math.min(to, steps[i + 1]?.at ?? dispatchEnd);
    if (end > start) wh += (o.requestedW! * (end - start)) / 3_600_000;
  });
  return wh;
}

/** Delivered energy that counts toward a request: same direction, at most what was asked. */
export function settledWh(requested: number | null, delivered: number): number {
  if (requested === null || requested === 0) return 0;
  return requested > 0 ? Math.min(Math.max(delivered, 0), requested) : Math.max(Math.min(delivered, 0), requested);
}

export interface MemberParticipation {
  readonly dispatchId: string;
  readonly groupId: string;
  readonly controlKind: string;
  /** The part of the dispatch this member took part in, within the asked period. */
  readonly from: number;
  readonly to: number;
  readonly requestedWh: number | null;
  readonly deliveredWh: number;
  readonly settledWh: number;
  readonly setpoints: { readonly applied: number; readonly rejected: number; readonly timedOut: number };
}

/**
 * One member's part in one dispatch over [from, to): from its first setpoint to the dispatch's end
 * (or `now` while it runs), energy requested from the setpoints and delivered from the rollups.
 */
export function memberParticipation(d: DispatchRow, outcomes: readonly MemberOutcome[], energy: readonly EnergyInterval[], from: number, to: number, now: number): MemberParticipation | null {
  if (outcomes.length === 0) return null;
  const end = d.endedAt ?? now;
  const start = Math.max(from, outcomes[0]!.at);
  const stop = Math.min(to, end);
  if (stop <= start) return null;
  const requested = requestedWh(outcomes, end, start, stop);
  const delivered = energyIn(energy, start, stop).netWh;
  const count = (s: string) => outcomes.filter((o) => o.status === s).length;
  return {
    dispatchId: d.id,
    groupId: d.groupId,
    controlKind: d.controlKind,
    from: start,
    to: stop,
    requestedWh: requested,
    deliveredWh: delivered,
    settledWh: settledWh(requested, delivered),
    setpoints: { applied: count('applied'), rejected: count('rejected'), timedOut: count('timedOut') },
  };
}

/** Money for settled energy at a rate per kWh, rounded to cents. */
export function amountFor(settled: number, ratePerKWh: number): number {
  return Math.round((Math.abs(settled) / 1000) * ratePerKWh * 100) / 100;
}
