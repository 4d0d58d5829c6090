import { describe, expect, it } from 'vitest';
import { capabilitiesFrom, readBackMismatch, sampleFrom, writesFor, type ModelValues } from '../../../src/adapters/sunspec/semantics.js';
import { parseDer } from '../../../src/core/model/der.js';
import type { Setpoint } from '../../../src/core/model/setpoint.js';
import { sampleProblem } from '../../../src/core/model/telemetry.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { SunSpec700Face } from '../../../src/sim/sunspec/device-700.js';
import { SunSpecLegacyFace } from '../../../src/sim/sunspec/device-legacy.js';
import { batterySpec, noonSky, pvSpec } from '../../sim/sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
type Face = SunSpec700Face | SunSpecLegacyFace;
const faces = {
  '700': (d: SimInverter): Face => new SunSpec700Face(d, 1),
  legacy: (d: SimInverter): Face => new SunSpecLegacyFace(d, 1),
};
function values(f: Face): Map<number, ModelValues> {
  return new Map(f.models().map((m) => [m, f.read(m)]));
}
function run(d: SimInverter, n: number, from = 0): void {
  for (let i = 1; i <= n; i++) d.step(T0 + (from + i) * 1000, 1, noonSky, 240, 60);
}
/** Apply a setpoint the way the adapter would, minus the wire. */
function apply(f: Face, sp: Setpoint): void {
  const caps = capabilitiesFrom(values(f));
  const writes = writesFor(sp, caps);
  if (typeof writes === 'string') throw new Error(writes);
  for (const w of writes) {
    expect(f.write(w.model, w.values)).toEqual({ ok: true });
    if (w.awaitPoint) expect(f.read(w.model)[w.awaitPoint.path]).toBe(w.awaitPoint.equals);
    expect(readBackMismatch(w.values, f.read(w.model), () => 0.01)).toBeNull();
  }
}

for (const [profile, make] of Object.entries(faces)) {
  describe(`SunSpec semantics over the ${profile} face`, () => {
    it('derives the nameplate and the setpoints the device takes', () => {
      const caps = capabilitiesFrom(values(make(new SimInverter(batterySpec('b'), 1))));
      expect(caps.storage).toBe(true);
      expect(caps.pv).toBe(false);
      expect(caps.nameplate).toMatchObject({ maxW: 5000, maxVA: 5000, maxVarInject: 2200, maxChargeW: 5000, maxDischargeW: 5000 });
      for (const k of ['activePower', 'activePowerLimit', 'reactivePower', 'powerFactor', 'voltVar', 'voltWatt', 'connect', 'release'] as const) expect(caps.setpoints.has(k)).toBe(true);
      expect(capabilitiesFrom(values(make(new SimInverter(pvSpec('p'), 1)))).pv).toBe(true);
    });

    it('turns what it reads into a plausible normalized sample', () => {
      const d = new SimInverter(pvSpec('p'), 1);
      const f = make(d);
      d.update({ activePowerSetpointW: 4000 });
      run(d, 30);
      const caps = capabilitiesFrom(values(f));
      const s = sampleFrom('p', T0, values(f), caps)!;
      const m = d.measurements();
      expect(s.w).toBeCloseTo(m.w, 6);
      expect(s.v).toBeCloseTo(m.v, 6);
      expect(s.state).toBe('throttled');
      expect(s.availWMax).toBeCloseTo(m.availWMax, profile === '700' ? -2 : 6);
      expect(sampleProblem(s, parseDer({ mRID: 'p', name: 'p', kind: 'pv', nameplate: pvSpec('p').nameplate, endpoint: { protocol: 'in-process', device: 'p' } }))).toBeNull();
    });

    it('carries every setpoint kind to the device, and read-back agrees', () => {
      const d = new SimInverter(batterySpec('b', { kind: 'hybrid', pv: pvSpec('x').pv, nameplate: { ...batterySpec('b').nameplate, maxW: 8000, maxVA: 8800 } }), 1);
      const f = make(d);
      apply(f, { kind: 'activePower', w: -3000, derId: 'b' });
      expect(d.settings().activePowerSetpointW).toBeCloseTo(-3000, 6);
      apply(f, { kind: 'activePowerLimit', w: 4000, pct: 50, derId: 'b' });
      expect(d.settings().activePowerLimitPct).toBe(50);
      apply(f, { kind: 'reactivePower', var: -1100, derId: 'b' });
      expect(d.settings()).toMatchObject({ reactiveMode: 'constantVar', constantVarPct: -50 });
      apply(f, { kind: 'powerFactor', pf: 0.92, excitation: 'absorbing', derId: 'b' });
      expect(d.settings()).toMatchObject({ reactiveMode: 'constantPf', pf: 0.92, pfExcitation: 'absorbing' });
      apply(f, { kind: 'voltVar', curve: [{ v: 93, var: 40 }, { v: 99, var: 0 }, { v: 101, var: 0 }, { v: 107, var: -40 }], derId: 'b' });
      expect(d.settings()).toMatchObject({ reactiveMode: 'voltVar', voltVarCurve: [{ v: 93, var: 40 }, { v: 99, var: 0 }, { v: 101, var: 0 }, { v: 107, var: -40 }] });
      apply(f, { kind: 'voltWatt', curve: [{ v: 105, w: 100 }, { v: 109, w: 10 }], derId: 'b' });
      expect(d.settings()).toMatchObject({ voltWattEnabled: true, voltWattCurve: [{ v: 105, w: 100 }, { v: 109, w: 10 }] });
      apply(f, { kind: 'connect', connected: false, derId: 'b' });
      expect(d.settings().permitService).toBe(false);
      apply(f, { kind: 'release', slot: 'connect', derId: 'b' });
      apply(f, { kind: 'release', slot: 'activePowerLimit', derId: 'b' });
      expect(d.settings().activePowerLimitPct).toBeNull();
      apply(f, { kind: 'release', slot: 'reactive', derId: 'b' });
      expect(d.settings().reactiveMode).toBe('none');
    });
  });
}

