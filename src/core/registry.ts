import { Subject, type Observable } from 'rxjs';
import { DermsError, NotFoundError } from './errors.js';
import { parseDer, type Der } from './model/der.js';
import { z } from 'zod';
import { mrid } from './model/der.js';
import { derFunctionNames, groupSchema, parseGroup, type DerFunctions, type DerGroup } from './model/group.js';
import { parseWith } from './model/validate.js';

export type RegistryChange =
  | { readonly type: 'derAdded'; readonly der: Der }
  | { readonly type: 'derUpdated'; readonly der: Der; readonly previous: Der }
  | { readonly type: 'derRemoved'; readonly der: Der }
  | { readonly type: 'groupCreated'; readonly group: DerGroup }
  | { readonly type: 'groupChanged'; readonly group: DerGroup; readonly previous: DerGroup; readonly added: readonly string[]; readonly removed: readonly string[] }
  | { readonly type: 'groupDeleted'; readonly group: DerGroup };

const groupChangeSchema = z
  .object({
    names: z.array(z.string().min(1).max(256)).optional(),
    description: z.string().max(4096).optional(),
    // Only the flags given change: no defaults here (the group schema's would reset the others to false).
    functions: z.object(Object.fromEntries(derFunctionNames.map((n) => [n, z.boolean().optional()]))).strict().optional(),
    addMembers: z.array(mrid).optional(),
    removeMembers: z.array(mrid).optional(),
    /** Replace the whole member list (CIM change messages carry the full list). */
    members: z.array(mrid).optional(),
  })
  .strict()
  .refine((c) => !(c.members && (c.addMembers || c.removeMembers)), 'give members, or addMembers/removeMembers, not both');
export type GroupChange = z.input<typeof groupChangeSchema>;

/**
 * The DERs the system knows and the groups they form. Every mutation validates its input,
 * keeps membership consistent (members must exist), bumps the group version (minor on membership,
 * revision otherwise) and is announced on `changes$`.
 */
export class Registry {
  private readonly ders = new Map<string, Der>();
  private readonly groups = new Map<string, DerGroup>();
  private readonly groupsOfDer = new Map<string, Set<string>>();
  private readonly changes = new Subject<RegistryChange>();
  readonly changes$: Observable<RegistryChange> = this.changes.asObservable();

  der(mRID: string): Der | undefined {
    return this.ders.get(mRID);
  }
  requireDer(mRID: string): Der {
    const d = this.ders.get(mRID);
    if (!d) throw new NotFoundError('DER', mRID);
    return d;
  }
  allDers(): IterableIterator<Der> {
    return this.ders.values();
  }
  group(mRID: string): DerGroup | undefined {
    return this.groups.get(mRID);
  }
  /** Find a group by mRID or by one of its names (CIM messages use either). */
  findGroup(idOrName: string): DerGroup | undefined {
    const byId = this.groups.get(idOrName);
    if (byId) return byId;
    for (const g of this.groups.values()) if (g.names.includes(idOrName)) return g;
    return undefined;
  }
  requireGroup(idOrName: string): DerGroup {
    const g = this.findGroup(idOrName);
    if (!g) throw new NotFoundError('DER group', idOrName);
    return g;
  }
  allGroups(): IterableIterator<DerGroup> {
    return this.groups.values();
  }
  groupsOf(derId: string): ReadonlySet<string> {
    return this.groupsOfDer.get(derId) ?? new Set();
  }

  addDer(input: unknown): Der {
    const der = parseDer(input);
    if (this.ders.has(der.mRID)) throw new DermsError('ALREADY_EXISTS', `DER ${JSON.stringify(der.mRID)} already exists`);
    this.ders.set(der.mRID, der);
    this.groupsOfDer.set(der.mRID, new Set());
    this.changes.next({ type: 'derAdded', der });
    return der;
  }

