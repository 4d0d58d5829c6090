import type { DeviceSpec } from '../../src/sim/fleet-spec.js';
import type { SkyState } from '../../src/sim/weather.js';
import type { BenchKind } from './fleet.js';

/**
 * Device specs for simulated inverters served to the DERMS side (after the test fixtures in
 * test/sim/sim-fixtures.ts, which bench code does not import): a 10 kW PV inverter, a 5 kW /
 * 13.5 kWh battery and a 7.6 kW hybrid with a 10 kWh battery.
 */

const SITE = { latitudeDeg: 40, longitudeDeg: -105, altitudeM: 1600 };

/** Sun straight overhead, clear: 900 W/m2 direct, 100 W/m2 diffuse. */
export const noonSky: SkyState = { cosZ: 1, sinZ: 0, cosAz: -1, sinAz: 0, dni: 900, dhi: 100, ghi: 1000, ambientC: 25, clearness: 1, localVariability: 0 };

const pvArray = { dcRatingW: 12_000, tiltDeg: 0, azimuthDeg: 180, tempCoeffPctPerC: -0.4, noctC: 45, dcLosses: 0.1 };
const battery = { chargeEfficiency: 0.95, dischargeEfficiency: 0.96, minReservePct: 10, maxSocPct: 100, initialSocPct: 50 };

export function deviceSpec(id: string, kind: BenchKind): DeviceSpec {
  const common = { id, name: id, kind, feeder: 'f1', section: 's1', site: SITE, protocol: 'sunspec' as const, endpoint: { sunspecProfile: '700' as const }, settings: {} };
  const cat = { nominalV: 240, normalCategory: 'B' as const, abnormalCategory: 'II' as const };
  switch (kind) {
    case 'pv':
      return {
        ...common,
        nameplate: { maxW: 10_000, maxVA: 11_000, maxVarInject: 4400, maxVarAbsorb: 4400, maxChargeW: 0, maxDischargeW: 0, energyCapacityWh: 0, ...cat },
        pv: pvArray,
        battery: null,
      };
    case 'battery':
      return {
        ...common,
        nameplate: { maxW: 5000, maxVA: 5000, maxVarInject: 2200, maxVarAbsorb: 2200, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 13_500, ...cat },
        pv: null,
        battery,
      };
    case 'hybrid':
      return {
        ...common,
        nameplate: { maxW: 7600, maxVA: 7600, maxVarInject: 3344, maxVarAbsorb: 3344, maxChargeW: 5000, maxDischargeW: 5000, energyCapacityWh: 10_000, ...cat },
        pv: { ...pvArray, dcRatingW: 9000 },
        battery,
      };
  }
}
