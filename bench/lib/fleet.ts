import { NEVER, Subject, type Observable } from 'rxjs';
import type { Der, DerInput } from '../../src/core/model/der.js';
import type { ApplyOutcome, Setpoint, SetpointKind } from '../../src/core/model/setpoint.js';
import type { OperatingState, TelemetrySample } from '../../src/core/model/telemetry.js';
import type { DeviceAdapter, DeviceCapabilities, LinkState } from '../../src/core/ports.js';
import type { Rng } from './measure.js';

/**
 * Synthetic but plausible fleets for benchmarks: residential PV, batteries and hybrids with
 * nameplates in the usual ranges, and samples that pass the core's plausibility checks.
 */

export type BenchKind = 'pv' | 'battery' | 'hybrid';

/** 60 % PV, 25 % battery, 15 % hybrid, interleaved so every group gets the same mix. */
export function kindOf(i: number): BenchKind {
  const r = i % 20;
  return r < 12 ? 'pv' : r < 17 ? 'battery' : 'hybrid';
}

export function derId(prefix: string, i: number, width = 6): string {
  return `${prefix}${String(i).padStart(width, '0')}`;
}

export function derInput(id: string, kind: BenchKind, rng: Rng): DerInput {
  const endpoint = { protocol: 'in-process' as const, device: id };
  switch (kind) {
    case 'pv': {
      const maxW = 3000 + 500 * rng.int(15); // 3 - 10 kW
      const maxVA = maxW;
      return {
        mRID: id,
        name: `PV ${id}`,
        kind,
        nameplate: { maxW, maxVA, maxVarInject: 0.44 * maxVA, maxVarAbsorb: 0.44 * maxVA, nominalV: 240 },
        endpoint,
      };
    }
    case 'battery': {
      const maxVA = rng.next() < 0.5 ? 5000 : 7600;
      return {
        mRID: id,
        name: `Battery ${id}`,
        kind,
        nameplate: {
          maxW: maxVA,
          maxVA,
          maxVarInject: 0.6 * maxVA,
          maxVarAbsorb: 0.6 * maxVA,
          maxChargeW: maxVA,
          maxDischargeW: maxVA,
          energyCapacityWh: maxVA === 5000 ? 13_500 : 20_000,
          nominalV: 240,
        },
        endpoint,
      };
    }
    case 'hybrid': {
      const maxVA = 7600;
      return {
        mRID: id,
        name: `Hybrid ${id}`,
        kind,
        nameplate: {
          maxW: maxVA,
          maxVA,
          maxVarInject: 0.44 * maxVA,
          maxVarAbsorb: 0.44 * maxVA,
          maxChargeW: 5000,
          maxDischargeW: 5000,
          energyCapacityWh: 10_000,
          nominalV: 240,
        },
        endpoint,
      };
    }
  }
}

/** A sample whose timestamp the harness restamps, so a small pool can be replayed in order. */
export type MutableSample = { -readonly [K in keyof TelemetrySample]: TelemetrySample[K] };

/** One plausible reading of `der` at `timestamp`; about 0.5 % are disconnected on standby. */
export function sampleFor(der: Der, timestamp: number, rng: Rng): MutableSample {
  const n = der.nameplate;
  const disconnected = rng.next() < 0.005;
  const v = n.nominalV * rng.between(0.97, 1.04);
  const hz = 60 + rng.between(-0.02, 0.02);
  const state: OperatingState = disconnected ? 'standby' : 'running';
  const varCircle = (w: number): number => Math.sqrt(Math.max(0, n.maxVA * n.maxVA - w * w));
  const q = (w: number): { var: number; availVarMax: number; availVarMin: number } => {
    const c = varCircle(w);
    const availVarMax = Math.min(n.maxVarInject, c);
    const availVarMin = -Math.min(n.maxVarAbsorb, c);
    return { var: disconnected ? 0 : rng.between(availVarMin, availVarMax) * 0.1, availVarMax, availVarMin };
  };
  if (der.kind === 'battery') {
    const soc = rng.between(10, 95);
    const availWMax = n.maxDischargeW;
    const availWMin = -n.maxChargeW;
    const w = disconnected ? 0 : rng.between(availWMin, availWMax) * 0.5;
    const r = q(w);
    // Same property order for every storage sample, so they share one hidden class.
    return { derId: der.mRID, timestamp, w, var: r.var, v, hz, soc, connected: !disconnected, state, availWMax, availWMin, availVarMax: r.availVarMax, availVarMin: r.availVarMin };
  }
  if (der.kind === 'hybrid') {
    const soc = rng.between(10, 95);
    const pv = n.maxW * rng.between(0.1, 0.9);
    const availWMax = Math.min(n.maxW, pv + n.maxDischargeW);
    const availWMin = -Math.min(n.maxChargeW, n.maxVA);
    const w = disconnected ? 0 : rng.between(availWMin * 0.3, pv);
    const r = q(w);
    return { derId: der.mRID, timestamp, w, var: r.var, v, hz, soc, connected: !disconnected, state, availWMax, availWMin, availVarMax: r.availVarMax, availVarMin: r.availVarMin };
  }
  const availWMax = n.maxW * rng.between(0.2, 1);
  const w = disconnected ? 0 : rng.next() < 0.1 ? availWMax * 0.5 : availWMax; // some curtailed
  const r = q(w);
  return { derId: der.mRID, timestamp, w, var: r.var, v, hz, connected: !disconnected, state, availWMax, availWMin: 0, availVarMax: r.availVarMax, availVarMin: r.availVarMin };
}

const allSetpoints: ReadonlySet<SetpointKind> = new Set<SetpointKind>([
  'activePower',
  'reactivePower',
  'powerFactor',
  'activePowerLimit',
  'voltVar',
  'voltWatt',
  'rampRates',
  'connect',
  'release',
]);
const capabilities: DeviceCapabilities = { setpoints: allSetpoints, nativeRamp: false };

/** The least adapter: samples are pushed into `telemetry$` by the harness; the link never changes. */
export class BenchAdapter implements DeviceAdapter {
  readonly telemetry$ = new Subject<TelemetrySample>();
  readonly link$: Observable<LinkState> = NEVER;
  constructor(readonly derId: string) {}
  capabilities(): DeviceCapabilities {
    return capabilities;
  }
  apply(_setpoint: Setpoint): Promise<ApplyOutcome> {
    return Promise.resolve({ status: 'applied' });
  }
  close(): Promise<void> {
    this.telemetry$.complete();
    return Promise.resolve();
  }
}

/** Index of the first endpoint of this kind (0 when there is none). */
export function kindIndex(eps: readonly { readonly kind: BenchKind }[], kind: BenchKind): number {
  const i = eps.findIndex((e) => e.kind === kind);
  return i < 0 ? 0 : i;
}
