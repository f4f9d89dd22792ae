/**
 * Pexip VPaaS emulator for tests and the local demo: a real node:http server on 127.0.0.1 that
 * speaks the wire contract in docs/vendors.md#pexip-vpaas and checks it the way Pexip does.
 *
 *  - `POST /oauth/token` — OAuth 2.0 client-credentials grant with a private-key JWT client
 *    assertion (RFC 7523), form-encoded. The signature is verified with `jose` (`compactVerify`,
 *    RS384 only) against the registered client's RSA public key; the claims are checked
 *    explicitly: `iss = sub = clientId`, `aud = "{url}/oauth/token"` exactly, `exp` present, not
 *    expired and at most 60 s (+ skew) after `iat`/now, `jti` present and never reused, `scope`
 *    made of VPaaS scopes.
 *    → 200 `{token_type: "Bearer", access_token, expires_in}` (with `Cache-Control: no-store`).
 *  - `POST /v1/meetings/` (and `/v1/meetings`) → 200 `{id, status, created_at, updated_at}`.
 *  - `POST /v1/meetings/{meetingId}/participants` → 200
 *    `{meeting_id, id, participant_secret, status, created_at, updated_at}`.
 *  - Every response carries `X-Request-ID` (the Pexip samples log it from error responses).
 *
 * Sources: pexip/pexip-tutorial-web-vpaas `server/src/index.ts` (jsonwebtoken RS384, `expiresIn:
 * '60s'`, `jwtid`, iss/sub/aud/scope) and the tutorial text (response JSON, 4096-bit key, meetings
 * are ephemeral); pexip/vpaas-hackathon-samples `basic-js-with-server/helpers.py` (form fields,
 * `nbf = now - 30`, `iat`, `X-Request-ID`, `Authorization: "{token_type} {access_token}"`,
 * `{CRUD_ADDRESS}/v1/meetings/` with a trailing slash, a scope set without `participant:write`).
 *
 * NOT confirmed by Pexip's public material, chosen by this emulator (keep tests from leaning on
 * the exact strings): the error status/body of the token endpoint (RFC 6749 §5.2 shape
 * `{error, error_description}`: 401 `invalid_client` for an unknown client, a disallowed `alg` or a
 * bad signature; 400 `invalid_grant` for wrong `aud`, expiry, lifetime, `nbf`, missing/replayed
 * `jti`; 400 `invalid_request`/`unsupported_grant_type`/`invalid_scope`), the API's error bodies,
 * 401 for a bad/expired access token, 403 `insufficient_scope` when the token lacks the scope an
 * operation needs, the opaque access-token format and the two DELETE routes (marked below).
 */
import { randomBytes, randomUUID, createPublicKey, type KeyObject } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type JWTPayload, compactVerify, decodeJwt, decodeProtectedHeader } from 'jose';
import {
  type CallRecorder,
  type RecordedCall,
  FaultController,
  createRecorder,
  sendJson,
  sendRaw,
  startEmulatorServer,
} from './faults';

/** The scopes a VPaaS client assertion may request (pexip-tutorial-web-vpaas). */
export const PEXIP_SCOPES = [
  'meeting:create',
  'meeting:read',
  'meeting:write',
  'participant:create',
  'participant:read',
  'participant:write',
] as const;

export const JWT_BEARER_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Longest assertion lifetime Pexip's samples use (`expiresIn: '60s'`, `exp = now + 60`). */
export const PEXIP_MAX_ASSERTION_LIFETIME_SEC = 60;

/** Clock skew tolerated on `exp`, `nbf`, `iat` and the lifetime rule. */
export const PEXIP_CLOCK_SKEW_SEC = 5;

export interface PexipEmulatorOptions {
  /** The `clientId` Pexip assigned when the public key was registered. */
  clientId: string;
  /** The registered RSA public key (SPKI `BEGIN PUBLIC KEY` or PKCS#1 `BEGIN RSA PUBLIC KEY`). */
  publicKeyPem: string;
  /** `expires_in` of issued access tokens, in seconds (default 3600). */
  expiresIn?: number;
  /**
   * Smallest RSA modulus accepted at registration, in bits (default 2048, what `jose` requires for
   * RS384). Pexip's onboarding asks for 4096-bit keys; pass 4096 to enforce that.
   */
  minModulusLength?: number;
  /**
   * Name of the participant id field in the participant JSON (default `id`, as in the tutorial
   * response; some SDK docs say `participant_id`, which Roomkey must accept too).
   */
  participantIdField?: 'id' | 'participant_id';
}

