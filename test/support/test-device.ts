import { BehaviorSubject, Subject } from 'rxjs';
import type { DeviceAdapter, DeviceCapabilities, LinkState } from '../../src/core/ports.js';
import type { ApplyOutcome, Setpoint, SetpointKind } from '../../src/core/model/setpoint.js';
import type { TelemetrySample } from '../../src/core/model/telemetry.js';

const everything: SetpointKind[] = ['activePower', 'reactivePower', 'powerFactor', 'activePowerLimit', 'voltVar', 'voltWatt', 'rampRates', 'connect', 'release'];

/**
 * Test double for the DeviceAdapter port: records every setpoint, answers as told (applied by
 * default, or reject / never answer), and emits samples only when the test asks.
 */
export class TestDevice implements DeviceAdapter {
  readonly telemetry$ = new Subject<TelemetrySample>();
  readonly link$ = new BehaviorSubject<LinkState>('online');
  readonly received: Setpoint[] = [];
  inFlight = 0;
  maxInFlight = 0;
  mode: 'apply' | 'reject' | 'hang' | 'throw' = 'apply';
  /** Resolve writes only when `release()` is called. */
  manual = false;
  private waiting: (() => void)[] = [];

  constructor(
    readonly derId: string,
    private readonly caps: Partial<DeviceCapabilities> = {},
  ) {}

  capabilities(): DeviceCapabilities {
    return { setpoints: this.caps.setpoints ?? new Set(everything), nativeRamp: this.caps.nativeRamp ?? false };
  }

  apply(sp: Setpoint): Promise<ApplyOutcome> {
    this.received.push(sp);
    if (this.mode === 'throw') throw new Error('socket closed');
    if (this.mode === 'hang') return new Promise(() => {});
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    const outcome: ApplyOutcome = this.mode === 'reject' ? { status: 'rejected', reason: 'device says no' } : { status: 'applied' };
    return new Promise((resolve) => {
      const done = (): void => {
        this.inFlight--;
        resolve(outcome);
      };
      if (this.manual) this.waiting.push(done);
      else queueMicrotask(done);
    });
  }

  release(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const d of w) d();
  }

  last(kind?: SetpointKind): Setpoint | undefined {
    for (let i = this.received.length - 1; i >= 0; i--) if (!kind || this.received[i]!.kind === kind) return this.received[i];
    return undefined;
  }

  async close(): Promise<void> {
    this.telemetry$.complete();
  }
}
