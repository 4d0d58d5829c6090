import { hasStorage, installedRangeW, type Der } from '../core/model/der.js';
import type { ApplyOutcome, Setpoint, SetpointKind } from '../core/model/setpoint.js';
import type { TelemetrySample } from '../core/model/telemetry.js';
import type { Clock } from '../core/ports.js';
import type { InProcessDevice } from '../protocols/in-process.js';
import { seededRandom } from './random.js';

export interface Site {
  readonly latitudeDeg: number;
  readonly longitudeDeg: number;
}

const ACCEPTS: ReadonlySet<SetpointKind> = new Set(['activePower', 'reactivePower', 'powerFactor', 'activePowerLimit', 'rampRates', 'connect', 'release']);
/** Inverter response time constant: a step settles to 95 % in about 1.5 s. */
const TAU_S = 0.5;
const RESERVE_SOC = 5;
const MAX_SOC = 100;
const ROUND_TRIP_ONE_WAY = 0.95;

/**
 * A first-order inverter model for the in-process demo: PV available power from sun elevation
 * times a seeded cloud process, storage SoC integrated from power with one-way efficiency, a
 * first-order response to setpoints with optional ramp limits, and the VA circle respected.
 */
export class SimpleDer implements InProcessDevice {
  readonly accepts = ACCEPTS;
  readonly responseDelayMs = 0;
  private readonly rand: () => number;
  private t: number;
  private w = 0;
  private q = 0;
  private soc: number;
  private cloud = 1;
  private connected = true;
  private wSet: number | null = null;
  private limitPct = 100;
  private varSet: number | null = null;
  private pf: { pf: number; sign: 1 | -1 } | null = null;
  private rampUp: number | null = null;
  private rampDown: number | null = null;

  constructor(
    private readonly der: Der,
    private readonly clock: Clock,
    private readonly site: Site,
    seed: number,
  ) {
    this.rand = seededRandom(seed);
    this.t = clock.now();
    this.soc = hasStorage(der) ? 30 + this.rand() * 50 : 0;
  }

  get id(): string {
    return this.der.mRID;
  }

  read(): TelemetrySample {
    this.advance(this.clock.now());
    const n = this.der.nameplate;
    const range = installedRangeW(this.der);
    const pvAvail = this.pvAvailable();
    const limit = (this.limitPct / 100) * n.maxW;
    const storage = hasStorage(this.der);
    const canDischarge = storage && this.soc > RESERVE_SOC ? range.max : 0;
    const canCharge = storage && this.soc < MAX_SOC ? -range.min : 0;
    const availWMax = this.connected ? Math.min(limit, range.max, this.der.kind === 'battery' ? canDischarge : pvAvail + canDischarge) : 0;
    const availWMin = this.connected ? -canCharge : 0;
    const circle = Math.sqrt(Math.max(0, n.maxVA ** 2 - this.w ** 2));
    return {
      derId: this.der.mRID,
      timestamp: this.t,
      w: this.w,
      var: this.q,
      v: n.nominalV * (1 + (0.02 * this.w + 0.04 * this.q) / Math.max(1, n.maxVA)) + (this.rand() - 0.5) * 0.2,
      hz: 60 + (this.rand() - 0.5) * 0.01,
      soc: storage ? this.soc : undefined,
      connected: this.connected,
      state: !this.connected ? 'off' : this.w < availWMax - 1 && this.wSet !== null ? 'throttled' : 'running',
      availWMax: Math.max(availWMin, availWMax),
      availWMin,
      availVarMax: this.connected ? Math.min(n.maxVarInject, circle) : 0,
      availVarMin: this.connected ? -Math.min(n.maxVarAbsorb, circle) : 0,
    };
  }

  write(sp: Setpoint): ApplyOutcome {
    this.advance(this.clock.now());
    const n = this.der.nameplate;
    const range = installedRangeW(this.der);
    switch (sp.kind) {
      case 'activePower':
        if (sp.w < range.min - 1 || sp.w > range.max + 1) return { status: 'rejected', reason: `w ${sp.w} outside ${range.min}..${range.max}` };
        this.wSet = sp.w;
        return { status: 'applied' };
      case 'activePowerLimit':
        this.limitPct = sp.pct;
        return { status: 'applied' };
      case 'reactivePower':
        if (sp.var > n.maxVarInject + 1 || sp.var < -n.maxVarAbsorb - 1) return { status: 'rejected', reason: `var ${sp.var} outside rating` };
        this.varSet = sp.var;
        this.pf = null;
        return { status: 'applied' };
      case 'powerFactor':
        this.pf = { pf: sp.pf, sign: sp.excitation === 'injecting' ? 1 : -1 };
        this.varSet = null;
        return { status: 'applied' };
      case 'rampRates':
        this.rampUp = sp.increasingWPerS;
        this.rampDown = sp.decreasingWPerS;
        return { status: 'applied' };
      case 'connect':
        this.connected = sp.connected;
        return { status: 'applied' };
      case 'release':
        if (sp.slot === 'activePower') this.wSet = null;
        else if (sp.slot === 'activePowerLimit') this.limitPct = 100;
        else if (sp.slot === 'reactive') {
          this.varSet = null;
          this.pf = null;
        } else if (sp.slot === 'rampRates') {
          this.rampUp = null;
          this.rampDown = null;
        } else if (sp.slot === 'connect') this.connected = true;
        return { status: 'applied' };
      default:
        return { status: 'rejected', reason: `${sp.kind} not supported by this device` };
    }
  }

