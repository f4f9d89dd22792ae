/**
 * LiveKit (= OpenVidu 3) server-API emulator on a real node:http server bound to 127.0.0.1.
 *
 * What it reproduces, and where from (livekit/livekit `pkg/service/{auth,roomservice,
 * roomallocator,utils}.go`, livekit/protocol `auth/verifier.go`, `webhook/url_notifier.go`,
 * twitchtv/twirp server options, livekit/node-sdks `TwirpRPC.ts`/`RoomServiceClient.ts`):
 *
 * - Auth middleware first, on every path: `Authorization` must start with `Bearer ` (else 401);
 *   the token's `iss` picks the secret (unknown key → 401), the HS256/384/512 signature must
 *   verify and `nbf`/`exp`/`iat` hold with go-jose's 60 s leeway (else 401). These middleware
 *   401s carry a short text body, not Twirp JSON. No token at all is let through without grants.
 * - Twirp routing: POST only, `Content-Type: application/json`, path
 *   `/twirp/livekit.RoomService/<Method>`; otherwise Twirp `bad_route` (404). Bodies are decoded
 *   like protojson with DiscardUnknown: snake_case and camelCase keys both accepted, wrong
 *   types → Twirp `malformed` (400).
 * - Missing grant → Twirp `{"code":"unauthenticated","msg":"permissions denied"}` (401):
 *   CreateRoom/DeleteRoom need `roomCreate`, ListRooms `roomList`, ListParticipants/
 *   RemoveParticipant `roomAdmin` with `room` equal to the request's room.
 * - Responses use Twirp's default JSON: proto field names (snake_case), unpopulated fields
 *   emitted, int64 as strings, enums as names (`jsonNames: 'camel'` switches to lowerCamelCase,
 *   as a server built with WithServerJSONCamelCaseNames would send).
 * - CreateRoom is idempotent (existing room returned, non-zero fields updated); defaults
 *   empty_timeout 300, departure_timeout 20. DeleteRoom/RemoveParticipant on something absent →
 *   Twirp `not_found`. ListParticipants of an unknown room → empty list.
 * - `joinAs(token)` validates a participant token like `/rtc` does (signature, iss, time,
 *   `video.roomJoin`, identity = `sub`, room from the grant) and adds the participant, creating
 *   the room on first join.
 * - Webhooks: body = protojson (lowerCamelCase, defaults omitted), `Content-Type:
 *   application/webhook+json`, `Authorization: <JWT>` (no "Bearer") with `sha256` =
 *   base64(SHA-256(body)), valid 5 minutes.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import {
  type CallRecorder,
  type RecordedCall,
  FaultController,
  createRecorder,
  sendJson,
  sendRaw,
  startEmulatorServer,
} from './faults';

// ---------------------------------------------------------------------------------------------
// Tokens
// ---------------------------------------------------------------------------------------------

/** The `video` claim (livekit-server-sdk `VideoGrant`). */
export interface VideoGrant {
  roomCreate?: boolean;
  roomJoin?: boolean;
  roomList?: boolean;
  roomRecord?: boolean;
  roomAdmin?: boolean;
  room?: string;
  ingressAdmin?: boolean;
  canPublish?: boolean;
  /** 'camera' | 'microphone' | 'screen_share' | 'screen_share_audio' */
  canPublishSources?: string[];
  canSubscribe?: boolean;
  canPublishData?: boolean;
  canUpdateOwnMetadata?: boolean;
  hidden?: boolean;
  recorder?: boolean;
  agent?: boolean;
  canSubscribeMetrics?: boolean;
  destinationRoom?: string;
}

/** Claims of a LiveKit access token. */
export interface LiveKitClaims {
  iss: string;
  sub?: string;
  jti?: string;
  nbf?: number;
  exp?: number;
  iat?: number;
  name?: string;
  metadata?: string;
  attributes?: Record<string, string>;
  video?: VideoGrant;
  sha256?: string;
  kind?: string;
  roomPreset?: string;
  roomConfig?: Record<string, unknown>;
  [claim: string]: unknown;
}

/** Refusal with the HTTP status LiveKit would use. */
export class LiveKitError extends Error {
  constructor(
    message: string,
    readonly status: number = 401,
  ) {
    super(message);
    this.name = 'LiveKitError';
  }
}

export type HmacAlg = 'HS256' | 'HS384' | 'HS512';
const HMAC_HASH: Record<HmacAlg, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

function b64url(input: Buffer | string): string {
  return Buffer.from(input).toString('base64url');
}

