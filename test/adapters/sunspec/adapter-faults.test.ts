import { asyncScheduler, filter, firstValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { SunSpecAdapter } from '../../../src/adapters/sunspec/adapter.js';
import type { RegisterTransport } from '../../../src/adapters/sunspec/modbus-transport.js';
import { DermsError } from '../../../src/core/errors.js';
import { parseModbusUrl } from '../../../src/protocols/modbus-url.js';
import { ModelRegistry, SUNS_MARKER, encodeModel } from '../../../src/protocols/sunspec/index.js';

/** A register map in memory, optionally misbehaving. */
function memory(regs: Map<number, number>, misbehave: (address: number, count: number) => Uint16Array | Error | null = () => null): RegisterTransport {
  return {
    target: parseModbusUrl('modbus-tcp://memory:502?unit=1'),
    async read(address, count) {
      const m = misbehave(address, count);
      if (m instanceof Error) throw m;
      if (m) return m;
      return Uint16Array.from({ length: count }, (_, i) => regs.get(address + i) ?? 0);
    },
    async write(address, values) {
      values.forEach((v, i) => regs.set(address + i, v));
    },
    async close() {},
  };
}

function image(models: [number, Record<string, number | string | null>][], opts: { suns?: boolean } = {}): Map<number, number> {
  const registry = new ModelRegistry();
  const out: number[] = opts.suns === false ? [0, 0] : [...SUNS_MARKER];
  for (const [id, v] of models) out.push(...encodeModel(registry.require(id), v));
  out.push(0xffff, 0);
  return new Map(out.map((r, i) => [40000 + i, r]));
}

const GOOD: [number, Record<string, number | string | null>][] = [
  [1, { Mn: 'x', Md: 'y', SN: 'z', DA: 1 }],
  [701, { InvSt: 3, ConnSt: 1, W: 1000, Var: 0, LNV: 240, Hz: 60, W_SF: 0, Var_SF: 0, V_SF: -1, Hz_SF: -2, A_SF: 0, PF_SF: -3, VA_SF: 0, TotWh_SF: 0, TotVarh_SF: 0, Tmp_SF: 0 }],
];

function adapter(t: RegisterTransport): SunSpecAdapter {
  return new SunSpecAdapter('d', t.target, asyncScheduler, { pollPeriodMs: 50, backoffMs: 50, maxBackoffMs: 100, open: async () => t });
}

describe('SunSpec adapter on misbehaving devices', () => {
  it('reports a device without "SunS" as degraded, keeps retrying, never throws', async () => {
    const a = adapter(memory(image(GOOD, { suns: false })));
    await new Promise((r) => setTimeout(r, 150));
    expect(a.lastError).toMatch(/SunS/);
    expect(await a.apply({ kind: 'activePowerLimit', pct: 50, w: 1, derId: 'd' })).toMatchObject({ status: 'rejected' });
    await a.close();
  });

  it('reports a wrong model length', async () => {
    const regs = image(GOOD);
    regs.set(40000 + 2 + 68 + 1, 99); // 701's L register says 99 instead of 153
    const a = adapter(memory(regs));
    await new Promise((r) => setTimeout(r, 150));
    expect(a.lastError).toMatch(/701|length/i);
    await a.close();
  });

  it('goes offline on truncated responses and recovers when the device does', async () => {
    let broken = false;
    const a = adapter(memory(image(GOOD), (_address, count) => (broken ? Uint16Array.from({ length: Math.max(0, count - 3) }) : null)));
    await firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
    broken = true;
    await firstValueFrom(a.link$.pipe(filter((l) => l === 'offline')));
    broken = false;
    await firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
    await a.close();
  });

  it('turns a timeout during a write into a timed-out outcome', async () => {
    let silent = false;
    const a = adapter(memory(image([...GOOD, [704, { WMaxLimPctEna: 0, WMaxLimPct: 100, PF_SF: -3, WMaxLimPct_SF: -1, WSet_SF: 0, WSetPct_SF: -1, VarSet_SF: 0, VarSetPct_SF: -1 }]]), () => (silent ? new DermsError('TIMEOUT', 'no answer') : null)));
    await firstValueFrom(a.link$.pipe(filter((l) => l === 'online')));
    silent = true;
    expect(await a.apply({ kind: 'activePowerLimit', pct: 50, w: 1, derId: 'd' })).toEqual({ status: 'timedOut' });
    await a.close();
  });

  it('reads sentinel values as not implemented rather than numbers', async () => {
    const a = adapter(memory(image([[1, { Mn: 'x', Md: 'y', SN: 'z', DA: 1 }], [701, { ...GOOD[1]![1], Var: null, Hz: null }]])));
    const s = await firstValueFrom(a.telemetry$);
    expect(s).toMatchObject({ w: 1000, var: 0, hz: 0 });
    await a.close();
  });
});
