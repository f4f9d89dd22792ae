import { X509Certificate } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditService } from '../../audit/audit.service';
import { MemberRole, roleAtLeast } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { type RequestContext } from '../../common/context';
import { SecretBox } from '../../common/crypto/secret-box';
import { DomainException, isUniqueViolation } from '../../common/errors';
import { hasControlChars } from '../../common/text';
import {
  IdentityProvider,
  IdentityProviderKind,
  JwtIssuer,
  type OidcConfig,
  type RoleMappingEntry,
  type SamlConfig,
} from './identity-provider.entities';
import {
  type ConfigureJwtIssuerInput,
  type ConfigureOidcProviderInput,
  type ConfigureSamlProviderInput,
  type RoleMappingInput,
} from './identity-providers.dto';
import { validateRedirectUri } from './redirects';

export const secretContext = (p: { tenantId: string; id: string }): string =>
  `identity-provider|${p.tenantId}|${p.id}|clientSecret`;

/**
 * Per-tenant sign-in configuration. OWNER/ADMIN only; only an OWNER may map IdP roles to OWNER.
 * Every change is audited; the OIDC client secret is sealed and never returned.
 */
@Injectable()
export class IdentityProvidersService {
  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly box: SecretBox,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  list(ctx: RequestContext): Promise<IdentityProvider[]> {
    return this.ds
      .getRepository(IdentityProvider)
      .find({ where: { tenantId: ctx.tenantId }, order: { kind: 'ASC' } });
  }

  listIssuers(ctx: RequestContext): Promise<JwtIssuer[]> {
    return this.ds
      .getRepository(JwtIssuer)
      .find({ where: { tenantId: ctx.tenantId }, order: { createdAt: 'ASC' } });
  }

  async configureOidc(
    ctx: RequestContext,
    input: ConfigureOidcProviderInput,
  ): Promise<IdentityProvider> {
    this.assertAdmin(ctx);
    const config: OidcConfig = {
      issuer: this.idpUrl(input.issuer, 'issuer'),
      clientId: input.clientId,
      scopes: input.scopes?.length ? input.scopes : ['openid', 'email', 'profile'],
      redirectUris: this.redirects(input.redirectUris),
      rolesClaim: input.rolesClaim ?? 'roles',
      roleMapping: this.roleMapping(ctx, input.roleMapping),
      allowedEmailDomains: (input.allowedEmailDomains ?? []).map((d) =>
        d.trim().toLowerCase().replace(/^@/, ''),
      ),
    };
    if (!config.scopes.includes('openid'))
      throw DomainException.badInput('scopes', 'scopes must include openid');
    return this.upsert(
      ctx,
      IdentityProviderKind.OIDC,
      config,
      input.enabled ?? true,
      input.clientSecret,
    );
  }

  async configureSaml(
    ctx: RequestContext,
    input: ConfigureSamlProviderInput,
  ): Promise<IdentityProvider> {
    this.assertAdmin(ctx);
    if (input.idpCertificates.length === 0) {
      throw DomainException.badInput(
        'idpCertificates',
        'At least one IdP signing certificate is required',
      );
    }
    const config: SamlConfig = {
      idpEntityId: input.idpEntityId,
      ssoUrl: this.idpUrl(input.ssoUrl, 'ssoUrl'),
      idpCertificates: input.idpCertificates.map((c, i) =>
        normaliseCertificate(c, `idpCertificates[${i}]`),
      ),
      attributeMapping: {
        email: input.attributeMapping?.email ?? 'email',
        displayName: input.attributeMapping?.displayName ?? 'displayName',
        roles: input.attributeMapping?.roles ?? 'roles',
      },
      roleMapping: this.roleMapping(ctx, input.roleMapping),
      redirectUris: this.redirects(input.redirectUris),
      allowUnsolicited: input.allowUnsolicited ?? false,
    };
    return this.upsert(ctx, IdentityProviderKind.SAML, config, input.enabled ?? true, undefined);
  }

