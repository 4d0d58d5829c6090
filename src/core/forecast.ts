/**
 * Group forecasts for IEC 61968-5 DERGroupForecasts: per interval a nominal / min / max active
 * power, the PV part of it, storage availability, and a confidence. Works for real devices as
 * well as simulated ones because it uses only what any DER gives the core: the nameplate, the
 * telemetry, and where it stands (for the sun). No clock inside; every time is passed in.
 *
 * Model choices:
 * - PV = maxW x clear-sky factor x a per-DER performance ratio learned from the DER's own output
 *   (orientation, DC/AC sizing, losses, shading and recent weather in one number). The ratio is an
 *   exponentially weighted mean of observed / clear-sky output, with an exponentially weighted
 *   variance for the bands, starting from a prior (0.8 +- 0.25) worth 30 samples that is
 *   forgotten like old data.
 * - Only samples that show what the sun allowed teach the ratio: running (not throttled),
 *   connected, producing, sun above ~10 deg (below that, cosine and air-mass errors dominate).
 *   A hybrid's AC output includes its battery, so a hybrid teaches only while its SoC has stayed
 *   put for a while (battery idle); slow charging can still slip through and bias it low.
 * - The clear-sky factor is averaged over each interval (15 min sub-steps), so long intervals at
 *   dawn or dusk are not judged by their mid-point alone.
 * - Bands: ratio +- k sd per member (k = 1.28, a central ~80 % band were the ratio normal), clamped
 *   to [0, maxW], and summed over members as if fully correlated: clouds over a feeder hit every
 *   member at once, so a root-sum-square band would be too narrow.
 * - Storage is assumed idle over the horizon (energy constant between intervals): the forecast says
 *   what storage *could* do in each interval, not what it will be told to do. Discharge is what the
 *   energy above the reserve sustains for the whole interval, capped by the power rating; charge
 *   likewise up to the maximum SoC. Unknown SoC counts as no availability (nothing promised).
 * - activePower: nominal = PV nominal (storage idle); max = PV max + storage discharge; min =
 *   -storage charge (PV curtailed to 0). A hybrid's sum is capped by its inverter rating.
 * - reactivePower: what the members' inverters could inject or absorb in each interval when each
 *   produces its nominal active power (IEEE 1547 var limits inside the VA circle); nominal 0, as no
 *   reactive dispatch is assumed (like storage, idle).
 * - Confidence (heuristic): 95 % at best, halved for a member known only by its prior, weighted by
 *   member rating, decaying exponentially with the horizon (time constant 72 h).
 */
import { ValidationError, type ErrorIssue } from './errors.js';
import { hasStorage, installedRangeW, type Der } from './model/der.js';
import type { TelemetrySample } from './model/telemetry.js';
import { clearSkyFactor, solarPosition, type Site } from './solar.js';

const DEG = Math.PI / 180;
const HOUR_MS = 3_600_000;

// ---------------------------------------------------------------------------------------------
// Performance ratio learning

export interface RatioEstimate {
  readonly mean: number;
  readonly sd: number;
  /** Samples learned from (0 for the prior). */
  readonly samples: number;
}

/** Where a forecast gets each DER's ratio; `PerformanceRatioTracker` is one. */
export interface RatioSource {
  estimate(derId: string): RatioEstimate;
}

export interface PerformanceRatioOptions {
  /** Time constant of the exponential forgetting, ms (default 2 days: long enough to average passing clouds, short enough to follow soiling or a change of weather). */
  readonly timeConstantMs?: number;
  /** Samples with the sun lower than this are ignored, degrees (default 10). */
  readonly minElevationDeg?: number;
  readonly priorMean?: number;
  readonly priorSd?: number;
  /** Weight of the prior, in samples; it decays like real samples (default 30). */
  readonly priorWeight?: number;
  /** One sample's ratio is capped here: cloud-edge enhancement and meter glitches (default 1.3). */
  readonly maxRatio?: number;
  /** A hybrid teaches only after its SoC has stayed within `hybridSocTolerancePct` for this long, ms (default 5 min). */
  readonly hybridIdleMs?: number;
  readonly hybridSocTolerancePct?: number;
}

