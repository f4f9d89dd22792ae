import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { ChatTokenBuilder, RtmTokenBuilder } from 'agora-token';
import { AccessToken2, ServiceRtc, ServiceRtm } from 'agora-token/src/AccessToken2';
import { DomainException } from '../../common/errors';
import { AGORA_CHANNEL, vendorName } from '../names';
import {
  AGORA_MAX_TTL,
  agoraAccount,
  agoraChatUser,
  agoraRtmUser,
  agoraStreamChannel,
  agoraUid,
} from './agora-limits';
import { agoraRtcToken } from './agora-rtc-token';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import {
  type IssuedJoin,
  type JoinRequest,
  type ResolvedCredential,
  type Room,
  type RoomRequest,
  VendorAdapter,
  local,
  requestedRoomId,
} from '../video-provider';
import { type JoinAsk, type PreparedJoin } from '../video-provider';
import { AGORA_CREDENTIAL } from './agora.credential';

/** The `agora` block of a join (createConnection's AgoraConnectionOptionsInput, or a compat route). */
interface AgoraJoinBlock {
  uid?: number | string | null;
  userAccount?: string | null;
  rtm?: boolean | null;
  rtmStreamChannel?: boolean | null;
  chat?: boolean | null;
}

/**
 * Agora: tokens (AccessToken2, "007") are minted locally: RTC tokens by agoraRtcToken, byte for
 * byte the official `agora-token` builders' output at a third of their cost (the hottest mint of
 * all), RTM and Chat tokens by the official `agora-token`. Expiries are seconds from now (not
 * timestamps), a string user is a user account (never parsed as a uid), and every limit is checked
 * here because Agora's builders do not.
 */
@Injectable()
export class AgoraAdapter extends VendorAdapter {
  readonly kind = ProviderKind.AGORA;
  readonly maxTtlSeconds = AGORA_MAX_TTL;
  readonly credential = AGORA_CREDENTIAL;

  /**
   * Agora identities are a uid or a user account from the `agora` block, not `identity`; RTM and
   * Chat tokens for the same user need a non-zero uid or an account (Chat: its own charset).
   */
  override prepareJoin(ask: JoinAsk): PreparedJoin {
    if (ask.identity != null) {
      throw DomainException.badInput(
        'identity',
        'Agora identities are agora.uid or agora.userAccount',
      );
    }
    const { uid, userAccount, rtm, rtmStreamChannel, chat } = (ask.options ?? {}) as AgoraJoinBlock;
    const account = userAccount != null && userAccount !== '';
    if (account) agoraAccount(userAccount);
    else agoraUid(uid);
    if (rtmStreamChannel === true && rtm !== true) {
      throw DomainException.badInput('rtmStreamChannel', 'rtmStreamChannel needs rtm');
    }
    if (chat === true) {
      const user = account ? userAccount : uid ? String(uid) : null;
      if (!user)
        throw DomainException.badInput(
          'chat',
          'A Chat token needs a non-zero uid or a userAccount',
        );
      agoraChatUser(user, account ? 'userAccount' : 'uid');
    }
    return {
      identity: '',
      options: {
        uid,
        userAccount,
        rtm: rtm === true,
        rtmStreamChannel: rtmStreamChannel === true,
        chat: chat === true,
      },
    };
  }

  /** The user account or uid actually minted (uid 0: any user). */
  override recordedIdentity(issued: IssuedJoin): string {
    const { uid, userAccount } = issued.credential;
    if (typeof userAccount === 'string' && userAccount) return userAccount;
    return typeof uid === 'number' ? String(uid) : '0';
  }

  validateRoom(req: RoomRequest): void {
    requestedRoomId(req, AGORA_CHANNEL);
  }

  createRoom(_cred: ResolvedCredential, req: RoomRequest): Promise<Room> {
    return local(() => this.channel(req));
  }

  private channel(req: RoomRequest): Room {
    const channel = vendorName(
      req.customId ?? `rk-${randomBytes(8).toString('hex')}`,
      'channelName',
      AGORA_CHANNEL,
    );
    return { externalId: channel, details: { local: true } };
  }

  closeRoom(): Promise<void> {
    return Promise.resolve(); // channels exist only while someone is in them
  }

  issueJoin(cred: ResolvedCredential, req: JoinRequest): Promise<IssuedJoin> {
    return local(() => this.mint(cred, req));
  }

