import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DomainException } from '../../common/errors';
import { SAFE_ID, vendorName } from '../names';
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
import { sha256 } from '../../common/crypto/compare';
import { type KeptForValidation } from '../video-provider';
import { RED5_CREDENTIAL } from './red5.credential';

/**
 * Red5 Pro round-trip authentication: Roomkey itself is the authority Red5 asks. Credentials are
 * generated locally — a 256-bit token and a username/password pair, bound to stream, type and
 * expiry — and stored only as hashes by the caller; Red5 calls back to validate them.
 */
@Injectable()
export class Red5Adapter extends VendorAdapter {
  readonly kind = ProviderKind.RED5;
  readonly maxTtlSeconds = 86_400;
  readonly credential = RED5_CREDENTIAL;

  /** The credential's own tokenTtlSeconds is both the longest and the default lifetime. */
  override joinTtl(cred: ResolvedCredential): { max: number; fallback: number } {
    const max = this.capFor(cred);
    return { max, fallback: max };
  }

  /** Red5 asks Roomkey to validate what it issued: the token and password are kept as hashes. */
  override keptForValidation(issued: IssuedJoin): KeptForValidation {
    const c = issued.credential;
    return {
      tokenHash: sha256(String(c.token)),
      username: String(c.username),
      passwordHash: sha256(String(c.password)),
    };
  }

  private capFor(cred: ResolvedCredential): number {
    return Math.min(this.maxTtlSeconds, Number(cred.config.tokenTtlSeconds) || this.maxTtlSeconds);
  }

  validateRoom(req: RoomRequest): void {
    requestedRoomId(req, SAFE_ID);
  }

  createRoom(_cred: ResolvedCredential, req: RoomRequest): Promise<Room> {
    return local(() => this.room(req));
  }

  private room(req: RoomRequest): Room {
    const streamId = vendorName(
      req.customId ?? `rk-${randomBytes(8).toString('hex')}`,
      'streamId',
      SAFE_ID,
    );
    return { externalId: streamId, details: { local: true } };
  }

  closeRoom(): Promise<void> {
    return Promise.resolve();
  }

  issueJoin(cred: ResolvedCredential, req: JoinRequest): Promise<IssuedJoin> {
    return local(() => this.mint(cred, req));
  }

  private mint(cred: ResolvedCredential, req: JoinRequest): IssuedJoin {
    const streamId = vendorName(req.roomExternalId, 'streamId', SAFE_ID);
    const max = this.capFor(cred);
    if (!Number.isInteger(req.ttlSeconds) || req.ttlSeconds < 1 || req.ttlSeconds > max) {
      throw DomainException.badInput('ttlSeconds', `ttlSeconds must be 1..${max}`);
    }
    const type = req.role === ParticipantRole.SUBSCRIBER ? 'subscriber' : 'publisher';
    const token = randomBytes(32).toString('base64url');
    return {
      externalId: null,
      expiresAt: new Date(Date.now() + req.ttlSeconds * 1000),
      credential: {
        streamId,
        type,
        username: `rk_${randomBytes(9).toString('hex')}`,
        password: randomBytes(24).toString('base64url'),
        token,
      },
    };
  }

  revokeJoin(): Promise<void> {
    return Promise.resolve(); // revocation is a flag on Roomkey's own record
  }

  listRooms(): Promise<Room[]> {
    return Promise.resolve([]);
  }

  checkHealth(): Promise<string> {
    return Promise.resolve('local: Red5 validates credentials against Roomkey');
  }
}