interface RatioState {
  /** Sum of decayed sample weights (effective sample count). */
  weight: number;
  mean: number;
  /** Decayed weighted sum of squared deviations; variance = m2 / weight. */
  m2: number;
  samples: number;
  lastT: number;
}

interface SocRef {
  soc: number;
  since: number;
}

/**
 * Learns each PV or hybrid DER's performance ratio (observed W / (maxW x clear-sky factor)) from
 * its telemetry. Feed it every accepted sample; it picks the meaningful ones.
 */
export class PerformanceRatioTracker implements RatioSource {
  private readonly tauMs: number;
  private readonly minCosZ: number;
  private readonly prior: RatioEstimate;
  private readonly priorWeight: number;
  private readonly maxRatio: number;
  private readonly hybridIdleMs: number;
  private readonly socTol: number;
  private readonly states = new Map<string, RatioState>();
  private readonly socRefs = new Map<string, SocRef>();

  constructor(options: PerformanceRatioOptions = {}) {
    const o = options;
    const issues: ErrorIssue[] = [];
    const positive = (name: string, v: number | undefined): void => {
      if (v !== undefined && !(Number.isFinite(v) && v > 0)) issues.push({ path: name, message: 'must be a positive number' });
    };
    const nonNegative = (name: string, v: number | undefined): void => {
      if (v !== undefined && !(Number.isFinite(v) && v >= 0)) issues.push({ path: name, message: 'must be a non-negative number' });
    };
    positive('timeConstantMs', o.timeConstantMs);
    positive('priorMean', o.priorMean);
    positive('priorSd', o.priorSd);
    positive('maxRatio', o.maxRatio);
    nonNegative('priorWeight', o.priorWeight);
    nonNegative('hybridIdleMs', o.hybridIdleMs);
    nonNegative('hybridSocTolerancePct', o.hybridSocTolerancePct);
    if (o.minElevationDeg !== undefined && !(o.minElevationDeg >= 0 && o.minElevationDeg < 90)) {
      issues.push({ path: 'minElevationDeg', message: 'must be in 0..90' });
    }
    if (issues.length > 0) throw new ValidationError('performance ratio options', issues);
    this.tauMs = o.timeConstantMs ?? 2 * 24 * HOUR_MS;
    this.minCosZ = Math.sin((o.minElevationDeg ?? 10) * DEG);
    this.prior = { mean: o.priorMean ?? 0.8, sd: o.priorSd ?? 0.25, samples: 0 };
    this.priorWeight = o.priorWeight ?? 30;
    this.maxRatio = o.maxRatio ?? 1.3;
    this.hybridIdleMs = o.hybridIdleMs ?? 5 * 60_000;
    this.socTol = o.hybridSocTolerancePct ?? 0.5;
  }

