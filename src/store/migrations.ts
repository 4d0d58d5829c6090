import { DermsError } from '../core/errors.js';
import { APPEND_ONLY, type Dialect, type SqlDatabase } from './sql.js';

/** A statement in the portable subset, or one spelled per engine where they differ (triggers). */
type Statement = string | { readonly sqlite: string | null; readonly postgres: string | null };

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly statements: readonly Statement[];
}

/** Auto-numbered primary key; AUTOINCREMENT so SQLite never reuses an id (outbox and logs are ordered by id). */
const SERIAL: Record<Dialect, string> = {
  sqlite: 'INTEGER PRIMARY KEY AUTOINCREMENT',
  postgres: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY',
};

/** Refuse UPDATE and DELETE on a history table in the engine itself, not only in our code. */
function appendOnly(table: string): Statement[] {
  return [
    {
      sqlite: `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table} BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY} ${table}'); END`,
      postgres: `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION derms_append_only()`,
    },
    {
      sqlite: `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} BEGIN SELECT RAISE(ABORT, '${APPEND_ONLY} ${table}'); END`,
      postgres: null,
    },
  ];
}

export const applicationStates = [
  'submitted',
  'under-review',
  'held-for-upgrade',
  'approved',
  'installation-verified',
  'connected',
  'rejected',
  'withdrawn',
] as const;

export const roles = ['dso-admin', 'dso-support', 'dso-engineering', 'dso-operations', 'provider', 'customer'] as const;

const quoted = (xs: readonly string[]): string => xs.map((x) => `'${x}'`).join(', ');

