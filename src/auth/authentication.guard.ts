import {
  type CanActivate,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Request } from 'express';
import { type Strategy } from 'passport';
import { AuditService } from '../audit/audit.service';
import { IS_PUBLIC_KEY } from '../common/auth/decorators';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { type RequestMeta, metaOf, requestOf } from '../common/context';
import {
  DomainException,
  ErrorCode,
  describeDatabaseError,
  isDatabaseUnavailable,
} from '../common/errors';
import { AuditOutcome } from '../audit/audit-event.entity';
import { MetricsService } from '../common/metrics/metrics.service';
import { ActorType, AuthMethod, MemberRole } from '../common/auth/roles';
import { RequestContext } from '../common/context';
import { type LinkRequest, linkCheck, linkRequestOf } from '../join-links/join-link-paths';
import { BROWSER_VENDORS } from '../compat/browser-vendors';
import { JoinLinksService, type VerifiedJoinLink } from '../join-links/join-links.service';
import { routeOf } from '../rate-limits/rate-limit.guard';
import {
  type LockScope,
  RateLimiter,
  type Rule,
  clientKey,
} from '../rate-limits/rate-limiter.service';
import { AuthSuccessSummary } from './auth-success-summary';
import { AuthenticationFailed, recordAuthFailure } from './authentication-failed';
import { BasicStrategy } from './strategies/basic.strategy';
import { ExternalJwtStrategy } from './strategies/external-jwt.strategy';
import { JwtStrategy } from './strategies/jwt.strategy';
import { runStrategy } from './strategy-runner';

/** A join link's failures that are guesses (counted towards locks); revoked and expired are not. */
const LINK_GUESSES = new Set(['malformed_link', 'unknown_link', 'bad_secret']);

/** What a strategy reports when the credential is simply not its kind (let the next one try). */
export const NOT_APPLICABLE = 'not_applicable';

/** Turns a strategy's failure info into a short reason code for the audit log. */
function reasonOf(info: unknown): string {
  if (typeof info === 'string') return /^[a-z_]{1,40}$/.test(info) ? info : NOT_APPLICABLE;
  // Duck-typed: errors from other realms (e.g. jsonwebtoken under a test VM) fail `instanceof`.
  const e = info as { name?: unknown; message?: unknown } | null;
  if (e && typeof e === 'object') {
    if (e.name === 'TokenExpiredError') return 'token_expired';
    if (e.name === 'NotBeforeError') return 'token_not_yet_valid';
    if (e.name === 'JsonWebTokenError') return 'token_invalid';
    if (typeof e.message === 'string' && /^[a-z_]{1,40}$/.test(e.message)) return e.message;
  }
  return NOT_APPLICABLE;
}

/**
 * Per-request memo of the authentication attempt. GraphQL runs guards once per root field, and
 * query fields resolve in parallel, so the in-flight attempt itself is shared: one strategy run,
 * one count (or one failure event) per request.
 */
const attempts = new WeakMap<Request, Promise<DomainException | null>>();

/**
 * Global guard: everything needs an authenticated principal unless marked `@Public()`. Tries
 * Basic (API key or password), Roomkey access tokens, then trusted external JWTs. Every failure
 * is an audit event (reason code only, never the credential); successes are counted in memory
 * and audited as one `auth.succeeded.summary` per principal and minute (AuthSuccessSummary).
 */
@Injectable()
export class AuthenticationGuard implements CanActivate {
  private readonly strategies: Strategy[];
  private readonly logger = new Logger('Authentication');

