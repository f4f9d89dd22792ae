/**
 * OpenVidu 2 emulator: the REST API under `/openvidu/api/` as OpenVidu Server 2.2x–2.32 speaks
 * it, on a real node:http server bound to 127.0.0.1, with state in memory.
 *
 * Wire behaviour follows the server's own source (openvidu-server `SessionRestController`,
 * `Session`, `Token`; openvidu-java-client `SessionProperties.fromJson`,
 * `ConnectionProperties.fromJson`) and the REST-API reference:
 *
 * - Basic auth `OPENVIDUAPP:<secret>` on every `/openvidu/api/` path (before routing), else 401.
 * - POST /sessions: optional body; types and enums checked like the Java client (400 with the
 *   Spring-style `{timestamp,status,error,message,path}` JSON); `customSessionId` that already
 *   exists → 409 with an empty body and no state change; 200 → Session JSON.
 * - GET /sessions[/:id] (`?pendingConnections=true` to include pending connections; default
 *   false, as on the server), DELETE /sessions/:id (204/404, empty bodies).
 * - POST /sessions/:id/connection (404 first when the session is unknown, then 400 on bad
 *   params) → pending Connection with `con_…` id and token `wss://HOST?sessionId=…&token=tok_…`;
 *   `customIceServers` checked like `IceServerProperties.Builder.build()` (STUN/TURN URI syntax,
 *   TURN credentials or a `staticAuthSecret` turned into 24 h TURN REST credentials); an IPCAM
 *   connection is active at once, with a null token.
 * - GET /sessions/:id/connection (404 no session; pending included by default),
 *   GET /sessions/:id/connection/:cid (400 no session, 404 no connection),
 *   DELETE /sessions/:id/connection/:cid (204; 400 no session; 404 no connection).
 * - Tokens are single use: `connectWithToken()` plays openvidu-browser's `Session.connect` and
 *   turns the connection `active`; a second use, or a use after DELETE, is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
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

export const OPENVIDU_API_PREFIX = '/openvidu/api';

export type OpenViduMediaMode = 'ROUTED' | 'RELAYED';
export type OpenViduRecordingMode = 'MANUAL' | 'ALWAYS';
export type OpenViduRole = 'SUBSCRIBER' | 'PUBLISHER' | 'MODERATOR';
export type OpenViduConnectionType = 'WEBRTC' | 'IPCAM';

/** A Connection exactly as the REST API returns it. */
export interface OpenViduConnectionJson {
  id: string;
  object: 'connection';
  status: 'pending' | 'active';
  /** Deprecated duplicate of `id` the server still sends. */
  connectionId: string;
  sessionId: string;
  createdAt: number;
  type: OpenViduConnectionType;
  record: boolean;
  role: OpenViduRole | null;
  kurentoOptions: Record<string, unknown> | null;
  customIceServers: Record<string, unknown>[];
  rtspUri: string | null;
  adaptativeBitrate: boolean | null;
  onlyPlayWithSubscribers: boolean | null;
  networkCache: number | null;
  serverData: string;
  token: string | null;
  activeAt: number | null;
  location: string | null;
  ip: string | null;
  platform: string | null;
  clientData: string | null;
  publishers: unknown[] | null;
  subscribers: unknown[] | null;
}

/** A Session exactly as the REST API returns it. */
export interface OpenViduSessionJson {
  id: string;
  object: 'session';
  /** Deprecated duplicate of `id` the server still sends. */
  sessionId: string;
  createdAt: number;
  recording: boolean;
  broadcasting: boolean;
  mediaMode: OpenViduMediaMode;
  recordingMode: OpenViduRecordingMode;
  defaultRecordingProperties: Record<string, unknown>;
  customSessionId: string;
  mediaNode?: { id: string };
  forcedVideoCodec: string;
  allowTranscoding: boolean;
  connections: { numberOfElements: number; content: OpenViduConnectionJson[] };
}

export interface OpenViduEmulatorOptions {
  /** OPENVIDU_SECRET; the Basic auth user is always `OPENVIDUAPP`. */
  secret: string;
  /** Listen port (default: any free port). Always 127.0.0.1. */
  port?: number;
  /** `host:port` used inside connection tokens (default `127.0.0.1:4443`). */
  tokenHost?: string;
  /** Static headers the emulated deployment adds to webhooks (OPENVIDU_WEBHOOK_HEADERS). */
  webhookHeaders?: Record<string, string>;
}

