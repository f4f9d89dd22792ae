import { isIPv4, isIPv6 } from 'node:net';
import { DomainException } from '../../common/errors';

/**
 * OpenVidu 2's session and connection properties, checked by the rules OpenVidu Server applies
 * (REST API `POST /openvidu/api/sessions` and `POST /openvidu/api/sessions/{id}/connection`;
 * openvidu-java-client `SessionProperties`, `RecordingProperties`, `ConnectionProperties`,
 * `IceServerProperties`), so a request is refused before anything is stored or sent. Pure
 * functions shared by the compatibility route, GraphQL and the adapter: one set of rules and
 * messages. Each returns the options as they are sent to OpenVidu: nulls dropped (the official
 * Node client sends null for what is unset), unknown keys left out, the JSON types checked.
 *
 * Roomkey is stricter than OpenVidu in two places, both documented in the messages: JSON types are
 * not coerced (OpenVidu reads `"1000"` as 1000), and bandwidths and `networkCache` may not be
 * negative. `mediaMode` `RELAYED` is refused: OpenVidu 2 documents it as not available.
 */

const MEDIA_MODES = ['ROUTED'] as const;
const RECORDING_MODES = ['MANUAL', 'ALWAYS'] as const;
const VIDEO_CODECS = ['MEDIA_SERVER_PREFERRED', 'NONE', 'VP8', 'VP9', 'H264'] as const;
const OUTPUT_MODES = ['COMPOSED', 'INDIVIDUAL', 'COMPOSED_QUICK_START'] as const;
const RECORDING_LAYOUTS = [
  'BEST_FIT',
  'CUSTOM',
  'PICTURE_IN_PICTURE',
  'VERTICAL_PRESENTATION',
  'HORIZONTAL_PRESENTATION',
] as const;
export const OPENVIDU_CONNECTION_TYPES = ['WEBRTC', 'IPCAM'] as const;
/** OpenVidu also reads `file:` URIs, which would let a caller make the media server read its own files: refused. */
const RTSP_SCHEMES = ['rtsp', 'rtsps', 'http', 'https'];
const TURN_SCHEMES = ['turn', 'turns'];
const STUN_SCHEMES = ['stun', 'stuns'];
const KURENTO_BANDWIDTHS = [
  'videoMaxRecvBandwidth',
  'videoMinRecvBandwidth',
  'videoMaxSendBandwidth',
  'videoMinSendBandwidth',
] as const;
const JAVA_INT_MAX = 2_147_483_647;
const MIN_SHM_SIZE = 134_217_728;
const HOSTNAME =
  /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;

export type OpenViduConnectionType = (typeof OPENVIDU_CONNECTION_TYPES)[number];

export interface OpenViduMediaNode {
  id: string;
}

/** `defaultRecordingProperties` (the subset of RecordingProperties a session default carries). */
export interface OpenViduRecordingProperties {
  name?: string;
  hasAudio?: boolean;
  hasVideo?: boolean;
  outputMode?: (typeof OUTPUT_MODES)[number];
  recordingLayout?: (typeof RECORDING_LAYOUTS)[number];
  customLayout?: string;
  resolution?: string;
  frameRate?: number;
  shmSize?: number;
  ignoreFailedStreams?: boolean;
  mediaNode?: OpenViduMediaNode;
}

export interface OpenViduSessionOptions {
  mediaMode?: (typeof MEDIA_MODES)[number];
  recordingMode?: (typeof RECORDING_MODES)[number];
  forcedVideoCodec?: (typeof VIDEO_CODECS)[number];
  allowTranscoding?: boolean;
  defaultRecordingProperties?: OpenViduRecordingProperties;
  mediaNode?: OpenViduMediaNode;
}

export interface OpenViduKurentoOptions {
  videoMaxRecvBandwidth?: number;
  videoMinRecvBandwidth?: number;
  videoMaxSendBandwidth?: number;
  videoMinSendBandwidth?: number;
  allowedFilters?: string[];
}

export interface OpenViduIceServer {
  url: string;
  username?: string;
  credential?: string;
  /** TURN REST secret: OpenVidu derives a 24 h username and credential from it. Never logged. */
  staticAuthSecret?: string;
}

/**
 * A connection's properties other than `role` and `data` (which every vendor has). The options of
 * the other type are not read, as OpenVidu does not read them: `rtspUri` on a WEBRTC connection,
 * `kurentoOptions` on an IPCAM one.
 */
