import { interval, type Subscription } from 'rxjs';
import { DermsError, NotFoundError } from '../core/errors.js';
import type { Clock } from '../core/ports.js';
import type { DeviceSpec, FaultKind, FaultSpec, FleetSpec } from './fleet-spec.js';
import { Feeder } from './feeder.js';
import { SimInverter } from './inverter.js';
import { subSeed } from './random.js';
import { SiteWeather } from './weather.js';

export interface KindTotals {
  devices: number;
  /** Energy delivered to the grid (PV production, storage discharge), Wh. */
  producedWh: number;
  /** Energy taken from the grid (storage charging), Wh. */
  consumedWh: number;
}

export interface SimulationSummary {
  readonly devices: number;
  readonly feeders: number;
  readonly steps: number;
  readonly simulatedSeconds: number;
  readonly byKind: Readonly<Record<DeviceSpec['kind'], KindTotals>>;
  /** Lowest and highest section voltage seen, per unit of the feeder's nominal. */
  readonly voltageMinPu: number;
  readonly voltageMaxPu: number;
}

interface ActiveFault {
  readonly fault: FaultSpec;
  readonly endsAt: number;
}

/**
 * The simulated fleet: devices on feeders under one sky. Each step (of the fleet's `stepMs`)
 * updates the weather per site, steps every device with the voltage its section had at the end
 * of the previous step (a one-step lag, far shorter than any IEEE 1547 response time), then solves
 * each feeder with the new injections. Everything random is seeded from the fleet seed and the
 * device, site or feeder index, so a fleet and seed give the same numbers, to the bit.
 */
export class Simulation {
  readonly devices: readonly SimInverter[];
  readonly feeders: readonly Feeder[];
  /** System frequency seen by every device, Hz (scenarios change it). */
  frequencyHz = 60;
  private readonly byId = new Map<string, number>();
  private readonly deviceFeeder: Int32Array;
  private readonly deviceSection: Int32Array;
  private readonly deviceVScale: Float64Array;
  private readonly weathers: SiteWeather[] = [];
  private readonly deviceWeather: Int32Array;
  private readonly dtS: number;
  private t: number;
  private steps = 0;
  private readonly totals: Record<DeviceSpec['kind'], KindTotals> = {
    pv: { devices: 0, producedWh: 0, consumedWh: 0 },
    battery: { devices: 0, producedWh: 0, consumedWh: 0 },
    hybrid: { devices: 0, producedWh: 0, consumedWh: 0 },
  };
  private vMin = Infinity;
  private vMax = -Infinity;
  private readonly pendingFaults: FaultSpec[];
  private active: ActiveFault[] = [];

  /**
   * `only` restricts the simulation to some feeders and their devices (one worker's share).
   * Seeds come from each device's, feeder's and site's place in the whole fleet, so a partition
   * steps exactly as the whole would.
   */
  constructor(
    readonly spec: FleetSpec,
    options: { readonly only?: readonly string[] } = {},
  ) {
    if (!(spec.clock.stepMs > 0)) throw new DermsError('INVALID_INPUT', 'stepMs must be positive');
    this.dtS = spec.clock.stepMs / 1000;
    this.t = spec.clock.start;
    const only = options.only ? new Set(options.only) : null;
    for (const id of only ?? []) if (!spec.feeders.some((f) => f.id === id)) throw new NotFoundError('feeder', id);
    const feederSpecs = spec.feeders.map((f, i) => ({ f, seed: subSeed(spec.seed, 2_000_000 + i) })).filter(({ f }) => !only || only.has(f.id));
    this.feeders = feederSpecs.map(({ f, seed }) => new Feeder(f, seed, { longitudeDeg: spec.site.longitudeDeg }));
    const feederIndex = new Map(feederSpecs.map(({ f }, i) => [f.id, i]));
    const siteIndex = new Map<string, number>();
    const mine = spec.devices.map((d, global) => ({ d, global })).filter(({ d }) => !only || only.has(d.feeder));
    const n = mine.length;
    this.deviceFeeder = new Int32Array(n);
    this.deviceSection = new Int32Array(n);
    this.deviceVScale = new Float64Array(n);
    this.deviceWeather = new Int32Array(n);
    this.devices = mine.map(({ d, global }, i) => {
      if (this.byId.has(d.id)) throw new DermsError('INVALID_INPUT', `duplicate device id ${d.id}`);
      this.byId.set(d.id, i);
      const f = feederIndex.get(d.feeder);
      if (f === undefined) throw new NotFoundError('feeder', d.feeder);
      const feeder = this.feeders[f]!;
      this.deviceFeeder[i] = f;
      this.deviceSection[i] = feeder.sectionIndex(d.section);
      this.deviceVScale[i] = d.nameplate.nominalV / feeder.nominalV;
      const key = `${d.site.latitudeDeg},${d.site.longitudeDeg},${d.site.altitudeM}`;
      let w = siteIndex.get(key);
      if (w === undefined) {
        w = this.weathers.length;
        siteIndex.set(key, w);
        this.weathers.push(new SiteWeather(d.site, spec.weather, subSeed(spec.seed, 1_000_000 + hash32(key))));
      }
      this.deviceWeather[i] = w;
      this.totals[d.kind].devices++;
      return new SimInverter(d, subSeed(spec.seed, global));
    });
    const allIds = new Set(spec.devices.map((d) => d.id));
    for (const fault of spec.faults) for (const id of fault.devices) if (!allIds.has(id)) throw new NotFoundError('simulated device', id);
    // A fault scheduled for devices in several partitions applies to this partition's share.
    this.pendingFaults = spec.faults
      .map((f) => ({ ...f, devices: f.devices.filter((id) => this.byId.has(id)) }))
      .filter((f) => f.devices.length > 0)
      .sort((a, b) => a.atS - b.atS);
    // Settle the feeders at the start time so the first step sees real voltages.
    for (const f of this.feeders) {
      f.beginStep();
      f.solve(this.t);
    }
  }

