import { controlTimestampOf, timestampOf } from './codec.js';
import {
  AbnOpCatKind,
  HealthKind,
  NorOpCatKind,
  PFSignKind,
  type CMV,
  type ControlMessageInfo,
  type ControlValue,
  type ConductingEquipment,
  type MessageInfo,
  type NameplateValue,
  type ReadingMMTR,
  type ReadingMMXU,
  type SourceCapabilityConfiguration,
  type SourceCapabilityRatings,
} from './messages.js';
import type { DerPoint, DerPointStatus } from './points.js';
import type { OpenFmbModule, ProfileKind, ProfileMessages } from './profiles.js';

/** The profile message type of `module` and `kind`, e.g. `SolarReadingProfile` for ('solar', 'Reading'). */
export type ProfileOf<M extends OpenFmbModule, K extends ProfileKind> = ProfileMessages[`${M extends 'solar' ? 'Solar' : 'ESS'}${K}Profile`];

/** Who a message is about, its own id and when it was made. */
export interface Envelope {
  /** The conducting equipment's mRID (the last topic level). */
  readonly mRID: string;
  readonly name?: string | undefined;
  /** This message's id (messageInfo.identifiedObject.mRID), usually a fresh UUID. */
  readonly messageId: string;
  readonly timeMs: number;
}

/** One reading in SI units: W, var, VA, V, Hz; power factor signed as active power (IEC); lifetime Wh. */
export interface ReadingValues {
  readonly w: number;
  readonly var: number;
  readonly va: number;
  readonly pf: number;
  readonly v: number;
  readonly hz: number;
  readonly exportedWh: number;
  readonly importedWh: number;
}

/** What a status tells, ahead of the module's layout. */
export interface StatusFacts {
  /** OperatingStateKind (solar only; ESS status has no such field). */
  readonly operatingState: number;
  /** Synchronized with the grid and energized. */
  readonly connected: boolean;
  /** A trip or fault: the health is Alarm. */
  readonly alarm: boolean;
  /** Waiting to enter service. */
  readonly standby: boolean;
  /** State of charge, percent, and energy available, Wh (ESS only). */
  readonly soc?: number | undefined;
  readonly whAvail?: number | undefined;
  readonly point: DerPointStatus;
}

/** Ratings in SI units; the storage ones for ESS. */
export interface CapabilityFacts {
  readonly maxW: number;
  readonly maxVA: number;
  readonly maxVarInject: number;
  readonly maxVarAbsorb: number;
  readonly nominalV: number;
  readonly nominalHz: number;
  readonly normalCategory: 'A' | 'B';
  readonly abnormalCategory: 'I' | 'II' | 'III';
  readonly maxChargeW?: number | undefined;
  readonly maxDischargeW?: number | undefined;
  readonly energyCapacityWh?: number | undefined;
  readonly vendor?: string | undefined;
  readonly model?: string | undefined;
  readonly serial?: string | undefined;
}

export interface SchedulePointInput {
  readonly startMs: number;
  readonly point: DerPoint;
}

const str = (value: string): { value: string } => ({ value });
const cmv = (mag: number): CMV => ({ cVal: { mag } });

function messageInfo(env: Envelope): MessageInfo {
  return { identifiedObject: { mRID: str(env.messageId) }, messageTimeStamp: timestampOf(env.timeMs) };
}

function equipment(env: Envelope): { conductingEquipment: ConductingEquipment } {
  return { conductingEquipment: { mRID: env.mRID, ...(env.name ? { namedObject: { name: str(env.name) } } : {}) } };
}

/** Solar profiles name the equipment `solarInverter`, ESS ones `ess`. */
function withEquipment<M extends OpenFmbModule>(module: M, env: Envelope, body: object): object {
  return module === 'solar' ? { solarInverter: equipment(env), ...body } : { ess: equipment(env), ...body };
}

export function readingProfile<M extends OpenFmbModule>(module: M, env: Envelope, r: ReadingValues): ProfileOf<M, 'Reading'> {
  const mmxu: ReadingMMXU = {
    A: { net: cmv(r.v > 0 ? r.va / r.v : 0) },
    Hz: { mag: r.hz },
    PF: { net: cmv(r.pf) },
    PFSign: { setVal: PFSignKind.PFSignKind_IEC },
    PhV: { net: cmv(r.v), phsA: cmv(r.v) },
    VA: { net: cmv(r.va) },
    VAr: { net: cmv(r.var) },
    W: { net: cmv(r.w) },
  };
  const sup = Math.round(r.exportedWh);
  const dmd = Math.round(r.importedWh);
  const mmtr: ReadingMMTR = { DmdWh: { actVal: dmd }, SupWh: { actVal: sup }, TotWh: { actVal: sup - dmd } };
  const reading = { readingMMTR: mmtr, readingMMXU: mmxu };
  const info = { readingMessageInfo: { messageInfo: messageInfo(env) } };
  return { ...info, ...withEquipment(module, env, module === 'solar' ? { solarReading: reading } : { essReading: reading }) } as ProfileOf<M, 'Reading'>;
}

