import { DermsError } from '../core/errors.js';
import type { Organization, User } from '../store/records.js';
import type { DermsStore } from '../store/store.js';

export interface BootstrapOptions {
  /** Id and name of the DSO organization. */
  readonly orgId?: string;
  readonly orgName?: string;
  readonly adminName?: string;
  /** Install this admin token instead of generating one (e.g. from DERMS_ADMIN_TOKEN); at least 24 characters. */
  readonly adminToken?: string;
}

export interface Bootstrapped {
  readonly created: boolean;
  readonly organization: Organization;
  readonly admin: User | null;
  /** The admin token, when this call created it (it is stored only as a digest and never shown again). */
  readonly token: string | null;
}

/**
 * Create the first DSO organization and an admin with a token, once: when a DSO organization
 * exists already, nothing is written (a configured token is installed if it is not yet known,
 * so rotating DERMS_ADMIN_TOKEN takes effect at the next start).
 */
export async function bootstrapDso(store: DermsStore, o: BootstrapOptions = {}): Promise<Bootstrapped> {
  return store.transaction(async (tx) => {
    const existing = (await tx.orgs.list({ kind: 'dso' }))[0];
    if (existing) {
      let admin = (await tx.users.list({ orgId: existing.id, role: 'dso-admin' }))[0] ?? null;
      if (o.adminToken !== undefined && !(await tx.users.resolveToken(o.adminToken))) {
        admin ??= await tx.users.create({ orgId: existing.id, name: o.adminName ?? 'DSO administrator', role: 'dso-admin' });
        await tx.users.issueToken(admin.id, 'bootstrap (configured)', o.adminToken);
        return { created: false, organization: existing, admin, token: o.adminToken };
      }
      return { created: false, organization: existing, admin, token: null };
    }
    const organization = await tx.orgs.create({ id: o.orgId ?? 'dso', name: o.orgName ?? 'Distribution system operator', kind: 'dso' });
    const admin = await tx.users.create({ orgId: organization.id, name: o.adminName ?? 'DSO administrator', role: 'dso-admin' });
    const { token } = await tx.users.issueToken(admin.id, o.adminToken !== undefined ? 'bootstrap (configured)' : 'bootstrap', o.adminToken);
    return { created: true, organization, admin, token };
  });
}

/**
 * Bootstrap options from the environment: DERMS_DSO_ID, DERMS_DSO_NAME, DERMS_ADMIN_NAME and
 * DERMS_ADMIN_TOKEN (all optional).
 */
export function bootstrapOptionsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): BootstrapOptions {
  const token = env.DERMS_ADMIN_TOKEN;
  if (token !== undefined && token.length < 24) throw new DermsError('INVALID_INPUT', 'DERMS_ADMIN_TOKEN must have at least 24 characters', [{ path: 'DERMS_ADMIN_TOKEN', message: 'too short' }]);
  return {
    ...(env.DERMS_DSO_ID ? { orgId: env.DERMS_DSO_ID } : {}),
    ...(env.DERMS_DSO_NAME ? { orgName: env.DERMS_DSO_NAME } : {}),
    ...(env.DERMS_ADMIN_NAME ? { adminName: env.DERMS_ADMIN_NAME } : {}),
    ...(token ? { adminToken: token } : {}),
  };
}
