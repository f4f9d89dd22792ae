import { randomBytes } from 'node:crypto';
import { type MemberRole } from '../common/auth/roles';
import { type CredentialRules } from './credential-rules';
import { LIVEKIT_NAME, vendorName } from './names';
import { type ParticipantRole, type ProviderKind } from './provider-kind';
import { type WebhookVerifier } from './webhook-verifier';

/** A credential with its secrets decrypted, for the duration of one vendor call. */
export interface ResolvedCredential {
  id: string;
  tenantId: string;
  kind: ProviderKind;
  config: Record<string, unknown>;
  secrets: Record<string, string>;
}

export interface CallOptions {
  /** Aborts the vendor call (request cancelled, shutdown). Timeouts are added by the adapter. */
  signal?: AbortSignal;
}

export interface RoomRequest {
  /** Caller-chosen, validated id: makes creation idempotent where the vendor supports it. */
  customId?: string | null;
  /** Display name: recorded, never the vendor id. */
  name?: string | null;
  options?: Record<string, unknown>;
}

export interface Room {
  externalId: string;
  details: Record<string, unknown>;
}

export interface JoinRequest {
  roomExternalId: string;
  role: ParticipantRole;
  /** Stable participant identity (user id, uid or account). */
  identity: string;
  displayName?: string | null;
  /** Opaque application data passed to the vendor (OpenVidu serverData, LiveKit metadata…). */
  data?: string | null;
  ttlSeconds: number;
  options?: Record<string, unknown>;
}

export interface IssuedJoin {
  /** Vendor id of what was issued (OpenVidu connection, Pexip participant, Fishjam peer…). */
  externalId: string | null;
  expiresAt: Date | null;
  /** Vendor-shaped credential, matching one member of the GraphQL JoinCredential union. */
  credential: Record<string, unknown>;
  /** The vendor's non-secret answer, for routes that repeat it (Pexip participant status…). */
  details?: Record<string, unknown>;
}

/** What a caller gives for one join, before the vendor's own rules have looked at it. */
export interface JoinAsk {
  role: ParticipantRole;
  /** The caller's participant identity, unchecked (null: none given). */
  identity: string | null;
  /** The caller's block of options for this vendor (`agora`, `openvidu`, `fishjam`…), if any. */
  options: Record<string, unknown> | null;
}

/** A join checked by the vendor's rules: what to mint with. */
export interface PreparedJoin {
  /** The identity to mint for (Agora takes its uid or account from `options`: empty there). */
  identity: string;
  /** Vendor options passed to `issueJoin`. */
  options: Record<string, unknown>;
}

/** A tenant role some join options need (an OpenVidu IP camera: ADMIN), and the refusal below it. */
export interface RequiredRole {
  role: MemberRole;
  reason: string;
  message: string;
}

/** What Roomkey keeps of an issued credential to validate it later: hashes, never the secret. */
export interface KeptForValidation {
  tokenHash: Buffer;
  username: string;
  passwordHash: Buffer;
}

/**
 * The port every vendor adapter implements. Adapters are the only code that talks to a vendor:
 * they validate input before any call, bound every call with a timeout and abort signal, retry only
 * idempotent calls (at most once), and translate failures into PROVIDER_UNAVAILABLE or
 * PROVIDER_REJECTED.
 */
export interface VideoProvider {
  readonly kind: ProviderKind;
  /** Maximum join-credential lifetime this vendor supports. */
  readonly maxTtlSeconds: number;
  /** How a credential block is checked and split into stored config and secrets to seal. */
  readonly credential: CredentialRules;
  /** How the vendor authenticates the webhooks it sends, if Roomkey receives them. */
  readonly webhook?: WebhookVerifier;
  /**
   * The lifetime limits of a join with this credential: the longest allowed and the default when
   * the caller names none.
   */
  joinTtl(cred: ResolvedCredential): { max: number; fallback: number };
  /**
   * Checks the vendor-specific part of a join before anything is created (identity rules, this
   * vendor's options block), so a bad request is refused with nothing changed.
   */
  prepareJoin(ask: JoinAsk): PreparedJoin;
  /** The tenant role these join options need beyond the usual, or null. */
  requiredRole(options: Record<string, unknown> | null): RequiredRole | null;
  /** The identity to record for what was issued (Agora: the uid or account minted). */
  recordedIdentity(issued: IssuedJoin, prepared: PreparedJoin): string;
  /**
   * Whether a SUBSCRIBER credential minted with these options can only receive. `null` options
   * ask whether any can (a join link for SUBSCRIBER is refused for a vendor where none can).
   */
  receiveOnly(options: Record<string, unknown> | null): boolean;
  /** Hashes Roomkey keeps to validate a credential when the media server asks (Red5): else null. */
  keptForValidation(issued: IssuedJoin): KeptForValidation | null;
  /**
   * Checks a room request without calling the vendor or changing anything (names, charset, byte
   * limits), so callers can refuse bad input before they store a row. Throws BAD_USER_INPUT naming
   * the request field (`customSessionId` or `name`).
   */
  validateRoom(req: RoomRequest): void;
  createRoom(cred: ResolvedCredential, req: RoomRequest, opts?: CallOptions): Promise<Room>;
  closeRoom(cred: ResolvedCredential, roomExternalId: string, opts?: CallOptions): Promise<void>;
  issueJoin(cred: ResolvedCredential, req: JoinRequest, opts?: CallOptions): Promise<IssuedJoin>;
  revokeJoin(
    cred: ResolvedCredential,
    roomExternalId: string,
    joinExternalId: string,
    opts?: CallOptions,
  ): Promise<void>;
  listRooms(cred: ResolvedCredential, opts?: CallOptions): Promise<Room[]>;
  /** A cheap authenticated call (or a local self-check); returns a short human message. */
  checkHealth(cred: ResolvedCredential, opts?: CallOptions): Promise<string>;
}