/** Signs `payload` as a compact JWS (HMAC). */
export function signLiveKitJwt(
  payload: Record<string, unknown>,
  secret: string,
  alg: HmacAlg = 'HS256',
): string {
  const head = b64url(JSON.stringify({ alg, typ: 'JWT' }));
  const body = b64url(JSON.stringify(payload));
  const sig = createHmac(HMAC_HASH[alg], secret).update(`${head}.${body}`).digest();
  return `${head}.${body}.${b64url(sig)}`;
}

export interface MintOptions {
  apiKey: string;
  apiSecret: string;
  /** `sub` and `jti` (as livekit-server-sdk sets both). */
  identity?: string;
  name?: string;
  metadata?: string;
  attributes?: Record<string, string>;
  video?: VideoGrant;
  sha256?: string;
  /** Lifetime in seconds (default 600). */
  ttlSeconds?: number;
  /** Override the issue time (unix seconds), e.g. to mint an expired token. */
  nowSeconds?: number;
  alg?: HmacAlg;
  /** Extra or overriding claims (set a claim to undefined to drop it, e.g. `{ exp: undefined }`). */
  claims?: Record<string, unknown>;
}

/** Mints a token shaped like livekit-server-sdk's `AccessToken.toJwt()` (tests lack the SDK). */
export function mintLiveKitToken(options: MintOptions): string {
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  const payload: Record<string, unknown> = {
    video: options.video ?? {},
    iss: options.apiKey,
    nbf: now,
    exp: now + (options.ttlSeconds ?? 600),
  };
  if (options.identity !== undefined) {
    payload.sub = options.identity;
    payload.jti = options.identity;
  }
  if (options.name !== undefined) payload.name = options.name;
  if (options.metadata !== undefined) payload.metadata = options.metadata;
  if (options.attributes !== undefined) payload.attributes = options.attributes;
  if (options.sha256 !== undefined) payload.sha256 = options.sha256;
  for (const [k, v] of Object.entries(options.claims ?? {})) {
    if (v === undefined) delete payload[k];
    else payload[k] = v;
  }
  return signLiveKitJwt(payload, options.apiSecret, options.alg);
}

export interface VerifyOptions {
  /** Clock leeway for nbf/exp/iat (go-jose default: 60 s). */
  leewaySeconds?: number;
  /**
   * Refuse tokens without `exp` (default true). LiveKit itself (go-jose `Validate`) accepts a
   * token without `exp`; the emulator is stricter so a token minted without expiry is caught.
   */
  requireExp?: boolean;
  nowSeconds?: number;
}

const BOOLEAN_GRANTS = [
  'roomCreate',
  'roomJoin',
  'roomList',
  'roomRecord',
  'roomAdmin',
  'ingressAdmin',
  'canPublish',
  'canSubscribe',
  'canPublishData',
  'canUpdateOwnMetadata',
  'hidden',
  'recorder',
  'agent',
  'canSubscribeMetrics',
] as const;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Verifies a LiveKit JWT like `auth.ParseAPIToken` + `Verify(secret)` on the server: HMAC
 * signature with the secret of the key named in `iss`, and nbf/exp/iat within the leeway.
 * Throws `LiveKitError` (status 401).
 */
export function verifyLiveKitJwt(
  token: string,
  keys: { apiKey: string; apiSecret: string },
  options: VerifyOptions = {},
): LiveKitClaims {
  const leeway = options.leewaySeconds ?? 60;
  const now = options.nowSeconds ?? Date.now() / 1000;
  const parts = token.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p))) {
    throw new LiveKitError('invalid authorization token');
  }
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw new LiveKitError('invalid authorization token');
  }
  if (!isObject(header) || !isObject(payload))
    throw new LiveKitError('invalid authorization token');
  const iss = payload.iss;
  if (typeof iss !== 'string' || iss !== keys.apiKey) {
    throw new LiveKitError(`invalid API key: ${typeof iss === 'string' ? iss : ''}`);
  }
  const alg = header.alg;
  if (typeof alg !== 'string' || !(alg in HMAC_HASH)) {
    throw new LiveKitError(`invalid token: unsupported algorithm ${String(alg)}`);
  }
  const expected = createHmac(HMAC_HASH[alg as HmacAlg], keys.apiSecret)
    .update(`${parts[0]}.${parts[1]}`)
    .digest();
  const actual = Buffer.from(parts[2], 'base64url');
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
    throw new LiveKitError('invalid token: error in cryptographic primitive');
  }
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    const value = payload[claim];
    if (value !== undefined && value !== null && typeof value !== 'number') {
      throw new LiveKitError(`invalid token: ${claim} is not a NumericDate`);
    }
  }
  const exp = payload.exp as number | undefined | null;
  const nbf = payload.nbf as number | undefined | null;
  const iat = payload.iat as number | undefined | null;
  if (exp === undefined || exp === null) {
    if (options.requireExp ?? true) throw new LiveKitError('invalid token: exp claim is missing');
  } else if (now - leeway > exp) {
    throw new LiveKitError('invalid token: token is expired (exp)');
  }
  if (typeof nbf === 'number' && now + leeway < nbf) {
    throw new LiveKitError('invalid token: token not valid yet (nbf)');
  }
  if (typeof iat === 'number' && now + leeway < iat) {
    throw new LiveKitError('invalid token: token issued in the future (iat)');
  }
  const video = payload.video;
  if (video !== undefined && video !== null) {
    if (!isObject(video)) throw new LiveKitError('invalid token: video grant is not an object');
    for (const grant of BOOLEAN_GRANTS) {
      if (
        video[grant] !== undefined &&
        video[grant] !== null &&
        typeof video[grant] !== 'boolean'
      ) {
        throw new LiveKitError(`invalid token: video.${grant} is not a boolean`);
      }
    }
    for (const grant of ['room', 'destinationRoom']) {
      if (video[grant] !== undefined && video[grant] !== null && typeof video[grant] !== 'string') {
        throw new LiveKitError(`invalid token: video.${grant} is not a string`);
      }
    }
  }
  return payload as LiveKitClaims;
}

