import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { DermsError } from '../../src/core/errors.js';
import { parseDer } from '../../src/core/model/der.js';
import { FleetFileError, largestRemainder, loadFleetFile, maxReportedIssues, parseFleetYaml } from '../../src/sim/fleet-file.js';
import type { DeviceSpec, FleetSpec } from '../../src/sim/fleet-spec.js';

const fleets = fileURLToPath(new URL('../../fixtures/fleets/', import.meta.url));
const fixture = (name: string) => `${fleets}${name}.yaml`;

function countBy<T>(xs: readonly T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}
const protocolMix = (s: FleetSpec) => countBy(s.devices, (d) => d.protocol);
const kindMix = (s: FleetSpec) => countBy(s.devices, (d) => d.kind);

/** Every device in a spec is self-consistent and placed on a real section. */
function expectConsistent(s: FleetSpec): void {
  const ids = new Set<string>();
  const sections = new Map(s.feeders.map((f) => [f.id, new Set(f.sections.map((x) => x.id))]));
  const outstations = new Set<number>();
  for (const d of s.devices) {
    expect(ids.has(d.id), d.id).toBe(false);
    ids.add(d.id);
    expect(sections.get(d.feeder)?.has(d.section), `${d.id} on ${d.feeder}/${d.section}`).toBe(true);
    const feeder = s.feeders.find((f) => f.id === d.feeder)!;
    expect(d.nameplate.nominalV).toBe(feeder.nominalV);
    expect(() => parseDer({ mRID: d.id, name: d.name, kind: d.kind, nameplate: d.nameplate, endpoint: { protocol: 'in-process', device: d.id } })).not.toThrow();
    expect(d.pv === null).toBe(d.kind === 'battery');
    expect(d.battery === null).toBe(d.kind === 'pv');
    if (d.battery) {
      expect(d.battery.initialSocPct).toBeGreaterThanOrEqual(d.battery.minReservePct);
      expect(d.battery.initialSocPct).toBeLessThanOrEqual(d.battery.maxSocPct);
    }
    if (d.protocol === 'sunspec') {
      expect(d.endpoint.unitId).toBeGreaterThanOrEqual(1);
      expect(d.endpoint.unitId).toBeLessThanOrEqual(247);
      expect(d.endpoint.sunspecMode).toBeDefined();
      expect(d.endpoint.sunspecProfile).toBeDefined();
    }
    if (d.protocol === 'dnp3') {
      expect(outstations.has(d.endpoint.outstation!)).toBe(false);
      outstations.add(d.endpoint.outstation!);
    }
  }
}

