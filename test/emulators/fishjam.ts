/**
 * Fishjam Cloud management-API emulator for tests and the local demo: a real node:http server on
 * 127.0.0.1 serving the REST API under `/api/v1/connect/<fishjamId>` (configurable), as in
 * docs/vendors.md#fishjam.
 *
 *  - Auth: `Authorization: Bearer <managementToken>`, exact compare; otherwise 401
 *    `{errors: "Missing token"}` (no/ill-formed header) or `{errors: "Invalid token"}`.
 *  - `POST /room` RoomConfig → 201 `{data: {room: {id, config, peers: []}, fishjam_address}}`;
 *    400 `{errors}` on bad values. `GET /room` → `{data: [rooms]}`; `GET /room/{id}` →
 *    `{data: room}`; `DELETE /room/{id}` → 204; unknown room → 404 `{errors: "Room … does not exist"}`.
 *  - `POST /room/{id}/peer` `{type: "webrtc", options: {metadata?, subscribeMode?}}` → 201
 *    `{data: {peer, token, peer_websocket_url}}`; room full (`maxPeers`) → 503.
 *  - `DELETE /room/{id}/peer/{peerId}` → 204/404; `POST /room/{id}/peer/{peerId}/refresh_token`
 *    → 201 `{data: {token}}`.
 *  - Livestreams: `POST /room/{id}/viewer` and `POST /room/{id}/streamer` (no body) → 201
 *    `{token}` — not wrapped in `data` (OpenAPI `ViewerToken`/`StreamerToken`); unknown room →
 *    404 `{errors: "Room … does not exist"}`; a room that is not a livestream room → 404 too (the
 *    SDKs' own tests: "throws FishjamNotFoundException for a non-livestream room"). Viewer tokens
 *    are minted for public livestreams too (the SDK test does so).
 *  - Admission of those tokens, outside the management API and without the management token, as
 *    Fishjam's WHIP/WHEP endpoints take them (`docs/how-to/features/whip-whep.mdx`):
 *    `POST /api/v1/live/api/whep` with `Authorization: Bearer <viewer token>` and an SDP offer →
 *    201 `application/sdp` with a `Location`; `POST /api/v1/live/api/whip` likewise with a streamer
 *    token; `POST /api/v1/live/api/whep/{roomId}` without a token for a public livestream only.
 *
 * Sources: fishjam-cloud/documentation `static/api/fishjam-server-openapi.yaml` (v0.26.1: paths,
 * status codes, RoomConfig with `additionalProperties: false`, enums and defaults, Peer with
 * `subscribeMode` and `subscriptions {peers, tracks}`, Error `{errors}`, server URL
 * `https://fishjam.io/api/v1/connect/{fishjamId}`; v0.22.0 adds `fishjam_address` to the room
 * creation answer, which v0.26.1 still lists as required); fishjam-dev/fishjam (the open-source
 * server the Cloud API grew from) `router.ex` (bearer check and its two 401 messages),
 * `room_controller.ex` and `peer_controller.ex` (400/404 messages, "Reached webrtc peers limit in
 * room …" as **503** — the Cloud OpenAPI lists both 409 and 503 for add_peer and says nothing more,
 * so 503 follows the server source), `fallback_controller.ex` (`{errors: reason}`); peer tokens
 * last 24 h (`docs/explanation/security-tokens.mdx`, OSS `jwt_max_age`).
 *
 * Emulator choices, not confirmed for Fishjam Cloud: room/peer ids are UUIDs; peer tokens are
 * opaque random strings; a refreshed token does not revoke the previous one (OSS tokens are
 * stateless `Phoenix.Token`s); the websocket URL format; the peer's `metadata` echoes
 * `options.metadata`; a non-empty body without `Content-Type: application/json` is refused with
 * 400 (Phoenix would silently ignore it); unknown routes and methods answer 404 `{errors}`.
 * Livestream choices: viewer and streamer tokens are opaque and live as long as peer tokens (the
 * API documents no lifetime); `livestream`, `audio_only_livestream` and the older `broadcaster`
 * count as livestream rooms; the 404 text for a room of another type; WHIP/WHEP refusals are 401
 * `{errors}` (no or unknown token, a token of the other kind, its room gone or not public), 415
 * when the offer is not `application/sdp` and 400 when it is not an SDP offer; the SDP answer is a
 * stub; nothing limits the number of streamers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
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

export const FISHJAM_ROOM_TYPES = [
  'full_feature',
  'audio_only',
  'broadcaster',
  'livestream',
  'conference',
  'audio_only_livestream',
] as const;
export type FishjamRoomType = (typeof FISHJAM_ROOM_TYPES)[number];

/** Room types whose rooms take viewer and streamer tokens. */
export const FISHJAM_LIVESTREAM_ROOM_TYPES: readonly FishjamRoomType[] = [
  'livestream',
  'audio_only_livestream',
  'broadcaster',
];

