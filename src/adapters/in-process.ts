import { BehaviorSubject, Subject, interval, type Observable, type Subscription } from 'rxjs';
import type { ApplyOutcome, Setpoint } from '../core/model/setpoint.js';
import type { TelemetrySample } from '../core/model/telemetry.js';
import type { Clock, DeviceAdapter, DeviceCapabilities, LinkState } from '../core/ports.js';
import type { InProcessDevice } from '../protocols/in-process.js';

/** Adapter for an in-process device: polls it on the clock and forwards writes by method call. */
export class InProcessAdapter implements DeviceAdapter {
  private readonly samples = new Subject<TelemetrySample>();
  private readonly link = new BehaviorSubject<LinkState>('online');
  readonly telemetry$: Observable<TelemetrySample> = this.samples.asObservable();
  readonly link$: Observable<LinkState> = this.link.asObservable();
  private readonly poll: Subscription;

  constructor(
    readonly derId: string,
    private readonly device: InProcessDevice,
    clock: Clock,
    pollPeriodMs: number,
  ) {
    this.poll = interval(pollPeriodMs, clock).subscribe(() => this.samples.next(this.device.read()));
  }

  capabilities(): DeviceCapabilities {
    return { setpoints: this.device.accepts, nativeRamp: false };
  }

  async apply(setpoint: Setpoint): Promise<ApplyOutcome> {
    try {
      return this.device.write(setpoint);
    } catch (e) {
      return { status: 'rejected', reason: e instanceof Error ? e.message : String(e) };
    }
  }

  async close(): Promise<void> {
    this.poll.unsubscribe();
    this.link.next('offline');
    this.samples.complete();
  }
}
