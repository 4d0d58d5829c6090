import type { DispatchEvent } from '../../core/dispatch-events.js';
import type { Dispatch } from '../../core/model/control.js';
import type { DispatchRow, EnergyInterval, MemberOutcome } from '../records.js';
import { fromJson, toJson, where, type RepoContext } from './context.js';

interface DispatchDbRow { id: string; group_id: string; control_kind: string; body: string; state: string; accepted_at: number; ended_at: number | null; end_reason: string | null }
const dispatchRow = (r: DispatchDbRow): DispatchRow => ({
  id: r.id,
  groupId: r.group_id,
  controlKind: r.control_kind,
  dispatch: fromJson<Dispatch>(r.body),
  state: r.state,
  acceptedAt: r.accepted_at,
  endedAt: r.ended_at,
  endReason: r.end_reason,
});

interface OutcomeRow { dispatch_id: string; der_id: string; at: number; setpoint_kind: string; requested_w: number | null; status: string; detail: string | null }
const outcome = (r: OutcomeRow): MemberOutcome => ({
  dispatchId: r.dispatch_id,
  derId: r.der_id,
  at: r.at,
  setpointKind: r.setpoint_kind,
  requestedW: r.requested_w,
  status: r.status,
  detail: r.detail,
});

/** The dispatch log: every tracker event as it happened, and per-dispatch and per-member rows drawn from them. */
export class DispatchRepo {
  constructor(private readonly c: RepoContext) {}

  /** The raw event (the core port's `appendDispatchEvent`). */
  async appendEvent(e: { dispatchId: string; at: number; type: string; body: unknown }): Promise<void> {
    await this.c.sql.run('INSERT INTO dispatch_events (dispatch_id, at, type, body) VALUES (?, ?, ?, ?)', [e.dispatchId, e.at, e.type, toJson(e.body)]);
  }

  /**
   * A tracker event: appended raw, and reflected in the dispatch row (accepted, ended) and the
   * member outcomes (each setpoint write's result and, for active power, the W requested). Events
   * for a dispatch accepted before recording began are kept raw only.
   */
  record(events: readonly DispatchEvent[]): Promise<void> {
    return this.c.atomic(async (c) => {
      const repo = new DispatchRepo(c);
      for (const e of events) {
        await repo.appendEvent({ dispatchId: e.dispatchId, at: e.at, type: e.type, body: e });
        if (e.type === 'accepted') {
          await c.sql.run(
            `INSERT INTO dispatches (id, group_id, control_kind, body, state, accepted_at) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (id) DO NOTHING`,
            [e.dispatchId, e.groupId, e.dispatch.control.kind, toJson(e.dispatch), 'active', e.at],
          );
        } else if (e.type === 'outcome') {
          const sp = e.setpoint;
          const requestedW = sp.kind === 'activePower' ? sp.w : null;
          const detail = e.outcome.status === 'rejected' ? e.outcome.reason : null;
          await c.sql.run(
            `INSERT INTO dispatch_outcomes (dispatch_id, der_id, at, setpoint_kind, requested_w, status, detail)
             SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM dispatches WHERE id = ?)`,
            [e.dispatchId, e.derId, e.at, sp.kind, requestedW, e.outcome.status, detail, e.dispatchId],
          );
        } else if (e.type === 'ended') {
          await c.sql.run('UPDATE dispatches SET state = ?, ended_at = ?, end_reason = ? WHERE id = ?', [e.state, e.at, e.reason, e.dispatchId]);
        }
      }
    });
  }

  async get(id: string): Promise<DispatchRow | undefined> {
    const r = await this.c.sql.get<DispatchDbRow>('SELECT * FROM dispatches WHERE id = ?', [id]);
    return r && dispatchRow(r);
  }

  /** Dispatches active at some time in [from, to) (all of them without bounds). */
  async list(f: { groupId?: string; from?: number; to?: number } = {}): Promise<DispatchRow[]> {
    const w = where([
      ['group_id = ?', f.groupId],
      ['accepted_at < ?', f.to],
      ['(ended_at IS NULL OR ended_at > ?)', f.from],
    ]);
    return (await this.c.sql.all<DispatchDbRow>(`SELECT * FROM dispatches${w.clause} ORDER BY accepted_at, id`, w.params)).map(dispatchRow);
  }

  /** Dispatches in which a DER received at least one setpoint, active at some time in [from, to). */
  async ofDer(derId: string, f: { from?: number; to?: number } = {}): Promise<DispatchRow[]> {
    const w = where([
      ['EXISTS (SELECT 1 FROM dispatch_outcomes o WHERE o.dispatch_id = d.id AND o.der_id = ?)', derId],
      ['d.accepted_at < ?', f.to],
      ['(d.ended_at IS NULL OR d.ended_at > ?)', f.from],
    ]);
    return (await this.c.sql.all<DispatchDbRow>(`SELECT d.* FROM dispatches d${w.clause} ORDER BY d.accepted_at, d.id`, w.params)).map(dispatchRow);
  }

  async outcomes(dispatchId: string, derId?: string): Promise<MemberOutcome[]> {
    const w = where([['dispatch_id = ?', dispatchId], ['der_id = ?', derId]]);
    return (await this.c.sql.all<OutcomeRow>(`SELECT dispatch_id, der_id, at, setpoint_kind, requested_w, status, detail FROM dispatch_outcomes${w.clause} ORDER BY at, id`, w.params)).map(outcome);
  }

  async events(dispatchId: string): Promise<Array<{ at: number; type: string; body: unknown }>> {
    const rows = await this.c.sql.all<{ at: number; type: string; body: string }>('SELECT at, type, body FROM dispatch_events WHERE dispatch_id = ? ORDER BY id', [dispatchId]);
    return rows.map((r) => ({ at: r.at, type: r.type, body: fromJson<unknown>(r.body) }));
  }
}

interface EnergyRow { der_id: string; interval_start: number; interval_ms: number; out_wh: number; in_wh: number; covered_ms: number }
const interval = (r: EnergyRow): EnergyInterval => ({
  derId: r.der_id,
  intervalStart: r.interval_start,
  intervalMs: r.interval_ms,
  outWh: r.out_wh,
  inWh: r.in_wh,
  coveredMs: r.covered_ms,
});

/** Energy per DER per interval, integrated from telemetry. */
export class EnergyRepo {
  constructor(private readonly c: RepoContext) {}

  /** Add energy to intervals (an interval written twice, e.g. before and after a restart, sums). */
  add(rows: readonly EnergyInterval[]): Promise<void> {
    return this.c.atomic(async (c) => {
      for (const r of rows) {
        await c.sql.run(
          `INSERT INTO energy_rollups (der_id, interval_start, interval_ms, out_wh, in_wh, covered_ms) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (der_id, interval_start) DO UPDATE SET
             out_wh = energy_rollups.out_wh + excluded.out_wh,
             in_wh = energy_rollups.in_wh + excluded.in_wh,
             covered_ms = energy_rollups.covered_ms + excluded.covered_ms`,
          [r.derId, r.intervalStart, r.intervalMs, r.outWh, r.inWh, r.coveredMs],
        );
      }
    });
  }

  /** Intervals of one DER overlapping [from, to). */
  async range(derId: string, from: number, to: number): Promise<EnergyInterval[]> {
    const rows = await this.c.sql.all<EnergyRow>(
      'SELECT * FROM energy_rollups WHERE der_id = ? AND interval_start < ? AND interval_start + interval_ms > ? ORDER BY interval_start',
      [derId, to, from],
    );
    return rows.map(interval);
  }
}