/** What a livestream token is for: watching (WHEP) or publishing (WHIP). */
export type FishjamLivestreamRole = 'viewer' | 'streamer';

/** Peer tokens are valid for 24 hours. */
export const FISHJAM_PEER_TOKEN_TTL_SEC = 24 * 60 * 60;

export interface FishjamEmulatorOptions {
  /** The management token the dashboard shows; the only accepted Bearer credential. */
  managementToken: string;
  /** Default: 32 random hex characters (the dashboard shows a hex string). */
  fishjamId?: string;
  /** Default `/api/v1/connect/<fishjamId>`; `''` serves the API at the root like the OSS server. */
  basePath?: string;
  /** Peer (and viewer/streamer) token lifetime in seconds (default 24 h). */
  peerTokenTtlSec?: number;
  /** Default `/api/v1/live/api`: where the WHIP and WHEP endpoints are served. */
  livePath?: string;
}

export interface FishjamRoomConfig {
  maxPeers: number | null;
  videoCodec: 'h264' | 'vp8';
  roomType: FishjamRoomType;
  webhookUrl: string | null;
  public: boolean;
  batchWebhookNotifications?: boolean;
}

export interface FishjamPeer {
  id: string;
  type: 'webrtc';
  status: 'connected' | 'disconnected';
  tracks: unknown[];
  metadata: Record<string, unknown> | null;
  subscribeMode: 'auto' | 'manual';
  subscriptions: { peers: string[]; tracks: string[] };
}

export interface FishjamRoom {
  id: string;
  config: FishjamRoomConfig;
  peers: FishjamPeer[];
}

export interface FishjamPeerTokenInfo {
  roomId: string;
  peer: FishjamPeer;
  /** `Date.now()`-style expiry. */
  expiresAt: number;
}

export interface FishjamLivestreamTokenInfo {
  roomId: string;
  role: FishjamLivestreamRole;
  /** `Date.now()`-style expiry. */
  expiresAt: number;
}

export interface FishjamEmulator {
  /** The base URL a client is configured with: `http://127.0.0.1:PORT/api/v1/connect/<id>`. */
  readonly fishjamUrl: string;
  /** The WHEP endpoint viewers post their offer to: `http://127.0.0.1:PORT/api/v1/live/api/whep`. */
  readonly whepUrl: string;
  /** The WHIP endpoint streamers post their offer to. */
  readonly whipUrl: string;
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  readonly fishjamId: string;
  /** Every request received, faulted ones included, oldest first. */
  readonly calls: RecordedCall[];
  readonly faults: FaultController;
  /** Snapshot of the rooms and their peers. */
  rooms(): FishjamRoom[];
  /** The room and peer a peer token admits to, or undefined (unknown, expired, peer/room gone). */
  peerByToken(token: string): FishjamPeerTokenInfo | undefined;
  /** The room a viewer or streamer token admits to, or undefined (unknown, expired, room gone). */
  livestreamByToken(token: string): FishjamLivestreamTokenInfo | undefined;
  close(): Promise<void>;
}

interface RouteResult {
  status: number;
  body?: unknown;
}

interface PeerToken {
  roomId: string;
  peerId: string;
  expiresAt: number;
}

class FishjamError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string,
  ) {
    super(errors);
  }
}

const ROOM_CONFIG_KEYS = new Set([
  'maxPeers',
  'videoCodec',
  'roomType',
  'webhookUrl',
  'public',
  'batchWebhookNotifications',
]);
const WEBRTC_OPTION_KEYS = new Set(['metadata', 'subscribeMode']);
const WEBHOOK_URL = /^https?:\/\/[^/]+\/.*$/;
/** A stub SDP answer: the emulator carries no media. */
const SDP_ANSWER = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=fishjam-emulator\r\nt=0 0\r\n';

