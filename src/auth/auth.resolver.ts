import { Args, Mutation, Resolver } from '@nestjs/graphql';
import { Public, Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, Meta, type RequestContext, type RequestMeta } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { RateLimit } from '../rate-limits/rate-limit.guard';
import { AuditService } from '../audit/audit.service';
import { BasicAuthService } from './basic-auth.service';
import { AuthPayloadModel, LoginInput } from './dto/auth.model';
import { recordAuthFailure } from './authentication-failed';
import { TokenService } from './tokens/token.service';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity';
import { User } from '../users/user.entity';
import { AuthMethod } from '../common/auth/roles';

@Resolver(() => AuthPayloadModel)
export class AuthResolver {
  constructor(
    private readonly basic: BasicAuthService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
  ) {}

  @Mutation(() => AuthPayloadModel, {
    description: 'Signs in with email and password to one tenant.',
  })
  @Public()
  @RateLimit('login')
  async login(
    @Meta() meta: RequestMeta,
    @Args('input') input: LoginInput,
  ): Promise<AuthPayloadModel> {
    try {
      const p = await this.basic.authenticatePassword(
        input.email,
        input.password,
        input.tenantSlug,
        { clientIp: meta.clientIp, route: 'graphql:login' },
      );
      const [user, tenant] = await Promise.all([
        this.users.findOneByOrFail({ id: p.userId! }),
        this.tenants.findOneByOrFail({ id: p.tenantId }),
      ]);
      return AuthPayloadModel.from(
        await this.tokens.startSession(user, tenant, p.role, AuthMethod.BASIC_PASSWORD, meta),
      );
    } catch (err) {
      // Rate-limit refusals are summarised per minute by the limiter, not audited one by one.
      if (err instanceof DomainException && err.code !== ErrorCode.RATE_LIMITED) {
        await recordAuthFailure(this.audit, meta, err);
      }
      throw err;
    }
  }

  @Mutation(() => AuthPayloadModel, {
    description:
      'Trades a refresh token for new tokens. Each refresh token works once; reusing one ends the session.',
  })
  @Public()
  @RateLimit('refresh_token')
  async refreshToken(
    @Meta() meta: RequestMeta,
    @Args('refreshToken', { type: () => String }) refreshToken: string,
  ): Promise<AuthPayloadModel> {
    if (refreshToken.length > 512)
      throw DomainException.badInput('refreshToken', 'Invalid refresh token');
    return AuthPayloadModel.from(await this.tokens.refresh(refreshToken, meta));
  }

  @Mutation(() => AuthPayloadModel, {
    description: 'Trades the one-time code from an OIDC or SAML sign-in for tokens.',
  })
  @Public()
  @RateLimit('login_code')
  async exchangeLoginCode(
    @Meta() meta: RequestMeta,
    @Args('code', { type: () => String }) code: string,
  ): Promise<AuthPayloadModel> {
    if (code.length > 512) throw DomainException.badInput('code', 'Invalid code');
    return AuthPayloadModel.from(await this.tokens.exchangeLoginCode(code, meta));
  }

  @Mutation(() => Boolean, {
    description: 'Ends the current session (the refresh-token family of this access token).',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER)
  async logout(@Ctx() ctx: RequestContext): Promise<boolean> {
    if (!ctx.sessionId || !ctx.userId) {
      throw DomainException.badInput(
        'authorization',
        'logout needs a Roomkey access token (Basic and API keys have no session)',
      );
    }
    return this.tokens.logout(ctx, ctx.tenantId, ctx.userId, ctx.sessionId);
  }
}
