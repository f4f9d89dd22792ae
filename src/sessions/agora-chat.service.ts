import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { refuseLink } from '../join-links/join-link-scope';
import { AgoraAdapter } from '../providers/agora/agora.adapter';
import { agoraChatUser } from '../providers/agora/agora-limits';
import { ProviderCredentialsService } from '../providers/provider-credentials.service';
import { ProviderKind } from '../providers/provider-kind';
import { type JoinOrigin } from './connections.service';

/**
 * Agora Chat tokens, like RTM tokens, belong to a user (or to the whole Chat app), not to a
 * channel: no session or connection row, one audit event each. An app token (no user) carries the
 * Chat REST API's app-wide privilege — it administers every Chat user of the Agora project — so,
 * like a MODERATOR credential, only an OWNER or ADMIN may have one.
 */
@Injectable()
export class AgoraChatService {
  constructor(
    private readonly credentials: ProviderCredentialsService,
    private readonly agora: AgoraAdapter,
    private readonly audit: AuditService,
  ) {}

  /** `userId` null: an app token. `field` names the user id as the caller's route does. */
  async issue(
    ctx: RequestContext,
    credentialId: string | null,
    userId: string | null,
    ttlSeconds: number,
    origin: JoinOrigin,
    field = 'uid',
  ): Promise<{ token: string; expiresAt: Date }> {
    refuseLink(ctx.joinLink, 'Chat tokens');
    if (userId === null && !roleAtLeast(ctx.role, MemberRole.ADMIN)) {
      throw DomainException.forbidden(
        'Only OWNER or ADMIN can issue Chat app tokens',
        'chat_app_requires_admin',
      );
    }
    if (userId !== null) agoraChatUser(userId, field);
    const cred = await this.credentials.resolve(ctx, credentialId, ProviderKind.AGORA);
    const token = await this.agora.chatToken(cred, userId, ttlSeconds);
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    await this.audit.record(null, ctx, {
      action: 'agora.chat_token.issued',
      targetType: 'provider_credential',
      targetId: cred.id,
      metadata: {
        scope: userId === null ? 'app' : 'user',
        userId,
        expiresAt: expiresAt.toISOString(),
        via: origin.via,
        route: origin.route,
      },
    });
    return { token, expiresAt };
  }
}