/** base64(SHA-256(body)) — the `sha256` claim of a webhook token. */
export function webhookBodyHash(body: string | Buffer): string {
  return createHash('sha256').update(body).digest('base64');
}

// ---------------------------------------------------------------------------------------------
// protojson helpers
// ---------------------------------------------------------------------------------------------

type FieldType =
  'string' | 'uint32' | 'int64' | 'bool' | 'string[]' | 'object' | 'object[]' | 'map';

class Malformed extends Error {}

function snakeToCamel(name: string): string {
  return name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Decodes a request like protojson.Unmarshal with DiscardUnknown; keys come back snake_case. */
function decodeMessage(raw: Buffer, fields: Record<string, FieldType>): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new Malformed('unexpected token in JSON');
  }
  if (!isObject(body)) throw new Malformed('message must be a JSON object');
  const out: Record<string, unknown> = {};
  for (const [proto, type] of Object.entries(fields)) {
    const camel = snakeToCamel(proto);
    const hasProto = Object.prototype.hasOwnProperty.call(body, proto);
    const hasCamel = camel !== proto && Object.prototype.hasOwnProperty.call(body, camel);
    if (hasProto && hasCamel) throw new Malformed(`duplicate field "${camel}"`);
    if (!hasProto && !hasCamel) continue;
    const value = body[hasProto ? proto : camel];
    if (value === null) continue;
    out[proto] = decodeValue(proto, type, value);
  }
  return out;
}

function decodeValue(field: string, type: FieldType, value: unknown): unknown {
  const bad = (): Malformed =>
    new Malformed(`invalid value for ${type} field ${field}: ${JSON.stringify(value)}`);
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw bad();
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw bad();
      return value;
    case 'uint32': {
      const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 0xffffffff) throw bad();
      return n;
    }
    case 'int64': {
      const ok =
        (typeof value === 'number' && Number.isInteger(value)) ||
        (typeof value === 'string' && /^-?\d+$/.test(value));
      if (!ok) throw bad();
      return String(value);
    }
    case 'string[]':
      if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad();
      return value;
    case 'object':
    case 'map':
      if (!isObject(value)) throw bad();
      return value;
    case 'object[]':
      if (!Array.isArray(value) || value.some((v) => !isObject(v))) throw bad();
      return value;
  }
}

/** Renames proto (snake_case) keys to lowerCamelCase, leaving map entries (attributes) alone. */
function camelize(value: unknown, mapKey = false): unknown {
  if (Array.isArray(value)) return value.map((v) => camelize(v));
  if (!isObject(value)) return value;
  if (mapKey) return { ...value };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value))
    out[snakeToCamel(k)] = camelize(v, k === 'attributes');
  return out;
}

const ENUM_DEFAULTS = new Set(['STANDARD', 'UNKNOWN_REASON', 'JOINING']);

/** protojson default marshalling (no EmitUnpopulated): drops zero values. */
function omitDefaults(value: unknown, mapKey = false): unknown {
  if (Array.isArray(value)) return value.map((v) => omitDefaults(v));
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === null || v === '' || v === 0 || v === false) continue;
    if (Array.isArray(v) && v.length === 0) continue;
    if (!mapKey && typeof v === 'string' && ENUM_DEFAULTS.has(v)) continue;
    if (isObject(v) && Object.keys(v).length === 0) continue;
    out[k] = omitDefaults(v, k === 'attributes');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Emulator
// ---------------------------------------------------------------------------------------------