  private mint(cred: ResolvedCredential, req: JoinRequest): IssuedJoin {
    const channel = vendorName(req.roomExternalId, 'channelName', AGORA_CHANNEL);
    checkTtl(req.ttlSeconds);
    const appId = String(cred.config.appId);
    const cert = cred.secrets.appCertificate;
    const account = req.options?.userAccount;
    let uid: number | null = null;
    let userAccount: string | null = null;
    if (typeof account === 'string' && account !== '') userAccount = agoraAccount(account);
    else uid = agoraUid(req.options?.uid) ?? 0;
    const token = agoraRtcToken({
      appId,
      appCertificate: cert,
      channel,
      user: userAccount ?? uid ?? 0,
      publisher: req.role !== ParticipantRole.SUBSCRIBER,
      expireSeconds: req.ttlSeconds,
    });
    const credential: Record<string, unknown> = { token, appId, channel, uid, userAccount };
    const user = userAccount ?? (uid ? String(uid) : null);
    if (req.options?.rtm === true) {
      if (!user)
        throw DomainException.badInput('uid', 'An RTM token needs a non-zero uid or a userAccount');
      const streamChannel = req.options.rtmStreamChannel === true ? channel : null;
      credential.rtmToken = this.rtm(cred, user, req.ttlSeconds, streamChannel);
    }
    if (req.options?.chat === true) {
      if (!user)
        throw DomainException.badInput('uid', 'A Chat token needs a non-zero uid or a userAccount');
      credential.chatToken = this.chat(cred, user, req.ttlSeconds);
    }
    return {
      externalId: null,
      expiresAt: new Date(Date.now() + req.ttlSeconds * 1000),
      credential,
    };
  }

  /**
   * An RTM (signalling) token for one user id. With a stream channel (a channel name, or `*`) it
   * also grants joining that channel and publishing data in it, as the Agora token service's
   * tokens do (go-tokenbuilder's `rtmtokenbuilder.BuildToken` with a `streamName`).
   */
  rtmToken(
    cred: ResolvedCredential,
    userId: string,
    ttlSeconds: number,
    streamChannel: string | null = null,
  ): Promise<string> {
    return local(() => this.rtm(cred, userId, ttlSeconds, streamChannel));
  }

  private rtm(
    cred: ResolvedCredential,
    userId: string,
    ttlSeconds: number,
    streamChannel: string | null,
  ): string {
    agoraRtmUser(userId);
    if (streamChannel !== null) agoraStreamChannel(streamChannel);
    checkTtl(ttlSeconds);
    const appId = String(cred.config.appId);
    const cert = cred.secrets.appCertificate;
    if (streamChannel === null) return RtmTokenBuilder.buildToken(appId, cert, userId, ttlSeconds);
    // RtmTokenBuilder takes no channel: its steps, with the stream channel's service added.
    const token = new AccessToken2(appId, cert, null, ttlSeconds);
    const stream = new ServiceRtc(streamChannel, userId);
    stream.add_privilege(ServiceRtc.kPrivilegeJoinChannel, ttlSeconds);
    stream.add_privilege(ServiceRtc.kPrivilegePublishDataStream, ttlSeconds);
    token.add_service(stream);
    const rtm = new ServiceRtm(userId);
    rtm.add_privilege(ServiceRtm.kPrivilegeLogin, ttlSeconds);
    token.add_service(rtm);
    return token.build();
  }

  /**
   * An Agora Chat token: a user token for one Chat user id, or, with no user, an app token (the
   * Chat REST API's app-wide privilege: callers decide who may have one).
   */
  chatToken(cred: ResolvedCredential, userId: string | null, ttlSeconds: number): Promise<string> {
    return local(() => this.chat(cred, userId, ttlSeconds));
  }

  private chat(cred: ResolvedCredential, userId: string | null, ttlSeconds: number): string {
    if (userId !== null) agoraChatUser(userId);
    checkTtl(ttlSeconds);
    const appId = String(cred.config.appId);
    const cert = cred.secrets.appCertificate;
    return userId === null
      ? ChatTokenBuilder.buildAppToken(appId, cert, ttlSeconds)
      : ChatTokenBuilder.buildUserToken(appId, cert, userId, ttlSeconds);
  }

  /** An Agora token cannot be revoked before it expires (keep TTLs short). */
  revokeJoin(): Promise<void> {
    return Promise.resolve();
  }

  listRooms(): Promise<Room[]> {
    return Promise.resolve([]);
  }

  /** Local self-check: the app id and certificate produce a well-formed token. */
  checkHealth(cred: ResolvedCredential): Promise<string> {
    return local(() => this.selfCheck(cred));
  }

  private selfCheck(cred: ResolvedCredential): string {
    const t = agoraRtcToken({
      appId: String(cred.config.appId),
      appCertificate: cred.secrets.appCertificate,
      channel: 'roomkey-self-check',
      user: 0,
      publisher: false,
      expireSeconds: 60,
    });
    if (!t.startsWith('007'))
      throw DomainException.badInput(
        'appCertificate',
        'Agora credentials could not produce a token',
      );
    return 'local self-check passed (Agora tokens are minted without calling Agora)';
  }
}

function checkTtl(ttlSeconds: number): void {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > AGORA_MAX_TTL) {
    throw DomainException.badInput('ttlSeconds', `ttlSeconds must be 1..${AGORA_MAX_TTL}`);
  }
}