  async configureJwtIssuer(
    ctx: RequestContext,
    input: ConfigureJwtIssuerInput,
  ): Promise<JwtIssuer> {
    this.assertAdmin(ctx);
    const values = {
      tenantId: ctx.tenantId,
      issuer: input.issuer,
      jwksUri: this.idpUrl(input.jwksUri, 'jwksUri'),
      audience: input.audience,
      algorithms: input.algorithms?.length ? [...new Set(input.algorithms)] : ['RS256'],
      claimMapping: {
        email: input.emailClaim ?? 'email',
        name: input.nameClaim ?? 'name',
        roles: input.rolesClaim ?? 'roles',
      },
      roleMapping: this.roleMapping(ctx, input.roleMapping),
      enabled: input.enabled ?? true,
    };
    if (hasControlChars(input.issuer) || hasControlChars(input.audience)) {
      throw DomainException.badInput(
        'issuer',
        'issuer and audience must not contain control characters',
      );
    }
    try {
      return await this.ds.transaction(async (m) => {
        const repo = m.getRepository(JwtIssuer);
        let row = await repo.findOne({
          where: { tenantId: ctx.tenantId, issuer: input.issuer, audience: input.audience },
        });
        row = await repo.save(row ? repo.merge(row, values) : repo.create(values));
        await this.audit.record(m, ctx, {
          action: 'jwt_issuer.configured',
          targetType: 'jwt_issuer',
          targetId: row.id,
          metadata: { issuer: row.issuer, audience: row.audience, enabled: row.enabled },
        });
        return row;
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw DomainException.conflict(
          'This issuer and audience are already trusted by another tenant',
          'audience',
        );
      }
      throw err;
    }
  }

  private async upsert(
    ctx: RequestContext,
    kind: IdentityProviderKind,
    config: OidcConfig | SamlConfig,
    enabled: boolean,
    secret: string | null | undefined,
  ): Promise<IdentityProvider> {
    return this.ds.transaction(async (m) => {
      const repo = m.getRepository(IdentityProvider);
      let row = await repo.findOne({ where: { tenantId: ctx.tenantId, kind } });
      row = await repo.save(
        row
          ? repo.merge(row, { config, enabled })
          : repo.create({
              tenantId: ctx.tenantId,
              kind,
              config,
              enabled,
              secretSealed: null,
              secretFingerprint: null,
            }),
      );
      if (secret) {
        const context = secretContext(row);
        row.secretSealed = this.box.seal(secret, context);
        row.secretFingerprint = this.box.fingerprint(secret, context);
        row = await repo.save(row);
      }
      if (kind === IdentityProviderKind.OIDC && !row.secretSealed) {
        throw DomainException.badInput(
          'clientSecret',
          'clientSecret is required when OIDC is first configured',
        );
      }
      await this.audit.record(m, ctx, {
        action: 'identity_provider.configured',
        targetType: 'identity_provider',
        targetId: row.id,
        metadata: {
          kind,
          issuer: 'issuer' in config ? config.issuer : config.idpEntityId,
          enabled,
        },
      });
      return row;
    });
  }

  /** Identity-provider URLs: https (http only when ROOMKEY_ALLOW_INSECURE_IDP), no credentials. */
  private idpUrl(value: string, field: string): string {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      throw DomainException.badInput(field, `${field} must be an absolute URL`);
    }
    const insecureOk = this.config.auth.allowInsecureIdp && u.protocol === 'http:';
    if (u.protocol !== 'https:' && !insecureOk)
      throw DomainException.badInput(field, `${field} must be https`);
    if (u.username || u.password || u.hash)
      throw DomainException.badInput(field, `${field} must not contain credentials or a fragment`);
    return value;
  }

  private redirects(uris: string[]): string[] {
    if (uris.length === 0)
      throw DomainException.badInput('redirectUris', 'At least one redirect URI is required');
    return [...new Set(uris.map((u, i) => validateRedirectUri(u, `redirectUris[${i}]`)))];
  }

  private roleMapping(
    ctx: RequestContext,
    mapping: RoleMappingInput[] | null | undefined,
  ): RoleMappingEntry[] {
    const list = mapping ?? [];
    if (list.some((m) => m.role === MemberRole.OWNER) && ctx.role !== MemberRole.OWNER) {
      throw DomainException.forbidden(
        'Only an OWNER can map identity-provider roles to OWNER',
        'role_too_high',
      );
    }
    return list.map((m) => ({ value: m.value, role: m.role }));
  }

  private assertAdmin(ctx: RequestContext): void {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN))
      throw DomainException.forbidden('Only OWNER or ADMIN can configure sign-in');
  }
}

/** Accepts a PEM or bare base64 DER certificate; stores the PEM after checking it parses. */
function normaliseCertificate(value: string, field: string): string {
  const body = value.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');
  try {
    const cert = new X509Certificate(Buffer.from(body, 'base64'));
    return cert.toString().trim();
  } catch {
    throw DomainException.badInput(field, `${field} is not an X.509 certificate`);
  }
}
