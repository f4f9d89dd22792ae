import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { ActorType, type AuthMethod, type MemberRole } from '../../common/auth/roles';
import { type RequestMeta } from '../../common/context';
import { DomainException } from '../../common/errors';
import { MetricsService } from '../../common/metrics/metrics.service';
import { TokenService } from '../tokens/token.service';
import {
  AuthenticationFailed,
  countAuthOutcome,
  recordAuthFailure,
} from '../authentication-failed';
import { IdentityProvider, type IdentityProviderKind } from './identity-provider.entities';
import { type ExternalProfile, ProvisioningService } from './provisioning.service';
import { withParams } from './redirects';

/** The common end of an OIDC or SAML browser sign-in: provision, audit, hand out a login code. */
@Injectable()
export class SsoLoginService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly provisioning: ProvisioningService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {}

  /** The enabled provider of this kind for a tenant slug, or NOT_FOUND. */
  async provider(
    slug: string,
    kind: IdentityProviderKind,
  ): Promise<IdentityProvider & { slug: string }> {
    const row = await this.ds
      .getRepository(IdentityProvider)
      .createQueryBuilder('p')
      .innerJoin('tenant', 't', 't.id = p.tenantId')
      .addSelect('t.slug', 'slug')
      .where('t.slug = :slug AND p.kind = :kind AND p.enabled = true', { slug, kind })
      .getRawAndEntities();
    const entity = row.entities[0];
    if (!entity) throw DomainException.notFound('Sign-in provider');
    return Object.assign(entity, { slug });
  }

  /** Provisions the user, records the sign-in and returns the redirect carrying a one-time code. */
  async complete(
    tenantId: string,
    profile: ExternalProfile,
    role: MemberRole,
    method: AuthMethod,
    redirectUri: string,
    meta: RequestMeta,
  ): Promise<string> {
    const code = await this.ds.transaction(async (m) => {
      const { user } = await this.provisioning.provision(m, tenantId, profile, role, method, meta);
      await this.audit.record(
        m,
        {
          ...meta,
          tenantId,
          actorType: ActorType.USER,
          actorId: user.id,
          actorLabel: user.email,
          authMethod: method,
        },
        { action: 'auth.login.succeeded', metadata: { method } },
      );
      return this.tokens.createLoginCode(m, tenantId, user.id, method);
    });
    countAuthOutcome(this.metrics, method, null);
    return withParams(redirectUri, { code });
  }

  /** Records a failed browser sign-in with its reason code. */
  async fail(
    tenantId: string | null,
    method: AuthMethod,
    reason: string,
    meta: RequestMeta,
  ): Promise<AuthenticationFailed> {
    const error = err(reason, method, tenantId);
    await recordAuthFailure(this.audit, this.metrics, meta, error);
    return error;
  }
}

const err = (reason: string, method: AuthMethod, tenantId: string | null): AuthenticationFailed =>
  new AuthenticationFailed(
    reason
      .replace(/[^a-z0-9_]/gi, '_')
      .toLowerCase()
      .slice(0, 40),
    method,
    tenantId,
    null,
    'Sign-in failed',
  );
