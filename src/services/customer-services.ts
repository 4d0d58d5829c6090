import { Administration } from './administration.js';
import type { CustomerServicesDeps, ServiceContext } from './context.js';
import { DerRegistry } from './der-registry.js';
import { GroupRequests } from './group-requests.js';
import { Notifier } from './notify.js';
import { Registration } from './registration.js';
import { Scope } from './scope.js';
import { Settlement } from './settlement.js';

export type { CustomerServicesDeps } from './context.js';
export { eligibilityIssues, type HostingCheck } from './registration.js';

/**
 * Customer services around the DERMS (the flows of the EPRI report, and group formation and
 * dissolution requests). Every operation takes the actor, checks its role and scope, and commits
 * its records, audit entries, registry changes and outbox messages in one transaction.
 */
export class CustomerServices {
  readonly admin: Administration;
  readonly registration: Registration;
  readonly ders: DerRegistry;
  readonly groups: GroupRequests;
  readonly settlement: Settlement;

  constructor(deps: CustomerServicesDeps) {
    const clock = deps.clock ?? { now: () => Date.now() };
    const now = (): number => clock.now();
    const c: ServiceContext = { store: deps.store, deps, now, scope: new Scope(), notify: new Notifier(now) };
    this.admin = new Administration(c);
    this.registration = new Registration(c);
    this.ders = new DerRegistry(c);
    this.groups = new GroupRequests(c);
    this.settlement = new Settlement(c);
  }
}
