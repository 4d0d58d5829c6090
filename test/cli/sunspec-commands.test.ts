import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { simServe } from '../../src/cli/sim-serve.js';
import { readPoint, scan, writePoint } from '../../src/cli/sunspec-commands.js';
import { packageRoot } from '../../src/cli/paths.js';
import type { SunSpecEndpoint } from '../../src/sim/sunspec/server.js';

describe('derms sim serve + derms scan / read / write', () => {
  it('serves a fleet, lists its endpoints, and the lab commands work against them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'derms-'));
    const endpointsFile = join(dir, 'endpoints.json');
    const stop = new AbortController();
    let ready!: (eps: readonly SunSpecEndpoint[]) => void;
    const eps = new Promise<readonly SunSpecEndpoint[]>((r) => (ready = r));
    const serving = simServe({ fleet: join(packageRoot(), 'fixtures', 'fleets', 'sunspec.yaml'), endpoints: endpointsFile, host: '127.0.0.1', basePort: 0, speed: 10, out: () => {}, onReady: ready, signal: stop.signal });
    try {
      const list = await eps;
      expect(list).toHaveLength(10);
      const written = JSON.parse(await readFile(endpointsFile, 'utf8')) as SunSpecEndpoint[];
      expect(written.map((e) => e.mRID)).toEqual(list.map((e) => e.mRID));
      expect(written[0]).toMatchObject({ protocol: 'sunspec', url: expect.stringMatching(/^modbus-tcp:\/\/127\.0\.0\.1:\d+\?unit=\d+$/) });
      const url = list[0]!.url;

      const lines: string[] = [];
      const o = { timeoutMs: 1000, json: true, out: (l: string) => lines.push(l) };
      await scan(url, o);
      const scanned = JSON.parse(lines.pop()!) as { models: { id: number; points: Record<string, { value: unknown }> | null }[] };
      expect(scanned.models[0]!.id).toBe(1);
      expect(scanned.models.find((m) => m.id === 1)!.points!.Mn!.value).toBe('derms-sim');
      expect(scanned.models.some((m) => m.id === 701)).toBe(true);

      await writePoint(url, '704.WMaxLimPct', '37.5', o);
      const w = JSON.parse(lines.pop()!) as { registers: { address: number; registers: number[] }[]; readBack: { value: number } };
      expect(w.readBack.value).toBe(37.5);
      expect(w.registers[0]!.registers).toEqual([375]);
      await readPoint(url, '704.WMaxLimPct', o);
      expect(JSON.parse(lines.pop()!)).toMatchObject({ point: '704.WMaxLimPct', value: 37.5, raw: 375 });

      await expect(writePoint(url, '704.WMaxLimPct', '250', o)).rejects.toThrow(/exception 3/);
      await expect(readPoint(url, '704.Nope', o)).rejects.toThrow(/has no point Nope/);
      await expect(readPoint(url, 'W', o)).rejects.toThrow(/MODEL.POINT/);
      await expect(scan('modbus-tcp://127.0.0.1:1?unit=1', o)).rejects.toThrow(/cannot connect/);
    } finally {
      stop.abort();
      await serving;
    }
  });
});
