import { createHash, randomBytes } from 'node:crypto';
import { DermsError } from '../../core/errors.js';
import type { Actor, ApiToken, Customer, Organization, OrgKind, Phase, Role, ServicePoint, User } from '../records.js';
import { audit, newId, notFound, where, type RepoContext } from './context.js';

interface OrgRow { id: string; name: string; kind: OrgKind; created_at: number }
const org = (r: OrgRow): Organization => ({ id: r.id, name: r.name, kind: r.kind, createdAt: r.created_at });

export class OrgRepo {
  constructor(private readonly c: RepoContext) {}

  create(o: { id?: string; name: string; kind: OrgKind }): Promise<Organization> {
    return this.c.atomic(async (c) => {
      const row: OrgRow = { id: o.id ?? newId('org'), name: o.name, kind: o.kind, created_at: c.now() };
      await c.sql.run('INSERT INTO organizations (id, name, kind, created_at) VALUES (?, ?, ?, ?)', [row.id, row.name, row.kind, row.created_at]);
      await audit(c, 'organization.created', 'organization', row.id, { name: row.name, kind: row.kind });
      return org(row);
    });
  }

  async get(id: string): Promise<Organization | undefined> {
    const r = await this.c.sql.get<OrgRow>('SELECT * FROM organizations WHERE id = ?', [id]);
    return r && org(r);
  }

  async require(id: string): Promise<Organization> {
    const o = await this.get(id);
    if (!o) throw notFound('organization', id);
    return o;
  }

  async list(f: { kind?: OrgKind } = {}): Promise<Organization[]> {
    const w = where([['kind = ?', f.kind]]);
    return (await this.c.sql.all<OrgRow>(`SELECT * FROM organizations${w.clause} ORDER BY created_at, id`, w.params)).map(org);
  }
}

interface UserRow { id: string; org_id: string; name: string; role: Role; customer_id: string | null; created_at: number }
const user = (r: UserRow): User => ({ id: r.id, orgId: r.org_id, name: r.name, role: r.role, customerId: r.customer_id, createdAt: r.created_at });

interface TokenRow { id: string; user_id: string; label: string; created_at: number; revoked_at: number | null }
const token = (r: TokenRow): ApiToken => ({ id: r.id, userId: r.user_id, label: r.label, createdAt: r.created_at, revokedAt: r.revoked_at });

/** Tokens are kept as SHA-256 digests: a leaked database does not hand out working tokens. */
export function tokenDigest(t: string): string {
  return createHash('sha256').update(t, 'utf8').digest('hex');
}

export const MIN_TOKEN_LENGTH = 24;

export class UserRepo {
  constructor(private readonly c: RepoContext) {}

  /** A user in an organization; the role must fit the organization (DSO roles in a DSO, `provider` in a provider). */
  create(o: { id?: string; orgId: string; name: string; role: Role; customerId?: string | null }): Promise<User> {
    return this.c.atomic(async (c) => {
      const orgRow = await c.sql.get<OrgRow>('SELECT * FROM organizations WHERE id = ?', [o.orgId]);
      if (!orgRow) throw notFound('organization', o.orgId);
      const customerId = o.customerId ?? null;
      if (o.role.startsWith('dso-') && orgRow.kind !== 'dso') throw new DermsError('INVALID_INPUT', `role ${o.role} belongs in a DSO organization; ${o.orgId} is a ${orgRow.kind}`, [{ path: 'role', message: 'not a role of this organization' }]);
      if (o.role === 'provider' && orgRow.kind !== 'provider') throw new DermsError('INVALID_INPUT', `role provider belongs in a provider organization; ${o.orgId} is a DSO`, [{ path: 'role', message: 'not a role of this organization' }]);
      if ((o.role === 'customer') !== (customerId !== null)) {
        throw new DermsError('INVALID_INPUT', 'a customer user needs a customerId, and only a customer user has one', [{ path: 'customerId', message: 'required exactly for role customer' }]);
      }
      if (customerId !== null) {
        const cust = await c.sql.get<{ provider_org_id: string | null }>('SELECT provider_org_id FROM customers WHERE id = ?', [customerId]);
        if (!cust) throw notFound('customer', customerId);
        const served = orgRow.kind === 'dso' ? cust.provider_org_id === null : cust.provider_org_id === orgRow.id;
        if (!served) throw new DermsError('INVALID_INPUT', `customer ${customerId} is not served by organization ${o.orgId}`, [{ path: 'orgId', message: 'not the organization serving this customer' }]);
      }
      const row: UserRow = { id: o.id ?? newId('usr'), org_id: o.orgId, name: o.name, role: o.role, customer_id: customerId, created_at: c.now() };
      await c.sql.run('INSERT INTO users (id, org_id, name, role, customer_id, created_at) VALUES (?, ?, ?, ?, ?, ?)', [row.id, row.org_id, row.name, row.role, row.customer_id, row.created_at]);
      await audit(c, 'user.created', 'user', row.id, { orgId: row.org_id, role: row.role, customerId });
      return user(row);
    });
  }

