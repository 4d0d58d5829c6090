import { DermsError } from '../core/errors.js';
import type { Der } from '../core/model/der.js';
import type { DerGroup } from '../core/model/group.js';
import { Registry, type GroupChange } from '../core/registry.js';
import type { AuditActor } from './repos/context.js';
import type { GroupChangeContext, GroupOwnership } from './repos/groups.js';
import { SerialQueue } from './sql.js';
import type { DermsStore, StoreTx } from './store.js';

/**
 * The core's registry as stored: the managed DER and active groups (of one DERMS instance when
 * given, for distributed deployments). Fails on a stored group whose members are not managed,
 * which the store's write-through never produces.
 */
export async function loadRegistry(store: DermsStore, o: { dermsInstance?: string; into?: Registry } = {}): Promise<Registry> {
  const registry = o.into ?? new Registry();
  const instance = o.dermsInstance;
  const ders = instance === undefined ? await store.loadDers() : (await store.ders.list({ managed: true, dermsInstance: instance })).map((r) => r.der);
  for (const d of ders) registry.addDer(d);
  const groups = instance === undefined ? await store.loadGroups() : (await store.groups.list({ active: true, dermsInstance: instance })).map((g) => g.group);
  for (const g of groups) {
    try {
      registry.createGroup(g);
    } catch (e) {
      throw new DermsError('CONFLICT', `stored group ${g.mRID} cannot be loaded: ${(e as Error).message}`);
    }
  }
  return registry;
}

/** Registry mutations inside a `DurableRegistry.change`: each is applied to the core and written in the transaction. */
export interface RegistryOps {
  readonly registry: Registry;
  addDer(input: unknown): Promise<Der>;
  updateDer(input: unknown): Promise<Der>;
  removeDer(mRID: string, why: GroupChangeContext): Promise<Der>;
  createGroup(input: unknown, why: GroupChangeContext, ownership?: GroupOwnership): Promise<DerGroup>;
  changeGroup(idOrName: string, change: GroupChange, why: GroupChangeContext): Promise<DerGroup>;
  deleteGroup(idOrName: string, why: GroupChangeContext): Promise<DerGroup>;
}

/**
 * Write-through for the core's registry: a change is validated and applied by the registry, written
 * to the store in the same transaction as whatever else the caller writes (audit, outbox), and only
 * then acknowledged. If the transaction fails the registry is put back as it was (the same DER and
 * groups, groups with their versions), so memory never keeps what the store does not.
 * Changes run one at a time, so the registry moves in the order the store commits.
 */
export class DurableRegistry {
  private readonly queue = new SerialQueue();

  constructor(
    readonly registry: Registry,
    private readonly store: DermsStore,
  ) {}

  change<T>(fn: (ops: RegistryOps, tx: StoreTx) => Promise<T>, actor?: AuditActor): Promise<T> {
    return this.queue.run(async () => {
      const undo: Array<() => void> = [];
      try {
        return await this.store.transaction((tx) => fn(this.ops(tx, undo), tx), actor);
      } catch (e) {
        for (const u of undo.reverse()) u();
        throw e;
      }
    });
  }

  addDer(input: unknown, actor?: AuditActor): Promise<Der> {
    return this.change((ops) => ops.addDer(input), actor);
  }
  updateDer(input: unknown, actor?: AuditActor): Promise<Der> {
    return this.change((ops) => ops.updateDer(input), actor);
  }
  removeDer(mRID: string, why: GroupChangeContext, actor?: AuditActor): Promise<Der> {
    return this.change((ops) => ops.removeDer(mRID, why), actor);
  }
  createGroup(input: unknown, why: GroupChangeContext, ownership?: GroupOwnership, actor?: AuditActor): Promise<DerGroup> {
    return this.change((ops) => ops.createGroup(input, why, ownership), actor);
  }
  changeGroup(idOrName: string, change: GroupChange, why: GroupChangeContext, actor?: AuditActor): Promise<DerGroup> {
    return this.change((ops) => ops.changeGroup(idOrName, change, why), actor);
  }
  deleteGroup(idOrName: string, why: GroupChangeContext, actor?: AuditActor): Promise<DerGroup> {
    return this.change((ops) => ops.deleteGroup(idOrName, why), actor);
  }

  private ops(tx: StoreTx, undo: Array<() => void>): RegistryOps {
    const r = this.registry;
    const restoreGroup = (g: DerGroup) => () => {
      if (r.group(g.mRID)) r.deleteGroup(g.mRID);
      r.createGroup(g);
    };
    return {
      registry: r,
      async addDer(input) {
        const der = r.addDer(input);
        undo.push(() => r.removeDer(der.mRID));
        await tx.ders.save(der);
        return der;
      },
      async updateDer(input) {
        const previous = r.requireDer((input as { mRID?: string } | null)?.mRID ?? '');
        const der = r.updateDer(input);
        undo.push(() => r.updateDer(previous));
        await tx.ders.updateSpec(der);
        return der;
      },
      async removeDer(mRID, why) {
        const der = r.requireDer(mRID);
        const groups = [...r.groupsOf(mRID)].map((id) => r.group(id)!);
        r.removeDer(mRID);
        undo.push(() => {
          r.addDer(der);
          for (const g of groups) restoreGroup(g)();
        });
        for (const g of groups) await tx.groups.save(r.group(g.mRID)!, why);
        await tx.ders.setManaged(mRID, false);
        return der;
      },
      async createGroup(input, why, ownership) {
        const g = r.createGroup(input);
        undo.push(() => r.deleteGroup(g.mRID));
        await tx.groups.save(g, why, ownership);
        return g;
      },
      async changeGroup(idOrName, change, why) {
        const previous = r.requireGroup(idOrName);
        const g = r.changeGroup(idOrName, change);
        undo.push(restoreGroup(previous));
        await tx.groups.save(g, why);
        return g;
      },
      async deleteGroup(idOrName, why) {
        const g = r.deleteGroup(idOrName);
        undo.push(() => r.createGroup(g));
        await tx.groups.delete(g.mRID, why);
        return g;
      },
    };
  }
}