  private readonly principalRule: Rule;
  /** Wrong join links before a link id or a client address is locked (as API keys are). */
  private readonly failureThresholds: { link: number; ip: number };
  private readonly tenantRule: Rule;

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
    private readonly limiter: RateLimiter,
    private readonly successes: AuthSuccessSummary,
    @Inject(APP_CONFIG) config: AppConfig,
    basic: BasicStrategy,
    jwt: JwtStrategy,
    external: ExternalJwtStrategy,
    private readonly joinLinks: JoinLinksService,
    private readonly metrics: MetricsService,
  ) {
    this.strategies = [basic, jwt, external];
    this.principalRule = limiter.perMinute('principal', config.rateLimits.principalPerMinute);
    this.tenantRule = limiter.perMinute('tenant', config.rateLimits.tenantPerMinute);
    this.failureThresholds = {
      link: config.rateLimits.apiKeyFailures,
      ip: config.rateLimits.ipFailures,
    };
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const req = requestOf(context);
    const route = routeOf(context, req);
    let attempt = attempts.get(req);
    const first = !attempt;
    if (!attempt) {
      attempt = this.authenticate(req, route);
      attempts.set(req, attempt);
    }
    const error = await attempt;
    if (error) throw error;
    // The first root field was charged inside `authenticate`; every further one (aliases
    // included) is charged here.
    if (!first) {
      const limited = await this.charge(req.user!, route, metaOf(req));
      if (limited) throw limited;
    }
    return true;
  }

  /**
   * One request (or GraphQL root field) against the principal's and the tenant's budgets. A
   * refusal is summarised by the limiter, never audited one by one.
   */
  private async charge(
    principal: AuthenticatedPrincipal,
    route: string,
    meta: RequestMeta,
    own: { rule: Rule; id: string; source: string; reason: string } = {
      rule: this.principalRule,
      id: `${principal.tenantId}:${principal.actorId ?? principal.actorLabel}`,
      source: principal.actorLabel,
      reason: 'principal_limit',
    },
  ): Promise<DomainException | null> {
    const where = {
      route,
      clientIp: meta.clientIp,
      tenantId: principal.tenantId,
      actorType: principal.actorType,
    };
    const [byOwn, byTenant] = await Promise.all([
      this.limiter.consume(own.rule, own.id, where, own.source),
      this.limiter.consume(this.tenantRule, principal.tenantId, where, principal.tenantSlug),
    ]);
    const retryAfter = Math.max(byOwn, byTenant);
    if (retryAfter === 0) return null;
    return DomainException.rateLimited(retryAfter, byTenant ? 'tenant_limit' : own.reason);
  }

  /**
   * One request's authentication (also run by the lanes in front of Express): the strategies, the
   * principal's and tenant's budgets, the success count or the failure event. Sets `req.user` and
   * returns null, or returns the refusal to answer.
   */
  async authenticate(req: Request, route: string): Promise<DomainException | null> {
    try {
      return await this.tryStrategies(req, route);
    } catch (err) {
      // Whatever escapes a strategy run or the limiter can meet the outage too.
      if (isDatabaseUnavailable(err)) return this.unavailable(req, err);
      throw err;
    }
  }

  /**
   * The credential could not be checked because the database is unreachable: we cannot know
   * whether it is valid, so the answer is "retry later", never UNAUTHENTICATED. No audit event
   * (its write would meet the same outage); a log line with codes only, never the credential.
   */
  private unavailable(req: Request, err: unknown): DomainException {
    this.logger.warn(
      { db: describeDatabaseError(err), requestId: req.id },
      'database unavailable during authentication',
    );
    return DomainException.serviceUnavailable();
  }

  private async tryStrategies(req: Request, route: string): Promise<DomainException | null> {
    const link = linkRequestOf(req);
    if (link) return this.viaLink(req, route, link);
    let reason = req.headers.authorization ? 'unsupported_credentials' : 'missing_credentials';
    for (const strategy of this.strategies) {
      const outcome = await runStrategy(strategy, req);
      if (outcome.kind === 'success') {
        // Charged before the success is counted: a refused request is not a success.
        const limited = await this.charge(outcome.principal, route, metaOf(req));
        if (limited) return limited;
        req.user = outcome.principal;
        // Counted, not appended: one summary per principal and minute (interactive sign-ins
        // record their own event).
        this.successes.note(outcome.principal);
        return null;
      }
      if (outcome.kind === 'error' && isDatabaseUnavailable(outcome.error))
        return this.unavailable(req, outcome.error);
      // passport-jwt reports a failing key lookup as a plain failure.
      if (outcome.kind === 'fail' && isDatabaseUnavailable(outcome.info))
        return this.unavailable(req, outcome.info);
      if (outcome.kind === 'error') {
        const error =
          outcome.error instanceof DomainException
            ? outcome.error
            : DomainException.unauthenticated('strategy_error');
        // Rate-limit refusals are summarised per minute by the limiter, not audited one by one.
        if (error.code !== ErrorCode.RATE_LIMITED) {
          await recordAuthFailure(this.audit, this.metrics, metaOf(req), error);
        }
        return error;
      }
      const r = reasonOf(outcome.info);
      if (r !== NOT_APPLICABLE) reason = r;
    }
    const error = DomainException.unauthenticated(reason);
    await recordAuthFailure(this.audit, this.metrics, metaOf(req), error);
    return error;
  }

  /**
   * A request through a join link (README "Join links"): the link is the only credential looked
   * at. It must be valid, opened on its own vendor's path, from one of its origins, and within
   * its own per-minute budget and the tenant's; its principal carries the link's scope, which the
   * session and join steps enforce.
   */
  private async viaLink(
    req: Request,
    route: string,
    link: LinkRequest,
  ): Promise<DomainException | null> {
    // Wrong links are counted per link id and per client address, as wrong API key secrets are:
    // past the threshold the scope is refused before any lookup (and summarised, not audited one
    // by one), so guessing or flooding with bad links is bounded.
    const meta = metaOf(req);
    const scopes: LockScope[] = [
      { kind: 'api_key', id: link.presented.slice(0, 27), threshold: this.failureThresholds.link },
      ...(meta.clientIp
        ? [
            {
              kind: 'ip_failures' as const,
              id: clientKey(meta.clientIp),
              threshold: this.failureThresholds.ip,
            },
          ]
        : []),
    ];
    try {
      await this.limiter.assertUnlocked(scopes, { route, clientIp: meta.clientIp });
    } catch (err) {
      if (err instanceof DomainException) return err;
      throw err;
    }
    const check = await linkCheck(this.joinLinks, link);
    if (!check.ok) {
      const error = new AuthenticationFailed(
        check.reason,
        AuthMethod.JOIN_LINK,
        check.tenantId,
        check.keyId,
      );
      if (LINK_GUESSES.has(check.reason)) await this.limiter.recordFailure(scopes);
      await recordAuthFailure(this.audit, this.metrics, meta, error);
      return error;
    }
    const principal = linkPrincipal(check.link);
    // Charged first, so refusals below (origin, vendor) are bounded by the link's budget too.
    const limited = await this.charge(principal, route, meta, {
      rule: { name: 'join_link', limit: check.link.ratePerMinute, windowMs: 60_000 },
      id: check.link.id,
      source: check.link.keyId,
      reason: 'join_link_limit',
    });
    if (limited) return limited;
    const origin = req.headers.origin;
    const refusal =
      BROWSER_VENDORS[link.vendor] !== check.link.provider
        ? 'join_link_vendor'
        : origin === undefined || !check.link.origins.includes(origin)
          ? 'join_link_origin'
          : null;
    if (refusal) {
      const denial = DomainException.forbidden(
        refusal === 'join_link_vendor'
          ? `This join link is for ${check.link.provider} routes only`
          : 'This join link cannot be used from this origin',
        refusal,
      );
      await this.audit.recordQuietly(RequestContext.fromPrincipal(principal, meta), {
        action: 'authz.denied',
        outcome: AuditOutcome.DENIED,
        errorCode: denial.code,
        metadata: { operation: route, reason: refusal },
      });
      return denial;
    }
    req.user = principal;
    this.successes.note(principal);
    return null;
  }
}

/** A join link's principal: a MEMBER of its tenant whose every step is bounded by its scope. */
function linkPrincipal(link: VerifiedJoinLink): AuthenticatedPrincipal {
  return {
    actorType: ActorType.JOIN_LINK,
    actorId: link.id,
    actorLabel: link.keyId,
    userId: null,
    apiKeyId: null,
    tenantId: link.tenantId,
    tenantSlug: link.tenantSlug,
    role: MemberRole.MEMBER,
    authMethod: AuthMethod.JOIN_LINK,
    isPlatformAdmin: false,
    joinLink: {
      id: link.id,
      provider: link.provider,
      roomPattern: link.roomPattern,
      maxRole: link.maxRole,
    },
  };
}
