import { createPrivateKey, randomUUID, type KeyObject } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SignJWT } from 'jose';
import {
  VendorHttp,
  type VendorOperation,
  cancelled,
  expectField,
  isString,
} from '../http/vendor-http';
import { SAFE_ID, vendorName } from '../names';
import { ProviderKind } from '../provider-kind';
import {
  type CallOptions,
  type IssuedJoin,
  type JoinRequest,
  type ResolvedCredential,
  type Room,
  type RoomRequest,
  VendorAdapter,
} from '../video-provider';

export const PEXIP_SCOPE =
  'meeting:create meeting:read meeting:write participant:create participant:read participant:write';
const REFRESH_MARGIN_MS = 60_000;

interface CachedToken {
  header: string;
  /** Renew from here: a minute before expiry, or half-way for tokens shorter than two minutes. */
  refreshAt: number;
}

function raceAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(cancelled());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(cancelled());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
import { PEXIP_CREDENTIAL } from './pexip.credential';

/**
 * Pexip VPaaS: a 60-second RS384 client assertion is exchanged (client_credentials) for an access
 * token, cached per credential until shortly before it expires — with one exchange in flight at a
 * time — then meetings and participants are created with it.
 */
@Injectable()
export class PexipAdapter extends VendorAdapter {
  readonly kind = ProviderKind.PEXIP;
  readonly maxTtlSeconds = 86_400;
  readonly credential = PEXIP_CREDENTIAL;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();
  private readonly keys = new Map<string, { pem: string; key: KeyObject }>();

  constructor(private readonly http: VendorHttp) {
    super();
  }

  private base(cred: ResolvedCredential): string {
    return String(cred.config.apiAddress).replace(/\/$/, '');
  }

  /** Token cache key, with the address: a token issued by one host is never sent to another. */
  private slot(cred: ResolvedCredential): string {
    return `${cred.id}|${this.base(cred)}`;
  }

  /** The Authorization header value; exchanges only when the cached token is (nearly) expired. */
  async authorization(cred: ResolvedCredential, opts?: CallOptions): Promise<string> {
    const slot = this.slot(cred);
    const cached = this.tokens.get(slot);
    if (cached && cached.refreshAt > Date.now()) return cached.header;
    let pending = this.inflight.get(slot);
    if (!pending) {
      // Shared by every waiting caller, so it runs without any one caller's signal (its own
      // timeout still bounds it); each caller only stops waiting when its own signal aborts.
      pending = this.exchange(cred, slot).finally(() => this.inflight.delete(slot));
      this.inflight.set(slot, pending);
    }
    return (await raceAbort(pending, opts?.signal)).header;
  }

  /** Forget a credential's token (after a 401, or when its secret changes). */
  forget(credentialId: string): void {
    for (const slot of this.tokens.keys())
      if (slot.startsWith(`${credentialId}|`)) this.tokens.delete(slot);
    this.keys.delete(credentialId);
  }

