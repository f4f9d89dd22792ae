import { randomBytes } from 'node:crypto';
import { DomainException } from '../../src/common/errors';
import { ErrorCode } from '../../src/common/errors/error-code';
import {
  type CallOptions,
  type IssuedJoin,
  type JoinAsk,
  type JoinRequest,
  type KeptForValidation,
  type PreparedJoin,
  type RequiredRole,
  type ResolvedCredential,
  type Room,
  type RoomRequest,
  type VideoProvider,
} from '../../src/providers/video-provider';

/** One call that reached the fake vendor, with what the service layer asked for. */
export interface FakeCall {
  op: 'createRoom' | 'closeRoom' | 'issueJoin' | 'revokeJoin' | 'listRooms' | 'checkHealth';
  credentialId: string;
  /** The decrypted secrets the vault handed over (the service tier checks they are the stored ones). */
  secrets: Record<string, string>;
  room?: RoomRequest;
  join?: JoinRequest;
  roomExternalId?: string;
  joinExternalId?: string;
}

/**
 * A vendor for the service tier (test/service): the real adapter's rules (credential blocks, join
 * lifetimes, identities, roles, room names), with the network replaced by rooms kept in memory.
 * It records every call and can be told to fail the next one, or to forget a room (the vendor's
 * 404), so the layer above can be tested on what it does with each answer.
 */
export class FakeVendor implements VideoProvider {
  readonly calls: FakeCall[] = [];
  readonly rooms = new Map<string, Room>();
  private failures: Error[] = [];

  constructor(private readonly real: VideoProvider) {}

  get kind() {
    return this.real.kind;
  }
  get maxTtlSeconds() {
    return this.real.maxTtlSeconds;
  }
  get credential() {
    return this.real.credential;
  }
  get webhook() {
    return this.real.webhook;
  }

  /** The next vendor call fails with `err` (PROVIDER_UNAVAILABLE by default). */
  failNext(err: Error = unavailable()): void {
    this.failures.push(err);
  }

  /** The vendor forgets a room, as when OpenVidu closes it after its last participant left. */
  forget(roomExternalId: string): void {
    this.rooms.delete(roomExternalId);
  }

  /** Forgets the calls so far and any failure still queued; the rooms stay. */
  clearCalls(): void {
    this.calls.length = 0;
    this.failures = [];
  }

  joinTtl(cred: ResolvedCredential): { max: number; fallback: number } {
    return this.real.joinTtl(cred);
  }
  prepareJoin(ask: JoinAsk): PreparedJoin {
    return this.real.prepareJoin(ask);
  }
  requiredRole(options: Record<string, unknown> | null): RequiredRole | null {
    return this.real.requiredRole(options);
  }
  recordedIdentity(issued: IssuedJoin, prepared: PreparedJoin): string {
    return this.real.recordedIdentity(issued, prepared);
  }
  receiveOnly(options: Record<string, unknown> | null): boolean {
    return this.real.receiveOnly(options);
  }
  keptForValidation(issued: IssuedJoin): KeptForValidation | null {
    return this.real.keptForValidation(issued);
  }
  validateRoom(req: RoomRequest): void {
    this.real.validateRoom(req);
  }

  createRoom(cred: ResolvedCredential, room: RoomRequest, _opts?: CallOptions): Promise<Room> {
    return this.call({ op: 'createRoom', room }, cred, () => {
      const externalId = room.customId ?? `fake-${randomBytes(6).toString('hex')}`;
      const made = { externalId, details: { name: room.name ?? null } };
      this.rooms.set(externalId, made);
      return made;
    });
  }

  closeRoom(cred: ResolvedCredential, roomExternalId: string): Promise<void> {
    return this.call({ op: 'closeRoom', roomExternalId }, cred, () => {
      this.rooms.delete(roomExternalId);
    });
  }

  issueJoin(cred: ResolvedCredential, join: JoinRequest): Promise<IssuedJoin> {
    return this.call({ op: 'issueJoin', join, roomExternalId: join.roomExternalId }, cred, () => {
      if (!this.rooms.has(join.roomExternalId)) {
        throw new DomainException(ErrorCode.PROVIDER_REJECTED, 'The vendor has no such room', {
          reason: 'status_404',
        });
      }
      return {
        externalId: `join-${randomBytes(6).toString('hex')}`,
        expiresAt: new Date(Date.now() + join.ttlSeconds * 1000),
        credential: { token: `fake-token-${randomBytes(8).toString('hex')}` },
      };
    });
  }

  revokeJoin(cred: ResolvedCredential, roomExternalId: string, joinExternalId: string) {
    return this.call({ op: 'revokeJoin', roomExternalId, joinExternalId }, cred, () => undefined);
  }

  listRooms(cred: ResolvedCredential): Promise<Room[]> {
    return this.call({ op: 'listRooms' }, cred, () => [...this.rooms.values()]);
  }

  checkHealth(cred: ResolvedCredential): Promise<string> {
    return this.call({ op: 'checkHealth' }, cred, () => 'fake vendor: ok');
  }

  private call<T>(
    call: Omit<FakeCall, 'credentialId' | 'secrets'>,
    cred: ResolvedCredential,
    answer: () => T,
  ): Promise<T> {
    this.calls.push({ ...call, credentialId: cred.id, secrets: { ...cred.secrets } });
    const failure = this.failures.shift();
    return new Promise<T>((resolve) => {
      if (failure) throw failure;
      resolve(answer());
    });
  }
}

function unavailable(): DomainException {
  return new DomainException(ErrorCode.PROVIDER_UNAVAILABLE, 'The vendor did not answer', {
    reason: 'timeout',
  });
}
