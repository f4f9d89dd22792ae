import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Inject } from '@nestjs/common';
import { Audit } from '../../audit/audit.decorator';
import { Roles } from '../../common/auth/decorators';
import { MemberRole } from '../../common/auth/roles';
import { APP_CONFIG, type AppConfig } from '../../common/config';
import { Ctx, type RequestContext } from '../../common/context';
import { ExternalJwtStrategy } from '../strategies/external-jwt.strategy';
import {
  IdentityProviderKind,
  type IdentityProvider,
  type JwtIssuer,
  type OidcConfig,
  type SamlConfig,
} from './identity-provider.entities';
import {
  ConfigureJwtIssuerInput,
  ConfigureOidcProviderInput,
  ConfigureSamlProviderInput,
  IdentityProviderModel,
  JwtIssuerModel,
} from './identity-providers.dto';
import { IdentityProvidersService } from './identity-providers.service';

@Resolver(() => IdentityProviderModel)
export class IdentityProvidersResolver {
  constructor(
    private readonly service: IdentityProvidersService,
    private readonly externalJwt: ExternalJwtStrategy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Query(() => [IdentityProviderModel], {
    description: "The tenant's OIDC and SAML sign-in configuration.",
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  async identityProviders(@Ctx() ctx: RequestContext): Promise<IdentityProviderModel[]> {
    return (await this.service.list(ctx)).map((p) => this.toModel(ctx, p));
  }

  @Query(() => [JwtIssuerModel], { description: "The tenant's trusted external JWT issuers." })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  async jwtIssuers(@Ctx() ctx: RequestContext): Promise<JwtIssuerModel[]> {
    return (await this.service.listIssuers(ctx)).map(toIssuerModel);
  }

  @Mutation(() => IdentityProviderModel, {
    description: 'Creates or replaces the tenant OIDC sign-in.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'identity_provider.configured', targetType: 'identity_provider' })
  async configureOidcProvider(
    @Ctx() ctx: RequestContext,
    @Args('input') input: ConfigureOidcProviderInput,
  ): Promise<IdentityProviderModel> {
    return this.toModel(ctx, await this.service.configureOidc(ctx, input));
  }

  @Mutation(() => IdentityProviderModel, {
    description: 'Creates or replaces the tenant SAML sign-in.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'identity_provider.configured', targetType: 'identity_provider' })
  async configureSamlProvider(
    @Ctx() ctx: RequestContext,
    @Args('input') input: ConfigureSamlProviderInput,
  ): Promise<IdentityProviderModel> {
    return this.toModel(ctx, await this.service.configureSaml(ctx, input));
  }

  @Mutation(() => JwtIssuerModel, {
    description: 'Trusts (or updates) an external JWT issuer for this tenant.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'jwt_issuer.configured', targetType: 'jwt_issuer' })
  async configureJwtIssuer(
    @Ctx() ctx: RequestContext,
    @Args('input') input: ConfigureJwtIssuerInput,
  ): Promise<JwtIssuerModel> {
    const row = await this.service.configureJwtIssuer(ctx, input);
    this.externalJwt.invalidate();
    return toIssuerModel(row);
  }

  private toModel(ctx: RequestContext, p: IdentityProvider): IdentityProviderModel {
    const base = `${this.config.auth.publicUrl}/auth/${p.kind === IdentityProviderKind.OIDC ? 'oidc' : 'saml'}/${ctx.tenantSlug}`;
    const oidc = p.kind === IdentityProviderKind.OIDC ? (p.config as OidcConfig) : null;
    const saml = p.kind === IdentityProviderKind.SAML ? (p.config as SamlConfig) : null;
    return Object.assign(new IdentityProviderModel(), {
      id: p.id,
      kind: p.kind,
      enabled: p.enabled,
      issuer: oidc ? oidc.issuer : saml!.idpEntityId,
      clientId: oidc?.clientId ?? null,
      hasClientSecret: Boolean(p.secretSealed),
      secretFingerprint: p.secretFingerprint,
      redirectUris: (oidc ?? saml!).redirectUris,
      roleMapping: (oidc ?? saml!).roleMapping,
      loginUrl: `${base}/login`,
      callbackUrl: oidc ? `${base}/callback` : null,
      metadataUrl: saml ? `${base}/metadata` : null,
      acsUrl: saml ? `${base}/acs` : null,
      updatedAt: p.updatedAt,
    });
  }
}

function toIssuerModel(r: JwtIssuer): JwtIssuerModel {
  return Object.assign(new JwtIssuerModel(), {
    id: r.id,
    issuer: r.issuer,
    jwksUri: r.jwksUri,
    audience: r.audience,
    algorithms: r.algorithms,
    roleMapping: r.roleMapping,
    enabled: r.enabled,
    updatedAt: r.updatedAt,
  });
}