export interface OpenViduEmulator {
  /** `http://127.0.0.1:PORT` — the deployment URL; the API lives under `/openvidu/api/`. */
  readonly url: string;
  readonly secret: string;
  /** Every request received (faulted ones too), oldest first. */
  readonly calls: RecordedCall[];
  readonly faults: FaultController;
  /** Snapshot of every session (pending connections included). */
  sessions(): OpenViduSessionJson[];
  /** Snapshot of one session (pending connections included). */
  session(sessionId: string): OpenViduSessionJson | undefined;
  /** Snapshot of one connection, pending or active. */
  connection(sessionId: string, connectionId: string): OpenViduConnectionJson | undefined;
  /**
   * Uses a token the way openvidu-browser's `Session.connect(token)` does: the pending
   * connection becomes active. Throws `OpenViduTokenError` for an unknown, revoked or already
   * used token (OpenVidu answers such a join with 401).
   */
  connectWithToken(token: string, clientData?: string): OpenViduConnectionJson;
  /** POSTs an OpenVidu webhook event to `url` with the configured static headers. */
  webhook(
    url: string,
    event: OpenViduWebhookEventName,
    fields?: Record<string, unknown>,
  ): Promise<Response>;
  /** Forgets all sessions, recorded calls and the armed fault. */
  reset(): void;
  /** Stops the server; never waits for hung requests. */
  close(): Promise<void>;
}

export type OpenViduWebhookEventName =
  | 'sessionCreated'
  | 'sessionDestroyed'
  | 'participantJoined'
  | 'participantLeft'
  | 'webrtcConnectionCreated'
  | 'webrtcConnectionDestroyed'
  | 'recordingStatusChanged'
  | 'filterEventDispatched'
  | 'signalSent'
  | (string & {});

export class OpenViduTokenError extends Error {
  /** The HTTP status OpenVidu uses for a refused join. */
  readonly status = 401;
}

interface ConnectionState {
  json: OpenViduConnectionJson;
}

interface SessionState {
  id: string;
  createdAt: number;
  mediaMode: OpenViduMediaMode;
  recordingMode: OpenViduRecordingMode;
  defaultRecordingProperties: Record<string, unknown>;
  customSessionId: string;
  mediaNode?: string;
  forcedVideoCodec: string;
  allowTranscoding: boolean;
  connections: Map<string, ConnectionState>;
}

class BadRequest extends Error {}

const MEDIA_MODES = ['ROUTED', 'RELAYED'] as const;
const RECORDING_MODES = ['MANUAL', 'ALWAYS'] as const;
const VIDEO_CODECS = ['MEDIA_SERVER_PREFERRED', 'NONE', 'VP8', 'VP9', 'H264'] as const;
const ROLES = ['SUBSCRIBER', 'PUBLISHER', 'MODERATOR'] as const;
const CONNECTION_TYPES = ['WEBRTC', 'IPCAM'] as const;
const OUTPUT_MODES = ['COMPOSED', 'INDIVIDUAL', 'COMPOSED_QUICK_START'] as const;
const RECORDING_LAYOUTS = [
  'BEST_FIT',
  'CUSTOM',
  'PICTURE_IN_PICTURE',
  'VERTICAL_PRESENTATION',
  'HORIZONTAL_PRESENTATION',
] as const;
const RTSP_SCHEMES = ['file', 'rtsp', 'rtsps', 'http', 'https'];
const CUSTOM_SESSION_ID = /^[a-zA-Z0-9_-]+$/;
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function randomFrom(alphabet: string, length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (let i = 0; i < length; i += 1) out += alphabet[bytes[i] % alphabet.length];
  return out;
}

