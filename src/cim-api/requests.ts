import { derFunctionNames, type DerFunctions } from '../core/model/group.js';
import { EndDeviceCodes, type CurveStyleKind, type DerParameterKind, type TimeIntervalKind, type UnitMultiplier, type Verb, unitOfParameter } from './enums.js';
import type { CimNamespaces, WrapperName } from './namespaces.js';
import { builder, type Builder, type El } from './tree.js';

/**
 * Request messages a DMS sends, built the way the 2017 profiles spell them (wrapper elements
 * such as CreateDERGroups and DERGroupQueriesRequestMessage). The `derms dms` commands and the
 * server's tests use the same builders.
 */

/** A group or device named by mRID or by name. */
export type ObjectRef = { readonly mRID: string } | { readonly name: string };

export interface RequestSpec {
  readonly verb: Verb;
  readonly noun: string;
  /** Message element name and the wrapper whose namespace it is in. */
  readonly root: { readonly name: string; readonly wrapper: WrapperName };
  readonly request?: readonly El[] | undefined;
  readonly payload?: readonly El[] | undefined;
}

function refChildren(p: Builder, ref: ObjectRef): El[] {
  return 'mRID' in ref ? [p('mRID', ref.mRID)] : [p.list('Names', [p('name', ref.name)])];
}

export interface CurvePoint {
  /** Voltage, % of nominal. */
  readonly x: number;
  /** var (% of var rating, injecting positive) or W (% of rating). */
  readonly y: number;
}

function curveEl(x: Builder, kind: 'voltVar' | 'voltWatt', points: readonly CurvePoint[]): El {
  return x(kind === 'voltVar' ? 'VoltVarCurve' : 'VoltWattCurve', points.map((pt) => x.list('CurveData', [x('xvalue', pt.x), x('y1value', pt.y)])));
}

export interface GroupSpec {
  readonly mRID?: string | undefined;
  readonly names?: readonly string[] | undefined;
  readonly description?: string | undefined;
  /** Flags not given are sent as false. */
  readonly functions?: Partial<DerFunctions> | undefined;
  readonly members?: readonly ObjectRef[] | undefined;
  readonly version?: { readonly major: number; readonly minor: number; readonly revision: number } | undefined;
  readonly voltVar?: readonly CurvePoint[] | undefined;
  readonly voltWatt?: readonly CurvePoint[] | undefined;
}

function groupChildren(ns: CimNamespaces, g: GroupSpec & { ref?: ObjectRef | undefined }, allFlags: boolean): El[] {
  const p = builder(ns.profiles.DERGroups);
  const x = builder(ns.extension);
  const flags = allFlags ? derFunctionNames : derFunctionNames.filter((n) => g.functions?.[n] !== undefined);
  return [
    ...(g.ref ? refChildren(p, g.ref) : g.mRID ? [p('mRID', g.mRID)] : []),
    g.description !== undefined ? p('description', g.description) : null,
    flags.length ? p('DERFunction', flags.map((n) => p(n, g.functions?.[n] ?? false))) : null,
    ...(g.members ?? []).map((m) => p.list('EndDevices', refChildren(p, m))),
    ...(g.names ?? []).map((n) => p.list('Names', [p('name', n)])),
    g.version ? p('version', [p('major', g.version.major), p('minor', g.version.minor), p('revision', g.version.revision)]) : null,
    g.voltVar ? curveEl(x, 'voltVar', g.voltVar) : null,
    g.voltWatt ? curveEl(x, 'voltWatt', g.voltWatt) : null,
  ].filter((e): e is El => e !== null);
}

export function createGroupsRequest(ns: CimNamespaces, groups: readonly GroupSpec[]): RequestSpec {
  const p = builder(ns.profiles.DERGroups);
  return {
    verb: 'create',
    noun: 'DERGroups',
    root: { name: 'CreateDERGroups', wrapper: 'DERGroups' },
    payload: [p('DERGroups', groups.map((g) => p.list('EndDeviceGroup', groupChildren(ns, g, true))))],
  };
}

export interface GroupChangeSpec {
  readonly group: ObjectRef;
  readonly description?: string | undefined;
  /** Only the flags given are changed. */
  readonly functions?: Partial<DerFunctions> | undefined;
  readonly addMembers?: readonly ObjectRef[] | undefined;
  /** New names (needs the group named by mRID). */
  readonly rename?: readonly string[] | undefined;
  readonly voltVar?: readonly CurvePoint[] | undefined;
  readonly voltWatt?: readonly CurvePoint[] | undefined;
}