describe('fleet fixtures', () => {
  it('demo: about 60 DER over SunSpec, DNP3 and OpenFMB on two feeders', async () => {
    const s = await loadFleetFile(fixture('demo'));
    expect(s.name).toBe('demo');
    expect(s.devices).toHaveLength(60);
    expect(protocolMix(s)).toEqual({ sunspec: 24, dnp3: 18, openfmb: 18 });
    expect(s.feeders.map((f) => [f.id, f.sections.length])).toEqual([
      ['feeder-a', 4],
      ['feeder-b', 12],
    ]);
    expect(s.clock).toEqual({ start: Date.parse('2026-06-21T16:00:00Z'), stepMs: 1000, mode: 'realtime', speed: 1 });
    expectConsistent(s);

    // The listed devices come first, as written, with derived nameplates.
    const roof = s.devices[0]!;
    expect(roof).toMatchObject({ id: 'pv-roof-1', name: 'Roof array, 12 Elm St', kind: 'pv', feeder: 'feeder-a', section: 'a3', protocol: 'sunspec' });
    expect(roof.nameplate).toEqual({
      maxW: 7600,
      maxVA: 8360,
      maxVarInject: 3344,
      maxVarAbsorb: 3344,
      maxChargeW: 0,
      maxDischargeW: 0,
      energyCapacityWh: 0,
      nominalV: 240,
      normalCategory: 'B',
      abnormalCategory: 'II',
    });
    expect(roof.endpoint).toEqual({ sunspecMode: 'port', sunspecProfile: '700', unitId: 1 });
    expect(roof.settings).toEqual({ reactiveMode: 'voltVar', voltWattEnabled: true });
    expect(roof.pv).toMatchObject({ dcRatingW: 9120, tiltDeg: 30, azimuthDeg: 190 });
    const school = s.devices[1]!;
    expect(school.endpoint).toEqual({ outstation: 100 });
    expect(school.battery).toEqual({ chargeEfficiency: 0.95, dischargeEfficiency: 0.95, minReservePct: 20, maxSocPct: 100, initialSocPct: 70 });
    expect(school.nameplate).toMatchObject({ maxChargeW: 30000, maxDischargeW: 30000, energyCapacityWh: 60000, abnormalCategory: 'III' });

    expect(s.faults).toHaveLength(2);
    expect(s.faults[0]).toEqual({ devices: ['pv-roof-1'], kind: 'commsLoss', atS: 600, durationS: 120, magnitude: 0 });
    expect(s.faults[1]!.devices).toEqual(s.devices.filter((d) => d.id.startsWith('battery-')).map((d) => d.id));
  });

  it.each(['sunspec', 'dnp3', 'openfmb'] as const)('%s: ten devices, all over that protocol', async (protocol) => {
    const s = await loadFleetFile(fixture(protocol));
    expect(s.devices).toHaveLength(10);
    expect(protocolMix(s)).toEqual({ [protocol]: 10 });
    expect(kindMix(s)).toEqual({ pv: 6, battery: 2, hybrid: 2 });
    expectConsistent(s);
    if (protocol === 'dnp3') expect(s.devices.map((d) => d.endpoint.outstation)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]);
  });

  it('day: 1,000 DER from midnight, fast', async () => {
    const s = await loadFleetFile(fixture('day'));
    expect(s.devices).toHaveLength(1000);
    expect(protocolMix(s)).toEqual({ sunspec: 400, dnp3: 200, openfmb: 200, 'in-process': 200 });
    expect(kindMix(s)).toEqual({ pv: 700, battery: 100, hybrid: 200 });
    expect(s.clock.mode).toBe('fast');
    expect(s.clock.start).toBe(Date.parse('2026-07-15T06:00:00Z'));
    expectConsistent(s);
    // Gateway unit ids run 1..247 and wrap, in device order.
    const units = s.devices.filter((d) => d.protocol === 'sunspec').map((d) => d.endpoint.unitId);
    expect(units.slice(0, 3)).toEqual([1, 2, 3]);
    expect(units[246]).toBe(247);
    expect(units[247]).toBe(1);
  });

  it('large: 10,000 DER', async () => {
    const s = await loadFleetFile(fixture('large'));
    expect(s.devices).toHaveLength(10_000);
    expect(protocolMix(s)).toEqual({ sunspec: 5000, dnp3: 2000, openfmb: 3000 });
    expect(kindMix(s)).toEqual({ pv: 7000, battery: 1000, hybrid: 2000 });
    expect(s.feeders).toHaveLength(4);
    expect(new Set(s.devices.map((d) => d.id)).size).toBe(10_000);
    expect(s.devices[0]!.id).toBe('pv-0001');
    expect(s.devices.at(-1)!.id).toBe('hybrid-2000');
  });
});