  async get(id: string): Promise<User | undefined> {
    const r = await this.c.sql.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return r && user(r);
  }

  async list(f: { orgId?: string; role?: Role } = {}): Promise<User[]> {
    const w = where([['org_id = ?', f.orgId], ['role = ?', f.role]]);
    return (await this.c.sql.all<UserRow>(`SELECT * FROM users${w.clause} ORDER BY created_at, id`, w.params)).map(user);
  }

  /**
   * A new bearer token for a user. The token itself is returned once and never stored; pass
   * `value` to install a known one (bootstrap from the environment), at least 24 characters.
   */
  issueToken(userId: string, label: string, value?: string): Promise<{ token: string; record: ApiToken }> {
    return this.c.atomic(async (c) => {
      if (!(await c.sql.get('SELECT 1 AS x FROM users WHERE id = ?', [userId]))) throw notFound('user', userId);
      if (value !== undefined && value.length < MIN_TOKEN_LENGTH) {
        throw new DermsError('INVALID_INPUT', `a token must have at least ${MIN_TOKEN_LENGTH} characters`, [{ path: 'token', message: 'too short' }]);
      }
      const t = value ?? `derms_${randomBytes(24).toString('base64url')}`;
      const row: TokenRow = { id: newId('tok'), user_id: userId, label, created_at: c.now(), revoked_at: null };
      await c.sql.run('INSERT INTO api_tokens (id, user_id, token_hash, label, created_at) VALUES (?, ?, ?, ?, ?)', [row.id, userId, tokenDigest(t), label, row.created_at]);
      await audit(c, 'token.issued', 'user', userId, { tokenId: row.id, label });
      return { token: t, record: token(row) };
    });
  }

  /** The actor a bearer token speaks for, or undefined for an unknown or revoked token. */
  async resolveToken(t: string): Promise<Actor | undefined> {
    const r = await this.c.sql.get<{ user_id: string; org_id: string; kind: OrgKind; role: Role; customer_id: string | null }>(
      `SELECT u.id AS user_id, u.org_id, o.kind, u.role, u.customer_id
       FROM api_tokens t JOIN users u ON u.id = t.user_id JOIN organizations o ON o.id = u.org_id
       WHERE t.token_hash = ? AND t.revoked_at IS NULL`,
      [tokenDigest(t)],
    );
    return r && { userId: r.user_id, orgId: r.org_id, orgKind: r.kind, role: r.role, customerId: r.customer_id };
  }

  revokeToken(id: string): Promise<void> {
    return this.c.atomic(async (c) => {
      const t = await c.sql.get<TokenRow>('SELECT * FROM api_tokens WHERE id = ?', [id]);
      if (!t) throw notFound('token', id);
      if (t.revoked_at !== null) return;
      await c.sql.run('UPDATE api_tokens SET revoked_at = ? WHERE id = ?', [c.now(), id]);
      await audit(c, 'token.revoked', 'user', t.user_id, { tokenId: id });
    });
  }

  async tokens(userId: string): Promise<ApiToken[]> {
    return (await this.c.sql.all<TokenRow>('SELECT id, user_id, label, created_at, revoked_at FROM api_tokens WHERE user_id = ? ORDER BY created_at, id', [userId])).map(token);
  }
}

interface CustomerRow { id: string; name: string; email: string | null; provider_org_id: string | null; created_at: number }
const customer = (r: CustomerRow): Customer => ({ id: r.id, name: r.name, email: r.email, providerOrgId: r.provider_org_id, createdAt: r.created_at });