export function changeGroupsRequest(ns: CimNamespaces, changes: readonly GroupChangeSpec[]): RequestSpec {
  const p = builder(ns.profiles.DERGroups);
  return {
    verb: 'change',
    noun: 'DERGroups',
    root: { name: 'ChangeDERGroups', wrapper: 'DERGroups' },
    payload: [
      p(
        'DERGroups',
        changes.map((c) => p.list('EndDeviceGroup', groupChildren(ns, { ref: c.group, description: c.description, functions: c.functions, members: c.addMembers, names: c.rename, voltVar: c.voltVar, voltWatt: c.voltWatt }, false))),
      ),
    ],
  };
}

/** Remove members: an OperationSet with one element-level delete (as the drafts do it). */
export function removeMembersRequest(ns: CimNamespaces, group: ObjectRef, members: readonly ObjectRef[]): RequestSpec {
  const m = builder(ns.message);
  const w = builder(ns.wrappers.DERGroupsOperationSet);
  const p = builder(ns.profiles.DERGroups);
  return {
    verb: 'execute',
    noun: 'OperationSet',
    root: { name: 'ExecuteDERGroupsOperationSet', wrapper: 'DERGroupsOperationSet' },
    payload: [
      w('OperationSet', [
        m.list('Operation', [
          m('operationId', 1),
          m('noun', 'DERGroups'),
          m('verb', 'delete'),
          m('elementOperation', true),
          p('DERGroups', [p.list('EndDeviceGroup', [...members.map((d) => p.list('EndDevices', refChildren(p, d))), ...refChildren(p, group)])]),
        ]),
      ]),
    ],
  };
}

export function deleteGroupsRequest(ns: CimNamespaces, groups: readonly ObjectRef[]): RequestSpec {
  const p = builder(ns.profiles.DERGroups);
  return {
    verb: 'delete',
    noun: 'DERGroups',
    root: { name: 'DeleteDERGroups', wrapper: 'DERGroups' },
    payload: [p('DERGroups', groups.map((g) => p.list('EndDeviceGroup', refChildren(p, g))))],
  };
}

function query(ns: CimNamespaces, profile: 'DERGroupQueries' | 'DERGroupStatusQueries', noun: string, groups: readonly ObjectRef[]): RequestSpec {
  const q = builder(ns.profiles[profile]);
  return {
    verb: 'get',
    noun,
    root: { name: `${profile}RequestMessage`, wrapper: profile },
    request: [q(profile, groups.map((g) => q.list('EndDeviceGroup', refChildren(q, g))))],
  };
}

/** get DERGroups (every group when `groups` is empty: an extension of the 1..* query). */
export const getGroupsRequest = (ns: CimNamespaces, groups: readonly ObjectRef[]): RequestSpec => query(ns, 'DERGroupQueries', 'DERGroups', groups);
export const getStatusesRequest = (ns: CimNamespaces, groups: readonly ObjectRef[]): RequestSpec => query(ns, 'DERGroupStatusQueries', 'DERGroupStatuses', groups);

export interface ScheduleSpec {
  readonly start: number;
  readonly intervalDuration: number;
  readonly intervalUnit: TimeIntervalKind;
  readonly curveStyle: CurveStyleKind;
}

export function getForecastsRequest(ns: CimNamespaces, groups: readonly ObjectRef[], parameters: readonly DerParameterKind[], s: ScheduleSpec & { readonly intervals: number }): RequestSpec {
  const q = builder(ns.profiles.DERGroupForecastQueries);
  return {
    verb: 'get',
    noun: 'DERGroupForecasts',
    root: { name: 'DERGroupForecastQueriesRequestMessage', wrapper: 'DERGroupForecastQueries' },
    request: [
      q('DERGroupForecastQueries', [
        ...parameters.map((k) => q.list('DERMonitorableParameter', [q('DERParameter', k)])),
        q.list('DispatchSchedule', [
          q('curveStyleKind', s.curveStyle),
          q('numberOfIntervals', s.intervals),
          q('startTime', new Date(s.start).toISOString()),
          q('timeIntervalDuration', s.intervalDuration),
          q('timeIntervalUnit', s.intervalUnit),
        ]),
        ...groups.map((g) => q.list('EndDeviceGroup', refChildren(q, g))),
      ]),
    ],
  };
}

