import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { RtmTokenBuilder } from 'agora-token';
import { DomainException } from '../../common/errors';
import { AGORA_CHANNEL, vendorName } from '../names';
import { AGORA_MAX_TTL, agoraAccount, agoraRtmUser, agoraUid } from './agora-limits';
import { agoraRtcToken } from './agora-rtc-token';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import {
  type IssuedJoin,
  type JoinRequest,
  type ResolvedCredential,
  type Room,
  type RoomRequest,
  type VideoProvider,
  local,
  requestedRoomId,
} from '../video-provider';

/**
 * Agora: tokens (AccessToken2, "007") are minted locally: RTC tokens by agoraRtcToken, byte for
 * byte the official `agora-token` builders' output at a third of their cost (the hottest mint of
 * all), RTM tokens by the official `agora-token`. Expiries are seconds from now (not timestamps), a
 * string user is a user account (never parsed as a uid), and every limit is checked here because
 * Agora's builders do not.
 */
@Injectable()
export class AgoraAdapter implements VideoProvider {
  readonly kind = ProviderKind.AGORA;
  readonly maxTtlSeconds = AGORA_MAX_TTL;

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
    if (!Number.isInteger(req.ttlSeconds) || req.ttlSeconds < 1 || req.ttlSeconds > AGORA_MAX_TTL) {
      throw DomainException.badInput('ttlSeconds', `ttlSeconds must be 1..${AGORA_MAX_TTL}`);
    }
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
    if (req.options?.rtm === true) {
      if (!userAccount && !uid)
        throw DomainException.badInput('uid', 'An RTM token needs a non-zero uid or a userAccount');
      credential.rtmToken = this.rtm(cred, userAccount ?? String(uid), req.ttlSeconds);
    }
    return {
      externalId: null,
      expiresAt: new Date(Date.now() + req.ttlSeconds * 1000),
      credential,
    };
  }

  /** An RTM (signalling) token for one user id; not tied to a channel. */
  rtmToken(cred: ResolvedCredential, userId: string, ttlSeconds: number): Promise<string> {
    return local(() => this.rtm(cred, userId, ttlSeconds));
  }

  private rtm(cred: ResolvedCredential, userId: string, ttlSeconds: number): string {
    agoraRtmUser(userId);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > AGORA_MAX_TTL) {
      throw DomainException.badInput('ttlSeconds', `ttlSeconds must be 1..${AGORA_MAX_TTL}`);
    }
    return RtmTokenBuilder.buildToken(
      String(cred.config.appId),
      cred.secrets.appCertificate,
      userId,
      ttlSeconds,
    );
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
