import type { Der } from '../core/model/der.js';
import type { DerGroup } from '../core/model/group.js';
import type { Store } from '../core/ports.js';
import { migrate, migrations } from './migrations.js';
import { OutboxRepo, type OutboxOptions } from './outbox.js';
import { openPostgres } from './postgres.js';
import { ApplicationRepo, WorkOrderRepo } from './repos/applications.js';
import { AuditRepo } from './repos/audit.js';
import { SYSTEM, type AuditActor, type RepoContext } from './repos/context.js';
import { AgreementRepo, DerRepo } from './repos/ders.js';
import { DispatchRepo, EnergyRepo } from './repos/dispatch.js';
import { GroupRepo, GroupRequestRepo, type GroupChangeContext, type GroupOwnership } from './repos/groups.js';
import { FeederRepo, TariffRepo } from './repos/network.js';
import { CustomerRepo, OrgRepo, UserRepo } from './repos/parties.js';
import type { Dialect, Sql, SqlDatabase } from './sql.js';
import { openSqlite } from './sqlite.js';
import { parseStoreUrl, type StoreLocation } from './url.js';

/** Every record kind, on one connection: the whole store outside a transaction, or one transaction. */
export interface StoreTx {
  readonly dialect: Dialect;
  readonly orgs: OrgRepo;
  readonly users: UserRepo;
  readonly customers: CustomerRepo;
  readonly feeders: FeederRepo;
  readonly tariffs: TariffRepo;
  readonly ders: DerRepo;
  readonly agreements: AgreementRepo;
  readonly applications: ApplicationRepo;
  readonly workOrders: WorkOrderRepo;
  readonly groups: GroupRepo;
  readonly groupRequests: GroupRequestRepo;
  readonly dispatches: DispatchRepo;
  readonly energy: EnergyRepo;
  readonly audit: AuditRepo;
  readonly outbox: OutboxRepo;
  /** The same connection (and transaction), with changes recorded against another actor. */
  as(actor: AuditActor): StoreTx;
}

/**
 * The DERMS's durable state: the core's `Store` port (registry, groups, dispatch log) and the
 * customer-services records, on SQLite or PostgreSQL with one schema. Each change writes its audit
 * entry in the same transaction; `transaction` groups several changes (and outbox messages) so
 * they commit together, recorded against `actor`.
 */
export interface DermsStore extends Store, StoreTx {
  readonly description: string;
  /** Schema version after the migrations applied at open. */
  readonly schemaVersion: number;
  transaction<T>(fn: (tx: StoreTx) => Promise<T>, actor?: AuditActor): Promise<T>;
  saveGroup(group: DerGroup, reason: string, ownership?: GroupOwnership & { requestId?: string | null }): Promise<void>;
  deleteGroup(mRID: string, reason: string, o?: { requestId?: string | null }): Promise<void>;
}

export interface StoreOptions {
  /** Timestamps of records; the system clock by default (pass the simulation clock to follow it). */
  readonly clock?: { now(): number };
  readonly outbox?: OutboxOptions;
  /** Errors of idle PostgreSQL connections (the pool reconnects by itself). */
  readonly onError?: (e: Error) => void;
}

function repos(c: RepoContext, outbox: OutboxOptions | undefined): StoreTx {
  return {
    dialect: c.sql.dialect,
    as: (actor) => repos(c.withActor(actor), outbox),
    orgs: new OrgRepo(c),
    users: new UserRepo(c),
    customers: new CustomerRepo(c),
    feeders: new FeederRepo(c),
    tariffs: new TariffRepo(c),
    ders: new DerRepo(c),
    agreements: new AgreementRepo(c),
    applications: new ApplicationRepo(c),
    workOrders: new WorkOrderRepo(c),
    groups: new GroupRepo(c),
    groupRequests: new GroupRequestRepo(c),
    dispatches: new DispatchRepo(c),
    energy: new EnergyRepo(c),
    audit: new AuditRepo(c),
    outbox: new OutboxRepo(c, outbox),
  };
}

