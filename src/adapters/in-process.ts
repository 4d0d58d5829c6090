import { BehaviorSubject, Subject, interval, type Observable, type Subscription } from 'rxjs';
import type { ApplyOutcome, Setpoint } from '../core/model/setpoint.js';
import type { TelemetrySample } from '../core/model/telemetry.js';
import type { Clock, DeviceAdapter, DeviceCapabilities, LinkState } from '../core/ports.js';
import type { InProcessDevice } from '../protocols/in-process.js';

export interface InProcessAdapterOptions {
  readonly pollPeriodMs: number;
  /** A write the device does not answer is reported timed out after this long. */
  readonly timeoutMs?: number;
  /** Polls without an answer before the link is declared offline. */
  readonly offlineAfterMisses?: number;
}

/** Adapter for an in-process device: polls it on the clock and forwards writes by method call. */
export class InProcessAdapter implements DeviceAdapter {
  private readonly samples = new Subject<TelemetrySample>();
  private readonly link = new BehaviorSubject<LinkState>('online');
  readonly telemetry$: Observable<TelemetrySample> = this.samples.asObservable();
  readonly link$: Observable<LinkState> = this.link.asObservable();
  private readonly poll: Subscription;
  private misses = 0;

  constructor(
    readonly derId: string,
    private readonly device: InProcessDevice,
    private readonly clock: Clock,
    private readonly o: InProcessAdapterOptions,
  ) {
    this.poll = interval(o.pollPeriodMs, clock).subscribe(() => this.read());
  }

  capabilities(): DeviceCapabilities {
    return { setpoints: this.device.accepts, nativeRamp: false };
  }

  apply(setpoint: Setpoint): Promise<ApplyOutcome> {
    return new Promise((resolve) => {
      const answer = (): void => {
        let out: ApplyOutcome | null;
        try {
          out = this.device.write(setpoint);
        } catch (e) {
          out = { status: 'rejected', reason: e instanceof Error ? e.message : String(e) };
        }
        if (out) resolve(out);
        else this.clock.schedule(() => resolve({ status: 'timedOut' }), this.o.timeoutMs ?? 5000);
      };
      const delay = this.device.responseDelayMs;
      if (delay > 0) this.clock.schedule(answer, delay);
      else answer();
    });
  }

  async close(): Promise<void> {
    this.poll.unsubscribe();
    this.link.next('offline');
    this.samples.complete();
    this.link.complete();
  }

  private read(): void {
    const s = this.device.read();
    if (s) {
      this.misses = 0;
      if (this.link.value === 'offline') this.link.next('online');
      this.samples.next(s);
    } else if (++this.misses >= (this.o.offlineAfterMisses ?? 3) && this.link.value === 'online') {
      this.link.next('offline');
    }
  }
}