export async function startFishjamEmulator(
  options: FishjamEmulatorOptions,
): Promise<FishjamEmulator> {
  const fishjamId = options.fishjamId ?? randomBytes(16).toString('hex');
  const basePath = (options.basePath ?? `/api/v1/connect/${fishjamId}`).replace(/\/+$/, '');
  const livePath = (options.livePath ?? '/api/v1/live/api').replace(/\/+$/, '');
  const ttlMs = (options.peerTokenTtlSec ?? FISHJAM_PEER_TOKEN_TTL_SEC) * 1000;
  const rooms = new Map<string, FishjamRoom>();
  const tokens = new Map<string, PeerToken>();
  const liveTokens = new Map<string, FishjamLivestreamTokenInfo>();
  const faults = new FaultController();
  const recorder: CallRecorder = createRecorder();
  let origin = '';

  const issueToken = (roomId: string, peerId: string): string => {
    const token = randomBytes(32).toString('base64url');
    tokens.set(token, { roomId, peerId, expiresAt: Date.now() + ttlMs });
    return token;
  };

  const issueLivestreamToken = (roomId: string, role: FishjamLivestreamRole): string => {
    const token = randomBytes(32).toString('base64url');
    liveTokens.set(token, { roomId, role, expiresAt: Date.now() + ttlMs });
    return token;
  };

  /** A live token's entry while it admits: known, unexpired, its room still there. */
  const liveToken = (token: string): FishjamLivestreamTokenInfo | undefined => {
    const entry = liveTokens.get(token);
    if (!entry || entry.expiresAt <= Date.now() || !rooms.has(entry.roomId)) return undefined;
    return entry;
  };

  const findRoom = (rawId: string): FishjamRoom => {
    const id = decodeURIComponent(rawId);
    const room = rooms.get(id);
    if (!room) throw new FishjamError(404, `Room ${id} does not exist`);
    return room;
  };

  const findPeer = (room: FishjamRoom, rawId: string): FishjamPeer => {
    const id = decodeURIComponent(rawId);
    const peer = room.peers.find((p) => p.id === id);
    if (!peer) throw new FishjamError(404, `Peer ${id} does not exist`);
    return peer;
  };

  const route = (
    method: string,
    rest: string,
    req: IncomingMessage,
    raw: Buffer,
  ): (() => RouteResult) | undefined => {
    const segments = rest.split('/').filter(Boolean);
    if (segments[0] !== 'room') return undefined;
    const [, roomId, peerLit, peerId, action] = segments;

    if (segments.length === 1 && method === 'GET') {
      return () => ({ status: 200, body: { data: [...rooms.values()] } });
    }
    if (segments.length === 1 && method === 'POST') {
      return () => {
        const config = parseRoomConfig(parseJsonBody(req, raw));
        const room: FishjamRoom = { id: randomUUID(), config, peers: [] };
        rooms.set(room.id, room);
        return { status: 201, body: { data: { room, fishjam_address: new URL(origin).host } } };
      };
    }
    if (segments.length === 2 && method === 'GET') {
      return () => ({ status: 200, body: { data: findRoom(roomId) } });
    }
    if (segments.length === 2 && method === 'DELETE') {
      return () => {
        const room = findRoom(roomId);
        rooms.delete(room.id);
        return { status: 204 };
      };
    }
    if (segments.length === 3 && peerLit === 'peer' && method === 'POST') {
      return () => {
        const { subscribeMode, metadata } = parsePeerConfig(parseJsonBody(req, raw));
        const room = findRoom(roomId);
        if (room.config.maxPeers !== null && room.peers.length >= room.config.maxPeers) {
          throw new FishjamError(503, `Reached webrtc peers limit in room ${room.id}`);
        }
        const peer: FishjamPeer = {
          id: randomUUID(),
          type: 'webrtc',
          status: 'disconnected',
          tracks: [],
          metadata,
          subscribeMode,
          subscriptions: { peers: [], tracks: [] },
        };
        room.peers.push(peer);
        const wsUrl = `${origin.replace(/^http/, 'ws')}${basePath}/socket/peer/websocket`;
        return {
          status: 201,
          body: { data: { peer, token: issueToken(room.id, peer.id), peer_websocket_url: wsUrl } },
        };
      };
    }
    if (
      segments.length === 3 &&
      (peerLit === 'viewer' || peerLit === 'streamer') &&
      method === 'POST'
    ) {
      return () => {
        parseJsonBody(req, raw); // no body is defined; one that is not a JSON object is refused
        const room = findRoom(roomId);
        if (!FISHJAM_LIVESTREAM_ROOM_TYPES.includes(room.config.roomType)) {
          throw new FishjamError(404, `Room ${room.id} is not a livestream room`);
        }
        return { status: 201, body: { token: issueLivestreamToken(room.id, peerLit) } };
      };
    }
    if (segments.length === 4 && peerLit === 'peer' && method === 'DELETE') {
      return () => {
        const room = findRoom(roomId);
        const peer = findPeer(room, peerId);
        room.peers = room.peers.filter((p) => p !== peer);
        return { status: 204 };
      };
    }
    if (
      segments.length === 5 &&
      peerLit === 'peer' &&
      action === 'refresh_token' &&
      method === 'POST'
    ) {
      return () => {
        const room = findRoom(roomId);
        const peer = findPeer(room, peerId);
        return { status: 201, body: { data: { token: issueToken(room.id, peer.id) } } };
      };
    }
    return undefined;
  };

  /**
   * WHIP (`/whip`, streamer token) and WHEP (`/whep`, viewer token; `/whep/{roomId}` without one
   * for a public livestream): the token is the only credential; the answer is a stub SDP answer.
   */
  const live = (req: IncomingMessage, res: ServerResponse, raw: Buffer, rest: string): void => {
    const segments = rest.split('/').filter(Boolean);
    const [endpoint, publicRoomId] = segments;
    const role: FishjamLivestreamRole | undefined =
      endpoint === 'whep' ? 'viewer' : endpoint === 'whip' ? 'streamer' : undefined;
    if (
      req.method !== 'POST' ||
      !role ||
      segments.length > 2 ||
      (publicRoomId && role !== 'viewer')
    ) {
      return sendJson(res, 404, { errors: `No route ${req.method} ${livePath}${rest}` });
    }
    let roomId: string;
    if (publicRoomId) {
      const room = rooms.get(decodeURIComponent(publicRoomId));
      const open =
        room?.config.public && FISHJAM_LIVESTREAM_ROOM_TYPES.includes(room.config.roomType);
      if (!room || !open) return sendJson(res, 401, { errors: 'Invalid token' });
      roomId = room.id;
    } else {
      const auth = req.headers.authorization;
      if (!auth?.startsWith('Bearer ')) return sendJson(res, 401, { errors: 'Missing token' });
      const entry = liveToken(auth.slice('Bearer '.length));
      if (!entry || entry.role !== role) return sendJson(res, 401, { errors: 'Invalid token' });
      roomId = entry.roomId;
    }
    const contentType = (req.headers['content-type'] ?? '').toLowerCase();
    if (!contentType.startsWith('application/sdp')) {
      return sendJson(res, 415, { errors: 'Expected an application/sdp offer' });
    }
    if (!raw.toString('utf8').startsWith('v=0')) {
      return sendJson(res, 400, { errors: 'Invalid SDP offer' });
    }
    sendRaw(res, 201, SDP_ANSWER, 'application/sdp', {
      location: `${livePath}/resource/${roomId}/${randomUUID()}`,
    });
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path.startsWith(`${livePath}/`)) return live(req, res, raw, path.slice(livePath.length));
    const inBase = path === basePath || path.startsWith(`${basePath}/`);
    const action = inBase ? route(method, path.slice(basePath.length), req, raw) : undefined;
    if (!action) return sendJson(res, 404, { errors: `No route ${method} ${path}` });

    const auth = req.headers.authorization;
    if (!auth?.startsWith('Bearer ')) return sendJson(res, 401, { errors: 'Missing token' });
    if (auth.slice('Bearer '.length) !== options.managementToken) {
      return sendJson(res, 401, { errors: 'Invalid token' });
    }

    try {
      const result = action();
      if (result.status === 204 || result.body === undefined) {
        return sendRaw(res, result.status, '', undefined);
      }
      return sendJson(res, result.status, result.body);
    } catch (err) {
      if (!(err instanceof FishjamError)) throw err;
      return sendJson(res, err.status, { errors: err.errors });
    }
  };

  const server = await startEmulatorServer({ faults, recorder, handle });
  origin = server.url;

  return {
    fishjamUrl: `${server.url}${basePath}`,
    whepUrl: `${server.url}${livePath}/whep`,
    whipUrl: `${server.url}${livePath}/whip`,
    url: server.url,
    fishjamId,
    calls: recorder.calls,
    faults,
    rooms: () => [...rooms.values()].map(cloneRoom),
    peerByToken: (token) => {
      const entry = tokens.get(token);
      if (!entry || entry.expiresAt <= Date.now()) return undefined;
      const peer = rooms.get(entry.roomId)?.peers.find((p) => p.id === entry.peerId);
      if (!peer) return undefined;
      return { roomId: entry.roomId, peer: clonePeer(peer), expiresAt: entry.expiresAt };
    },
    livestreamByToken: (token) => {
      const entry = liveToken(token);
      return entry && { ...entry };
    },
    close: () => server.close(),
  };
}

