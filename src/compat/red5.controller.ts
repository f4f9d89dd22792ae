import { Controller, HttpCode, Logger, Param, Post, Req } from '@nestjs/common';
import { type Request } from 'express';
import { Public } from '../common/auth/decorators';
import { Meta, type RequestMeta } from '../common/context';
import { Red5AuthService } from '../sessions/red5-auth.service';

type Red5Answer = { result: boolean };

/**
 * Red5 Pro round-trip authentication (Red5's RoundTripAuthValidator calls these). Red5 sends no
 * credential of its own: what it validates is the issued credential itself. Always HTTP 200 with
 * `{"result": …}` — Red5 denies on anything else anyway, and a clear false is easier to trace.
 * The body is read raw (capped) and never logged.
 *
 * Rate limits and the per-tenant gate run before this, as the first Express middleware
 * (rate-limits/red5-admission.ts): a refused request never reaches Nest.
 */
@Controller('t/:tenantSlug/red5')
export class Red5CompatController {
  private readonly logger = new Logger('Red5');

  constructor(private readonly red5: Red5AuthService) {}

  @Public()
  @Post('validateCredentials')
  @HttpCode(200)
  async validate(
    @Param('tenantSlug') slug: string,
    @Req() req: Request,
    @Meta() meta: RequestMeta,
  ): Promise<Red5Answer> {
    return this.answer(() =>
      this.red5.validate(slug, req.rawBody, !!req.rawBodyTooLarge, meta, req.red5Decided),
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
    return this.answer(() =>
      this.red5.invalidate(slug, req.rawBody, !!req.rawBodyTooLarge, meta, req.red5Decided),
    );
  }

  /** Any failure (the database, say) is a denial, still with HTTP 200. */
  private async answer(decide: () => Promise<boolean>): Promise<Red5Answer> {
    try {
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
