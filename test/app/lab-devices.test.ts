import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadLabDevices } from '../../src/app/lab-devices.js';
import { SimInverter } from '../../src/sim/inverter.js';
import { SunSpecServers } from '../../src/sim/sunspec/server.js';
import { batterySpec, pvSpec } from '../sim/sim-fixtures.js';

let dir: string;
let servers: SunSpecServers;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'derms-lab-'));
  servers = await SunSpecServers.start([
    { device: new SimInverter(pvSpec('pv-1'), 1), profile: '700', mode: 'gateway' },
    { device: new SimInverter(batterySpec('bat-1'), 2), profile: 'legacy', mode: 'gateway' },
  ]);
});
afterAll(async () => {
  await servers.close();
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const p = join(dir, name);
  await writeFile(p, text);
  return p;
}

describe('a lab devices file (derms start --no-sim --devices FILE)', () => {
  it('takes the endpoint list `derms sim serve` writes and discovers kind and nameplate over SunSpec', async () => {
    const list = servers.endpoints().map((e) => ({ mRID: e.mRID, protocol: e.protocol, url: e.url }));
    const devices = await loadLabDevices(await file('endpoints.json', JSON.stringify(list)), { timeoutMs: 2000 });
    expect(devices.map((d) => [d.der.mRID, d.der.kind, d.protocol])).toEqual([
      ['pv-1', 'pv', 'sunspec'],
      ['bat-1', 'battery', 'sunspec'],
    ]);
    expect(devices[0]!.der.nameplate).toMatchObject({ maxW: 10_000, maxVA: 11_000 });
    expect(devices[1]!.der.nameplate).toMatchObject({ maxW: 5000, maxChargeW: 5000, energyCapacityWh: batterySpec('b').nameplate.energyCapacityWh });
    expect(devices[1]!.der.endpoint).toMatchObject({ protocol: 'sunspec-tcp', host: '127.0.0.1', unitId: 2 });
  });

  it('uses a nameplate given in YAML without asking the device', async () => {
    const yaml = `devices:\n  - mRID: far-away\n    url: modbus-tcp://192.0.2.1:502?unit=3\n    kind: pv\n    nameplate: { maxW: 4000, maxVA: 4000, maxVarInject: 1760, maxVarAbsorb: 1760, nominalV: 240 }\n`;
    const [d] = await loadLabDevices(await file('given.yaml', yaml), { timeoutMs: 200 });
    expect(d!.der).toMatchObject({ mRID: 'far-away', kind: 'pv', endpoint: { protocol: 'sunspec-tcp', host: '192.0.2.1', port: 502, unitId: 3 } });
  });

  it('says what is wrong with a bad file', async () => {
    const bad = async (name: string, text: string): Promise<string> =>
      loadLabDevices(await file(name, text), { timeoutMs: 200 }).then(
        () => 'accepted',
        (e: Error) => e.message,
      );
    expect(await bad('notalist.json', '{"x": 1}')).toMatch(/notalist\.json/);
    expect(await bad('nourl.json', '[{"mRID": "a"}]')).toMatch(/0\.url/);
    expect(await bad('scheme.json', '[{"mRID": "a", "url": "http://x"}]')).toMatch(/unsupported scheme/);
    expect(await bad('twice.json', '[{"mRID": "a", "url": "modbus-tcp://h:1?unit=1", "kind": "pv", "nameplate": {"maxW": 1, "maxVA": 1, "maxVarInject": 0, "maxVarAbsorb": 0, "nominalV": 240}}, {"mRID": "a", "url": "modbus-tcp://h:1?unit=2"}]')).toMatch(/appears twice/);
    expect(await bad('broken.yaml', 'devices: [\n')).toMatch(/broken\.yaml/);
    expect(await bad('unreachable.json', '[{"mRID": "a", "url": "modbus-tcp://127.0.0.1:1?unit=1"}]')).toMatch(/connect/i);
    expect(await loadLabDevices(join(dir, 'missing.json'), { timeoutMs: 200 }).catch((e: Error) => e.message)).toMatch(/missing\.json/);
  });
});
