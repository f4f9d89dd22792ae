import { Controller, HttpCode, Inject, Logger, Param, Post, Req } from '@nestjs/common';
import { type Request } from 'express';
import { Public } from '../common/auth/decorators';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { Meta, type RequestMeta } from '../common/context';
import { RateLimiter, type Rule, clientKey } from '../rate-limits/rate-limiter.service';
import { Red5AuthService } from '../sessions/red5-auth.service';

type Red5Answer = { result: boolean };

/**
 * Red5 Pro round-trip authentication (Red5's RoundTripAuthValidator calls these). Red5 sends no
 * credential of its own: what it validates is the issued credential itself. Always HTTP 200 with
 * `{"result": …}` — Red5 denies on anything else anyway, and a clear false is easier to trace.
 * The body is read raw (capped) and never logged.
 *
 * Rate limits (per client IP and per tenant slug) are checked first, before the body is parsed or
 * the database touched; over budget is the same `{"result": false}` with HTTP 200 — Red5 knows no
 * other answer — and the refusals are audited as per-minute summaries, not one event each.
 */
@Controller('t/:tenantSlug/red5')
export class Red5CompatController {
  private readonly logger = new Logger('Red5');

  private readonly perIp: Rule;
  private readonly perTenant: Rule;

  constructor(
    private readonly red5: Red5AuthService,
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.perIp = limiter.perMinute('red5_ip', config.rateLimits.red5PerIp);
    this.perTenant = limiter.perMinute('red5_tenant', config.rateLimits.red5PerTenant);
  }

  @Public()
  @Post('validateCredentials')
  @HttpCode(200)
  async validate(
    @Param('tenantSlug') slug: string,
    @Req() req: Request,
    @Meta() meta: RequestMeta,
  ): Promise<Red5Answer> {
    return this.answer(slug, meta, 'POST /t/:tenantSlug/red5/validateCredentials', () =>
      this.red5.validate(slug, req.rawBody, !!req.rawBodyTooLarge, meta),
    );
  }

  @Public()
  @Post('invalidateCredentials')
  @HttpCode(200)
  async invalidate(
    @Param('tenantSlug') slug: string,
    @Req() req: Request,
    @Meta() meta: RequestMeta,
  ): Promise<Red5Answer> {
    return this.answer(slug, meta, 'POST /t/:tenantSlug/red5/invalidateCredentials', () =>
      this.red5.invalidate(slug, req.rawBody, !!req.rawBodyTooLarge, meta),
    );
  }

  /** Any failure (the database, say) is a denial, still with HTTP 200. */
  private async answer(
    slug: string,
    meta: RequestMeta,
    route: string,
    decide: () => Promise<boolean>,
  ): Promise<Red5Answer> {
    try {
      const key = slug.toLowerCase().slice(0, 64);
      const where = { route, clientIp: meta.clientIp, tenantSlug: key };
      const [byIp, byTenant] = await Promise.all([
        this.limiter.consume(this.perIp, clientKey(meta.clientIp), where),
        this.limiter.consume(this.perTenant, key, where),
      ]);
      if (byIp > 0 || byTenant > 0) return { result: false };
      return { result: await decide() };
    } catch (err) {
      this.logger.error(
        { err: err instanceof Error ? err.name : 'error' },
        'Red5 validation failed',
      );
      return { result: false };
    }
  }
}
