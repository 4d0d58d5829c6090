/**
 * Solar geometry and clear-sky irradiance, pure and allocation-light: the simulator's PV devices
 * call this once per step per site, and the forecaster once per interval per site.
 *
 * Model choices (all published, all cheap):
 * - Position: declination and equation of time as in NOAA's solar calculator (Meeus' low-precision
 *   formulas), then hour angle from UTC and longitude. About 0.01 deg over 1900-2100, far inside
 *   what a PV power estimate can notice, for ~10 trig calls; the full SPA (0.0003 deg) would cost
 *   ~10x that for no visible gain. Spencer's shorter series was tried first but follows the
 *   calendar day, so it carries a leap-cycle error of ~0.2 deg near the equinoxes. Angles are
 *   geometric (no refraction): refraction matters only within a few degrees of the horizon, where
 *   irradiance is already near zero.
 * - Clear sky: Meinel DNI with Laue's altitude term, air mass after Kasten & Young (1989, valid to
 *   the horizon), diffuse as a fixed 10 % of DNI (the usual companion of Meinel), and the
 *   extraterrestrial irradiance corrected for the Earth-Sun distance by Spencer's series.
 * - Transposition: isotropic sky (Liu & Jordan) with ground reflection; cell temperature: NOCT.
 */

export interface Site {
  readonly latitudeDeg: number;
  readonly longitudeDeg: number;
  readonly altitudeM?: number;
}

export interface SolarPosition {
  /** Cosine of the geometric zenith angle; negative when the sun is below the horizon. */
  readonly cosZenith: number;
  readonly elevationDeg: number;
  /** 0 = north, 90 = east, 180 = south, 270 = west. */
  readonly azimuthDeg: number;
  /** Day of the (UTC) year, 1..366. */
  readonly dayOfYear: number;
}

/** Irradiance components, W/m2; all 0 when the sun is down. */
export interface ClearSky {
  readonly ghi: number;
  readonly dni: number;
  readonly dhi: number;
}

const DEG = Math.PI / 180;
const DAY_MS = 86_400_000;
/** Total solar irradiance at 1 AU, W/m2 (Kopp & Lean 2011). */
const SOLAR_CONSTANT = 1361;
/** Meinel's clear-atmosphere transmittance and air-mass exponent. */
const MEINEL_T = 0.7;
const MEINEL_EXP = 0.678;
/** Laue: the attenuated fraction shrinks by 0.14 per km of altitude. */
const LAUE_PER_KM = 0.14;
/** Diffuse on the horizontal as a fraction of DNI: Meinel's clear-sky rule of thumb. */
const DIFFUSE_FRACTION = 0.1;
const DEFAULT_ALBEDO = 0.2;

// Scratch for the hot path: solarPosition and clearSkyFactor share one computation without
// allocating an intermediate object. Safe because JS is single-threaded and nothing re-enters.
let sDoy = 0;
let sCosZ = 0;
let sSinDecl = 0;
let sCosDecl = 0;
let sHa = 0;
let sSinLat = 0;
let sCosLat = 0;

