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
  type VideoProvider,
  local,
  requestedRoomId,
} from '../video-provider';

/**
 * Red5 Pro round-trip authentication: Roomkey itself is the authority Red5 asks. Credentials are
 * generated locally — a 256-bit token and a username/password pair, bound to stream, type and
 * expiry — and stored only as hashes by the caller; Red5 calls back to validate them.
 */
@Injectable()
export class Red5Adapter implements VideoProvider {
  readonly kind = ProviderKind.RED5;
  readonly maxTtlSeconds = 86_400;

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
    const max = Math.min(
      this.maxTtlSeconds,
      Number(cred.config.tokenTtlSeconds) || this.maxTtlSeconds,
    );
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
