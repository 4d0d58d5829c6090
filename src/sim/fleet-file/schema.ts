/**
 * Zod schemas for the fleet YAML file (docs/fleet-files.md). These describe the file as written;
 * `expand.ts` turns the parsed file into a `FleetSpec`. Every object is strict so a misspelt key is
 * an error, and every default lives here so the docs and the code agree in one place.
 */
import { z } from 'zod';
import { abnormalCategories, mrid, normalCategories } from '../../core/model/der.js';
import { voltVarCurveSchema, voltWattCurveSchema } from '../../core/model/control.js';

const num = z.number();
const nonNeg = num.min(0);
const positive = num.positive();
const fraction = num.min(0).max(1);
const pct = num.min(0).max(100);
const id = mrid;

/** A number, or `{ min, max }` drawn uniformly per generated device. */
function range(lo: number, hi: number) {
  const item = num.min(lo).max(hi);
  return z.union([
    item,
    z
      .object({ min: item, max: item })
      .strict()
      .refine((r) => r.min <= r.max, { message: 'must not be less than min', path: ['max'] }),
  ]);
}
export type RangeInput = number | { min: number; max: number };

export const protocols = ['sunspec', 'dnp3', 'openfmb', 'in-process'] as const;
export const deviceKinds = ['pv', 'battery', 'hybrid'] as const;
export const loadProfiles = ['residential', 'commercial', 'flat'] as const;
export const faultKinds = ['commsLoss', 'trip', 'stuckSetpoint', 'rejectCommands', 'slowResponse', 'noisyMeasurements'] as const;
export const sunspecModes = ['port', 'gateway'] as const;
export const sunspecProfiles = ['legacy', '700', 'both'] as const;

/** ISO 8601 date-time with an explicit offset (or Z), so the start does not depend on the host's zone. */
const isoDateTime = z
  .string()
  .regex(
    /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/,
    'must be an ISO 8601 date-time with an offset, e.g. 2026-06-21T00:00:00-06:00',
  )
  .refine((s) => Number.isFinite(Date.parse(s)), 'is not a valid date-time');

export const clockSchema = z
  .object({
    start: isoDateTime,
    stepMs: num.int().min(1).max(3_600_000).default(1000),
    mode: z.enum(['realtime', 'accelerated', 'fast']).default('realtime'),
    speed: positive.max(1_000_000).optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.mode === 'realtime' && c.speed !== undefined && c.speed !== 1) {
      ctx.addIssue({ code: 'custom', path: ['speed'], message: 'speed applies to accelerated mode; realtime runs at 1' });
    }
  });

export const siteDefaults = { latitudeDeg: 40.0, longitudeDeg: -105.0, altitudeM: 1600 } as const;
const siteFields = {
  latitudeDeg: num.min(-90).max(90),
  longitudeDeg: num.min(-180).max(180),
  altitudeM: num.min(-500).max(9000),
};
export const siteSchema = z
  .object({
    latitudeDeg: siteFields.latitudeDeg.default(siteDefaults.latitudeDeg),
    longitudeDeg: siteFields.longitudeDeg.default(siteDefaults.longitudeDeg),
    altitudeM: siteFields.altitudeM.default(siteDefaults.altitudeM),
  })
  .strict();
/** A device's own site: any key left out comes from the fleet's site. */
export const siteOverrideSchema = z.object(siteFields).partial().strict();

export const weatherSchema = z
  .object({
    meanClearness: fraction.default(0.75),
    variability: num.min(0).max(0.5).default(0.15),
    cloudTimescaleS: positive.max(86_400).default(600),
    ambientMinC: num.min(-60).max(60).default(15),
    ambientMaxC: num.min(-60).max(60).default(30),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.ambientMaxC < w.ambientMinC) ctx.addIssue({ code: 'custom', path: ['ambientMaxC'], message: 'must not be below ambientMinC' });
  });

export const sectionSchema = z
  .object({
    id,
    /** Defaults to the section listed just before (null for the first). */
    parent: id.nullable().optional(),
    rOhm: nonNeg,
    xOhm: nonNeg,
    loadPeakW: nonNeg.default(0),
    loadPf: num.gt(0).max(1).default(0.95),
    loadProfile: z.enum(loadProfiles).default('residential'),
  })
  .strict();