export interface PexipMeeting {
  id: string;
  status: string;
  created_at: string;
  updated_at: string;
  /** The client (application) that created it; other clients get 404 for it. */
  clientId: string;
  participants: PexipParticipant[];
}

export interface PexipParticipant {
  meeting_id: string;
  id: string;
  participant_secret: string;
  status: string;
  created_at: string;
  updated_at: string;
}

export interface PexipEmulator {
  /** The apiAddress, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  /** Every request received, faulted ones included, oldest first. */
  readonly calls: RecordedCall[];
  readonly faults: FaultController;
  /** Access tokens issued so far (successful `POST /oauth/token` exchanges). */
  exchanges(): number;
  /** Snapshot of the live meetings (with their participants). */
  meetings(): PexipMeeting[];
  /** One participant, or undefined when it does not exist (or was deleted). */
  participant(meetingId: string, id: string): PexipParticipant | undefined;
  /** Registers another application (a second tenant's credentials on the same emulator). */
  registerClient(clientId: string, publicKeyPem: string): void;
  /** Makes every access token issued so far expired (the next API call answers 401). */
  expireAccessTokens(): void;
  /** Ends a meeting as Pexip does when its last participant leaves (it then answers 404). */
  endMeeting(meetingId: string): boolean;
  close(): Promise<void>;
}

interface AccessToken {
  clientId: string;
  scopes: Set<string>;
  expiresAt: number;
}

class OAuthError extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly code: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export async function startPexipEmulator(options: PexipEmulatorOptions): Promise<PexipEmulator> {
  const expiresIn = options.expiresIn ?? 3600;
  const minModulusLength = options.minModulusLength ?? 2048;
  const participantIdField = options.participantIdField ?? 'id';
  const clients = new Map<string, KeyObject>();
  const accessTokens = new Map<string, AccessToken>();
  /** `clientId:jti` → time (ms) after which the assertion would be expired anyway. */
  const usedJtis = new Map<string, number>();
  const meetings = new Map<string, PexipMeeting>();
  let exchangeCount = 0;