/** The schema, version by version. Never edit a published migration: add the next one. */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'customer services and registry',
    statements: [
      {
        sqlite: null,
        postgres: `CREATE FUNCTION derms_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '${APPEND_ONLY} %', TG_TABLE_NAME; END $$`,
      },
      `CREATE TABLE organizations (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('dso', 'provider')),
        created_at BIGINT NOT NULL)`,
      `CREATE TABLE customers (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        email TEXT,
        provider_org_id TEXT REFERENCES organizations(id),
        created_at BIGINT NOT NULL)`,
      `CREATE TABLE users (
        id TEXT PRIMARY KEY,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN (${quoted(roles)})),
        customer_id TEXT REFERENCES customers(id),
        created_at BIGINT NOT NULL,
        CHECK ((role = 'customer') = (customer_id IS NOT NULL)))`,
      `CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL REFERENCES users(id),
        token_hash TEXT NOT NULL UNIQUE,
        label TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        revoked_at BIGINT)`,
      `CREATE TABLE feeders (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hosting_limit_w DOUBLE PRECISION NOT NULL CHECK (hosting_limit_w >= 0),
        derms_instance TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)`,
      `CREATE TABLE service_points (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        address TEXT NOT NULL,
        feeder_id TEXT NOT NULL REFERENCES feeders(id),
        phase TEXT NOT NULL CHECK (phase IN ('A', 'B', 'C', 'AB', 'BC', 'CA', 'ABC')),
        created_at BIGINT NOT NULL)`,
      'CREATE INDEX service_points_customer ON service_points(customer_id)',
      `CREATE TABLE tariffs (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        spec TEXT NOT NULL,
        created_at BIGINT NOT NULL)`,
      `CREATE TABLE ders (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        kind TEXT NOT NULL,
        rated_w DOUBLE PRECISION NOT NULL,
        customer_id TEXT REFERENCES customers(id),
        service_point_id TEXT REFERENCES service_points(id),
        provider_org_id TEXT REFERENCES organizations(id),
        managed INTEGER NOT NULL CHECK (managed IN (0, 1)),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)`,
      'CREATE INDEX ders_customer ON ders(customer_id)',
      'CREATE INDEX ders_provider ON ders(provider_org_id)',
      'CREATE INDEX ders_service_point ON ders(service_point_id)',
      `CREATE TABLE der_provider_history (
        id {{serial}},
        der_id TEXT NOT NULL REFERENCES ders(id),
        provider_org_id TEXT REFERENCES organizations(id),
        at BIGINT NOT NULL,
        by_user_id TEXT,
        reason TEXT NOT NULL)`,
      'CREATE INDEX der_provider_history_der ON der_provider_history(der_id, id)',
      ...appendOnly('der_provider_history'),
      `CREATE TABLE agreements (
        id TEXT PRIMARY KEY,
        customer_id TEXT NOT NULL REFERENCES customers(id),
        der_id TEXT NOT NULL REFERENCES ders(id),
        tariff_id TEXT NOT NULL REFERENCES tariffs(id),
        accepted_at BIGINT NOT NULL,
        ended_at BIGINT)`,
      'CREATE INDEX agreements_der ON agreements(der_id)',
      'CREATE INDEX agreements_customer ON agreements(customer_id)',
      `CREATE TABLE applications (
        id TEXT PRIMARY KEY,
        der_id TEXT NOT NULL UNIQUE REFERENCES ders(id),
        customer_id TEXT NOT NULL REFERENCES customers(id),
        agreement_id TEXT NOT NULL REFERENCES agreements(id),
        state TEXT NOT NULL CHECK (state IN (${quoted(applicationStates)})),
        reason TEXT,
        submitted_by_user_id TEXT REFERENCES users(id),
        submitted_by_org_id TEXT REFERENCES organizations(id),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)`,
      'CREATE INDEX applications_customer ON applications(customer_id)',
      'CREATE INDEX applications_state ON applications(state)',
      `CREATE TABLE application_transitions (
        id {{serial}},
        application_id TEXT NOT NULL REFERENCES applications(id),
        from_state TEXT,
        to_state TEXT NOT NULL,
        at BIGINT NOT NULL,
        by_user_id TEXT REFERENCES users(id),
        reason TEXT)`,
      'CREATE INDEX application_transitions_app ON application_transitions(application_id, id)',
      ...appendOnly('application_transitions'),
      `CREATE TABLE work_orders (
        id TEXT PRIMARY KEY,
        application_id TEXT NOT NULL REFERENCES applications(id),
        kind TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('open', 'passed', 'failed')),
        checklist TEXT NOT NULL,
        result TEXT,
        created_at BIGINT NOT NULL,
        closed_at BIGINT,
        closed_by_user_id TEXT REFERENCES users(id))`,
      'CREATE INDEX work_orders_application ON work_orders(application_id)',
      `CREATE TABLE der_groups (
        id TEXT PRIMARY KEY,
        spec TEXT NOT NULL,
        owner_org_id TEXT REFERENCES organizations(id),
        tariff_id TEXT REFERENCES tariffs(id),
        derms_instance TEXT,
        active INTEGER NOT NULL CHECK (active IN (0, 1)),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL)`,
      `CREATE TABLE group_members (
        group_id TEXT NOT NULL REFERENCES der_groups(id),
        der_id TEXT NOT NULL REFERENCES ders(id),
        PRIMARY KEY (group_id, der_id))`,
      'CREATE INDEX group_members_der ON group_members(der_id)',
      `CREATE TABLE group_membership_history (
        id {{serial}},
        group_id TEXT NOT NULL REFERENCES der_groups(id),
        der_id TEXT NOT NULL REFERENCES ders(id),
        action TEXT NOT NULL CHECK (action IN ('joined', 'left')),
        at BIGINT NOT NULL,
        request_id TEXT,
        by_user_id TEXT,
        reason TEXT NOT NULL)`,
      'CREATE INDEX group_membership_history_group ON group_membership_history(group_id, id)',
      'CREATE INDEX group_membership_history_der ON group_membership_history(der_id, id)',
      ...appendOnly('group_membership_history'),
      `CREATE TABLE group_requests (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('form', 'dissolve', 'add-members', 'remove-members')),
        group_id TEXT NOT NULL,
        org_id TEXT NOT NULL REFERENCES organizations(id),
        requested_by_user_id TEXT NOT NULL REFERENCES users(id),
        body TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'refused')),
        reasons TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        decided_at BIGINT,
        decided_by_user_id TEXT REFERENCES users(id))`,
      'CREATE INDEX group_requests_org ON group_requests(org_id, created_at)',
      `CREATE TABLE dispatches (
        id TEXT PRIMARY KEY,
        group_id TEXT NOT NULL,
        control_kind TEXT NOT NULL,
        body TEXT NOT NULL,
        state TEXT NOT NULL,
        accepted_at BIGINT NOT NULL,
        ended_at BIGINT,
        end_reason TEXT)`,
      'CREATE INDEX dispatches_group ON dispatches(group_id, accepted_at)',
      `CREATE TABLE dispatch_outcomes (
        id {{serial}},
        dispatch_id TEXT NOT NULL REFERENCES dispatches(id),
        der_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        setpoint_kind TEXT NOT NULL,
        requested_w DOUBLE PRECISION,
        status TEXT NOT NULL,
        detail TEXT)`,
      'CREATE INDEX dispatch_outcomes_dispatch ON dispatch_outcomes(dispatch_id, der_id, at)',
      'CREATE INDEX dispatch_outcomes_der ON dispatch_outcomes(der_id, at)',
      `CREATE TABLE dispatch_events (
        id {{serial}},
        dispatch_id TEXT NOT NULL,
        at BIGINT NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL)`,
      'CREATE INDEX dispatch_events_dispatch ON dispatch_events(dispatch_id, id)',
      ...appendOnly('dispatch_events'),
      `CREATE TABLE energy_rollups (
        der_id TEXT NOT NULL,
        interval_start BIGINT NOT NULL,
        interval_ms BIGINT NOT NULL CHECK (interval_ms > 0),
        out_wh DOUBLE PRECISION NOT NULL CHECK (out_wh >= 0),
        in_wh DOUBLE PRECISION NOT NULL CHECK (in_wh >= 0),
        covered_ms BIGINT NOT NULL,
        PRIMARY KEY (der_id, interval_start))`,
      `CREATE TABLE audit_log (
        id {{serial}},
        at BIGINT NOT NULL,
        actor_user_id TEXT,
        actor_org_id TEXT,
        action TEXT NOT NULL,
        entity_type TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        detail TEXT NOT NULL)`,
      'CREATE INDEX audit_log_entity ON audit_log(entity_type, entity_id, id)',
      ...appendOnly('audit_log'),
      `CREATE TABLE outbox (
        id {{serial}},
        topic TEXT NOT NULL,
        msg_key TEXT,
        payload TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        available_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'dead')),
        claimed_by TEXT,
        claim_until BIGINT,
        last_error TEXT,
        done_at BIGINT)`,
      'CREATE INDEX outbox_ready ON outbox(state, topic, id)',
      'CREATE INDEX outbox_key ON outbox(msg_key, state, id)',
    ],
  },
  {
    version: 2,
    name: 'outbox message ids and coalescing',
    statements: [
      // The sender's own id for a message (to settle it by), and a key under which a newer message
      // replaces an older one still waiting (a status superseded by a newer status).
      'ALTER TABLE outbox ADD COLUMN ext_id TEXT',
      'ALTER TABLE outbox ADD COLUMN coalesce_key TEXT',
      'CREATE INDEX outbox_ext ON outbox(topic, ext_id)',
    ],
  },
];

