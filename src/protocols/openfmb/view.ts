import type { CapabilityFacts } from './build.js';
import { msOf } from './codec.js';
import { AbnOpCatKind, NorOpCatKind, ScheduleParameterKind, type ASG, type CMV, type ControlValue, type MV, type StatusSPS } from './messages.js';
import type { DerPoint, DerPointStatus } from './points.js';
import type { ProfileMessages } from './profiles.js';

/**
 * Flat views of decoded profiles, in SI units. A value is undefined when the message does not
 * carry it; a present value reads as OpenFMB sends it (proto3: a present message whose number is
 * absent on the wire holds 0).
 */

type Reading = ProfileMessages['SolarReadingProfile'] | ProfileMessages['ESSReadingProfile'];
type Status = ProfileMessages['SolarStatusProfile'] | ProfileMessages['ESSStatusProfile'];
type Capability = ProfileMessages['SolarCapabilityProfile'] | ProfileMessages['ESSCapabilityProfile'];
type DiscreteControl = ProfileMessages['SolarDiscreteControlProfile'] | ProfileMessages['ESSDiscreteControlProfile'];
type ScheduledControl = ProfileMessages['SolarControlProfile'] | ProfileMessages['ESSControlProfile'];

const cmv = (x: CMV | undefined): number | undefined => (x ? (x.cVal?.mag ?? 0) : undefined);
const mv = (x: MV | undefined): number | undefined => (x ? (x.mag ?? 0) : undefined);
const sps = (x: StatusSPS | undefined): boolean | undefined => (x ? (x.stVal ?? false) : undefined);
const asg = (x: ASG | undefined): number | undefined => (x ? (x.setMag ?? 0) : undefined);
const bcr = (b: { actVal?: number | undefined } | undefined): number | undefined => (b ? (b.actVal ?? 0) : undefined);

export interface ReadingView {
  readonly timeMs: number | undefined;
  readonly w: number | undefined;
  readonly var: number | undefined;
  readonly va: number | undefined;
  readonly pf: number | undefined;
  /** Phase-to-neutral (net, else phase A), else phase-to-phase AB. */
  readonly v: number | undefined;
  readonly hz: number | undefined;
  readonly exportedWh: number | undefined;
  readonly importedWh: number | undefined;
}

export function readingView(msg: Reading): ReadingView {
  const r = 'solarReading' in msg ? msg.solarReading : 'essReading' in msg ? msg.essReading : undefined;
  const x = r?.readingMMXU;
  const m = r?.readingMMTR;
  return {
    timeMs: msOf(msg.readingMessageInfo?.messageInfo?.messageTimeStamp),
    w: cmv(x?.W?.net),
    var: cmv(x?.VAr?.net),
    va: cmv(x?.VA?.net),
    pf: cmv(x?.PF?.net),
    v: cmv(x?.PhV?.net) ?? cmv(x?.PhV?.phsA) ?? cmv(x?.PPV?.phsAB),
    hz: mv(x?.Hz),
    exportedWh: bcr(m?.SupWh),
    importedWh: bcr(m?.DmdWh),
  };
}

export interface StatusView {
  readonly timeMs: number | undefined;
  /** HealthKind of the event-and-status logical node. */
  readonly health: number | undefined;
  /** OperatingStateKind (solar status only). */
  readonly operatingState: number | undefined;
  readonly connected: boolean | undefined;
  /** ESS: the battery is on standby. */
  readonly standby: boolean | undefined;
  readonly soc: number | undefined;
  readonly whAvail: number | undefined;
  readonly point: DerPointStatus | undefined;
}

export function statusView(msg: Status): StatusView {
  const timeMs = msOf(msg.statusMessageInfo?.messageInfo?.messageTimeStamp);
  if ('solarStatus' in msg) {
    const z = msg.solarStatus?.solarStatusZGEN?.solarEventAndStatusZGEN;
    const grid = z?.GridConnectionState;
    return {
      timeMs,
      health: z?.logicalNodeForEventAndStatus?.EEHealth?.stVal,
      operatingState: z?.OperatingState ? (z.OperatingState.value ?? 0) : undefined,
      connected: grid ? grid.value === 1 : sps(z?.GnSynSt),
      standby: undefined,
      soc: undefined,
      whAvail: undefined,
      point: z?.PointStatus,
    };
  }
  const s = (msg as ProfileMessages['ESSStatusProfile']).essStatus;
  const bat = s?.essStatusZBAT;
  const gen = s?.essStatusZGEN?.eSSEventAndStatusZGEN;
  return {
    timeMs,
    health: (gen?.logicalNodeForEventAndStatus ?? bat?.logicalNodeForEventAndStatus)?.EEHealth?.stVal,
    operatingState: undefined,
    connected: sps(gen?.GnSynSt),
    standby: sps(bat?.Stdby),
    soc: mv(bat?.Soc),
    whAvail: mv(bat?.WHAvail),
    point: gen?.PointStatus,
  };
}

export type CapabilityView = { readonly [K in keyof CapabilityFacts]?: CapabilityFacts[K] | undefined } & { readonly timeMs: number | undefined };

const normal: Record<number, 'A' | 'B'> = { [NorOpCatKind.NorOpCatKind_A]: 'A', [NorOpCatKind.NorOpCatKind_B]: 'B' };
const abnormal: Record<number, 'I' | 'II' | 'III'> = { [AbnOpCatKind.AbnOpCatKind_I]: 'I', [AbnOpCatKind.AbnOpCatKind_II]: 'II', [AbnOpCatKind.AbnOpCatKind_III]: 'III' };

