/**
 * Roomkey as a drop-in for Fishjam's room manager sample (fishjam-cloud/js-server-sdk
 * `examples/room-manager`, the backend of Fishjam's front-end examples and of the hosted Sandbox
 * API; docs/vendors.md#fishjam): the request sequences the front ends make (the
 * web-client-sdk sandbox helpers `getSandboxPeerToken`, `getSandboxLivestream`,
 * `getSandboxViewerToken`, and the older `broadcast-viewer-token` path), replayed over real HTTP
 * against the Fishjam emulator. Each minted token is admitted by the emulator (peer tokens by its
 * peer table, streamer and viewer tokens by its WHIP and WHEP endpoints) and recorded by exactly
 * one `connection.created` event; bad input for every parameter is refused before Fishjam is
 * called; refusals before the handler (401) keep the sample's `{error: "<text>"}`.
 */
import { uniq } from './helpers/assertions';
import { type AuditRow, auditSince } from './helpers/audit';
import { type VendorWorld, startVendorWorld } from './helpers/vendors';

interface ConnectionRow {
  session_id: string;
  role: string;
  external_id: string | null;
  expires_at: Date | null;
}

/** What one replayed sequence has learnt so far (room ids and tokens, by step name). */
type Seen = Record<string, Record<string, unknown>>;

/** One request a front end makes; each mints one token, audited under `route`. */
interface Step {
  name: string;
  /** The request the front end makes (path and query under the room manager's base URL). */
  path: (room: string) => string;
  route: string;
  /** Checks the 200 answer and that the emulator admits its token. */
  check: (body: Record<string, unknown>, seen: Seen, room: string) => Promise<void> | void;
}

interface Sequence {
  name: string;
  steps: Step[];
  /** Rooms Fishjam is asked to create over the whole sequence. */
  roomsCreated: number;
}

const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';

