import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { AccessToken, type VideoGrant } from 'livekit-server-sdk';
import { DomainException } from '../../common/errors';
import { VendorHttp, type VendorOperation } from '../http/vendor-http';
import { LIVEKIT_NAME, vendorName } from '../names';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import {
  type CallOptions,
  type IssuedJoin,
  type JoinRequest,
  type ResolvedCredential,
  type Room,
  type RoomRequest,
  VendorAdapter,
  requestedRoomId,
} from '../video-provider';
import { LIVEKIT_CREDENTIAL } from './livekit.credential';
import { LIVEKIT_WEBHOOK } from './livekit.webhook';

/** The RoomService methods called, and what each does (the metrics' operation). */
const TWIRP_OPERATIONS = {
  CreateRoom: 'create_room',
  DeleteRoom: 'close_room',
  ListRooms: 'list_rooms',
  RemoveParticipant: 'revoke_join',
} as const satisfies Record<string, VendorOperation>;

/** Video grant per role: subscribers cannot publish; moderators also get roomAdmin. */
export function livekitGrant(role: ParticipantRole, room: string): VideoGrant {
  const publisher = role !== ParticipantRole.SUBSCRIBER;
  return {
    roomJoin: true,
    room,
    canSubscribe: true,
    canPublish: publisher,
    canPublishData: publisher,
    ...(role === ParticipantRole.MODERATOR ? { roomAdmin: true } : {}),
  };
}

/**
 * OpenVidu 3 / LiveKit: join tokens are minted locally with the official AccessToken (HS256 with
 * the API secret); rooms are managed through the Twirp RoomService with a short-lived server token.
 */
@Injectable()
export class LiveKitAdapter extends VendorAdapter {
  readonly kind = ProviderKind.LIVEKIT;
  readonly maxTtlSeconds = 86_400;
  readonly credential = LIVEKIT_CREDENTIAL;
  override readonly webhook = LIVEKIT_WEBHOOK;

  constructor(private readonly http: VendorHttp) {
    super();
  }

  private async twirp(
    cred: ResolvedCredential,
    method: keyof typeof TWIRP_OPERATIONS,
    body: Record<string, unknown>,
    grant: VideoGrant,
    idempotent: boolean,
    opts?: CallOptions,
    accept?: number[],
  ) {
    const at = new AccessToken(String(cred.config.apiKey), cred.secrets.apiSecret, { ttl: 60 });
    at.addGrant(grant);
    return this.http.request(
      cred,
      {
        operation: TWIRP_OPERATIONS[method],
        method: 'POST',
        url: `${String(cred.config.url).replace(/\/$/, '')}/twirp/livekit.RoomService/${method}`,
        headers: { authorization: `Bearer ${await at.toJwt()}` },
        body,
        idempotent,
        accept,
      },
      opts,
    );
  }

  validateRoom(req: RoomRequest): void {
    requestedRoomId(req, LIVEKIT_NAME);
  }

  async createRoom(cred: ResolvedCredential, req: RoomRequest, opts?: CallOptions): Promise<Room> {
    const name = vendorName(
      req.customId ?? `rk-${randomBytes(8).toString('hex')}`,
      'roomName',
      LIVEKIT_NAME,
    );
    const body: Record<string, unknown> = { name };
    for (const k of ['emptyTimeout', 'maxParticipants', 'metadata'])
      if (req.options?.[k] !== undefined) body[k] = req.options[k];
    const res = await this.twirp(cred, 'CreateRoom', body, { roomCreate: true }, true, opts);
    return { externalId: name, details: (res.json as Record<string, unknown>) ?? {} };
  }

  async closeRoom(cred: ResolvedCredential, room: string, opts?: CallOptions): Promise<void> {
    await this.twirp(cred, 'DeleteRoom', { room }, { roomCreate: true }, true, opts, [404]);
  }

  async issueJoin(
    cred: ResolvedCredential,
    req: JoinRequest,
    _opts?: CallOptions,
  ): Promise<IssuedJoin> {
    const room = vendorName(req.roomExternalId, 'roomName', LIVEKIT_NAME);
    const identity = vendorName(req.identity, 'identity', LIVEKIT_NAME);
    if (
      !Number.isInteger(req.ttlSeconds) ||
      req.ttlSeconds < 1 ||
      req.ttlSeconds > this.maxTtlSeconds
    ) {
      throw DomainException.badInput('ttlSeconds', `ttlSeconds must be 1..${this.maxTtlSeconds}`);
    }
    const at = new AccessToken(String(cred.config.apiKey), cred.secrets.apiSecret, {
      identity,
      name: req.displayName ?? undefined,
      metadata: req.data ?? undefined,
      ttl: req.ttlSeconds,
    });
    at.addGrant(livekitGrant(req.role, room));
    const token = await at.toJwt();
    return {
      externalId: identity,
      expiresAt: new Date(Date.now() + req.ttlSeconds * 1000),
      credential: {
        token,
        serverUrl: String(cred.config.url).replace(/^http/, 'ws'),
        identity,
        room,
      },
    };
  }

  async revokeJoin(
    cred: ResolvedCredential,
    room: string,
    identity: string,
    opts?: CallOptions,
  ): Promise<void> {
    await this.twirp(
      cred,
      'RemoveParticipant',
      { room, identity },
      { roomAdmin: true, room },
      true,
      opts,
      [404],
    );
  }

  async listRooms(cred: ResolvedCredential, opts?: CallOptions): Promise<Room[]> {
    const res = await this.twirp(cred, 'ListRooms', {}, { roomList: true }, true, opts);
    const rooms = (res.json as { rooms?: Array<{ name?: unknown }> })?.rooms ?? [];
    return rooms
      .filter((r) => typeof r.name === 'string')
      .map((r) => ({ externalId: r.name as string, details: r }));
  }

  async checkHealth(cred: ResolvedCredential, opts?: CallOptions): Promise<string> {
    return `reachable; ${(await this.listRooms(cred, opts)).length} room(s)`;
  }
}
