import { Controller, Get, Param, Query, Res } from '@nestjs/common';
import { type Response } from 'express';
import { Public } from '../../common/auth/decorators';
import { Meta, type RequestMeta } from '../../common/context';
import { RateLimit } from '../../rate-limits/rate-limit.guard';
import { OidcService } from './oidc.service';

/** Browser endpoints of the OIDC sign-in. Both end in a redirect (or a plain 4xx error). */
@RateLimit('sso')
@Controller('auth/oidc/:slug')
export class OidcController {
  constructor(private readonly oidc: OidcService) {}

  @Public()
  @Get('login')
  async login(
    @Param('slug') slug: string,
    @Query('redirect_uri') redirectUri: unknown,
    @Res() res: Response,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, await this.oidc.start(slug, redirectUri));
  }

  @Public()
  @Get('callback')
  async callback(
    @Param('slug') slug: string,
    @Query() query: Record<string, unknown>,
    @Meta() meta: RequestMeta,
    @Res() res: Response,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.redirect(302, await this.oidc.callback(slug, query, meta));
  }
}
