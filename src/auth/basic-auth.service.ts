import { Injectable } from '@nestjs/common';
import { API_KEY_PREFIX, ApiKeysService } from '../api-keys/api-keys.service';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { ActorType, AuthMethod } from '../common/auth/roles';
import { AuthenticationFailed } from './authentication-failed';
import { MembersService } from '../members/members.service';
import { type Membership } from '../members/membership.entity';
import { SLUG_PATTERN } from '../tenants/slug';
import { TenantDirectory } from '../tenants/tenant-directory';
import { PasswordService } from '../users/password.service';
import { UsersService } from '../users/users.service';

/** Matches no user: lets the membership lookup run the same query with or without a user. */
const NO_USER = '00000000-0000-0000-0000-000000000000';

interface NamedTenant {
  tenantId: string;
  memberships: Membership[];
}

/**
 * Resolves HTTP Basic credentials to a principal: `keyId:secret` for API keys, `email:password`
 * for users. Every failure is the same UNAUTHENTICATED to the caller; the reason code is kept for
 * the audit log.
 */
@Injectable()
export class BasicAuthService {
  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly members: MembersService,
    private readonly tenants: TenantDirectory,
  ) {}

  async authenticate(
    username: string,
    password: string,
    tenantHeader?: string,
  ): Promise<AuthenticatedPrincipal> {
    if (tenantHeader !== undefined && !SLUG_PATTERN.test(tenantHeader)) {
      throw new AuthenticationFailed('bad_tenant_header', AuthMethod.BASIC_PASSWORD);
    }
    return username.startsWith(API_KEY_PREFIX)
      ? this.withApiKey(username, password, tenantHeader)
      : this.withPassword(username, password, tenantHeader);
  }

  private async withApiKey(
    keyId: string,
    secret: string,
    tenantHeader?: string,
  ): Promise<AuthenticatedPrincipal> {
    const result = await this.apiKeys.check(keyId, secret);
    if (!result.ok) {
      throw new AuthenticationFailed(
        result.reason,
        AuthMethod.BASIC_API_KEY,
        result.tenantId,
        result.keyId,
      );
    }
    const { key } = result;
    if (tenantHeader !== undefined && tenantHeader !== key.tenant.slug) {
      throw new AuthenticationFailed(
        'tenant_mismatch',
        AuthMethod.BASIC_API_KEY,
        key.tenantId,
        key.keyId,
      );
    }
    return {
      actorType: ActorType.API_KEY,
      actorId: key.id,
      actorLabel: key.keyId,
      userId: null,
      apiKeyId: key.id,
      tenantId: key.tenantId,
      tenantSlug: key.tenant.slug,
      role: key.role,
      authMethod: AuthMethod.BASIC_API_KEY,
      isPlatformAdmin: false,
    };
  }

  /** Email and password, for Basic and for the login mutation (same timing-safe path). */
  authenticatePassword(
    email: string,
    password: string,
    tenantSlug?: string,
  ): Promise<AuthenticatedPrincipal> {
    return this.withPassword(email, password, tenantSlug);
  }

  private async withPassword(
    email: string,
    password: string,
    tenantHeader?: string,
  ): Promise<AuthenticatedPrincipal> {
    const user = email.length <= 320 ? await this.users.findByEmail(email) : null;
    // Always verify, against a dummy hash when there is no user, so timing does not tell; the
    // named tenant and the membership in it are looked up alike with or without a user.
    const [ok, named] = await Promise.all([
      this.passwords.verify(user?.passwordHash ?? null, password),
      this.namedTenant(user?.id ?? null, tenantHeader),
    ]);
    const label = user ? user.email : null;
    if (!user || !ok) {
      const reason = user ? 'bad_password' : 'unknown_user';
      throw named ? this.failedInTenant(named, reason, label) : this.failed(reason, label);
    }
    const memberships = named
      ? named.memberships
      : await this.members.findForUser(user.id, tenantHeader);
    if (memberships.length === 0) {
      const reason = tenantHeader ? 'not_a_member' : 'no_membership';
      throw named ? this.failedInTenant(named, reason, label) : this.failed(reason, label);
    }
    if (memberships.length > 1) {
      throw new AuthenticationFailed(
        'tenant_required',
        AuthMethod.BASIC_PASSWORD,
        null,
        label,
        'This user belongs to several tenants: choose one with the X-Roomkey-Tenant header',
      );
    }
    const m = memberships[0];
    return {
      actorType: ActorType.USER,
      actorId: user.id,
      actorLabel: user.email,
      userId: user.id,
      apiKeyId: null,
      tenantId: m.tenantId,
      tenantSlug: m.tenant!.slug,
      role: m.role,
      authMethod: AuthMethod.BASIC_PASSWORD,
      isPlatformAdmin: user.isPlatformAdmin,
    };
  }

  /**
   * The tenant a password sign-in names (X-Roomkey-Tenant, `login.tenantSlug`), when it exists,
   * with the user's membership in it (none for an unknown user).
   */
  private async namedTenant(
    userId: string | null,
    slug: string | undefined,
  ): Promise<NamedTenant | null> {
    if (slug === undefined) return null;
    const [tenantId, memberships] = await Promise.all([
      this.tenants.idOf(slug),
      this.members.findForUser(userId ?? NO_USER, slug),
    ]);
    return tenantId ? { tenantId, memberships: userId ? memberships : [] } : null;
  }

  private failed(reason: string, label: string | null): AuthenticationFailed {
    return new AuthenticationFailed(reason, AuthMethod.BASIC_PASSWORD, null, label);
  }

  /**
   * A failure naming an existing tenant goes to that tenant's chain, so its admins see attacks on
   * their members. Only a member's email and reason are shown there: for anyone else the tenant
   * learns `not_a_member` and no label, never whether the email is a Roomkey user elsewhere.
   */
  private failedInTenant(
    named: NamedTenant,
    reason: string,
    label: string | null,
  ): AuthenticationFailed {
    const member = named.memberships.length > 0;
    return new AuthenticationFailed(
      member ? reason : 'not_a_member',
      AuthMethod.BASIC_PASSWORD,
      named.tenantId,
      member ? label : null,
    );
  }
}