interface ServicePointRow { id: string; customer_id: string; address: string; feeder_id: string; phase: Phase; created_at: number }
const servicePoint = (r: ServicePointRow): ServicePoint => ({ id: r.id, customerId: r.customer_id, address: r.address, feederId: r.feeder_id, phase: r.phase, createdAt: r.created_at });

export class CustomerRepo {
  constructor(private readonly c: RepoContext) {}

  create(o: { id?: string; name: string; email?: string | null; providerOrgId?: string | null }): Promise<Customer> {
    return this.c.atomic(async (c) => {
      const row: CustomerRow = { id: o.id ?? newId('cus'), name: o.name, email: o.email ?? null, provider_org_id: o.providerOrgId ?? null, created_at: c.now() };
      if (row.provider_org_id !== null) {
        const p = await c.sql.get<OrgRow>('SELECT * FROM organizations WHERE id = ?', [row.provider_org_id]);
        if (!p) throw notFound('organization', row.provider_org_id);
        if (p.kind !== 'provider') throw new DermsError('INVALID_INPUT', `${row.provider_org_id} is not a third-party provider`, [{ path: 'providerOrgId', message: 'not a provider' }]);
      }
      await c.sql.run('INSERT INTO customers (id, name, email, provider_org_id, created_at) VALUES (?, ?, ?, ?, ?)', [row.id, row.name, row.email, row.provider_org_id, row.created_at]);
      await audit(c, 'customer.created', 'customer', row.id, { providerOrgId: row.provider_org_id });
      return customer(row);
    });
  }

  async get(id: string): Promise<Customer | undefined> {
    const r = await this.c.sql.get<CustomerRow>('SELECT * FROM customers WHERE id = ?', [id]);
    return r && customer(r);
  }

  async require(id: string): Promise<Customer> {
    const r = await this.get(id);
    if (!r) throw notFound('customer', id);
    return r;
  }

  /**
   * Customers, optionally only those a provider may see: its own accounts and customers with a
   * DER whose relationship it owns.
   */
  async list(f: { visibleToProvider?: string } = {}): Promise<Customer[]> {
    if (f.visibleToProvider === undefined) return (await this.c.sql.all<CustomerRow>('SELECT * FROM customers ORDER BY created_at, id')).map(customer);
    const rows = await this.c.sql.all<CustomerRow>(
      `SELECT * FROM customers c WHERE c.provider_org_id = ?
         OR EXISTS (SELECT 1 FROM ders d WHERE d.customer_id = c.id AND d.provider_org_id = ?)
       ORDER BY c.created_at, c.id`,
      [f.visibleToProvider, f.visibleToProvider],
    );
    return rows.map(customer);
  }

  addServicePoint(o: { id?: string; customerId: string; address: string; feederId: string; phase: Phase }): Promise<ServicePoint> {
    return this.c.atomic(async (c) => {
      const row: ServicePointRow = { id: o.id ?? newId('sp'), customer_id: o.customerId, address: o.address, feeder_id: o.feederId, phase: o.phase, created_at: c.now() };
      if (!(await c.sql.get('SELECT 1 AS x FROM customers WHERE id = ?', [o.customerId]))) throw notFound('customer', o.customerId);
      if (!(await c.sql.get('SELECT 1 AS x FROM feeders WHERE id = ?', [o.feederId]))) throw notFound('feeder', o.feederId);
      await c.sql.run('INSERT INTO service_points (id, customer_id, address, feeder_id, phase, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        row.id, row.customer_id, row.address, row.feeder_id, row.phase, row.created_at,
      ]);
      await audit(c, 'service-point.created', 'customer', o.customerId, { servicePointId: row.id, feederId: o.feederId, phase: o.phase });
      return servicePoint(row);
    });
  }

  async servicePoint(id: string): Promise<ServicePoint | undefined> {
    const r = await this.c.sql.get<ServicePointRow>('SELECT * FROM service_points WHERE id = ?', [id]);
    return r && servicePoint(r);
  }

  async servicePoints(customerId: string): Promise<ServicePoint[]> {
    return (await this.c.sql.all<ServicePointRow>('SELECT * FROM service_points WHERE customer_id = ? ORDER BY created_at, id', [customerId])).map(servicePoint);
  }
}