  /**
   * Learns from `sample` of `der` at `site` when the sample is meaningful; returns whether it was
   * used. Samples of other kinds of DER, or of another DER, are ignored.
   */
  observe(der: Der, site: Site, sample: TelemetrySample): boolean {
    if (der.kind !== 'pv' && der.kind !== 'hybrid') return false;
    if (sample.derId !== der.mRID) return false;
    const t = sample.timestamp;
    if (!Number.isFinite(t)) return false;
    if (der.kind === 'hybrid' && !this.hybridIdle(der.mRID, t, sample.soc)) return false;
    const maxW = der.nameplate.maxW;
    if (sample.state !== 'running' || !sample.connected || !(sample.w > 0) || !Number.isFinite(sample.w) || !(maxW > 0)) return false;
    const pos = solarPosition(t, site);
    if (!(pos.cosZenith > this.minCosZ)) return false;
    const csf = clearSkyFactor(t, site);
    if (!(csf > 0)) return false;
    const x = Math.min(sample.w / (maxW * csf), this.maxRatio);

    let s = this.states.get(der.mRID);
    if (!s) {
      // The prior enters as `priorWeight` pseudo-samples taken just now, so it is forgotten at
      // the same rate as real data rather than holding a fixed share forever.
      const p = this.prior;
      s = { weight: this.priorWeight, mean: p.mean, m2: this.priorWeight * p.sd * p.sd, samples: 0, lastT: t };
      this.states.set(der.mRID, s);
    }
    // Weighted incremental mean and variance (West 1979) with weights decaying exp(-dt / tau).
    // Out-of-order samples do not decay the others.
    const decay = t > s.lastT ? Math.exp(-(t - s.lastT) / this.tauMs) : 1;
    const w = s.weight * decay + 1;
    const d = x - s.mean;
    const mean = s.mean + d / w;
    s.m2 = s.m2 * decay + d * (x - mean);
    s.mean = mean;
    s.weight = w;
    s.samples += 1;
    if (t > s.lastT) s.lastT = t;
    return true;
  }

  /** What has been learned about `derId` (blended with what is left of the prior); undefined when nothing yet. */
  ratio(derId: string): RatioEstimate | undefined {
    const s = this.states.get(derId);
    if (!s) return undefined;
    return { mean: s.mean, sd: Math.sqrt(Math.max(0, s.m2) / s.weight), samples: s.samples };
  }

  /** The learned ratio, or the prior when nothing is learned yet. */
  estimate(derId: string): RatioEstimate {
    return this.ratio(derId) ?? this.prior;
  }

  forget(derId: string): void {
    this.states.delete(derId);
    this.socRefs.delete(derId);
  }

  /** Whether a hybrid's battery looks idle: SoC within tolerance of a reference held long enough. */
  private hybridIdle(derId: string, t: number, soc: number | undefined): boolean {
    if (soc === undefined || !Number.isFinite(soc)) return false;
    const ref = this.socRefs.get(derId);
    if (!ref || Math.abs(soc - ref.soc) > this.socTol || t < ref.since) {
      this.socRefs.set(derId, { soc, since: t });
      return this.hybridIdleMs === 0;
    }
    return t - ref.since >= this.hybridIdleMs;
  }
}

// ---------------------------------------------------------------------------------------------
// Group forecast

export interface StorageAssumptions {
  /** SoC kept in reserve, percent (default 10). */
  readonly reservePct?: number;
  /** Highest SoC charging may reach, percent (default 100). */
  readonly maxSocPct?: number;
  /** One-way efficiencies, 0..1 (default 1: the nameplate gives none). */
  readonly chargeEfficiency?: number;
  readonly dischargeEfficiency?: number;
}

export interface ForecastMember {
  readonly der: Der;
  readonly site: Site;
  /** Latest sample, for state of charge. */
  readonly sample?: TelemetrySample | undefined;
  /** Overrides the group's storage assumptions for this member. */
  readonly storage?: StorageAssumptions | undefined;
}

export interface ForecastInput {
  readonly members: readonly ForecastMember[];
  /** Learned performance ratios, usually a `PerformanceRatioTracker`. */
  readonly tracker: RatioSource;
  /** Start of the first interval, epoch ms. */
  readonly start: number;
  readonly intervalMs: number;
  readonly count: number;
  /** When the forecast is made, epoch ms; the horizon for confidence counts from here (default `start`). */
  readonly now?: number;
  readonly storage?: StorageAssumptions;
  /** Half-width of the PV band in ratio standard deviations (default 1.28). */
  readonly bandSd?: number;
}

export interface Band {
  readonly nominal: number;
  readonly min: number;
  readonly max: number;
}