export interface OpenViduConnectionOptions {
  type: OpenViduConnectionType;
  record?: boolean;
  kurentoOptions?: OpenViduKurentoOptions;
  customIceServers?: OpenViduIceServer[];
  rtspUri?: string;
  adaptativeBitrate?: boolean;
  onlyPlayWithSubscribers?: boolean;
  networkCache?: number;
}

type Obj = Record<string, unknown>;

const bad = (field: string, message: string): DomainException =>
  DomainException.badInput(field, message);

const given = (v: unknown): boolean => v !== undefined && v !== null;

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Reads the fields of one JSON object; `at` is its path, so errors name `a.b.c`. */
class Reader {
  constructor(
    private readonly o: Obj,
    private readonly at = '',
  ) {}

  path(key: string): string {
    return `${this.at}${key}`;
  }

  string(key: string): string | undefined {
    const v = this.o[key];
    if (!given(v)) return undefined;
    if (typeof v !== 'string') throw bad(this.path(key), `${this.path(key)} must be a string`);
    return v;
  }

  boolean(key: string): boolean | undefined {
    const v = this.o[key];
    if (!given(v)) return undefined;
    if (typeof v !== 'boolean') throw bad(this.path(key), `${this.path(key)} must be a boolean`);
    return v;
  }

  oneOf<T extends string>(key: string, values: readonly T[]): T | undefined {
    const v = this.string(key);
    if (v !== undefined && !(values as readonly string[]).includes(v)) {
      throw bad(this.path(key), `${this.path(key)} must be one of ${values.join(', ')}`);
    }
    return v as T | undefined;
  }

  /** A whole JSON number in [min, max]; `what` completes the message. */
  integer(key: string, min: number, max: number, what: string): number | undefined {
    const v = this.o[key];
    if (!given(v)) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw bad(this.path(key), `${this.path(key)} must be ${what}`);
    }
    return v;
  }

  object(key: string): Reader | undefined {
    const v = this.o[key];
    if (!given(v)) return undefined;
    if (!isObject(v)) throw bad(this.path(key), `${this.path(key)} must be a JSON object`);
    return new Reader(v, `${this.path(key)}.`);
  }

  array(key: string): unknown[] | undefined {
    const v = this.o[key];
    if (!given(v)) return undefined;
    if (!Array.isArray(v)) throw bad(this.path(key), `${this.path(key)} must be an array`);
    return v as unknown[];
  }
}

/** Copies the defined values only: what OpenVidu receives and what Roomkey stores. */
function defined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function reader(raw: unknown, name: string): Reader {
  if (!given(raw)) return new Reader({});
  if (!isObject(raw)) throw bad(name, `${name} must be a JSON object`);
  return new Reader(raw);
}

/** `{id}` of a PRO Media Node. */
function mediaNode(r: Reader, key: string): OpenViduMediaNode | undefined {
  const node = r.object(key);
  if (!node) return undefined;
  const id = node.string('id');
  if (!id) throw bad(node.path('id'), `${node.path('id')} is required (a Media Node id)`);
  return { id };
}

function recordingProperties(r: Reader): OpenViduRecordingProperties | undefined {
  const p = r.object('defaultRecordingProperties');
  if (!p) return undefined;
  const out = defined<OpenViduRecordingProperties>({
    name: p.string('name'),
    hasAudio: p.boolean('hasAudio'),
    hasVideo: p.boolean('hasVideo'),
    outputMode: p.oneOf('outputMode', OUTPUT_MODES),
    recordingLayout: p.oneOf('recordingLayout', RECORDING_LAYOUTS),
    customLayout: p.string('customLayout'),
    resolution: p.string('resolution'),
    frameRate: p.integer('frameRate', 1, 120, 'a whole number of frames per second from 1 to 120'),
    shmSize: p.integer(
      'shmSize',
      MIN_SHM_SIZE,
      Number.MAX_SAFE_INTEGER,
      `a whole number of bytes, at least ${MIN_SHM_SIZE} (128 MB)`,
    ),
    ignoreFailedStreams: p.boolean('ignoreFailedStreams'),
    mediaNode: mediaNode(p, 'mediaNode'),
  });
  if (out.resolution !== undefined) {
    const m = /^(\d{3,4})x(\d{3,4})$/.exec(out.resolution);
    if (!m || [m[1], m[2]].some((n) => Number(n) < 100 || Number(n) > 1999)) {
      throw bad(
        p.path('resolution'),
        `${p.path('resolution')} must be WIDTHxHEIGHT, each from 100 to 1999 (e.g. 1280x720)`,
      );
    }
  }
  if (out.hasAudio === false && out.hasVideo === false) {
    throw bad(
      p.path('hasVideo'),
      `${p.path('hasAudio')} and ${p.path('hasVideo')} cannot both be false`,
    );
  }
  return out;
}

