import { Inject, Injectable } from '@nestjs/common';
import { API_KEY_PREFIX, ApiKeysService } from '../api-keys/api-keys.service';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { ActorType, AuthMethod } from '../common/auth/roles';
import { APP_CONFIG, type AppConfig, type RateLimitsSection } from '../common/config';
import { DomainException } from '../common/errors';
import { RateLimitAudit } from '../rate-limits/rate-limit-audit.service';
import { type LockScope, RateLimiter, clientKey } from '../rate-limits/rate-limiter.service';
import { AuthenticationFailed } from './authentication-failed';
import { MembersService } from '../members/members.service';
import { type Membership } from '../members/membership.entity';
import { SLUG_PATTERN } from '../tenants/slug';
import { TenantDirectory } from '../tenants/tenant-directory';
import { PASSWORD_QUEUE_FULL, PasswordService } from '../users/password.service';
import { UsersService } from '../users/users.service';

/** Failure reasons that mean "wrong credential" (counted towards locks); others are not guesses. */
const GUESSES = new Set(['bad_password', 'unknown_user', 'bad_secret', 'unknown_key']);

/** Where a credential was presented: for lock scopes and rate-limit summaries. */
export interface CredentialSource {
  clientIp: string | null;
  route: string;
}

const NO_SOURCE: CredentialSource = { clientIp: null, route: 'basic' };

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
 *
 * Brute force: wrong credentials are counted per account (email per tenant slug, plus the email
 * across slugs at three times the threshold), per API key id and per client IP. Past a threshold
 * the scope is locked with a growing back-off, and a locked scope is refused with RATE_LIMITED
 * *before* any lookup or hashing — the right password included, until the lock ends.
 */
@Injectable()
export class BasicAuthService {
  private readonly limits: RateLimitsSection;

  constructor(
    private readonly apiKeys: ApiKeysService,
    private readonly users: UsersService,
    private readonly passwords: PasswordService,
    private readonly members: MembersService,
    private readonly tenants: TenantDirectory,
    private readonly limiter: RateLimiter,
    private readonly rejections: RateLimitAudit,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limits = config.rateLimits;
  }

  async authenticate(
    username: string,
    password: string,
    tenantHeader?: string,
    source: CredentialSource = NO_SOURCE,
  ): Promise<AuthenticatedPrincipal> {
    if (tenantHeader !== undefined && !SLUG_PATTERN.test(tenantHeader)) {
      throw new AuthenticationFailed('bad_tenant_header', AuthMethod.BASIC_PASSWORD);
    }
    return username.startsWith(API_KEY_PREFIX)
      ? this.withApiKey(username, password, tenantHeader, source)
      : this.withPassword(username, password, tenantHeader, source);
  }

  /** Runs `check` unless a scope is locked; counts its wrong-credential failures. */
  private async guarded<T>(
    scopes: LockScope[],
    source: CredentialSource,
    tenantSlug: string | undefined,
    check: () => Promise<T>,
  ): Promise<T> {
    await this.limiter.assertUnlocked(scopes, {
      route: source.route,
      clientIp: source.clientIp,
      tenantSlug: tenantSlug ?? null,
    });
    try {
      return await check();
    } catch (err) {
      // A wrong password stays a guess when the tenant's chain is told only `not_a_member`.
      if (err instanceof AuthenticationFailed && (err.guess || GUESSES.has(err.reason ?? ''))) {
        await this.limiter.recordFailure(scopes);
      } else if (err instanceof DomainException && err.reason === PASSWORD_QUEUE_FULL) {
        this.rejections.note({
          scope: 'password_queue',
          source: source.clientIp ?? 'unknown',
          route: source.route,
          clientIp: source.clientIp,
        });
      }
      throw err;
    }
  }

  private ipScope(source: CredentialSource): LockScope[] {
    return source.clientIp
      ? [{ kind: 'ip_failures', id: clientKey(source.clientIp), threshold: this.limits.ipFailures }]
      : [];
  }

  private withApiKey(
    keyId: string,
    secret: string,
    tenantHeader: string | undefined,
    source: CredentialSource,
  ): Promise<AuthenticatedPrincipal> {
    const scopes: LockScope[] = [
      { kind: 'api_key', id: keyId.slice(0, 100), threshold: this.limits.apiKeyFailures },
      ...this.ipScope(source),
    ];
    return this.guarded(scopes, source, undefined, () =>
      this.checkApiKey(keyId, secret, tenantHeader),
    );
  }

  private async checkApiKey(
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
    if (tenantHeader !== undefined && tenantHeader !== key.tenantSlug) {
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
      tenantSlug: key.tenantSlug,
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
    source: CredentialSource = NO_SOURCE,
  ): Promise<AuthenticatedPrincipal> {
    return this.withPassword(email, password, tenantSlug, source);
  }

  private withPassword(
    email: string,
    password: string,
    tenantHeader: string | undefined,
    source: CredentialSource,
  ): Promise<AuthenticatedPrincipal> {
    const who = email.slice(0, 320).toLowerCase();
    const threshold = this.limits.accountFailures;
    const scopes: LockScope[] = [
      { kind: 'account', id: `${tenantHeader ?? '-'}:${who}`, threshold },
      // Rotating the tenant slug must not multiply the guesses against one password.
      { kind: 'email', id: who, threshold: threshold * 3 },
      ...this.ipScope(source),
    ];
    return this.guarded(scopes, source, tenantHeader, () =>
      this.checkPassword(email, password, tenantHeader),
    );
  }

  private async checkPassword(
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
      const failure = named
        ? this.failedInTenant(named, reason, label)
        : this.failed(reason, label);
      failure.guess = true;
      throw failure;
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