export interface StorageForecast {
  /** Discharge power sustainable for the whole interval, W. */
  readonly maxDischargeW: number;
  /** Charge power sustainable for the whole interval, W (positive). */
  readonly maxChargeW: number;
  /** Stored energy of members with a known SoC, Wh. */
  readonly energyWh: number;
}

export interface ForecastInterval {
  readonly start: number;
  readonly end: number;
  readonly activePowerW: Band;
  readonly pvW: Band;
  /** Reactive capability at the nominal active power: nominal 0, max inject, min absorb (negative). */
  readonly reactivePowerVar: Band;
  /** null when the group has no storage. */
  readonly storage: StorageForecast | null;
  readonly confidencePct: number;
}

export interface InstalledTotals {
  readonly members: number;
  readonly maxW: number;
  readonly minW: number;
  /** Nameplate maxW of PV and hybrid members. */
  readonly pvMaxW: number;
  readonly energyCapacityWh: number;
}

export interface GroupForecast {
  readonly start: number;
  readonly intervalMs: number;
  readonly installed: InstalledTotals;
  readonly intervals: readonly ForecastInterval[];
  /** Mean of the interval confidences: one figure for a whole DispatchSchedule. */
  readonly confidencePct: number;
}

/** Most intervals one forecast may ask for (a year of 15-minute intervals is ~35 000). */
export const MAX_FORECAST_INTERVALS = 100_000;
const SUB_STEP_MS = 15 * 60_000;
const MAX_SUB_STEPS = 96;
const DEFAULT_BAND_SD = 1.28;
const MAX_CONFIDENCE = 95;
const HORIZON_TAU_MS = 72 * HOUR_MS;
/** Learned samples at which a member's data quality reaches half. */
const HALF_QUALITY_SAMPLES = 60;

