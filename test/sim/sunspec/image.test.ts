import { describe, expect, it } from 'vitest';
import { ModelRegistry, decodeModel, walkModelChain } from '../../../src/protocols/sunspec/index.js';
import { SimInverter } from '../../../src/sim/inverter.js';
import { ModbusServerError, SunSpecDeviceImage } from '../../../src/sim/sunspec/image.js';
import { batterySpec, noonSky, pvSpec } from '../sim-fixtures.js';

const T0 = Date.UTC(2026, 5, 21, 18);
const registry = new ModelRegistry();
const reader = (img: SunSpecDeviceImage) => async (a: number, n: number) => img.read(a, n);

describe('SunSpec register image of a simulated device', () => {
  it('is discoverable: SunS, model 1 first, the chain, the end model', async () => {
    for (const [profile, first] of [['700', 701], ['legacy', 101], ['both', 101]] as const) {
      const img = new SunSpecDeviceImage(new SimInverter(batterySpec('b'), 1), 1, profile);
      const chain = await walkModelChain(reader(img));
      expect(chain[0]!.id).toBe(1);
      expect(chain[1]!.id).toBe(first);
      expect(chain.map((c) => c.id)).toEqual(img.chain().map((c) => c.id));
      if (profile === 'both') expect(chain.map((c) => c.id)).toEqual(expect.arrayContaining([101, 120, 123, 124, 126, 701, 704, 705, 713]));
    }
  });

  it('serves live values that decode to what the device measures', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const img = new SunSpecDeviceImage(d, 1, '700');
    for (let i = 1; i <= 20; i++) d.step(T0 + i * 1000, 1, noonSky, 241.3, 60);
    const c701 = img.chain().find((c) => c.id === 701)!;
    const block = img.read(c701.address, c701.length + 2);
    const m = decodeModel(registry.require(701), block);
    expect(Number(m.values.W)).toBeCloseTo(d.measurements().w, 0);
    expect(Number(m.values.LNV)).toBeCloseTo(241.3, 1);
    expect(m.values.Hz).toBe(60);
    expect(m.get('InvSt')?.symbol).toBe('RUNNING');
  });

  it('applies writes, and answers bad ones with the right Modbus exception', () => {
    const d = new SimInverter(pvSpec('p'), 1);
    const img = new SunSpecDeviceImage(d, 1, '700');
    const c704 = img.chain().find((c) => c.id === 704)!;
    // WMaxLimPctEna (+14) and WMaxLimPct (+15, sf WMaxLimPct_SF = -1): 55.5 % -> 555.
    img.write(c704.address + 14, [1, 555]);
    expect(d.settings().activePowerLimitPct).toBeCloseTo(55.5, 6);
    const code = (fn: () => void): number | undefined => {
      try {
        fn();
      } catch (e) {
        return e instanceof ModbusServerError ? e.modbusErrorCode : -1;
      }
      return undefined;
    };
    expect(code(() => img.write(c704.address + 15, [2000]))).toBe(3); // 200 %: illegal value
    expect(d.settings().activePowerLimitPct).toBeCloseTo(55.5, 6);
    expect(code(() => img.write(c704.address, [704]))).toBe(2); // the ID register is read-only
    expect(code(() => img.read(39_000, 4))).toBe(2);
    expect(code(() => img.read(img.base + img.size - 1, 2))).toBe(2);
    expect(code(() => img.write(c704.address + 24, [0x0001]))).toBe(2); // half of the int32 WSet
  });
});