/**
 * The session properties of `POST /openvidu/api/sessions` (customSessionId aside: it is the
 * session's key, checked by the caller). Throws BAD_USER_INPUT naming the field.
 */
export function openViduSessionOptions(raw: unknown): OpenViduSessionOptions {
  const r = reader(raw, 'openvidu');
  return defined<OpenViduSessionOptions>({
    mediaMode: mediaModeOf(r),
    recordingMode: r.oneOf('recordingMode', RECORDING_MODES),
    forcedVideoCodec: r.oneOf('forcedVideoCodec', VIDEO_CODECS),
    allowTranscoding: r.boolean('allowTranscoding'),
    defaultRecordingProperties: recordingProperties(r),
    mediaNode: mediaNode(r, 'mediaNode'),
  });
}

function mediaModeOf(r: Reader): OpenViduSessionOptions['mediaMode'] {
  if (r.string('mediaMode') === 'RELAYED') {
    throw bad('mediaMode', 'mediaMode must be ROUTED: OpenVidu 2 has no RELAYED mode');
  }
  return r.oneOf('mediaMode', MEDIA_MODES);
}

function kurentoOptions(r: Reader): OpenViduKurentoOptions | undefined {
  const k = r.object('kurentoOptions');
  if (!k) return undefined;
  const out: OpenViduKurentoOptions = {};
  for (const key of KURENTO_BANDWIDTHS) {
    const v = k.integer(
      key,
      0,
      JAVA_INT_MAX,
      `a whole number of Kbps from 0 to ${JAVA_INT_MAX} (0 = unconstrained)`,
    );
    if (v !== undefined) out[key] = v;
  }
  const filters = k.array('allowedFilters');
  if (filters) {
    if (filters.some((f) => typeof f !== 'string' || f.length === 0)) {
      throw bad(
        k.path('allowedFilters'),
        `${k.path('allowedFilters')} must be an array of filter names (non-empty strings)`,
      );
    }
    out.allowedFilters = filters as string[];
  }
  return out;
}

function iceServers(r: Reader): OpenViduIceServer[] | undefined {
  const list = r.array('customIceServers');
  if (!list) return undefined;
  return list.map((entry, i) => iceServer(entry, i));
}

/** One STUN/TURN server, by IceServerProperties.Builder.build() (RFC 7064 / 7065 URIs). */
function iceServer(entry: unknown, index: number): OpenViduIceServer {
  const field = (key: string): string => `customIceServers.${key}`;
  const where = `customIceServers[${index}]`;
  if (!isObject(entry)) throw bad('customIceServers', `${where} must be a JSON object`);
  const s = new Reader(entry, 'customIceServers.');
  const url = s.string('url');
  if (url === undefined) throw bad(field('url'), `${where}.url is required`);
  const problem = stunTurnProblem(url);
  if (problem) throw bad(field('url'), `${where}.url is not a valid STUN/TURN URI: ${problem}`);
  const out = defined<OpenViduIceServer>({
    url,
    username: s.string('username'),
    credential: s.string('credential'),
    staticAuthSecret: s.string('staticAuthSecret'),
  });
  const withCredentials = out.username !== undefined || out.credential !== undefined;
  if (url.startsWith('turn')) {
    if (out.staticAuthSecret !== undefined && withCredentials) {
      throw bad(
        field('staticAuthSecret'),
        `${where}: give staticAuthSecret or username and credential, not both`,
      );
    }
    if (
      out.staticAuthSecret === undefined &&
      (out.username === undefined || out.credential === undefined)
    ) {
      throw bad(
        field(out.username === undefined ? 'username' : 'credential'),
        `${where}: a TURN server needs username and credential (or staticAuthSecret)`,
      );
    }
  } else if (withCredentials) {
    throw bad(
      field(out.username !== undefined ? 'username' : 'credential'),
      `${where}: a STUN server takes no username or credential`,
    );
  }
  return out;
}

