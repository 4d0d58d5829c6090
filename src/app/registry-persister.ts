import { AsyncResource } from 'node:async_hooks';
import type { Subscription } from 'rxjs';
import type { Registry, RegistryChange } from '../core/registry.js';
import type { DermsStore } from '../store/index.js';

/**
 * Writes registry changes made outside `DurableRegistry` (the CIM facade, the dashboard) to the
 * store, in order. `flush()` resolves once every change so far is committed, so an HTTP reply can
 * wait for it: nothing is acknowledged before it is durable. Changes `DurableRegistry` already
 * committed (customer services) are recognised by the stored copy being equal and not written
 * twice.
 */
export class RegistryPersister {
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private readonly sub: Subscription;
  written = 0;

  constructor(
    registry: Registry,
    private readonly store: DermsStore,
    private readonly log: (line: string) => void,
    private readonly reason = 'changed through the CIM API or the dashboard',
  ) {
    // Writes run in the async context this object was made in: a change that DurableRegistry makes
    // inside a store transaction is checked after that transaction, not (deadlocking) inside it.
    const outside = new AsyncResource('RegistryPersister');
    this.sub = registry.changes$.subscribe((c) =>
      outside.runInAsyncScope(() => {
        this.chain = this.chain.then(
          () => this.write(c),
          () => this.write(c),
        );
        this.chain.catch((e: unknown) => {
          this.failure = e instanceof Error ? e : new Error(String(e));
          this.log(`could not store a registry change (${c.type}): ${this.failure.message}`);
        });
      }),
    );
  }

  /** Resolves when every change so far is committed; rejects (once) if one could not be. */
  async flush(): Promise<void> {
    await this.chain.catch(() => undefined);
    const f = this.failure;
    this.failure = null;
    if (f) throw f;
  }

  stop(): void {
    this.sub.unsubscribe();
  }

  private async write(c: RegistryChange): Promise<void> {
    switch (c.type) {
      case 'derAdded':
      case 'derUpdated':
        await this.store.ders.save(c.der); // writes only what differs
        break;
      case 'derRemoved':
        if (await this.store.ders.get(c.der.mRID)) await this.store.deleteDer(c.der.mRID);
        break;
      case 'groupCreated':
      case 'groupChanged': {
        const stored = await this.store.groups.get(c.group.mRID);
        if (stored?.active && JSON.stringify(stored.group) === JSON.stringify(c.group)) return;
        await this.store.saveGroup(c.group, this.reason);
        break;
      }
      case 'groupDeleted': {
        const stored = await this.store.groups.get(c.group.mRID);
        if (!stored?.active) return;
        await this.store.deleteGroup(c.group.mRID, this.reason);
        break;
      }
    }
    this.written++;
  }
}