export const sectionGeneratorSchema = z
  .object({
    sections: num.int().min(1).max(10_000),
    topology: z.enum(['line', 'branched']).default('line'),
    rOhmPerSection: nonNeg,
    xOhmPerSection: nonNeg,
    loadPeakWPerSection: nonNeg,
    loadPf: num.gt(0).max(1).default(0.95),
    loadProfile: z.enum(loadProfiles).default('residential'),
  })
  .strict();

export const feederSchema = z
  .object({
    id,
    nominalV: positive.max(1_000_000).default(240),
    headVoltagePu: num.min(0.9).max(1.1).default(1.0),
    sections: z.array(sectionSchema).min(1).optional(),
    generate: sectionGeneratorSchema.optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.sections && f.generate) ctx.addIssue({ code: 'custom', path: ['generate'], message: 'give either sections or generate, not both' });
    if (!f.sections && !f.generate) ctx.addIssue({ code: 'custom', path: [], message: 'a feeder needs sections or generate' });
  });

/** Partial IEEE 1547-2018 settings; ranges are the standard's allowable ranges of adjustment where it gives them. */
export const settingsSchema = z
  .object({
    activePowerLimitPct: pct.nullable(),
    reactiveMode: z.enum(['none', 'constantPf', 'constantVar', 'voltVar']),
    pf: num.min(0.8).max(1),
    pfExcitation: z.enum(['injecting', 'absorbing']),
    constantVarPct: num.min(-100).max(100),
    voltVarCurve: voltVarCurveSchema,
    voltVarResponseS: num.min(1).max(90),
    voltWattEnabled: z.boolean(),
    voltWattCurve: voltWattCurveSchema,
    voltWattResponseS: num.min(0.5).max(60),
    freqWattEnabled: z.boolean(),
    fwDbOverHz: num.min(0.017).max(1),
    fwDbUnderHz: num.min(0.017).max(1),
    fwKOver: num.min(0.02).max(0.07),
    fwKUnder: num.min(0.02).max(0.07),
    fwResponseS: num.min(0.2).max(10),
    rampUpPctPerS: pct,
    rampDownPctPerS: pct,
    esVMinPu: num.min(0.88).max(0.95),
    esVMaxPu: num.min(1.05).max(1.06),
    esFMinHz: num.min(59).max(59.9),
    esFMaxHz: num.min(60.1).max(61),
    esDelayS: num.min(0).max(600),
    esRandomWindowS: num.min(0).max(1000),
    esRampS: num.min(1).max(1000),
    activePowerResponseS: num.gt(0).max(30),
  })
  .partial()
  .strict();

const nameplateFileSchema = z
  .object({
    maxW: nonNeg,
    maxVA: nonNeg.optional(),
    maxVarInject: nonNeg.optional(),
    maxVarAbsorb: nonNeg.optional(),
    maxChargeW: nonNeg.optional(),
    maxDischargeW: nonNeg.optional(),
    energyCapacityWh: nonNeg.optional(),
    nominalV: positive.optional(),
    normalCategory: z.enum(normalCategories).default('B'),
    abnormalCategory: z.enum(abnormalCategories).default('II'),
  })
  .strict();

export const pvDefaults = { dcAcRatio: 1.2, tiltDeg: 25, azimuthDeg: 180, tempCoeffPctPerC: -0.37, noctC: 45, dcLosses: 0.14 } as const;
const pvFields = {
  tempCoeffPctPerC: num.min(-1).max(0),
  noctC: num.min(20).max(80),
  dcLosses: num.min(0).max(0.9),
};
const pvDeviceSchema = z
  .object({
    dcRatingW: nonNeg.optional(),
    tiltDeg: num.min(0).max(90).default(pvDefaults.tiltDeg),
    azimuthDeg: num.min(0).max(360).default(pvDefaults.azimuthDeg),
    tempCoeffPctPerC: pvFields.tempCoeffPctPerC.default(pvDefaults.tempCoeffPctPerC),
    noctC: pvFields.noctC.default(pvDefaults.noctC),
    dcLosses: pvFields.dcLosses.default(pvDefaults.dcLosses),
  })
  .strict();

