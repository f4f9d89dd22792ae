import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { VendorHttp, expectField, isString } from '../http/vendor-http';
import { SAFE_ID, vendorName } from '../names';
import { ProviderKind } from '../provider-kind';
import { openViduConnectionOptions, openViduSessionOptions } from './openvidu-options';
import {
  type CallOptions,
  type IssuedJoin,
  type JoinRequest,
  type ResolvedCredential,
  type Room,
  type RoomRequest,
  VendorAdapter,
} from '../video-provider';
import { MemberRole } from '../../common/auth/roles';
import {
  type JoinAsk,
  type PreparedJoin,
  type RequiredRole,
  participantIdentity,
} from '../video-provider';
import { OPENVIDU_CREDENTIAL } from './openvidu.credential';
import { openViduJoinOptions } from './openvidu-options';
import { OPENVIDU_WEBHOOK } from './openvidu.webhook';

/**
 * OpenVidu 2 REST (`{url}/openvidu/api`, Basic OPENVIDUAPP:secret). Sessions are created with a
 * customSessionId, so a retry (or a 409 "already exists") is the same success. Tokens are single
 * use: every join creates a fresh connection; revoking deletes it. Session and connection options
 * are checked by OpenVidu's rules (openvidu-options.ts) before any call, and sent as given.
 */
@Injectable()
export class OpenViduAdapter extends VendorAdapter {
  readonly kind = ProviderKind.OPENVIDU;
  readonly maxTtlSeconds = 86_400;
  readonly credential = OPENVIDU_CREDENTIAL;
  override readonly webhook = OPENVIDU_WEBHOOK;

  constructor(private readonly http: VendorHttp) {
    super();
  }

  private api(cred: ResolvedCredential, path: string): string {
    return `${String(cred.config.url).replace(/\/$/, '')}/openvidu/api${path}`;
  }

  private auth(cred: ResolvedCredential): Record<string, string> {
    return {
      authorization: `Basic ${Buffer.from(`OPENVIDUAPP:${cred.secrets.secret}`).toString('base64')}`,
    };
  }

  /** OpenVidu connection properties but role and data, checked by OpenVidu's rules. */
  override prepareJoin(ask: JoinAsk): PreparedJoin {
    return {
      identity: participantIdentity(ask.identity),
      options: { ...openViduJoinOptions(ask.options, ask.role) },
    };
  }

  /**
   * An IPCAM connection makes the media server itself connect to the address given (`rtspUri`):
   * a request from inside the vendor's network, so only OWNER or ADMIN may ask for one.
   */
  override requiredRole(options: Record<string, unknown> | null): RequiredRole | null {
    if (options?.type !== 'IPCAM') return null;
    return {
      role: MemberRole.ADMIN,
      reason: 'ipcam_requires_admin',
      message: 'Only OWNER or ADMIN can publish an IP camera',
    };
  }

  validateRoom(req: RoomRequest): void {
    if (req.customId != null) vendorName(req.customId, 'customSessionId', SAFE_ID);
    openViduSessionOptions(req.options);
  }

  async createRoom(cred: ResolvedCredential, req: RoomRequest, opts?: CallOptions): Promise<Room> {
    const id = vendorName(
      req.customId ??
        `rk_${randomBytes(9)
          .toString('base64url')
          .replace(/[^A-Za-z0-9]/g, 'x')}`,
      'customSessionId',
      SAFE_ID,
    );
    const body = { customSessionId: id, ...openViduSessionOptions(req.options) };
    const res = await this.http.request(
      cred,
      {
        operation: 'create_room',
        method: 'POST',
        url: this.api(cred, '/sessions'),
        headers: this.auth(cred),
        body,
        idempotent: true,
        accept: [409],
      },
      opts,
    );
    return {
      externalId: id,
      details:
        res.status === 409 ? { existing: true } : ((res.json as Record<string, unknown>) ?? {}),
    };
  }

  async closeRoom(cred: ResolvedCredential, id: string, opts?: CallOptions): Promise<void> {
    vendorName(id, 'sessionId', SAFE_ID);
    await this.http.request(
      cred,
      {
        operation: 'close_room',
        method: 'DELETE',
        url: this.api(cred, `/sessions/${encodeURIComponent(id)}`),
        headers: this.auth(cred),
        idempotent: true,
        accept: [404],
      },
      opts,
    );
  }

  async issueJoin(
    cred: ResolvedCredential,
    req: JoinRequest,
    opts?: CallOptions,
  ): Promise<IssuedJoin> {
    vendorName(req.roomExternalId, 'sessionId', SAFE_ID);
    const { type, ...options } = openViduConnectionOptions(req.options);
    const ipcam = type === 'IPCAM';
    const res = await this.http.request(
      cred,
      {
        operation: 'issue_join',
        method: 'POST',
        url: this.api(cred, `/sessions/${encodeURIComponent(req.roomExternalId)}/connection`),
        headers: this.auth(cred),
        // An IP camera has no role (OpenVidu ignores one): it publishes.
        body: { type, ...(ipcam ? {} : { role: req.role }), data: req.data ?? '', ...options },
        idempotent: false, // each call creates a new connection: never retried
      },
      opts,
    );
    const json = res.json as { id?: unknown; token?: unknown; status?: unknown };
    const connectionId = expectField(json?.id, isString, 'connection id');
    // An IP camera connection has no token (OpenVidu answers null): it is active at once, and
    // there is nothing for a client to use. The credential carries an empty token.
    const token = ipcam ? '' : expectField(json?.token, isString, 'token');
    return {
      externalId: connectionId,
      expiresAt: null,
      credential: { token, connectionId },
      details: { type, status: isString(json?.status) ? json.status : null },
    };
  }

  async revokeJoin(
    cred: ResolvedCredential,
    roomId: string,
    connectionId: string,
    opts?: CallOptions,
  ): Promise<void> {
    // Validated before the URL is built: '..' or '/' would address another resource.
    vendorName(roomId, 'sessionId', SAFE_ID);
    vendorName(connectionId, 'connectionId', SAFE_ID);
    await this.http.request(
      cred,
      {
        operation: 'revoke_join',
        method: 'DELETE',
        url: this.api(
          cred,
          `/sessions/${encodeURIComponent(roomId)}/connection/${encodeURIComponent(connectionId)}`,
        ),
        headers: this.auth(cred),
        idempotent: true,
        accept: [400, 404], // no such session / connection: already gone
      },
      opts,
    );
  }

  async listRooms(cred: ResolvedCredential, opts?: CallOptions): Promise<Room[]> {
    const res = await this.http.request(
      cred,
      {
        operation: 'list_rooms',
        method: 'GET',
        url: this.api(cred, '/sessions'),
        headers: this.auth(cred),
        idempotent: true,
      },
      opts,
    );
    const content = (res.json as { content?: Array<{ id?: unknown }> })?.content;
    return (Array.isArray(content) ? content : [])
      .filter((s) => isString(s.id))
      .map((s) => ({ externalId: s.id as string, details: s }));
  }

  async checkHealth(cred: ResolvedCredential, opts?: CallOptions): Promise<string> {
    return `reachable; ${(await this.listRooms(cred, opts)).length} active session(s)`;
  }
}