/** Parses an optional JSON object body (`{}` when empty). */
function parseJsonBody(req: IncomingMessage, raw: Buffer): Record<string, unknown> {
  const text = raw.toString('utf8').trim();
  if (text.length === 0) return {};
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  if (!contentType.startsWith('application/json')) {
    throw new FishjamError(400, 'Invalid request body structure');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new FishjamError(400, 'Invalid request body structure');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new FishjamError(400, 'Invalid request body structure');
  }
  return value as Record<string, unknown>;
}

function parseRoomConfig(body: Record<string, unknown>): FishjamRoomConfig {
  for (const key of Object.keys(body)) {
    if (!ROOM_CONFIG_KEYS.has(key)) throw new FishjamError(400, `Unknown room config field ${key}`);
  }
  const { maxPeers, videoCodec, roomType, webhookUrl } = body;
  if (
    maxPeers != null &&
    !(typeof maxPeers === 'number' && Number.isInteger(maxPeers) && maxPeers >= 0)
  ) {
    throw new FishjamError(400, `Expected maxPeers to be a number, got: ${show(maxPeers)}`);
  }
  if (videoCodec != null && videoCodec !== 'h264' && videoCodec !== 'vp8') {
    throw new FishjamError(
      400,
      `Expected videoCodec to be 'h264' or 'vp8', got: ${show(videoCodec)}`,
    );
  }
  if (roomType !== undefined && !(FISHJAM_ROOM_TYPES as readonly unknown[]).includes(roomType)) {
    throw new FishjamError(
      400,
      `Expected roomType to be one of ${FISHJAM_ROOM_TYPES.join(', ')}, got: ${show(roomType)}`,
    );
  }
  if (webhookUrl != null && !(typeof webhookUrl === 'string' && WEBHOOK_URL.test(webhookUrl))) {
    throw new FishjamError(400, `Expected webhookUrl to be valid URL, got: ${show(webhookUrl)}`);
  }
  for (const flag of ['public', 'batchWebhookNotifications'] as const) {
    if (body[flag] !== undefined && typeof body[flag] !== 'boolean') {
      throw new FishjamError(400, `Expected ${flag} to be a boolean, got: ${show(body[flag])}`);
    }
  }
  const config: FishjamRoomConfig = {
    maxPeers: maxPeers ?? null,
    videoCodec: videoCodec ?? 'h264',
    roomType: (roomType as FishjamRoomType | undefined) ?? 'conference',
    webhookUrl: webhookUrl ?? null,
    public: (body.public as boolean | undefined) ?? false,
  };
  if (body.batchWebhookNotifications !== undefined) {
    config.batchWebhookNotifications = body.batchWebhookNotifications as boolean;
  }
  return config;
}