  const registerClient = (clientId: string, publicKeyPem: string): void => {
    const key = createPublicKey(publicKeyPem);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < minModulusLength) {
      throw new Error(
        `Pexip emulator: client ${clientId} needs an RSA key of ≥ ${minModulusLength} bits`,
      );
    }
    clients.set(clientId, key);
  };
  registerClient(options.clientId, options.publicKeyPem);

  const faults = new FaultController();
  const recorder: CallRecorder = createRecorder();
  // The URL is only known once listening; the handler reads it lazily.
  let baseUrl = '';

  const handle = async (req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> => {
    const requestId = randomUUID();
    const method = req.method ?? 'GET';
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;

    if (path === '/oauth/token') {
      if (method !== 'POST') return methodNotAllowed(res, requestId, 'POST');
      try {
        const body = await exchange(req, raw);
        exchangeCount += 1;
        return sendJson(res, 200, body, {
          'x-request-id': requestId,
          'cache-control': 'no-store',
          pragma: 'no-cache',
        });
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        const headers: Record<string, string> = { 'x-request-id': requestId };
        if (err.status === 401) headers['www-authenticate'] = 'Bearer error="invalid_client"';
        return sendJson(
          res,
          err.status,
          { error: err.code, error_description: err.description },
          headers,
        );
      }
    }

    const meetingsRoot = /^\/v1\/meetings\/?$/.exec(path);
    const participantsRoot = /^\/v1\/meetings\/([^/]+)\/participants\/?$/.exec(path);
    const oneMeeting = /^\/v1\/meetings\/([^/]+)\/?$/.exec(path);
    const oneParticipant = /^\/v1\/meetings\/([^/]+)\/participants\/([^/]+)\/?$/.exec(path);
    if (!meetingsRoot && !participantsRoot && !oneMeeting && !oneParticipant) {
      return sendJson(
        res,
        404,
        { error: 'not_found', error_description: `No route ${path}` },
        {
          'x-request-id': requestId,
        },
      );
    }

    const token = authenticate(req);
    if (!token) {
      return sendJson(
        res,
        401,
        { error: 'invalid_token', error_description: 'Missing, unknown or expired access token' },
        { 'x-request-id': requestId, 'www-authenticate': 'Bearer error="invalid_token"' },
      );
    }
    const requireScope = (scope: string): boolean => {
      if (token.scopes.has(scope)) return true;
      sendJson(
        res,
        403,
        { error: 'insufficient_scope', error_description: `The access token lacks ${scope}` },
        { 'x-request-id': requestId },
      );
      return false;
    };
    const findMeeting = (id: string): PexipMeeting | undefined => {
      const meeting = meetings.get(decodeURIComponent(id));
      if (meeting && meeting.clientId === token.clientId) return meeting;
      sendJson(
        res,
        404,
        { error: 'not_found', error_description: `Meeting ${id} does not exist` },
        { 'x-request-id': requestId },
      );
      return undefined;
    };

    if (meetingsRoot) {
      if (method !== 'POST') return methodNotAllowed(res, requestId, 'POST');
      if (!acceptsJsonBody(req, raw)) return badBody(res, requestId);
      if (!requireScope('meeting:create')) return;
      const now = pexipTimestamp();
      const meeting: PexipMeeting = {
        id: pexipId(),
        status: 'ready',
        created_at: now,
        updated_at: now,
        clientId: token.clientId,
        participants: [],
      };
      meetings.set(meeting.id, meeting);
      return sendJson(res, 200, meetingJson(meeting), { 'x-request-id': requestId });
    }

    if (participantsRoot) {
      if (method !== 'POST') return methodNotAllowed(res, requestId, 'POST');
      if (!acceptsJsonBody(req, raw)) return badBody(res, requestId);
      if (!requireScope('participant:create')) return;
      const meeting = findMeeting(participantsRoot[1]);
      if (!meeting) return;
      const now = pexipTimestamp();
      const participant: PexipParticipant = {
        meeting_id: meeting.id,
        id: pexipId(),
        participant_secret: randomBytes(32).toString('base64url'),
        status: 'ready',
        created_at: now,
        updated_at: now,
      };
      meeting.participants.push(participant);
      meeting.updated_at = now;
      return sendJson(res, 200, participantJson(participant, participantIdField), {
        'x-request-id': requestId,
      });
    }

    // EMULATOR CONVENIENCE, not confirmed in Pexip's public docs: the npm README mentions
    // `api.terminate({meetingId})` but no REST path. Ends a meeting → 204, unknown → 404.
    if (oneMeeting) {
      if (method !== 'DELETE') return methodNotAllowed(res, requestId, 'DELETE');
      if (!requireScope('meeting:write')) return;
      const meeting = findMeeting(oneMeeting[1]);
      if (!meeting) return;
      meetings.delete(meeting.id);
      return sendRaw(res, 204, '', undefined, { 'x-request-id': requestId });
    }

    // EMULATOR CONVENIENCE, not confirmed in Pexip's public docs: revokes one participant
    // credential → 204, unknown meeting or participant → 404.
    if (oneParticipant) {
      if (method !== 'DELETE') return methodNotAllowed(res, requestId, 'DELETE');
      if (!requireScope('participant:write')) return;
      const meeting = findMeeting(oneParticipant[1]);
      if (!meeting) return;
      const pid = decodeURIComponent(oneParticipant[2]);
      const index = meeting.participants.findIndex((p) => p.id === pid);
      if (index < 0) {
        return sendJson(
          res,
          404,
          { error: 'not_found', error_description: `Participant ${pid} does not exist` },
          { 'x-request-id': requestId },
        );
      }
      meeting.participants.splice(index, 1);
      return sendRaw(res, 204, '', undefined, { 'x-request-id': requestId });
    }
  };

  /** Verifies the token request and issues an access token (throws OAuthError on refusal). */
  const exchange = async (
    req: IncomingMessage,
    raw: Buffer,
  ): Promise<{ token_type: string; access_token: string; expires_in: number }> => {
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (contentType !== 'application/x-www-form-urlencoded') {
      throw new OAuthError(
        400,
        'invalid_request',
        'Body must be application/x-www-form-urlencoded',
      );
    }
    const form = new URLSearchParams(raw.toString('utf8'));
    for (const name of ['grant_type', 'client_assertion', 'client_assertion_type']) {
      if (form.getAll(name).length > 1) {
        throw new OAuthError(400, 'invalid_request', `Parameter ${name} repeated`);
      }
    }
    const grantType = form.get('grant_type');
    if (!grantType) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
    if (grantType !== 'client_credentials') {
      throw new OAuthError(
        400,
        'unsupported_grant_type',
        `grant_type ${grantType} is not supported`,
      );
    }
    if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION_TYPE) {
      throw new OAuthError(
        400,
        'invalid_request',
        `client_assertion_type must be ${JWT_BEARER_ASSERTION_TYPE}`,
      );
    }
    const assertion = form.get('client_assertion');
    if (!assertion) throw new OAuthError(400, 'invalid_request', 'client_assertion is required');

    let alg: string | undefined;
    let unverified: JWTPayload;
    try {
      alg = decodeProtectedHeader(assertion).alg;
      unverified = decodeJwt(assertion);
    } catch {
      throw new OAuthError(401, 'invalid_client', 'client_assertion is not a well-formed JWT');
    }
    if (alg !== 'RS384') {
      throw new OAuthError(401, 'invalid_client', `alg ${String(alg)} is not allowed; use RS384`);
    }
    // The client is looked up by iss; sub must name the same client (RFC 7523 §3).
    const clientId = unverified.iss;
    const key = typeof clientId === 'string' ? clients.get(clientId) : undefined;
    if (!clientId || !key) throw new OAuthError(401, 'invalid_client', 'Unknown client (iss)');
    if (unverified.sub !== clientId) {
      throw new OAuthError(401, 'invalid_client', 'sub must equal iss (the client id)');
    }

    // Signature only: jose's claim errors cannot be constructed under this project's Jest
    // transpilation of node_modules (class fields before super()), so the claims are checked
    // below by hand, which also keeps every refusal explicit.
    let claims: JWTPayload;
    try {
      const { payload } = await compactVerify(assertion, key, { algorithms: ['RS384'] });
      claims = JSON.parse(new TextDecoder().decode(payload)) as JWTPayload;
    } catch {
      throw new OAuthError(
        401,
        'invalid_client',
        'Assertion signature does not match the registered key',
      );
    }

    const tokenEndpoint = `${baseUrl}/oauth/token`;
    const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!audiences.includes(tokenEndpoint)) {
      throw new OAuthError(400, 'invalid_grant', `aud must be ${tokenEndpoint}`);
    }
    const now = Date.now() / 1000;
    const skew = PEXIP_CLOCK_SKEW_SEC;
    const exp = claims.exp;
    if (typeof exp !== 'number' || !Number.isFinite(exp)) {
      throw new OAuthError(400, 'invalid_grant', 'Assertion exp is required');
    }
    if (exp <= now - skew) throw new OAuthError(400, 'invalid_grant', 'Assertion has expired');
    if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf > now + skew)) {
      throw new OAuthError(400, 'invalid_grant', 'Assertion is not yet valid (nbf)');
    }
    if (claims.iat !== undefined && (typeof claims.iat !== 'number' || claims.iat > now + skew)) {
      throw new OAuthError(400, 'invalid_grant', 'Assertion iat is invalid or in the future');
    }
    const start = typeof claims.iat === 'number' ? claims.iat : now;
    const maxLifetime = PEXIP_MAX_ASSERTION_LIFETIME_SEC + skew;
    if (exp - start > maxLifetime || exp - now > maxLifetime) {
      throw new OAuthError(
        400,
        'invalid_grant',
        `Assertion lifetime exceeds ${PEXIP_MAX_ASSERTION_LIFETIME_SEC} s`,
      );
    }
    if (typeof claims.jti !== 'string' || claims.jti.length === 0) {
      throw new OAuthError(400, 'invalid_grant', 'Assertion jti is required');
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
    if (scopes.length === 0)
      throw new OAuthError(400, 'invalid_scope', 'Assertion scope is required');
    const unknown = scopes.filter((s) => !(PEXIP_SCOPES as readonly string[]).includes(s));
    if (unknown.length > 0)
      throw new OAuthError(400, 'invalid_scope', `Unknown scope ${unknown.join(' ')}`);

    const jtiKey = `${clientId}:${claims.jti}`;
    const nowMs = Date.now();
    for (const [k, until] of usedJtis) if (until < nowMs) usedJtis.delete(k);
    if (usedJtis.has(jtiKey))
      throw new OAuthError(400, 'invalid_grant', 'Assertion jti was already used');
    // Remember it at least as long as the assertion could still pass the expiry check.
    usedJtis.set(jtiKey, (exp + skew) * 1000 + 1000);

    const accessToken = randomBytes(32).toString('base64url');
    accessTokens.set(accessToken, {
      clientId,
      scopes: new Set(scopes),
      expiresAt: nowMs + expiresIn * 1000,
    });
    return { token_type: 'Bearer', access_token: accessToken, expires_in: expiresIn };
  };

  const authenticate = (req: IncomingMessage): AccessToken | undefined => {
    const match = /^(\S+) +(\S+)$/.exec(req.headers.authorization ?? '');
    if (!match || match[1].toLowerCase() !== 'bearer') return undefined;
    const token = accessTokens.get(match[2]);
    if (!token || token.expiresAt <= Date.now()) return undefined;
    return token;
  };

  const server = await startEmulatorServer({ faults, recorder, handle });
  baseUrl = server.url;

  return {
    url: server.url,
    calls: recorder.calls,
    faults,
    exchanges: () => exchangeCount,
    meetings: () =>
      [...meetings.values()].map((m) => ({
        ...m,
        participants: m.participants.map((p) => ({ ...p })),
      })),
    participant: (meetingId, id) => {
      const found = meetings.get(meetingId)?.participants.find((p) => p.id === id);
      return found ? { ...found } : undefined;
    },
    registerClient,
    expireAccessTokens: () => {
      for (const token of accessTokens.values()) token.expiresAt = 0;
    },
    endMeeting: (meetingId) => meetings.delete(meetingId),
    close: () => server.close(),
  };
}

