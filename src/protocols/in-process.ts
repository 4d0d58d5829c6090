import type { ApplyOutcome, Setpoint } from '../core/model/setpoint.js';
import type { TelemetrySample } from '../core/model/telemetry.js';

/**
 * The "wire" between a simulated device and its adapter when both live in one process: the
 * device answers reads and writes by method call. Real protocols (SunSpec Modbus, DNP3, OpenFMB)
 * replace this in deployments; it is what the core demo and large in-process fleets use.
 */
export interface InProcessDevice {
  readonly id: string;
  /** Measure now (timestamp from the device's clock). */
  read(): TelemetrySample;
  write(setpoint: Setpoint): ApplyOutcome;
  /** The setpoint kinds the device implements. */
  readonly accepts: ReadonlySet<Setpoint['kind']>;
}