  private pvAvailable(): number {
    if (this.der.kind !== 'pv' && this.der.kind !== 'hybrid') return 0;
    return this.der.nameplate.maxW * 0.95 * sunFactor(this.t, this.site) * this.cloud;
  }

  private advance(now: number): void {
    const dt = (now - this.t) / 1000;
    if (dt <= 0) return;
    this.t = now;
    // Clouds: AR(1) clearness in 0.3..1, moving on a timescale of minutes.
    const phi = Math.exp(-dt / 120);
    this.cloud = Math.min(1, Math.max(0.3, phi * this.cloud + (1 - phi) * 0.85 + Math.sqrt(1 - phi * phi) * 0.1 * (this.rand() - 0.5) * 3.4));
    const n = this.der.nameplate;
    const range = installedRangeW(this.der);
    const pv = this.pvAvailable();
    const limit = (this.limitPct / 100) * n.maxW;
    let target: number;
    if (!this.connected) target = 0;
    else if (this.der.kind === 'pv' || this.der.kind === 'other') target = Math.min(this.wSet ?? pv, pv, limit);
    else {
      const batteryMax = this.soc > RESERVE_SOC ? range.max : 0;
      const batteryMin = this.soc < MAX_SOC ? range.min : 0;
      const hi = Math.min(limit, this.der.kind === 'hybrid' ? Math.min(range.max, pv + batteryMax) : batteryMax);
      target = Math.max(batteryMin, Math.min(this.wSet ?? (this.der.kind === 'hybrid' ? pv : 0), hi));
    }
    let next = this.w + (target - this.w) * (1 - Math.exp(-dt / TAU_S));
    if (next > this.w && this.rampUp !== null) next = Math.min(next, this.w + this.rampUp * dt);
    if (next < this.w && this.rampDown !== null) next = Math.max(next, this.w - this.rampDown * dt);
    this.w = next;
    const circle = Math.sqrt(Math.max(0, n.maxVA ** 2 - this.w ** 2));
    let q = this.varSet ?? (this.pf ? this.pf.sign * Math.abs(this.w) * Math.tan(Math.acos(this.pf.pf)) : 0);
    q = Math.max(-Math.min(n.maxVarAbsorb, circle), Math.min(Math.min(n.maxVarInject, circle), q));
    this.q = this.connected ? q : 0;
    if (hasStorage(this.der)) {
      // Battery power is what the AC side delivers beyond the PV (hybrid) or all of it (battery).
      const pb = this.der.kind === 'hybrid' ? this.w - Math.min(pv, Math.max(0, this.w)) : this.w;
      const wh = pb > 0 ? (pb * dt) / 3600 / ROUND_TRIP_ONE_WAY : (pb * dt * ROUND_TRIP_ONE_WAY) / 3600;
      this.soc = Math.min(MAX_SOC, Math.max(0, this.soc - (wh / n.energyCapacityWh) * 100));
    }
  }
}

/** Clear-sky fraction from solar elevation at the site (simple declination and hour-angle model). */
export function sunFactor(t: number, site: Site): number {
  const d = new Date(t);
  const dayOfYear = Math.floor((t - Date.UTC(d.getUTCFullYear(), 0, 0)) / 86_400_000);
  const decl = ((23.44 * Math.PI) / 180) * Math.sin(((2 * Math.PI) / 365) * (dayOfYear - 81));
  const solarHours = d.getUTCHours() + d.getUTCMinutes() / 60 + d.getUTCSeconds() / 3600 + site.longitudeDeg / 15;
  const h = ((solarHours - 12) * 15 * Math.PI) / 180;
  const lat = (site.latitudeDeg * Math.PI) / 180;
  const sinElev = Math.sin(lat) * Math.sin(decl) + Math.cos(lat) * Math.cos(decl) * Math.cos(h);
  return sinElev <= 0 ? 0 : Math.pow(sinElev, 1.15);
}
