import type { ApplyOutcome, Setpoint } from '../core/model/setpoint.js';
import type { TelemetrySample } from '../core/model/telemetry.js';

/**
 * The "wire" between a simulated device and its adapter when both live in one process: the
 * device answers reads and writes by method call. Real protocols (SunSpec Modbus, DNP3, OpenFMB)
 * replace this in deployments; it is what the core demo and large in-process fleets use.
 */
export interface InProcessDevice {
  readonly id: string;
  /** Measure now; null when the device does not answer (communication loss). */
  read(): TelemetrySample | null;
  /** Apply a setpoint; null when the device does not answer. */
  write(setpoint: Setpoint): ApplyOutcome | null;
  /** Latency before the device answers, ms (a slow device). */
  readonly responseDelayMs: number;
  /** The setpoint kinds the device implements. */
  readonly accepts: ReadonlySet<Setpoint['kind']>;
}