/** `ses_`/`con_` + one upper-case letter + 9 alphanumerics, as the server generates them. */
function openViduId(prefix: string): string {
  return `${prefix}${randomFrom(UPPER, 1)}${randomFrom(ALNUM, 9)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function javaTypeName(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? 'Integer' : 'Double';
  if (typeof value === 'boolean') return 'Boolean';
  if (typeof value === 'string') return 'String';
  if (Array.isArray(value)) return 'ArrayList';
  return 'LinkedHashMap';
}

function castError(field: string, value: unknown, expected: string): string {
  return `class java.lang.${javaTypeName(value)} cannot be cast to class java.lang.${expected} (field '${field}')`;
}

/** `(String) params.get(field)`: null/absent → undefined, non-string → ClassCastException. */
function optString(
  params: Record<string, unknown>,
  field: string,
  prefix: string,
): string | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new BadRequest(`${prefix}${castError(field, value, 'String')}`);
  return value;
}

function optBoolean(
  params: Record<string, unknown>,
  field: string,
  prefix: string,
): boolean | undefined {
  const value = params[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean')
    throw new BadRequest(`${prefix}${castError(field, value, 'Boolean')}`);
  return value;
}

function enumValue<T extends string>(
  values: readonly T[],
  raw: string,
  javaEnum: string,
  message?: (raw: string) => string,
): T {
  if ((values as readonly string[]).includes(raw)) return raw as T;
  throw new BadRequest(
    message ? message(raw) : `No enum constant io.openvidu.java.client.${javaEnum}.${raw}`,
  );
}

/** Gson `getAsInt()` on a JSON primitive: numbers and numeric strings. */
function asInt(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return Math.trunc(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value.trim())) return Number.parseInt(value, 10);
  throw new Error(`'${field}' is not a number: ${JSON.stringify(value)}`);
}

const DEFAULT_RECORDING = {
  name: '',
  hasAudio: true,
  hasVideo: true,
  outputMode: 'COMPOSED',
  recordingLayout: 'BEST_FIT',
  resolution: '1280x720',
  frameRate: 25,
  shmSize: 536870912,
} as const;

/** RecordingProperties.fromJson + toJson (the subset a default recording carries). */
function parseRecordingProperties(raw: unknown): Record<string, unknown> {
  const wrap = (msg: string): BadRequest =>
    new BadRequest(
      `Some parameter is not valid. Parameter 'defaultRecordingProperties' is not valid: ${msg}`,
    );
  if (!isObject(raw)) {
    throw new BadRequest(
      "Some parameter is not valid. Error in parameter 'defaultRecordingProperties'. It is not a valid JSON object",
    );
  }
  const get = <T>(field: string, type: 'string' | 'boolean' | 'number', fallback: T): T => {
    const value = raw[field];
    if (value === undefined || value === null) return fallback;
    if (typeof value !== type) throw wrap(`Type error in parameter '${field}'`);
    return value as T;
  };
  const name = get('name', 'string', DEFAULT_RECORDING.name);
  const hasAudio = get('hasAudio', 'boolean', DEFAULT_RECORDING.hasAudio as boolean);
  const hasVideo = get('hasVideo', 'boolean', DEFAULT_RECORDING.hasVideo as boolean);
  const outputModeRaw = get('outputMode', 'string', DEFAULT_RECORDING.outputMode as string);
  const layoutRaw = get('recordingLayout', 'string', DEFAULT_RECORDING.recordingLayout as string);
  const customLayout = get('customLayout', 'string', '');
  const resolution = get('resolution', 'string', DEFAULT_RECORDING.resolution as string);
  const frameRate = get('frameRate', 'number', DEFAULT_RECORDING.frameRate as number);
  const shmSize = get('shmSize', 'number', DEFAULT_RECORDING.shmSize as number);
  const ignoreFailedStreams = get('ignoreFailedStreams', 'boolean', false);
  let outputMode: string;
  let recordingLayout: string;
  try {
    outputMode = enumValue(OUTPUT_MODES, outputModeRaw, 'Recording.OutputMode');
    recordingLayout = enumValue(RECORDING_LAYOUTS, layoutRaw, 'RecordingLayout');
  } catch (err) {
    throw wrap((err as Error).message);
  }
  if (!hasAudio && !hasVideo)
    throw wrap('Cannot start a recording with both "hasAudio" and "hasVideo" set to false');
  const match = /^(\d+)x(\d+)$/.exec(resolution);
  if (!match || [match[1], match[2]].some((n) => Number(n) < 100 || Number(n) > 1999)) {
    throw wrap(
      'Wrong "resolution" parameter. Acceptable values from 100 to 1999 for both width and height',
    );
  }
  if (!Number.isInteger(frameRate) || frameRate < 1 || frameRate > 120) {
    throw wrap('Wrong "frameRate" parameter. Acceptable values are [1-120]');
  }
  if (shmSize < 134217728)
    throw wrap('Wrong "shmSize" parameter. Must be 134217728 (128 MB) minimum');
  const out: Record<string, unknown> = { name, hasAudio, hasVideo, outputMode };
  if (outputMode !== 'INDIVIDUAL' && hasVideo) {
    out.recordingLayout = recordingLayout;
    out.resolution = resolution;
    out.frameRate = frameRate;
    out.shmSize = shmSize;
    if (recordingLayout === 'CUSTOM') out.customLayout = customLayout;
  }
  if (outputMode === 'INDIVIDUAL') out.ignoreFailedStreams = ignoreFailedStreams;
  const mediaNode = raw.mediaNode;
  if (isObject(mediaNode) && typeof mediaNode.id === 'string') out.mediaNode = mediaNode.id;
  return out;
}

interface ParsedSession {
  mediaMode: OpenViduMediaMode;
  recordingMode: OpenViduRecordingMode;
  customSessionId: string;
  forcedVideoCodec: string;
  allowTranscoding: boolean;
  defaultRecordingProperties: Record<string, unknown>;
  mediaNode?: string;
}

/** SessionProperties.fromJson + the server's forcedVideoCodec/allowTranscoding defaults. */
function parseSessionBody(params: Record<string, unknown> | null): ParsedSession {
  const parsed: ParsedSession = {
    mediaMode: 'ROUTED',
    recordingMode: 'MANUAL',
    customSessionId: '',
    forcedVideoCodec: 'MEDIA_SERVER_PREFERRED',
    allowTranscoding: false,
    defaultRecordingProperties: { ...DEFAULT_RECORDING },
  };
  if (params === null) return parsed;
  const typePrefix = 'Type error in some parameter: ';
  const mediaMode = optString(params, 'mediaMode', typePrefix);
  const recordingMode = optString(params, 'recordingMode', typePrefix);
  const customSessionId = optString(params, 'customSessionId', typePrefix);
  const forcedVideoCodec = optString(params, 'forcedVideoCodec', typePrefix);
  const allowTranscoding = optBoolean(params, 'allowTranscoding', typePrefix);
  if (forcedVideoCodec !== undefined) {
    parsed.forcedVideoCodec = enumValue(
      VIDEO_CODECS,
      forcedVideoCodec,
      'VideoCodec',
      (raw) =>
        `Invalid value for parameter 'forcedVideoCodec': No enum constant io.openvidu.java.client.VideoCodec.${raw}`,
    );
  }
  const invalid = (err: unknown): BadRequest =>
    err instanceof BadRequest && err.message.startsWith('Some parameter is not valid.')
      ? err
      : new BadRequest(`Some parameter is not valid. ${(err as Error).message}`);
  try {
    if (recordingMode !== undefined) {
      parsed.recordingMode = enumValue(RECORDING_MODES, recordingMode, 'RecordingMode');
    }
    if (mediaMode !== undefined) parsed.mediaMode = enumValue(MEDIA_MODES, mediaMode, 'MediaMode');
    if (customSessionId !== undefined && customSessionId !== '') {
      if (!CUSTOM_SESSION_ID.test(customSessionId)) {
        throw new BadRequest(
          "Parameter 'customSessionId' is wrong. Must be an alphanumeric string [a-zA-Z0-9_-]",
        );
      }
      parsed.customSessionId = customSessionId;
    }
    if (allowTranscoding !== undefined) parsed.allowTranscoding = allowTranscoding;
    if (
      params.defaultRecordingProperties !== undefined &&
      params.defaultRecordingProperties !== null
    ) {
      parsed.defaultRecordingProperties = parseRecordingProperties(
        params.defaultRecordingProperties,
      );
    }
    const mediaNode = params.mediaNode;
    if (mediaNode !== undefined && mediaNode !== null) {
      if (!isObject(mediaNode))
        throw new BadRequest("Error in parameter 'mediaNode'. It is not a valid JSON object");
      if (!('id' in mediaNode))
        throw new BadRequest("Error in parameter 'mediaNode'. Property 'id' not found");
      if (typeof mediaNode.id !== 'string') {
        throw new BadRequest("Type error in parameter 'mediaNode.id': not a String");
      }
      parsed.mediaNode = mediaNode.id;
    }
  } catch (err) {
    throw invalid(err);
  }
  return parsed;
}

const TURN_PROTOCOLS = ['turn', 'turns'];
const STUN_PROTOCOLS = ['stun', 'stuns'];
const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

/** Java's `String.split(":")`: trailing empty strings are removed. */
function javaSplit(value: string, sep: string): string[] {
  const parts = value.split(sep);
  while (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * IceServerProperties.Builder `checkHost`: a domain name or an IP address. The server also
 * resolves names it does not recognise through DNS; the emulator accepts any well-formed name.
 */
function checkIceHost(uri: string, host: string): void {
  if (host === '') throw new Error(`Host defined in '${uri}' is empty or null`);
  if (HOSTNAME.test(host) || isIP(host) !== 0) return;
  throw new Error(`Is not a valid Internet Address (IP or Domain Name): '${host}'`);
}

function checkIcePort(uri: string, port: string): void {
  if (port === '') throw new Error(`Port defined in '${uri}' is empty or null`);
  if (!/^[+-]?\d+$/.test(port)) {
    throw new Error(`The port defined in '${uri}' is not a number (0-65535)`);
  }
  const n = Number.parseInt(port, 10);
  if (n <= 0 || n > 65535) {
    throw new Error(`The port defined in '${uri}' is not a valid port number (0-65535)`);
  }
}

/** IceServerProperties.Builder `checkValidStunTurn` (RFC 7064 / 7065 URIs). */
function checkValidStunTurn(uri: string): void {
  const firstColon = uri.indexOf(':');
  if (firstColon === -1) {
    throw new Error(`Not a valid TURN/STUN uri provided. No colons found in: '${uri}'`);
  }
  const protocol = uri.slice(0, firstColon);
  const turn = TURN_PROTOCOLS.includes(protocol);
  if (!turn && !STUN_PROTOCOLS.includes(protocol)) {
    throw new Error(
      `The protocol '${protocol}' is invalid. Only valid values are: [${TURN_PROTOCOLS.join(', ')}] [${STUN_PROTOCOLS.join(', ')}]`,
    );
  }
  const qmark = uri.indexOf('?');
  let hostAndPort = uri.slice(firstColon + 1);
  if (qmark !== -1) {
    if (!turn) throw new Error("STUN uri can't have any '?' query param");
    const transport = uri.slice(qmark);
    hostAndPort = uri.slice(firstColon + 1, qmark);
    if (transport !== '?transport=tcp' && transport !== '?transport=udp') {
      throw new Error(
        `Wrong value specified in STUN/TURN uri: '${uri}'. Unique valid arguments after '?' are '?transport=tcp' or '?transport=udp`,
      );
    }
  }
  const portColon = hostAndPort.indexOf(':');
  const open = hostAndPort.indexOf('[');
  const close = hostAndPort.indexOf(']');
  if ((open === -1) !== (close === -1)) {
    throw new Error(`Not closed bracket '[' or ']' in uri: ${uri}`);
  }
  if (portColon === -1) return checkIceHost(uri, hostAndPort);
  if (open === -1) {
    const parts = javaSplit(hostAndPort, ':');
    if (parts.length !== 2) {
      throw new Error(`Host or port are not correctly defined in STUN/TURN uri: '${uri}'`);
    }
    checkIceHost(uri, parts[0]);
    return checkIcePort(uri, parts[1]);
  }
  const ipv6 = hostAndPort.slice(open + 1, close);
  const rest = hostAndPort.slice(close + 1);
  if (rest.startsWith(':')) {
    if (rest.length === 1) {
      throw new Error(`Host or port are not correctly defined in STUN/TURN uri: ${uri}`);
    }
    checkIceHost(uri, ipv6);
    checkIcePort(uri, rest.slice(1));
  } else if (rest.length > 0) {
    throw new Error(`Port is not specified correctly after IPv6 in uri: '${uri}'`);
  }
}