describe('read-back comparison', () => {
  it('tolerates rounding to the point resolution and reports real differences', () => {
    expect(readBackMismatch({ WMaxLimPct: 33.33 }, { WMaxLimPct: 33.3 }, () => 0.1)).toBeNull();
    expect(readBackMismatch({ WMaxLimPct: 50 }, { WMaxLimPct: 100 }, () => 0.1)).toMatch(/WMaxLimPct: wrote 50, read back 100/);
    expect(readBackMismatch({ WSet: 10 }, { WSet: null }, () => 1)).toMatch(/not implemented/);
  });
});

describe('native ramp times', () => {
  it('are offered by legacy-only devices (123 / 124 *_RmpTms), not by 700-series ones (704 has only a rate)', () => {
    expect(capabilitiesFrom(values(faces.legacy(new SimInverter(pvSpec('p'), 1)))).nativeRamp).toBe(true);
    expect(capabilitiesFrom(values(faces.legacy(new SimInverter(batterySpec('b'), 1)))).nativeRamp).toBe(true);
    expect(capabilitiesFrom(values(faces['700'](new SimInverter(pvSpec('p'), 1)))).nativeRamp).toBe(false);
  });

  it('carry the setpoint ramp time in whole seconds, and 0 when the move has none', () => {
    const pv = capabilitiesFrom(values(faces.legacy(new SimInverter(pvSpec('p'), 1))));
    expect(writesFor({ kind: 'activePower', w: 5000, derId: 'p', rampTimeMs: 12_300 }, pv)).toEqual([
      { model: 123, values: { WMaxLimPct_RmpTms: 13, WMaxLimPct: 50, WMaxLim_Ena: 1 } },
    ]);
    expect(writesFor({ kind: 'activePower', w: 5000, derId: 'p' }, pv)).toEqual([{ model: 123, values: { WMaxLimPct_RmpTms: 0, WMaxLimPct: 50, WMaxLim_Ena: 1 } }]);
    const bat = capabilitiesFrom(values(faces.legacy(new SimInverter(batterySpec('b'), 1))));
    expect(writesFor({ kind: 'activePower', w: -2500, derId: 'b', rampTimeMs: 20_000 }, bat)).toEqual([
      { model: 124, values: { InOutWRte_RmpTms: 20, InWRte: 50, StorCtl_Mod: 1 } },
    ]);
  });

  it('make the simulated device move linearly over the ramp time', () => {
    const d = new SimInverter(batterySpec('b'), 1);
    const f = faces.legacy(d);
    apply(f, { kind: 'activePower', w: 4000, derId: 'b', rampTimeMs: 20_000 });
    const w: number[] = [];
    for (let i = 1; i <= 30; i++) {
      run(d, 1, i);
      w.push(d.measurements().w);
    }
    // 200 W/s: about 1 kW after 5 s, 2 kW after 10 s, there after 20 s (a first-order lag trails slightly).
    expect(w[4]).toBeGreaterThan(700);
    expect(w[4]).toBeLessThanOrEqual(1000 + 1e-6);
    expect(w[9]).toBeGreaterThan(1700);
    expect(w[9]).toBeLessThanOrEqual(2000 + 1e-6);
    expect(w[29]).toBeCloseTo(4000, -1);
    // Without a ramp time the same move is (almost) immediate.
    apply(f, { kind: 'activePower', w: 0, derId: 'b' });
    run(d, 5, 40);
    expect(Math.abs(d.measurements().w)).toBeLessThan(400);
  });
});