export interface LiveKitPermission {
  canSubscribe: boolean;
  canPublish: boolean;
  canPublishData: boolean;
  /** Enum names, e.g. ['CAMERA', 'MICROPHONE']. */
  canPublishSources: string[];
  hidden: boolean;
  recorder: boolean;
  canUpdateMetadata: boolean;
  agent: boolean;
  canSubscribeMetrics: boolean;
}

export interface LiveKitParticipantSnapshot {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  attributes: Record<string, string>;
  /** Unix seconds. */
  joinedAt: number;
  joinedAtMs: number;
  permission: LiveKitPermission;
  kind: string;
  /** The verified claims of the token used to join. */
  claims: LiveKitClaims;
}

export interface LiveKitRoomSnapshot {
  sid: string;
  name: string;
  emptyTimeout: number;
  departureTimeout: number;
  maxParticipants: number;
  metadata: string;
  /** Unix seconds. */
  creationTime: number;
  creationTimeMs: number;
  /** Visible (non-hidden) participants, as the Room object counts them. */
  numParticipants: number;
  participants: LiveKitParticipantSnapshot[];
}

export interface LiveKitWebhookDelivery {
  event: string;
  url: string;
  body: string;
  status?: number;
  error?: string;
}

export interface LiveKitEmulatorOptions {
  apiKey: string;
  apiSecret: string;
  /** Listen port (default: any free port). Always 127.0.0.1. */
  port?: number;
  /** Response key style: 'proto' (Twirp default, snake_case; default) or 'camel'. */
  jsonNames?: 'proto' | 'camel';
  /** See `VerifyOptions.requireExp` (default true: stricter than LiveKit). */
  requireExp?: boolean;
  /** Room defaults (LiveKit config `room.empty_timeout` 300, `room.departure_timeout` 20). */
  emptyTimeout?: number;
  departureTimeout?: number;
  /** When set, room_started / participant_joined / participant_left / room_finished are POSTed here. */
  webhookUrl?: string;
}

export interface JoinOptions {
  /** Room requested by the client (`?room=`); the grant's `video.room` wins when set. */
  room?: string;
}

export interface LiveKitEmulator {
  /** `http://127.0.0.1:PORT` — also the `LIVEKIT_URL` for server SDKs (ws:// is rewritten to http://). */
  readonly url: string;
  readonly apiKey: string;
  readonly apiSecret: string;
  /** Every request received (faulted ones too), oldest first. */
  readonly calls: RecordedCall[];
  readonly faults: FaultController;
  /** Webhooks sent by `sendWebhook` or the automatic `webhookUrl` notifier. */
  readonly webhooks: LiveKitWebhookDelivery[];
  rooms(): LiveKitRoomSnapshot[];
  room(name: string): LiveKitRoomSnapshot | undefined;
  /**
   * Verifies a participant token as LiveKit's `/rtc` endpoint would and adds the participant
   * (auto-creating the room). Throws `LiveKitError` (401 bad token or no roomJoin, 400 no
   * identity / no room).
   */
  joinAs(token: string, options?: JoinOptions): LiveKitParticipantSnapshot & { room: string };
  /** Verifies any token against this emulator's key (throws `LiveKitError`). */
  verify(token: string): LiveKitClaims;
  /** Mints a token for this emulator's key (e.g. an admin token with `{ roomAdmin: true, room }`). */
  mint(options: Omit<MintOptions, 'apiKey' | 'apiSecret'>): string;
  /** The `Authorization` value LiveKit puts on a webhook with this raw body. */
  signWebhook(body: string | Buffer): string;
  /** Sends a signed webhook event for a room (and participant) in the emulator's state. */
  sendWebhook(
    url: string,
    event: string,
    subject?: { room?: string; identity?: string; extra?: Record<string, unknown> },
  ): Promise<Response>;
  /** Forgets rooms, recorded calls, webhooks and the armed fault. */
  reset(): void;
  /** Stops the server; never waits for hung requests or in-flight webhooks. */
  close(): Promise<void>;
}

interface ParticipantState {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  attributes: Record<string, string>;
  joinedAtMs: number;
  permission: LiveKitPermission;
  kind: string;
  claims: LiveKitClaims;
}