export function capabilityView(msg: Capability): CapabilityView {
  const ess = 'essCapability' in msg ? msg.essCapability : undefined;
  const solar = 'solarCapability' in msg ? msg.solarCapability : undefined;
  const r = (ess ? ess.essCapabilityRatings?.sourceCapabilityRatings : solar?.solarCapabilityRatings?.sourceCapabilityRatings) ?? {};
  const np = (ess ?? solar)?.nameplateValue;
  const er = ess?.essCapabilityRatings;
  return {
    timeMs: msOf(msg.capabilityMessageInfo?.messageInfo?.messageTimeStamp),
    maxW: asg(r.WMaxRtg),
    maxVA: asg(r.VAMaxRtg),
    maxVarInject: asg(r.VarMaxInjRtg),
    maxVarAbsorb: asg(r.VarMaxAbsRtg),
    nominalV: asg(r.VNomRtg),
    nominalHz: asg(r.FreqNomRtg),
    normalCategory: r.NorOpCatRtg === undefined ? undefined : normal[r.NorOpCatRtg],
    abnormalCategory: r.AbnOpCatRtg === undefined ? undefined : abnormal[r.AbnOpCatRtg],
    maxChargeW: asg(er?.WChaRteMaxRtg),
    maxDischargeW: asg(er?.WDisChaRteMaxRtg),
    energyCapacityWh: asg(er?.WHRtg),
    vendor: np?.vendor?.value,
    model: np?.model?.value,
    serial: np?.sernum?.value,
  };
}

export interface ControlHeadView {
  readonly controlId: string | undefined;
  readonly timeMs: number | undefined;
  /** modBlk: the device is tagged out and must ignore the message's controls. */
  readonly blocked: boolean;
}

function head(info: { messageInfo?: { messageTimeStamp?: { seconds?: number; nanoseconds?: number } | undefined } | undefined } | undefined, cv: ControlValue | undefined): ControlHeadView {
  return { controlId: cv?.identifiedObject?.mRID?.value, timeMs: msOf(info?.messageInfo?.messageTimeStamp), blocked: cv?.modBlk?.value === true };
}

export interface DiscreteControlView extends ControlHeadView {
  readonly point: DerPoint | undefined;
}

export function discreteControlView(msg: DiscreteControl): DiscreteControlView {
  if ('solarDiscreteControl' in msg) {
    const c = msg.solarDiscreteControl;
    return { ...head(msg.controlMessageInfo, c?.controlValue), point: c?.solarDiscreteControlPV?.control };
  }
  const c = (msg as ProfileMessages['ESSDiscreteControlProfile']).essDiscreteControl;
  return { ...head(msg.controlMessageInfo, c?.controlValue), point: c?.essDiscreteControlDBAT?.control };
}

export interface ScheduledPoint {
  readonly startMs: number;
  readonly point: DerPoint;
}

export interface ScheduleView extends ControlHeadView {
  /** By start time. */
  readonly points: readonly ScheduledPoint[];
  /** What could not be read: points without a start time, schedule quantities we do not act on. */
  readonly problems: readonly string[];
}

/**
 * A scheduled control's points, from both of its forms: device points at times (ValDCSG) and
 * analogue schedule points (ValACSG: W_net_mag as an active-power setpoint, VAr_net_mag as a
 * constant var, PF_net_mag as a constant power factor, over-excited since a magnitude has no side).
 */
export function scheduleView(msg: ScheduledControl): ScheduleView {
  const solar = 'solarControl' in msg ? msg.solarControl : undefined;
  const ess = 'essControl' in msg ? msg.essControl : undefined;
  const cv = (solar ?? ess)?.controlValue;
  const fscc = solar ? solar.solarControlFSCC : ess?.essControlFSCC;
  const curve = solar ? solar.solarControlFSCC?.SolarControlScheduleFSCH?.ValDCSG?.crvPts : ess?.essControlFSCC?.essControlScheduleFSCH?.ValDCSG?.crvPts;
  const points: ScheduledPoint[] = [];
  const problems: string[] = [];
  (curve ?? []).forEach((p, i) => {
    const startMs = msOf(p.startTime);
    if (startMs === undefined) problems.push(`curve point ${i} has no start time`);
    else if (!p.control) problems.push(`curve point ${i} has no control`);
    else points.push({ startMs, point: p.control });
  });
  (fscc?.controlFSCC?.controlScheduleFSCH?.ValACSG?.schPts ?? []).forEach((p, i) => {
    const startMs = msOf(p.startTime);
    if (startMs === undefined) return void problems.push(`schedule point ${i} has no start time`);
    const point: { -readonly [K in keyof DerPoint]: DerPoint[K] } = {};
    for (const sp of p.scheduleParameter ?? []) {
      const value = sp.value ?? 0;
      switch (sp.scheduleParameterType) {
        case ScheduleParameterKind.ScheduleParameterKind_W_net_mag:
          point.wOperation = { modEna: true, wParameter: { wSpt: value } };
          break;
        case ScheduleParameterKind.ScheduleParameterKind_VAr_net_mag:
          point.vArOperation = { modEna: true, varParameter: { varTgtSpt: value } };
          break;
        case ScheduleParameterKind.ScheduleParameterKind_PF_net_mag:
          point.pFOperation = { ctlVal: true, pFParameter: { modEna: true, pFExtSet: true, pFGnTgtMxVal: Math.abs(value) } };
          break;
        default:
          problems.push(`schedule point ${i}: quantity ${sp.scheduleParameterType ?? 0} is not acted on`);
      }
    }
    points.push({ startMs, point });
  });
  points.sort((a, b) => a.startMs - b.startMs);
  return { ...head(msg.controlMessageInfo, cv), points, problems };
}