export const batteryDefaults = { chargeEfficiency: 0.95, dischargeEfficiency: 0.95, minReservePct: 10, maxSocPct: 100, initialSocPct: 50 } as const;
const efficiency = num.gt(0).max(1);
const batteryFields = {
  chargeEfficiency: efficiency.default(batteryDefaults.chargeEfficiency),
  dischargeEfficiency: efficiency.default(batteryDefaults.dischargeEfficiency),
  minReservePct: pct.default(batteryDefaults.minReservePct),
  maxSocPct: pct.default(batteryDefaults.maxSocPct),
};
function socLimits(b: { minReservePct: number; maxSocPct: number }, ctx: z.RefinementCtx): void {
  if (b.maxSocPct <= b.minReservePct) ctx.addIssue({ code: 'custom', path: ['maxSocPct'], message: 'must be above minReservePct' });
}
const batteryDeviceSchema = z
  .object({ ...batteryFields, initialSocPct: pct.default(batteryDefaults.initialSocPct) })
  .strict()
  .superRefine((b, ctx) => {
    socLimits(b, ctx);
    if (b.initialSocPct < b.minReservePct || b.initialSocPct > b.maxSocPct) {
      ctx.addIssue({ code: 'custom', path: ['initialSocPct'], message: 'must lie between minReservePct and maxSocPct' });
    }
  });

const endpointFileSchema = z
  .object({
    sunspecMode: z.enum(sunspecModes).optional(),
    sunspecProfile: z.enum(sunspecProfiles).optional(),
    unitId: num.int().min(1).max(247).optional(),
    outstation: num.int().min(0).max(65519).optional(),
    port: num.int().min(1).max(65535).optional(),
  })
  .strict();
const endpointKeysFor: Record<(typeof protocols)[number], readonly string[]> = {
  sunspec: ['sunspecMode', 'sunspecProfile', 'unitId', 'port'],
  dnp3: ['outstation', 'port'],
  openfmb: [],
  'in-process': [],
};

export const deviceSchema = z
  .object({
    id,
    name: z.string().min(1).max(256).optional(),
    kind: z.enum(deviceKinds),
    /** Optional when the fleet has exactly one feeder. */
    feeder: id.optional(),
    section: id,
    site: siteOverrideSchema.optional(),
    nameplate: nameplateFileSchema,
    pv: pvDeviceSchema.optional(),
    battery: batteryDeviceSchema.optional(),
    protocol: z.enum(protocols).default('in-process'),
    endpoint: endpointFileSchema.prefault({}),
    settings: settingsSchema.prefault({}),
  })
  .strict()
  .superRefine((d, ctx) => {
    if (d.kind === 'battery' && d.pv) ctx.addIssue({ code: 'custom', path: ['pv'], message: 'a battery has no PV array; use kind hybrid' });
    if (d.kind === 'pv' && d.battery) ctx.addIssue({ code: 'custom', path: ['battery'], message: 'a pv device has no battery; use kind hybrid' });
    const allowed = endpointKeysFor[d.protocol];
    for (const [k, v] of Object.entries(d.endpoint)) {
      if (v !== undefined && !allowed.includes(k)) {
        ctx.addIssue({ code: 'custom', path: ['endpoint', k], message: `does not apply to protocol ${d.protocol}` });
      }
    }
    if (d.endpoint.sunspecMode === 'gateway' && d.endpoint.unitId !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['endpoint', 'unitId'], message: 'unit ids are assigned in gateway mode; pin one only in port mode' });
    }
  });
export type DeviceFile = z.output<typeof deviceSchema>;

function fractions<K extends string>(keys: readonly K[]) {
  const shape = Object.fromEntries(keys.map((k) => [k, fraction.default(0)])) as Record<K, z.ZodDefault<z.ZodNumber>>;
  return z
    .object(shape)
    .strict()
    .superRefine((f, ctx) => {
      const sum = Object.values(f as Record<string, number>).reduce((a, b) => a + b, 0);
      if (Math.abs(sum - 1) > 1e-6) ctx.addIssue({ code: 'custom', path: [], message: `fractions must sum to 1 (they sum to ${+sum.toFixed(6)})` });
    });
}

const powerRange = { minW: positive, maxW: positive };
function checkPowerRange(r: { minW: number; maxW: number }, ctx: z.RefinementCtx): void {
  if (r.maxW < r.minW) ctx.addIssue({ code: 'custom', path: ['maxW'], message: 'must not be less than minW' });
}
const pvRating = z.object(powerRange).strict().superRefine(checkPowerRange);
const storageRating = z
  .object({ ...powerRange, minWh: positive, maxWh: positive })
  .strict()
  .superRefine((r, ctx) => {
    checkPowerRange(r, ctx);
    if (r.maxWh < r.minWh) ctx.addIssue({ code: 'custom', path: ['maxWh'], message: 'must not be less than minWh' });
  });
