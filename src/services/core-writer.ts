import { NotFoundError } from '../core/errors.js';
import type { Der } from '../core/model/der.js';
import type { DerGroup } from '../core/model/group.js';
import { Registry, type GroupChange } from '../core/registry.js';
import type { DurableRegistry, RegistryOps } from '../store/durable-registry.js';
import type { AuditActor } from '../store/repos/context.js';
import type { DerRecord } from '../store/records.js';
import type { GroupChangeContext, GroupOwnership } from '../store/repos/groups.js';
import type { DermsStore, StoreTx } from '../store/store.js';
import { registryTopic, type RegistryChangeMessage } from './topics.js';

/**
 * Where customer services puts what it hands to the DERMS. A DER or group of this process's
 * DERMS instance goes into the core's registry through the write-through layer; one of another
 * instance (distributed deployment) is written to the store and announced on that instance's
 * registry topic, for its RegistryFollower. Either way the core's own rules (members exist,
 * versions) decide the result: a remote change is computed on a scratch registry of just the
 * records involved.
 */
export interface CoreWriter {
  addDer(der: Der, dermsInstance: string | null): Promise<void>;
  removeDer(derId: string, dermsInstance: string | null, why: GroupChangeContext): Promise<void>;
  createGroup(group: DerGroup, dermsInstance: string | null, why: GroupChangeContext, ownership: GroupOwnership): Promise<DerGroup>;
  changeGroup(groupId: string, dermsInstance: string | null, change: GroupChange, why: GroupChangeContext): Promise<{ group: DerGroup; previous: DerGroup }>;
  deleteGroup(groupId: string, dermsInstance: string | null, why: GroupChangeContext): Promise<DerGroup>;
}

export interface CoreTarget {
  /** The core's registry in this process; absent in a customer-services-only process. */
  readonly registry?: DurableRegistry;
  /** This process's DERMS instance; undefined in a centralized deployment. */
  readonly dermsInstance?: string;
}

/** The DERMS instance that manages a DER: its feeder's (null: the central one, or not on a feeder). */
export async function dermsInstanceOf(tx: StoreTx, der: DerRecord): Promise<string | null> {
  const sp = der.servicePointId ? await tx.customers.servicePoint(der.servicePointId) : undefined;
  return sp ? ((await tx.feeders.get(sp.feederId))?.dermsInstance ?? null) : null;
}

/** Run `fn` in one transaction with a CoreWriter; serialized with the local registry's other changes. */
export function writeCore<T>(store: DermsStore, target: CoreTarget, actor: AuditActor, fn: (tx: StoreTx, core: CoreWriter) => Promise<T>): Promise<T> {
  const local = (instance: string | null): boolean => target.registry !== undefined && (instance === null || instance === target.dermsInstance);
  if (target.registry) return target.registry.change((ops, tx) => fn(tx, writer(tx, local, ops)), actor);
  return store.transaction((tx) => fn(tx, writer(tx, local, undefined)), actor);
}

function writer(tx: StoreTx, local: (instance: string | null) => boolean, ops: RegistryOps | undefined): CoreWriter {
  const announce = async (instance: string | null, m: RegistryChangeMessage): Promise<void> => {
    if (instance !== null) await tx.outbox.enqueue({ topic: registryTopic(instance), key: m.change === 'der' ? `der:${m.derId}` : `group:${m.groupId}`, payload: m });
  };
  /** A registry holding a stored group and the DER it names, to apply the core's rules away from the core. */
  const scratch = async (members: readonly string[], group?: DerGroup): Promise<Registry> => {
    const r = new Registry();
    for (const rec of await tx.ders.list({ ids: [...new Set(members)], managed: true })) r.addDer(rec.der);
    if (group) r.createGroup(group);
    return r;
  };
  const stored = async (groupId: string): Promise<DerGroup> => {
    const rec = await tx.groups.require(groupId, { lock: true });
    if (!rec.active) throw new NotFoundError('DER group', groupId);
    return rec.group;
  };
  return {
    async addDer(der, instance) {
      if (ops && local(instance)) {
        await ops.addDer(der);
        return;
      }
      await tx.ders.save(der);
      await announce(instance, { change: 'der', derId: der.mRID });
    },
    async removeDer(derId, instance, why) {
      if (ops && local(instance)) {
        await ops.removeDer(derId, why);
        return;
      }
      for (const groupId of await tx.groups.ofDer(derId)) {
        const previous = await stored(groupId);
        const r = await scratch(previous.members, previous);
        await tx.groups.save(r.changeGroup(groupId, { removeMembers: [derId] }), why);
        await announce(instance, { change: 'group', groupId });
      }
      await tx.ders.setManaged(derId, false);
      await announce(instance, { change: 'der', derId });
    },
    async createGroup(group, instance, why, ownership) {
      if (ops && local(instance)) return ops.createGroup(group, why, ownership);
      const created = (await scratch(group.members)).createGroup(group);
      await tx.groups.save(created, why, ownership);
      await announce(instance, { change: 'group', groupId: created.mRID });
      return created;
    },
    async changeGroup(groupId, instance, change, why) {
      if (ops && local(instance)) {
        const previous = ops.registry.requireGroup(groupId);
        return { group: await ops.changeGroup(groupId, change, why), previous };
      }
      const previous = await stored(groupId);
      const r = await scratch([...previous.members, ...(change.addMembers ?? []), ...(change.members ?? [])], previous);
      const group = r.changeGroup(groupId, change);
      await tx.groups.save(group, why);
      await announce(instance, { change: 'group', groupId });
      return { group, previous };
    },
    async deleteGroup(groupId, instance, why) {
      if (ops && local(instance)) return ops.deleteGroup(groupId, why);
      const previous = await stored(groupId);
      await tx.groups.delete(groupId, why);
      await announce(instance, { change: 'group', groupId });
      return previous;
    },
  };
}
