/**
 * XML namespaces of the messages the facade reads and writes. The 2017 draft profiles are the
 * most concrete public source; the 2020 IS year is not public, so every namespace is configurable
 * and input is matched by local name unless `strictNamespaces` is on (docs/cim.md).
 */

/** Payload profiles (the documents inside Payload or Request). */
export const profileNames = [
  'DERGroups',
  'DERGroupDispatches',
  'DERGroupForecasts',
  'DERGroupStatuses',
  'DERGroupQueries',
  'DERGroupStatusQueries',
  'DERGroupForecastQueries',
  'EndDeviceControls',
  'EndDeviceEvents',
] as const;
export type ProfileName = (typeof profileNames)[number];

/** Message wrappers (CreateDERGroups, DERGroupQueriesRequestMessage, ...), one namespace each. */
export const wrapperNames = [...profileNames, 'DERGroupsOperationSet'] as const;
export type WrapperName = (typeof wrapperNames)[number];

export interface CimNamespaces {
  /** IEC 61968-100 common message (Header, Reply, Request fields, OperationSet). */
  readonly message: string;
  readonly profiles: Readonly<Record<ProfileName, string>>;
  readonly wrappers: Readonly<Record<WrapperName, string>>;
  /** This project's extensions (volt-var / volt-watt curves, status details). */
  readonly extension: string;
}

export interface NamespaceOverrides {
  readonly message?: string;
  /** Year in the profile namespaces `http://iec.ch/TC57/<year>/<Profile>#` (default 2017). */
  readonly profileYear?: string;
  readonly profiles?: Partial<Record<ProfileName, string>>;
  readonly wrappers?: Partial<Record<WrapperName, string>>;
  readonly extension?: string;
}

export const MESSAGE_NS_2011 = 'http://iec.ch/TC57/2011/schema/message';
export const SOAP11_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const SOAP12_NS = 'http://www.w3.org/2003/05/soap-envelope';
export const EXTENSION_NS = 'urn:derms-sim:cim-extensions:1';

/** The namespaces in force: the 2017 drafts (61968-9 controls and events at 2011) plus overrides. */
export function cimNamespaces(o: NamespaceOverrides = {}): CimNamespaces {
  const year = o.profileYear ?? '2017';
  const profile = (p: ProfileName): string =>
    o.profiles?.[p] ?? (p === 'EndDeviceControls' || p === 'EndDeviceEvents' ? `http://iec.ch/TC57/2011/${p}#` : `http://iec.ch/TC57/${year}/${p}#`);
  const wrapper = (w: WrapperName): string => o.wrappers?.[w] ?? `http://iec.ch/TC57/${year}/${w}Message`;
  return {
    message: o.message ?? MESSAGE_NS_2011,
    profiles: Object.fromEntries(profileNames.map((p) => [p, profile(p)])) as Record<ProfileName, string>,
    wrappers: Object.fromEntries(wrapperNames.map((w) => [w, wrapper(w)])) as Record<WrapperName, string>,
    extension: o.extension ?? EXTENSION_NS,
  };
}

/** Every namespace an input element may be in when namespaces are checked. */
export function knownNamespaces(ns: CimNamespaces): Set<string> {
  return new Set([ns.message, ns.extension, ...Object.values(ns.profiles), ...Object.values(ns.wrappers), SOAP11_NS, SOAP12_NS]);
}

/** Prefixes used on output, for readable XML. */
export function preferredPrefixes(ns: CimNamespaces): Map<string, string> {
  const m = new Map<string, string>([
    [SOAP11_NS, 'soapenv'],
    [SOAP12_NS, 'soap'],
    [ns.message, 'msg'],
    [ns.extension, 'x'],
  ]);
  for (const w of wrapperNames) if (!m.has(ns.wrappers[w])) m.set(ns.wrappers[w], 'tns');
  for (const p of profileNames) if (!m.has(ns.profiles[p])) m.set(ns.profiles[p], '');
  return m;
}
