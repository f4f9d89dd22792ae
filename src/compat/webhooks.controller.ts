import { Controller, Headers, HttpCode, Param, Post, Req } from '@nestjs/common';
import { type Request } from 'express';
import { Public } from '../common/auth/decorators';
import { Meta, type RequestMeta } from '../common/context';
import { DomainException } from '../common/errors';
import { ProviderRegistry } from '../providers/provider-registry';
import { RateLimit } from '../rate-limits/rate-limit.guard';
import {
  type RawWebhookBody,
  type WebhookResult,
  WebhooksService,
} from '../sessions/webhooks.service';

/**
 * Vendor webhooks, per vendor and credential (`/t/:slug/webhooks/openvidu/:id`, `…/livekit/:id`).
 * Public: the vendor authenticates by its own scheme (its adapter's WebhookVerifier), checked on
 * the raw body; a vendor that sends none has no route here.
 */
@RateLimit('webhook')
@Controller('t/:tenantSlug/webhooks')
export class WebhooksController {
  constructor(
    private readonly webhooks: WebhooksService,
    private readonly registry: ProviderRegistry,
  ) {}

  @Public()
  @Post(':vendor/:credentialId')
  @HttpCode(200)
  async receive(
    @Param('tenantSlug') slug: string,
    @Param('vendor') vendor: string,
    @Param('credentialId') credentialId: string,
    @Headers('authorization') authorization: string | undefined,
    @Req() req: Request,
    @Meta() meta: RequestMeta,
  ): Promise<{ result: WebhookResult }> {
    const kind = this.registry.kindOfBlock(vendor);
    if (!kind) throw DomainException.notFound('Webhook route');
    return {
      result: await this.webhooks.receive(
        kind,
        slug,
        credentialId,
        authorization,
        bodyOf(req),
        meta,
      ),
    };
  }
}

function bodyOf(req: Request): RawWebhookBody {
  return { raw: req.rawBody, tooLarge: !!req.rawBodyTooLarge };
}
