import { Injectable } from '@nestjs/common';
import { AuditService } from '../../audit/audit.service';
import { MemberRole, roleAtLeast } from '../../common/auth/roles';
import { type JoinOrigin, type RequestContext } from '../../common/context';
import { DomainException } from '../../common/errors';
import { codeName, issueLane } from '../../common/metrics/labels';
import { MetricsService } from '../../common/metrics/metrics.service';
import { checkLinkRoom, checkLinkVendor, refuseLink } from '../../join-links/join-link-scope';
import { type JoinLinkScope } from '../../common/auth/principal';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import { CredentialVault } from '../vault/credential-vault';
import { AgoraAdapter } from './agora.adapter';
import { agoraChatUser, agoraStreamChannel } from './agora-limits';

/** A minted user token and when it expires. */
export interface UserToken {
  token: string;
  expiresAt: Date;
}

/**
 * Agora RTM (signalling) and Chat tokens belong to a user (or, for Chat, to the whole app), not to
 * a channel: they have no session or connection row, and each one is minted by the Agora adapter
 * and audited once.
 */
@Injectable()
export class AgoraUserTokens {
  constructor(
    private readonly vault: CredentialVault,
    private readonly agora: AgoraAdapter,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {}

  /**
   * An RTM token. A stream channel, when given, adds its join and publish-data privileges to the
   * token (and is recorded with it).
   */
  async rtm(
    ctx: RequestContext,
    credentialId: string | null,
    userId: string,
    ttlSeconds: number,
    origin: JoinOrigin,
    streamChannel: string | null = null,
  ): Promise<UserToken> {
    if (ctx.joinLink) checkLinkRtm(ctx.joinLink, streamChannel);
    const cred = await this.vault.resolve(ctx, credentialId, ProviderKind.AGORA);
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
    this.issued(ctx, 'rtm_token', origin);
    return { token, expiresAt };
  }

  /**
   * A Chat token; `userId` null: an app token, which carries the Chat REST API's app-wide
   * privilege (it administers every Chat user of the Agora project) — so, like a MODERATOR
   * credential, only an OWNER or ADMIN may have one. `field` names the user id as the caller's
   * route does.
   */
  async chat(
    ctx: RequestContext,
    credentialId: string | null,
    userId: string | null,
    ttlSeconds: number,
    origin: JoinOrigin,
    field = 'uid',
  ): Promise<UserToken> {
    refuseLink(ctx.joinLink, 'Chat tokens');
    if (userId === null && !roleAtLeast(ctx.role, MemberRole.ADMIN)) {
      throw DomainException.forbidden(
        'Only OWNER or ADMIN can issue Chat app tokens',
        'chat_app_requires_admin',
      );
    }
    if (userId !== null) agoraChatUser(userId, field);
    const cred = await this.vault.resolve(ctx, credentialId, ProviderKind.AGORA);
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
    this.issued(ctx, 'chat_token', origin);
    return { token, expiresAt };
  }

  private issued(ctx: RequestContext, kind: 'rtm_token' | 'chat_token', origin: JoinOrigin): void {
    this.metrics.credentialsIssued
      .of(
        'agora',
        kind,
        'none',
        issueLane(ctx.joinLink !== null, origin.via),
        codeName(origin.route),
      )
      .inc();
  }
}

/**
 * An Agora RTM token through a link. A login alone reaches every message channel of the app, so
 * only a link whose pattern is `*` issues one; a stream channel is a room (its pattern must cover
 * it, checked as a valid channel name first) and carries publish-data rights, so a SUBSCRIBER
 * link issues none.
 */
function checkLinkRtm(scope: JoinLinkScope, streamChannel: string | null): void {
  checkLinkVendor(scope, ProviderKind.AGORA);
  if (streamChannel === null) {
    if (scope.roomPattern !== '*') {
      throw DomainException.forbidden(
        'This join link issues RTM tokens only for stream channels it covers',
        'join_link_room',
      );
    }
    return;
  }
  if (scope.maxRole === ParticipantRole.SUBSCRIBER) {
    throw DomainException.forbidden(
      'A stream channel lets its user publish data: this join link issues at most SUBSCRIBER',
      'join_link_role',
    );
  }
  checkLinkRoom(scope, ProviderKind.AGORA, agoraStreamChannel(streamChannel));
}
