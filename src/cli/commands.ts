import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { type INestApplicationContext } from '@nestjs/common';
import { AUDIT_COMMANDS } from './audit-commands';
import { KEY_COMMANDS } from './key-commands';
import { type CliEnv, type CliIo, UsageError } from './cli-types';
import { ApiKeysService } from '../api-keys/api-keys.service';
import { systemActor } from '../audit/audit-actor';
import { MemberRole } from '../common/auth/roles';
import { RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { MembersService } from '../members/members.service';
import { TenantsService } from '../tenants/tenants.service';
import { UsersService } from '../users/users.service';

type Handler = (env: CliEnv, args: string[], io: CliIo) => Promise<void>;

function opts(
  args: string[],
  spec: Record<string, 'string' | 'boolean'>,
): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(Object.entries(spec).map(([k, type]) => [k, { type }])),
      strict: true,
      allowPositionals: false,
    });
    return values;
  } catch (err) {
    throw new UsageError((err as Error).message); // ERR_PARSE_ARGS_*: unknown option, missing value
  }
}

function required(v: Record<string, unknown>, name: string): string {
  const value = v[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function role(value: unknown, fallback: MemberRole): MemberRole {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (Object.values(MemberRole) as string[]).includes(value))
    return value as MemberRole;
  throw new UsageError('--role must be OWNER, ADMIN or MEMBER');
}

async function tenantBySlug(
  app: INestApplicationContext,
  slug: string,
): Promise<{ id: string; slug: string }> {
  const tenant = await app.get(TenantsService).findBySlug(slug);
  if (!tenant) throw DomainException.notFound(`Tenant "${slug}"`);
  return tenant;
}

export const COMMANDS: Record<string, Handler> = {
  'tenant:create': async ({ app: start }, args, io) => {
    const v = opts(args, { slug: 'string', name: 'string', owner: 'string' });
    const slug = required(v, 'slug');
    const name = required(v, 'name');
    const ownerEmail = required(v, 'owner');
    const app = await start();
    const tenant = await app
      .get(TenantsService)
      .createOwnedBy(slug, name, ownerEmail, systemActor('cli'));
    io.out(
      JSON.stringify({
        tenant: { id: tenant.id, slug: tenant.slug, name: tenant.name },
        owner: ownerEmail.toLowerCase(),
      }),
    );
  },

  'user:create': async ({ app: start }, args, io) => {
    const v = opts(args, {
      email: 'string',
      name: 'string',
      password: 'string',
      'generate-password': 'boolean',
      tenant: 'string',
      role: 'string',
      'platform-admin': 'boolean',
    });
    const email = required(v, 'email');
    if (v.password && v['generate-password'])
      throw new UsageError('use --password or --generate-password, not both');
    if (v.role && !v.tenant) throw new UsageError('--role needs --tenant');
    const memberRole = role(v.role, MemberRole.MEMBER);
    const password = v['generate-password']
      ? randomBytes(18).toString('base64url')
      : (v.password as string | undefined);
    const app = await start();
    if (v.tenant) {
      const tenant = await tenantBySlug(app, v.tenant as string);
      const m = await app.get(MembersService).add(RequestContext.system(tenant), {
        email,
        role: memberRole,
        displayName: v.name as string | undefined,
        password,
      });
      io.out(
        JSON.stringify({
          user: { id: m.userId, email: email.toLowerCase() },
          tenant: tenant.slug,
          role: m.role,
        }),
      );
    } else {
      const u = await app.get(UsersService).create({
        email,
        displayName: v.name as string | undefined,
        password,
        isPlatformAdmin: v['platform-admin'] === true,
      });
      io.out(
        JSON.stringify({ user: { id: u.id, email: u.email, isPlatformAdmin: u.isPlatformAdmin } }),
      );
    }
    if (v['generate-password']) io.out(`Generated password (shown once): ${password}`);
  },

  'api-key:create': async ({ app: start }, args, io) => {
    const v = opts(args, { tenant: 'string', name: 'string', role: 'string', expires: 'string' });
    const slug = required(v, 'tenant');
    const name = required(v, 'name');
    const keyRole = role(v.role, MemberRole.ADMIN);
    let expiresAt: Date | null = null;
    if (v.expires) {
      expiresAt = new Date(v.expires as string);
      if (Number.isNaN(expiresAt.getTime())) throw new UsageError('--expires must be an ISO date');
    }
    const app = await start();
    const tenant = await tenantBySlug(app, slug);
    const { apiKey, secret } = await app.get(ApiKeysService).create(RequestContext.system(tenant), {
      name,
      role: keyRole,
      expiresAt,
    });
    io.out(
      JSON.stringify({
        apiKey: { id: apiKey.id, keyId: apiKey.keyId, role: apiKey.role, tenant: tenant.slug },
      }),
    );
    io.out(`Secret (shown once): ${secret}`);
    io.out(`Use it as: curl -u '${apiKey.keyId}:${secret}' …`);
  },
  ...AUDIT_COMMANDS,
  ...KEY_COMMANDS,
};