export interface DispatchSpec {
  readonly group: ObjectRef;
  readonly mRID?: string | undefined;
  /** A label for the dispatch (DERGroupDispatch/Names). */
  readonly name?: string | undefined;
  readonly parameter: DerParameterKind;
  readonly multiplier: UnitMultiplier;
  /** One value per interval (1, 2, ...), in the parameter's unit times the multiplier. */
  readonly values: readonly number[];
  readonly schedule: ScheduleSpec;
  /** For `voltage`: the base the target is relative to (x:baseVoltage), same unit and multiplier. */
  readonly baseVoltage?: number | undefined;
}

function dispatchEl(ns: CimNamespaces, group: ObjectRef, mRID: string | undefined, name: string | undefined, body: El): El {
  const d = builder(ns.profiles.DERGroupDispatches);
  return d.list('DERGroupDispatch', [mRID ? d('mRID', mRID) : null, d('EndDeviceGroup', [...refChildren(d, group), body]), name ? d.list('Names', [d('name', name)]) : null]);
}

export function dispatchRequest(ns: CimNamespaces, specs: readonly DispatchSpec[]): RequestSpec {
  const d = builder(ns.profiles.DERGroupDispatches);
  const x = builder(ns.extension);
  const els = specs.map((s) => {
    const unit = unitOfParameter[s.parameter] ?? 'W';
    const param = d('DERMonitorableParameter', [
      d('DERParameter', s.parameter),
      d('yMultiplier', s.multiplier),
      d('yUnit', unit),
      d.list('DispatchSchedule', [
        d('curveStyleKind', s.schedule.curveStyle),
        d('startTime', new Date(s.schedule.start).toISOString()),
        d('timeIntervalDuration', s.schedule.intervalDuration),
        d('timeIntervalUnit', s.schedule.intervalUnit),
        ...s.values.map((v, i) => d.list('DERCurveData', [d('intervalNumber', i + 1), d('nominalYValue', v)])),
      ]),
      s.baseVoltage !== undefined ? x('baseVoltage', s.baseVoltage) : null,
    ]);
    return dispatchEl(ns, s.group, s.mRID, s.name, param);
  });
  return { verb: 'create', noun: 'DERGroupDispatches', root: { name: 'CreateDERGroupDispatches', wrapper: 'DERGroupDispatches' }, payload: [d('DERGroupDispatches', els)] };
}

/** A volt-var or volt-watt curve for a group, as a dispatch carrying the extension element. */
export function curveDispatchRequest(ns: CimNamespaces, group: ObjectRef, kind: 'voltVar' | 'voltWatt', points: readonly CurvePoint[], mRID?: string): RequestSpec {
  const d = builder(ns.profiles.DERGroupDispatches);
  return {
    verb: 'create',
    noun: 'DERGroupDispatches',
    root: { name: 'CreateDERGroupDispatches', wrapper: 'DERGroupDispatches' },
    payload: [d('DERGroupDispatches', [dispatchEl(ns, group, mRID, undefined, curveEl(builder(ns.extension), kind, points))])],
  };
}

export function cancelDispatchesRequest(ns: CimNamespaces, ids: readonly string[]): RequestSpec {
  const d = builder(ns.profiles.DERGroupDispatches);
  return {
    verb: 'cancel',
    noun: 'DERGroupDispatches',
    root: { name: 'CancelDERGroupDispatches', wrapper: 'DERGroupDispatches' },
    payload: [d('DERGroupDispatches', ids.map((id) => d.list('DERGroupDispatch', [d('mRID', id)])))],
  };
}

export interface ControlSpec {
  readonly mRID?: string | undefined;
  readonly action: 'connect' | 'disconnect';
  readonly groups?: readonly ObjectRef[] | undefined;
  readonly devices?: readonly ObjectRef[] | undefined;
}

export function endDeviceControlsRequest(ns: CimNamespaces, controls: readonly ControlSpec[]): RequestSpec {
  const c = builder(ns.profiles.EndDeviceControls);
  return {
    verb: 'create',
    noun: 'EndDeviceControls',
    root: { name: 'CreateEndDeviceControls', wrapper: 'EndDeviceControls' },
    payload: [
      c(
        'EndDeviceControls',
        controls.map((k) =>
          c.list('EndDeviceControl', [
            k.mRID ? c('mRID', k.mRID) : null,
            c('EndDeviceControlType', undefined, { ref: k.action === 'connect' ? EndDeviceCodes.connect : EndDeviceCodes.disconnect }),
            ...(k.groups ?? []).map((g) => c.list('EndDeviceGroups', refChildren(c, g))),
            ...(k.devices ?? []).map((g) => c.list('EndDevices', refChildren(c, g))),
          ]),
        ),
      ),
    ],
  };
}