describe('Fishjam room manager drop-in: livestreams, refusals and audit', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const base = (slug = w.a.tenant.slug): string => `/t/${slug}/fishjam/room-manager`;

  /** The room manager URL as the web-client-sdk sandbox helpers build it (`new URL(...)`). */
  function sandboxUrl(rest: string, query: Record<string, string> = {}): string {
    const url = new URL(`http://room-manager.test${base()}${rest}`);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return `${url.pathname}${url.search}`;
  }

  const sandbox = {
    peerToken: (roomName: string, peerName: string, roomType = 'conference') =>
      sandboxUrl('', { roomName, peerName, roomType }),
    livestream: (roomName: string, isPublic = false) =>
      sandboxUrl('/livestream', { roomName, public: String(isPublic) }),
    viewerToken: (roomName: string) => sandboxUrl(`/${roomName}/livestream-viewer-token`),
    broadcastViewerToken: (roomName: string) => sandboxUrl(`/${roomName}/broadcast-viewer-token`),
  };

  /** A GET as the front end sends it, with this Authorization (`null`: none). */
  const get = (path: string, auth: string | null = w.a.adminKey) => {
    const req = w.t.http().get(path);
    return auth === null ? req : req.set('authorization', auth);
  };

  /** A WHIP or WHEP offer to the emulator, as a livestream client sends it. */
  function offer(url: string, token?: string, contentType = 'application/sdp', body = OFFER) {
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body,
    });
  }

  async function mark(): Promise<{ seq: number; connections: number }> {
    const [row] = await w.t.ds.query<Array<{ seq: number; connections: number }>>(
      `SELECT (SELECT coalesce(max(seq), 0) FROM audit_event WHERE tenant_id = $1)::int AS seq,
              (SELECT count(*) FROM session_connection)::int AS connections`,
      [w.a.tenant.id],
    );
    return row;
  }

  /** Events other than the per-request sign-in records. */
  const domainEvents = (events: AuditRow[]) =>
    events.filter((e) => !['auth.login.succeeded', 'auth.succeeded.summary'].includes(e.action));

  async function connectionsOf(sessionExternalId: string): Promise<ConnectionRow[]> {
    return w.t.ds.query<ConnectionRow[]>(
      `SELECT c.session_id, c.role, c.external_id, c.expires_at
         FROM session_connection c JOIN video_session s ON s.id = c.session_id
        WHERE s.external_id = $1 ORDER BY c.created_at`,
      [sessionExternalId],
    );
  }

  const fishjamCalls = (method: string, path: RegExp) =>
    w.fj.calls.filter((c) => c.method === method && path.test(c.path));

  // -------------------------------------------------------------------------------------------
  // The steps the front ends make, and what each answer must be
  // -------------------------------------------------------------------------------------------

  /** `getSandboxLivestream(roomName, isPublic)` → `{streamerToken, room}`; WHIP admits the token. */
  const streamer = (isPublic: boolean, name = 'streamer'): Step => ({
    name,
    path: (room) => sandbox.livestream(room, isPublic),
    route: 'fishjam.livestream',
    check: async (body, seen, room) => {
      expect(Object.keys(body)).toEqual(['streamerToken', 'room']);
      const r = body.room as { id: string; name: string };
      expect(r.name).toBe(room);
      const token = String(body.streamerToken);
      expect(w.fj.livestreamByToken(token)).toEqual({
        roomId: r.id,
        role: 'streamer',
        expiresAt: expect.any(Number),
      });
      expect(w.fj.rooms().find((x) => x.id === r.id)?.config).toMatchObject({
        roomType: 'livestream',
        public: isPublic,
      });
      const whip = await offer(w.fj.whipUrl, token);
      expect(whip.status).toBe(201);
      expect(whip.headers.get('content-type')).toBe('application/sdp');
      // A streamer token does not let a viewer in.
      expect((await offer(w.fj.whepUrl, token)).status).toBe(401);
      seen[name] = { roomId: r.id, token };
    },
  });

  /** `getSandboxViewerToken(roomName)` (or the older path) → `{token}`; WHEP admits the token. */
  const viewer = (path: (room: string) => string, name: string): Step => ({
    name,
    path,
    route: 'fishjam.livestream-viewer-token',
    check: async (body, seen) => {
      expect(Object.keys(body)).toEqual(['token']);
      const token = String(body.token);
      const roomId = Object.values(seen).find((s) => s.roomId)?.roomId;
      expect(w.fj.livestreamByToken(token)).toEqual({
        roomId,
        role: 'viewer',
        expiresAt: expect.any(Number),
      });
      const whep = await offer(w.fj.whepUrl, token);
      expect(whep.status).toBe(201);
      expect(whep.headers.get('location')).toEqual(expect.any(String));
      // A viewer token does not let anyone publish.
      expect((await offer(w.fj.whipUrl, token)).status).toBe(401);
      expect(Object.values(seen).map((s) => s.token)).not.toContain(token);
      seen[name] = { token };
    },
  });

  /** `getSandboxPeerToken(roomName, peerName, roomType)` → `{peerToken, url, room, peer}`. */
  const peer = (peerName: string, roomType: string): Step => ({
    name: `peer ${peerName}`,
    path: (room) => sandbox.peerToken(room, peerName, roomType),
    route: 'fishjam.room-manager',
    check: (body, seen, room) => {
      expect(Object.keys(body)).toEqual(['peerToken', 'url', 'room', 'peer']);
      const r = body.room as { id: string; name: string };
      expect(r.name).toBe(room);
      expect((body.peer as { name: string }).name).toBe(peerName);
      expect(w.fj.peerByToken(String(body.peerToken))?.roomId).toBe(r.id);
      expect(w.fj.rooms().find((x) => x.id === r.id)?.config.roomType).toBe(roomType);
      seen[`peer ${peerName}`] = { roomId: r.id, token: body.peerToken };
    },
  });

  const SEQUENCES: Sequence[] = [
    {
      name: 'a private livestream: the streamer, then two viewers (both viewer paths)',
      steps: [
        streamer(false),
        viewer(sandbox.viewerToken, 'viewer 1'),
        viewer(sandbox.broadcastViewerToken, 'viewer 2'),
      ],
      roomsCreated: 1,
    },
    {
      name: 'a public livestream: the streamer, then a viewer with a token all the same',
      steps: [streamer(true), viewer(sandbox.viewerToken, 'viewer')],
      roomsCreated: 1,
    },
    {
      name: 'the streamer asking twice: one room, two streamer tokens',
      steps: [streamer(false, 'first'), streamer(false, 'again'), viewer(sandbox.viewerToken, 'v')],
      roomsCreated: 1,
    },
    {
      name: 'a livestream room made by the peer route (roomType=livestream), then a viewer',
      steps: [peer('host', 'livestream'), viewer(sandbox.viewerToken, 'viewer')],
      roomsCreated: 1,
    },
  ];

  it.each(SEQUENCES.map((s) => [s.name, s] as const))(
    'should answer as the room manager, mint tokens the emulator admits and audit each once when replaying %s',
    async (_name, seq) => {
      const room = `Live ${uniq()} ü`; // a space and a non-ASCII letter, as people name rooms
      const seen: Seen = {};
      const m = await mark();
      for (const step of seq.steps) {
        const res = await get(step.path(room));
        expect({ step: step.name, status: res.status, body: res.body as unknown }).toMatchObject({
          step: step.name,
          status: 200,
        });
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        await step.check(res.body as Record<string, unknown>, seen, room);
      }
      expect(fishjamCalls('POST', /\/room$/)).toHaveLength(seq.roomsCreated);
      // One connection.created per token, in order, under the step's route; session.created per
      // room made; nothing else (no compat.called).
      const events = domainEvents(await auditSince(w.t, w.a.tenant.id, m.seq));
      const issued = events.filter((e) => e.action === 'connection.created');
      expect(issued.map((e) => e.metadata.route)).toEqual(seq.steps.map((st) => st.route));
      for (const e of issued) {
        expect(e).toMatchObject({ outcome: 'SUCCESS', metadata: { via: 'compat.fishjam' } });
      }
      expect(events.filter((e) => e.action !== 'connection.created').map((e) => e.action)).toEqual(
        Array<string>(seq.roomsCreated).fill('session.created'),
      );
      const rows = await connectionsOf(String(Object.values(seen)[0].roomId));
      expect(rows).toHaveLength(seq.steps.length);
    },
  );

  it('should record a viewer token as a SUBSCRIBER connection and a streamer token as a PUBLISHER one, with no vendor id to revoke', async () => {
    const room = `roles-${uniq()}`;
    const s = await get(sandbox.livestream(room));
    const v = await get(sandbox.viewerToken(room));
    expect([s.status, v.status]).toEqual([200, 200]);
    const rows = await connectionsOf((s.body as { room: { id: string } }).room.id);
    expect(rows.map((r) => [r.role, r.external_id, r.expires_at])).toEqual([
      ['PUBLISHER', null, null],
      ['SUBSCRIBER', null, null],
    ]);
    const events = domainEvents(await auditSince(w.t, w.a.tenant.id, 0)).filter(
      (e) => e.action === 'connection.created' && e.metadata.sessionId === rows[0].session_id,
    );
    expect(events.map((e) => [e.metadata.role, e.metadata.route])).toEqual([
      ['PUBLISHER', 'fishjam.livestream'],
      ['SUBSCRIBER', 'fishjam.livestream-viewer-token'],
    ]);
  });

  it('should let a viewer of a public livestream in without a token, and keep a private one closed', async () => {
    const open = await get(sandbox.livestream(`pub-${uniq()}`, true));
    const closed = await get(sandbox.livestream(`priv-${uniq()}`, false));
    const openId = (open.body as { room: { id: string } }).room.id;
    const closedId = (closed.body as { room: { id: string } }).room.id;
    expect((await offer(`${w.fj.whepUrl}/${openId}`)).status).toBe(201);
    expect((await offer(`${w.fj.whepUrl}/${closedId}`)).status).toBe(401);
  });

  it("should mint a viewer token when a MEMBER's API key asks, as the sample lets anyone", async () => {
    const room = `member-${uniq()}`;
    expect((await get(sandbox.livestream(room), w.a.memberKey)).status).toBe(200);
    const res = await get(sandbox.viewerToken(room), w.a.memberKey);
    expect(res.status).toBe(200);
    expect(w.fj.livestreamByToken(String(res.body.token))?.role).toBe('viewer');
  });

  // -------------------------------------------------------------------------------------------
  // Bad input for every parameter: refused before Fishjam is called, one compat.called, no row
  // -------------------------------------------------------------------------------------------

  const fastify = (message: string) => ({
    statusCode: 400,
    code: 'FST_ERR_VALIDATION',
    error: 'Bad Request',
    message,
  });
  const MISSING_ROOM = fastify("querystring must have required property 'roomName'");
  const NOT_BOOLEAN = fastify('querystring/public must be boolean');
  const UUID_MESSAGE = { error: 'credential must be a credential id (UUID)' };

  const BAD_INPUT: Array<[string, string, () => string, number, unknown, string]> = [
    [
      'livestream',
      'roomName is missing',
      () => `${base()}/livestream`,
      400,
      MISSING_ROOM,
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'roomName is empty',
      () => `${base()}/livestream?roomName=`,
      400,
      MISSING_ROOM,
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'roomName is sent twice',
      () => `${base()}/livestream?roomName=a&roomName=b`,
      400,
      MISSING_ROOM,
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'roomName has a zero-width space',
      () => `${base()}/livestream?roomName=a%E2%80%8Bb`,
      400,
      { error: 'roomName contains control or invisible characters' },
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'roomName is longer than 200 bytes',
      () => `${base()}/livestream?roomName=${'r'.repeat(201)}`,
      400,
      { error: 'roomName must be at most 200 bytes (UTF-8)' },
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'public is yes',
      () => `${base()}/livestream?roomName=r&public=yes`,
      400,
      NOT_BOOLEAN,
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'public is 1',
      () => `${base()}/livestream?roomName=r&public=1`,
      400,
      NOT_BOOLEAN,
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'public is empty',
      () => `${base()}/livestream?roomName=r&public=`,
      400,
      NOT_BOOLEAN,
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'credential is not a UUID',
      () => `${base()}/livestream?roomName=r&credential=nope`,
      400,
      UUID_MESSAGE,
      'BAD_USER_INPUT',
    ],
    [
      'livestream',
      'credential is unknown',
      () => `${base()}/livestream?roomName=r&credential=00000000-0000-4000-8000-000000000000`,
      404,
      { error: expect.any(String) },
      'NOT_FOUND',
    ],
    [
      'livestream-viewer-token',
      'roomName names no room',
      () => `${base()}/no-such-${uniq()}/livestream-viewer-token`,
      404,
      { error: 'Room not found' },
      'NOT_FOUND',
    ],
    [
      'livestream-viewer-token',
      'roomName has a zero-width space',
      () => `${base()}/a%E2%80%8Bb/livestream-viewer-token`,
      400,
      { error: 'roomName contains control or invisible characters' },
      'BAD_USER_INPUT',
    ],
    [
      'livestream-viewer-token',
      'roomName is longer than 200 bytes',
      () => `${base()}/${'r'.repeat(201)}/livestream-viewer-token`,
      400,
      { error: 'roomName must be at most 200 bytes (UTF-8)' },
      'BAD_USER_INPUT',
    ],
    [
      'livestream-viewer-token',
      'credential is not a UUID',
      () => `${base()}/r/livestream-viewer-token?credential=nope`,
      400,
      UUID_MESSAGE,
      'BAD_USER_INPUT',
    ],
    [
      'livestream-viewer-token',
      'roomName names no room (older path)',
      () => `${base()}/no-such-${uniq()}/broadcast-viewer-token`,
      404,
      { error: 'Room not found' },
      'NOT_FOUND',
    ],
    [
      'room-manager',
      'public is maybe',
      () => `${base()}?roomName=r&peerName=p&public=maybe`,
      400,
      NOT_BOOLEAN,
      'BAD_USER_INPUT',
    ],
    [
      'room-manager',
      'peerName starts with a space',
      () => `${base()}?roomName=r&peerName=%20p`,
      400,
      { error: 'peerName must not start or end with spaces' },
      'BAD_USER_INPUT',
    ],
  ];

  it.each(BAD_INPUT)(
    'should refuse /%s when %s, before calling Fishjam, with one compat.called and no row',
    async (route, _name, path, status, body, code) => {
      const m = await mark();
      const res = await get(path());
      expect(res.status).toBe(status);
      expect(res.body).toEqual(body);
      expect(res.headers['x-roomkey-error-code']).toBe(code);
      expect(w.fj.calls).toEqual([]);
      const events = domainEvents(await auditSince(w.t, w.a.tenant.id, m.seq));
      expect(events).toEqual([
        expect.objectContaining({
          action: 'compat.called',
          outcome: 'FAILURE',
          error_code: code,
          metadata: { route: `fishjam.${route}`, status },
        }),
      ]);
      expect((await mark()).connections).toBe(m.connections);
    },
  );

  it('should answer 404 {error} for a conference room of that name, and leave the room open', async () => {
    const room = `conf-${uniq()}`;
    const made = await get(sandbox.peerToken(room, 'alice'));
    expect(made.status).toBe(200);
    const roomId = (made.body as { room: { id: string } }).room.id;
    w.quiet();
    const m = await mark();

    const viewerRes = await get(sandbox.viewerToken(room));
    const streamerRes = await get(sandbox.livestream(room));

    for (const res of [viewerRes, streamerRes]) {
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error: 'The room is not a livestream room' });
    }
    expect(fishjamCalls('POST', /\/room$/)).toEqual([]);
    const [session] = await w.t.ds.query<Array<{ status: string }>>(
      'SELECT status FROM video_session WHERE external_id = $1',
      [roomId],
    );
    expect(session.status).toBe('ACTIVE');
    expect(w.fj.rooms().some((r) => r.id === roomId)).toBe(true);
    const events = domainEvents(await auditSince(w.t, w.a.tenant.id, m.seq));
    expect(events.map((e) => [e.action, e.error_code, e.metadata.route])).toEqual([
      ['compat.called', 'NOT_FOUND', 'fishjam.livestream-viewer-token'],
      ['compat.called', 'NOT_FOUND', 'fishjam.livestream'],
    ]);
    expect((await mark()).connections).toBe(m.connections);
  });

  it('should answer 404 {error} for a livestream Fishjam has since dropped, and make it again for the streamer', async () => {
    const room = `dropped-${uniq()}`;
    const first = await get(sandbox.livestream(room));
    const oldId = (first.body as { room: { id: string } }).room.id;
    const drop = await fetch(`${w.fj.fishjamUrl}/room/${oldId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${w.secrets.fishjamToken}` },
    });
    expect(drop.status).toBe(204);

    const gone = await get(sandbox.viewerToken(room));
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ error: 'Room not found' });

    const again = await get(sandbox.livestream(room));
    expect(again.status).toBe(200);
    const newId = (again.body as { room: { id: string } }).room.id;
    expect(newId).not.toBe(oldId);
    const viewerRes = await get(sandbox.viewerToken(room));
    expect(viewerRes.status).toBe(200);
    expect(w.fj.livestreamByToken(String(viewerRes.body.token))?.roomId).toBe(newId);
  });

  it("should not mint a viewer token for tenant A's livestream when tenant B asks by the same name", async () => {
    const room = `tenancy-${uniq()}`;
    expect((await get(sandbox.livestream(room))).status).toBe(200);
    w.quiet();
    const res = await get(`${base(w.b.tenant.slug)}/${room}/livestream-viewer-token`, w.b.adminKey);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: 'Room not found' });
    expect(w.fj.calls).toEqual([]);
  });

  // -------------------------------------------------------------------------------------------
  // 401: the sample's `{error: "<text>"}`, nothing called, nothing recorded for the tenant
  // -------------------------------------------------------------------------------------------

  const ROUTES: Array<[string, () => string]> = [
    ['/ (peer token)', () => sandbox.peerToken('r', 'p')],
    ['/livestream', () => sandbox.livestream('r')],
    ['/:roomName/livestream-viewer-token', () => sandbox.viewerToken('r')],
    ['/:roomName/broadcast-viewer-token', () => sandbox.broadcastViewerToken('r')],
    ['/:roomName/users/:peerName', () => `${base()}/r/users/p`],
  ];
  const CREDENTIALS: Array<[string, string | null]> = [
    ['no Authorization header', null],
    ['a wrong API key', `Basic ${Buffer.from('rk_nope:nope').toString('base64')}`],
    ['a Bearer token that is not a JWT', 'Bearer not-a-jwt'],
  ];

  it.each(
    ROUTES.flatMap(([route, path]) =>
      CREDENTIALS.map(([who, auth]) => [route, who, path, auth] as const),
    ),
  )(
    'should answer %s with 401 {error: "<text>"} when the caller sends %s',
    async (_route, _who, path, auth) => {
      const m = await mark();
      const res = await get(path(), auth);
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.body).toEqual({ error: expect.any(String) });
      expect(typeof res.body.error).toBe('string');
      expect(res.headers['x-roomkey-error-code']).toBe('UNAUTHENTICATED');
      expect(w.fj.calls).toEqual([]);
      expect(
        domainEvents(await auditSince(w.t, w.a.tenant.id, m.seq)).map((e) => e.action),
      ).not.toContain('connection.created');
      expect((await mark()).connections).toBe(m.connections);
    },
  );

  // -------------------------------------------------------------------------------------------
  // The emulator's livestream endpoints validate as Fishjam does
  // -------------------------------------------------------------------------------------------

  describe('Fishjam emulator: viewer and streamer tokens', () => {
    const management = (method: string, path: string, token = w.secrets.fishjamToken) =>
      fetch(`${w.fj.fishjamUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });

    async function room(config: Record<string, unknown>): Promise<string> {
      const res = await fetch(`${w.fj.fishjamUrl}/room`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${w.secrets.fishjamToken}`,
          'content-type': 'application/json',
        },
        body: JSON.stringify(config),
      });
      return ((await res.json()) as { data: { room: { id: string } } }).data.room.id;
    }

    it.each(['viewer', 'streamer'])(
      'should answer 201 {token} for a livestream room, 404 for a conference room or none, 401 without the management token (%s)',
      async (kind) => {
        const live = await room({ roomType: 'livestream' });
        const conference = await room({});
        const ok = await management('POST', `/room/${live}/${kind}`);
        expect(ok.status).toBe(201);
        const body = (await ok.json()) as { token: string };
        expect(Object.keys(body)).toEqual(['token']);
        expect(w.fj.livestreamByToken(body.token)?.role).toBe(kind);

        const other = await management('POST', `/room/${conference}/${kind}`);
        expect(other.status).toBe(404);
        expect(await other.json()).toEqual({ errors: expect.any(String) });
        expect((await management('POST', `/room/nope/${kind}`)).status).toBe(404);
        expect((await management('POST', `/room/${live}/${kind}`, 'wrong')).status).toBe(401);
      },
    );

    it('should refuse a WHEP offer that is not an application/sdp offer, and any offer once the room is gone', async () => {
      const live = await room({ roomType: 'livestream' });
      const { token } = (await (await management('POST', `/room/${live}/viewer`)).json()) as {
        token: string;
      };
      expect((await offer(w.fj.whepUrl, token, 'application/json')).status).toBe(415);
      expect((await offer(w.fj.whepUrl, token, 'application/sdp', 'hello')).status).toBe(400);
      expect((await offer(w.fj.whepUrl)).status).toBe(401);
      expect((await offer(w.fj.whepUrl, 'made-up')).status).toBe(401);
      expect((await offer(w.fj.whepUrl, token)).status).toBe(201);
      expect((await management('DELETE', `/room/${live}`)).status).toBe(204);
      expect((await offer(w.fj.whepUrl, token)).status).toBe(401);
      expect(w.fj.livestreamByToken(token)).toBeUndefined();
    });
  });

  describe('through GraphQL', () => {
    const CREATE_SESSION =
      'mutation ($input: CreateSessionInput!) { createSession(input: $input) { id externalId } }';
    const CREATE_CONNECTION =
      'mutation ($input: CreateConnectionInput!) { createConnection(input: $input) { id role credential { __typename ... on FishjamLivestreamCredential { token roomId livestream } ... on FishjamCredential { peerToken } } } }';

    async function session(roomType: string): Promise<{ id: string; externalId: string }> {
      const r = await w.t.gql<{ createSession: { id: string; externalId: string } }>(
        CREATE_SESSION,
        {
          input: {
            provider: 'FISHJAM',
            customSessionId: `gql-${roomType}-${uniq()}`,
            fishjam: { roomType },
          },
        },
        { auth: w.a.adminKey },
      );
      expect(r.body.errors).toBeUndefined();
      return r.body.data!.createSession;
    }

    it.each([
      ['SUBSCRIBER', 'viewer'],
      ['PUBLISHER', 'streamer'],
    ])(
      'should issue a %s a livestream %s token the emulator admits, as FishjamLivestreamCredential',
      async (role, kind) => {
        const s = await session('livestream');
        const r = await w.t.gql<{
          createConnection: {
            role: string;
            credential: { __typename: string; token: string; roomId: string; livestream: string };
          };
        }>(
          CREATE_CONNECTION,
          { input: { sessionId: s.id, role, fishjam: { livestream: true } } },
          { auth: w.a.memberKey },
        );
        expect(r.body.errors).toBeUndefined();
        const c = r.body.data!.createConnection;
        expect(c.role).toBe(role);
        expect(c.credential).toMatchObject({
          __typename: 'FishjamLivestreamCredential',
          roomId: s.externalId,
          livestream: kind,
        });
        expect(w.fj.livestreamByToken(c.credential.token)).toMatchObject({
          roomId: s.externalId,
          role: kind,
        });
      },
    );

    it('should refuse a livestream token in a conference room, and fishjam options on another vendor, creating nothing', async () => {
      const conference = await session('conference');
      const count = async () =>
        (
          await w.t.ds.query<Array<{ n: number }>>(
            'SELECT count(*)::int AS n FROM session_connection WHERE tenant_id = $1',
            [w.a.tenant.id],
          )
        )[0].n;
      const before = await count();
      const inConference = await w.t.gql(
        CREATE_CONNECTION,
        { input: { sessionId: conference.id, role: 'SUBSCRIBER', fishjam: { livestream: true } } },
        { auth: w.a.memberKey },
      );
      expect(inConference.body.errors?.[0].extensions?.code).toBe('CONFLICT');

      const agora = await w.t.gql<{ createSession: { id: string } }>(
        CREATE_SESSION,
        { input: { provider: 'AGORA', customSessionId: `gql-agora-${uniq()}` } },
        { auth: w.a.adminKey },
      );
      const onAgora = await w.t.gql(
        CREATE_CONNECTION,
        {
          input: { sessionId: agora.body.data!.createSession.id, fishjam: { livestream: true } },
        },
        { auth: w.a.memberKey },
      );
      expect(onAgora.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(await count()).toBe(before);
    });
  });
});
