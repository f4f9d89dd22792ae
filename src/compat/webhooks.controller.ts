import { Controller, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import { type Request } from 'express';
import { Public } from '../common/auth/decorators';
import { Meta, type RequestMeta } from '../common/context';
import { RateLimit } from '../rate-limits/rate-limit.guard';
import {
  type RawWebhookBody,
  type WebhookResult,
  WebhooksService,
} from '../sessions/webhooks.service';

/**
 * Vendor webhooks, per credential. Public: the vendor authenticates with the credential's
 * webhook secret (OpenVidu) or a body-bound JWT (LiveKit), checked on the raw body.
 */
@RateLimit('webhook')
@Controller('t/:tenantSlug/webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Public()
  @Post('openvidu/:credentialId')
  @HttpCode(200)
  async openvidu(
    @Param('tenantSlug') slug: string,
    @Param('credentialId') credentialId: string,
    @Headers('authorization') authorization: string | undefined,
    @Req() req: Request,
    @Meta() meta: RequestMeta,
  ): Promise<{ result: WebhookResult }> {
    return {
      result: await this.webhooks.openvidu(slug, credentialId, authorization, bodyOf(req), meta),
    };
  }

  @Public()
  @Post('livekit/:credentialId')
  @HttpCode(200)
  async livekit(
    @Param('tenantSlug') slug: string,
    @Param('credentialId') credentialId: string,
    @Headers('authorization') authorization: string | undefined,
    @Req() req: Request,
    @Meta() meta: RequestMeta,
  ): Promise<{ result: WebhookResult }> {
    return {
      result: await this.webhooks.livekit(slug, credentialId, authorization, bodyOf(req), meta),
    };
  }
}

function bodyOf(req: Request): RawWebhookBody {
  return { raw: req.rawBody, tooLarge: !!req.rawBodyTooLarge };
}
