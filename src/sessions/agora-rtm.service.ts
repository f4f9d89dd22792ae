import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { type RequestContext } from '../common/context';
import { AgoraAdapter } from '../providers/adapters/agora.adapter';
import { ProviderCredentialsService } from '../providers/provider-credentials.service';
import { ProviderKind } from '../providers/provider-kind';
import { type JoinOrigin } from './connections.service';

/**
 * Agora RTM (signalling) tokens belong to a user, not to a channel, so they have no session or
 * connection row; each one is still minted by the Agora adapter and audited.
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
  ): Promise<{ token: string; expiresAt: Date }> {
    const cred = await this.credentials.resolve(ctx, credentialId, ProviderKind.AGORA);
    const token = await this.agora.rtmToken(cred, userId, ttlSeconds);
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    await this.audit.record(null, ctx, {
      action: 'agora.rtm_token.issued',
      targetType: 'provider_credential',
      targetId: cred.id,
      metadata: {
        userId,
        expiresAt: expiresAt.toISOString(),
        via: origin.via,
        route: origin.route,
      },
    });
    return { token, expiresAt };
  }
}
