import type { DeviceSpec, FeederSpec, FleetSpec, Ieee1547Settings } from '../../src/sim/fleet-spec.js';
import type { SkyState } from '../../src/sim/weather.js';

export const SITE = { latitudeDeg: 40, longitudeDeg: -105, altitudeM: 1600 };

/** Sun straight overhead, clear: 900 W/m2 direct, 100 W/m2 diffuse. */
export const noonSky: SkyState = { cosZ: 1, sinZ: 0, cosAz: -1, sinAz: 0, dni: 900, dhi: 100, ghi: 1000, ambientC: 25, clearness: 1, localVariability: 0 };
export const nightSky: SkyState = { ...noonSky, cosZ: -0.5, sinZ: 0.87, dni: 0, dhi: 0, ghi: 0 };

export function pvSpec(id: string, over: Partial<DeviceSpec> = {}, settings: Partial<Ieee1547Settings> = {}): DeviceSpec {
  return {
    id,
    name: id,
    kind: 'pv',
    feeder: 'f1',
    section: 's1',
    site: SITE,
    nameplate: { maxW: 10_000, maxVA: 11_000, maxVarInject: 4400, maxVarAbsorb: 4400, maxChargeW: 0, maxDischargeW: 0, energyCapacityWh: 0, nominalV: 240, normalCategory: 'B', abnormalCategory: 'II' },
    pv: { dcRatingW: 12_000, tiltDeg: 0, azimuthDeg: 180, tempCoeffPctPerC: -0.4, noctC: 45, dcLosses: 0.1 },
    battery: null,
    protocol: 'in-process',
    endpoint: {},
    settings,
    ...over,
  };
}

export function batterySpec(id: string, over: Partial<DeviceSpec> = {}, settings: Partial<Ieee1547Settings> = {}): DeviceSpec {
  return pvSpec(id, {
    kind: 'battery',
    nameplate: { maxW: 5000, maxVA: 5000, maxVarInject: 2200, maxVarAbsorb: 2200, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 13_500, nominalV: 240, normalCategory: 'B', abnormalCategory: 'II' },
    pv: null,
    battery: { chargeEfficiency: 0.95, dischargeEfficiency: 0.96, minReservePct: 10, maxSocPct: 100, initialSocPct: 50 },
    ...over,
  }, settings);
}

export function lineFeeder(sections: number, rOhm: number, xOhm: number, loadPeakW = 0): FeederSpec {
  return {
    id: 'f1',
    nominalV: 240,
    headVoltagePu: 1.0,
    sections: Array.from({ length: sections }, (_, i) => ({
      id: `s${i + 1}`,
      parent: i === 0 ? null : `s${i}`,
      rOhm,
      xOhm,
      loadPeakW,
      loadPf: 0.95,
      loadProfile: 'flat' as const,
    })),
  };
}

export function fleet(devices: DeviceSpec[], over: Partial<FleetSpec> = {}): FleetSpec {
  return {
    name: 'test',
    seed: 42,
    clock: { start: Date.UTC(2026, 5, 21, 6), stepMs: 1000, mode: 'fast', speed: 1 },
    site: SITE,
    weather: { meanClearness: 1, variability: 0, cloudTimescaleS: 600, ambientMinC: 15, ambientMaxC: 30 },
    feeders: [lineFeeder(4, 0.02, 0.02)],
    devices,
    faults: [],
    ...over,
  };
}
