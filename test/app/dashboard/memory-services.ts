import type { Subscription } from 'rxjs';
import type { ApplicationAction, ApplicationSummary, DashboardServices, MembershipEntry } from '../../../src/app/dashboard/index.js';
import { DermsError } from '../../../src/core/errors.js';
import type { Registry } from '../../../src/core/registry.js';

/** Decisions each state allows, as the store's application lifecycle has them. */
const next: Record<string, Partial<Record<ApplicationAction, string>>> = {
  submitted: { reject: 'rejected' },
  'under-review': { approve: 'approved', hold: 'held-for-upgrade', reject: 'rejected' },
  'held-for-upgrade': { approve: 'approved', reject: 'rejected' },
};

/**
 * The dashboard's services interface over memory, for tests only: an application queue with the
 * decisions each state allows, and the membership history the registry's changes write.
 */
export class MemoryServices implements DashboardServices {
  readonly apps = new Map<string, ApplicationSummary>();
  readonly history: MembershipEntry[] = [];
  private readonly sub: Subscription;

  constructor(
    registry: Registry,
    private readonly now: () => number,
    apps: readonly ApplicationSummary[],
  ) {
    for (const a of apps) this.apps.set(a.id, a);
    this.sub = registry.changes$.subscribe((c) => {
      const at = now();
      if (c.type === 'groupCreated') for (const m of c.group.members) this.history.push({ groupId: c.group.mRID, derId: m, change: 'joined', at, reason: 'group created' });
      if (c.type === 'groupChanged') {
        for (const m of c.added) this.history.push({ groupId: c.group.mRID, derId: m, change: 'joined', at, reason: 'membership change' });
        for (const m of c.removed) this.history.push({ groupId: c.group.mRID, derId: m, change: 'left', at, reason: 'membership change' });
      }
      if (c.type === 'groupDeleted') for (const m of c.group.members) this.history.push({ groupId: c.group.mRID, derId: m, change: 'left', at, reason: 'group deleted' });
    });
  }

  listApplications(): ApplicationSummary[] {
    return [...this.apps.values()].sort((a, b) => a.submittedAt - b.submittedAt);
  }

  async decide(id: string, action: ApplicationAction, reason: string): Promise<ApplicationSummary> {
    const a = this.apps.get(id);
    if (!a) throw new DermsError('NOT_FOUND', `application ${JSON.stringify(id)} does not exist`);
    const to = next[a.state]?.[action];
    if (!to) throw new DermsError('CONFLICT', `application ${id} is ${a.state}: it cannot be ${action === 'hold' ? 'held' : `${action}d`}`);
    const updated = { ...a, state: to, updatedAt: this.now(), note: reason || null };
    this.apps.set(id, updated);
    return updated;
  }

  membershipHistory(groupId?: string): MembershipEntry[] {
    return this.history.filter((e) => !groupId || e.groupId === groupId).reverse();
  }

  close(): void {
    this.sub.unsubscribe();
  }
}

export function sampleApplications(t0: number): ApplicationSummary[] {
  const app = (id: string, customer: string, derKind: string, ratingW: number, feeder: string, state: string, minutes: number): ApplicationSummary => ({
    id,
    customer,
    derId: null,
    derKind,
    ratingW,
    feeder,
    tariff: derKind === 'pv' ? 'NEM-2' : 'Storage dispatch',
    state,
    submittedAt: t0 - minutes * 60_000,
    updatedAt: t0 - minutes * 30_000,
    note: null,
  });
  return [
    app('APP-1041', 'R. Alvarez, 4 Birch Ct', 'pv', 7_600, 'feeder-a', 'under-review', 300),
    app('APP-1042', 'Golden Elementary', 'battery', 60_000, 'feeder-a', 'under-review', 240),
    app('APP-1043', 'M. Chen, 19 Ash St', 'hybrid', 11_400, 'feeder-b', 'held-for-upgrade', 180),
    app('APP-1044', 'Clear Creek Clinic', 'pv', 25_000, 'feeder-b', 'submitted', 60),
  ];
}