function methodNotAllowed(res: ServerResponse, requestId: string, allow: string): void {
  sendJson(
    res,
    405,
    { error: 'method_not_allowed', error_description: `Use ${allow}` },
    {
      'x-request-id': requestId,
      allow,
    },
  );
}

function badBody(res: ServerResponse, requestId: string): void {
  sendJson(
    res,
    400,
    { error: 'invalid_request', error_description: 'Body must be a JSON object' },
    {
      'x-request-id': requestId,
    },
  );
}

/** The samples send no body or `{}`; anything else present must be a JSON object. */
function acceptsJsonBody(req: IncomingMessage, raw: Buffer): boolean {
  const text = raw.toString('utf8').trim();
  if (text.length === 0) return true;
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  if (!contentType.startsWith('application/json')) return false;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function meetingJson(m: PexipMeeting): Record<string, string> {
  return { id: m.id, status: m.status, created_at: m.created_at, updated_at: m.updated_at };
}

function participantJson(
  p: PexipParticipant,
  idField: 'id' | 'participant_id',
): Record<string, string> {
  return {
    meeting_id: p.meeting_id,
    [idField]: p.id,
    participant_secret: p.participant_secret,
    status: p.status,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

/** 26 lowercase base32 characters (128 random bits), like `mzcmlqfurei65dh2cimd3aag5q`. */
function pexipId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  const bytes = randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = ((value << 8) | byte) & 0xfff; // at most 4 + 8 pending bits matter
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

/** Naive UTC timestamp with microseconds, like `2024-01-16T16:07:51.436736`. */
function pexipTimestamp(): string {
  const iso = new Date().toISOString(); // 2024-01-16T16:07:51.436Z
  return `${iso.slice(0, 23)}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`;
}
