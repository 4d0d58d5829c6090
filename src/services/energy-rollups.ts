import { interval, type Observable, type Subscription } from 'rxjs';
import type { TelemetrySample } from '../core/model/telemetry.js';
import type { Clock } from '../core/ports.js';
import type { EnergyInterval } from '../store/records.js';

export interface EnergyRollupOptions {
  /** Length of one interval, ms (5 minutes by default; settlement periods are whole numbers of them). */
  readonly intervalMs?: number;
  /** Two samples further apart than this are not joined: the gap counts as not covered. */
  readonly maxGapMs?: number;
}

const WH_PER_WMS = 1 / 3_600_000;

/**
 * Energy per DER per interval from telemetry: the power between two consecutive samples is taken
 * as a straight line (trapezoid rule), split at interval boundaries and at zero crossings so export
 * and import are counted apart. Completed intervals are written to the store in one transaction;
 * a failed write keeps them for the next flush.
 */
export class EnergyRollups {
  private readonly intervalMs: number;
  private readonly maxGapMs: number;
  private readonly last = new Map<string, { t: number; w: number }>();
  private readonly open = new Map<string, EnergyInterval>();
  private flushing: Promise<number> = Promise.resolve(0);

  constructor(
    private readonly store: { readonly energy: { add(rows: readonly EnergyInterval[]): Promise<void> } },
    o: EnergyRollupOptions = {},
  ) {
    this.intervalMs = o.intervalMs ?? 300_000;
    this.maxGapMs = o.maxGapMs ?? 10_000;
  }

  ingest(s: TelemetrySample): void {
    const prev = this.last.get(s.derId);
    if (prev && s.timestamp <= prev.t) return; // repeated or out of order: nothing new
    this.last.set(s.derId, { t: s.timestamp, w: s.w });
    if (!prev || s.timestamp - prev.t > this.maxGapMs) return;
    let t0 = prev.t;
    const slope = (s.w - prev.w) / (s.timestamp - prev.t);
    const wAt = (t: number): number => prev.w + slope * (t - prev.t);
    while (t0 < s.timestamp) {
      const start = Math.floor(t0 / this.intervalMs) * this.intervalMs;
      const t1 = Math.min(s.timestamp, start + this.intervalMs);
      this.add(s.derId, start, t0, t1, wAt(t0), wAt(t1));
      t0 = t1;
    }
  }

  /** Feed from a telemetry stream (an adapter's `telemetry$`, or several merged). */
  attach(telemetry$: Observable<TelemetrySample>): Subscription {
    return telemetry$.subscribe((s) => this.ingest(s));
  }

  /** Write completed intervals every `everyMs` on the clock (those ending at least `graceMs` ago). */
  start(clock: Clock, o: { everyMs?: number; graceMs?: number; onError?: (e: unknown) => void } = {}): Subscription {
    return interval(o.everyMs ?? this.intervalMs, clock).subscribe(() => {
      this.flush(clock.now() - (o.graceMs ?? this.maxGapMs)).catch((e: unknown) => o.onError?.(e));
    });
  }

  /** Write every interval that ends at or before `upTo`; resolves to how many were written. */
  flush(upTo: number = Number.POSITIVE_INFINITY): Promise<number> {
    this.flushing = this.flushing.catch(() => 0).then(async () => {
      const done = [...this.open.entries()].filter(([, r]) => r.intervalStart + r.intervalMs <= upTo);
      if (done.length === 0) return 0;
      for (const [k] of done) this.open.delete(k);
      try {
        await this.store.energy.add(done.map(([, r]) => r));
      } catch (e) {
        for (const [k, r] of done) this.merge(k, r);
        throw e;
      }
      return done.length;
    });
    return this.flushing;
  }

  /** Intervals integrated but not yet written. */
  pending(): readonly EnergyInterval[] {
    return [...this.open.values()];
  }

  private add(derId: string, start: number, t0: number, t1: number, w0: number, w1: number): void {
    let outWh = 0;
    let inWh = 0;
    const piece = (a: number, b: number, wa: number, wb: number): void => {
      const wh = ((wa + wb) / 2) * (b - a) * WH_PER_WMS;
      if (wh >= 0) outWh += wh;
      else inWh -= wh;
    };
    if (w0 * w1 < 0) {
      const z = t0 + ((t1 - t0) * w0) / (w0 - w1);
      piece(t0, z, w0, 0);
      piece(z, t1, 0, w1);
    } else piece(t0, t1, w0, w1);
    this.merge(`${derId}\u0000${start}`, { derId, intervalStart: start, intervalMs: this.intervalMs, outWh, inWh, coveredMs: t1 - t0 });
  }

  private merge(key: string, r: EnergyInterval): void {
    const cur = this.open.get(key);
    this.open.set(key, cur ? { ...cur, outWh: cur.outWh + r.outWh, inWh: cur.inWh + r.inWh, coveredMs: cur.coveredMs + r.coveredMs } : r);
  }
}
