import { randomBytes } from 'node:crypto';
import { ApiKeysService } from '../../src/api-keys/api-keys.service';
import { systemActor } from '../../src/audit/audit-actor';
import { MemberRole } from '../../src/common/auth/roles';
import { RequestContext } from '../../src/common/context';
import { MembersService } from '../../src/members/members.service';
import { TenantsService } from '../../src/tenants/tenants.service';
import { UsersService } from '../../src/users/users.service';
import { type INestApplicationContext } from '@nestjs/common';
import { type DataSource } from 'typeorm';
import { basic } from '../helpers/test-app';

/** What the factories need of a running Roomkey: an e2e TestApp or the service tier's Services. */
export interface Arranger {
  app: Pick<INestApplicationContext, 'get'>;
  ds: DataSource;
}

export const TEST_PASSWORD = 'correct horse battery staple';

export interface SeededUser {
  id: string;
  email: string;
  password: string;
  auth: string;
  memberId: string;
}

export interface SeededTenant {
  id: string;
  slug: string;
  owner: SeededUser;
}

const uniq = (): string => randomBytes(4).toString('hex');

/** Arranges a tenant with one OWNER (who has a password) directly through the services. */
export async function seedTenant(t: Arranger, slug = `t-${uniq()}`): Promise<SeededTenant> {
  const users = t.app.get(UsersService);
  const tenants = t.app.get(TenantsService);
  const email = `owner-${uniq()}@${slug}.test`;
  const user = await users.create({ email, password: TEST_PASSWORD });
  const tenant = await t.ds.transaction((m) =>
    tenants.insertWithOwner(m, slug, `Tenant ${slug}`, user.id, systemActor('test')),
  );
  const [membership] = await t.app.get(MembersService).findForUser(user.id, slug);
  return {
    id: tenant.id,
    slug,
    owner: {
      id: user.id,
      email,
      password: TEST_PASSWORD,
      auth: basic(email, TEST_PASSWORD),
      memberId: membership.id,
    },
  };
}

/** Adds a member with a password to a seeded tenant. */
export async function seedMember(
  t: Arranger,
  tenant: SeededTenant,
  role: MemberRole,
): Promise<SeededUser> {
  const email = `${role.toLowerCase()}-${uniq()}@${tenant.slug}.test`;
  const m = await t.app
    .get(MembersService)
    .add(RequestContext.system(tenant), { email, role, password: TEST_PASSWORD });
  return {
    id: m.userId,
    email,
    password: TEST_PASSWORD,
    auth: basic(email, TEST_PASSWORD),
    memberId: m.id,
  };
}

/** Creates an API key for a seeded tenant; returns the Basic header value. */
export async function seedApiKey(
  t: Arranger,
  tenant: SeededTenant,
  role: MemberRole = MemberRole.ADMIN,
  expiresAt: Date | null = null,
): Promise<{ id: string; keyId: string; secret: string; auth: string }> {
  const { apiKey, secret } = await t.app.get(ApiKeysService).create(RequestContext.system(tenant), {
    name: `key-${uniq()}`,
    role,
    expiresAt,
  });
  return { id: apiKey.id, keyId: apiKey.keyId, secret, auth: basic(apiKey.keyId, secret) };
}
