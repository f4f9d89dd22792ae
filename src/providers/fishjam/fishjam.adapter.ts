import { Injectable } from '@nestjs/common';
import { DomainException, ErrorCode } from '../../common/errors';
import { VendorHttp, type VendorOperation, expectField, isString } from '../http/vendor-http';
import { SAFE_ID, vendorName } from '../names';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import {
  type CallOptions,
  type IssuedJoin,
  type JoinRequest,
  type ResolvedCredential,
  type Room,
  type RoomRequest,
  VendorAdapter,
} from '../video-provider';

const ROOM_OPTIONS = ['maxPeers', 'videoCodec', 'roomType', 'public'];
import { type JoinAsk, type PreparedJoin, participantIdentity } from '../video-provider';
import { FISHJAM_CREDENTIAL } from './fishjam.credential';

import { NOT_LIVESTREAM } from './fishjam-limits';

/**
 * Fishjam (Cloud, or the open-source server): rooms and peers with the management token. Adding a
 * peer is not idempotent and is never retried; deletes are. With the join option `livestream`, a
 * SUBSCRIBER gets a livestream viewer token (`POST /room/{id}/viewer`) and a PUBLISHER a streamer
 * token (`POST /room/{id}/streamer`) instead of a peer; neither is retried either.
 */
@Injectable()
export class FishjamAdapter extends VendorAdapter {
  readonly kind = ProviderKind.FISHJAM;
  readonly maxTtlSeconds = 86_400; // peer tokens live 24 h
  readonly credential = FISHJAM_CREDENTIAL;

  constructor(private readonly http: VendorHttp) {
    super();
  }

  private req(
    cred: ResolvedCredential,
    operation: VendorOperation,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    body: unknown,
    idempotent: boolean,
    opts?: CallOptions,
    accept?: number[],
  ) {
    return this.http.request(
      cred,
      {
        operation,
        method,
        url: `${String(cred.config.fishjamUrl).replace(/\/$/, '')}${path}`,
        headers: { authorization: `Bearer ${cred.secrets.managementToken}` },
        body,
        idempotent,
        accept,
      },
      opts,
    );
  }

  /** Fishjam assigns room ids; the options are checked by the vendor (and by the GraphQL input). */
  /** A peer, or with `livestream` a livestream viewer (SUBSCRIBER) or streamer token. */
  override prepareJoin(ask: JoinAsk): PreparedJoin {
    const identity = participantIdentity(ask.identity);
    return { identity, options: ask.options?.livestream === true ? { livestream: true } : {} };
  }

  /**
   * A peer can always publish, whatever role it was recorded with; only a livestream viewer token
   * is held to receiving. (Asked without options: some Fishjam credentials can be receive-only.)
   */
  override receiveOnly(options: Record<string, unknown> | null): boolean {
    return options === null || options.livestream === true;
  }

  validateRoom(): void {}

  async createRoom(cred: ResolvedCredential, req: RoomRequest, opts?: CallOptions): Promise<Room> {
    const body: Record<string, unknown> = {};
    for (const k of ROOM_OPTIONS) if (req.options?.[k] !== undefined) body[k] = req.options[k];
    const res = await this.req(cred, 'create_room', 'POST', '/room', body, false, opts);
    const room = (res.json as { data?: { room?: Record<string, unknown> } })?.data?.room;
    return { externalId: expectField(room?.id, isString, 'room id'), details: room ?? {} };
  }

  async closeRoom(cred: ResolvedCredential, roomId: string, opts?: CallOptions): Promise<void> {
    vendorName(roomId, 'roomId', SAFE_ID);
    await this.req(cred, 'close_room', 'DELETE', `/room/${roomId}`, undefined, true, opts, [404]);
  }

  async issueJoin(
    cred: ResolvedCredential,
    req: JoinRequest,
    opts?: CallOptions,
  ): Promise<IssuedJoin> {
    const roomId = vendorName(req.roomExternalId, 'roomId', SAFE_ID);
    if (req.options?.livestream === true) return this.livestreamToken(cred, roomId, req.role, opts);
    const metadata = {
      name: req.displayName ?? req.identity,
      ...(req.data ? { data: req.data } : {}),
    };
    const res = await this.req(
      cred,
      'issue_join',
      'POST',
      `/room/${roomId}/peer`,
      { type: 'webrtc', options: { metadata } },
      false,
      opts,
    );
    const data = (
      res.json as {
        data?: { peer?: { id?: unknown }; token?: unknown; peer_websocket_url?: unknown };
      }
    )?.data;
    const peerId = expectField(data?.peer?.id, isString, 'peer id');
    const peerToken = expectField(data?.token, isString, 'peer token');
    const peerWebsocketUrl =
      typeof data?.peer_websocket_url === 'string' ? data.peer_websocket_url : null;
    return {
      externalId: peerId,
      expiresAt: new Date(Date.now() + 86_400_000),
      credential: { peerToken, peerWebsocketUrl, peerId, roomId },
    };
  }

  /**
   * A viewer or streamer token for a livestream room: `{token}` (201), with no id to revoke it by
   * and no documented lifetime. Fishjam answers 404 both for a room it no longer has and for a
   * room of another type; only the first may end the session (a `status_404` refusal does), so a
   * 404 is told apart by looking the room up.
   */
  private async livestreamToken(
    cred: ResolvedCredential,
    roomId: string,
    role: ParticipantRole,
    opts?: CallOptions,
  ): Promise<IssuedJoin> {
    if (role === ParticipantRole.MODERATOR) {
      throw DomainException.badInput(
        'role',
        'A Fishjam livestream token is for a SUBSCRIBER (viewer) or a PUBLISHER (streamer)',
      );
    }
    const livestream = role === ParticipantRole.SUBSCRIBER ? 'viewer' : 'streamer';
    const res = await this.req(
      cred,
      'issue_join',
      'POST',
      `/room/${roomId}/${livestream}`,
      undefined,
      false,
      opts,
      [404],
    );
    if (res.status === 404) {
      await this.req(cred, 'get_room', 'GET', `/room/${roomId}`, undefined, true, opts); // gone: status_404
      throw new DomainException(ErrorCode.CONFLICT, 'The Fishjam room is not a livestream room', {
        field: 'sessionId',
        reason: NOT_LIVESTREAM,
      });
    }
    const token = expectField(
      (res.json as { token?: unknown })?.token,
      isString,
      `${livestream} token`,
    );
    return { externalId: null, expiresAt: null, credential: { token, roomId, livestream } };
  }

  async revokeJoin(
    cred: ResolvedCredential,
    roomId: string,
    peerId: string,
    opts?: CallOptions,
  ): Promise<void> {
    vendorName(roomId, 'roomId', SAFE_ID);
    vendorName(peerId, 'peerId', SAFE_ID);
    await this.req(
      cred,
      'revoke_join',
      'DELETE',
      `/room/${roomId}/peer/${peerId}`,
      undefined,
      true,
      opts,
      [404],
    );
  }

  async listRooms(cred: ResolvedCredential, opts?: CallOptions): Promise<Room[]> {
    const res = await this.req(cred, 'list_rooms', 'GET', '/room', undefined, true, opts);
    const rooms = (res.json as { data?: Array<{ id?: unknown }> })?.data ?? [];
    return rooms
      .filter((r) => isString(r.id))
      .map((r) => ({ externalId: r.id as string, details: r }));
  }

  async checkHealth(cred: ResolvedCredential, opts?: CallOptions): Promise<string> {
    return `reachable; ${(await this.listRooms(cred, opts)).length} room(s)`;
  }
}
