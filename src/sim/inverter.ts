import { hasStorage, installedRangeW } from '../core/model/der.js';
import type { OperatingState } from '../core/model/telemetry.js';
import { controlPatchSchema, type ControlPatch, type ControlResult } from './controls.js';
import type { DeviceSpec, FaultKind, Ieee1547Settings } from './fleet-spec.js';
import { defaultSettings, defaultTripSettings, interpolate, lagAlpha } from './ieee1547.js';
import { gaussian, seededRandom } from './random.js';
import { ar1, type SkyState } from './weather.js';

/** IEEE 1547 operating states of the simulated inverter. */
export type InverterState = 'running' | 'off' | 'waiting' | 'starting' | 'tripped';

/** What a protocol server reads from a device. SI units, generation positive. */
export interface Measurements {
  readonly timestamp: number;
  readonly w: number;
  readonly var: number;
  readonly va: number;
  readonly pf: number;
  readonly v: number;
  readonly hz: number;
  readonly soc: number | null;
  readonly storedWh: number | null;
  readonly state: InverterState;
  readonly operatingState: OperatingState;
  readonly connected: boolean;
  readonly availWMax: number;
  readonly availWMin: number;
  readonly availVarMax: number;
  readonly availVarMin: number;
  readonly pvDcW: number;
  readonly cellTempC: number;
  /** Lifetime energy exported / imported at the AC terminals, Wh. */
  readonly exportedWh: number;
  readonly importedWh: number;
}

export interface DeviceSettingsView extends Ieee1547Settings {
  readonly permitService: boolean;
  readonly activePowerSetpointW: number | null;
}

/** Faults a test or a fleet file can switch on. */
export interface FaultState {
  /** Communication loss: protocol servers stop answering. */
  commsLoss: boolean;
  /** Writes are acknowledged but change nothing. */
  stuckSetpoint: boolean;
  rejectCommands: boolean;
  /** Extra latency before protocol servers answer, ms. */
  responseDelayMs: number;
  /** Relative standard deviation of measurement noise. */
  noise: number;
}

const IEEE_60HZ = 60;
const ALBEDO = 0.2;
/** Inverter losses: standby + conduction (quadratic), as fractions of the AC rating: ~97 % peak. */
const STANDBY_LOSS = 0.004;
const QUADRATIC_LOSS = 0.015;

/**
 * One simulated inverter (PV, battery or hybrid) with IEEE 1547-2018 behaviour: PV power from
 * plane-of-array irradiance, temperature and an efficiency curve; storage SoC from power and
 * one-way efficiencies within reserve and max SoC; limits, setpoints, constant PF / var, volt-var,
 * volt-watt and frequency-watt, each following a first-order lag with its open-loop response time,
 * normal ramp rates, trips, cease to energize and enter service. Numbers live in plain fields:
 * thousands of these step every second.
 */
export class SimInverter {
  readonly id: string;
  readonly faults: FaultState = { commsLoss: false, stuckSetpoint: false, rejectCommands: false, responseDelayMs: 0, noise: 0 };

  private s: Ieee1547Settings;
  private permitService = true;
  private setpointW: number | null = null;
  private vvX: number[] = [];
  private vvY: number[] = [];
  private vwX: number[] = [];
  private vwY: number[] = [];
  /** Lag factors for the current step length (recomputed when it or a response time changes). */
  private lagDt = Number.NaN;
  private alphaP = 1;
  private alphaQ = 1;

  // Ratings.
  private readonly maxW: number;
  private readonly maxVA: number;
  private readonly maxVarInj: number;
  private readonly maxVarAbs: number;
  private readonly pMin: number;
  private readonly pMax: number;
  private readonly vNom: number;
  private readonly isPv: boolean;
  private readonly isStorage: boolean;
  // PV array (precomputed orientation).
  private readonly dcRating: number;
  private readonly cosT: number;
  private readonly sinT: number;
  private readonly cosAzP: number;
  private readonly sinAzP: number;
  private readonly gamma: number;
  private readonly noct: number;
  private readonly dcDerate: number;
  // Battery.
  private readonly etaC: number;
  private readonly etaD: number;
  private readonly reserveWh: number;
  private readonly fullWh: number;
  private readonly capWh: number;
  private energyWh: number;