  /** Whether this simulation (or partition) holds a device. */
  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Simulated time now, epoch ms. */
  get now(): number {
    return this.t;
  }

  device(id: string): SimInverter {
    return this.devices[this.index(id)]!;
  }

  /** Voltage at a device's terminals after the last step, volts. */
  voltageAt(id: string): number {
    const i = this.index(id);
    return this.feeders[this.deviceFeeder[i]!]!.voltage(this.deviceSection[i]!) * this.deviceVScale[i]!;
  }

  /** Advance one step. */
  step(): void {
    const dtS = this.dtS;
    this.t += this.spec.clock.stepMs;
    this.steps++;
    const t = this.t;
    this.applyFaults();
    for (const w of this.weathers) w.update(t, dtS);
    const devices = this.devices;
    const h = dtS / 3600;
    for (let i = 0; i < devices.length; i++) {
      const d = devices[i]!;
      const v = this.feeders[this.deviceFeeder[i]!]!.voltage(this.deviceSection[i]!) * this.deviceVScale[i]!;
      d.step(t, dtS, this.weathers[this.deviceWeather[i]!]!, v, this.frequencyHz);
      const p = d.activePower;
      const tot = this.totals[d.spec.kind];
      if (p > 0) tot.producedWh += p * h;
      else tot.consumedWh -= p * h;
    }
    for (const f of this.feeders) f.beginStep();
    for (let i = 0; i < devices.length; i++) {
      const d = devices[i]!;
      this.feeders[this.deviceFeeder[i]!]!.inject(this.deviceSection[i]!, d.activePower, d.reactivePower);
    }
    for (const f of this.feeders) {
      f.solve(t);
      const vn = f.nominalV;
      for (let s = 0; s < f.sectionCount; s++) {
        const pu = f.voltage(s) / vn;
        if (pu < this.vMin) this.vMin = pu;
        if (pu > this.vMax) this.vMax = pu;
      }
    }
  }

  /** Step until simulated time reaches `tMs` (fast mode). `onStep` sees progress, e.g. for a bar. */
  runUntil(tMs: number, onStep?: (now: number) => void): void {
    while (this.t + this.spec.clock.stepMs <= tMs) {
      this.step();
      onStep?.(this.t);
    }
  }

  /**
   * Step on a clock, once per `stepMs` of its time: the clock the core runs on, so simulated
   * devices and the DERMS share one time (real, accelerated or virtual). The simulation adopts
   * the clock's current time.
   */
  attach(clock: Clock): Subscription {
    this.t = clock.now();
    return interval(this.spec.clock.stepMs, clock).subscribe(() => this.step());
  }

  /** Switch a fault on now, for `durationS` (null: until cleared). */
  injectFault(devices: readonly string[], kind: FaultKind, durationS: number | null = null, magnitude = 0): void {
    const fault: FaultSpec = { devices, kind, atS: (this.t - this.spec.clock.start) / 1000, durationS, magnitude };
    for (const id of devices) this.device(id).setFault(kind, true, magnitude);
    this.active.push({ fault, endsAt: durationS === null ? Infinity : this.t + durationS * 1000 });
  }

  clearFault(devices: readonly string[], kind: FaultKind): void {
    for (const id of devices) this.device(id).setFault(kind, false);
    this.active = this.active.filter((a) => !(a.fault.kind === kind && a.fault.devices.every((d) => devices.includes(d))));
  }

  summary(): SimulationSummary {
    const clone = (k: KindTotals): KindTotals => ({ ...k });
    return {
      devices: this.devices.length,
      feeders: this.feeders.length,
      steps: this.steps,
      simulatedSeconds: this.steps * this.dtS,
      byKind: { pv: clone(this.totals.pv), battery: clone(this.totals.battery), hybrid: clone(this.totals.hybrid) },
      voltageMinPu: this.vMin,
      voltageMaxPu: this.vMax,
    };
  }

  private applyFaults(): void {
    const elapsedS = (this.t - this.spec.clock.start) / 1000;
    while (this.pendingFaults.length > 0 && this.pendingFaults[0]!.atS <= elapsedS) {
      const f = this.pendingFaults.shift()!;
      this.injectFault(f.devices, f.kind, f.durationS, f.magnitude);
    }
    if (this.active.length === 0) return;
    const ended = this.active.filter((a) => a.endsAt <= this.t);
    if (ended.length === 0) return;
    this.active = this.active.filter((a) => a.endsAt > this.t);
    for (const a of ended) for (const id of a.fault.devices) this.device(id).setFault(a.fault.kind, false);
  }

  private index(id: string): number {
    const i = this.byId.get(id);
    if (i === undefined) throw new NotFoundError('simulated device', id);
    return i;
  }
}

/** FNV-1a hash of a string, for seeds that depend on a name rather than an order. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 1_000_000;
}
