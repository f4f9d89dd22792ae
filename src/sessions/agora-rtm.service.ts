import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { type RequestContext } from '../common/context';
import { AgoraAdapter } from '../providers/agora/agora.adapter';
import { ProviderCredentialsService } from '../providers/provider-credentials.service';
import { checkLinkRtm } from '../join-links/join-link-scope';
import { ProviderKind } from '../providers/provider-kind';
import { type JoinOrigin } from './connections.service';

/**
 * Agora RTM (signalling) tokens belong to a user, not to a channel, so they have no session or
 * connection row; each one is still minted by the Agora adapter and audited. A stream channel, when
 * given, adds its join and publish-data privileges to the token (and is recorded with it).
 */
@Injectable()
export class AgoraRtmService {
  constructor(
    private readonly credentials: ProviderCredentialsService,
    private readonly agora: AgoraAdapter,
    private readonly audit: AuditService,
  ) {}

  async issue(
    ctx: RequestContext,
    credentialId: string | null,
    userId: string,
    ttlSeconds: number,
    origin: JoinOrigin,
    streamChannel: string | null = null,
  ): Promise<{ token: string; expiresAt: Date }> {
    if (ctx.joinLink) checkLinkRtm(ctx.joinLink, streamChannel);
    const cred = await this.credentials.resolve(ctx, credentialId, ProviderKind.AGORA);
    const token = await this.agora.rtmToken(cred, userId, ttlSeconds, streamChannel);
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    await this.audit.record(null, ctx, {
      action: 'agora.rtm_token.issued',
      targetType: 'provider_credential',
      targetId: cred.id,
      metadata: {
        userId,
        streamChannel,
        expiresAt: expiresAt.toISOString(),
        via: origin.via,
        route: origin.route,
      },
    });
    return { token, expiresAt };
  }
}
