import type { Nameplate } from '../core/model/der.js';
import type { VoltVarCurve, VoltWattCurve } from '../core/model/control.js';

/**
 * A simulated fleet after its file is parsed, validated and every generator expanded: what the
 * simulation engine builds devices and feeders from. Units are the core's (W, var, V, Hz, Wh,
 * percent, seconds, epoch ms); angles in degrees.
 */
export interface FleetSpec {
  readonly name: string;
  /** Seeds every random process (clouds, noise, enter-service delays, generation). */
  readonly seed: number;
  readonly clock: ClockSpec;
  /** Default site for devices that give none. */
  readonly site: SiteSpec;
  readonly weather: WeatherSpec;
  readonly feeders: readonly FeederSpec[];
  readonly devices: readonly DeviceSpec[];
  /** Faults scheduled from the file (more can be injected at run time). */
  readonly faults: readonly FaultSpec[];
}

export interface ClockSpec {
  /** Simulated start time, epoch ms. */
  readonly start: number;
  /** Simulation step, ms (1000 by default). */
  readonly stepMs: number;
  /** realtime: 1 s per s; accelerated: `speed` s per s; fast: as fast as the CPU allows. */
  readonly mode: 'realtime' | 'accelerated' | 'fast';
  readonly speed: number;
}

export interface SiteSpec {
  readonly latitudeDeg: number;
  readonly longitudeDeg: number;
  readonly altitudeM: number;
}

export interface WeatherSpec {
  /** Mean clearness index of the cloud process, 0..1 (1 = always clear sky). */
  readonly meanClearness: number;
  /** Standard deviation of the clearness index around its mean, 0..0.5. */
  readonly variability: number;
  /** Correlation time of the cloud process, seconds. */
  readonly cloudTimescaleS: number;
  /** Daily ambient temperature range, degrees C (min at dawn, max mid-afternoon). */
  readonly ambientMinC: number;
  readonly ambientMaxC: number;
}

export interface FeederSpec {
  readonly id: string;
  /** Nominal voltage at the service points (the devices' nominal V), volts. */
  readonly nominalV: number;
  /** Substation (head) voltage, per unit of nominal. */
  readonly headVoltagePu: number;
  /** Radial sections; the one with `parent: null` hangs off the substation. */
  readonly sections: readonly FeederSectionSpec[];
}

export interface FeederSectionSpec {
  readonly id: string;
  readonly parent: string | null;
  /** Impedance of the line from the parent (or the substation) to this section, ohms, referred to nominalV. */
  readonly rOhm: number;
  readonly xOhm: number;
  /** Peak load at this section, W, shaped by the profile; power factor of the load. */
  readonly loadPeakW: number;
  readonly loadPf: number;
  readonly loadProfile: 'residential' | 'commercial' | 'flat';
}

export type DeviceProtocol = 'sunspec' | 'dnp3' | 'openfmb' | 'in-process';

export interface DeviceSpec {
  /** mRID of the DER. */
  readonly id: string;
  readonly name: string;
  readonly kind: 'pv' | 'battery' | 'hybrid';
  readonly feeder: string;
  readonly section: string;
  readonly site: SiteSpec;
  readonly nameplate: Nameplate;
  readonly pv: PvSpec | null;
  readonly battery: BatterySpec | null;
  readonly protocol: DeviceProtocol;
  /** Protocol details; the protocol issues give them meaning (ports are assigned at serve time). */
  readonly endpoint: EndpointSpec;
  /** IEEE 1547-2018 settings that differ from the category defaults. */
  readonly settings: Partial<Ieee1547Settings>;
}

export interface EndpointSpec {
  /** SunSpec: one TCP port per device, or one gateway port shared by many unit ids. */
  readonly sunspecMode?: 'port' | 'gateway';
  readonly sunspecProfile?: 'legacy' | '700' | 'both';
  readonly unitId?: number;
  /** DNP3 outstation address. */
  readonly outstation?: number;
  /** Fixed TCP port, when the file pins one. */
  readonly port?: number;
}

export interface PvSpec {
  /** DC (array) rating at standard test conditions, W. */
  readonly dcRatingW: number;
  readonly tiltDeg: number;
  /** 180 = facing south. */
  readonly azimuthDeg: number;
  /** Power temperature coefficient, %/degree C (negative). */
  readonly tempCoeffPctPerC: number;
  /** Nominal operating cell temperature, degrees C. */
  readonly noctC: number;
  /** DC losses (soiling, wiring, mismatch), fraction 0..1. */
  readonly dcLosses: number;
}

export interface BatterySpec {
  /** One-way efficiencies, 0..1: energy stored = charge energy x chargeEfficiency, delivered = stored x dischargeEfficiency. */
  readonly chargeEfficiency: number;
  readonly dischargeEfficiency: number;
  readonly minReservePct: number;
  readonly maxSocPct: number;
  readonly initialSocPct: number;
}

/** IEEE 1547-2018 function settings, normalized (percent of ratings, per-unit of nominal V, Hz, seconds). */
export interface Ieee1547Settings {
  readonly activePowerLimitPct: number | null;
  readonly reactiveMode: 'none' | 'constantPf' | 'constantVar' | 'voltVar';
  readonly pf: number;
  readonly pfExcitation: 'injecting' | 'absorbing';
  /** Constant var, % of the var rating in that direction (inject positive). */
  readonly constantVarPct: number;
  readonly voltVarCurve: VoltVarCurve;
  readonly voltVarResponseS: number;
  readonly voltWattEnabled: boolean;
  readonly voltWattCurve: VoltWattCurve;
  readonly voltWattResponseS: number;
  readonly freqWattEnabled: boolean;
  /** Frequency-droop dead bands (Hz) and droops (per unit frequency change per unit power). */
  readonly fwDbOverHz: number;
  readonly fwDbUnderHz: number;
  readonly fwKOver: number;
  readonly fwKUnder: number;
  readonly fwResponseS: number;
  /** Normal ramp rate for increases of active power, % of max W per second. */
  readonly rampUpPctPerS: number;
  readonly rampDownPctPerS: number;
  /** Enter-service window and behaviour. */
  readonly esVMinPu: number;
  readonly esVMaxPu: number;
  readonly esFMinHz: number;
  readonly esFMaxHz: number;
  readonly esDelayS: number;
  readonly esRandomWindowS: number;
  readonly esRampS: number;
  /** Open-loop response time for active-power setpoints, seconds. */
  readonly activePowerResponseS: number;
}

export type FaultKind = 'commsLoss' | 'trip' | 'stuckSetpoint' | 'rejectCommands' | 'slowResponse' | 'noisyMeasurements';

export interface FaultSpec {
  /** Device ids the fault applies to. */
  readonly devices: readonly string[];
  readonly kind: FaultKind;
  /** Seconds after the simulation start. */
  readonly atS: number;
  /** How long it lasts; null = until cleared at run time. */
  readonly durationS: number | null;
  /** slowResponse: added latency ms; noisyMeasurements: relative noise sd. */
  readonly magnitude: number;
}