  // Dynamic state.
  private t = 0;
  private state: InverterState = 'running';
  private p = 0;
  private q = 0;
  private v: number;
  private hz = IEEE_60HZ;
  private pvAvail = 0;
  private pvDc = 0;
  private cellT = 20;
  private availMax = 0;
  private availMin = 0;
  /** Storage charge power the step allows, W (>= 0). */
  private chargeRoom = 0;
  private localClearness = 1;
  private esTimer = 0;
  private esWait = 0;
  private rampElapsed = 0;
  /** A commanded move with a ramp time (SunSpec `*_RmpTms`): where it started, its length and progress. */
  private transitionFromW = 0;
  private transitionS = 0;
  private transitionElapsedS = 0;
  private readonly tripTimers = new Float64Array(defaultTripSettings.length);
  private forcedTrip = false;
  private exportedWh = 0;
  private importedWh = 0;
  private readonly rand: () => number;
  private readonly normal: () => number;

  constructor(
    readonly spec: DeviceSpec,
    seed: number,
  ) {
    this.id = spec.id;
    const n = spec.nameplate;
    const range = installedRangeW(spec);
    this.maxW = n.maxW;
    this.maxVA = n.maxVA;
    this.maxVarInj = n.maxVarInject;
    this.maxVarAbs = n.maxVarAbsorb;
    this.pMin = range.min;
    this.pMax = range.max;
    this.vNom = n.nominalV;
    this.v = n.nominalV;
    this.isPv = spec.kind === 'pv' || spec.kind === 'hybrid';
    this.isStorage = hasStorage(spec);
    const pv = spec.pv;
    this.dcRating = pv?.dcRatingW ?? 0;
    const tilt = ((pv?.tiltDeg ?? 0) * Math.PI) / 180;
    const az = ((pv?.azimuthDeg ?? 180) * Math.PI) / 180;
    this.cosT = Math.cos(tilt);
    this.sinT = Math.sin(tilt);
    this.cosAzP = Math.cos(az);
    this.sinAzP = Math.sin(az);
    this.gamma = (pv?.tempCoeffPctPerC ?? -0.4) / 100;
    this.noct = pv?.noctC ?? 45;
    this.dcDerate = 1 - (pv?.dcLosses ?? 0.1);
    const b = spec.battery;
    this.etaC = b?.chargeEfficiency ?? 1;
    this.etaD = b?.dischargeEfficiency ?? 1;
    this.capWh = n.energyCapacityWh;
    this.reserveWh = ((b?.minReservePct ?? 0) / 100) * this.capWh;
    this.fullWh = ((b?.maxSocPct ?? 100) / 100) * this.capWh;
    this.energyWh = ((b?.initialSocPct ?? 50) / 100) * this.capWh;
    this.rand = seededRandom(seed);
    this.normal = gaussian(this.rand);
    this.s = { ...defaultSettings(n), ...spec.settings };
    this.compileSettings();
  }

  /** Advance by `dtS` seconds to `tMs`, with this step's weather and the section's voltage. */
  step(tMs: number, dtS: number, weather: SkyState, sectionV: number, hz: number): void {
    this.t = tMs;
    this.v = sectionV;
    this.hz = hz;
    this.updatePv(weather, dtS);
    this.updateState(dtS);
    this.updatePower(dtS);
  }

  /** Active and reactive power at the terminals now (for the feeder), W and var. */
  get activePower(): number {
    return this.p;
  }
  get reactivePower(): number {
    return this.q;
  }
  get operating(): InverterState {
    return this.state;
  }

  measurements(): Measurements {
    const noisy = this.faults.noise > 0;
    const k = (x: number): number => (noisy ? x * (1 + this.faults.noise * this.normal()) : x);
    const w = k(this.p);
    const q = k(this.q);
    const va = Math.hypot(w, q);
    const energized = this.state === 'running' || this.state === 'starting';
    return {
      timestamp: this.t,
      w,
      var: q,
      va,
      pf: va > 1e-9 ? Math.abs(w) / va : 1,
      v: k(this.v),
      hz: this.hz,
      soc: this.isStorage ? (this.energyWh / this.capWh) * 100 : null,
      storedWh: this.isStorage ? this.energyWh : null,
      state: this.state,
      operatingState: this.operatingState(),
      connected: energized,
      availWMax: energized ? Math.max(this.availMax, this.availMin) : 0,
      availWMin: energized ? this.availMin : 0,
      availVarMax: energized ? this.varCap(this.p, true) : 0,
      availVarMin: energized ? -this.varCap(this.p, false) : 0,
      pvDcW: this.pvDc,
      cellTempC: this.cellT,
      exportedWh: this.exportedWh,
      importedWh: this.importedWh,
    };
  }

