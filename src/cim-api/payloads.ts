import type { GroupForecast } from '../core/forecast.js';
import type { GroupStatus } from '../core/group-status.js';
import { derFunctionNames, type DerGroup } from '../core/model/group.js';
import type { Registry } from '../core/registry.js';
import { toMultiplier, type CurveStyleKind, type DerParameterKind, type TimeIntervalKind, type UnitMultiplier } from './enums.js';
import type { CimNamespaces } from './namespaces.js';
import { builder, type Builder, type El } from './tree.js';

/**
 * Profile documents the DERMS writes: DERGroups (query result and notifications, with the
 * capability extension), DERGroupStatuses and DERGroupForecasts, from core values in SI units.
 */

export interface RenderContext {
  readonly ns: CimNamespaces;
  /** Multiplier of every power value written (default k). */
  readonly multiplier: UnitMultiplier;
  readonly registry: Registry;
  /**
   * Write what the 2017 draft profiles have no element for (capability in DERGroups, status
   * details): true by default; false keeps every document valid against the draft schemas.
   */
  readonly extensions: boolean;
}

const iso = (ms: number): string => new Date(ms).toISOString();

function namesOf(p: Builder, names: readonly string[]): El[] {
  return names.map((n) => p.list('Names', [p('name', n)]));
}

/** One-word state of a group for `status/value`, from its member counts. */
export function groupState(s: GroupStatus): 'Online' | 'Degraded' | 'Offline' | 'Empty' {
  const m = s.members;
  if (m.total === 0) return 'Empty';
  if (m.reporting === 0) return 'Offline';
  return m.reporting === m.total && m.disconnected === 0 ? 'Online' : 'Degraded';
}

function statusEl(p: Builder, s: GroupStatus): El {
  const m = s.members;
  return p('status', [
    p('dateTime', iso(s.at)),
    p('value', groupState(s)),
    p('remark', `${m.reporting} of ${m.total} members reporting, ${m.stale} stale, ${m.offline} offline, ${m.disconnected} disconnected`),
  ]);
}

/** Member counts, headroom and storage: what the profiles have no element for (extension). */
function detailsEl(x: Builder, s: GroupStatus): El {
  const st = s.storage;
  return x('GroupStatusDetails', [
    x('membersTotal', s.members.total),
    x('membersReporting', s.members.reporting),
    x('membersStale', s.members.stale),
    x('membersOffline', s.members.offline),
    x('membersDisconnected', s.members.disconnected),
    x('headroomUpW', s.headroomUpW),
    x('headroomDownW', s.headroomDownW),
    x('headroomUpVAr', s.headroomUpVar),
    x('headroomDownVAr', s.headroomDownVar),
    st ? x('storageCapacityWh', st.installedCapacityWh) : null,
    st ? x('storedEnergyWh', st.storedEnergyWh) : null,
    st && st.socPct !== null ? x('stateOfCharge', st.socPct) : null,
  ]);
}

interface MonitorRow {
  readonly parameter: DerParameterKind;
  readonly unit: 'W' | 'VAr' | 'VA';
  readonly installedMax: number;
  readonly installedMin: number;
  readonly value?: number | undefined;
  readonly availableMax?: number | undefined;
  readonly availableMin?: number | undefined;
  readonly at?: number | undefined;
}

function monitorEl(p: Builder, c: RenderContext, r: MonitorRow): El {
  const v = (x: number): number => toMultiplier(x, c.multiplier);
  return p.list('DERMonitorableParameter', [
    p('DERParameter', r.parameter),
    p('yMultiplier', c.multiplier),
    p('yUnit', r.unit),
    p('yUnitInstalledMax', v(r.installedMax)),
    p('yUnitInstalledMin', v(r.installedMin)),
    r.at !== undefined
      ? p('DERCurveData', [
          p.opt('maxYValue', r.availableMax === undefined ? undefined : v(r.availableMax)),
          p.opt('minYValue', r.availableMin === undefined ? undefined : v(r.availableMin)),
          p.opt('nominalYValue', r.value === undefined ? undefined : v(r.value)),
          p('timeStamp', iso(r.at)),
        ])
      : null,
  ]);
}

function powerRows(s: GroupStatus): MonitorRow[] {
  const at = s.newestSampleAt ?? s.at;
  return [
    { parameter: 'activePower', unit: 'W', installedMax: s.installedMaxW, installedMin: s.installedMinW, value: s.activePowerW, availableMax: s.availableMaxW, availableMin: s.availableMinW, at },
    { parameter: 'reactivePower', unit: 'VAr', installedMax: s.installedMaxVar, installedMin: s.installedMinVar, value: s.reactivePowerVar, availableMax: s.availableMaxVar, availableMin: s.availableMinVar, at },
  ];
}

/**
 * An EndDeviceGroup of the DERGroups profile. With `status` it also carries capability discovery:
 * per parameter the installed range (yUnitInstalledMax/Min) and the range available now
 * (DERCurveData max/minYValue), plus apparentPower's installed rating, and the group status.
 */