export function statusProfile<M extends OpenFmbModule>(module: M, env: Envelope, s: StatusFacts): ProfileOf<M, 'Status'> {
  const health = { EEHealth: { stVal: s.alarm ? HealthKind.HealthKind_Alarm : HealthKind.HealthKind_OK } };
  const info = { statusMessageInfo: { messageInfo: messageInfo(env) } };
  if (module === 'solar') {
    const zgen = {
      logicalNodeForEventAndStatus: health,
      PointStatus: s.point,
      GnSynSt: { stVal: s.connected },
      GridConnectionState: { value: s.connected ? 1 : 0 },
      OperatingState: { value: s.operatingState },
    };
    return { ...info, ...withEquipment(module, env, { solarStatus: { solarStatusZGEN: { solarEventAndStatusZGEN: zgen } } }) } as ProfileOf<M, 'Status'>;
  }
  const zbat = {
    logicalNodeForEventAndStatus: health,
    BatSt: { stVal: s.connected },
    Soc: { mag: s.soc ?? 0 },
    Stdby: { stVal: s.standby },
    WHAvail: { mag: s.whAvail ?? 0 },
  };
  const zgen = { eSSEventAndStatusZGEN: { logicalNodeForEventAndStatus: health, GnSynSt: { stVal: s.connected }, PointStatus: s.point } };
  return { ...info, ...withEquipment(module, env, { essStatus: { essStatusZBAT: zbat, essStatusZGEN: zgen } }) } as ProfileOf<M, 'Status'>;
}

export function capabilityProfile<M extends OpenFmbModule>(module: M, env: Envelope, c: CapabilityFacts): ProfileOf<M, 'Capability'> {
  const asg = (setMag: number): { setMag: number } => ({ setMag });
  const ratings: SourceCapabilityRatings = {
    AbnOpCatRtg: AbnOpCatKind[`AbnOpCatKind_${c.abnormalCategory}`],
    FreqNomRtg: asg(c.nominalHz),
    NorOpCatRtg: NorOpCatKind[`NorOpCatKind_${c.normalCategory}`],
    VAMaxRtg: asg(c.maxVA),
    VarMaxAbsRtg: asg(c.maxVarAbsorb),
    VarMaxInjRtg: asg(c.maxVarInject),
    VNomRtg: asg(c.nominalV),
    WMaxRtg: asg(c.maxW),
  };
  const config: SourceCapabilityConfiguration = { VAMax: asg(c.maxVA), VarMaxAbs: asg(c.maxVarAbsorb), VarMaxInj: asg(c.maxVarInject), VNom: asg(c.nominalV), WMax: asg(c.maxW) };
  const nameplate: NameplateValue = {
    ...(c.vendor ? { vendor: str(c.vendor) } : {}),
    ...(c.model ? { model: str(c.model) } : {}),
    ...(c.serial ? { sernum: str(c.serial) } : {}),
  };
  const info = { capabilityMessageInfo: { messageInfo: messageInfo(env) } };
  if (module === 'solar') {
    const solarCapability = { nameplateValue: nameplate, solarCapabilityRatings: { sourceCapabilityRatings: ratings }, solarCapabilityConfiguration: { sourceCapabilityConfiguration: config } };
    return { ...info, ...withEquipment(module, env, { solarCapability }) } as ProfileOf<M, 'Capability'>;
  }
  const charge = c.maxChargeW ?? 0;
  const discharge = c.maxDischargeW ?? 0;
  const essCapability = {
    nameplateValue: nameplate,
    essCapabilityRatings: {
      sourceCapabilityRatings: ratings,
      VAChaRteMaxRtg: asg(charge),
      VADisChaRteMaxRtg: asg(discharge),
      WChaRteMaxRtg: asg(charge),
      WDisChaRteMaxRtg: asg(discharge),
      WHRtg: asg(c.energyCapacityWh ?? 0),
    },
    essCapabilityConfiguration: { sourceCapabilityConfiguration: config, VAChaRteMax: asg(charge), VADisChaRteMax: asg(discharge), WChaRteMax: asg(charge), WDisChaRteMax: asg(discharge) },
  };
  return { ...info, ...withEquipment(module, env, { essCapability }) } as ProfileOf<M, 'Capability'>;
}

function controlHead(env: Envelope): { controlMessageInfo: ControlMessageInfo; controlValue: ControlValue } {
  return { controlMessageInfo: { messageInfo: messageInfo(env) }, controlValue: { identifiedObject: { mRID: str(env.messageId) }, modBlk: { value: false } } };
}

/** An immediate control: the device applies `point` on receipt. */
export function discreteControlProfile<M extends OpenFmbModule>(module: M, env: Envelope, point: DerPoint): ProfileOf<M, 'DiscreteControl'> {
  const { controlMessageInfo, controlValue } = controlHead(env);
  const body =
    module === 'solar'
      ? { solarDiscreteControl: { controlValue, solarDiscreteControlPV: { control: point } } }
      : { essDiscreteControl: { controlValue, essDiscreteControlDBAT: { control: point } } };
  return { controlMessageInfo, ...withEquipment(module, env, body) } as ProfileOf<M, 'DiscreteControl'>;
}

/** A scheduled control: each point takes effect at its start time (ValDCSG curve points). */
export function scheduleControlProfile<M extends OpenFmbModule>(module: M, env: Envelope, points: readonly SchedulePointInput[]): ProfileOf<M, 'Control'> {
  const { controlMessageInfo, controlValue } = controlHead(env);
  const crvPts = points.map((p) => ({ control: p.point, startTime: controlTimestampOf(p.startMs) }));
  const body =
    module === 'solar'
      ? { solarControl: { controlValue, solarControlFSCC: { SolarControlScheduleFSCH: { ValDCSG: { crvPts } } } } }
      : { essControl: { controlValue, essControlFSCC: { essControlScheduleFSCH: { ValDCSG: { crvPts } } } } };
  return { controlMessageInfo, ...withEquipment(module, env, body) } as ProfileOf<M, 'Control'>;
}