  updateDer(input: unknown): Der {
    const der = parseDer(input);
    const previous = this.requireDer(der.mRID);
    this.ders.set(der.mRID, der);
    this.changes.next({ type: 'derUpdated', der, previous });
    return der;
  }

  /** Remove a DER; it leaves every group it was in first, each with a version bump. */
  removeDer(mRID: string): void {
    const der = this.requireDer(mRID);
    for (const g of [...this.groupsOf(mRID)]) this.changeGroup(g, { removeMembers: [mRID] });
    this.ders.delete(mRID);
    this.groupsOfDer.delete(mRID);
    this.changes.next({ type: 'derRemoved', der });
  }

  createGroup(input: unknown): DerGroup {
    const group = parseGroup(input);
    if (this.groups.has(group.mRID)) throw new DermsError('ALREADY_EXISTS', `DER group ${JSON.stringify(group.mRID)} already exists`);
    this.checkNamesFree(group.names, group.mRID);
    this.checkMembersExist(group.members);
    this.groups.set(group.mRID, group);
    for (const m of group.members) this.groupsOfDer.get(m)!.add(group.mRID);
    this.changes.next({ type: 'groupCreated', group });
    return group;
  }

  changeGroup(idOrName: string, change: GroupChange): DerGroup {
    const c = parseWith(groupChangeSchema, change, 'group change');
    const previous = this.requireGroup(idOrName);
    let members = previous.members;
    if (c.members) members = [...new Set(c.members)];
    if (c.addMembers || c.removeMembers) {
      const drop = new Set(c.removeMembers ?? []);
      const missing = [...drop].filter((m) => !previous.members.includes(m));
      if (missing.length) throw new DermsError('NOT_FOUND', `not members of ${previous.mRID}: ${missing.join(', ')}`);
      members = previous.members.filter((m) => !drop.has(m));
      for (const m of c.addMembers ?? []) if (!members.includes(m)) members.push(m);
    }
    this.checkMembersExist(members);
    if (c.names) this.checkNamesFree(c.names, previous.mRID);
    const before = new Set(previous.members);
    const after = new Set(members);
    const added = members.filter((m) => !before.has(m));
    const removed = previous.members.filter((m) => !after.has(m));
    const functions: DerFunctions = { ...previous.functions, ...(c.functions as Partial<DerFunctions> | undefined) };
    const v = previous.version;
    const version = added.length || removed.length ? { major: v.major, minor: v.minor + 1, revision: 0 } : { ...v, revision: v.revision + 1 };
    const group = parseWith(groupSchema, {
      ...previous,
      names: c.names ?? previous.names,
      description: c.description ?? previous.description,
      functions,
      members,
      version,
    }, 'DER group');
    this.groups.set(group.mRID, group);
    for (const m of added) this.groupsOfDer.get(m)!.add(group.mRID);
    for (const m of removed) this.groupsOfDer.get(m)?.delete(group.mRID);
    this.changes.next({ type: 'groupChanged', group, previous, added, removed });
    return group;
  }

  deleteGroup(idOrName: string): DerGroup {
    const group = this.requireGroup(idOrName);
    this.groups.delete(group.mRID);
    for (const m of group.members) this.groupsOfDer.get(m)?.delete(group.mRID);
    this.changes.next({ type: 'groupDeleted', group });
    return group;
  }

  private checkMembersExist(members: readonly string[]): void {
    const missing = members.filter((m) => !this.ders.has(m));
    if (missing.length) {
      const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
      throw new DermsError('NOT_FOUND', `unknown DER${missing.length > 1 ? 's' : ''}: ${shown}`);
    }
  }

  private checkNamesFree(names: readonly string[], self: string): void {
    for (const g of this.groups.values()) {
      if (g.mRID === self) continue;
      const clash = names.find((n) => n === g.mRID || g.names.includes(n));
      if (clash) throw new DermsError('ALREADY_EXISTS', `group name ${JSON.stringify(clash)} is taken by ${g.mRID}`);
    }
  }
}