export const ratingDefaults = {
  pv: { minW: 3000, maxW: 10_000 },
  battery: { minW: 5000, maxW: 5000, minWh: 13_500, maxWh: 13_500 },
  hybrid: { minW: 5000, maxW: 7600, minWh: 10_000, maxWh: 20_000 },
} as const;

export const deviceGeneratorSchema = z
  .object({
    count: num.int().min(1).max(100_000),
    idPrefix: z.string().max(64).regex(/^[^\s\p{Cc}]*$/u, 'no whitespace or control characters').default(''),
    mix: fractions(deviceKinds),
    ratings: z
      .object({
        pv: pvRating.default(ratingDefaults.pv),
        battery: storageRating.default(ratingDefaults.battery),
        hybrid: storageRating.default(ratingDefaults.hybrid),
      })
      .strict()
      .prefault({}),
    dcAcRatio: range(0.5, 3).default(pvDefaults.dcAcRatio),
    tiltDeg: range(0, 90).default({ min: 15, max: 35 }),
    azimuthDeg: range(0, 360).default({ min: 135, max: 225 }),
    pv: z.object(pvFields).partial().strict().prefault({}),
    battery: z
      .object({ ...batteryFields, initialSocPct: range(0, 100).default({ min: 30, max: 90 }) })
      .strict()
      .superRefine(socLimits)
      .prefault({}),
    normalCategory: z.enum(normalCategories).default('B'),
    abnormalCategory: z.enum(abnormalCategories).default('II'),
    placement: z
      .object({
        feeder: id.default('all'),
        sections: z.enum(['uniform', 'end-weighted']).default('uniform'),
      })
      .strict()
      .prefault({}),
    protocols: fractions(protocols).prefault({ 'in-process': 1 }),
    sunspecMode: z.enum(sunspecModes).default('port'),
    sunspecProfile: z.enum(sunspecProfiles).default('both'),
    settings: settingsSchema.prefault({}),
  })
  .strict();
export type DeviceGeneratorFile = z.output<typeof deviceGeneratorSchema>;

export const deviceGeneratorEntrySchema = z.object({ generate: deviceGeneratorSchema }).strict();

export const faultSchema = z
  .object({
    devices: z.array(id).min(1).optional(),
    /** An exact id, or a prefix followed by `*`. */
    deviceMatch: z
      .string()
      .regex(/^[^\s\p{Cc}*]+\*?$/u, "must be an id or a prefix followed by '*'")
      .optional(),
    kind: z.enum(faultKinds),
    atS: nonNeg.default(0),
    durationS: positive.nullable().default(null),
    magnitude: nonNeg.optional(),
  })
  .strict()
  .superRefine((f, ctx) => {
    if (f.devices && f.deviceMatch !== undefined) ctx.addIssue({ code: 'custom', path: ['deviceMatch'], message: 'give devices or deviceMatch, not both' });
    if (!f.devices && f.deviceMatch === undefined) ctx.addIssue({ code: 'custom', path: [], message: 'a fault needs devices or deviceMatch' });
  });

/** Default fault magnitudes: slowResponse adds 5 s of latency, noisyMeasurements 5 % relative noise. */
export const faultMagnitudeDefaults: Record<(typeof faultKinds)[number], number> = {
  commsLoss: 0,
  trip: 0,
  stuckSetpoint: 0,
  rejectCommands: 0,
  slowResponse: 5000,
  noisyMeasurements: 0.05,
};

/** The top level. Device entries are checked one by one (a device or a generator) in `expand.ts`. */
export const fleetFileSchema = z
  .object({
    name: z.string().min(1).max(256),
    seed: num.int().min(0).max(0xffff_ffff).default(1),
    clock: clockSchema,
    site: siteSchema.prefault({}),
    weather: weatherSchema.prefault({}),
    feeders: z.array(feederSchema).min(1),
    devices: z.array(z.unknown()).default([]),
    faults: z.array(faultSchema).default([]),
  })
  .strict();
export type FleetFile = z.output<typeof fleetFileSchema>;
