import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { SignJWT } from 'jose';
import { DataSource, type EntityManager, IsNull } from 'typeorm';
import { type AuditActor } from '../../audit/audit-actor';
import { AuditOutcome } from '../../audit/audit-event.entity';
import { AuditService } from '../../audit/audit.service';
import { type MemberRole, ActorType, AuthMethod } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { type RequestMeta } from '../../common/context';
import { MetricsService } from '../../common/metrics/metrics.service';
import { Membership } from '../../members/membership.entity';
import { Tenant } from '../../tenants/tenant.entity';
import { User } from '../../users/user.entity';
import { AuthenticationFailed, countAuthOutcome } from '../authentication-failed';
import { SessionCheckService } from './session-check.service';
import { ACCESS_TOKEN_ALG, SigningKeysService } from './signing-keys.service';
import { LoginCode, RefreshToken } from './token.entities';

/** `typ` of Roomkey access tokens; no other token Roomkey issues or accepts shares it. */
export const ACCESS_TOKEN_TYP = 'rk-access+jwt';
export const ACCESS_TOKEN_AUDIENCE = 'roomkey-api';
const LOGIN_CODE_TTL_MS = 60_000;

export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  user: User;
  tenant: Tenant;
}

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

function actorFor(user: User, tenantId: string, method: AuthMethod, meta: RequestMeta): AuditActor {
  return {
    tenantId,
    actorType: ActorType.USER,
    actorId: user.id,
    actorLabel: user.email,
    authMethod: method,
    requestId: meta.requestId,
    clientIp: meta.clientIp,
    userAgent: meta.userAgent,
  };
}

/**
 * Issues Roomkey access tokens (ES256 JWT, ≤ 15 min) with opaque, rotating refresh tokens, and
 * trades one-time login codes from OIDC/SAML for tokens.
 */