/** Forecast of one group over `count` intervals of `intervalMs` from `start`. */
export function forecastGroup(input: ForecastInput): GroupForecast {
  validate(input);
  const { members, start, intervalMs, count } = input;
  const now = input.now ?? start;
  const k = input.bandSd ?? DEFAULT_BAND_SD;
  const hours = intervalMs / HOUR_MS;

  // Mean clear-sky factor per distinct site and interval, computed once per site: members usually
  // share a few sites.
  const steps = Math.min(MAX_SUB_STEPS, Math.max(1, Math.ceil(intervalMs / SUB_STEP_MS)));
  const siteCsf = new Map<string, Float64Array>();
  const csfFor = (site: Site): Float64Array => {
    const key = `${site.latitudeDeg},${site.longitudeDeg},${site.altitudeM ?? 0}`;
    let csf = siteCsf.get(key);
    if (!csf) {
      csf = new Float64Array(count);
      for (let j = 0; j < count; j++) {
        const t0 = start + j * intervalMs;
        let sum = 0;
        for (let s = 0; s < steps; s++) sum += clearSkyFactor(t0 + ((s + 0.5) * intervalMs) / steps, site);
        csf[j] = sum / steps;
      }
      siteCsf.set(key, csf);
    }
    return csf;
  };

  // Per-member constants over the horizon (storage is idle, so its availability does not change).
  let qualityNum = 0;
  let qualityDen = 0;
  let hasAnyStorage = false;
  let disW = 0; // all storage members
  let batteryDisW = 0; // stand-alone batteries only: hybrids add theirs under their inverter cap
  let chgW = 0;
  let storedWh = 0;
  let capWh = 0;
  let iMax = 0;
  let iMin = 0;
  let pvMaxW = 0;
  const pv: { csf: Float64Array; maxW: number; mean: number; lo: number; hi: number; dis: number; hybrid: boolean; va2: number; varIn: number; varOut: number }[] = [];
  // Reactive capability of members without PV: their active power is idle (0), so only var limits bind.
  let varInFixed = 0;
  let varOutFixed = 0;
  for (const m of members) {
    const der = m.der;
    const n = der.nameplate;
    const range = installedRangeW(der);
    iMax += range.max;
    iMin += range.min;
    const rated = Math.max(range.max, -range.min);
    let dis = 0;
    if (hasStorage(der) && n.energyCapacityWh > 0) {
      hasAnyStorage = true;
      capWh += n.energyCapacityWh;
      const a = storageAssumptions(input.storage, m.storage);
      const soc = m.sample?.soc;
      const known = soc !== undefined && Number.isFinite(soc);
      if (known) {
        const disLimit = der.kind === 'hybrid' ? Math.min(n.maxDischargeW > 0 ? n.maxDischargeW : n.maxW, n.maxW) : range.max;
        const usableWh = (Math.max(0, soc - a.reservePct) / 100) * n.energyCapacityWh * a.dischargeEfficiency;
        const roomWh = (Math.max(0, a.maxSocPct - soc) / 100) * n.energyCapacityWh / a.chargeEfficiency;
        dis = Math.min(disLimit, usableWh / hours);
        disW += dis;
        chgW += Math.min(-range.min, roomWh / hours);
        storedWh += (soc / 100) * n.energyCapacityWh;
      }
      if (der.kind === 'battery') {
        batteryDisW += dis;
        qualityNum += known ? rated : 0;
        qualityDen += rated;
      } else {
        qualityNum += known ? rated / 2 : 0;
        qualityDen += rated / 2;
      }
    }
    if (der.kind === 'pv' || der.kind === 'hybrid') {
      pvMaxW += n.maxW;
      const r = input.tracker.estimate(der.mRID);
      const mean = Math.max(0, r.mean);
      pv.push({
        csf: csfFor(m.site),
        maxW: n.maxW,
        mean,
        lo: Math.max(0, r.mean - k * r.sd),
        hi: Math.max(0, r.mean + k * r.sd),
        dis,
        hybrid: der.kind === 'hybrid',
        va2: n.maxVA * n.maxVA,
        varIn: n.maxVarInject,
        varOut: n.maxVarAbsorb,
      });
      const learned = r.samples / (r.samples + HALF_QUALITY_SAMPLES);
      const w = der.kind === 'hybrid' ? rated / 2 : rated;
      qualityNum += w * learned;
      qualityDen += w;
    } else {
      varInFixed += Math.min(n.maxVarInject, n.maxVA);
      varOutFixed += Math.min(n.maxVarAbsorb, n.maxVA);
      // No model for it: it contributes nothing and lowers confidence by its share of the rating.
      if (der.kind === 'other') qualityDen += rated;
    }
  }
  const quality = qualityDen > 0 ? qualityNum / qualityDen : 1;
  const baseConfidence = MAX_CONFIDENCE * (0.5 + 0.5 * quality);

  const intervals: ForecastInterval[] = new Array<ForecastInterval>(count);
  let confSum = 0;
  for (let j = 0; j < count; j++) {
    const t0 = start + j * intervalMs;
    let pvNom = 0;
    let pvLo = 0;
    let pvHi = 0;
    let actNom = 0;
    let actHi = batteryDisW;
    let varIn = varInFixed;
    let varOut = varOutFixed;
    for (const p of pv) {
      const cap = p.maxW * p.csf[j]!;
      const nom = Math.min(p.maxW, cap * p.mean);
      const lo = Math.min(p.maxW, cap * p.lo);
      const hi = Math.min(p.maxW, cap * p.hi);
      pvNom += nom;
      pvLo += lo;
      pvHi += hi;
      actNom += nom;
      // A hybrid's PV and battery share one inverter.
      actHi += p.hybrid ? Math.min(p.maxW, hi + p.dis) : hi;
      const circle = Math.sqrt(Math.max(0, p.va2 - nom * nom));
      varIn += Math.min(p.varIn, circle);
      varOut += Math.min(p.varOut, circle);
    }
    const mid = t0 + intervalMs / 2;
    const confidence = Math.round(baseConfidence * Math.exp(-Math.max(0, mid - now) / HORIZON_TAU_MS) * 10) / 10;
    confSum += confidence;
    intervals[j] = {
      start: t0,
      end: t0 + intervalMs,
      activePowerW: { nominal: actNom, min: -chgW, max: actHi },
      pvW: { nominal: pvNom, min: pvLo, max: pvHi },
      reactivePowerVar: { nominal: 0, min: -varOut, max: varIn },
      storage: hasAnyStorage ? { maxDischargeW: disW, maxChargeW: chgW, energyWh: storedWh } : null,
      confidencePct: confidence,
    };
  }

  return {
    start,
    intervalMs,
    installed: { members: members.length, maxW: iMax, minW: iMin, pvMaxW, energyCapacityWh: capWh },
    intervals,
    confidencePct: Math.round((confSum / count) * 10) / 10,
  };
}