  private async exchange(cred: ResolvedCredential, slot: string): Promise<CachedToken> {
    const clientId = String(cred.config.clientId);
    const aud = `${this.base(cred)}/oauth/token`;
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: PEXIP_SCOPE })
      .setProtectedHeader({ alg: 'RS384', typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(aud)
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .setJti(randomUUID())
      .sign(this.privateKey(cred));
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion: assertion,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
    const res = await this.http.request(cred, {
      operation: 'access_token',
      method: 'POST',
      url: aud,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      idempotent: false,
    });
    const j = res.json as { token_type?: unknown; access_token?: unknown; expires_in?: unknown };
    const accessToken = expectField(j?.access_token, isString, 'access_token');
    const type = typeof j.token_type === 'string' ? j.token_type : 'Bearer';
    const ttl = typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 300;
    const ttlMs = ttl * 1000;
    const token = {
      header: `${type} ${accessToken}`,
      refreshAt: Date.now() + ttlMs - Math.min(REFRESH_MARGIN_MS, ttlMs / 2),
    };
    if (this.tokens.size > 10_000) this.tokens.clear();
    this.tokens.set(slot, token);
    return token;
  }

  private privateKey(cred: ResolvedCredential): KeyObject {
    const pem = cred.secrets.privateKeyPem;
    const cached = this.keys.get(cred.id);
    if (cached && cached.pem === pem) return cached.key;
    const key = createPrivateKey(pem);
    this.keys.set(cred.id, { pem, key });
    return key;
  }

  private async call(
    cred: ResolvedCredential,
    operation: VendorOperation,
    method: 'POST' | 'DELETE',
    path: string,
    opts?: CallOptions,
    accept?: number[],
  ) {
    const auth = await this.authorization(cred, opts);
    try {
      return await this.http.request(
        cred,
        {
          operation,
          method,
          url: `${this.base(cred)}${path}`,
          headers: { authorization: auth },
          body: method === 'POST' ? {} : undefined,
          idempotent: method === 'DELETE',
          accept,
        },
        opts,
      );
    } catch (err) {
      if ((err as { reason?: string }).reason === 'status_401') this.tokens.delete(this.slot(cred));
      throw err;
    }
  }

  /** Pexip assigns meeting ids; nothing in the request reaches the vendor. */
  /** A Pexip participant has no receive-only restriction: whatever its role, it could send. */
  override receiveOnly(): boolean {
    return false;
  }

  validateRoom(): void {}

  async createRoom(cred: ResolvedCredential, _req: RoomRequest, opts?: CallOptions): Promise<Room> {
    const res = await this.call(cred, 'create_room', 'POST', '/v1/meetings/', opts);
    const j = res.json as Record<string, unknown>;
    return { externalId: expectField(j?.id, isString, 'meeting id'), details: j };
  }

  async closeRoom(cred: ResolvedCredential, meetingId: string, opts?: CallOptions): Promise<void> {
    vendorName(meetingId, 'meetingId', SAFE_ID);
    await this.call(cred, 'close_room', 'DELETE', `/v1/meetings/${meetingId}`, opts, [404]);
  }

  async issueJoin(
    cred: ResolvedCredential,
    req: JoinRequest,
    opts?: CallOptions,
  ): Promise<IssuedJoin> {
    const meetingId = vendorName(req.roomExternalId, 'meetingId', SAFE_ID);
    const res = await this.call(
      cred,
      'issue_join',
      'POST',
      `/v1/meetings/${meetingId}/participants`,
      opts,
    );
    const j = res.json as Record<string, unknown>;
    const participantId = expectField(j?.id ?? j?.participant_id, isString, 'participant id');
    const participantSecret = expectField(j?.participant_secret, isString, 'participant_secret');
    return {
      externalId: participantId,
      expiresAt: null,
      credential: { apiAddress: this.base(cred), meetingId, participantId, participantSecret },
      details: { status: j.status, created_at: j.created_at, updated_at: j.updated_at },
    };
  }

  async revokeJoin(
    cred: ResolvedCredential,
    meetingId: string,
    participantId: string,
    opts?: CallOptions,
  ): Promise<void> {
    vendorName(meetingId, 'meetingId', SAFE_ID);
    vendorName(participantId, 'participantId', SAFE_ID);
    await this.call(
      cred,
      'revoke_join',
      'DELETE',
      `/v1/meetings/${meetingId}/participants/${participantId}`,
      opts,
      [404],
    );
  }

  /** Pexip meetings are ephemeral and the API offers no listing. */
  listRooms(): Promise<Room[]> {
    return Promise.resolve([]);
  }

  async checkHealth(cred: ResolvedCredential, opts?: CallOptions): Promise<string> {
    this.tokens.delete(this.slot(cred)); // prove the key and client id work now
    await this.authorization(cred, opts);
    return 'client assertion accepted; access token issued';
  }
}
