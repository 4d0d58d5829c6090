import { describe, expect, it } from 'vitest';
import { SimInverter } from '../../../src/sim/inverter.js';
import { SunSpec700Face } from '../../../src/sim/sunspec/device-700.js';
import { batterySpec, noonSky, pvSpec } from '../sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
function run(d: SimInverter, n: number, v = 240): void {
  for (let i = 1; i <= n; i++) d.step(T0 + i * 1000, 1, noonSky, v, 60);
}

describe('SunSpec 700-series face of a simulated inverter', () => {
  it('serves the model chain for its kind', () => {
    expect(new SunSpec700Face(new SimInverter(pvSpec('p'), 1), 1).models()).toEqual([1, 701, 702, 703, 704, 705, 706, 715]);
    expect(new SunSpec700Face(new SimInverter(batterySpec('b'), 1), 1).models()).toContain(713);
  });

  it('reports live measurements in 701 and ratings in 702', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpec700Face(d, 7);
    run(d, 30);
    const m = d.measurements();
    const v = f.read(701);
    expect(v).toMatchObject({ W: m.w, Var: m.var, LNV: m.v, Hz: 60, InvSt: 3, ConnSt: 1, W_SF: f.scales.W_SF });
    expect(f.read(702)).toMatchObject({ WMaxRtg: 10_000, VAMaxRtg: 11_000, VarMaxInjRtg: 4400, NorOpCatRtg: 1, WMax: 10_000 });
    expect(f.read(1)).toMatchObject({ Mn: 'derms-sim', SN: 'p', DA: 7 });
  });

  it('limits active power through WMaxLimPct once enabled, even across separate writes', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpec700Face(d, 1);
    expect(f.write(704, { WMaxLimPct: 40 })).toEqual({ ok: true });
    run(d, 20);
    expect(d.measurements().w).toBeGreaterThan(8000);
    expect(f.write(704, { WMaxLimPctEna: 1 })).toEqual({ ok: true });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(4000, 0);
    expect(f.read(704)).toMatchObject({ WMaxLimPctEna: 1, WMaxLimPct: 40 });
  });

  it('takes active-power setpoints in watts (charging negative) and in % of WMax', () => {
    const d = new SimInverter(batterySpec('b'), 1);
    const f = new SunSpec700Face(d, 1);
    f.write(704, { WSetEna: 1, WSetMod: 1, WSet: -2500 });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(-2500, 0);
    f.write(704, { WSetMod: 0, WSetPct: 50 });
    run(d, 30);
    expect(d.measurements().w).toBeCloseTo(2500, 0);
    expect(f.write(704, { WSetMod: 1, WSet: 9000 })).toMatchObject({ ok: false });
    expect(f.read(704)).toMatchObject({ WSetMod: 0, WSetPct: 50 }); // the rejected write changed nothing
  });

  it('sets fixed PF and fixed var', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpec700Face(d, 1);
    f.write(704, { 'PFWInj.PF': 0.9, 'PFWInj.Ext': 1, PFWInjEna: 1 });
    expect(d.settings()).toMatchObject({ reactiveMode: 'constantPf', pf: 0.9, pfExcitation: 'absorbing' });
    f.write(704, { VarSetEna: 1, VarSetMod: 4, VarSet: -2200 });
    expect(d.settings()).toMatchObject({ reactiveMode: 'constantVar', constantVarPct: -50 });
  });

  it('adopts a stored volt-var curve through the AdptCrvReq / AdptCrvRslt handshake', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpec700Face(d, 1);
    const curve = { 'Crv[2].ActPt': 4, 'Crv[2].Pt[1].V': 90, 'Crv[2].Pt[1].Var': 30, 'Crv[2].Pt[2].V': 97, 'Crv[2].Pt[2].Var': 0, 'Crv[2].Pt[3].V': 103, 'Crv[2].Pt[3].Var': 0, 'Crv[2].Pt[4].V': 110, 'Crv[2].Pt[4].Var': -30 };
    expect(f.write(705, curve)).toEqual({ ok: true });
    expect(f.write(705, { AdptCrvReq: 2 })).toEqual({ ok: true });
    expect(f.read(705)).toMatchObject({ AdptCrvRslt: 1, AdptCrvReq: 0, 'Crv[1].Pt[1].V': 90, 'Crv[1].Pt[4].Var': -30 });
    f.write(705, { Ena: 1 });
    expect(d.settings().reactiveMode).toBe('voltVar');
    expect(d.settings().voltVarCurve[0]).toEqual({ v: 90, var: 30 });
    expect(f.write(705, { 'Crv[1].Pt[1].V': 80 })).toMatchObject({ ok: false, reason: expect.stringContaining('read-only') });
    f.write(705, { 'Crv[3].Pt[2].V': 80, 'Crv[3].Pt[1].V': 95 });
    f.write(705, { AdptCrvReq: 3 });
    expect(f.read(705).AdptCrvRslt).toBe(2); // failed: voltages do not increase
  });

  it('enters and leaves service via 703 and 715', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpec700Face(d, 1);
    f.write(715, { OpCtl: 0 });
    expect(d.settings().permitService).toBe(false);
    f.write(715, { OpCtl: 1 });
    expect(f.write(703, { ESDlyTms: 20, ESVHi: 105 })).toEqual({ ok: true });
    expect(f.read(703)).toMatchObject({ ES: 1, ESDlyTms: 20, ESVHi: 105 });
    expect(f.write(703, { ESVHi: 150 })).toMatchObject({ ok: false });
  });

  it('reads back what the device does, whoever changed it', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const f = new SunSpec700Face(d, 1);
    d.update({ activePowerLimitPct: 30, reactiveMode: 'constantVar', constantVarPct: -25 });
    expect(f.read(704)).toMatchObject({ WMaxLimPctEna: 1, WMaxLimPct: 30, VarSetEna: 1, VarSetMod: 1, VarSetPct: -25, PFWInjEna: 0 });
    d.update({ reactiveMode: 'voltVar' });
    expect(f.read(705).Ena).toBe(1);
    expect(f.read(704).VarSetEna).toBe(0);
  });
});
