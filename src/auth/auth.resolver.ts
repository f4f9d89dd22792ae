import { Inject } from '@nestjs/common';
import { Args, Context, Mutation, Resolver } from '@nestjs/graphql';
import { type Request, type Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { Public, Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, Meta, type RequestContext, type RequestMeta } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { RateLimit } from '../rate-limits/rate-limit.guard';
import { AuditService } from '../audit/audit.service';
import { BasicAuthService } from './basic-auth.service';
import { AuthPayloadModel, LoginInput } from './dto/auth.model';
import { recordAuthFailure } from './authentication-failed';
import {
  assertCookieSessionPossible,
  clearSessionCookies,
  cookieRequestAllowed,
  refreshCookieToken,
  setSessionCookies,
} from './cookie-session';
import { type IssuedTokens, TokenService } from './tokens/token.service';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { Tenant } from '../tenants/tenant.entity';
import { User } from '../users/user.entity';
import { AuthMethod } from '../common/auth/roles';
import { MetricsService } from '../common/metrics/metrics.service';

/** The GraphQL context's request and response (cookies are read from one, set on the other). */
interface Http {
  req: Request;
  res: Response;
}

@Resolver(() => AuthPayloadModel)
export class AuthResolver {
  constructor(
    private readonly basic: BasicAuthService,
    private readonly tokens: TokenService,
    private readonly audit: AuditService,
    @InjectRepository(User) private readonly users: Repository<User>,
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * The payload, with the tokens in the body — or, for a cookie session, in HttpOnly cookies and
   * not in the body (empty strings), where page scripts cannot read them.
   */
  private answer(tokens: IssuedTokens, cookie: boolean, http: Http): AuthPayloadModel {
    if (!cookie) return AuthPayloadModel.from(tokens);
    setSessionCookies(http.req, http.res, tokens, this.config.auth.refreshTokenTtlSeconds);
    return AuthPayloadModel.from({ ...tokens, accessToken: '', refreshToken: '' });
  }

  @Mutation(() => AuthPayloadModel, {
    description: 'Signs in with email and password to one tenant.',
  })
  @Public()
  @RateLimit('login')
  async login(
    @Meta() meta: RequestMeta,
    @Args('input') input: LoginInput,
    @Context() http: Http,
  ): Promise<AuthPayloadModel> {
    // Refused before the password is checked: a session that could not be delivered is not started.
    if (input.cookie === true) assertCookieSessionPossible(http.req);
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
      return this.answer(
        await this.tokens.startSession(user, tenant, p.role, AuthMethod.BASIC_PASSWORD, meta),
        input.cookie === true,
        http,
      );
    } catch (err) {
      // Rate-limit refusals are summarised per minute by the limiter, not audited one by one.
      if (err instanceof DomainException && err.code !== ErrorCode.RATE_LIMITED) {
        await recordAuthFailure(this.audit, this.metrics, meta, err);
      }
      throw err;
    }
  }

  @Mutation(() => AuthPayloadModel, {
    description:
      "Trades a refresh token for new tokens. Each refresh token works once; reusing one ends the session. Without the argument, the cookie session's refresh cookie is used and the new tokens are set as cookies again.",
  })
  @Public()
  @RateLimit('refresh_token')
  async refreshToken(
    @Meta() meta: RequestMeta,
    @Context() http: Http,
    @Args('refreshToken', { type: () => String, nullable: true }) refreshToken?: string | null,
  ): Promise<AuthPayloadModel> {
    const cookie = refreshToken == null;
    const raw = refreshToken ?? refreshCookieToken(http.req);
    if (raw === undefined)
      throw DomainException.badInput('refreshToken', 'Give refreshToken, or sign in with a cookie');
    // The refresh cookie is a credential: only Roomkey's own pages may spend it.
    if (cookie && !cookieRequestAllowed(http.req, [])) {
      throw DomainException.forbidden(
        'The refresh cookie is accepted only from Roomkey itself',
        'cookie_origin',
      );
    }
    if (raw.length > 512) throw DomainException.badInput('refreshToken', 'Invalid refresh token');
    return this.answer(await this.tokens.refresh(raw, meta), cookie, http);
  }

  @Mutation(() => AuthPayloadModel, {
    description: 'Trades the one-time code from an OIDC or SAML sign-in for tokens.',
  })
  @Public()
  @RateLimit('login_code')
  async exchangeLoginCode(
    @Meta() meta: RequestMeta,
    @Context() http: Http,
    @Args('code', { type: () => String }) code: string,
    @Args('cookie', {
      type: () => Boolean,
      nullable: true,
      description: 'Start a cookie session: the tokens go into HttpOnly cookies, not the answer.',
    })
    cookie?: boolean | null,
  ): Promise<AuthPayloadModel> {
    if (code.length > 512) throw DomainException.badInput('code', 'Invalid code');
    // Refused before the one-time code is spent.
    if (cookie === true) assertCookieSessionPossible(http.req);
    return this.answer(await this.tokens.exchangeLoginCode(code, meta), cookie === true, http);
  }

  @Mutation(() => Boolean, {
    description: 'Ends the current session (the refresh-token family of this access token).',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER)
  async logout(@Ctx() ctx: RequestContext, @Context() http: Http): Promise<boolean> {
    if (!ctx.sessionId || !ctx.userId) {
      throw DomainException.badInput(
        'authorization',
        'logout needs a Roomkey access token (Basic and API keys have no session)',
      );
    }
    const done = await this.tokens.logout(ctx, ctx.tenantId, ctx.userId, ctx.sessionId);
    clearSessionCookies(http.req, http.res);
    return done;
  }
}