describe('generation', () => {
  it('derives nameplates, PV and battery parameters within the ranges given', async () => {
    const s = await loadFleetFile(fixture('day'));
    for (const d of s.devices) {
      const n = d.nameplate;
      expect(n.maxVA).toBeCloseTo(1.1 * n.maxW, 6);
      expect(n.maxVarInject).toBeCloseTo(0.44 * n.maxW, 6);
      if (d.kind !== 'pv') {
        expect(n.maxChargeW).toBe(n.maxW);
        expect(n.maxDischargeW).toBe(n.maxW);
        expect(d.battery!.initialSocPct).toBeGreaterThanOrEqual(30);
        expect(d.battery!.initialSocPct).toBeLessThanOrEqual(90);
      }
      if (d.pv) {
        const ratio = d.pv.dcRatingW / n.maxW;
        expect(ratio).toBeGreaterThanOrEqual(1.2 - 1e-9);
        expect(ratio).toBeLessThanOrEqual(1.2 + 1e-9);
        expect(d.pv.tiltDeg).toBeGreaterThanOrEqual(15);
        expect(d.pv.tiltDeg).toBeLessThanOrEqual(35);
      }
      if (d.kind === 'pv') {
        expect(n.maxW).toBeGreaterThanOrEqual(3000);
        expect(n.maxW).toBeLessThanOrEqual(10_000);
      }
      expect(d.settings).toEqual({ reactiveMode: 'voltVar' });
    }
  });

  it('is deterministic: the same file gives the same spec, another seed another', async () => {
    const text = await readFile(fixture('demo'), 'utf8');
    const a = parseFleetYaml(text, 'demo.yaml');
    const b = parseFleetYaml(text, 'demo.yaml');
    expect(b).toEqual(a);
    const c = parseFleetYaml(text.replace('seed: 42', 'seed: 43'), 'demo.yaml');
    expect(c.devices).toHaveLength(a.devices.length);
    expect(protocolMix(c)).toEqual(protocolMix(a)); // exact counts do not depend on the seed
    expect(c.devices).not.toEqual(a.devices);
    const sameIds = (x: readonly DeviceSpec[]) => x.map((d) => d.id);
    expect(sameIds(c.devices)).toEqual(sameIds(a.devices));
  });

  it('keeps one generator stable when another part of the file changes', async () => {
    const text = await readFile(fixture('demo'), 'utf8');
    const a = parseFleetYaml(text, 'demo.yaml');
    const b = parseFleetYaml(text.replace('protocols: { sunspec: 0.4, dnp3: 0.3, openfmb: 0.3 }', 'protocols: { sunspec: 1 }'), 'demo.yaml');
    const generated = (s: FleetSpec) => s.devices.filter((d) => /^(pv|battery|hybrid)-\d+$/.test(d.id)).map((d) => [d.id, d.nameplate.maxW, d.section, d.pv?.tiltDeg, d.battery?.initialSocPct]);
    expect(generated(b)).toEqual(generated(a));
    // A device listed ahead of the generator leaves it alone too.
    const extra = '  - { id: extra-1, kind: pv, feeder: feeder-a, section: a1, nameplate: { maxW: 4000 } }\n';
    const c = parseFleetYaml(text.replace('  # The rest generated', `${extra}  # The rest generated`), 'demo.yaml');
    expect(c.devices).toHaveLength(61);
    expect(generated(c)).toEqual(generated(a));
  });

  it('splits counts by largest remainder, exactly', () => {
    expect(largestRemainder({ a: 0.4, b: 0.3, c: 0.3 }, ['a', 'b', 'c'], 57)).toEqual({ a: 23, b: 17, c: 17 });
    expect(largestRemainder({ a: 1 / 3, b: 1 / 3, c: 1 / 3 }, ['a', 'b', 'c'], 10)).toEqual({ a: 4, b: 3, c: 3 });
    expect(largestRemainder({ a: 0, b: 1 }, ['a', 'b'], 5)).toEqual({ a: 0, b: 5 });
    expect(largestRemainder({ a: 0.5, b: 0.5 }, ['a', 'b'], 0)).toEqual({ a: 0, b: 0 });
  });

  it('builds line and branched feeders', () => {
    const s = parseFleetYaml(
      `name: t
clock: { start: 2026-06-21T00:00:00Z }
feeders:
  - { id: l, generate: { sections: 3, rOhmPerSection: 0.01, xOhmPerSection: 0.01, loadPeakWPerSection: 1000 } }
  - { id: b, generate: { sections: 6, topology: branched, rOhmPerSection: 0.01, xOhmPerSection: 0.01, loadPeakWPerSection: 1000 } }
`,
      't.yaml',
    );
    expect(s.devices).toEqual([]);
    expect(s.feeders[0]!.sections.map((x) => [x.id, x.parent])).toEqual([
      ['s001', null],
      ['s002', 's001'],
      ['s003', 's002'],
    ]);
    expect(s.feeders[1]!.sections.map((x) => [x.id, x.parent])).toEqual([
      ['s001', null],
      ['s002', 's001'],
      ['s003', 's001'],
      ['s004', 's003'],
      ['s005', 's002'],
      ['s006', 's005'],
    ]);
    expect(s.site).toEqual({ latitudeDeg: 40, longitudeDeg: -105, altitudeM: 1600 });
    expect(s.weather).toEqual({ meanClearness: 0.75, variability: 0.15, cloudTimescaleS: 600, ambientMinC: 15, ambientMaxC: 30 });
    expect(s.seed).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// bad files

/** A small valid file; `devices` and `extra` are spliced in at lines 9 and after. */
function file(devices: string, extra = ''): string {
  return `name: t
clock: { start: 2026-06-21T00:00:00Z }
feeders:
  - id: f1
    sections:
      - { id: s1, rOhm: 0.01, xOhm: 0.01 }
      - { id: s2, rOhm: 0.01, xOhm: 0.01 }
devices:
${devices}
${extra}`;
}

function errorOf(text: string, source = 'x.yaml'): FleetFileError {
  try {
    parseFleetYaml(text, source);
  } catch (e) {
    expect(e).toBeInstanceOf(FleetFileError);
    expect(e).toBeInstanceOf(DermsError);
    expect((e as FleetFileError).code).toBe('INVALID_INPUT');
    return e as FleetFileError;
  }
  throw new Error('expected the file to be rejected');
}

/** The file fails with exactly this one problem. */
function expectOneProblem(text: string, line: string): FleetFileError {
  const e = errorOf(text);
  expect(e.message).toBe(line);
  expect(e.issues).toHaveLength(1);
  return e;
}

describe('bad fleet files', () => {
  it('accepts the base file', () => {
    expect(parseFleetYaml(file('  []'), 'x.yaml').feeders[0]!.sections.map((s) => s.parent)).toEqual([null, 's1']);
  });

  it('names an unknown top-level key', () => {
    const e = expectOneProblem(file('  []', 'colour: red'), 'x.yaml:10:1: colour: unknown key "colour"');
    expect(e.issues[0]).toEqual({ path: 'colour', line: 10, column: 1, message: 'unknown key "colour"' });
  });

  it('names an unknown nested key', () => {
    expectOneProblem(
      file(`  - id: a
    kind: pv
    section: s1
    nameplate: { maxW: 5000, maxWatts: 3 }`),
      'x.yaml:12:30: devices[0].nameplate.maxWatts: unknown key "maxWatts"',
    );
  });

  it('rejects a negative rating on its line', () => {
    const e = expectOneProblem(
      file(`  - id: a
    kind: pv
    section: s1
    nameplate:
      maxW: -5`),
      'x.yaml:13:7: devices[0].nameplate.maxW: must not be negative',
    );
    expect(e.issues[0]).toMatchObject({ path: 'devices[0].nameplate.maxW', line: 13, column: 7 });
  });

  it('reports a missing required field at its parent mapping', () => {
    expectOneProblem(
      file(`  - id: a
    section: s1
    nameplate:
      maxW: 5`),
      'x.yaml:9:5: devices[0].kind: is required',
    );
    expectOneProblem(file('  []').replace('name: t\n', ''), 'x.yaml:1:1: name: is required');
  });

  it('reports a wrong type', () => {
    expectOneProblem(
      file(`  - id: a
    kind: pv
    section: s1
    nameplate:
      maxW: lots`),
      'x.yaml:13:7: devices[0].nameplate.maxW: expected a number, got string "lots"',
    );
    expectOneProblem(file('  []').replace('name: t', 'name: t\nseed: 1.5'), 'x.yaml:2:1: seed: expected an integer, got 1.5');
  });

  it('reports a bad enum value with the choices', () => {
    expectOneProblem(
      file(`  - id: a
    kind: solar
    section: s1
    nameplate: { maxW: 5 }`),
      'x.yaml:10:5: devices[0].kind: must be one of "pv", "battery", "hybrid" (got string "solar")',
    );
  });

  it('reports unknown feeder and section references', () => {
    expectOneProblem(
      file(`  - id: a
    kind: pv
    section: s9
    nameplate: { maxW: 5 }`),
      'x.yaml:11:5: devices[0].section: unknown section "s9" on feeder "f1"',
    );
    expectOneProblem(file(`  - { id: a, kind: pv, feeder: f2, section: s1, nameplate: { maxW: 5 } }`), 'x.yaml:9:24: devices[0].feeder: unknown feeder "f2" (feeders: f1)');
    expectOneProblem(
      file(`  - generate: { count: 2, mix: { pv: 1 }, placement: { feeder: nope } }`),
      'x.yaml:9:56: devices[0].generate.placement.feeder: unknown feeder "nope" (feeders: f1, or all)',
    );
    expectOneProblem(file('  []').replace('{ id: s2, rOhm', '{ id: s2, parent: s7, rOhm'), 'x.yaml:7:19: feeders[0].sections[1].parent: unknown section "s7"');
  });

  it('reports a duplicate device id where it repeats', () => {
    expectOneProblem(
      file(`  - { id: a, kind: pv, section: s1, nameplate: { maxW: 5 } }
  - { id: a, kind: pv, section: s2, nameplate: { maxW: 5 } }`),
      'x.yaml:10:7: devices[1].id: duplicate device id "a" (first defined at line 9)',
    );
    // Two generators with the same (empty) prefix collide on their ids.
    const e = errorOf(file(`  - generate: { count: 1, mix: { pv: 1 } }
  - generate: { count: 1, mix: { pv: 1 } }`));
    expect(e.message).toBe('x.yaml:10:5: devices[1].generate: duplicate device id "pv-0001" (first defined at line 9)');
  });

  it('reports a YAML syntax error with line and column', () => {
    const e = expectOneProblem(file('  - { id: a, kind: pv\n  - id: b'), 'x.yaml:10:3: YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }');
    expect(e.issues[0]).toMatchObject({ path: '', line: 10, column: 3 });
    expectOneProblem('name: a\nname: b\n', 'x.yaml:2:1: YAML syntax error: duplicate key "name"');
  });

  it('reports fractions that do not sum to 1', () => {
    expectOneProblem(
      file(`  - generate:
      count: 5
      mix: { pv: 0.5, battery: 0.4 }`),
      'x.yaml:11:7: devices[0].generate.mix: fractions must sum to 1 (they sum to 0.9)',
    );
    expectOneProblem(
      file(`  - generate:
      count: 5
      mix: { pv: 1 }
      protocols: { sunspec: 0.5, dnp3: 0.6 }`),
      'x.yaml:12:7: devices[0].generate.protocols: fractions must sum to 1 (they sum to 1.1)',
    );
  });

  it('reports a missing file and a directory', async () => {
    const missing = await loadFleetFile('fixtures/fleets/no-such-fleet.yaml').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(FleetFileError);
    expect((missing as FleetFileError).message).toBe('fixtures/fleets/no-such-fleet.yaml: no such file');
    const dir = await loadFleetFile(fleets).catch((e: unknown) => e);
    expect((dir as FleetFileError).message).toMatch(/: is a directory, not a fleet file$/);
  });

  it('reports the core DER checks on the right line', () => {
    expectOneProblem(file(`  - { id: a, kind: pv, section: s1, nameplate: { maxW: 5000, maxVA: 4000 } }`), 'x.yaml:9:50: devices[0].nameplate.maxW: maxW exceeds maxVA');
    expectOneProblem(
      file(`  - id: b
    kind: battery
    section: s1
    nameplate: { maxW: 5000 }`),
      'x.yaml:12:5: devices[0].nameplate.energyCapacityWh: a battery needs a positive energy capacity',
    );
  });

  it('checks IEEE 1547 settings keys and ranges', () => {
    expectOneProblem(
      file(`  - id: a
    kind: pv
    section: s1
    nameplate: { maxW: 5000 }
    settings: { esDelayS: 900 }`),
      'x.yaml:13:17: devices[0].settings.esDelayS: must be at most 600',
    );
    expectOneProblem(
      file(`  - id: a
    kind: pv
    section: s1
    nameplate: { maxW: 5000 }
    settings:
      voltVarCurve: [{ v: 92, var: 44 }, { v: 90, var: 0 }]`),
      'x.yaml:14:44: devices[0].settings.voltVarCurve[1].v: voltages must strictly increase',
    );
    expectOneProblem(
      file(`  - generate: { count: 1, mix: { pv: 1 }, settings: { voltVarMode: on } }`),
      'x.yaml:9:55: devices[0].generate.settings.voltVarMode: unknown key "voltVarMode"',
    );
  });

  it('checks fault references', () => {
    expectOneProblem(
      file(`  - { id: a, kind: pv, section: s1, nameplate: { maxW: 5 } }`, 'faults:\n  - { devices: [a, zz], kind: trip }'),
      'x.yaml:11:20: faults[0].devices[1]: unknown device "zz"',
    );
    expectOneProblem(file(`  - { id: a, kind: pv, section: s1, nameplate: { maxW: 5 } }`, 'faults:\n  - { deviceMatch: "q*", kind: trip }'), 'x.yaml:11:7: faults[0].deviceMatch: matches no device');
  });

  it('lists every problem, in file order, up to the limit', () => {
    const e = errorOf(
      file(`  - { id: a, kind: pv, section: s1, nameplate: { maxW: -1 }, protocol: modbus }
  - { id: b, kind: pv, section: s1, nameplate: { maxW: 1 }, colour: red }`),
    );
    expect(e.message.split('\n')).toEqual([
      'x.yaml:9:50: devices[0].nameplate.maxW: must not be negative',
      'x.yaml:9:62: devices[0].protocol: must be one of "sunspec", "dnp3", "openfmb", "in-process" (got string "modbus")',
      'x.yaml:10:61: devices[1].colour: unknown key "colour"',
    ]);
    const many = Array.from({ length: 30 }, (_, i) => `  - { id: d${i}, kind: pv, section: s1, nameplate: { maxW: -1 } }`).join('\n');
    const big = errorOf(file(many));
    expect(big.issues).toHaveLength(maxReportedIssues);
    const lines = big.message.split('\n');
    expect(lines).toHaveLength(maxReportedIssues + 1);
    expect(lines[0]).toBe('x.yaml:9:51: devices[0].nameplate.maxW: must not be negative');
    expect(lines.at(-1)).toBe('x.yaml: ... and 10 more problems');
    expect(big.omitted).toBe(10);
  });

  it('explains an empty file and a file that is not a mapping', () => {
    expectOneProblem('', 'x.yaml:1:1: the file is empty; a fleet file is a mapping with name, clock, feeders and devices');
    expectOneProblem('- a\n- b\n', 'x.yaml:1:1: expected a mapping, got a list');
  });

  it('wants a start time with an offset', () => {
    expectOneProblem(file('  []').replace('2026-06-21T00:00:00Z', '2026-06-21 00:00'), 'x.yaml:2:10: clock.start: must be an ISO 8601 date-time with an offset, e.g. 2026-06-21T00:00:00-06:00');
  });
});
