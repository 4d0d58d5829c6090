import { describe, expect, it } from 'vitest';
import { Simulation } from '../../src/sim/engine.js';
import { ParallelSimulation, partitionFeeders } from '../../src/sim/parallel.js';
import { fleet, lineFeeder, pvSpec, batterySpec } from './sim-fixtures.js';

function twoFeederFleet() {
  const f1 = { ...lineFeeder(3, 0.01, 0.01), id: 'f1' };
  const f2 = { ...lineFeeder(3, 0.01, 0.01), id: 'f2' };
  const devices = [
    ...Array.from({ length: 6 }, (_, i) => pvSpec(`a${i}`, { feeder: 'f1', section: `s${(i % 3) + 1}` }, { reactiveMode: 'voltVar' })),
    ...Array.from({ length: 4 }, (_, i) => pvSpec(`b${i}`, { feeder: 'f2', section: `s${(i % 3) + 1}` })),
    batterySpec('c0', { feeder: 'f2', section: 's3' }),
  ];
  return fleet(devices, {
    feeders: [f1, f2],
    clock: { start: Date.UTC(2026, 5, 21, 16), stepMs: 1000, mode: 'fast', speed: 1 },
    weather: { meanClearness: 0.7, variability: 0.2, cloudTimescaleS: 120, ambientMinC: 10, ambientMaxC: 30 },
    faults: [{ devices: ['a1', 'b2'], kind: 'trip', atS: 600, durationS: 60, magnitude: 0 }],
  });
}

describe('ParallelSimulation', () => {
  it('partitions feeders by device count', () => {
    const spec = twoFeederFleet();
    expect(partitionFeeders(spec, 2)).toEqual([['f1'], ['f2']]);
    expect(partitionFeeders(spec, 8)).toHaveLength(2);
    expect(partitionFeeders(spec, 1)).toEqual([['f1', 'f2']]);
  });

  it('gives every device the same numbers as a single thread, to the bit', async () => {
    const spec = twoFeederFleet();
    const one = new Simulation(spec);
    one.runUntil(spec.clock.start + 3_600_000);
    const par = await ParallelSimulation.start(spec, 2);
    try {
      expect(par.workerCount).toBe(2);
      await par.runUntil(spec.clock.start + 3_600_000);
      const ids = spec.devices.map((d) => d.id);
      const got = await par.measurements(ids);
      for (const id of ids) expect(got.get(id)).toEqual(one.device(id).measurements());
      const a = one.summary();
      const b = await par.summary();
      expect(b.devices).toBe(11);
      expect(b.steps).toBe(3600);
      expect(b.byKind.pv.producedWh).toBeCloseTo(a.byKind.pv.producedWh, 6);
      expect(b.voltageMaxPu).toBe(a.voltageMaxPu);
    } finally {
      await par.close();
    }
  });

  it('reports a worker that cannot build its partition', async () => {
    const spec = twoFeederFleet();
    const broken = { ...spec, devices: [...spec.devices, pvSpec('z', { feeder: 'f1', section: 'nope' })] };
    await expect(ParallelSimulation.start(broken, 2)).rejects.toThrow(/nope/);
  });
});