interface RoomState {
  sid: string;
  name: string;
  emptyTimeout: number;
  departureTimeout: number;
  maxParticipants: number;
  metadata: string;
  creationTimeMs: number;
  turnPassword: string;
  participants: Map<string, ParticipantState>;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function guid(prefix: string): string {
  const bytes = randomBytes(12);
  let out = prefix;
  for (const b of bytes) out += ALNUM[b % ALNUM.length];
  return out;
}

const ENABLED_CODECS = [
  'audio/opus',
  'audio/red',
  'video/VP8',
  'video/H264',
  'video/VP9',
  'video/AV1',
];

const TWIRP_STATUS: Record<string, number> = {
  canceled: 408,
  unknown: 500,
  invalid_argument: 400,
  malformed: 400,
  deadline_exceeded: 408,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  permission_denied: 403,
  unauthenticated: 401,
  resource_exhausted: 429,
  failed_precondition: 412,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  dataloss: 500,
};

/** Twirp's JSON error (`Content-Type: application/json`, exactly — the JS SDK compares it). */
function twirpError(
  res: ServerResponse,
  code: string,
  msg: string,
  meta?: Record<string, string>,
): void {
  const body: Record<string, unknown> = { code, msg };
  if (meta && Object.keys(meta).length > 0) body.meta = meta;
  sendJson(res, TWIRP_STATUS[code] ?? 500, body);
}

const SOURCE_NAMES: Record<string, string> = {
  camera: 'CAMERA',
  microphone: 'MICROPHONE',
  screen_share: 'SCREEN_SHARE',
  screen_share_audio: 'SCREEN_SHARE_AUDIO',
};

function permissionFromGrant(video: VideoGrant): LiveKitPermission {
  return {
    canSubscribe: video.canSubscribe ?? true,
    canPublish: video.canPublish ?? true,
    canPublishData: video.canPublishData ?? true,
    canPublishSources: (video.canPublishSources ?? []).map(
      (s) => SOURCE_NAMES[s] ?? s.toUpperCase(),
    ),
    hidden: video.hidden ?? false,
    recorder: video.recorder ?? false,
    canUpdateMetadata: video.canUpdateOwnMetadata ?? false,
    agent: video.agent ?? false,
    canSubscribeMetrics: video.canSubscribeMetrics ?? false,
  };
}

const ROOM_SERVICE = 'livekit.RoomService';

const REQUEST_FIELDS: Record<string, Record<string, FieldType>> = {
  CreateRoom: {
    name: 'string',
    room_preset: 'string',
    empty_timeout: 'uint32',
    departure_timeout: 'uint32',
    max_participants: 'uint32',
    node_id: 'string',
    metadata: 'string',
    egress: 'object',
    min_playout_delay: 'uint32',
    max_playout_delay: 'uint32',
    sync_streams: 'bool',
    replay_enabled: 'bool',
    agents: 'object[]',
  },
  ListRooms: { names: 'string[]' },
  DeleteRoom: { room: 'string' },
  ListParticipants: { room: 'string' },
  RemoveParticipant: { room: 'string', identity: 'string', revoke_token_ts: 'int64' },
};

export async function startLiveKitEmulator(
  options: LiveKitEmulatorOptions,
): Promise<LiveKitEmulator> {
  const { apiKey, apiSecret } = options;
  const keys = { apiKey, apiSecret };
  const verifyOptions: VerifyOptions = { requireExp: options.requireExp ?? true };
  const faults = new FaultController();
  const recorder: CallRecorder = createRecorder();
  const rooms = new Map<string, RoomState>();
  const webhooks: LiveKitWebhookDelivery[] = [];
  const inflight = new Set<AbortController>();
  const camel = options.jsonNames === 'camel';

  const wire = (value: Record<string, unknown>): unknown => (camel ? camelize(value) : value);

  const permissionProto = (p: LiveKitPermission): Record<string, unknown> => ({
    can_subscribe: p.canSubscribe,
    can_publish: p.canPublish,
    can_publish_data: p.canPublishData,
    can_publish_sources: [...p.canPublishSources],
    hidden: p.hidden,
    recorder: p.recorder,
    can_update_metadata: p.canUpdateMetadata,
    agent: p.agent,
    can_subscribe_metrics: p.canSubscribeMetrics,
  });

  const visibleCount = (room: RoomState): number =>
    [...room.participants.values()].filter((p) => !p.permission.hidden).length;

  /** livekit.Room with proto names, every field populated (EmitUnpopulated). */
  const roomProto = (room: RoomState): Record<string, unknown> => ({
    sid: room.sid,
    name: room.name,
    empty_timeout: room.emptyTimeout,
    departure_timeout: room.departureTimeout,
    max_participants: room.maxParticipants,
    creation_time: String(Math.floor(room.creationTimeMs / 1000)),
    creation_time_ms: String(room.creationTimeMs),
    turn_password: room.turnPassword,
    enabled_codecs: ENABLED_CODECS.map((mime) => ({ mime, fmtp_line: '' })),
    metadata: room.metadata,
    num_participants: visibleCount(room),
    num_publishers: 0,
    active_recording: false,
    version: null,
  });

  /** livekit.ParticipantInfo with proto names, every field populated. */
  const participantProto = (p: ParticipantState): Record<string, unknown> => ({
    sid: p.sid,
    identity: p.identity,
    state: 'ACTIVE',
    tracks: [],
    metadata: p.metadata,
    joined_at: String(Math.floor(p.joinedAtMs / 1000)),
    joined_at_ms: String(p.joinedAtMs),
    name: p.name,
    version: 0,
    permission: permissionProto(p.permission),
    region: '',
    is_publisher: false,
    kind: p.kind,
    attributes: { ...p.attributes },
    disconnect_reason: 'UNKNOWN_REASON',
    kind_details: [],
  });

  const participantSnapshot = (p: ParticipantState): LiveKitParticipantSnapshot => ({
    sid: p.sid,
    identity: p.identity,
    name: p.name,
    metadata: p.metadata,
    attributes: { ...p.attributes },
    joinedAt: Math.floor(p.joinedAtMs / 1000),
    joinedAtMs: p.joinedAtMs,
    permission: { ...p.permission, canPublishSources: [...p.permission.canPublishSources] },
    kind: p.kind,
    claims: structuredClone(p.claims),
  });

  const roomSnapshot = (room: RoomState): LiveKitRoomSnapshot => ({
    sid: room.sid,
    name: room.name,
    emptyTimeout: room.emptyTimeout,
    departureTimeout: room.departureTimeout,
    maxParticipants: room.maxParticipants,
    metadata: room.metadata,
    creationTime: Math.floor(room.creationTimeMs / 1000),
    creationTimeMs: room.creationTimeMs,
    numParticipants: visibleCount(room),
    participants: [...room.participants.values()].map(participantSnapshot),
  });

  const signWebhook = (body: string | Buffer): string => {
    const now = Math.floor(Date.now() / 1000);
    return signLiveKitJwt(
      { iss: apiKey, nbf: now, exp: now + 300, sha256: webhookBodyHash(body) },
      apiSecret,
    );
  };

  const webhookBody = (
    event: string,
    room: RoomState | undefined,
    participant: ParticipantState | undefined,
    extra: Record<string, unknown> = {},
  ): string => {
    const value: Record<string, unknown> = { event };
    if (room) value.room = roomProto(room);
    if (participant) value.participant = participantProto(participant);
    value.id = guid('EV_');
    value.created_at = String(Math.floor(Date.now() / 1000));
    return JSON.stringify({
      ...(omitDefaults(camelize(value)) as Record<string, unknown>),
      ...extra,
    });
  };

  const deliver = async (
    url: string,
    event: string,
    body: string,
    signal?: AbortSignal,
  ): Promise<Response> => {
    const delivery: LiveKitWebhookDelivery = { event, url, body };
    webhooks.push(delivery);
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/webhook+json',
          authorization: signWebhook(body),
          'user-agent': 'Roomkey-LiveKit-Emulator',
        },
        body,
        signal,
      });
      delivery.status = res.status;
      return res;
    } catch (err) {
      delivery.error = String(err);
      throw err;
    }
  };

  const notify = (event: string, room: RoomState, participant?: ParticipantState): void => {
    const url = options.webhookUrl;
    if (!url) return;
    const body = webhookBody(event, room, participant);
    const controller = new AbortController();
    inflight.add(controller);
    void deliver(url, event, body, controller.signal)
      .then((res) => res.arrayBuffer())
      .catch(() => undefined)
      .finally(() => inflight.delete(controller));
  };

  const ensureRoom = (name: string): RoomState => {
    let room = rooms.get(name);
    if (!room) {
      room = {
        sid: guid('RM_'),
        name,
        emptyTimeout: options.emptyTimeout ?? 300,
        departureTimeout: options.departureTimeout ?? 20,
        maxParticipants: 0,
        metadata: '',
        creationTimeMs: Date.now(),
        turnPassword: randomBytes(24).toString('base64url'),
        participants: new Map(),
      };
      rooms.set(name, room);
      notify('room_started', room);
    }
    return room;
  };

  const removeRoom = (room: RoomState): void => {
    for (const p of room.participants.values()) notify('participant_left', room, p);
    rooms.delete(room.name);
    notify('room_finished', room);
  };

  const joinAs = (
    token: string,
    join: JoinOptions = {},
  ): LiveKitParticipantSnapshot & { room: string } => {
    const claims = verifyLiveKitJwt(token, keys, verifyOptions);
    const video = claims.video;
    if (!video || video.roomJoin !== true) throw new LiveKitError('permissions denied', 401);
    const identity = claims.sub ?? claims.jti ?? '';
    if (identity === '') throw new LiveKitError('participant identity cannot be empty', 400);
    const roomName = video.room !== undefined && video.room !== '' ? video.room : (join.room ?? '');
    if (roomName === '') throw new LiveKitError('room name cannot be empty', 400);
    const room = ensureRoom(roomName);
    const previous = room.participants.get(identity);
    if (previous) notify('participant_left', room, previous);
    const participant: ParticipantState = {
      sid: guid('PA_'),
      identity,
      name: claims.name ?? '',
      metadata: claims.metadata ?? '',
      attributes: { ...(claims.attributes ?? {}) },
      joinedAtMs: Date.now(),
      permission: permissionFromGrant(video),
      kind:
        typeof claims.kind === 'string' && claims.kind !== ''
          ? claims.kind.toUpperCase()
          : 'STANDARD',
      claims,
    };
    room.participants.set(identity, participant);
    notify('participant_joined', room, participant);
    return { ...participantSnapshot(participant), room: roomName };
  };

  const canCreate = (c: LiveKitClaims | undefined): boolean => c?.video?.roomCreate === true;
  const canList = (c: LiveKitClaims | undefined): boolean => c?.video?.roomList === true;
  const canAdmin = (c: LiveKitClaims | undefined, room: string): boolean =>
    c?.video?.roomAdmin === true && (c.video.room ?? '') === room;
  const denied = (res: ServerResponse): void =>
    twirpError(res, 'unauthenticated', 'permissions denied');

  const methods: Record<
    string,
    (res: ServerResponse, req: Record<string, unknown>, claims: LiveKitClaims | undefined) => void
  > = {
    CreateRoom: (res, req, claims) => {
      if (!canCreate(claims)) return denied(res);
      const name = (req.name as string | undefined) ?? '';
      if (name === '') return twirpError(res, 'invalid_argument', 'room name cannot be empty');
      const room = ensureRoom(name);
      const positive = (field: string): number | undefined => {
        const v = req[field] as number | undefined;
        return v !== undefined && v > 0 ? v : undefined;
      };
      room.emptyTimeout = positive('empty_timeout') ?? room.emptyTimeout;
      room.departureTimeout = positive('departure_timeout') ?? room.departureTimeout;
      room.maxParticipants = positive('max_participants') ?? room.maxParticipants;
      const metadata = req.metadata as string | undefined;
      if (metadata !== undefined && metadata !== '') room.metadata = metadata;
      sendJson(res, 200, wire(roomProto(room)));
    },
    ListRooms: (res, req, claims) => {
      if (!canList(claims)) return denied(res);
      const names = (req.names as string[] | undefined) ?? [];
      const list = [...rooms.values()].filter((r) => names.length === 0 || names.includes(r.name));
      sendJson(res, 200, wire({ rooms: list.map(roomProto) }));
    },
    DeleteRoom: (res, req, claims) => {
      if (!canCreate(claims)) return denied(res);
      const room = rooms.get((req.room as string | undefined) ?? '');
      if (!room) return twirpError(res, 'not_found', 'room not found');
      removeRoom(room);
      sendJson(res, 200, {});
    },
    ListParticipants: (res, req, claims) => {
      const name = (req.room as string | undefined) ?? '';
      if (!canAdmin(claims, name)) return denied(res);
      const room = rooms.get(name);
      const list = room ? [...room.participants.values()].map(participantProto) : [];
      sendJson(res, 200, wire({ participants: list }));
    },
    RemoveParticipant: (res, req, claims) => {
      const name = (req.room as string | undefined) ?? '';
      if (!canAdmin(claims, name)) return denied(res);
      const room = rooms.get(name);
      const identity = (req.identity as string | undefined) ?? '';
      const participant = room?.participants.get(identity);
      if (!room || !participant) return twirpError(res, 'not_found', 'participant not found');
      room.participants.delete(identity);
      notify('participant_left', room, participant);
      sendJson(res, 200, {});
    },
  };

  const serveTwirp = (
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
    path: string,
    claims: LiveKitClaims | undefined,
  ): void => {
    const method = req.method ?? 'GET';
    const route = { twirp_invalid_route: `${method} ${path}` };
    if (method !== 'POST') {
      return twirpError(
        res,
        'bad_route',
        `unsupported method "${method}" (only POST is allowed)`,
        route,
      );
    }
    const match = /^\/twirp\/([^/]+)\/([^/]+)$/.exec(path);
    if (!match) return twirpError(res, 'bad_route', `no handler for path "${path}"`, route);
    const [, service, rpc] = match;
    if (service !== ROOM_SERVICE) {
      if (service.startsWith('livekit.')) {
        return twirpError(
          res,
          'unimplemented',
          `${service} is not emulated (only ${ROOM_SERVICE})`,
        );
      }
      return twirpError(res, 'bad_route', `no handler for path "${path}"`, route);
    }
    const handler = methods[rpc];
    const fields = REQUEST_FIELDS[rpc];
    if (!handler || !fields) {
      if (/^[A-Z]/.test(rpc)) {
        return twirpError(res, 'unimplemented', `${ROOM_SERVICE}/${rpc} is not emulated`);
      }
      return twirpError(res, 'bad_route', `no handler for path "${path}"`, route);
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (contentType === 'application/protobuf') {
      return twirpError(res, 'unimplemented', 'the emulator speaks JSON only');
    }
    if (contentType !== 'application/json') {
      return twirpError(
        res,
        'bad_route',
        `unexpected Content-Type: "${req.headers['content-type'] ?? ''}"`,
        route,
      );
    }
    let decoded: Record<string, unknown>;
    try {
      decoded = decodeMessage(raw, fields);
    } catch (err) {
      return twirpError(res, 'malformed', 'the json request could not be decoded', {
        cause: (err as Error).message,
      });
    }
    handler(res, decoded, claims);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/^\/\/+/, '/');

    // APIKeyAuthMiddleware
    const header = req.headers.authorization;
    let token = '';
    if (header !== undefined && header !== '') {
      if (!header.startsWith('Bearer ')) {
        return sendRaw(
          res,
          401,
          'invalid authorization header. Must start with Bearer ',
          'text/plain; charset=utf-8',
        );
      }
      token = header.slice('Bearer '.length);
    } else {
      token = url.searchParams.get('access_token') ?? '';
    }
    let claims: LiveKitClaims | undefined;
    if (token !== '') {
      try {
        claims = verifyLiveKitJwt(token, keys, verifyOptions);
      } catch (err) {
        return sendRaw(res, 401, (err as Error).message, 'text/plain; charset=utf-8');
      }
    }

    if (path.startsWith('/twirp/')) return serveTwirp(req, res, raw, path, claims);
    if (path === '/rtc/validate') {
      if (!claims?.video?.roomJoin)
        return sendRaw(res, 401, 'permissions denied', 'text/plain; charset=utf-8');
      if ((claims.sub ?? claims.jti ?? '') === '') {
        return sendRaw(
          res,
          400,
          'participant identity cannot be empty',
          'text/plain; charset=utf-8',
        );
      }
      if ((claims.video.room || url.searchParams.get('room') || '') === '') {
        return sendRaw(res, 400, 'room name cannot be empty', 'text/plain; charset=utf-8');
      }
      return sendRaw(res, 200, 'success', 'text/plain; charset=utf-8');
    }
    if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendRaw(res, 200, 'OK', 'text/plain; charset=utf-8');
    }
    sendRaw(res, 404, '404 page not found\n', 'text/plain; charset=utf-8');
  };

  const server = await startEmulatorServer({ faults, recorder, handle, port: options.port });

  return {
    url: server.url,
    apiKey,
    apiSecret,
    calls: recorder.calls,
    faults,
    webhooks,
    rooms: () => [...rooms.values()].map(roomSnapshot),
    room: (name) => {
      const room = rooms.get(name);
      return room ? roomSnapshot(room) : undefined;
    },
    joinAs,
    verify: (token) => verifyLiveKitJwt(token, keys, verifyOptions),
    mint: (mint) => mintLiveKitToken({ ...mint, apiKey, apiSecret }),
    signWebhook,
    sendWebhook: (url, event, subject = {}) => {
      const room = subject.room !== undefined ? rooms.get(subject.room) : undefined;
      const participant =
        room && subject.identity !== undefined
          ? room.participants.get(subject.identity)
          : undefined;
      return deliver(url, event, webhookBody(event, room, participant, subject.extra));
    },
    reset: () => {
      rooms.clear();
      recorder.clear();
      faults.clear();
      webhooks.length = 0;
    },
    close: async () => {
      for (const controller of inflight) controller.abort();
      inflight.clear();
      await server.close();
    },
  };
}

/** Starts an emulator for a local demo (env LIVEKIT_API_KEY/SECRET, LIVEKIT_EMULATOR_PORT) and logs its URL. */
export async function main(): Promise<LiveKitEmulator> {
  const emulator = await startLiveKitEmulator({
    apiKey: process.env.LIVEKIT_API_KEY ?? 'devkey',
    apiSecret: process.env.LIVEKIT_API_SECRET ?? 'secret',
    port: Number(process.env.LIVEKIT_EMULATOR_PORT ?? 0),
    webhookUrl: process.env.LIVEKIT_EMULATOR_WEBHOOK_URL,
  });
  console.log(`LiveKit emulator listening on ${emulator.url} (key ${emulator.apiKey})`);
  return emulator;
}
