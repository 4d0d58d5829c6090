import { describe, expect, it } from 'vitest';
import { Registry, type RegistryChange } from '../../src/core/registry.js';
import { codeOf, pv } from '../support/fixtures.js';

function setup() {
  const r = new Registry();
  const changes: RegistryChange[] = [];
  r.changes$.subscribe((c) => changes.push(c));
  for (const id of ['a', 'b', 'c']) r.addDer(pv(id));
  return { r, changes };
}

describe('Registry', () => {
  it('creates groups over existing DERs and finds them by mRID or name', () => {
    const { r } = setup();
    r.createGroup({ mRID: 'g1', names: ['DG1'], members: ['a', 'b'] });
    expect(r.findGroup('DG1')?.mRID).toBe('g1');
    expect([...r.groupsOf('a')]).toEqual(['g1']);
  });

  it('refuses unknown members, duplicate ids and taken names, leaving state intact', () => {
    const { r } = setup();
    r.createGroup({ mRID: 'g1', names: ['DG1'], members: ['a'] });
    expect(codeOf(() => r.createGroup({ mRID: 'g2', members: ['zzz'] }))).toBe('NOT_FOUND');
    expect(codeOf(() => r.createGroup({ mRID: 'g1' }))).toBe('ALREADY_EXISTS');
    expect(codeOf(() => r.createGroup({ mRID: 'g3', names: ['DG1'] }))).toBe('ALREADY_EXISTS');
    expect(codeOf(() => r.addDer(pv('a')))).toBe('ALREADY_EXISTS');
    expect(codeOf(() => r.changeGroup('g1', { addMembers: ['nope'] }))).toBe('NOT_FOUND');
    expect(r.group('g2')).toBeUndefined();
    expect(r.group('g1')?.members).toEqual(['a']);
  });

  it('bumps minor on membership change and revision otherwise, and reports what changed', () => {
    const { r, changes } = setup();
    r.createGroup({ mRID: 'g1', members: ['a'] });
    const g = r.changeGroup('g1', { addMembers: ['b', 'c'], removeMembers: ['a'] });
    expect(g.version).toEqual({ major: 1, minor: 1, revision: 0 });
    const last = changes.at(-1)!;
    expect(last.type === 'groupChanged' && [last.added, last.removed]).toEqual([['b', 'c'], ['a']]);
    expect(r.changeGroup('g1', { description: 'north feeder' }).version).toEqual({ major: 1, minor: 1, revision: 1 });
    expect(r.changeGroup('g1', { members: ['a'] }).members).toEqual(['a']);
    expect(codeOf(() => r.changeGroup('g1', { members: ['a'], addMembers: ['b'] }))).toBe('INVALID_INPUT');
  });

  it('removing a DER takes it out of its groups first', () => {
    const { r } = setup();
    r.createGroup({ mRID: 'g1', members: ['a', 'b'] });
    r.removeDer('a');
    expect(r.group('g1')?.members).toEqual(['b']);
    expect(r.der('a')).toBeUndefined();
  });

  it('deletes groups', () => {
    const { r } = setup();
    r.createGroup({ mRID: 'g1', members: ['a'] });
    r.deleteGroup('g1');
    expect(r.groupsOf('a').size).toBe(0);
    expect(codeOf(() => r.deleteGroup('g1'))).toBe('NOT_FOUND');
  });
});
