import { describe, expect, it } from 'vitest';
import { SunSpecClient } from '../../../src/adapters/sunspec/client.js';
import type { RegisterTransport } from '../../../src/adapters/sunspec/modbus-transport.js';
import { parseModbusUrl } from '../../../src/protocols/modbus-url.js';
import { ModelRegistry, SUNS_MARKER, encodeModel } from '../../../src/protocols/sunspec/index.js';

const registry = new ModelRegistry();
const SF = { W_SF: 0, Var_SF: 0, V_SF: -1, Hz_SF: -2, A_SF: 0, PF_SF: -3, VA_SF: 0, TotWh_SF: 0, TotVarh_SF: 0, Tmp_SF: 0 };

/** A 1 + 701 + 713 device in memory that logs every read request. */
function device(): { regs: Map<number, number>; reads: [number, number][]; transport: RegisterTransport } {
  const words = [
    ...SUNS_MARKER,
    ...encodeModel(registry.require(1), { Mn: 'm', Md: 'd', SN: 's', DA: 1 }),
    ...encodeModel(registry.require(701), { InvSt: 3, ConnSt: 1, W: 1000, Var: 0, LNV: 240, Hz: 60, MnAlrmInfo: 'all well', ...SF }),
    ...encodeModel(registry.require(713), { WHRtg: 10_000, WHAvail: 5000, SoC: 50, SoH: 100, Sta: 1, WH_SF: 0, Pct_SF: 0 }),
    0xffff,
    0,
  ];
  const regs = new Map(words.map((w, i) => [40000 + i, w]));
  const reads: [number, number][] = [];
  const transport: RegisterTransport = {
    target: parseModbusUrl('modbus-tcp://memory:502?unit=1'),
    async read(address, count) {
      reads.push([address, count]);
      return Uint16Array.from({ length: count }, (_, i) => regs.get(address + i) ?? 0);
    },
    async write(address, values) {
      values.forEach((v, i) => regs.set(address + i, v));
    },
    async close() {},
  };
  return { regs, reads, transport };
}

describe('SunSpecClient.poll', () => {
  it('reads 701 through its last number (one request with 713), skipping the trailing alarm text', async () => {
    const d = device();
    const client = await SunSpecClient.discover(d.transport, registry);
    const m701 = client.models.get(701)!;
    // The 32-register MnAlrmInfo text ends the model: a poll stops before it.
    expect(m701.pollSize).toBe(m701.length + 2 - 32);
    d.reads.length = 0;
    const polled = await client.poll([701, 713]);
    const pollReads = [...d.reads];
    expect(polled).toEqual(await client.readValues([701, 713]));
    expect(polled.get(701)).toMatchObject({ W: 1000, LNV: 240, Hz: 60, MnAlrmInfo: 'all well' });
    // The 701 prefix and 713 are each within 125 registers but not adjacent: two requests, none covering the text.
    expect(pollReads).toEqual([
      [m701.address, m701.pollSize],
      [client.models.get(713)!.address, client.models.get(713)!.length + 2],
    ]);
  });

  it('sees new measurements and keeps the last full read of the text', async () => {
    const d = device();
    const client = await SunSpecClient.discover(d.transport, registry);
    const m701 = client.models.get(701)!;
    const wAt = m701.address + m701.layout!.byPath.get('W')!.offset;
    d.regs.set(wAt, 2500);
    d.regs.set(m701.address + m701.layout!.byPath.get('MnAlrmInfo')!.offset, 0x5858); // "XX": not read by a poll
    expect((await client.poll([701])).get(701)).toMatchObject({ W: 2500, MnAlrmInfo: 'all well' });
    expect((await client.readValues([701])).get(701)!.MnAlrmInfo).toMatch(/^XX/);
  });
});
