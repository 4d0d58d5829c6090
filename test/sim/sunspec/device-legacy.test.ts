import { describe, expect, it } from 'vitest';
import { SimInverter } from '../../../src/sim/inverter.js';
import { SunSpecLegacyFace } from '../../../src/sim/sunspec/device-legacy.js';
import { SunSpec700Face } from '../../../src/sim/sunspec/device-700.js';
import { batterySpec, noonSky, pvSpec } from '../sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
function run(d: SimInverter, n: number, v = 240): void {
  for (let i = 1; i <= n; i++) d.step(T0 + i * 1000, 1, noonSky, v, 60);
}

describe('SunSpec legacy face of a simulated inverter', () => {
  it('serves 1, 101, 120-123, 124 for storage, 126 and 132', () => {
    expect(new SunSpecLegacyFace(new SimInverter(pvSpec('p'), 1), 1).models()).toEqual([1, 101, 120, 121, 122, 123, 126, 132]);
    expect(new SunSpecLegacyFace(new SimInverter(batterySpec('b'), 1), 1).models()).toContain(124);
  });

  it('reports inverter measurements in 101 and the nameplate in 120', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpecLegacyFace(d, 1);
    run(d, 30);
    const m = d.measurements();
    expect(f.read(101)).toMatchObject({ W: m.w, PhVphA: m.v, Hz: 60, St: 4, DCW: m.pvDcW });
    expect(f.read(101).PF).toBeCloseTo(100, 6);
    expect(f.read(120)).toMatchObject({ DERTyp: 4, WRtg: 10_000, VARtg: 11_000, WHRtg: null });
    expect(f.read(122)).toMatchObject({ ECPConn: 1, WAval: m.availWMax });
  });

  it('limits power with 123 WMaxLimPct and sets fixed PF with a signed OutPFSet', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpecLegacyFace(d, 1);
    expect(f.write(123, { WMaxLimPct: 25, WMaxLim_Ena: 1 })).toEqual({ ok: true });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(2500, 0);
    expect(f.write(123, { OutPFSet: -0.95, OutPFSet_Ena: 1 })).toEqual({ ok: true });
    expect(d.settings()).toMatchObject({ reactiveMode: 'constantPf', pf: 0.95, pfExcitation: 'absorbing' });
    expect(f.write(123, { OutPFSet: 0, OutPFSet_Ena: 1 })).toMatchObject({ ok: false });
    expect(f.write(123, { Conn: 0 })).toEqual({ ok: true });
    expect(d.settings().permitService).toBe(false);
  });

  it('charges and discharges storage through 124', () => {
    const d = new SimInverter(batterySpec('b'), 1);
    const f = new SunSpecLegacyFace(d, 1);
    f.write(124, { StorCtl_Mod: 1, InWRte: 50 });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(-2500, 0);
    expect(f.read(124)).toMatchObject({ StorCtl_Mod: 1, ChaSt: 4 });
    f.write(124, { StorCtl_Mod: 2, OutWRte: 20 });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(1000, 0);
    f.write(124, { StorCtl_Mod: 0 });
    expect(d.settings().activePowerSetpointW).toBeNull();
  });

  it('activates a stored volt-var curve with 126 ActCrv and ModEna, and 132 volt-watt', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpecLegacyFace(d, 1);
    const curve = { 'curve[2].ActPt': 3, 'curve[2].V1': 95, 'curve[2].VAr1': 20, 'curve[2].V2': 100, 'curve[2].VAr2': 0, 'curve[2].V3': 105, 'curve[2].VAr3': -20 };
    expect(f.write(126, { ...curve, ActCrv: 2, ModEna: 1 })).toEqual({ ok: true });
    expect(d.settings().voltVarCurve).toEqual([{ v: 95, var: 20 }, { v: 100, var: 0 }, { v: 105, var: -20 }]);
    expect(d.settings().reactiveMode).toBe('voltVar');
    expect(f.write(126, { 'curve[2].V2': 90 })).toMatchObject({ ok: false }); // voltages no longer increase
    expect(f.write(132, { ModEna: 1 })).toEqual({ ok: true });
    expect(d.settings().voltWattEnabled).toBe(true);
  });

  it('agrees with the 700 face on the same device (profile "both")', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const legacy = new SunSpecLegacyFace(d, 1);
    const modern = new SunSpec700Face(d, 1);
    legacy.write(123, { WMaxLimPct: 60, WMaxLim_Ena: 1 });
    expect(modern.read(704)).toMatchObject({ WMaxLimPctEna: 1, WMaxLimPct: 60 });
    modern.write(704, { WMaxLimPctEna: 0 });
    expect(legacy.read(123)).toMatchObject({ WMaxLim_Ena: 0 });
  });
});
