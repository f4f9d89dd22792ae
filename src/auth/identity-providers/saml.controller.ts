import { Body, Controller, Get, Header, Param, Post, Query, Res } from '@nestjs/common';
import { type Response } from 'express';
import { Public } from '../../common/auth/decorators';
import { Meta, type RequestMeta } from '../../common/context';
import { RateLimit } from '../../rate-limits/rate-limit.guard';
import { SamlService } from './saml.service';

/** Browser and IdP endpoints of the SAML sign-in. */
@RateLimit('sso')
@Controller('auth/saml/:slug')
export class SamlController {
  constructor(private readonly saml: SamlService) {}

  @Public()
  @Get('metadata')
  @Header('Content-Type', 'application/samlmetadata+xml; charset=utf-8')
  metadata(@Param('slug') slug: string): Promise<string> {
    return this.saml.metadata(slug);
  }

  @Public()
  @Get('login')
  async login(
    @Param('slug') slug: string,
    @Query('redirect_uri') redirectUri: unknown,
    @Res() res: Response,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(302, await this.saml.start(slug, redirectUri));
  }

  /** HTTP-POST binding. The body is capped by the URL-encoded parser; nothing of it is logged. */
  @Public()
  @Post('acs')
  async acs(
    @Param('slug') slug: string,
    @Body() body: Record<string, unknown>,
    @Meta() meta: RequestMeta,
    @Res() res: Response,
  ): Promise<void> {
    res.setHeader('Cache-Control', 'no-store');
    res.redirect(303, await this.saml.acs(slug, body ?? {}, meta));
  }
}