/**
 * IceServerProperties.Builder.build() from one `customIceServers` entry, and the entry as the
 * Connection JSON shows it (`{url, username?, credential?}`). A `staticAuthSecret` is turned into
 * a TURN REST username (`<unix expiry in 24 h>:<8 random characters>`) and credential
 * (base64 HMAC-SHA1 of the username), as the server does; the secret itself is not kept.
 */
function buildIceServer(server: unknown): Record<string, unknown> {
  if (!isObject(server)) throw new Error('ICE server is not a JSON object');
  if (typeof server.url !== 'string') throw new Error("'url' is mandatory and must be a string");
  const text = (field: string): string | undefined => {
    if (!(field in server)) return undefined;
    if (typeof server[field] !== 'string') throw new Error(`'${field}' must be a string`);
    return server[field];
  };
  const url = server.url;
  const staticAuthSecret = text('staticAuthSecret');
  let username = text('username');
  let credential = text('credential');
  checkValidStunTurn(url);
  if (url.startsWith('turn')) {
    if (staticAuthSecret !== undefined) {
      if (username !== undefined || credential !== undefined) {
        throw new Error("You can't define username or credential if staticAuthSecret is defined");
      }
      username = `${Math.floor(Date.now() / 1000) + 24 * 3600}:${randomFrom(ALNUM, 8)}`;
      credential = createHmac('sha1', staticAuthSecret).update(username).digest('base64');
    }
    if (username === undefined || credential === undefined) {
      throw new Error('Credentials must be defined while using turn');
    }
  } else if (username !== undefined || credential !== undefined) {
    throw new Error('Credentials can not be defined while using stun.');
  }
  const entry: Record<string, unknown> = { url };
  if (username) entry.username = username;
  if (credential) entry.credential = credential;
  return entry;
}