function text(s: Statement, dialect: Dialect): string | null {
  const t = typeof s === 'string' ? s : s[dialect];
  return t === null ? null : t.replaceAll('{{serial}}', SERIAL[dialect]);
}

/** Advisory lock id so two processes opening one PostgreSQL database migrate one after the other. */
const MIGRATION_LOCK = 619688;

/**
 * Bring the schema up to the newest migration, in one transaction (both engines have
 * transactional DDL, so a failed upgrade leaves the previous schema intact). Idempotent: a store
 * already at the newest version is left alone. A store written by a newer program is refused.
 */
export async function migrate(db: SqlDatabase, list: readonly Migration[] = migrations, now: number = Date.now()): Promise<{ from: number; to: number }> {
  return db.transaction(async (sql) => {
    if (sql.dialect === 'postgres') await sql.get('SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK]);
    await sql.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
    const applied = await sql.all<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    const known = new Map(list.map((m) => [m.version, m]));
    const newest = list.reduce((v, m) => Math.max(v, m.version), 0);
    for (const a of applied) {
      const m = known.get(a.version);
      if (!m) {
        throw new DermsError('UNSUPPORTED', `store ${db.description} has schema version ${a.version}, newer than this program knows (${newest}); upgrade derms`);
      }
      if (m.name !== a.name) {
        throw new DermsError('CONFLICT', `store ${db.description}: migration ${a.version} is "${a.name}" there but "${m.name}" here; not the same schema`);
      }
    }
    const from = applied.reduce((v, a) => Math.max(v, a.version), 0);
    const done = new Set(applied.map((a) => a.version));
    for (const m of [...list].sort((x, y) => x.version - y.version)) {
      if (done.has(m.version)) continue;
      for (const s of m.statements) {
        const t = text(s, sql.dialect);
        if (t !== null) await sql.run(t);
      }
      await sql.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, now]);
    }
    return { from, to: Math.max(from, newest) };
  });
}
