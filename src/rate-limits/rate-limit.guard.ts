import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  SetMetadata,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { type Request } from 'express';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { requestOf } from '../common/context';
import { RateLimiter, type Rule, clientKey } from './rate-limiter.service';

/** Per-IP budgets of anonymous routes (README "Rate limits"). */
export type PublicLimit = 'login' | 'refresh_token' | 'login_code' | 'sso' | 'webhook';

const RATE_LIMIT_KEY = 'roomkey:rate-limit';

/**
 * Puts an anonymous route under a per-IP budget, counted per GraphQL root field (aliases count
 * one each) or per HTTP request. Red5 round-trip auth limits itself: it must always answer 200.
 */
export const RateLimit = (limit: PublicLimit): MethodDecorator & ClassDecorator =>
  SetMetadata(RATE_LIMIT_KEY, limit);

/** `graphql:<root field>` or `<METHOD> <route pattern>`: the route named in audit summaries. */
export function routeOf(context: ExecutionContext, req: Request): string {
  if (context.getType<string>() === 'graphql') {
    return `graphql:${GqlExecutionContext.create(context).getInfo<{ fieldName: string }>().fieldName}`;
  }
  const pattern = (req.route as { path?: unknown } | undefined)?.path;
  return `${req.method} ${typeof pattern === 'string' ? pattern : req.path}`.slice(0, 200);
}

/**
 * First global guard: refuses an over-budget anonymous request with RATE_LIMITED before anything
 * else runs (no database work, no audit append; the refusal goes to the per-minute summary).
 */
@Injectable()
export class PublicRateLimitGuard implements CanActivate {
  private readonly rules: Record<PublicLimit, Rule>;

  constructor(
    private readonly reflector: Reflector,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const { publicPerIp, webhookPerIp } = config.rateLimits;
    this.rules = {
      login: limiter.perMinute('ip_login', publicPerIp),
      refresh_token: limiter.perMinute('ip_refresh_token', publicPerIp),
      login_code: limiter.perMinute('ip_login_code', publicPerIp),
      sso: limiter.perMinute('ip_sso', publicPerIp),
      webhook: limiter.perMinute('ip_webhook', webhookPerIp),
    };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const limit = this.reflector.getAllAndOverride<PublicLimit | undefined>(RATE_LIMIT_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (!limit) return true;
    const req = requestOf(context);
    const ip = clientKey(req.ip);
    const route = routeOf(context, req);
    // Per IP *and route*: a burst of SSO callbacks does not use up the same IP's login starts.
    await this.limiter.enforce(
      this.rules[limit],
      `${ip} ${route}`,
      { route, clientIp: req.ip ?? null },
      ip,
    );
    return true;
  }
}
