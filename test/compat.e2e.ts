/**
 * Vendor-compatible REST routes under /t/:tenantSlug/ (README "Vendor-compatible routes",
 * docs/vendors.md, docs/security.md S6 and S11): each vendor sample's request and response shapes,
 * status codes and error bodies, for Basic API key and Bearer callers, over real HTTP to the
 * vendor emulators; another tenant's slug is 403 with nothing recorded; every call is audited by
 * what it did (one event per issued credential, carrying via and route, plus session.created when
 * a room was made; a failure or refusal is one `compat.called`); per-tenant CORS is off until an
 * admin sets it.
 */
import { type Response } from 'supertest';
import { uniq } from './helpers/assertions';
import { type AuditRow, auditHighWater, auditSince } from './helpers/audit';
import {
  CREATE_SESSION,
  type HttpKind,
  type Kind,
  type SessionJson,
  type VendorWorld,
  type WorldTenant,
  credentialInputs,
  ok,
  startVendorWorld,
  AGORA_NO_CACHE,
} from './helpers/vendors';
import {
  AGORA_RTC_PRIVILEGE,
  AGORA_SERVICE_RTC,
  AGORA_SERVICE_RTM,
  type DecodedAgoraToken,
  decodeAgoraToken,
  onlyService,
  verifyAgoraSignature,
} from './support/agora-token-decoder';

const NO_CACHE = AGORA_NO_CACHE;
const LIVEKIT_400 = '{"errorMessage":"roomName and participantName are required"}';
const AGORA_ROLE_ERROR = 'role must be one of publisher, 1, subscriber, 2';
const AGORA_EXPIRY_ERROR = 'expiry must be a whole number of seconds from 1 to 86400';
const AGORA_UID_ERROR = 'uid must be an integer 0..4294967295';
const AGORA_TOKEN_TYPE_ERROR = 'tokenType must be uid or userAccount';
const PUBLISHER_PRIVILEGES = [1, 2, 3, 4];
const SUBSCRIBER_PRIVILEGES = [AGORA_RTC_PRIVILEGE.JOIN_CHANNEL];
const SIX_HOURS = 6 * 3600;
const ORIGIN = 'http://localhost:5173';
const LOGIN = 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }';
const SET_CORS =
  'mutation ($origins: [String!]!) { setCompatCorsOrigins(origins: $origins) { compatCorsOrigins } }';

interface SessionRow {
  id: string;
  tenant_id: string;
  provider: string;
  credential_id: string | null;
  external_id: string | null;
  custom_id: string | null;
  status: string;
}

interface ConnectionRow {
  id: string;
  tenant_id: string;
  session_id: string;
  role: string;
  identity: string;
  external_id: string | null;
  expires_at: Date | string | null;
}

/** What the database held before a step, to find exactly what the step added. */
interface Mark {
  seq: Record<string, number>;
  sessionIds: Set<string>;
  connectionIds: Set<string>;
}

interface Changes {
  /** New audit events of tenant A, in chain order. */
  events: AuditRow[];
  /**
   * New audit events of tenant B, but its per-minute `auth.succeeded.summary`: that one is written
   * when a minute closes, whatever the step did (B's keys are used by other cases).
   */
  eventsB: AuditRow[];
  sessions: SessionRow[];
  connections: ConnectionRow[];
}

type Method = 'GET' | 'POST';