@Injectable()
export class TokenService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly keys: SigningKeysService,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly sessionChecks: SessionCheckService,
    private readonly metrics: MetricsService,
  ) {}

  /** Starts a new session (refresh family) for a member and records the sign-in. */
  async startSession(
    user: User,
    tenant: Tenant,
    role: MemberRole,
    method: AuthMethod,
    meta: RequestMeta,
  ): Promise<IssuedTokens> {
    const tokens = await this.ds.transaction(async (m) => {
      const issued = await this.issue(m, user, tenant, role, method, randomUUID());
      await this.audit.record(m, actorFor(user, tenant.id, method, meta), {
        action: 'auth.login.succeeded',
        metadata: { method },
      });
      return issued;
    });
    countAuthOutcome(this.metrics, method, null);
    return tokens;
  }

  /**
   * Rotates a refresh token. Presenting one that was already used revokes its whole family (the
   * revocation commits even though the call fails) and records the reuse.
   */
  async refresh(raw: string, meta: RequestMeta): Promise<IssuedTokens> {
    type Outcome =
      | { tokens: IssuedTokens }
      | {
          error:
            | 'invalid_refresh_token'
            | 'refresh_token_revoked'
            | 'refresh_token_reused'
            | 'refresh_token_expired'
            | 'not_a_member';
          tenantId: string | null;
          /** The session a reused token revoked. */
          revokedFamily?: string;
        };
    const outcome = await this.ds.transaction(async (m): Promise<Outcome> => {
      const token = await m
        .getRepository(RefreshToken)
        .createQueryBuilder('r')
        .setLock('pessimistic_write')
        .where('r.tokenHash = :h', { h: sha256(raw) })
        .getOne();
      if (!token) return { error: 'invalid_refresh_token', tenantId: null };
      const user = await m.findOneOrFail(User, { where: { id: token.userId } });
      const actor = actorFor(user, token.tenantId, token.authMethod as AuthMethod, meta);
      if (token.revokedAt) return { error: 'refresh_token_revoked', tenantId: token.tenantId };
      if (token.usedAt) {
        await m.update(
          RefreshToken,
          { familyId: token.familyId, revokedAt: IsNull() },
          { revokedAt: new Date() },
        );
        await this.audit.record(m, actor, {
          action: 'auth.refresh.reuse_detected',
          outcome: AuditOutcome.DENIED,
          errorCode: 'UNAUTHENTICATED',
          targetType: 'session',
          targetId: token.familyId,
          metadata: { familyId: token.familyId },
        });
        return {
          error: 'refresh_token_reused',
          tenantId: token.tenantId,
          revokedFamily: token.familyId,
        };
      }
      if (token.expiresAt.getTime() <= Date.now())
        return { error: 'refresh_token_expired', tenantId: token.tenantId };
      const membership = await m.findOne(Membership, {
        where: { tenantId: token.tenantId, userId: token.userId },
      });
      if (!membership) return { error: 'not_a_member', tenantId: token.tenantId };
      await m.update(RefreshToken, { id: token.id }, { usedAt: new Date() });
      const tenant = await m.findOneOrFail(Tenant, { where: { id: token.tenantId } });
      const tokens = await this.issue(
        m,
        user,
        tenant,
        membership.role,
        token.authMethod as AuthMethod,
        token.familyId,
      );
      await this.audit.record(m, actor, {
        action: 'auth.token.refreshed',
        targetType: 'session',
        targetId: token.familyId,
        metadata: { familyId: token.familyId },
      });
      return { tokens };
    });
    if ('tokens' in outcome) {
      countAuthOutcome(this.metrics, 'refresh', null);
      return outcome.tokens;
    }
    countAuthOutcome(this.metrics, 'refresh', outcome.error);
    // This instance refuses the revoked session's access tokens (and cookie) at once.
    if (outcome.revokedFamily) this.sessionChecks.forget(outcome.revokedFamily);
    const failure = new AuthenticationFailed(outcome.error, AuthMethod.JWT, outcome.tenantId);
    if (outcome.error !== 'refresh_token_reused') {
      await this.audit.recordQuietly(
        {
          tenantId: outcome.tenantId,
          actorType: ActorType.ANONYMOUS,
          actorId: null,
          actorLabel: 'anonymous',
          authMethod: AuthMethod.JWT,
          ...meta,
        },
        {
          action: 'auth.token.refreshed',
          outcome: AuditOutcome.FAILURE,
          errorCode: failure.code,
          metadata: {},
        },
      );
    }
    throw failure;
  }

  /**
   * Revokes a session (refresh family): its refresh tokens at once, its access tokens (and cookie)
   * at once on this instance and within the session check's 30 s on others.
   */
  async logout(
    actor: AuditActor,
    tenantId: string,
    userId: string,
    familyId: string,
  ): Promise<boolean> {
    const done = await this.ds.transaction(async (m) => {
      const r = await m.update(
        RefreshToken,
        { familyId, tenantId, userId, revokedAt: IsNull() },
        { revokedAt: new Date() },
      );
      await this.audit.record(m, actor, {
        action: 'auth.logout',
        targetType: 'session',
        targetId: familyId,
        metadata: { familyId, revoked: r.affected ?? 0 },
      });
      return true;
    });
    this.sessionChecks.forget(familyId);
    return done;
  }

  /** Creates the one-time, 60-second code an OIDC/SAML callback hands to the browser. */
  async createLoginCode(
    m: EntityManager,
    tenantId: string,
    userId: string,
    method: AuthMethod,
  ): Promise<string> {
    const code = `rkc_${randomBytes(32).toString('base64url')}`;
    await m.insert(LoginCode, {
      codeHash: sha256(code),
      tenantId,
      userId,
      authMethod: method,
      expiresAt: new Date(Date.now() + LOGIN_CODE_TTL_MS),
      usedAt: null,
    });
    return code;
  }

  /** Single use: the first exchange wins; a replay, an expired or unknown code is refused. */
  async exchangeLoginCode(code: string, meta: RequestMeta): Promise<IssuedTokens> {
    const result = await this.ds.transaction(async (m) => {
      const rows = await m.query<
        [Array<{ tenant_id: string; user_id: string; auth_method: string }>, number]
      >(
        `UPDATE login_code SET used_at = now() WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now()
         RETURNING tenant_id, user_id, auth_method`,
        [sha256(code)],
      );
      const row = rows[0][0];
      if (!row) return null;
      const membership = await m.findOne(Membership, {
        where: { tenantId: row.tenant_id, userId: row.user_id },
        relations: { user: true, tenant: true },
      });
      if (!membership?.user || !membership.tenant) return null;
      const method = row.auth_method as AuthMethod;
      const tokens = await this.issue(
        m,
        membership.user,
        membership.tenant,
        membership.role,
        method,
        randomUUID(),
      );
      await this.audit.record(m, actorFor(membership.user, row.tenant_id, method, meta), {
        action: 'auth.code.exchanged',
        metadata: { method },
      });
      return tokens;
    });
    if (result) {
      countAuthOutcome(this.metrics, 'login_code', null);
      return result;
    }
    countAuthOutcome(this.metrics, 'login_code', 'invalid_login_code');
    const failure = new AuthenticationFailed('invalid_login_code', AuthMethod.NONE);
    await this.audit.recordQuietly(
      {
        tenantId: null,
        actorType: ActorType.ANONYMOUS,
        actorId: null,
        actorLabel: 'anonymous',
        authMethod: AuthMethod.NONE,
        ...meta,
      },
      {
        action: 'auth.code.exchanged',
        outcome: AuditOutcome.FAILURE,
        errorCode: failure.code,
        metadata: {},
      },
    );
    throw failure;
  }

  private async issue(
    m: EntityManager,
    user: User,
    tenant: Tenant,
    role: MemberRole,
    method: AuthMethod,
    familyId: string,
  ): Promise<IssuedTokens> {
    const { kid, key } = await this.keys.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const exp = now + this.config.auth.accessTokenTtlSeconds;
    const accessToken = await new SignJWT({ tid: tenant.id, role, amr: [method], sid: familyId })
      .setProtectedHeader({ alg: ACCESS_TOKEN_ALG, kid, typ: ACCESS_TOKEN_TYP })
      .setIssuer(this.config.auth.publicUrl)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setSubject(user.id)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(exp)
      .setJti(randomUUID())
      .sign(key);
    const refreshToken = `rkr_${randomBytes(32).toString('base64url')}`;
    await m.insert(RefreshToken, {
      tenantId: tenant.id,
      tokenHash: sha256(refreshToken),
      familyId,
      userId: user.id,
      authMethod: method,
      expiresAt: new Date(Date.now() + this.config.auth.refreshTokenTtlSeconds * 1000),
      usedAt: null,
      revokedAt: null,
    });
    return { accessToken, refreshToken, expiresAt: new Date(exp * 1000), user, tenant };
  }
}