  settings(): DeviceSettingsView {
    return { ...this.s, permitService: this.permitService, activePowerSetpointW: this.setpointW };
  }

  /** Apply a write from a protocol server. Validates everything before changing anything. */
  update(patch: ControlPatch): ControlResult {
    if (this.faults.rejectCommands) return { ok: false, reason: 'device rejects commands' };
    const r = controlPatchSchema.safeParse(patch);
    if (!r.success) {
      const i = r.error.issues[0]!;
      return { ok: false, reason: `${i.path.join('.') || 'patch'}: ${i.message}` };
    }
    const { permitService, activePowerSetpointW, rampTimeS, ...settings } = r.data;
    if (activePowerSetpointW !== undefined && activePowerSetpointW !== null && (activePowerSetpointW < this.pMin - 1e-6 || activePowerSetpointW > this.pMax + 1e-6)) {
      return { ok: false, reason: `active power setpoint ${activePowerSetpointW} W outside ${this.pMin}..${this.pMax} W` };
    }
    if (this.faults.stuckSetpoint) return { ok: true };
    const before = [this.setpointW, this.s.activePowerLimitPct];
    if (activePowerSetpointW !== undefined) this.setpointW = activePowerSetpointW;
    if (permitService !== undefined && permitService !== this.permitService) {
      this.permitService = permitService;
      if (!permitService) this.state = 'off';
      else if (this.state === 'off') this.beginEnterService();
    }
    const defined = Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) as Partial<Ieee1547Settings>;
    this.s = { ...this.s, ...defined };
    this.compileSettings();
    if (before[0] !== this.setpointW || before[1] !== this.s.activePowerLimitPct) this.beginTransition(rampTimeS ?? 0);
    return { ok: true };
  }

  /** A new limit or setpoint with a ramp time is reached linearly over that time; without one, at once. */
  private beginTransition(rampTimeS: number): void {
    this.transitionFromW = this.p;
    this.transitionS = rampTimeS;
    this.transitionElapsedS = 0;
  }

  setFault(kind: FaultKind, on: boolean, magnitude = 0): void {
    switch (kind) {
      case 'commsLoss':
        this.faults.commsLoss = on;
        return;
      case 'trip':
        this.forcedTrip = on;
        if (on) this.trip();
        return;
      case 'stuckSetpoint':
        this.faults.stuckSetpoint = on;
        return;
      case 'rejectCommands':
        this.faults.rejectCommands = on;
        return;
      case 'slowResponse':
        this.faults.responseDelayMs = on ? magnitude : 0;
        return;
      case 'noisyMeasurements':
        this.faults.noise = on ? magnitude : 0;
        return;
    }
  }

  private compileSettings(): void {
    this.lagDt = Number.NaN;
    this.vvX = this.s.voltVarCurve.map((p) => p.v);
    this.vvY = this.s.voltVarCurve.map((p) => p.var);
    this.vwX = this.s.voltWattCurve.map((p) => p.v);
    this.vwY = this.s.voltWattCurve.map((p) => p.w);
  }

  private updatePv(wx: SkyState, dtS: number): void {
    if (!this.isPv) return;
    // Local cloud detail around the regional clearness.
    this.localClearness = ar1(this.localClearness, 1, wx.localVariability, dtS, 60, this.normal());
    const k = wx.clearness * this.localClearness;
    const cosAoi = wx.cosZ * this.cosT + wx.sinZ * this.sinT * (wx.cosAz * this.cosAzP + wx.sinAz * this.sinAzP);
    const poaClear = (cosAoi > 0 ? wx.dni * cosAoi : 0) + (wx.dhi * (1 + this.cosT)) / 2 + (wx.ghi * ALBEDO * (1 - this.cosT)) / 2;
    const poa = poaClear > 0 ? poaClear * (k > 1 ? 1 : k) : 0;
    this.cellT = wx.ambientC + ((this.noct - 20) / 800) * poa;
    const dc = this.dcRating * (poa / 1000) * (1 + this.gamma * (this.cellT - 25)) * this.dcDerate;
    this.pvDc = dc > 0 ? dc : 0;
    this.pvAvail = acFromDc(this.pvDc, this.maxW);
  }

  private updateState(dtS: number): void {
    const vpu = this.v / this.vNom;
    if (this.state === 'running' || this.state === 'starting') {
      if (this.forcedTrip || this.checkTrips(vpu, dtS)) this.trip();
    }
    if (!this.permitService) {
      this.state = 'off';
      return;
    }
    const inWindow = vpu >= this.s.esVMinPu && vpu <= this.s.esVMaxPu && this.hz >= this.s.esFMinHz && this.hz <= this.s.esFMaxHz;
    // A tripped DER stays out until voltage and frequency are back in the enter-service window.
    if (this.state === 'tripped' && !this.forcedTrip && inWindow) this.beginEnterService();
    if (this.state === 'waiting') {
      this.esTimer = inWindow ? this.esTimer + dtS : 0;
      if (this.esTimer >= this.esWait) {
        this.state = 'starting';
        this.rampElapsed = 0;
      }
    } else if (this.state === 'starting') {
      this.rampElapsed += dtS;
      if (this.rampElapsed >= this.s.esRampS) this.state = 'running';
    }
  }

  private checkTrips(vpu: number, dtS: number): boolean {
    for (let i = 0; i < defaultTripSettings.length; i++) {
      const t = defaultTripSettings[i]!;
      const x = t.quantity === 'v' ? vpu : this.hz;
      const violated = t.above ? x > t.threshold : x < t.threshold;
      this.tripTimers[i] = violated ? this.tripTimers[i]! + dtS : 0;
      if (this.tripTimers[i]! >= t.clearingS) return true;
    }
    return false;
  }

  private trip(): void {
    this.state = 'tripped';
    this.tripTimers.fill(0);
  }

  private beginEnterService(): void {
    this.state = 'waiting';
    this.esTimer = 0;
    this.esWait = this.s.esDelayS + this.rand() * this.s.esRandomWindowS;
  }

  private updatePower(dtS: number): void {
    // Availability now: PV, and storage within reserve / max SoC and what energy the step allows.
    const dis = this.isStorage && this.energyWh > this.reserveWh ? Math.min(this.pMax, ((this.energyWh - this.reserveWh) * 3600 * this.etaD) / dtS) : 0;
    const chg = this.isStorage && this.energyWh < this.fullWh ? Math.min(-this.pMin, ((this.fullWh - this.energyWh) * 3600) / (dtS * this.etaC)) : 0;
    const pvPart = this.isPv ? this.pvAvail : 0;
    this.availMax = Math.min(this.pMax, pvPart + dis);
    // Charging from the grid: a hybrid's own PV fills part of what the battery can take.
    this.availMin = chg > pvPart ? pvPart - chg : 0;
    this.chargeRoom = chg;

    const energized = this.state === 'running' || this.state === 'starting';
    if (!energized) {
      this.p = 0;
      this.q = 0;
      this.integrate(0, 0, dtS);
      return;
    }
    const s = this.s;
    if (dtS !== this.lagDt) {
      this.lagDt = dtS;
      this.alphaP = lagAlpha(dtS, s.activePowerResponseS);
      this.alphaQ = lagAlpha(dtS, s.reactiveMode === 'voltVar' ? s.voltVarResponseS : s.activePowerResponseS);
    }
    const vPct = (this.v / this.vNom) * 100;
    let target = this.setpointW ?? (this.isPv ? pvPart : 0);
    let hi = this.availMax;
    if (s.activePowerLimitPct !== null) hi = Math.min(hi, (s.activePowerLimitPct / 100) * this.maxW);
    if (s.voltWattEnabled) hi = Math.min(hi, (interpolate(this.vwX, this.vwY, vPct) / 100) * this.maxW);
    if (this.state === 'starting') hi = Math.min(hi, (this.rampElapsed / s.esRampS) * this.maxW);
    if (s.freqWattEnabled) target = this.frequencyDroop(target);
    target = Math.max(this.availMin, Math.min(hi, target));
    if (this.transitionElapsedS < this.transitionS) {
      this.transitionElapsedS += dtS;
      target = this.transitionFromW + (target - this.transitionFromW) * Math.min(1, this.transitionElapsedS / this.transitionS);
    }

    // First-order response to the target, then the normal ramp-rate limits on commanded moves.
    let p = this.p + (target - this.p) * this.alphaP;
    if (s.rampUpPctPerS > 0) p = Math.min(p, this.p + (s.rampUpPctPerS / 100) * this.maxW * dtS);
    if (s.rampDownPctPerS > 0) p = Math.max(p, this.p - (s.rampDownPctPerS / 100) * this.maxW * dtS);
    // Physics is not ramp-limited: output can never exceed what is available this instant.
    p = Math.max(this.availMin, Math.min(this.availMax, p));

    let qTarget = 0;
    switch (s.reactiveMode) {
      case 'constantPf':
        qTarget = (s.pfExcitation === 'injecting' ? 1 : -1) * Math.abs(p) * Math.tan(Math.acos(s.pf));
        break;
      case 'constantVar':
        qTarget = (s.constantVarPct / 100) * (s.constantVarPct >= 0 ? this.maxVarInj : this.maxVarAbs);
        break;
      case 'voltVar': {
        const pct = interpolate(this.vvX, this.vvY, vPct);
        qTarget = (pct / 100) * (pct >= 0 ? this.maxVarInj : this.maxVarAbs);
        break;
      }
    }
    let q = this.q + (qTarget - this.q) * this.alphaQ;
    // The VA circle: volt-var has reactive priority (1547 default), other modes active priority.
    if (p * p + q * q > this.maxVA * this.maxVA) {
      if (s.reactiveMode === 'voltVar') {
        q = Math.max(-this.maxVarAbs, Math.min(this.maxVarInj, q));
        const pLim = Math.sqrt(Math.max(0, this.maxVA * this.maxVA - q * q));
        p = Math.max(-pLim, Math.min(pLim, p));
      } else {
        const qLim = Math.sqrt(Math.max(0, this.maxVA * this.maxVA - p * p));
        q = Math.max(-qLim, Math.min(qLim, q));
      }
    }
    q = Math.max(-this.maxVarAbs, Math.min(this.maxVarInj, q));
    this.p = p;
    this.q = q;
    this.integrate(p, pvPart, dtS);
  }

  /** Frequency-watt droop: over-frequency lowers output, under-frequency raises it (within availability). */
  private frequencyDroop(p: number): number {
    const s = this.s;
    const over = this.hz - (IEEE_60HZ + s.fwDbOverHz);
    if (over > 0) return p - (over / (IEEE_60HZ * s.fwKOver)) * this.maxW;
    const under = IEEE_60HZ - s.fwDbUnderHz - this.hz;
    if (under > 0) return p + (under / (IEEE_60HZ * s.fwKUnder)) * this.maxW;
    return p;
  }

  private integrate(p: number, pvAvail: number, dtS: number): void {
    const h = dtS / 3600;
    if (p > 0) this.exportedWh += p * h;
    else this.importedWh -= p * h;
    if (!this.isStorage) return;
    // Battery power: all of it for a battery. A hybrid's battery covers what the AC side needs
    // beyond the PV, or soaks up the PV surplus as far as it can charge (the rest is curtailed).
    const pb = this.isPv ? Math.max(-this.chargeRoom, p - pvAvail) : p;
    const delta = pb > 0 ? -(pb * h) / this.etaD : -pb * h * this.etaC;
    this.energyWh = Math.max(0, Math.min(this.capWh, this.energyWh + delta));
  }

  private varCap(p: number, inject: boolean): number {
    const circle = Math.sqrt(Math.max(0, this.maxVA * this.maxVA - p * p));
    return Math.min(inject ? this.maxVarInj : this.maxVarAbs, circle);
  }

  private operatingState(): OperatingState {
    switch (this.state) {
      case 'off':
        return 'off';
      case 'tripped':
        return 'fault';
      case 'waiting':
        return 'standby';
      case 'starting':
        return 'starting';
      default:
        return this.p < this.availMax - 0.01 * this.maxW && (this.setpointW !== null || this.s.activePowerLimitPct !== null || this.s.voltWattEnabled)
          ? 'throttled'
          : 'running';
    }
  }
}

/** AC output for a DC input: standby and quadratic conduction losses, clipped at the AC rating. */
export function acFromDc(dcW: number, ratedW: number): number {
  if (dcW <= 0 || ratedW <= 0) return 0;
  const x = dcW / ratedW;
  const ac = dcW - ratedW * (STANDBY_LOSS + QUADRATIC_LOSS * x * x);
  return ac <= 0 ? 0 : ac > ratedW ? ratedW : ac;
}