interface ParsedConnection {
  type: OpenViduConnectionType;
  data: string;
  record: boolean;
  role: OpenViduRole | null;
  kurentoOptions: Record<string, unknown> | null;
  customIceServers: Record<string, unknown>[];
  rtspUri: string | null;
  adaptativeBitrate: boolean | null;
  onlyPlayWithSubscribers: boolean | null;
  networkCache: number | null;
}

/** ConnectionProperties.fromJson. */
function parseConnectionBody(params: Record<string, unknown> | null): ParsedConnection {
  const p = params ?? {};
  const typeRaw = optString(p, 'type', 'Type error in some parameter: ');
  const data = optString(p, 'data', 'Type error in some parameter: ') ?? '';
  const type = enumValue(
    CONNECTION_TYPES,
    typeRaw ?? 'WEBRTC',
    'ConnectionType',
    (raw) => `Parameter 'type' ${raw} is not defined`,
  );
  const out: ParsedConnection = {
    type,
    data,
    record: true,
    role: null,
    kurentoOptions: null,
    customIceServers: [],
    rtspUri: null,
    adaptativeBitrate: null,
    onlyPlayWithSubscribers: null,
    networkCache: null,
  };
  if (type === 'WEBRTC') {
    const roleRaw = optString(p, 'role', "Type error in parameter 'role': ");
    out.role = enumValue(
      ROLES,
      roleRaw ?? 'PUBLISHER',
      'OpenViduRole',
      (raw) => `Parameter role ${raw} is not defined`,
    );
    const ko = p.kurentoOptions;
    if (ko !== undefined && ko !== null) {
      if (!isObject(ko))
        throw new BadRequest("Error in parameter 'kurentoOptions'. It is not a valid JSON object");
      try {
        const kurento: Record<string, unknown> = {};
        for (const field of [
          'videoMaxRecvBandwidth',
          'videoMinRecvBandwidth',
          'videoMaxSendBandwidth',
          'videoMinSendBandwidth',
        ]) {
          if (field in ko) kurento[field] = asInt(ko[field], field);
        }
        if ('allowedFilters' in ko) {
          const filters = ko.allowedFilters;
          if (!Array.isArray(filters)) throw new Error("'allowedFilters' is not a JSON array");
          kurento.allowedFilters = filters.map((f) => {
            if (typeof f === 'string') return f;
            if (typeof f === 'number' || typeof f === 'boolean') return String(f);
            throw new Error("'allowedFilters' must hold strings");
          });
        }
        out.kurentoOptions = kurento;
      } catch (err) {
        throw new BadRequest(
          `Type error in some parameter of 'kurentoOptions': ${(err as Error).message}`,
        );
      }
    }
    const ice = p.customIceServers;
    if (ice !== undefined && ice !== null) {
      if (!Array.isArray(ice)) {
        throw new BadRequest(
          "Error in parameter 'customIceServersJson'. It is not a valid JSON object",
        );
      }
      try {
        out.customIceServers = ice.map(buildIceServer);
      } catch (err) {
        throw new BadRequest(
          `Type error in some parameter of 'customIceServers': ${(err as Error).message}`,
        );
      }
    }
  } else {
    const prefix = 'Type error in some parameter: ';
    const rtspUri = optString(p, 'rtspUri', prefix);
    const adaptativeBitrate = optBoolean(p, 'adaptativeBitrate', prefix);
    const onlyPlayWithSubscribers = optBoolean(p, 'onlyPlayWithSubscribers', prefix);
    const networkCache = p.networkCache;
    if (networkCache !== undefined && networkCache !== null && typeof networkCache !== 'number') {
      throw new BadRequest(`${prefix}${castError('networkCache', networkCache, 'Number')}`);
    }
    if (rtspUri === undefined) throw new BadRequest(`${prefix}RTSP URI is null`);
    let scheme: string;
    try {
      scheme = new URL(rtspUri).protocol.replace(/:$/, '');
    } catch {
      throw new BadRequest(
        `Error in parameter 'rtspUri': Illegal character or malformed URI: ${rtspUri}`,
      );
    }
    if (!RTSP_SCHEMES.includes(scheme)) {
      throw new BadRequest(
        `Error in parameter 'rtspUri': RTSP URI does not contain a valid protocol [${RTSP_SCHEMES.join(', ')}]`,
      );
    }
    out.rtspUri = rtspUri;
    out.adaptativeBitrate = adaptativeBitrate ?? true;
    out.onlyPlayWithSubscribers = onlyPlayWithSubscribers ?? true;
    out.networkCache = typeof networkCache === 'number' ? Math.trunc(networkCache) : 2000;
  }
  const record = optBoolean(p, 'record', "Type error in parameter 'record': ");
  out.record = record ?? true;
  return out;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

/** Spring Boot's default error body (used for 401/404/405/400-unreadable). */
function springError(
  res: ServerResponse,
  status: number,
  error: string,
  path: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { timestamp: new Date().toISOString(), status, error, path }, headers);
}