class SqlDermsStore implements DermsStore {
  readonly dialect: Dialect;
  // Set from repos() in the constructor.
  declare readonly orgs: OrgRepo;
  declare readonly users: UserRepo;
  declare readonly customers: CustomerRepo;
  declare readonly feeders: FeederRepo;
  declare readonly tariffs: TariffRepo;
  declare readonly ders: DerRepo;
  declare readonly agreements: AgreementRepo;
  declare readonly applications: ApplicationRepo;
  declare readonly workOrders: WorkOrderRepo;
  declare readonly groups: GroupRepo;
  declare readonly groupRequests: GroupRequestRepo;
  declare readonly dispatches: DispatchRepo;
  declare readonly energy: EnergyRepo;
  declare readonly audit: AuditRepo;
  declare readonly outbox: OutboxRepo;
  declare readonly as: (actor: AuditActor) => StoreTx;
  private readonly now: () => number;

  constructor(
    private readonly db: SqlDatabase,
    readonly schemaVersion: number,
    private readonly o: StoreOptions,
  ) {
    this.dialect = db.dialect;
    const clock = o.clock ?? { now: () => Date.now() };
    this.now = () => clock.now();
    Object.assign(this, repos(this.context(db, SYSTEM, false), o.outbox));
  }

  get description(): string {
    return this.db.description;
  }

  transaction<T>(fn: (tx: StoreTx) => Promise<T>, actor: AuditActor = SYSTEM): Promise<T> {
    return this.db.transaction((sql) => fn(repos(this.context(sql, actor, true), this.o.outbox)));
  }

  /** Outside a transaction, `atomic` opens one; inside, it runs on the transaction's connection. */
  private context(sql: Sql, actor: AuditActor, inTransaction: boolean): RepoContext {
    const c: RepoContext = {
      sql,
      actor,
      now: this.now,
      atomic: inTransaction ? (fn) => fn(c) : (fn) => this.db.transaction((tx) => fn(this.context(tx, actor, true))),
      withActor: (other) => this.context(sql, other, inTransaction),
    };
    return c;
  }

  // The core's Store port.
  async loadDers(): Promise<Der[]> {
    return (await this.ders.list({ managed: true })).map((r) => r.der);
  }
  saveDer(der: Der): Promise<void> {
    return this.ders.save(der);
  }
  deleteDer(mRID: string): Promise<void> {
    return this.ders.setManaged(mRID, false);
  }
  async loadGroups(): Promise<DerGroup[]> {
    return (await this.groups.list({ active: true })).map((g) => g.group);
  }
  async saveGroup(group: DerGroup, reason: string, o: GroupOwnership & { requestId?: string | null } = {}): Promise<void> {
    const { requestId, ...ownership } = o;
    const why: GroupChangeContext = { reason, requestId: requestId ?? null };
    await this.groups.save(group, why, ownership);
  }
  async deleteGroup(mRID: string, reason: string, o: { requestId?: string | null } = {}): Promise<void> {
    await this.groups.delete(mRID, { reason, requestId: o.requestId ?? null });
  }
  appendDispatchEvent(event: { dispatchId: string; at: number; type: string; body: unknown }): Promise<void> {
    return this.dispatches.appendEvent(event);
  }
  close(): Promise<void> {
    return this.db.close();
  }
}

/**
 * Open the store at a location (`sqlite:PATH`, `sqlite::memory:`, `postgres://...`), applying any
 * pending migrations first.
 */
export async function openStore(location: string | StoreLocation, o: StoreOptions = {}): Promise<DermsStore> {
  const loc = typeof location === 'string' ? parseStoreUrl(location) : location;
  const db = loc.kind === 'sqlite' ? openSqlite(loc.path) : await openPostgres(loc.url, o.onError ? { onError: o.onError } : {});
  try {
    const { to } = await migrate(db, migrations, (o.clock ?? Date).now());
    return new SqlDermsStore(db, to, o);
  } catch (e) {
    await db.close();
    throw e;
  }
}