export function groupEl(c: RenderContext, g: DerGroup, capability?: GroupStatus): El {
  const status = c.extensions ? capability : undefined;
  const p = builder(c.ns.profiles.DERGroups);
  const x = builder(c.ns.extension);
  const rows = status ? powerRows(status) : [];
  if (status) {
    let va = 0;
    for (const m of g.members) va += c.registry.der(m)?.nameplate.maxVA ?? 0;
    rows.push({ parameter: 'apparentPower', unit: 'VA', installedMax: va, installedMin: 0 });
  }
  return p.list('EndDeviceGroup', [
    p('mRID', g.mRID),
    g.description ? p('description', g.description) : null,
    p('DERFunction', derFunctionNames.map((n) => p(n, g.functions[n]))),
    ...g.members.map((m) => {
      const der = c.registry.der(m);
      return p.list('EndDevices', [p('mRID', m), der ? p.list('Names', [p('name', der.name)]) : null]);
    }),
    ...namesOf(p, g.names),
    p('version', [p('major', g.version.major), p('minor', g.version.minor), p('revision', g.version.revision)]),
    ...rows.map((r) => monitorEl(p, c, r)),
    status ? statusEl(p, status) : null,
    status ? detailsEl(x, status) : null,
  ]);
}

/** DERGroups document holding `groups`. */
export function derGroupsEl(c: RenderContext, groups: readonly El[]): El {
  return builder(c.ns.profiles.DERGroups)('DERGroups', [...groups]);
}

/** A deleted group as notified: its identity only. */
export function deletedGroupEl(c: RenderContext, g: DerGroup): El {
  const p = builder(c.ns.profiles.DERGroups);
  return p.list('EndDeviceGroup', [p('mRID', g.mRID), ...namesOf(p, g.names)]);
}

/** An EndDeviceGroup of DERGroupStatuses, from the core's live aggregation. */
export function statusGroupEl(c: RenderContext, g: DerGroup, s: GroupStatus): El {
  const p = builder(c.ns.profiles.DERGroupStatuses);
  return p.list('EndDeviceGroup', [
    p('mRID', g.mRID),
    ...powerRows(s).map((r) => monitorEl(p, c, r)),
    ...namesOf(p, g.names),
    statusEl(p, s),
    c.extensions ? detailsEl(builder(c.ns.extension), s) : null,
  ]);
}

export function derGroupStatusesEl(c: RenderContext, groups: readonly El[]): El {
  return builder(c.ns.profiles.DERGroupStatuses)('DERGroupStatuses', [...groups]);
}

export interface ForecastSchedule {
  readonly start: number;
  readonly intervalDuration: number;
  readonly intervalUnit: TimeIntervalKind;
  readonly curveStyle: CurveStyleKind;
  readonly forecast: GroupForecast;
}

export type ForecastParameter = 'activePower' | 'reactivePower';

/**
 * One DERGroupForecast: one DERMonitorableParameter per requested parameter, each with one
 * DispatchSchedule per requested schedule and one DERCurveData per interval.
 */
export function forecastEl(c: RenderContext, g: DerGroup, parameters: readonly ForecastParameter[], schedules: readonly ForecastSchedule[], mRID: string, createdAt: number): El {
  const p = builder(c.ns.profiles.DERGroupForecasts);
  const v = (x: number): number => toMultiplier(x, c.multiplier);
  const installed = (k: ForecastParameter): [number, number] => {
    if (k === 'activePower') return schedules[0] ? [schedules[0].forecast.installed.maxW, schedules[0].forecast.installed.minW] : [0, 0];
    let inj = 0;
    let abs = 0;
    for (const m of g.members) {
      const d = c.registry.der(m);
      if (d) {
        inj += d.nameplate.maxVarInject;
        abs += d.nameplate.maxVarAbsorb;
      }
    }
    return [inj, -abs];
  };
  return p.list('DERGroupForecast', [
    p('mRID', mRID),
    p('predictionCreationDate', iso(createdAt)),
    p('EndDeviceGroup', [
      p('mRID', g.mRID),
      ...parameters.map((k) => {
        const [max, min] = installed(k);
        return p.list('DERMonitorableParameter', [
          p('DERParameter', k),
          p('yMultiplier', c.multiplier),
          p('yUnit', k === 'activePower' ? 'W' : 'VAr'),
          p('yUnitInstalledMax', v(max)),
          p('yUnitInstalledMin', v(min)),
          ...schedules.map((s) =>
            p.list('DispatchSchedule', [
              p('confidence', s.forecast.confidencePct),
              p('curveStyleKind', s.curveStyle),
              p('startTime', iso(s.start)),
              p('timeIntervalDuration', s.intervalDuration),
              p('timeIntervalUnit', s.intervalUnit),
              ...s.forecast.intervals.map((iv, i) => {
                const band = k === 'activePower' ? iv.activePowerW : iv.reactivePowerVar;
                return p.list('DERCurveData', [p('intervalNumber', i + 1), p('maxYValue', v(band.max)), p('minYValue', v(band.min)), p('nominalYValue', v(band.nominal))]);
              }),
            ]),
          ),
        ]);
      }),
      ...namesOf(p, g.names),
    ]),
  ]);
}

export function derGroupForecastsEl(c: RenderContext, forecasts: readonly El[]): El {
  return builder(c.ns.profiles.DERGroupForecasts)('DERGroupForecasts', [...forecasts]);
}
