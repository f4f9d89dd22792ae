import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { JoinLinksModule } from '../join-links/join-links.module';
import { MembersModule } from '../members/members.module';
import { TenantsModule } from '../tenants/tenants.module';
import { UsersModule } from '../users/users.module';
import { AuthSuccessSummary } from './auth-success-summary';
import { AuthenticationGuard } from './authentication.guard';
import { PublicRateLimitGuard } from '../rate-limits/rate-limit.guard';
import { BasicAuthService } from './basic-auth.service';
import { MeResolver } from './me.resolver';
import { RolesGuard } from './roles.guard';
import { BasicStrategy } from './strategies/basic.strategy';
import { ExternalJwtStrategy } from './strategies/external-jwt.strategy';
import { JwtStrategy } from './strategies/jwt.strategy';
import { AuthResolver } from './auth.resolver';
import {
  ExternalIdentity,
  IdentityProvider,
  JwtIssuer,
  LoginAttempt,
} from './identity-providers/identity-provider.entities';
import { IdentityProvidersResolver } from './identity-providers/identity-providers.resolver';
import { IdentityProvidersService } from './identity-providers/identity-providers.service';
import { OidcController } from './identity-providers/oidc.controller';
import { OidcService } from './identity-providers/oidc.service';
import { ProvisioningService } from './identity-providers/provisioning.service';
import { SamlController } from './identity-providers/saml.controller';
import { SamlService } from './identity-providers/saml.service';
import { SsoLoginService } from './identity-providers/sso-login.service';

const IDENTITY_ENTITIES = [IdentityProvider, JwtIssuer, ExternalIdentity, LoginAttempt];
import { JwksController } from './jwks.controller';
import { SessionCheckService } from './tokens/session-check.service';
import { SigningKeysService } from './tokens/signing-keys.service';
import { LoginCode, RefreshToken, SigningKey } from './tokens/token.entities';
import { TokenService } from './tokens/token.service';
import { Tenant } from '../tenants/tenant.entity';
import { User } from '../users/user.entity';

/** Authentication strategies and the two global guards (authentication, then roles). */
@Module({
  imports: [
    PassportModule.register({ session: false }),
    TypeOrmModule.forFeature([
      ApiKey,
      User,
      Tenant,
      SigningKey,
      RefreshToken,
      LoginCode,
      ...IDENTITY_ENTITIES,
    ]),
    ApiKeysModule,
    JoinLinksModule,
    UsersModule,
    MembersModule,
    TenantsModule,
  ],
  providers: [
    BasicAuthService,
    BasicStrategy,
    JwtStrategy,
    ExternalJwtStrategy,
    SigningKeysService,
    SessionCheckService,
    TokenService,
    MeResolver,
    AuthResolver,
    IdentityProvidersService,
    IdentityProvidersResolver,
    ProvisioningService,
    SsoLoginService,
    OidcService,
    SamlService,
    AuthSuccessSummary,
    // Order matters: anonymous per-IP budgets, then authentication (which charges the principal's
    // and tenant's budgets before counting the success), then roles.
    // The last two are also exported: the lanes in front of Express (compat) run the same checks.
    AuthenticationGuard,
    RolesGuard,
    { provide: APP_GUARD, useClass: PublicRateLimitGuard },
    { provide: APP_GUARD, useExisting: AuthenticationGuard },
    { provide: APP_GUARD, useExisting: RolesGuard },
  ],
  controllers: [JwksController, OidcController, SamlController],
  exports: [
    BasicAuthService,
    TokenService,
    SigningKeysService,
    IdentityProvidersService,
    AuthenticationGuard,
    RolesGuard,
  ],
})
export class AuthModule {}