interface CallOptions {
  auth?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

describe('vendor-compatible routes under /t/:tenantSlug/', () => {
  let w: VendorWorld;
  /** Bearer access tokens from the `login` mutation, refreshed well before their 15 minutes. */
  const bearers = new Map<string, { value: string; at: number }>();

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const slugA = (): string => w.a.tenant.slug;
  const slugB = (): string => w.b.tenant.slug;

  async function bearer(who: 'admin' | 'member' | 'adminB'): Promise<string> {
    const hit = bearers.get(who);
    if (hit && Date.now() - hit.at < 5 * 60_000) return hit.value;
    const tenant = who === 'adminB' ? w.b : w.a;
    const user = who === 'member' ? tenant.member : tenant.admin;
    const data = await ok(
      w.t.gql<{ login: { accessToken: string } }>(LOGIN, {
        input: { email: user.email, password: user.password, tenantSlug: tenant.tenant.slug },
      }),
    );
    const value = `Bearer ${data.login.accessToken}`;
    bearers.set(who, { value, at: Date.now() });
    return value;
  }

  /** The two kinds of caller every route must accept, with the auth method they are audited as. */
  const CALLERS: Array<[string, () => Promise<string>, string]> = [
    ['a Basic ADMIN API key', () => Promise.resolve(w.a.adminKey), 'BASIC_API_KEY'],
    ['a Bearer access token', () => bearer('admin'), 'JWT'],
  ];

  function call(method: Method, path: string, opts: CallOptions = {}) {
    let req = method === 'GET' ? w.t.http().get(path) : w.t.http().post(path);
    if (opts.auth) req = req.set('authorization', opts.auth);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req = req.set(k, v);
    return opts.body === undefined ? req : req.send(opts.body as object);
  }

  const get = (path: string, auth: string, headers?: Record<string, string>) =>
    call('GET', path, { auth, headers });
  const post = (path: string, auth: string, body?: unknown) => call('POST', path, { auth, body });

  // ---------------------------------------------------------------------------------------------
  // Database helpers
  // ---------------------------------------------------------------------------------------------

  async function mark(): Promise<Mark> {
    const [sessions, connections] = await Promise.all([
      w.t.ds.query<Array<{ id: string }>>('SELECT id FROM video_session'),
      w.t.ds.query<Array<{ id: string }>>('SELECT id FROM session_connection'),
    ]);
    return {
      seq: {
        [w.a.tenant.id]: await auditHighWater(w.t, w.a.tenant.id),
        [w.b.tenant.id]: await auditHighWater(w.t, w.b.tenant.id),
      },
      sessionIds: new Set(sessions.map((r) => r.id)),
      connectionIds: new Set(connections.map((r) => r.id)),
    };
  }

  async function changes(m: Mark): Promise<Changes> {
    const sessions = await w.t.ds.query<SessionRow[]>(
      'SELECT id, tenant_id, provider, credential_id, external_id, custom_id, status FROM video_session ORDER BY created_at',
    );
    const connections = await w.t.ds.query<ConnectionRow[]>(
      'SELECT id, tenant_id, session_id, role, identity, external_id, expires_at FROM session_connection ORDER BY created_at',
    );
    return {
      events: await auditSince(w.t, w.a.tenant.id, m.seq[w.a.tenant.id]),
      eventsB: (await auditSince(w.t, w.b.tenant.id, m.seq[w.b.tenant.id])).filter(
        (e) => e.action !== 'auth.succeeded.summary',
      ),
      sessions: sessions.filter((s) => !m.sessionIds.has(s.id)),
      connections: connections.filter((c) => !m.connectionIds.has(c.id)),
    };
  }

  async function sessionByExternalId(tenantId: string, externalId: string): Promise<SessionRow[]> {
    return w.t.ds.query<SessionRow[]>(
      'SELECT id, tenant_id, provider, credential_id, external_id, custom_id, status FROM video_session WHERE tenant_id = $1 AND external_id = $2',
      [tenantId, externalId],
    );
  }

  const actions = (events: AuditRow[], action: string): AuditRow[] =>
    events.filter((e) => e.action === action);

  /** Per-request sign-in events (today's, and the per-minute summary that replaces them). */
  const SIGN_IN = new Set(['auth.login.succeeded', 'auth.succeeded.summary']);

  /**
   * A success: no `compat.called`; exactly the domain events counted, and nothing else. Each
   * issuance event (one per credential) carries the route, its via and the caller's auth method.
   */
  function expectAudited(
    c: Changes,
    route: string,
    domain: { sessions?: number; connections?: number; rtm?: number } = {},
    authMethod?: string,
  ): void {
    expect(actions(c.events, 'compat.called')).toEqual([]);
    const issued = c.events.filter(
      (e) => e.action === 'connection.created' || e.action === 'agora.rtm_token.issued',
    );
    for (const e of issued) {
      expect(e).toMatchObject({ outcome: 'SUCCESS', error_code: null, metadata: { route } });
      expect(String(e.metadata.via)).toMatch(/^compat\./);
      if (authMethod) expect(e.auth_method).toBe(authMethod);
    }
    expect(
      c.events.filter((e) => !SIGN_IN.has(e.action) && !issued.includes(e)).map((e) => e.action),
    ).toEqual(Array<string>(domain.sessions ?? 0).fill('session.created'));
    expect(actions(c.events, 'session.created')).toHaveLength(domain.sessions ?? 0);
    expect(actions(c.events, 'connection.created')).toHaveLength(domain.connections ?? 0);
    expect(actions(c.events, 'agora.rtm_token.issued')).toHaveLength(domain.rtm ?? 0);
    expect(c.sessions).toHaveLength(domain.sessions ?? 0);
    expect(c.connections).toHaveLength(domain.connections ?? 0);
    for (const e of actions(c.events, 'session.created')) {
      expect(String(e.metadata.via)).toMatch(/^compat\./);
    }
    for (const e of actions(c.events, 'connection.created')) {
      expect(String(e.metadata.via)).toMatch(/^compat\./);
    }
    expect(c.eventsB).toEqual([]);
  }

  /** A failure: one FAILURE/DENIED `compat.called`, no rows, nothing in tenant B. */
  function expectRefused(c: Changes, route: string, status: number, code: string): void {
    const compat = actions(c.events, 'compat.called');
    expect(compat).toHaveLength(1);
    expect(compat[0]).toMatchObject({
      outcome: code === 'FORBIDDEN' ? 'DENIED' : 'FAILURE',
      error_code: code,
      metadata: { route, status },
    });
    expect(actions(c.events, 'session.created')).toEqual([]);
    expect(actions(c.events, 'connection.created')).toEqual([]);
    expect(actions(c.events, 'agora.rtm_token.issued')).toEqual([]);
    expect(c.sessions).toEqual([]);
    expect(c.connections).toEqual([]);
    expect(c.eventsB).toEqual([]);
  }

  const vendorCalls = (kind: HttpKind, method: string, path: RegExp) =>
    w.calls(kind).filter((x) => x.method === method && path.test(x.path));

  function expectNoCache(res: Response): void {
    expect(res.headers).toMatchObject(NO_CACHE);
  }

  async function graphqlSession(
    tenant: WorldTenant,
    input: Record<string, unknown>,
  ): Promise<SessionJson> {
    return (
      await ok(
        w.t.gql<{ createSession: SessionJson }>(
          CREATE_SESSION,
          { input },
          {
            auth: tenant.admin.auth,
          },
        ),
      )
    ).createSession;
  }

  function rtcOf(token: string, appCertificate = w.secrets.agoraCertificate) {
    const decoded = decodeAgoraToken(token);
    expect(verifyAgoraSignature(decoded, appCertificate)).toBe(true);
    return { decoded, rtc: onlyService(decoded, AGORA_SERVICE_RTC) };
  }

  /** An RTM token; with `streamChannel`, also the token service's grant on it (join, publish data). */
  function rtmOf(
    token: string,
    streamChannel?: string,
  ): { decoded: DecodedAgoraToken; userId: string } {
    const decoded = decodeAgoraToken(token);
    expect(verifyAgoraSignature(decoded, w.secrets.agoraCertificate)).toBe(true);
    const userId = onlyService(decoded, AGORA_SERVICE_RTM).userId;
    if (streamChannel === undefined) {
      expect(decoded.services.map((s) => s.type)).toEqual([AGORA_SERVICE_RTM]);
    } else {
      expect(decoded.services.map((s) => s.type)).toEqual([AGORA_SERVICE_RTC, AGORA_SERVICE_RTM]);
      expect(onlyService(decoded, AGORA_SERVICE_RTC)).toMatchObject({
        channel: streamChannel,
        uid: userId,
        privileges: [
          { id: AGORA_RTC_PRIVILEGE.JOIN_CHANNEL, expire: decoded.expire },
          { id: AGORA_RTC_PRIVILEGE.PUBLISH_DATA, expire: decoded.expire },
        ],
      });
    }
    return { decoded, userId };
  }

  // =============================================================================================
  // OpenVidu 2 sample server
  // =============================================================================================

  describe('OpenVidu 2 (openvidu-basic-node)', () => {
    const sessionsPath = () => `/t/${slugA()}/openvidu/api/sessions`;
    const connectionsPath = (id: string) => `/t/${slugA()}/openvidu/api/sessions/${id}/connections`;

    it.each(CALLERS)(
      'should answer the session id as text/plain and pass the options to OpenVidu when %s creates a session with a customSessionId',
      async (_name, auth, method) => {
        const id = `ov-${uniq()}`;
        const m = await mark();
        const res = await post(sessionsPath(), await auth(), {
          customSessionId: id,
          mediaMode: 'ROUTED',
          recordingMode: 'MANUAL',
          forcedVideoCodec: 'VP8',
          allowTranscoding: true,
        });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text).toBe(id);
        expect(w.ov.session(id)).toMatchObject({
          id,
          customSessionId: id,
          mediaMode: 'ROUTED',
          recordingMode: 'MANUAL',
          forcedVideoCodec: 'VP8',
          allowTranscoding: true,
        });
        const c = await changes(m);
        expectAudited(c, 'openvidu.sessions', { sessions: 1 }, method);
        expect(c.sessions[0]).toMatchObject({
          tenant_id: w.a.tenant.id,
          provider: 'OPENVIDU',
          credential_id: w.a.creds.OPENVIDU,
          external_id: id,
          custom_id: id,
          status: 'ACTIVE',
        });
        expect(actions(c.events, 'session.created')[0].metadata).toMatchObject({
          provider: 'OPENVIDU',
          externalId: id,
          via: 'compat.openvidu',
        });
      },
    );

    it.each([
      ['no body', undefined],
      ['an empty JSON object', {}],
      ['only options', { recordingMode: 'ALWAYS' }],
    ])('should create a session with a generated id when the body has %s', async (_name, body) => {
      const m = await mark();
      const res = await post(sessionsPath(), w.a.adminKey, body);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(w.ov.session(res.text)).toBeDefined();
      const c = await changes(m);
      expectAudited(c, 'openvidu.sessions', { sessions: 1 });
      expect(c.sessions[0]).toMatchObject({ external_id: res.text, custom_id: null });
    });

    it('should answer the same session, keep one row and call OpenVidu once when the same customSessionId is posted twice', async () => {
      const id = `ov-twice-${uniq()}`;
      const m = await mark();
      const first = await post(sessionsPath(), w.a.adminKey, { customSessionId: id });
      const second = await post(sessionsPath(), await bearer('admin'), { customSessionId: id });
      expect([first.status, first.text]).toEqual([200, id]);
      expect([second.status, second.text]).toEqual([200, id]);
      expect(vendorCalls('OPENVIDU', 'POST', /\/openvidu\/api\/sessions$/)).toHaveLength(1);
      expect(await sessionByExternalId(w.a.tenant.id, id)).toHaveLength(1);
      const c = await changes(m);
      expect(actions(c.events, 'session.created')).toHaveLength(1);
      // The second call only found the session: nothing to record, and success is no compat.called.
      expect(actions(c.events, 'compat.called')).toEqual([]);
      expect(c.sessions).toHaveLength(1);
    });

    it('should answer the same id when the customSessionId already exists at OpenVidu (409 from the vendor)', async () => {
      const id = `ov-409-${uniq()}`;
      const direct = await fetch(`${w.ov.url}/openvidu/api/sessions`, {
        method: 'POST',
        headers: {
          authorization: `Basic ${Buffer.from(`OPENVIDUAPP:${w.secrets.openvidu}`).toString('base64')}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ customSessionId: id }),
      });
      expect(direct.status).toBe(200);
      w.quiet();
      const m = await mark();
      const res = await post(sessionsPath(), w.a.adminKey, { customSessionId: id });
      expect([res.status, res.text]).toEqual([200, id]);
      expect(vendorCalls('OPENVIDU', 'POST', /\/sessions$/)).toHaveLength(1);
      const c = await changes(m);
      expectAudited(c, 'openvidu.sessions', { sessions: 1 });
      // And the session takes connections.
      const conn = await post(connectionsPath(id), w.a.adminKey, {});
      expect(conn.status).toBe(200);
      expect(w.ov.connectWithToken(conn.text).sessionId).toBe(id);
    });

    it('should create one session at OpenVidu and one row when three identical creates arrive at once', async () => {
      const id = `ov-race-${uniq()}`;
      const m = await mark();
      const all = await Promise.all(
        [0, 1, 2].map(() => post(sessionsPath(), w.a.adminKey, { customSessionId: id })),
      );
      expect(all.map((r) => [r.status, r.text])).toEqual([
        [200, id],
        [200, id],
        [200, id],
      ]);
      expect(vendorCalls('OPENVIDU', 'POST', /\/sessions$/)).toHaveLength(1);
      const c = await changes(m);
      expect(c.sessions).toHaveLength(1);
      expect(actions(c.events, 'session.created')).toHaveLength(1);
      expect(actions(c.events, 'compat.called')).toEqual([]);
    });

    it.each([
      ['a space', 'bad id'],
      ['a slash', 'a/b'],
      ['a dot', 'a.b'],
      ['a non-ASCII letter', 'séance'],
      ['a zero-width space', 'a\u200bb'],
    ])(
      'should answer 400 with the typed error and call OpenVidu zero times when customSessionId contains %s',
      async (_name, customSessionId) => {
        const m = await mark();
        const res = await post(sessionsPath(), w.a.adminKey, { customSessionId });
        expect(res.status).toBe(400);
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(res.body).toEqual({
          error: { code: 'BAD_USER_INPUT', field: 'customSessionId', message: expect.any(String) },
        });
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'openvidu.sessions', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['mediaMode is not ROUTED', { mediaMode: 'RELAYED' }, 'mediaMode'],
      ['recordingMode is unknown', { recordingMode: 'SOMETIMES' }, 'recordingMode'],
      ['forcedVideoCodec is unknown', { forcedVideoCodec: 'AV1' }, 'forcedVideoCodec'],
      ['allowTranscoding is a string', { allowTranscoding: 'yes' }, 'allowTranscoding'],
      ['customSessionId is a number', { customSessionId: 5 }, 'customSessionId'],
      ['the body is an array', [1, 2], 'body'],
    ])(
      'should answer 400 naming the field and call OpenVidu zero times when %s',
      async (_name, body, field) => {
        const m = await mark();
        const res = await post(sessionsPath(), w.a.adminKey, body);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          error: { code: 'BAD_USER_INPUT', field, message: expect.any(String) },
        });
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'openvidu.sessions', 400, 'BAD_USER_INPUT');
      },
    );

    it.each(CALLERS)(
      'should answer a token as text/plain that OpenVidu accepts, with the role and data forwarded, when %s creates a connection',
      async (_name, auth, method) => {
        const id = `ov-conn-${uniq()}`;
        expect((await post(sessionsPath(), w.a.adminKey, { customSessionId: id })).status).toBe(
          200,
        );
        w.quiet();
        const m = await mark();
        const res = await post(connectionsPath(id), await auth(), {
          role: 'SUBSCRIBER',
          data: 'alice',
        });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text).toMatch(new RegExp(`sessionId=${id}&token=tok_`));
        const posted = vendorCalls('OPENVIDU', 'POST', /\/connection$/);
        expect(posted).toHaveLength(1);
        expect(posted[0].path).toBe(`/openvidu/api/sessions/${id}/connection`);
        const vendorConn = w.ov.connectWithToken(res.text);
        expect(vendorConn).toMatchObject({
          sessionId: id,
          role: 'SUBSCRIBER',
          serverData: 'alice',
          type: 'WEBRTC',
          status: 'active',
        });
        const c = await changes(m);
        expectAudited(c, 'openvidu.connections', { connections: 1 }, method);
        expect(c.connections[0]).toMatchObject({
          tenant_id: w.a.tenant.id,
          role: 'SUBSCRIBER',
          external_id: vendorConn.id,
        });
      },
    );

    it('should issue a PUBLISHER token with empty data when the connection body is empty', async () => {
      const id = `ov-pub-${uniq()}`;
      expect((await post(sessionsPath(), w.a.adminKey, { customSessionId: id })).status).toBe(200);
      const res = await post(connectionsPath(id), w.a.memberKey, {});
      expect(res.status).toBe(200);
      const conn = w.ov.connectWithToken(res.text);
      expect(conn).toMatchObject({ role: 'PUBLISHER', serverData: '' });
      // Single use: a second connect with the same token is refused by OpenVidu.
      expect(() => w.ov.connectWithToken(res.text)).toThrow();
    });

    it('should answer 404 with an empty body and call OpenVidu zero times when the session is unknown', async () => {
      const m = await mark();
      const res = await post(connectionsPath(`nope-${uniq()}`), w.a.adminKey, {});
      expect(res.status).toBe(404);
      expect(res.text).toBe('');
      expect(res.headers['x-roomkey-error-code']).toBe('NOT_FOUND');
      expect(w.totalCalls()).toBe(0);
      expectRefused(await changes(m), 'openvidu.connections', 404, 'NOT_FOUND');
    });

    it("should answer 404 when the session id is another tenant's session", async () => {
      const id = `ov-b-${uniq()}`;
      await graphqlSession(w.b, { provider: 'OPENVIDU', customSessionId: id });
      w.quiet();
      const m = await mark();
      const res = await post(connectionsPath(id), w.a.adminKey, {});
      expect(res.status).toBe(404);
      expect(res.text).toBe('');
      expect(w.totalCalls()).toBe(0);
      expectRefused(await changes(m), 'openvidu.connections', 404, 'NOT_FOUND');
    });

    it('should answer 404 when the session was ended', async () => {
      const id = `ov-ended-${uniq()}`;
      const s = await graphqlSession(w.a, { provider: 'OPENVIDU', customSessionId: id });
      await ok(
        w.t.gql(
          'mutation ($id: ID!) { endSession(id: $id) { id } }',
          { id: s.id },
          {
            auth: w.a.admin.auth,
          },
        ),
      );
      w.quiet();
      const res = await post(connectionsPath(id), w.a.adminKey, {});
      expect(res.status).toBe(404);
      expect(w.totalCalls()).toBe(0);
    });

    it.each([
      ['type is IPCAM without an rtspUri', { type: 'IPCAM' }, 'rtspUri'],
      ['type is unknown', { type: 'SIP' }, 'type'],
      ['role is unknown', { role: 'OWNER' }, 'role'],
      ['data is not a string', { data: { a: 1 } }, 'data'],
    ])(
      'should answer 400 and call OpenVidu zero times when the connection %s',
      async (_name, body, field) => {
        const id = `ov-bad-${uniq()}`;
        expect((await post(sessionsPath(), w.a.adminKey, { customSessionId: id })).status).toBe(
          200,
        );
        w.quiet();
        const m = await mark();
        const res = await post(connectionsPath(id), w.a.adminKey, body);
        expect(res.status).toBe(400);
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(res.body).toEqual({
          error: { code: 'BAD_USER_INPUT', field, message: expect.any(String) },
        });
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'openvidu.connections', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['a MEMBER API key', () => Promise.resolve(w.a.memberKey)],
      ["a MEMBER's Bearer token", () => bearer('member')],
    ])(
      'should answer 403 and call OpenVidu zero times when %s asks for a MODERATOR connection',
      async (_name, auth) => {
        const id = `ov-mod-${uniq()}`;
        expect((await post(sessionsPath(), w.a.adminKey, { customSessionId: id })).status).toBe(
          200,
        );
        w.quiet();
        const m = await mark();
        const res = await post(connectionsPath(id), await auth(), { role: 'MODERATOR' });
        expect(res.status).toBe(403);
        expect(res.headers['x-roomkey-error-code']).toBe('FORBIDDEN');
        expect(res.body).toEqual({ error: { code: 'FORBIDDEN', message: expect.any(String) } });
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'openvidu.connections', 403, 'FORBIDDEN');
        // An ADMIN may.
        const admin = await post(connectionsPath(id), w.a.adminKey, { role: 'MODERATOR' });
        expect(admin.status).toBe(200);
        expect(w.ov.connectWithToken(admin.text).role).toBe('MODERATOR');
      },
    );

    it('should answer 503 PROVIDER_UNAVAILABLE as JSON and leave no row when OpenVidu answers 503 to the session create', async () => {
      const id = `ov-down-${uniq()}`;
      w.ov.faults.set({ status: 503 });
      const m = await mark();
      const res = await post(sessionsPath(), w.a.adminKey, { customSessionId: id });
      expect(res.status).toBe(503);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-roomkey-error-code']).toBe('PROVIDER_UNAVAILABLE');
      expect(res.body).toEqual({
        error: { code: 'PROVIDER_UNAVAILABLE', message: expect.any(String) },
      });
      expect(res.text).not.toContain(w.ov.url);
      expect(res.text).not.toContain(w.secrets.openvidu);
      expect(vendorCalls('OPENVIDU', 'POST', /\/sessions$/).length).toBeGreaterThanOrEqual(1);
      expectRefused(await changes(m), 'openvidu.sessions', 503, 'PROVIDER_UNAVAILABLE');
      // The claim on the customSessionId was released: the same call works once OpenVidu is back.
      w.ov.faults.clear();
      const again = await post(sessionsPath(), w.a.adminKey, { customSessionId: id });
      expect([again.status, again.text]).toEqual([200, id]);
    });

    it('should answer 503 PROVIDER_UNAVAILABLE and record no connection when OpenVidu answers 503 to the connection', async () => {
      const id = `ov-down-c-${uniq()}`;
      expect((await post(sessionsPath(), w.a.adminKey, { customSessionId: id })).status).toBe(200);
      w.ov.faults.set({
        status: 503,
        match: (meth, p) => meth === 'POST' && p.endsWith('/connection'),
      });
      const m = await mark();
      const res = await post(connectionsPath(id), w.a.adminKey, {});
      expect(res.status).toBe(503);
      expect(res.headers['x-roomkey-error-code']).toBe('PROVIDER_UNAVAILABLE');
      expect(res.body.error.code).toBe('PROVIDER_UNAVAILABLE');
      // Creating a connection is not idempotent: never retried.
      expect(vendorCalls('OPENVIDU', 'POST', /\/connection$/)).toHaveLength(1);
      expectRefused(await changes(m), 'openvidu.connections', 503, 'PROVIDER_UNAVAILABLE');
      w.ov.faults.clear();
    });
  });

  // =============================================================================================
  // OpenVidu 3 / LiveKit sample server
  // =============================================================================================

  describe('OpenVidu 3 / LiveKit (POST /livekit/token)', () => {
    const tokenPath = () => `/t/${slugA()}/livekit/token`;

    it.each(CALLERS)(
      'should answer {token} with the sample grants and a 6 h lifetime when %s asks for a room token',
      async (_name, auth, method) => {
        const roomName = `lk-room-${uniq()}`;
        const m = await mark();
        const before = Math.floor(Date.now() / 1000);
        const res = await post(tokenPath(), await auth(), { roomName, participantName: 'alice' });
        const after = Math.ceil(Date.now() / 1000);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(Object.keys(res.body as object)).toEqual(['token']);
        const claims = w.lk.verify(String(res.body.token));
        expect(claims).toMatchObject({ iss: w.secrets.livekitKey, sub: 'alice' });
        expect(claims.video).toMatchObject({
          room: roomName,
          roomJoin: true,
          canPublish: true,
          canSubscribe: true,
        });
        expect(claims.video?.roomAdmin).toBeFalsy();
        expect(claims.exp! - before).toBeGreaterThanOrEqual(SIX_HOURS - 1);
        expect(claims.exp! - after).toBeLessThanOrEqual(SIX_HOURS + 1);
        const creates = vendorCalls('LIVEKIT', 'POST', /\/CreateRoom$/);
        expect(creates).toHaveLength(1);
        expect(creates[0].body).toMatchObject({ name: roomName });
        // The emulator admits the participant to that room.
        expect(w.lk.joinAs(String(res.body.token))).toMatchObject({
          identity: 'alice',
          room: roomName,
        });
        const c = await changes(m);
        expectAudited(c, 'livekit.token', { sessions: 1, connections: 1 }, method);
        expect(c.sessions[0]).toMatchObject({
          provider: 'LIVEKIT',
          external_id: roomName,
          custom_id: roomName,
          credential_id: w.a.creds.LIVEKIT,
        });
        expect(c.connections[0]).toMatchObject({
          session_id: c.sessions[0].id,
          role: 'PUBLISHER',
          identity: 'alice',
        });
      },
    );

    it('should reuse the session and create the room once when a second participant asks for the same room', async () => {
      const roomName = `lk-shared-${uniq()}`;
      const m = await mark();
      const a = await post(tokenPath(), w.a.adminKey, { roomName, participantName: 'alice' });
      const b = await post(tokenPath(), await bearer('member'), {
        roomName,
        participantName: 'bob',
      });
      expect([a.status, b.status]).toEqual([200, 200]);
      expect(w.lk.verify(String(b.body.token))).toMatchObject({
        sub: 'bob',
        video: { room: roomName },
      });
      expect(vendorCalls('LIVEKIT', 'POST', /\/CreateRoom$/)).toHaveLength(1);
      const c = await changes(m);
      expect(c.sessions).toHaveLength(1);
      expect(c.connections).toHaveLength(2);
      expect(new Set(c.connections.map((x) => x.session_id))).toEqual(new Set([c.sessions[0].id]));
      expect(actions(c.events, 'session.created')).toHaveLength(1);
      expect(actions(c.events, 'connection.created')).toHaveLength(2);
      expect(actions(c.events, 'connection.created').map((e) => e.metadata.route)).toEqual([
        'livekit.token',
        'livekit.token',
      ]);
      expect(actions(c.events, 'compat.called')).toEqual([]);
    });

    it('should create the LiveKit room once and record one session when three first participants arrive at once', async () => {
      const roomName = `lk-race-${uniq()}`;
      const m = await mark();
      const all = await Promise.all(
        ['a', 'b', 'c'].map((participantName) =>
          post(tokenPath(), w.a.adminKey, { roomName, participantName }),
        ),
      );
      expect(all.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(vendorCalls('LIVEKIT', 'POST', /\/CreateRoom$/)).toHaveLength(1);
      const c = await changes(m);
      expect(c.sessions).toHaveLength(1);
      expect(c.connections).toHaveLength(3);
    });

    it.each([
      ['there is no body', undefined],
      ['the body is empty', {}],
      ['participantName is missing', { roomName: 'r' }],
      ['roomName is missing', { participantName: 'p' }],
      ['roomName is an empty string', { roomName: '', participantName: 'p' }],
      ['participantName is an empty string', { roomName: 'r', participantName: '' }],
      ['both are null', { roomName: null, participantName: null }],
    ])(
      'should answer 400 with exactly the sample error body and call LiveKit zero times when %s',
      async (_name, body) => {
        const m = await mark();
        const res = await post(tokenPath(), w.a.adminKey, body);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.text).toBe(LIVEKIT_400);
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'livekit.token', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['roomName contains a slash', { roomName: 'a/b', participantName: 'p' }],
      ['roomName contains a zero-width space', { roomName: 'a\u200bb', participantName: 'p' }],
      ['participantName contains a #', { roomName: `lk-${uniq()}`, participantName: 'p#1' }],
      ['participantName contains a slash', { roomName: `lk-${uniq()}`, participantName: 'a/b' }],
      ['roomName is a number', { roomName: 5, participantName: 'p' }],
    ])(
      'should answer 400 {errorMessage}, call LiveKit zero times and record nothing when %s',
      async (_name, body) => {
        // README: "Names are checked before anything is stored or sent"; docs/security.md S9: the
        // emulator records zero calls.
        const m = await mark();
        const res = await post(tokenPath(), w.a.adminKey, body);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({ errorMessage: expect.any(String) });
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'livekit.token', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['roomName contains a slash', { roomName: 'a/b', participantName: 'p' }, 'roomName '],
      ['roomName is too long', { roomName: 'r'.repeat(129), participantName: 'p' }, 'roomName '],
      [
        'participantName contains a #',
        { roomName: 'r', participantName: 'p#1' },
        'participantName ',
      ],
    ])('should name the field the sample sends when %s', async (_name, body, prefix) => {
      const res = await post(tokenPath(), w.a.adminKey, body);
      expect(res.status).toBe(400);
      const message = (res.body as { errorMessage: string }).errorMessage;
      expect(message.startsWith(prefix)).toBe(true);
      expect(message).not.toMatch(/customSessionId|identity/);
    });

    it('should answer 503 {errorMessage} and leave no row when LiveKit is down', async () => {
      w.lk.faults.set({ status: 503 });
      const m = await mark();
      const res = await post(tokenPath(), w.a.adminKey, {
        roomName: `lk-down-${uniq()}`,
        participantName: 'p',
      });
      expect(res.status).toBe(503);
      expect(res.headers['x-roomkey-error-code']).toBe('PROVIDER_UNAVAILABLE');
      expect(res.body).toEqual({ errorMessage: expect.any(String) });
      expect(res.text).not.toContain(w.lk.url);
      expectRefused(await changes(m), 'livekit.token', 503, 'PROVIDER_UNAVAILABLE');
      w.lk.faults.clear();
    });
  });

  // =============================================================================================
  // Pexip VPaaS tutorial server
  // =============================================================================================

  describe('Pexip VPaaS tutorial', () => {
    const base = () => `/t/${slugA()}/pexip`;

    it.each(CALLERS)(
      'should answer the API address as text when %s asks for it',
      async (_name, auth, method) => {
        const m = await mark();
        const res = await get(`${base()}/api-address`, await auth());
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text).toBe(w.px.url);
        expect(w.totalCalls()).toBe(0);
        expectAudited(await changes(m), 'pexip.api-address', {}, method);
      },
    );

    it.each(CALLERS)(
      "should answer VPaaS's meeting JSON and record the session when %s creates a meeting",
      async (_name, auth, method) => {
        const m = await mark();
        const res = await post(`${base()}/meetings`, await auth());
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(Object.keys(res.body as object).sort()).toEqual([
          'created_at',
          'id',
          'status',
          'updated_at',
        ]);
        const meeting = w.px.meetings().find((x) => x.id === res.body.id);
        expect(meeting).toBeDefined();
        expect(res.body).toEqual({
          id: meeting!.id,
          status: meeting!.status,
          created_at: meeting!.created_at,
          updated_at: meeting!.updated_at,
        });
        const c = await changes(m);
        expectAudited(c, 'pexip.meetings', { sessions: 1 }, method);
        expect(c.sessions[0]).toMatchObject({
          provider: 'PEXIP',
          external_id: res.body.id,
          credential_id: w.a.creds.PEXIP,
        });
      },
    );

    it.each(CALLERS)(
      "should answer VPaaS's participant JSON for a participant the emulator knows when %s joins a meeting",
      async (_name, auth, method) => {
        const meeting = await post(`${base()}/meetings`, w.a.adminKey);
        expect(meeting.status).toBe(200);
        const meetingId = String(meeting.body.id);
        const m = await mark();
        const res = await post(`${base()}/meetings/${meetingId}/participants`, await auth());
        expect(res.status).toBe(200);
        expect(Object.keys(res.body as object).sort()).toEqual([
          'created_at',
          'id',
          'meeting_id',
          'participant_secret',
          'status',
          'updated_at',
        ]);
        expect(res.body.meeting_id).toBe(meetingId);
        const vendor = w.px.participant(meetingId, String(res.body.id));
        expect(vendor).toBeDefined();
        expect(res.body).toEqual({
          meeting_id: vendor!.meeting_id,
          id: vendor!.id,
          participant_secret: vendor!.participant_secret,
          status: vendor!.status,
          created_at: vendor!.created_at,
          updated_at: vendor!.updated_at,
        });
        const c = await changes(m);
        expectAudited(c, 'pexip.participants', { connections: 1 }, method);
        expect(c.connections[0]).toMatchObject({ external_id: vendor!.id, role: 'PUBLISHER' });
      },
    );

    it('should answer 500 with the tutorial text and call Pexip zero times when the meeting is unknown', async () => {
      const m = await mark();
      const res = await post(`${base()}/meetings/nope-${uniq()}/participants`, w.a.adminKey);
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('Cannot get participants from the meeting');
      expect(res.headers['x-roomkey-error-code']).toBe('NOT_FOUND');
      expect(w.totalCalls()).toBe(0);
      expectRefused(await changes(m), 'pexip.participants', 500, 'NOT_FOUND');
    });

    it('should answer 500 "Cannot create the meeting" and leave no row when Pexip fails the meeting create', async () => {
      w.px.faults.set({ status: 503, match: (_m, p) => p.startsWith('/v1/meetings') });
      const m = await mark();
      const res = await post(`${base()}/meetings`, w.a.adminKey);
      expect(res.status).toBe(500);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toBe('Cannot create the meeting');
      expect(res.headers['x-roomkey-error-code']).toBe('PROVIDER_UNAVAILABLE');
      expect(vendorCalls('PEXIP', 'POST', /^\/v1\/meetings\/?$/).length).toBeGreaterThanOrEqual(1);
      expectRefused(await changes(m), 'pexip.meetings', 500, 'PROVIDER_UNAVAILABLE');
      w.px.faults.clear();
    });

    it('should answer 500 "Cannot get participants from the meeting" and record no connection when Pexip fails the participant create', async () => {
      const meeting = await post(`${base()}/meetings`, w.a.adminKey);
      expect(meeting.status).toBe(200);
      w.px.faults.set({ status: 500, match: (_m, p) => p.endsWith('/participants') });
      const m = await mark();
      const res = await post(
        `${base()}/meetings/${String(meeting.body.id)}/participants`,
        w.a.adminKey,
      );
      expect(res.status).toBe(500);
      expect(res.text).toBe('Cannot get participants from the meeting');
      expect(res.headers['x-roomkey-error-code']).toBe('PROVIDER_UNAVAILABLE');
      expectRefused(await changes(m), 'pexip.participants', 500, 'PROVIDER_UNAVAILABLE');
      w.px.faults.clear();
    });
  });

  // =============================================================================================
  // Agora token service
  // =============================================================================================

  describe('Agora token service', () => {
    const base = () => `/t/${slugA()}/agora`;

    it.each(CALLERS)(
      'should answer {"message":"pong"} with the no-cache headers when %s pings',
      async (_name, auth, method) => {
        const m = await mark();
        const res = await get(`${base()}/ping`, await auth());
        expect(res.status).toBe(200);
        expect(res.text).toBe('{"message":"pong"}');
        expectNoCache(res);
        expectAudited(await changes(m), 'agora.ping', {}, method);
      },
    );

    /** [what the request has, role, tokenType, uid, query, publisher?, uid in the token, expire]. */
    type RtcCase = [string, string, string, string, string, boolean, string, number];
    // prettier-ignore
    const rtcCases: RtcCase[] = [
      ['role publisher and a uid',                 'publisher',  'uid',         '42',         '',              true,  '42',         3600],
      ['role 1 (the documented publisher value)',  '1',          'uid',         '43',         '',              true,  '43',         3600],
      ['role subscriber and an explicit expiry',   'subscriber', 'uid',         '7',          '?expiry=600',   false, '7',          600],
      ['role 2 (the documented subscriber value)', '2',          'uid',         '8',          '',              false, '8',          3600],
      ['role Publisher in another case',           'Publisher',  'uid',         '9',          '',              true,  '9',          3600],
      ['tokenType userAccount',                    'publisher',  'userAccount', 'alice',      '',              true,  'alice',      3600],
      ['uid 0 (any user)',                         'publisher',  'uid',         '0',          '',              true,  '',           3600],
      ['uid 4294967295 and the largest expiry',    'subscriber', 'uid',         '4294967295', '?expiry=86400', false, '4294967295', 86400],
      ['an empty expiry',                          'publisher',  'uid',         '11',         '?expiry=',      true,  '11',         3600],
      ['expiry 1',                                 'publisher',  'uid',         '12',         '?expiry=1',     true,  '12',         1],
    ];

    describe.each([
      ['with the trailing slash', '/'],
      ['without the trailing slash', ''],
    ])('rtc %s', (_slashName, slash) => {
      it.each(rtcCases)(
        'should answer {rtcToken} with the checked privileges, record a connection and send no-cache headers when the request has %s',
        async (_name, role, tokenType, uid, query, publisher, tokenUid, expire) => {
          const channel = `ch-${uniq()}`;
          const m = await mark();
          const res = await get(
            `${base()}/rtc/${channel}/${role}/${tokenType}/${uid}${slash}${query}`,
            w.a.adminKey,
          );
          expect(res.status).toBe(200);
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          expectNoCache(res);
          expect(Object.keys(res.body as object)).toEqual(['rtcToken']);
          const { decoded, rtc } = rtcOf(String(res.body.rtcToken));
          expect(decoded.appId).toBe(w.secrets.agoraAppId);
          expect(decoded.expire).toBe(expire);
          expect(rtc.channel).toBe(channel);
          expect(rtc.uid).toBe(tokenUid);
          expect(rtc.privileges.map((p) => p.id).sort()).toEqual(
            publisher ? PUBLISHER_PRIVILEGES : SUBSCRIBER_PRIVILEGES,
          );
          expect(rtc.privileges.every((p) => p.expire === expire)).toBe(true);
          expect(w.totalCalls()).toBe(0);
          const c = await changes(m);
          expectAudited(c, 'agora.rtc', { sessions: 1, connections: 1 });
          expect(c.sessions[0]).toMatchObject({
            provider: 'AGORA',
            external_id: channel,
            credential_id: w.a.creds.AGORA,
          });
          expect(c.connections[0]).toMatchObject({
            session_id: c.sessions[0].id,
            role: publisher ? 'PUBLISHER' : 'SUBSCRIBER',
            identity: tokenUid === '' ? '0' : tokenUid,
          });
        },
      );
    });

    it('should reuse the channel session and record one connection per token when the same channel is asked twice', async () => {
      const channel = `ch-twice-${uniq()}`;
      const m = await mark();
      const a = await get(`${base()}/rtc/${channel}/publisher/uid/1/`, w.a.adminKey);
      const b = await get(`${base()}/rtc/${channel}/subscriber/uid/2/`, await bearer('member'));
      expect([a.status, b.status]).toEqual([200, 200]);
      const c = await changes(m);
      expect(c.sessions).toHaveLength(1);
      expect(c.connections.map((x) => `${x.role}:${x.identity}`).sort()).toEqual([
        'PUBLISHER:1',
        'SUBSCRIBER:2',
      ]);
      expect(actions(c.events, 'session.created')).toHaveLength(1);
      expect(actions(c.events, 'connection.created')).toHaveLength(2);
      expect(actions(c.events, 'connection.created').map((e) => e.metadata.route)).toEqual([
        'agora.rtc',
        'agora.rtc',
      ]);
      expect(actions(c.events, 'compat.called')).toEqual([]);
    });

    /** The token service's two error bodies: a bad parameter, and a token that cannot be built. */
    const param = (what: string, why: string) => ({ message: `${what}: ${why}` });
    const build = (what: string, why: string) => ({ error: `${what} - ${why}` });
    const RTC = 'Error Generating RTC token';
    const RTE = 'Error Generating RTC and RTM token';

    it.each([
      ['the role is audience', 'ch/audience/uid/5/', param(RTC, AGORA_ROLE_ERROR)],
      ['the role is 3', 'ch/3/uid/5/', param(RTC, AGORA_ROLE_ERROR)],
      ['the role is 0', 'ch/0/uid/5/', param(RTC, AGORA_ROLE_ERROR)],
      ['the tokenType is nonsense', 'ch/publisher/nonsense/5/', build(RTC, AGORA_TOKEN_TYPE_ERROR)],
      [
        'the tokenType is UID in capitals',
        'ch/publisher/UID/5/',
        build(RTC, AGORA_TOKEN_TYPE_ERROR),
      ],
      ['the uid is 4294967296', 'ch/publisher/uid/4294967296/', build(RTC, AGORA_UID_ERROR)],
      ['the uid is abc', 'ch/publisher/uid/abc/', build(RTC, AGORA_UID_ERROR)],
      ['the uid is -1', 'ch/publisher/uid/-1/', build(RTC, AGORA_UID_ERROR)],
      ['the uid is 1.5', 'ch/publisher/uid/1.5/', build(RTC, AGORA_UID_ERROR)],
      [
        'the userAccount is 0',
        'ch/publisher/userAccount/0/',
        build(RTC, 'userAccount must not be empty or 0'),
      ],
      ['the expiry is 0', 'ch/publisher/uid/5/?expiry=0', param(RTC, AGORA_EXPIRY_ERROR)],
      ['the expiry is 86401', 'ch/publisher/uid/5/?expiry=86401', param(RTC, AGORA_EXPIRY_ERROR)],
      ['the expiry is abc', 'ch/publisher/uid/5/?expiry=abc', param(RTC, AGORA_EXPIRY_ERROR)],
      ['the expiry is -5', 'ch/publisher/uid/5/?expiry=-5', param(RTC, AGORA_EXPIRY_ERROR)],
      [
        'the expiry is 4294967296',
        'ch/publisher/uid/5/?expiry=4294967296',
        param(RTC, AGORA_EXPIRY_ERROR),
      ],
    ])(
      'should answer 400 with the exact token-service error body and no-cache headers when %s',
      async (_name, tail, expected) => {
        const m = await mark();
        const res = await get(`${base()}/rtc/${tail}`, w.a.adminKey);
        expect(res.status).toBe(400);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expectNoCache(res);
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(res.body).toEqual({ ...expected, status: 400 });
        expectRefused(await changes(m), 'agora.rtc', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['is 64 bytes long', 'c'.repeat(64)],
      ["contains a character outside Agora's set", 'caf%C3%A9'],
      ['contains a zero-width space', 'a%E2%80%8Bb'],
    ])(
      'should answer 400 {message,status} without echoing it and record nothing when the channel name %s',
      async (_name, channel) => {
        const m = await mark();
        const res = await get(`${base()}/rtc/${channel}/publisher/uid/5/`, w.a.adminKey);
        expect(res.status).toBe(400);
        expectNoCache(res);
        expect(res.body).toEqual({
          message: expect.stringMatching(/^Error Generating RTC token: /),
          status: 400,
        });
        expect(res.text).not.toContain(decodeURIComponent(channel));
        expectRefused(await changes(m), 'agora.rtc', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['contains a non-ASCII letter', 'caf%C3%A9'],
      ['is longer than 255 bytes', 'u'.repeat(256)],
    ])(
      'should answer 400 {message|error, status} and record nothing when the rtc userAccount %s',
      async (_name, account) => {
        const m = await mark();
        const res = await get(
          `${base()}/rtc/ch-acct-${uniq()}/publisher/userAccount/${account}/`,
          w.a.adminKey,
        );
        expect(res.status).toBe(400);
        expectNoCache(res);
        expect(res.body.status).toBe(400);
        expect(String(res.body.message ?? res.body.error)).toMatch(/^Error Generating RTC token/);
        expectRefused(await changes(m), 'agora.rtc', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['with the trailing slash', '/'],
      ['without the trailing slash', ''],
    ])(
      'should answer {rtmToken} for that user, audited and without a connection row, when the rtm route is called %s',
      async (_name, slash) => {
        const m = await mark();
        const res = await get(
          `${base()}/rtm/alice-${slash ? 's' : 'n'}${slash}?expiry=120`,
          w.a.adminKey,
        );
        expect(res.status).toBe(200);
        expectNoCache(res);
        expect(Object.keys(res.body as object)).toEqual(['rtmToken']);
        const { decoded, userId } = rtmOf(String(res.body.rtmToken));
        expect(userId).toBe(`alice-${slash ? 's' : 'n'}`);
        expect(decoded.expire).toBe(120);
        expect(decoded.appId).toBe(w.secrets.agoraAppId);
        const c = await changes(m);
        expectAudited(c, 'agora.rtm', { rtm: 1 });
        expect(actions(c.events, 'agora.rtm_token.issued')[0]).toMatchObject({
          target_id: w.a.creds.AGORA,
          metadata: { userId: `alice-${slash ? 's' : 'n'}`, via: 'compat.agora' },
        });
      },
    );

    it('should answer a 3600 s RTM token when the rtm route has no expiry', async () => {
      const res = await get(`${base()}/rtm/bob/`, await bearer('member'));
      expect(res.status).toBe(200);
      expect(rtmOf(String(res.body.rtmToken)).decoded.expire).toBe(3600);
    });

    it.each([
      ['the uid is 0', '0/', build('Error Generating RTM token', 'An RTM user id must not be 0')],
      [
        'the expiry is 86401',
        'bob/?expiry=86401',
        param('Error Generating RTM token', AGORA_EXPIRY_ERROR),
      ],
    ])(
      'should answer 400 with the token-service error body and issue nothing when on the rtm route %s',
      async (_name, tail, expected) => {
        const m = await mark();
        const res = await get(`${base()}/rtm/${tail}`, w.a.adminKey);
        expect(res.status).toBe(400);
        expectNoCache(res);
        expect(res.body).toEqual({ ...expected, status: 400 });
        expectRefused(await changes(m), 'agora.rtm', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      [
        'no rtmuid, so the rtc uid is the RTM user',
        'publisher/uid/42/',
        '42',
        '42',
        PUBLISHER_PRIVILEGES,
      ],
      ['an rtmuid', 'subscriber/uid/42/bob/', '42', 'bob', SUBSCRIBER_PRIVILEGES],
      [
        'a userAccount and no rtmuid',
        'publisher/userAccount/carol/',
        'carol',
        'carol',
        PUBLISHER_PRIVILEGES,
      ],
      ['uid 0 and an rtmuid', '2/uid/0/dave', '', 'dave', SUBSCRIBER_PRIVILEGES],
    ])(
      'should answer {rtcToken, rtmToken} and record the RTC connection when the rte route has %s',
      async (_name, tail, rtcUid, rtmUser, privileges) => {
        const channel = `rte-${uniq()}`;
        const m = await mark();
        const res = await get(`${base()}/rte/${channel}/${tail}?expiry=900`, w.a.adminKey);
        expect(res.status).toBe(200);
        expectNoCache(res);
        expect(Object.keys(res.body as object).sort()).toEqual(['rtcToken', 'rtmToken']);
        const { decoded, rtc } = rtcOf(String(res.body.rtcToken));
        expect(decoded.expire).toBe(900);
        expect(rtc).toMatchObject({ channel, uid: rtcUid });
        expect(rtc.privileges.map((p) => p.id).sort()).toEqual(privileges);
        const rtm = rtmOf(String(res.body.rtmToken), channel);
        expect(rtm.userId).toBe(rtmUser);
        expect(rtm.decoded.expire).toBe(900);
        const c = await changes(m);
        expectAudited(c, 'agora.rte', { sessions: 1, connections: 1, rtm: 1 });
        expect(c.sessions[0]).toMatchObject({ provider: 'AGORA', external_id: channel });
      },
    );

    it.each([
      [
        'the rtc uid is 0 and there is no rtmuid',
        'publisher/uid/0/',
        param(RTE, 'The RTM user id cannot be empty or "0"'),
      ],
      ['the role is audience', 'audience/uid/5/', param(RTE, AGORA_ROLE_ERROR)],
      ['the expiry is 0', 'publisher/uid/5/?expiry=0', param(RTE, AGORA_EXPIRY_ERROR)],
      ['the uid is 4294967296', 'publisher/uid/4294967296/', build(RTE, AGORA_UID_ERROR)],
      ['the tokenType is nonsense', 'publisher/nonsense/5/', build(RTE, AGORA_TOKEN_TYPE_ERROR)],
    ])(
      'should answer 400 with the token-service error body and record nothing when on the rte route %s',
      async (_name, tail, expected) => {
        const m = await mark();
        const res = await get(`${base()}/rte/rte-bad-${uniq()}/${tail}`, w.a.adminKey);
        expect(res.status).toBe(400);
        expectNoCache(res);
        expect(res.body).toEqual({ ...expected, status: 400 });
        expectRefused(await changes(m), 'agora.rte', 400, 'BAD_USER_INPUT');
      },
    );

    it('should record no RTC connection when the rte RTM user id is refused', async () => {
      // "Bad input gets a clear, typed error and changes nothing" (docs/product.md#quality-bars): the RTM half of an
      // rte request failing must not leave the RTC half recorded (or a token minted for it).
      const m = await mark();
      const res = await get(
        `${base()}/rte/rte-rtm-${uniq()}/publisher/uid/5/caf%C3%A9/`,
        w.a.adminKey,
      );
      expect(res.status).toBe(400);
      expectNoCache(res);
      expect(res.body.status).toBe(400);
      expectRefused(await changes(m), 'agora.rte', 400, 'BAD_USER_INPUT');
    });

    describe('POST getToken', () => {
      const path = () => `${base()}/getToken`;

      it.each(CALLERS)(
        'should answer {token} for an RTC uid token with the role and expire asked when %s posts',
        async (_name, auth, method) => {
          const channel = `gt-${uniq()}`;
          const m = await mark();
          const res = await post(path(), await auth(), {
            tokenType: 'rtc',
            channel,
            role: 'publisher',
            uid: '42',
            expire: 600,
          });
          expect(res.status).toBe(200);
          expectNoCache(res);
          expect(Object.keys(res.body as object)).toEqual(['token']);
          const { decoded, rtc } = rtcOf(String(res.body.token));
          expect(decoded.expire).toBe(600);
          expect(rtc).toMatchObject({ channel, uid: '42' });
          expect(rtc.privileges.map((p) => p.id).sort()).toEqual(PUBLISHER_PRIVILEGES);
          const c = await changes(m);
          expectAudited(c, 'agora.getToken', { sessions: 1, connections: 1 }, method);
          expect(c.connections[0]).toMatchObject({ role: 'PUBLISHER', identity: '42' });
        },
      );

      it.each([
        [
          'a non-numeric uid gives a user-account token',
          { uid: 'alice' },
          'alice',
          SUBSCRIBER_PRIVILEGES,
          3600,
        ],
        [
          'a numeric uid as a JSON number',
          { uid: 77, role: 'publisher' },
          '77',
          PUBLISHER_PRIVILEGES,
          3600,
        ],
        ['role absent means subscriber', { uid: '5' }, '5', SUBSCRIBER_PRIVILEGES, 3600],
        ['role 2', { uid: '6', role: '2' }, '6', SUBSCRIBER_PRIVILEGES, 3600],
        ['expire 0 means the default', { uid: '7', expire: 0 }, '7', SUBSCRIBER_PRIVILEGES, 3600],
        ['expire 86400', { uid: '8', expire: 86400 }, '8', SUBSCRIBER_PRIVILEGES, 86400],
      ])(
        'should answer an RTC {token} when %s',
        async (_name, extra, tokenUid, privileges, expire) => {
          const channel = `gt-${uniq()}`;
          const m = await mark();
          const res = await post(path(), w.a.adminKey, { tokenType: 'rtc', channel, ...extra });
          expect(res.status).toBe(200);
          expectNoCache(res);
          const { decoded, rtc } = rtcOf(String(res.body.token));
          expect(rtc).toMatchObject({ channel, uid: tokenUid });
          expect(rtc.privileges.map((p) => p.id).sort()).toEqual(privileges);
          expect(decoded.expire).toBe(expire);
          expectAudited(await changes(m), 'agora.getToken', { sessions: 1, connections: 1 });
        },
      );

      it('should answer {token} when getToken is posted with a trailing slash', async () => {
        const res = await post(`${path()}/`, w.a.adminKey, {
          tokenType: 'rtc',
          channel: `gt-slash-${uniq()}`,
          uid: '1',
        });
        expect(res.status).toBe(200);
        expectNoCache(res);
        expect(rtcOf(String(res.body.token)).rtc.uid).toBe('1');
      });

      it('should answer an RTM {token} for the uid when tokenType is rtm', async () => {
        const m = await mark();
        const res = await post(path(), w.a.adminKey, {
          tokenType: 'rtm',
          uid: 'erin',
          expire: 300,
        });
        expect(res.status).toBe(200);
        expectNoCache(res);
        const { decoded, userId } = rtmOf(String(res.body.token));
        expect(userId).toBe('erin');
        expect(decoded.expire).toBe(300);
        expectAudited(await changes(m), 'agora.getToken', { rtm: 1 });
      });

      it.each([
        [
          'tokenType is video',
          { tokenType: 'video', uid: '1' },
          'Unsupported tokenType (use rtc, rtm or chat)',
        ],
        [
          'tokenType is missing',
          { channel: 'c', uid: '1' },
          'Unsupported tokenType (use rtc, rtm or chat)',
        ],
        ['the body is empty', {}, 'Unsupported tokenType (use rtc, rtm or chat)'],
        ['an rtc request has no channel', { tokenType: 'rtc', uid: '1' }, 'missing channel name'],
        [
          'an rtc request has an empty channel',
          { tokenType: 'rtc', channel: '', uid: '1' },
          'missing channel name',
        ],
        [
          'an rtc request has no uid',
          { tokenType: 'rtc', channel: 'c' },
          'missing user ID or account',
        ],
        ['an rtm request has no uid', { tokenType: 'rtm' }, 'missing user ID or account'],
        [
          'the role is audience',
          { tokenType: 'rtc', channel: 'c', uid: '1', role: 'audience' },
          AGORA_ROLE_ERROR,
        ],
        [
          'expire is 86401',
          { tokenType: 'rtc', channel: 'c', uid: '1', expire: 86401 },
          AGORA_EXPIRY_ERROR,
        ],
        [
          'expire is -1',
          { tokenType: 'rtc', channel: 'c', uid: '1', expire: -1 },
          AGORA_EXPIRY_ERROR,
        ],
        ['uid is a boolean', { tokenType: 'rtc', channel: 'c', uid: true }, 'uid must be a string'],
        [
          'a numeric uid is above 4294967295',
          { tokenType: 'rtc', channel: 'c', uid: '4294967296' },
          AGORA_UID_ERROR,
        ],
      ])(
        'should answer 400 {error,status} with no-cache headers and record nothing when %s',
        async (_name, body, error) => {
          const m = await mark();
          const res = await post(path(), w.a.adminKey, body);
          expect(res.status).toBe(400);
          expectNoCache(res);
          expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
          expect(res.body).toEqual({ error, status: 400 });
          expectRefused(await changes(m), 'agora.getToken', 400, 'BAD_USER_INPUT');
        },
      );
    });
  });

  // =============================================================================================
  // Fishjam room manager
  // =============================================================================================

  describe('Fishjam room manager', () => {
    const base = () => `/t/${slugA()}/fishjam/room-manager`;
    const byQuery = (q: Record<string, string>) => `${base()}?${new URLSearchParams(q).toString()}`;
    const roomCreates = () => vendorCalls('FISHJAM', 'POST', /\/room$/);
    const peerCreates = () => vendorCalls('FISHJAM', 'POST', /\/room\/[^/]+\/peer$/);

    function expectAccess(body: Record<string, unknown>, roomName: string, peerName: string) {
      expect(Object.keys(body)).toEqual(['peerToken', 'url', 'room', 'peer']);
      const room = body.room as { id: string; name: string };
      const peer = body.peer as { id: string; name: string };
      expect(room.name).toBe(roomName);
      expect(peer.name).toBe(peerName);
      expect(String(body.url)).toMatch(/^wss?:\/\/127\.0\.0\.1:\d+/);
      const admitted = w.fj.peerByToken(String(body.peerToken));
      expect(admitted?.roomId).toBe(room.id);
      expect(admitted?.peer.id).toBe(peer.id);
      return { room, peer };
    }

    it.each(CALLERS)(
      'should answer {peerToken,url,room,peer} for a peer the emulator admits when %s asks by query string',
      async (_name, auth, method) => {
        const roomName = `fj-${uniq()}`;
        const m = await mark();
        const res = await get(byQuery({ roomName, peerName: 'alice' }), await auth());
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        const { room } = expectAccess(res.body as Record<string, unknown>, roomName, 'alice');
        expect(roomCreates()).toHaveLength(1);
        expect(w.fj.rooms().find((r) => r.id === room.id)?.config.roomType).toBe('conference');
        const c = await changes(m);
        expectAudited(c, 'fishjam.room-manager', { sessions: 1, connections: 1 }, method);
        expect(c.sessions[0]).toMatchObject({
          provider: 'FISHJAM',
          external_id: room.id,
          custom_id: roomName,
          credential_id: w.a.creds.FISHJAM,
        });
        expect(c.connections[0]).toMatchObject({ identity: 'alice', role: 'PUBLISHER' });
      },
    );

    it('should answer the same room and create it at Fishjam once when a second peer joins the same room', async () => {
      const roomName = `fj-two-${uniq()}`;
      const m = await mark();
      const a = await get(byQuery({ roomName, peerName: 'alice' }), w.a.adminKey);
      const b = await get(byQuery({ roomName, peerName: 'bob' }), await bearer('member'));
      expect([a.status, b.status]).toEqual([200, 200]);
      const ra = expectAccess(a.body as Record<string, unknown>, roomName, 'alice');
      const rb = expectAccess(b.body as Record<string, unknown>, roomName, 'bob');
      expect(rb.room.id).toBe(ra.room.id);
      expect(rb.peer.id).not.toBe(ra.peer.id);
      expect(roomCreates()).toHaveLength(1);
      expect(peerCreates()).toHaveLength(2);
      expect(w.fj.rooms().find((r) => r.id === ra.room.id)?.peers).toHaveLength(2);
      const c = await changes(m);
      expect(c.sessions).toHaveLength(1);
      expect(c.connections).toHaveLength(2);
      expect(actions(c.events, 'session.created')).toHaveLength(1);
      expect(actions(c.events, 'connection.created')).toHaveLength(2);
    });

    it('should create the room at Fishjam once when three first peers of a room arrive at once', async () => {
      const roomName = `fj-race-${uniq()}`;
      const m = await mark();
      const all = await Promise.all(
        ['p1', 'p2', 'p3'].map((peerName) => get(byQuery({ roomName, peerName }), w.a.adminKey)),
      );
      expect(all.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(new Set(all.map((r) => (r.body.room as { id: string }).id)).size).toBe(1);
      expect(roomCreates()).toHaveLength(1);
      expect(peerCreates()).toHaveLength(3);
      const c = await changes(m);
      expect(c.sessions).toHaveLength(1);
      expect(c.connections).toHaveLength(3);
    });

    it('should answer the same shape when the path variant /:roomName/users/:peerName is used', async () => {
      const roomName = `fj-path-${uniq()}`;
      const m = await mark();
      const res = await get(`${base()}/${roomName}/users/carol`, w.a.adminKey);
      expect(res.status).toBe(200);
      expectAccess(res.body as Record<string, unknown>, roomName, 'carol');
      expectAudited(await changes(m), 'fishjam.room-manager', { sessions: 1, connections: 1 });
    });

    it('should create the room with the roomType asked when roomType is audio_only', async () => {
      const roomName = `fj-audio-${uniq()}`;
      const res = await get(
        byQuery({ roomName, peerName: 'dan', roomType: 'audio_only' }),
        w.a.adminKey,
      );
      expect(res.status).toBe(200);
      const room = res.body.room as { id: string };
      expect(w.fj.rooms().find((r) => r.id === room.id)?.config.roomType).toBe('audio_only');
    });

    it.each([
      ['roomName is missing', { peerName: 'p' }, 'roomName'],
      ['peerName is missing', { roomName: 'r' }, 'peerName'],
      ['both are missing', {}, 'roomName'],
      ['roomName is empty', { roomName: '', peerName: 'p' }, 'roomName'],
    ])(
      "should answer 400 in Fastify's validation shape and call Fishjam zero times when %s",
      async (_name, q, missing) => {
        const m = await mark();
        const res = await get(byQuery(q), w.a.adminKey);
        expect(res.status).toBe(400);
        expect(res.text).toBe(
          JSON.stringify({
            statusCode: 400,
            code: 'FST_ERR_VALIDATION',
            error: 'Bad Request',
            message: `querystring must have required property '${missing}'`,
          }),
        );
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'fishjam.room-manager', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([
      ['contains a slash', 'a/b'],
      ['contains a #', 'p#1'],
      ['contains a zero-width space', 'a\u200bb'],
    ])(
      'should answer 400 {error}, call Fishjam zero times and record nothing when peerName %s',
      async (_name, peerName) => {
        const m = await mark();
        const res = await get(byQuery({ roomName: `fj-bad-${uniq()}`, peerName }), w.a.adminKey);
        expect(res.status).toBe(400);
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(res.body).toEqual({ error: expect.any(String) });
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'fishjam.room-manager', 400, 'BAD_USER_INPUT');
      },
    );

    it.each([['full_feature'], ['broadcaster'], ['Conference']])(
      "should answer 400 in Fastify's validation shape and call Fishjam zero times when roomType is %s",
      async (roomType) => {
        const m = await mark();
        const res = await get(byQuery({ roomName: 'r', peerName: 'p', roomType }), w.a.adminKey);
        expect(res.status).toBe(400);
        expect(res.body).toEqual({
          statusCode: 400,
          code: 'FST_ERR_VALIDATION',
          error: 'Bad Request',
          message: expect.stringMatching(
            /^querystring\/roomType must be equal to one of the allowed values/,
          ),
        });
        expect(res.text).not.toContain(roomType);
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'fishjam.room-manager', 400, 'BAD_USER_INPUT');
      },
    );

    it('should answer {error} with status 503 and leave no row when Fishjam is down', async () => {
      w.fj.faults.set({ status: 503 });
      const m = await mark();
      const res = await get(
        byQuery({ roomName: `fj-down-${uniq()}`, peerName: 'p' }),
        w.a.adminKey,
      );
      expect(res.status).toBe(503);
      expect(res.headers['x-roomkey-error-code']).toBe('PROVIDER_UNAVAILABLE');
      expect(res.body).toEqual({ error: expect.any(String) });
      expect(res.text).not.toContain(w.fj.url);
      expectRefused(await changes(m), 'fishjam.room-manager', 503, 'PROVIDER_UNAVAILABLE');
      w.fj.faults.clear();
    });
  });

  // =============================================================================================
  // Every route: callers, tenancy, credential selection
  // =============================================================================================

  describe('every browser-facing route', () => {
    /** Sessions addressed by id (OpenVidu session, Pexip meeting), one per tenant. */
    const fixtures: Record<string, { ov: string; px: string }> = {};

    interface RouteCase {
      route: string;
      method: Method;
      path: (slug: string) => string;
      body?: Record<string, unknown>;
      /** The domain rows (and RTM tokens) one successful call adds. */
      adds: { sessions: number; connections: number; rtm?: number };
      /** The answer to `?credential=not-a-uuid`. */
      badCredential: { status: number; text?: string; json?: unknown };
    }

    const UUID_MESSAGE = 'credential must be a credential id (UUID)';

    /**
     * A refusal before the handler (401, 403) in the route's vendor shape (README "Refusals"):
     * the typed code in X-Roomkey-Error-Code on every one; Fishjam `{error: "<text>"}`, LiveKit
     * `{errorMessage}`, Pexip text, Agora Roomkey's `{error}` with the token service's no-cache
     * headers, OpenVidu Roomkey's `{error}`.
     */
    function expectRefusal(r: RouteCase, res: Response, code: string): void {
      expect(res.headers['x-roomkey-error-code']).toBe(code);
      const vendor = r.route.split('.')[0];
      if (vendor === 'fishjam') expect(res.body).toEqual({ error: expect.any(String) });
      else if (vendor === 'livekit') expect(res.body).toEqual({ errorMessage: expect.any(String) });
      else if (vendor === 'pexip') {
        expect(res.headers['content-type']).toMatch(/^text\/plain/);
        expect(res.text.length).toBeGreaterThan(0);
        expect(() => JSON.parse(res.text) as unknown).toThrow();
      } else expect(res.body.error).toMatchObject({ code });
      if (vendor === 'agora') expect(res.headers).toMatchObject(NO_CACHE);
      else expect(res.headers['cache-control']).not.toBe(NO_CACHE['cache-control']);
    }

    const ROUTES: RouteCase[] = [
      {
        route: 'openvidu.sessions',
        method: 'POST',
        path: (s) => `/t/${s}/openvidu/api/sessions`,
        body: {},
        adds: { sessions: 1, connections: 0 },
        badCredential: {
          status: 400,
          json: { error: { code: 'BAD_USER_INPUT', field: 'credential', message: UUID_MESSAGE } },
        },
      },
      {
        route: 'openvidu.connections',
        method: 'POST',
        path: (s) => `/t/${s}/openvidu/api/sessions/${fixtures[s]?.ov ?? ':sessionId'}/connections`,
        body: {},
        adds: { sessions: 0, connections: 1 },
        badCredential: {
          status: 400,
          json: { error: { code: 'BAD_USER_INPUT', field: 'credential', message: UUID_MESSAGE } },
        },
      },
      {
        route: 'livekit.token',
        method: 'POST',
        path: (s) => `/t/${s}/livekit/token`,
        body: { roomName: `every-${uniq()}`, participantName: 'p' },
        adds: { sessions: 0, connections: 1 },
        badCredential: { status: 400, json: { errorMessage: UUID_MESSAGE } },
      },
      {
        route: 'pexip.api-address',
        method: 'GET',
        path: (s) => `/t/${s}/pexip/api-address`,
        adds: { sessions: 0, connections: 0 },
        badCredential: { status: 400, text: UUID_MESSAGE },
      },
      {
        route: 'pexip.meetings',
        method: 'POST',
        path: (s) => `/t/${s}/pexip/meetings`,
        adds: { sessions: 1, connections: 0 },
        badCredential: { status: 500, text: 'Cannot create the meeting' },
      },
      {
        route: 'pexip.participants',
        method: 'POST',
        path: (s) => `/t/${s}/pexip/meetings/${fixtures[s]?.px ?? ':meetingId'}/participants`,
        adds: { sessions: 0, connections: 1 },
        badCredential: { status: 500, text: 'Cannot get participants from the meeting' },
      },
      {
        route: 'agora.rtc',
        method: 'GET',
        path: (s) => `/t/${s}/agora/rtc/every-ch/publisher/uid/5/`,
        adds: { sessions: 0, connections: 1 },
        badCredential: {
          status: 400,
          json: { message: `Error Generating RTC token: ${UUID_MESSAGE}`, status: 400 },
        },
      },
      {
        route: 'agora.rtm',
        method: 'GET',
        path: (s) => `/t/${s}/agora/rtm/every-user/`,
        adds: { sessions: 0, connections: 0, rtm: 1 },
        badCredential: {
          status: 400,
          json: { message: `Error Generating RTM token: ${UUID_MESSAGE}`, status: 400 },
        },
      },
      {
        route: 'agora.rte',
        method: 'GET',
        path: (s) => `/t/${s}/agora/rte/every-ch/publisher/uid/5/`,
        adds: { sessions: 0, connections: 1, rtm: 1 },
        badCredential: {
          status: 400,
          json: { message: `Error Generating RTC and RTM token: ${UUID_MESSAGE}`, status: 400 },
        },
      },
      {
        route: 'agora.getToken',
        method: 'POST',
        path: (s) => `/t/${s}/agora/getToken`,
        body: { tokenType: 'rtc', channel: 'every-ch', uid: '5' },
        adds: { sessions: 0, connections: 1 },
        badCredential: { status: 400, json: { error: UUID_MESSAGE, status: 400 } },
      },
      {
        route: 'fishjam.room-manager',
        method: 'GET',
        path: (s) => `/t/${s}/fishjam/room-manager?roomName=every-room&peerName=p`,
        adds: { sessions: 0, connections: 1 },
        badCredential: { status: 400, json: { error: UUID_MESSAGE } },
      },
      {
        route: 'fishjam.room-manager',
        method: 'GET',
        path: (s) => `/t/${s}/fishjam/room-manager/every-room/users/q`,
        adds: { sessions: 0, connections: 1 },
        badCredential: { status: 400, json: { error: UUID_MESSAGE } },
      },
    ];
    const ALL = ROUTES.map((r): [string, RouteCase] => [`${r.method} ${r.path(':slug')}`, r]);
    const withQuery = (path: string, q: string) => `${path}${path.includes('?') ? '&' : '?'}${q}`;

    beforeAll(async () => {
      // A session per tenant for the routes that address one; shared rooms and channels are
      // created once here, so each case below adds only what the route itself adds.
      for (const t of [w.a, w.b]) {
        const ov = await graphqlSession(t, {
          provider: 'OPENVIDU',
          customSessionId: `every-${uniq()}`,
        });
        const px = await graphqlSession(t, { provider: 'PEXIP' });
        fixtures[t.tenant.slug] = { ov: ov.externalId, px: px.externalId };
        for (const r of ROUTES) {
          const res = await call(r.method, r.path(t.tenant.slug), {
            auth: t.adminKey,
            body: r.body,
          });
          expect(res.status).toBe(200);
        }
      }
    });

    describe.each(CALLERS)('called with %s', (_callerName, auth, method) => {
      it.each(ALL)(
        'should answer 200, write no compat.called and exactly one event per issued credential (with route, via and auth method) when %s is called',
        async (_name, r) => {
          const m = await mark();
          const res = await call(r.method, r.path(slugA()), { auth: await auth(), body: r.body });
          expect(res.status).toBe(200);
          const c = await changes(m);
          expectAudited(c, r.route, r.adds, method);
          expect(c.eventsB).toEqual([]);
        },
      );

      it.each(ALL)(
        "should answer 403 and record nothing in either tenant when %s is called on another tenant's slug",
        async (_name, r) => {
          const m = await mark();
          const res = await call(r.method, r.path(slugB()), { auth: await auth(), body: r.body });
          expect(res.status).toBe(403);
          expectRefusal(r, res, 'FORBIDDEN');
          expect(w.totalCalls()).toBe(0);
          const c = await changes(m);
          expect(c.sessions).toEqual([]);
          expect(c.connections).toEqual([]);
          expect(c.eventsB).toEqual([]);
          expect(actions(c.events, 'compat.called')).toEqual([]);
          expect(actions(c.events, 'session.created')).toEqual([]);
          expect(actions(c.events, 'connection.created')).toEqual([]);
          const denied = actions(c.events, 'authz.denied');
          expect(denied).toHaveLength(1);
          expect(denied[0]).toMatchObject({
            outcome: 'DENIED',
            error_code: 'FORBIDDEN',
            metadata: { reason: 'tenant_slug_mismatch' },
          });
        },
      );
    });

    it('should carry the X-Roomkey-Error-Code header when a route refuses the caller before its handler runs (401, 403)', async () => {
      // README: "Failures carry an X-Roomkey-Error-Code header with the typed code."
      const seen: string[] = [];
      for (const r of ROUTES) {
        const denied = await call(r.method, r.path(slugB()), { auth: w.a.adminKey, body: r.body });
        const anonymous = await call(r.method, r.path(slugA()), { body: r.body });
        seen.push(
          `${r.route} ${denied.status} ${String(denied.headers['x-roomkey-error-code'])}`,
          `${r.route} ${anonymous.status} ${String(anonymous.headers['x-roomkey-error-code'])}`,
        );
      }
      expect(seen).toEqual(
        ROUTES.flatMap((r) => [`${r.route} 403 FORBIDDEN`, `${r.route} 401 UNAUTHENTICATED`]),
      );
    });

    it.each([
      ['agora', 'GET', 'agora/rtc/ch/publisher', { error: { code: 'NOT_FOUND' } }],
      ['fishjam', 'GET', 'fishjam/no-such-route', { error: expect.any(String) }],
      ['livekit', 'POST', 'livekit/no-such-route', { errorMessage: expect.any(String) }],
      ['openvidu', 'POST', 'openvidu/api/no-such-route', { error: { code: 'NOT_FOUND' } }],
    ])(
      "should answer an unknown %s path 404 in the vendor's shape",
      async (vendor, method, rest, body) => {
        const res = await call(method as Method, `/t/${slugA()}/${rest}`, {
          auth: w.a.adminKey,
        });
        expect(res.status).toBe(404);
        expect(res.headers['x-roomkey-error-code']).toBe('NOT_FOUND');
        expect(res.body).toMatchObject(body);
        if (vendor === 'agora') expect(res.headers).toMatchObject(NO_CACHE);
      },
    );

    it('should answer a LiveKit body over the size limit 413 {errorMessage} and record nothing', async () => {
      const m = await mark();
      const res = await post(`/t/${slugA()}/livekit/token`, w.a.adminKey, {
        roomName: 'r',
        participantName: 'p'.repeat(2 * 1024 * 1024),
      });
      expect(res.status).toBe(413);
      expect(res.body).toEqual({ errorMessage: expect.any(String) });
      expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
      expect(w.totalCalls()).toBe(0);
      const c = await changes(m);
      expect(c.sessions).toEqual([]);
      expect(c.connections).toEqual([]);
    });

    it('should answer a refusal in the vendor shape whatever the letter case of the vendor segment, as Express routes it', async () => {
      const res = await call('POST', `/t/${slugA()}/LiveKit/token`, {
        body: { roomName: 'r', participantName: 'p' },
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ errorMessage: expect.any(String) });
    });

    it('should answer an unknown Pexip path 404 as text, which the tutorial client cannot take for a meeting', async () => {
      const res = await call('POST', `/t/${slugA()}/pexip/no-such-route`, { auth: w.a.adminKey });
      expect(res.status).toBe(404);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      expect(res.text).toMatch(/\S/);
      expect(() => JSON.parse(res.text) as unknown).toThrow();
    });

    it("should answer 403 on every route and record nothing in tenant A when tenant B's Bearer token calls tenant A's slug", async () => {
      const auth = await bearer('adminB');
      const m = await mark();
      const statuses: string[] = [];
      for (const r of ROUTES) {
        const res = await call(r.method, r.path(slugA()), { auth, body: r.body });
        statuses.push(`${r.route} ${res.status}`);
      }
      expect(statuses).toEqual(ROUTES.map((r) => `${r.route} 403`));
      expect(w.totalCalls()).toBe(0);
      const c = await changes(m);
      expect(c.sessions).toEqual([]);
      expect(c.connections).toEqual([]);
      // A minute boundary may flush tenant A's summary of earlier sign-ins: not these requests'.
      expect(c.events.filter((e) => e.action !== 'auth.succeeded.summary')).toEqual([]);
      expect(actions(c.eventsB, 'authz.denied')).toHaveLength(ROUTES.length);
      expect(actions(c.eventsB, 'compat.called')).toEqual([]);
    });

    it.each(ALL)(
      'should answer 401 and record nothing when %s is called without Authorization',
      async (_name, r) => {
        const m = await mark();
        const res = await call(r.method, r.path(slugA()), { body: r.body });
        expect(res.status).toBe(401);
        expectRefusal(r, res, 'UNAUTHENTICATED');
        expect(w.totalCalls()).toBe(0);
        const c = await changes(m);
        expect(c.sessions).toEqual([]);
        expect(c.connections).toEqual([]);
        expect(actions(c.events, 'compat.called')).toEqual([]);
        expect(c.eventsB).toEqual([]);
      },
    );

    it.each(ALL)(
      'should answer 401 when %s is called with a wrong API key secret',
      async (_name, r) => {
        const [user] = Buffer.from(w.a.adminKey.slice(6), 'base64').toString('utf8').split(':');
        const wrong = `Basic ${Buffer.from(`${user}:not-the-secret`).toString('base64')}`;
        const m = await mark();
        const res = await call(r.method, r.path(slugA()), { auth: wrong, body: r.body });
        expect(res.status).toBe(401);
        expectRefusal(r, res, 'UNAUTHENTICATED');
        expect(w.totalCalls()).toBe(0);
        const c = await changes(m);
        expect(c.sessions).toEqual([]);
        expect(c.connections).toEqual([]);
        expect(actions(c.events, 'compat.called')).toEqual([]);
      },
    );

    it.each(ALL)(
      "should answer the route's own 400-class error and record nothing when %s is called with ?credential=not-a-uuid",
      async (_name, r) => {
        const m = await mark();
        const res = await call(r.method, withQuery(r.path(slugA()), 'credential=not-a-uuid'), {
          auth: w.a.adminKey,
          body: r.body,
        });
        expect(res.status).toBe(r.badCredential.status);
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        if (r.badCredential.text !== undefined) expect(res.text).toBe(r.badCredential.text);
        else expect(res.body).toEqual(r.badCredential.json);
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), r.route, r.badCredential.status, 'BAD_USER_INPUT');
      },
    );

    describe('with a second credential of each vendor', () => {
      const second = {} as Record<Kind, string>;
      const AGORA2 = { appId: 'ab'.repeat(16), appCertificate: 'cd'.repeat(16) };
      const PEXIP2_CLIENT = `client2-${uniq()}`;

      beforeAll(async () => {
        const inputs = credentialInputs(w);
        inputs.AGORA = { agora: AGORA2 };
        inputs.PEXIP = {
          pexip: {
            apiAddress: w.px.url,
            clientId: PEXIP2_CLIENT,
            privateKeyPem: w.secrets.pexipPrivateKey,
          },
        };
        w.px.registerClient(PEXIP2_CLIENT, w.secrets.pexipPublicKey);
        for (const kind of ['OPENVIDU', 'LIVEKIT', 'PEXIP', 'AGORA', 'FISHJAM'] as Kind[]) {
          const data = await ok(
            w.t.gql<{ createProviderCredential: { id: string } }>(
              'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }',
              {
                input: { name: `${kind.toLowerCase()}-second`, isDefault: false, ...inputs[kind] },
              },
              { auth: w.a.admin.auth },
            ),
          );
          second[kind] = data.createProviderCredential.id;
        }
      });

      it('should create the OpenVidu session under the chosen credential and find it only through that credential when ?credential= is given', async () => {
        const id = `ov-second-${uniq()}`;
        const base = `/t/${slugA()}/openvidu/api/sessions`;
        const res = await post(`${base}?credential=${second.OPENVIDU}`, w.a.adminKey, {
          customSessionId: id,
        });
        expect([res.status, res.text]).toEqual([200, id]);
        const rows = await sessionByExternalId(w.a.tenant.id, id);
        expect(rows.map((s) => s.credential_id)).toEqual([second.OPENVIDU]);
        // Without ?credential= the tenant's default credential is used: no such session there.
        const viaDefault = await post(`${base}/${id}/connections`, w.a.adminKey, {});
        expect(viaDefault.status).toBe(404);
        const viaSecond = await post(
          `${base}/${id}/connections?credential=${second.OPENVIDU}`,
          await bearer('admin'),
          {},
        );
        expect(viaSecond.status).toBe(200);
        expect(w.ov.connectWithToken(viaSecond.text).sessionId).toBe(id);
      });

      it('should record the LiveKit room under the chosen credential when ?credential= is given', async () => {
        const roomName = `lk-second-${uniq()}`;
        const res = await post(
          `/t/${slugA()}/livekit/token?credential=${second.LIVEKIT}`,
          w.a.adminKey,
          {
            roomName,
            participantName: 'p',
          },
        );
        expect(res.status).toBe(200);
        expect(w.lk.verify(String(res.body.token)).video?.room).toBe(roomName);
        const rows = await sessionByExternalId(w.a.tenant.id, roomName);
        expect(rows.map((s) => s.credential_id)).toEqual([second.LIVEKIT]);
      });

      it("should create the Pexip meeting with the chosen credential's client when ?credential= is given", async () => {
        const res = await post(
          `/t/${slugA()}/pexip/meetings?credential=${second.PEXIP}`,
          w.a.adminKey,
        );
        expect(res.status).toBe(200);
        const meetingId = String(res.body.id);
        expect(w.px.meetings().find((x) => x.id === meetingId)?.clientId).toBe(PEXIP2_CLIENT);
        const rows = await sessionByExternalId(w.a.tenant.id, meetingId);
        expect(rows.map((s) => s.credential_id)).toEqual([second.PEXIP]);
        const viaDefault = await post(
          `/t/${slugA()}/pexip/meetings/${meetingId}/participants`,
          w.a.adminKey,
        );
        expect([viaDefault.status, viaDefault.text]).toEqual([
          500,
          'Cannot get participants from the meeting',
        ]);
        const viaSecond = await post(
          `/t/${slugA()}/pexip/meetings/${meetingId}/participants?credential=${second.PEXIP}`,
          w.a.adminKey,
        );
        expect(viaSecond.status).toBe(200);
        expect(w.px.participant(meetingId, String(viaSecond.body.id))).toBeDefined();
        const address = await get(
          `/t/${slugA()}/pexip/api-address?credential=${second.PEXIP}`,
          w.a.adminKey,
        );
        expect([address.status, address.text]).toEqual([200, w.px.url]);
      });

      it.each([
        ['rtc', (s: string) => `/t/${s}/agora/rtc/second-ch/publisher/uid/5/`, 'rtcToken'],
        ['rte', (s: string) => `/t/${s}/agora/rte/second-ch-e/publisher/uid/5/`, 'rtcToken'],
      ])(
        "should sign the Agora %s token with the chosen credential's app id and certificate when ?credential= is given",
        async (_name, path, field) => {
          const res = await get(`${path(slugA())}?credential=${second.AGORA}`, w.a.adminKey);
          expect(res.status).toBe(200);
          const decoded = decodeAgoraToken(String(res.body[field]));
          expect(decoded.appId).toBe(AGORA2.appId);
          expect(verifyAgoraSignature(decoded, AGORA2.appCertificate)).toBe(true);
          expect(verifyAgoraSignature(decoded, w.secrets.agoraCertificate)).toBe(false);
        },
      );

      it("should sign Agora RTM and getToken tokens with the chosen credential's app id when ?credential= is given", async () => {
        const m = await mark();
        const rtm = await get(
          `/t/${slugA()}/agora/rtm/second-user/?credential=${second.AGORA}`,
          w.a.adminKey,
        );
        const gt = await post(
          `/t/${slugA()}/agora/getToken?credential=${second.AGORA}`,
          w.a.adminKey,
          {
            tokenType: 'rtc',
            channel: 'second-gt',
            uid: '3',
          },
        );
        expect([rtm.status, gt.status]).toEqual([200, 200]);
        for (const token of [String(rtm.body.rtmToken), String(gt.body.token)]) {
          const decoded = decodeAgoraToken(token);
          expect(decoded.appId).toBe(AGORA2.appId);
          expect(verifyAgoraSignature(decoded, AGORA2.appCertificate)).toBe(true);
        }
        const c = await changes(m);
        expect(actions(c.events, 'agora.rtm_token.issued')[0].target_id).toBe(second.AGORA);
        expect(c.sessions.map((s) => s.credential_id)).toEqual([second.AGORA]);
      });

      it('should record the Fishjam room under the chosen credential when ?credential= is given', async () => {
        const roomName = `fj-second-${uniq()}`;
        const res = await get(
          `/t/${slugA()}/fishjam/room-manager?roomName=${roomName}&peerName=p&credential=${second.FISHJAM}`,
          w.a.adminKey,
        );
        expect(res.status).toBe(200);
        const rows = await w.t.ds.query<SessionRow[]>(
          'SELECT credential_id FROM video_session WHERE tenant_id = $1 AND custom_id = $2',
          [w.a.tenant.id, roomName],
        );
        expect(rows.map((s) => s.credential_id)).toEqual([second.FISHJAM]);
        expect(w.fj.peerByToken(String(res.body.peerToken))?.roomId).toBe(res.body.room.id);
      });

      it.each([
        [
          'OpenVidu sessions',
          'OPENVIDU',
          'POST',
          (s: string) => `/t/${s}/openvidu/api/sessions?credential=`,
          { status: 404, text: '' },
        ],
        [
          'LiveKit token',
          'LIVEKIT',
          'POST',
          (s: string) => `/t/${s}/livekit/token?credential=`,
          { status: 404, json: { errorMessage: 'Provider credential not found' } },
        ],
        [
          'Agora rtc',
          'AGORA',
          'GET',
          (s: string) => `/t/${s}/agora/rtc/ch-x/publisher/uid/5/?credential=`,
          {
            status: 404,
            json: {
              error: 'Error Generating RTC token - Provider credential not found',
              status: 404,
            },
          },
        ],
        [
          'Fishjam room manager',
          'FISHJAM',
          'GET',
          (s: string) => `/t/${s}/fishjam/room-manager?roomName=r&peerName=p&credential=`,
          { status: 404, json: { error: 'Provider credential not found' } },
        ],
      ] as Array<
        [
          string,
          Kind,
          Method,
          (s: string) => string,
          { status: number; text?: string; json?: unknown },
        ]
      >)(
        "should answer 404 and record nothing when the %s route is given another tenant's credential id",
        async (_name, kind, meth, path, expected) => {
          const m = await mark();
          const res = await call(meth, `${path(slugA())}${w.b.creds[kind]}`, {
            auth: w.a.adminKey,
            body: meth === 'POST' ? { roomName: 'r', participantName: 'p' } : undefined,
          });
          expect(res.status).toBe(expected.status);
          if (expected.text !== undefined) expect(res.text).toBe(expected.text);
          else expect(res.body).toEqual(expected.json);
          expect(res.headers['x-roomkey-error-code']).toBe('NOT_FOUND');
          expect(w.totalCalls()).toBe(0);
          const c = await changes(m);
          expect(c.sessions).toEqual([]);
          expect(c.connections).toEqual([]);
          expect(c.eventsB).toEqual([]);
        },
      );

      it('should answer 400 and record nothing when ?credential= names a credential of another vendor', async () => {
        const m = await mark();
        const res = await post(
          `/t/${slugA()}/openvidu/api/sessions?credential=${w.a.creds.LIVEKIT}`,
          w.a.adminKey,
          {},
        );
        expect(res.status).toBe(400);
        expect(res.body.error).toMatchObject({ code: 'BAD_USER_INPUT' });
        expect(w.totalCalls()).toBe(0);
        expectRefused(await changes(m), 'openvidu.sessions', 400, 'BAD_USER_INPUT');
      });
    });
  });

  // =============================================================================================
  // CORS
  // =============================================================================================

  describe('CORS on the compatibility routes', () => {
    const preflight = (path: string, origin: string) =>
      w.t
        .http()
        .options(path)
        .set('origin', origin)
        .set('access-control-request-method', 'POST')
        .set('access-control-request-headers', 'authorization,content-type');
    const lkPath = () => `/t/${slugA()}/livekit/token`;
    const lkBody = () => ({ roomName: `cors-${uniq()}`, participantName: 'p' });
    const setCors = (origins: unknown[], auth = w.a.admin.auth) =>
      w.t.gql<{ setCompatCorsOrigins: { compatCorsOrigins: string[] } }>(
        SET_CORS,
        { origins },
        { auth },
      );

    afterAll(async () => {
      await ok(setCors([]));
    });

    it('should send no CORS headers on a call or a preflight when the tenant has set no origins', async () => {
      const res = await call('POST', lkPath(), {
        auth: w.a.adminKey,
        body: lkBody(),
        headers: { origin: ORIGIN },
      });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await preflight(lkPath(), ORIGIN);
      expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      expect(pre.headers['access-control-allow-headers']).toBeUndefined();
      expect(pre.headers['access-control-allow-methods']).toBeUndefined();
    });

    it.each([
      ['a MEMBER user', () => w.a.member.auth],
      ['a MEMBER API key', () => w.a.memberKey],
    ])(
      'should refuse setCompatCorsOrigins with FORBIDDEN and change nothing when %s calls it',
      async (_name, auth) => {
        const r = await setCors([ORIGIN], auth());
        expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
        const pre = await preflight(lkPath(), ORIGIN);
        expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      },
    );

    it.each([
      ['a wildcard', '*'],
      ['an origin with a path', 'https://x.com/path'],
      ['an ftp origin', 'ftp://x'],
      ['an origin with credentials', 'https://user:pw@x.com'],
      ['a wildcard subdomain', 'https://*.x.com'],
      ['not a URL', 'localhost:5173'],
    ])(
      'should refuse setCompatCorsOrigins with BAD_USER_INPUT and change nothing when the list holds %s',
      async (_name, origin) => {
        await ok(setCors([]));
        const r = await setCors([ORIGIN, origin]);
        expect(r.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
        const current = await ok(
          w.t.gql<{ tenant: { compatCorsOrigins: string[] } }>(
            '{ tenant { compatCorsOrigins } }',
            {},
            {
              auth: w.a.admin.auth,
            },
          ),
        );
        expect(current.tenant.compatCorsOrigins).toEqual([]);
      },
    );

    describe('after an admin allows http://localhost:5173', () => {
      beforeAll(async () => {
        const data = await ok(setCors([ORIGIN]));
        expect(data.setCompatCorsOrigins.compatCorsOrigins).toEqual([ORIGIN]);
      });

      it.each([
        ['OpenVidu sessions', (s: string) => `/t/${s}/openvidu/api/sessions`],
        ['LiveKit token', (s: string) => `/t/${s}/livekit/token`],
        ['Pexip meetings', (s: string) => `/t/${s}/pexip/meetings`],
        ['Agora getToken', (s: string) => `/t/${s}/agora/getToken`],
        ['Agora rtc', (s: string) => `/t/${s}/agora/rtc/c/publisher/uid/1/`],
        ['Fishjam room manager', (s: string) => `/t/${s}/fishjam/room-manager`],
      ])(
        'should answer the preflight 204 with that exact origin and Authorization allowed when the browser preflights the %s route without credentials',
        async (_name, path) => {
          const m = await mark();
          const pre = await preflight(path(slugA()), ORIGIN);
          expect(pre.status).toBe(204);
          expect(pre.headers['access-control-allow-origin']).toBe(ORIGIN);
          expect(String(pre.headers['access-control-allow-headers']).toLowerCase()).toContain(
            'authorization',
          );
          expect(String(pre.headers['access-control-allow-methods'])).toContain('POST');
          expect(String(pre.headers.vary)).toMatch(/Origin/i);
          expect(w.totalCalls()).toBe(0);
          const c = await changes(m);
          expect(c.sessions).toEqual([]);
          expect(actions(c.events, 'compat.called')).toEqual([]);
        },
      );

      it('should echo the origin and expose X-Roomkey-Error-Code when an actual call comes from that origin', async () => {
        const res = await call('POST', lkPath(), {
          auth: w.a.adminKey,
          body: lkBody(),
          headers: { origin: ORIGIN },
        });
        expect(res.status).toBe(200);
        expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
        expect(String(res.headers['access-control-expose-headers'])).toContain(
          'X-Roomkey-Error-Code',
        );
        const failed = await call('POST', lkPath(), {
          auth: w.a.adminKey,
          body: {},
          headers: { origin: ORIGIN },
        });
        expect(failed.status).toBe(400);
        expect(failed.headers['access-control-allow-origin']).toBe(ORIGIN);
        // The front end can read a 401 too (CORS is answered before authentication).
        const anonymous = await call('POST', lkPath(), {
          body: lkBody(),
          headers: { origin: ORIGIN },
        });
        expect(anonymous.status).toBe(401);
        expect(anonymous.headers['access-control-allow-origin']).toBe(ORIGIN);
      });

      it('should send no CORS headers when the call comes from another origin', async () => {
        const evil = 'http://evil.example';
        const pre = await preflight(lkPath(), evil);
        expect(pre.headers['access-control-allow-origin']).toBeUndefined();
        expect(pre.headers['access-control-allow-headers']).toBeUndefined();
        const res = await call('POST', lkPath(), {
          auth: w.a.adminKey,
          body: lkBody(),
          headers: { origin: evil },
        });
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        const lookalike = await preflight(lkPath(), `${ORIGIN}.evil.example`);
        expect(lookalike.headers['access-control-allow-origin']).toBeUndefined();
      });

      it("should send no CORS headers when that origin preflights another tenant's route", async () => {
        const pre = await preflight(`/t/${slugB()}/livekit/token`, ORIGIN);
        expect(pre.headers['access-control-allow-origin']).toBeUndefined();
      });

      it('should never send CORS headers when the allowed origin calls the Red5 and webhook routes', async () => {
        for (const path of [
          `/t/${slugA()}/red5/validateCredentials`,
          `/t/${slugA()}/red5/invalidateCredentials`,
          `/t/${slugA()}/webhooks/livekit/${w.a.creds.LIVEKIT}`,
          `/t/${slugA()}/webhooks/openvidu/${w.a.creds.OPENVIDU}`,
        ]) {
          const pre = await preflight(path, ORIGIN);
          expect(pre.headers['access-control-allow-origin']).toBeUndefined();
          const res = await w.t
            .http()
            .post(path)
            .set('origin', ORIGIN)
            .set('content-type', 'application/json')
            .send('{}');
          expect(res.headers['access-control-allow-origin']).toBeUndefined();
        }
      });

      it('should send no CORS headers again when the admin empties the list', async () => {
        await ok(setCors([]));
        const pre = await preflight(lkPath(), ORIGIN);
        expect(pre.headers['access-control-allow-origin']).toBeUndefined();
        await ok(setCors([ORIGIN]));
        expect((await preflight(lkPath(), ORIGIN)).headers['access-control-allow-origin']).toBe(
          ORIGIN,
        );
      });
    });
  });
});