interface ResolvedStorage {
  readonly reservePct: number;
  readonly maxSocPct: number;
  readonly chargeEfficiency: number;
  readonly dischargeEfficiency: number;
}

function storageAssumptions(group: StorageAssumptions | undefined, member: StorageAssumptions | undefined): ResolvedStorage {
  const reservePct = member?.reservePct ?? group?.reservePct ?? 10;
  return {
    reservePct,
    maxSocPct: Math.max(reservePct, member?.maxSocPct ?? group?.maxSocPct ?? 100),
    chargeEfficiency: member?.chargeEfficiency ?? group?.chargeEfficiency ?? 1,
    dischargeEfficiency: member?.dischargeEfficiency ?? group?.dischargeEfficiency ?? 1,
  };
}

function validate(input: ForecastInput): void {
  const issues: ErrorIssue[] = [];
  const bad = (path: string, message: string): void => {
    issues.push({ path, message });
  };
  if (!Number.isFinite(input.start)) bad('start', 'must be a finite epoch-ms time');
  if (input.now !== undefined && !Number.isFinite(input.now)) bad('now', 'must be a finite epoch-ms time');
  if (!(Number.isFinite(input.intervalMs) && input.intervalMs > 0)) bad('intervalMs', 'must be a positive number of milliseconds');
  if (!(Number.isInteger(input.count) && input.count > 0)) bad('count', 'must be a positive integer');
  else if (input.count > MAX_FORECAST_INTERVALS) bad('count', `at most ${MAX_FORECAST_INTERVALS} intervals`);
  if (input.bandSd !== undefined && !(Number.isFinite(input.bandSd) && input.bandSd >= 0)) bad('bandSd', 'must be a non-negative number');
  checkStorage('storage', input.storage, bad);
  input.members.forEach((m, i) => {
    const s = m.site;
    if (!(s.latitudeDeg >= -90 && s.latitudeDeg <= 90)) bad(`members.${i}.site.latitudeDeg`, 'must be in -90..90');
    if (!Number.isFinite(s.longitudeDeg)) bad(`members.${i}.site.longitudeDeg`, 'must be finite');
    if (s.altitudeM !== undefined && !Number.isFinite(s.altitudeM)) bad(`members.${i}.site.altitudeM`, 'must be finite');
    checkStorage(`members.${i}.storage`, m.storage, bad);
  });
  if (issues.length > 0) throw new ValidationError('forecast request', issues);
}

function checkStorage(path: string, s: StorageAssumptions | undefined, bad: (path: string, message: string) => void): void {
  if (!s) return;
  for (const key of ['reservePct', 'maxSocPct'] as const) {
    const v = s[key];
    if (v !== undefined && !(v >= 0 && v <= 100)) bad(`${path}.${key}`, 'must be a percentage 0..100');
  }
  for (const key of ['chargeEfficiency', 'dischargeEfficiency'] as const) {
    const v = s[key];
    if (v !== undefined && !(v > 0 && v <= 1)) bad(`${path}.${key}`, 'must be in (0, 1]');
  }
}
