import { vendorName } from './names';
import { type ParticipantRole, type ProviderKind } from './provider-kind';

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
