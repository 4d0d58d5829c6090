import type { Clock, DeviceAdapter } from './ports.js';
import type { ApplyOutcome, Setpoint } from './model/setpoint.js';

interface Job {
  readonly coalesceKey: string;
  setpoint: Setpoint;
  adapter: DeviceAdapter;
  /** Called once with the outcome, or with null when a newer setpoint replaced it before the write. */
  onDone: (outcome: ApplyOutcome | null) => void;
}

interface Lane {
  running: number;
  readonly queue: Job[];
}

/**
 * Writes setpoints to adapters with at most `limit` writes in flight per endpoint (one Modbus
 * gateway or DNP3 link serves several DERs, and most devices handle one request at a time). A
 * setpoint still waiting for its turn is replaced by a newer one for the same DER and function,
 * so a slow device receives the latest value rather than a backlog. Every write ends in an
 * outcome; one that takes longer than `timeoutMs` on the clock is reported as timed out.
 */
export class WriteQueue {
  private readonly lanes = new Map<string, Lane>();

  constructor(
    private readonly clock: Clock,
    private readonly limit: number,
    private readonly timeoutMs: number,
  ) {
    if (!(limit >= 1)) throw new RangeError('per-endpoint concurrency must be at least 1');
  }

  submit(endpoint: string, coalesceKey: string, adapter: DeviceAdapter, setpoint: Setpoint, onDone: Job['onDone']): void {
    let lane = this.lanes.get(endpoint);
    if (!lane) this.lanes.set(endpoint, (lane = { running: 0, queue: [] }));
    const waiting = lane.queue.find((j) => j.coalesceKey === coalesceKey);
    if (waiting) {
      const replaced = waiting.onDone;
      waiting.setpoint = setpoint;
      waiting.adapter = adapter;
      waiting.onDone = onDone;
      replaced(null);
      return;
    }
    lane.queue.push({ coalesceKey, setpoint, adapter, onDone });
    this.pump(lane);
  }

  /** Writes waiting or in flight, over all endpoints. */
  get backlog(): number {
    let n = 0;
    for (const l of this.lanes.values()) n += l.running + l.queue.length;
    return n;
  }

  private pump(lane: Lane): void {
    while (lane.running < this.limit && lane.queue.length > 0) {
      const job = lane.queue.shift()!;
      lane.running++;
      void this.write(job).then((outcome) => {
        lane.running--;
        job.onDone(outcome);
        this.pump(lane);
      });
    }
  }

  private write(job: Job): Promise<ApplyOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (o: ApplyOutcome): void => {
        if (settled) return;
        settled = true;
        timer.unsubscribe();
        resolve(o);
      };
      const timer = this.clock.schedule(() => finish({ status: 'timedOut' }), this.timeoutMs);
      let pending: Promise<ApplyOutcome>;
      try {
        pending = job.adapter.apply(job.setpoint);
      } catch (e) {
        pending = Promise.reject(e);
      }
      pending.then(finish, (e: unknown) => finish({ status: 'rejected', reason: `adapter failed: ${e instanceof Error ? e.message : String(e)}` }));
    });
  }
}
