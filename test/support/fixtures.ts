import type { DermsError } from '../../src/core/errors.js';
import type { DerInput } from '../../src/core/model/der.js';
import type { TelemetrySample } from '../../src/core/model/telemetry.js';
import { derFunctionNames, type DerFunctions } from '../../src/core/model/group.js';

export function pv(id: string, maxW = 10_000): DerInput {
  return {
    mRID: id,
    name: `PV ${id}`,
    kind: 'pv',
    nameplate: { maxW, maxVA: maxW * 1.1, maxVarInject: maxW * 0.44, maxVarAbsorb: maxW * 0.44, nominalV: 240 },
    endpoint: { protocol: 'in-process', device: id },
  };
}

export function battery(id: string, maxW = 5_000, capacityWh = 13_500): DerInput {
  return {
    mRID: id,
    name: `Battery ${id}`,
    kind: 'battery',
    nameplate: { maxW, maxVA: maxW, maxVarInject: maxW * 0.44, maxVarAbsorb: maxW * 0.44, maxChargeW: maxW, maxDischargeW: maxW, energyCapacityWh: capacityWh, nominalV: 240 },
    endpoint: { protocol: 'in-process', device: id },
  };
}

export const allFunctions: DerFunctions = Object.fromEntries(derFunctionNames.map((n) => [n, true])) as DerFunctions;

export function sample(derId: string, timestamp: number, over: Partial<TelemetrySample> = {}): TelemetrySample {
  return {
    derId,
    timestamp,
    w: 0,
    var: 0,
    v: 240,
    hz: 60,
    connected: true,
    state: 'running',
    availWMax: 0,
    availWMin: 0,
    availVarMax: 0,
    availVarMin: 0,
    ...over,
  };
}

/** The DermsError code `fn` throws, or 'no error'. */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as DermsError).code;
  }
  return 'no error';
}