/** SessionRestController.generateErrorResponse. */
function apiError(res: ServerResponse, status: number, message: string, path: string): void {
  const reasons: Record<number, string> = {
    400: 'Bad Request',
    404: 'Not Found',
    409: 'Conflict',
    500: 'Internal Server Error',
  };
  sendJson(res, status, {
    timestamp: Date.now(),
    status,
    error: reasons[status] ?? 'Error',
    message,
    path: `${OPENVIDU_API_PREFIX}${path}`,
  });
}

function empty(res: ServerResponse, status: number): void {
  sendRaw(res, status, '', undefined);
}

/** Sends one OpenVidu webhook event: JSON `{...fields, timestamp, event}` plus static headers. */
export async function sendOpenViduWebhook(
  url: string,
  event: OpenViduWebhookEventName,
  fields: Record<string, unknown> = {},
  headers: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<Response> {
  const body = JSON.stringify({ ...fields, timestamp: fields.timestamp ?? Date.now(), event });
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal,
  });
}

export async function startOpenViduEmulator(
  options: OpenViduEmulatorOptions,
): Promise<OpenViduEmulator> {
  const { secret } = options;
  const tokenHost = options.tokenHost ?? '127.0.0.1:4443';
  const faults = new FaultController();
  const recorder: CallRecorder = createRecorder();
  const sessions = new Map<string, SessionState>();
  const expectedAuth = Buffer.from(`OPENVIDUAPP:${secret}`, 'utf8');

  const connectionJson = (c: ConnectionState): OpenViduConnectionJson => clone(c.json);

  const sessionJson = (s: SessionState, withPending: boolean): OpenViduSessionJson => {
    const content = [...s.connections.values()]
      .filter((c) => withPending || c.json.status === 'active')
      .map(connectionJson);
    const json: OpenViduSessionJson = {
      id: s.id,
      object: 'session',
      sessionId: s.id,
      createdAt: s.createdAt,
      recording: false,
      broadcasting: false,
      mediaMode: s.mediaMode,
      recordingMode: s.recordingMode,
      defaultRecordingProperties: clone(s.defaultRecordingProperties),
      customSessionId: s.customSessionId,
      forcedVideoCodec: s.forcedVideoCodec,
      allowTranscoding: s.allowTranscoding,
      connections: { numberOfElements: content.length, content },
    };
    if (s.mediaNode !== undefined) json.mediaNode = { id: s.mediaNode };
    return json;
  };

  const authorized = (req: IncomingMessage): boolean => {
    const header = req.headers.authorization ?? '';
    const match = /^basic\s+(.+)$/i.exec(header.trim());
    if (!match) return false;
    const decoded = Buffer.from(match[1], 'base64');
    return decoded.length === expectedAuth.length && timingSafeEqual(decoded, expectedAuth);
  };

  const parseBody = (
    raw: Buffer,
    res: ServerResponse,
    path: string,
  ): Record<string, unknown> | null | undefined => {
    const text = raw.toString('utf8').trim();
    if (text === '' || text === 'null') return null;
    try {
      const value: unknown = JSON.parse(text);
      if (isObject(value)) return value;
    } catch {
      /* fall through */
    }
    springError(res, 400, 'Bad Request', path);
    return undefined;
  };

  const createSession = (res: ServerResponse, raw: Buffer, fullPath: string): void => {
    const params = parseBody(raw, res, fullPath);
    if (params === undefined) return;
    let parsed: ParsedSession;
    try {
      parsed = parseSessionBody(params);
    } catch (err) {
      apiError(res, 400, (err as Error).message, '/sessions');
      return;
    }
    let id = parsed.customSessionId;
    if (id !== '') {
      if (sessions.has(id)) return empty(res, 409);
    } else {
      do id = openViduId('ses_');
      while (sessions.has(id));
    }
    const state: SessionState = {
      id,
      createdAt: Date.now(),
      mediaMode: parsed.mediaMode,
      recordingMode: parsed.recordingMode,
      defaultRecordingProperties: parsed.defaultRecordingProperties,
      customSessionId: parsed.customSessionId,
      forcedVideoCodec: parsed.forcedVideoCodec,
      allowTranscoding: parsed.allowTranscoding,
      connections: new Map(),
    };
    if (parsed.mediaNode !== undefined) state.mediaNode = parsed.mediaNode;
    sessions.set(id, state);
    sendJson(res, 200, sessionJson(state, false));
  };

  const createConnection = (
    res: ServerResponse,
    raw: Buffer,
    sessionId: string,
    fullPath: string,
  ): void => {
    // Spring reads the body before the controller runs: unreadable JSON is a 400 even for an
    // unknown session; then the controller answers 404 before it validates the parameters.
    const params = parseBody(raw, res, fullPath);
    if (params === undefined) return;
    const session = sessions.get(sessionId);
    if (!session) return empty(res, 404);
    let parsed: ParsedConnection;
    try {
      parsed = parseConnectionBody(params);
    } catch (err) {
      apiError(res, 400, (err as Error).message, `/sessions/${sessionId}/connection`);
      return;
    }
    let id: string;
    do id = openViduId('con_');
    while (session.connections.has(id));
    const now = Date.now();
    const ipcam = parsed.type === 'IPCAM';
    const json: OpenViduConnectionJson = {
      id,
      object: 'connection',
      status: ipcam ? 'active' : 'pending',
      connectionId: id,
      sessionId,
      createdAt: now,
      type: parsed.type,
      record: parsed.record,
      role: parsed.role,
      kurentoOptions: parsed.kurentoOptions,
      customIceServers: parsed.customIceServers,
      rtspUri: parsed.rtspUri,
      adaptativeBitrate: parsed.adaptativeBitrate,
      onlyPlayWithSubscribers: parsed.onlyPlayWithSubscribers,
      networkCache: parsed.networkCache,
      serverData: parsed.data,
      token: ipcam
        ? null
        : `wss://${tokenHost}?sessionId=${encodeURIComponent(sessionId)}&token=tok_${randomFrom(ALNUM, 16)}`,
      activeAt: ipcam ? now : null,
      location: null,
      ip: null,
      platform: ipcam ? 'IPCAM' : null,
      clientData: null,
      publishers: ipcam ? [] : null,
      subscribers: ipcam ? [] : null,
    };
    session.connections.set(id, { json });
    sendJson(res, 200, clone(json));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const fullPath = url.pathname;
    const method = req.method ?? 'GET';
    if (!fullPath.startsWith(`${OPENVIDU_API_PREFIX}/`) && fullPath !== OPENVIDU_API_PREFIX) {
      return springError(res, 404, 'Not Found', fullPath);
    }
    if (!authorized(req)) {
      return springError(res, 401, 'Unauthorized', fullPath, {
        'www-authenticate': 'Basic realm="Realm"',
      });
    }
    const segments = fullPath
      .slice(OPENVIDU_API_PREFIX.length)
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
    const pending = (name: string, fallback: boolean): boolean => {
      const value = url.searchParams.get(name);
      return value === null ? fallback : value === 'true';
    };
    const notAllowed = (): void => springError(res, 405, 'Method Not Allowed', fullPath);

    if (segments[0] !== 'sessions' || segments.length > 4)
      return springError(res, 404, 'Not Found', fullPath);

    if (segments.length === 1) {
      if (method === 'POST') return createSession(res, raw, fullPath);
      if (method === 'GET') {
        const content = [...sessions.values()].map((s) =>
          sessionJson(s, pending('pendingConnections', false)),
        );
        return sendJson(res, 200, { numberOfElements: content.length, content });
      }
      return notAllowed();
    }

    const sessionId = segments[1];
    const session = sessions.get(sessionId);
    if (segments.length === 2) {
      if (method === 'GET') {
        if (!session) return empty(res, 404);
        return sendJson(res, 200, sessionJson(session, pending('pendingConnections', false)));
      }
      if (method === 'DELETE') {
        if (!session) return empty(res, 404);
        sessions.delete(sessionId);
        return empty(res, 204);
      }
      return notAllowed();
    }

    if (segments[2] !== 'connection') return springError(res, 404, 'Not Found', fullPath);

    if (segments.length === 3) {
      if (method === 'POST') return createConnection(res, raw, sessionId, fullPath);
      if (method === 'GET') {
        if (!session) return empty(res, 404);
        const withPending = pending('pendingConnections', true);
        const content = [...session.connections.values()]
          .filter((c) => withPending || c.json.status === 'active')
          .map(connectionJson);
        return sendJson(res, 200, { numberOfElements: content.length, content });
      }
      return notAllowed();
    }

    const connectionId = segments[3];
    if (method === 'GET') {
      if (!session) return empty(res, 400);
      const connection = session.connections.get(connectionId);
      if (!connection) return empty(res, 404);
      return sendJson(res, 200, connectionJson(connection));
    }
    if (method === 'DELETE') {
      if (!session) return empty(res, 400);
      if (!session.connections.delete(connectionId)) return empty(res, 404);
      return empty(res, 204);
    }
    if (method === 'PATCH') return springError(res, 404, 'Not Found', fullPath); // PRO only
    return notAllowed();
  };

  const server = await startEmulatorServer({ faults, recorder, handle, port: options.port });

  return {
    url: server.url,
    secret,
    calls: recorder.calls,
    faults,
    sessions: () => [...sessions.values()].map((s) => sessionJson(s, true)),
    session: (sessionId) => {
      const s = sessions.get(sessionId);
      return s ? sessionJson(s, true) : undefined;
    },
    connection: (sessionId, connectionId) => {
      const c = sessions.get(sessionId)?.connections.get(connectionId);
      return c ? connectionJson(c) : undefined;
    },
    connectWithToken: (token, clientData = '') => {
      for (const session of sessions.values()) {
        for (const c of session.connections.values()) {
          if (c.json.token !== token) continue;
          if (c.json.status !== 'pending') {
            throw new OpenViduTokenError(`Token ${token} has already been used`);
          }
          c.json.status = 'active';
          c.json.activeAt = Date.now();
          c.json.ip = '127.0.0.1';
          c.json.platform = 'Roomkey OpenVidu emulator';
          c.json.clientData = clientData;
          c.json.publishers = [];
          c.json.subscribers = [];
          return connectionJson(c);
        }
      }
      throw new OpenViduTokenError(`Token ${token} is not valid`);
    },
    webhook: (url, event, fields = {}) =>
      sendOpenViduWebhook(url, event, fields, options.webhookHeaders ?? {}),
    reset: () => {
      sessions.clear();
      recorder.clear();
      faults.clear();
    },
    close: () => server.close(),
  };
}

/** Starts an emulator for a local demo (env OPENVIDU_SECRET, OPENVIDU_EMULATOR_PORT) and logs its URL. */
export async function main(): Promise<OpenViduEmulator> {
  const emulator = await startOpenViduEmulator({
    secret: process.env.OPENVIDU_SECRET ?? 'MY_SECRET',
    port: Number(process.env.OPENVIDU_EMULATOR_PORT ?? 0),
  });
  console.log(
    `OpenVidu 2 emulator listening on ${emulator.url} (API ${emulator.url}${OPENVIDU_API_PREFIX}/)`,
  );
  return emulator;
}
