import { describe, expect, it } from 'vitest';
import { DermsError, ValidationError } from '../../src/core/errors.js';
import { installedRangeW, parseDer } from '../../src/core/model/der.js';
import { parseDispatch } from '../../src/core/model/control.js';
import { parseGroup } from '../../src/core/model/group.js';
import { battery, pv } from '../support/fixtures.js';

function issueOf(fn: () => unknown): { code: string; paths: string[]; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    const err = e as DermsError;
    return { code: err.code, paths: err.issues.map((i) => i.path), message: err.message };
  }
  throw new Error('expected a validation error');
}

describe('DER model', () => {
  it('accepts a valid PV and fills IEEE 1547 category defaults', () => {
    const d = parseDer(pv('pv-1'));
    expect(d.nameplate.normalCategory).toBe('B');
    expect(d.nameplate.abnormalCategory).toBe('II');
    expect(installedRangeW(d)).toEqual({ min: 0, max: 10_000 });
  });

  it('gives storage a charging range below zero', () => {
    expect(installedRangeW(parseDer(battery('b-1')))).toEqual({ min: -5000, max: 5000 });
  });

  it.each([
    ['NaN rating', { maxW: Number.NaN }, 'nameplate.maxW'],
    ['infinite rating', { maxVA: Number.POSITIVE_INFINITY }, 'nameplate.maxVA'],
    ['negative rating', { maxVarInject: -1 }, 'nameplate.maxVarInject'],
    ['zero nominal voltage', { nominalV: 0 }, 'nameplate.nominalV'],
    ['W above VA', { maxW: 20_000 }, 'nameplate.maxW'],
    ['unknown category', { normalCategory: 'C' }, 'nameplate.normalCategory'],
  ])('rejects %s with a typed error naming the field', (_name, over, path) => {
    const input = pv('pv-1');
    const r = issueOf(() => parseDer({ ...input, nameplate: { ...input.nameplate, ...over } }));
    expect(r.code).toBe('INVALID_INPUT');
    expect(r.paths).toContain(path);
  });

  it('rejects a battery without energy capacity and a PV with one', () => {
    const b = battery('b-1');
    expect(issueOf(() => parseDer({ ...b, nameplate: { ...b.nameplate, energyCapacityWh: 0 } })).paths).toContain('nameplate.energyCapacityWh');
    const p = pv('p-1');
    expect(issueOf(() => parseDer({ ...p, nameplate: { ...p.nameplate, energyCapacityWh: 1000 } })).paths).toContain('nameplate');
  });

  it('rejects bad identifiers, unknown fields and bad endpoints', () => {
    expect(issueOf(() => parseDer({ ...pv('x'), mRID: '' })).paths).toContain('mRID');
    expect(issueOf(() => parseDer({ ...pv('x'), mRID: 'a b' })).paths).toContain('mRID');
    expect(issueOf(() => parseDer({ ...pv('x'), colour: 'red' })).code).toBe('INVALID_INPUT');
    expect(issueOf(() => parseDer({ ...pv('x'), endpoint: { protocol: 'sunspec-tcp', host: 'h', port: 70000 } })).paths).toContain('endpoint.port');
    expect(issueOf(() => parseDer({ ...pv('x'), endpoint: { protocol: 'carrier-pigeon' } })).paths).toContain('endpoint.protocol');
    expect(issueOf(() => parseDer(null)).code).toBe('INVALID_INPUT');
  });
});

describe('group model', () => {
  it('defaults functions to off and version to 1.0.0', () => {
    const g = parseGroup({ mRID: 'g1' });
    expect(g.functions.realPowerDispatch).toBe(false);
    expect(g.version).toEqual({ major: 1, minor: 0, revision: 0 });
  });
  it('rejects duplicate members and unknown function flags', () => {
    expect(issueOf(() => parseGroup({ mRID: 'g1', members: ['a', 'a'] })).paths).toContain('members.1');
    expect(issueOf(() => parseGroup({ mRID: 'g1', functions: { teleport: true } })).code).toBe('INVALID_INPUT');
  });
});

describe('dispatch model', () => {
  const base = { mRID: 'd1', groupId: 'g1' };
  it('needs a value or a schedule for scalar controls', () => {
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'activePower' } })).paths).toContain('control.value');
    expect(parseDispatch({ ...base, control: { kind: 'activePower', value: 5 } }).policy).toBe('headroom');
  });
  it('rejects NaN and infinite values, bad power factors and bad curves', () => {
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'activePower', value: Number.NaN } })).paths).toContain('control.value');
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'activePower', value: Infinity } })).paths).toContain('control.value');
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'powerFactor', value: 1.2 } })).paths).toContain('control.value');
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'activePowerLimit', value: -5 } })).paths).toContain('control.value');
    const curve = [{ v: 100, var: 0 }, { v: 95, var: 10 }];
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'voltVar', curve } })).paths).toContain('control.curve.1.v');
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'rampRates', rates: {} } })).code).toBe('INVALID_INPUT');
  });
  it('validates schedules', () => {
    const schedule = { start: 0, intervalDuration: 15, intervalUnit: 'm', curveStyle: 'constantYValue', points: [{ interval: 2, value: 1 }, { interval: 1, value: 2 }] };
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'activePower' }, schedule })).paths).toContain('schedule.points.1.interval');
    const ok = { ...schedule, points: [{ interval: 1, value: 0.9 }] };
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'voltVar', curve: [{ v: 90, var: 10 }, { v: 110, var: -10 }] }, schedule: ok })).paths).toContain('schedule');
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'powerFactor' }, schedule: { ...ok, points: [{ interval: 1, value: 0 }] } })).paths).toContain('schedule.points.0.value');
    expect(issueOf(() => parseDispatch({ ...base, control: { kind: 'activePower' }, schedule: { ...ok, intervalUnit: 'fortnight' } })).paths).toContain('schedule.intervalUnit');
  });
});
