import type {
  ESSCapabilityProfile,
  ESSControlProfile,
  ESSDiscreteControlProfile,
  ESSReadingProfile,
  ESSStatusProfile,
  SolarCapabilityProfile,
  SolarControlProfile,
  SolarDiscreteControlProfile,
  SolarReadingProfile,
  SolarStatusProfile,
} from './messages.js';

/**
 * The OpenFMB modules we speak: a PV inverter is `solar` (package solarmodule), a battery or a
 * hybrid (PV with storage) is `ess` (package essmodule): the ESS profiles carry state of charge.
 */
export const openfmbModules = ['solar', 'ess'] as const;
export type OpenFmbModule = (typeof openfmbModules)[number];

export const modulePackage: Readonly<Record<OpenFmbModule, 'solarmodule' | 'essmodule'>> = { solar: 'solarmodule', ess: 'essmodule' };

export const profileKinds = ['Reading', 'Status', 'Control', 'DiscreteControl', 'Capability'] as const;
export type ProfileKind = (typeof profileKinds)[number];

/** Every profile message we encode and decode, by its OpenFMB name. */
export interface ProfileMessages {
  SolarReadingProfile: SolarReadingProfile;
  SolarStatusProfile: SolarStatusProfile;
  SolarControlProfile: SolarControlProfile;
  SolarDiscreteControlProfile: SolarDiscreteControlProfile;
  SolarCapabilityProfile: SolarCapabilityProfile;
  ESSReadingProfile: ESSReadingProfile;
  ESSStatusProfile: ESSStatusProfile;
  ESSControlProfile: ESSControlProfile;
  ESSDiscreteControlProfile: ESSDiscreteControlProfile;
  ESSCapabilityProfile: ESSCapabilityProfile;
}
export type ProfileName = keyof ProfileMessages;

/** What a profile name stands for. */
export interface ProfileInfo {
  readonly name: ProfileName;
  readonly module: OpenFmbModule;
  readonly kind: ProfileKind;
  /** Fully qualified protobuf name, e.g. `solarmodule.SolarReadingProfile`. */
  readonly fullName: string;
}

const prefix: Readonly<Record<OpenFmbModule, string>> = { solar: 'Solar', ess: 'ESS' };

export function profileName(module: OpenFmbModule, kind: ProfileKind): ProfileName {
  return `${prefix[module]}${kind}Profile` as ProfileName;
}

export const profiles: readonly ProfileInfo[] = openfmbModules.flatMap((module) =>
  profileKinds.map((kind): ProfileInfo => {
    const name = profileName(module, kind);
    return { name, module, kind, fullName: `${modulePackage[module]}.${name}` };
  }),
);

const byName = new Map<string, ProfileInfo>(profiles.map((p) => [p.name, p]));

/** The profile called `name`, or undefined when we do not speak it. */
export function profileInfo(name: string): ProfileInfo | undefined {
  return byName.get(name);
}

/**
 * The conducting equipment's mRID, the device a profile is about (the last topic level). Solar
 * profiles name it in `solarInverter`, ESS profiles in `ess`.
 */
export function equipmentMRID<N extends ProfileName>(name: N, msg: ProfileMessages[N]): string | undefined {
  const m = msg as { solarInverter?: { conductingEquipment?: { mRID?: string } }; ess?: { conductingEquipment?: { mRID?: string } } };
  return (byName.get(name)!.module === 'solar' ? m.solarInverter : m.ess)?.conductingEquipment?.mRID;
}