/** Fills the scratch variables for time `tMs` at (lat, lon). */
function compute(tMs: number, latitudeDeg: number, longitudeDeg: number): void {
  const days = Math.floor(tMs / DAY_MS);
  const msOfDay = tMs - days * DAY_MS;
  const hourUtc = msOfDay / 3_600_000;
  // Day of year from days since 1970-01-01 (Hinnant's civil-from-days), so the hot path makes no
  // Date object.
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doyFromMarch = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  // Day of year: January and February belong to the next calendar year of the March-based era.
  const doy = doyFromMarch >= 306 ? doyFromMarch - 305 : doyFromMarch + 60 + (isLeap(yoe + era * 400) ? 1 : 0);
  sDoy = doy;

  // Sun's apparent longitude, obliquity, declination and equation of time after NOAA's solar
  // calculator (Meeus' low-precision formulas), continuous in Julian centuries so that, unlike a
  // series in the calendar day, it has no leap-year sawtooth (worth ~0.1 deg near the equinoxes).
  const jc = (tMs / DAY_MS + 2_440_587.5 - 2_451_545) / 36_525;
  const l0 = (280.46646 + jc * (36_000.76983 + jc * 0.0003032)) * DEG;
  const m = (357.52911 + jc * (35_999.05029 - 0.0001537 * jc)) * DEG;
  const e = 0.016708634 - jc * (0.000042037 + 0.0000001267 * jc);
  const sM = Math.sin(m);
  const cM = Math.cos(m);
  const s2M = 2 * sM * cM;
  const s3M = sM * (4 * cM * cM - 1);
  const center = sM * (1.914602 - jc * (0.004817 + 0.000014 * jc)) + s2M * (0.019993 - 0.000101 * jc) + s3M * 0.000289;
  const omega = (125.04 - 1934.136 * jc) * DEG;
  const lambda = l0 + (center - 0.00569 - 0.00478 * Math.sin(omega)) * DEG;
  const eps0 = 23 + (26 + (21.448 - jc * (46.815 + jc * (0.00059 - jc * 0.001813))) / 60) / 60;
  const eps = (eps0 + 0.00256 * Math.cos(omega)) * DEG;
  sSinDecl = Math.sin(eps) * Math.sin(lambda);
  sCosDecl = Math.sqrt(1 - sSinDecl * sSinDecl);
  const ty = Math.tan(eps / 2);
  const y = ty * ty;
  const s2L = Math.sin(2 * l0);
  const c2L = Math.cos(2 * l0);
  const eotRad = y * s2L - 2 * e * sM + 4 * e * y * sM * c2L - 0.5 * y * y * 2 * s2L * c2L - 1.25 * e * e * s2M;
  const eotMin = (4 * eotRad) / DEG;
  // True solar time from UTC: longitude east is ahead, 4 minutes per degree.
  const tstMin = hourUtc * 60 + eotMin + 4 * longitudeDeg;
  sHa = (tstMin / 4 - 180) * DEG;

  const lat = latitudeDeg * DEG;
  sSinLat = Math.sin(lat);
  sCosLat = Math.cos(lat);
  const cz = sSinLat * sSinDecl + sCosLat * sCosDecl * Math.cos(sHa);
  sCosZ = cz > 1 ? 1 : cz < -1 ? -1 : cz;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Sun position at `tMs` (epoch ms, UTC) seen from `site`. */
export function solarPosition(tMs: number, site: Site): SolarPosition {
  compute(tMs, site.latitudeDeg, site.longitudeDeg);
  // Azimuth from north, clockwise, via atan2 so it is defined everywhere (poles, zenith) without
  // the acos branch juggling of the textbook form.
  const y = -sCosDecl * Math.sin(sHa);
  const x = sSinDecl * sCosLat - sCosDecl * sSinLat * Math.cos(sHa);
  let az = Math.atan2(y, x) / DEG;
  if (az < 0) az += 360;
  return { cosZenith: sCosZ, elevationDeg: Math.asin(sCosZ) / DEG, azimuthDeg: az, dayOfYear: sDoy };
}

/** Extraterrestrial normal irradiance on day `doy` (Spencer's Earth-Sun distance series). */
function extraterrestrial(doy: number): number {
  const b = ((2 * Math.PI) / 365) * (doy - 1);
  const c1 = Math.cos(b);
  const s1 = Math.sin(b);
  const e0 = 1.00011 + 0.034221 * c1 + 0.00128 * s1 + 0.000719 * (2 * c1 * c1 - 1) + 0.000077 * (2 * s1 * c1);
  return SOLAR_CONSTANT * e0;
}

function dniFor(cosZ: number, doy: number, altitudeM: number | undefined): number {
  if (!(cosZ > 0)) return 0;
  const zenithDeg = Math.acos(cosZ) / DEG;
  const am = 1 / (cosZ + 0.50572 * Math.pow(96.07995 - zenithDeg, -1.6364));
  // Laue's altitude term already accounts for thinner air, so air mass is not pressure-corrected
  // as well (that would count altitude twice). Below sea level is treated as sea level.
  const h = altitudeM !== undefined && altitudeM > 0 ? Math.min(altitudeM, 9000) / 1000 : 0;
  const a = LAUE_PER_KM * h;
  return extraterrestrial(doy) * ((1 - a) * Math.pow(MEINEL_T, Math.pow(am, MEINEL_EXP)) + a);
}

/** Clear-sky irradiance for a sun position; `altitudeM` is the site's height above sea level. */
export function clearSky(pos: SolarPosition, altitudeM?: number): ClearSky {
  const dni = dniFor(pos.cosZenith, pos.dayOfYear, altitudeM);
  if (dni === 0) return { ghi: 0, dni: 0, dhi: 0 };
  const dhi = DIFFUSE_FRACTION * dni;
  return { ghi: dni * pos.cosZenith + dhi, dni, dhi };
}

/**
 * Cosine of the angle between the sun and the normal of a plane tilted `tiltDeg` from horizontal
 * and facing `azimuthDeg` (180 = south). Negative when the sun is behind the plane; callers that
 * want beam irradiance clamp it at 0.
 */
export function angleOfIncidenceCos(pos: SolarPosition, tiltDeg: number, azimuthDeg: number): number {
  const cz = pos.cosZenith;
  const sz = Math.sqrt(Math.max(0, 1 - cz * cz));
  const b = tiltDeg * DEG;
  const c = cz * Math.cos(b) + sz * Math.sin(b) * Math.cos((pos.azimuthDeg - azimuthDeg) * DEG);
  return c > 1 ? 1 : c < -1 ? -1 : c;
}

/**
 * Plane-of-array irradiance, W/m2, with the isotropic sky model: beam on the plane, the share of
 * the sky dome the plane sees, and the share of the ground it sees times `albedo` (default 0.2,
 * grass / typical ground). The isotropic model underestimates circumsolar light on tilted planes
 * by a few percent, which is small against cloud variability and costs nothing.
 */
export function planeOfArray(sky: ClearSky, pos: SolarPosition, tiltDeg: number, azimuthDeg: number, albedo: number = DEFAULT_ALBEDO): number {
  if (!(sky.ghi > 0)) return 0;
  const cosB = Math.cos(tiltDeg * DEG);
  const cosAoi = angleOfIncidenceCos(pos, tiltDeg, azimuthDeg);
  const beam = cosAoi > 0 ? sky.dni * cosAoi : 0;
  const poa = beam + (sky.dhi * (1 + cosB)) / 2 + (sky.ghi * (albedo > 0 ? albedo : 0) * (1 - cosB)) / 2;
  return poa > 0 ? poa : 0;
}

/**
 * Cell temperature, degrees C, by the NOCT model: cells run (NOCT - 20) degrees above ambient at
 * 800 W/m2, linearly in irradiance. Ignores wind and thermal lag, which the NOCT rating averages.
 */
export function cellTemperatureC(poaWm2: number, ambientC: number, noctC: number): number {
  const g = poaWm2 > 0 ? poaWm2 : 0;
  return ambientC + ((noctC - 20) / 800) * g;
}

/** Clear-sky GHI / 1000 W/m2 at `site` and time `tMs`: a quick 0..~1.05 "how much sun" factor. */
export function clearSkyFactor(tMs: number, site: Site): number {
  compute(tMs, site.latitudeDeg, site.longitudeDeg);
  const dni = dniFor(sCosZ, sDoy, site.altitudeM);
  return dni === 0 ? 0 : (dni * sCosZ + DIFFUSE_FRACTION * dni) / 1000;
}