/** Why `uri` is not `stun[s]:host[:port]` or `turn[s]:host[:port][?transport=udp|tcp]`; null if it is. */
export function stunTurnProblem(uri: string): string | null {
  const colon = uri.indexOf(':');
  if (colon === -1) return 'no scheme';
  const scheme = uri.slice(0, colon);
  const turn = TURN_SCHEMES.includes(scheme);
  if (!turn && !STUN_SCHEMES.includes(scheme)) {
    return `the scheme must be one of ${[...TURN_SCHEMES, ...STUN_SCHEMES].join(', ')}`;
  }
  let hostPort = uri.slice(colon + 1);
  const q = uri.indexOf('?');
  if (q !== -1) {
    if (!turn) return 'a STUN URI takes no query';
    const query = uri.slice(q);
    if (query !== '?transport=tcp' && query !== '?transport=udp') {
      return 'the only query allowed is ?transport=udp or ?transport=tcp';
    }
    hostPort = uri.slice(colon + 1, q);
  }
  let host = hostPort;
  let port: string | null = null;
  if (hostPort.startsWith('[')) {
    const end = hostPort.indexOf(']');
    if (end === -1) return 'an unclosed [ in the host';
    host = hostPort.slice(1, end);
    const rest = hostPort.slice(end + 1);
    if (!isIPv6(host)) return 'the bracketed host is not an IPv6 address';
    if (rest !== '') {
      if (!rest.startsWith(':')) return 'unexpected characters after the IPv6 address';
      port = rest.slice(1);
    }
  } else {
    if (/[[\]]/.test(hostPort)) return 'an unmatched ] in the host';
    const parts = hostPort.split(':');
    if (parts.length > 2) return 'the host and port are not host:port';
    [host] = parts;
    if (parts.length === 2) port = parts[1];
    if (host === '') return 'the host is empty';
    if (!isIPv4(host) && !HOSTNAME.test(host)) return 'the host is not a domain name or IP address';
  }
  if (port !== null && !(/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535)) {
    return 'the port must be a number from 1 to 65535';
  }
  return null;
}

/** An IP camera URI, by ConnectionProperties.checkRtspUri: a URI with an allowed scheme. */
function rtspUri(r: Reader): string {
  const uri = r.string('rtspUri');
  const message = `rtspUri must be a URI with scheme ${RTSP_SCHEMES.join(', ')} (e.g. rtsp://camera.example:554/stream)`;
  if (uri === undefined) throw bad('rtspUri', `rtspUri is required for an IPCAM connection`);
  const scheme = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(uri)?.[1];
  // The scheme is compared as written, like java.net.URI#getScheme against OpenVidu's list.
  if (!scheme || !RTSP_SCHEMES.includes(scheme) || /\s/u.test(uri)) throw bad('rtspUri', message);
  try {
    new URL(uri);
  } catch {
    throw bad('rtspUri', message);
  }
  return uri;
}

/**
 * The connection properties of `POST /openvidu/api/sessions/{id}/connection` but `role` and
 * `data`: `type` (default WEBRTC), `record`, and the options of that type. Throws BAD_USER_INPUT
 * naming the field.
 */
export function openViduConnectionOptions(raw: unknown): OpenViduConnectionOptions {
  const r = reader(raw, 'openvidu');
  const type = r.oneOf('type', OPENVIDU_CONNECTION_TYPES) ?? 'WEBRTC';
  if (type === 'WEBRTC') {
    return defined<OpenViduConnectionOptions>({
      type,
      record: r.boolean('record'),
      kurentoOptions: kurentoOptions(r),
      customIceServers: iceServers(r),
    });
  }
  return defined<OpenViduConnectionOptions>({
    type,
    record: r.boolean('record'),
    rtspUri: rtspUri(r),
    adaptativeBitrate: r.boolean('adaptativeBitrate'),
    onlyPlayWithSubscribers: r.boolean('onlyPlayWithSubscribers'),
    networkCache: r.integer(
      'networkCache',
      0,
      JAVA_INT_MAX,
      `a whole number of milliseconds from 0 to ${JAVA_INT_MAX}`,
    ),
  });
}

/**
 * The connection properties of a join with this `role`: an IP camera publishes (OpenVidu has no
 * role for it), so any other role given with `type: IPCAM` is refused, naming `role`.
 */
export function openViduJoinOptions(raw: unknown, role?: string | null): OpenViduConnectionOptions {
  const options = openViduConnectionOptions(raw);
  if (options.type === 'IPCAM' && role != null && role !== 'PUBLISHER') {
    throw bad('role', 'An IPCAM connection publishes: leave role out or set PUBLISHER');
  }
  return options;
}
