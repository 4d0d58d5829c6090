import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simRun, type SimRunResult } from '../../src/cli/sim-run.js';
import { packageRoot } from '../../src/cli/paths.js';

const fleet = (name: string): string => join(packageRoot(), 'fixtures', 'fleets', name);

describe('derms sim run', () => {
  it('runs a fleet fast and prints one JSON summary', async () => {
    const lines: string[] = [];
    await simRun({ fleet: fleet('sunspec.yaml'), hours: 0.5, fast: true, json: true, progress: false, workers: 1, out: (l) => lines.push(l) });
    expect(lines).toHaveLength(1);
    const parsed = JSON.parse(lines[0]!) as SimRunResult;
    expect(parsed).toMatchObject({ devices: 10, steps: 1800, simulatedSeconds: 1800, workers: 1 });
    expect(parsed.voltageMinPu).toBeGreaterThan(0.9);
    expect(parsed.voltageMaxPu).toBeLessThan(1.1);
    expect(parsed.wallSeconds).toBeGreaterThan(0);
  });

  it('prints a readable summary, also over worker threads', async () => {
    const lines: string[] = [];
    await simRun({ fleet: fleet('demo.yaml'), hours: 0.1, fast: true, json: false, progress: false, workers: 2, out: (l) => lines.push(l) });
    const text = lines.join('\n');
    expect(text).toMatch(/60 devices on 2 feeder\(s\), 2 thread\(s\)/);
    expect(text).toMatch(/pv: +\d+ devices, produced [\d.]+ kWh/);
    expect(text).toMatch(/voltage [\d.]+ \.\. [\d.]+ pu/);
  });

  it('says clearly when the fleet file is missing or bad', async () => {
    const base = { hours: 1, fast: true, json: true, progress: false, workers: 1, out: () => {} };
    await expect(simRun({ ...base, fleet: fleet('nope.yaml') })).rejects.toThrow(/nope\.yaml: no such file/);
  });
});