export const VIDEO_PROVIDERS = Symbol('VIDEO_PROVIDERS');

/**
 * The vendor room id a request asks for (its customId, checked against a vendor rule, the error
 * naming `customSessionId`); null when it asks for none and the adapter generates one. `name` is
 * a display name only: it never becomes a vendor id.
 */
export function requestedRoomId(
  req: RoomRequest,
  rule: Parameters<typeof vendorName>[2],
): string | null {
  return req.customId != null ? vendorName(req.customId, 'customSessionId', rule) : null;
}

/**
 * Runs a local (non-network) adapter step as a promise: a validation error becomes a rejection,
 * never a synchronous throw, so callers see every adapter failure the same way.
 */
export function local<T>(fn: () => T): Promise<T> {
  return new Promise((resolve) => resolve(fn()));
}

/** The default join lifetime where the vendor has no rule of its own (capped by its maximum). */
export const DEFAULT_TTL_SECONDS = 3600;

/** Join lifetime limits for vendors whose credentials do not set their own. */
export function standardJoinTtl(maxTtlSeconds: number): { max: number; fallback: number } {
  return { max: maxTtlSeconds, fallback: Math.min(DEFAULT_TTL_SECONDS, maxTtlSeconds) };
}

/** The caller's identity checked as a vendor name, or a generated one when none was given. */
export function participantIdentity(identity: string | null): string {
  return identity != null
    ? vendorName(identity, 'identity', LIVEKIT_NAME)
    : `rk-${randomBytes(8).toString('hex')}`;
}

/**
 * Defaults of the port's join rules for a vendor that has none of its own: the standard lifetime
 * limits, a checked or generated identity, no options, SUBSCRIBER credentials that only receive,
 * nothing kept to validate later. Adapters extend it and override what their vendor does differently.
 */
export abstract class VendorAdapter implements VideoProvider {
  abstract readonly kind: ProviderKind;
  abstract readonly maxTtlSeconds: number;
  abstract readonly credential: CredentialRules;
  readonly webhook?: WebhookVerifier;

  abstract validateRoom(req: RoomRequest): void;
  abstract createRoom(
    cred: ResolvedCredential,
    req: RoomRequest,
    opts?: CallOptions,
  ): Promise<Room>;
  abstract closeRoom(
    cred: ResolvedCredential,
    roomExternalId: string,
    opts?: CallOptions,
  ): Promise<void>;
  abstract issueJoin(
    cred: ResolvedCredential,
    req: JoinRequest,
    opts?: CallOptions,
  ): Promise<IssuedJoin>;
  abstract revokeJoin(
    cred: ResolvedCredential,
    roomExternalId: string,
    joinExternalId: string,
    opts?: CallOptions,
  ): Promise<void>;
  abstract listRooms(cred: ResolvedCredential, opts?: CallOptions): Promise<Room[]>;
  abstract checkHealth(cred: ResolvedCredential, opts?: CallOptions): Promise<string>;

  joinTtl(_cred: ResolvedCredential): { max: number; fallback: number } {
    return standardJoinTtl(this.maxTtlSeconds);
  }

  prepareJoin(ask: JoinAsk): PreparedJoin {
    return { identity: participantIdentity(ask.identity), options: {} };
  }

  requiredRole(_options: Record<string, unknown> | null): RequiredRole | null {
    return null;
  }

  recordedIdentity(_issued: IssuedJoin, prepared: PreparedJoin): string {
    return prepared.identity;
  }

  receiveOnly(_options: Record<string, unknown> | null): boolean {
    return true;
  }

  keptForValidation(_issued: IssuedJoin): KeptForValidation | null {
    return null;
  }
}