function parsePeerConfig(body: Record<string, unknown>): {
  subscribeMode: 'auto' | 'manual';
  metadata: Record<string, unknown> | null;
} {
  if (body.type === undefined) throw new FishjamError(400, 'Invalid request body structure');
  if (body.type !== 'webrtc') {
    // `agent` and `vapi` exist in the OpenAPI; Roomkey only creates WebRTC peers.
    throw new FishjamError(400, 'Invalid peer type');
  }
  const options = body.options ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new FishjamError(400, 'Invalid request body structure');
  }
  const opts = options as Record<string, unknown>;
  for (const key of Object.keys(opts)) {
    if (!WEBRTC_OPTION_KEYS.has(key)) throw new FishjamError(400, `Unknown peer option ${key}`);
  }
  const { subscribeMode, metadata } = opts;
  if (subscribeMode !== undefined && subscribeMode !== 'auto' && subscribeMode !== 'manual') {
    throw new FishjamError(
      400,
      `Expected subscribeMode to be 'auto' or 'manual', got: ${show(subscribeMode)}`,
    );
  }
  if (metadata != null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    throw new FishjamError(400, 'Expected metadata to be an object');
  }
  return {
    subscribeMode: subscribeMode ?? 'auto',
    metadata: (metadata as Record<string, unknown> | null | undefined) ?? null,
  };
}

/** How a rejected value is quoted in an error message. */
function show(value: unknown): string {
  return JSON.stringify(value) ?? 'undefined';
}

function clonePeer(peer: FishjamPeer): FishjamPeer {
  return structuredClone(peer);
}

function cloneRoom(room: FishjamRoom): FishjamRoom {
  return structuredClone(room);
}
