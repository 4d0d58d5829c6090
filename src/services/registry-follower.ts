import type { Registry } from '../core/registry.js';
import type { OutboxHandler } from '../store/outbox-relay.js';
import type { DermsStore } from '../store/store.js';
import type { RegistryChangeMessage } from './topics.js';

/**
 * Keeps a DERMS instance's registry in step with changes customer services made elsewhere
 * (distributed deployment): for each message on the instance's registry topic, the DER or group is
 * read back from the store and the registry brought to match it. Idempotent, so at-least-once
 * delivery is fine; a group whose members have not arrived yet takes them from the store.
 */
export function registryFollower(store: DermsStore, registry: Registry): OutboxHandler {
  const syncDer = async (derId: string): Promise<void> => {
    const rec = await store.ders.get(derId);
    const here = registry.der(derId);
    if (rec?.managed) {
      if (!here) registry.addDer(rec.der);
      else if (JSON.stringify(here) !== JSON.stringify(rec.der)) registry.updateDer(rec.der);
    } else if (here) registry.removeDer(derId);
  };
  return async (m) => {
    const p = m.payload as RegistryChangeMessage;
    if (p.change === 'der') return syncDer(p.derId);
    const rec = await store.groups.get(p.groupId);
    const here = registry.group(p.groupId);
    if (!rec?.active) {
      if (here) registry.deleteGroup(p.groupId);
      return;
    }
    for (const d of rec.group.members) if (!registry.der(d)) await syncDer(d);
    if (here && JSON.stringify(here) === JSON.stringify(rec.group)) return;
    if (here) registry.deleteGroup(p.groupId);
    registry.createGroup(rec.group);
  };
}
