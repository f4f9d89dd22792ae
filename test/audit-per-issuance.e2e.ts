/**
 * One audit event per issuance (README "Audit log", "Vendor-compatible routes"): every route that
 * mints a join credential — each compatibility mint route and GraphQL createConnection for each
 * vendor — writes exactly one event per credential it issued, carrying the actor, auth method,
 * via, route and outcome, and nothing else when the room already exists (no `compat.called` on
 * success). A failed or refused mint writes exactly one FAILURE/DENIED event and no connection row.
 * Events are matched to their request by request_id (the X-Request-Id header is honoured).
 *
 * Sign-in events are the authentication guard's business, not the mint's: they are left out,
 * whether per request (`auth.login.succeeded`) or summarised per minute (`auth.succeeded.summary`).
 */
import { randomBytes } from 'node:crypto';
import { MemberRole } from '../src/common/auth/roles';
import { seedApiKey } from './factories/tenancy';
import { uniq } from './helpers/assertions';
import { type AuditRow, auditRows } from './helpers/audit';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  KINDS,
  type Kind,
  type SessionJson,
  type VendorWorld,
  ok,
  startVendorWorld,
} from './helpers/vendors';

const SIGN_IN = new Set(['auth.login.succeeded', 'auth.succeeded.summary']);
const LOGIN = 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }';
const CREATE_PARTICIPANT =
  'mutation ($input: CreateParticipantInput!) { createParticipant(input: $input) { connectionId } }';

const EVENT_COLUMNS = [
  'action',
  'outcome',
  'error_code',
  'auth_method',
  'actor_type',
  'actor_id',
  'actor_label',
  'target_id',
  'metadata',
] as const;
type EventRow = Pick<AuditRow, (typeof EVENT_COLUMNS)[number]>;

interface Caller {
  name: string;
  auth: () => Promise<string>;
  authMethod: string;
  actor: () => { actor_type: string; actor_id: string };
}

type Method = 'GET' | 'POST';

interface MintRoute {
  route: string;
  method: Method;
  path: (rooms: Rooms) => string;
  body?: (rooms: Rooms) => Record<string, unknown>;
  /** The issuance events one call writes, in order. */
  issues: string[];
}

/** Rooms that already exist, so a mint into them creates nothing else. */
interface Rooms {
  slug: string;
  channel: string;
  livekitRoom: string;
  fishjamRoom: string;
  openviduId: string;
  pexipMeetingId: string;
  /** Roomkey session ids, one per vendor, for GraphQL. */
  sessions: Record<Kind, string>;
}

/** Placeholders, to name the cases. */
const LABELS = {
  slug: ':slug',
  channel: ':channel',
  livekitRoom: ':room',
  fishjamRoom: ':room',
  openviduId: ':sessionId',
  pexipMeetingId: ':meetingId',
} as Rooms;

const MINT_ROUTES: MintRoute[] = [
  {
    route: 'agora.rtc',
    method: 'GET',
    path: (r) => `/t/${r.slug}/agora/rtc/${r.channel}/publisher/uid/11/`,
    issues: ['connection.created'],
  },
  {
    route: 'agora.rtm',
    method: 'GET',
    path: (r) => `/t/${r.slug}/agora/rtm/rtm-user-1`,
    issues: ['agora.rtm_token.issued'],
  },
  {
    route: 'agora.rte',
    method: 'GET',
    path: (r) => `/t/${r.slug}/agora/rte/${r.channel}/publisher/uid/12/rte-user`,
    issues: ['connection.created', 'agora.rtm_token.issued'],
  },
  {
    route: 'agora.getToken',
    method: 'POST',
    path: (r) => `/t/${r.slug}/agora/getToken`,
    body: (r) => ({ tokenType: 'rtc', channel: r.channel, uid: '13', role: 'publisher' }),
    issues: ['connection.created'],
  },
  {
    route: 'agora.getToken',
    method: 'POST',
    path: (r) => `/t/${r.slug}/agora/getToken`,
    body: () => ({ tokenType: 'rtm', uid: 'rtm-user-2' }),
    issues: ['agora.rtm_token.issued'],
  },
  {
    route: 'agora.getToken',
    method: 'POST',
    path: (r) => `/t/${r.slug}/agora/getToken`,
    body: (r) => ({ tokenType: 'rtm', uid: 'rtm-user-3', channel: r.channel }),
    issues: ['agora.rtm_token.issued'],
  },
  {
    route: 'agora.chat',
    method: 'GET',
    path: (r) => `/t/${r.slug}/agora/chat/account/chat-user-1/`,
    issues: ['agora.chat_token.issued'],
  },
  {
    route: 'agora.chat',
    method: 'GET',
    path: (r) => `/t/${r.slug}/agora/chat/app/`,
    issues: ['agora.chat_token.issued'],
  },
  {
    route: 'agora.getToken',
    method: 'POST',
    path: (r) => `/t/${r.slug}/agora/getToken`,
    body: () => ({ tokenType: 'chat', uid: 'chat-user-2' }),
    issues: ['agora.chat_token.issued'],
  },
  {
    route: 'livekit.token',
    method: 'POST',
    path: (r) => `/t/${r.slug}/livekit/token`,
    body: (r) => ({ roomName: r.livekitRoom, participantName: `p-${uniq()}` }),
    issues: ['connection.created'],
  },
  {
    route: 'openvidu.connections',
    method: 'POST',
    path: (r) => `/t/${r.slug}/openvidu/api/sessions/${r.openviduId}/connections`,
    body: () => ({}),
    issues: ['connection.created'],
  },
  {
    route: 'fishjam.room-manager',
    method: 'GET',
    path: (r) => `/t/${r.slug}/fishjam/room-manager?roomName=${r.fishjamRoom}&peerName=q`,
    issues: ['connection.created'],
  },
  {
    route: 'fishjam.room-manager',
    method: 'GET',
    path: (r) => `/t/${r.slug}/fishjam/room-manager/${r.fishjamRoom}/users/p`,
    issues: ['connection.created'],
  },
  {
    route: 'pexip.participants',
    method: 'POST',
    path: (r) => `/t/${r.slug}/pexip/meetings/${r.pexipMeetingId}/participants`,
    issues: ['connection.created'],
  },
];

describe('one audit event per issuance', () => {
  let w: VendorWorld;
  let rooms: Rooms;
  let apiKey: { id: string; auth: string };
  let memberKey: string;
  let bearer = '';

  beforeAll(async () => {
    w = await startVendorWorld();
    const key = await seedApiKey(w.t, w.a.tenant, MemberRole.ADMIN);
    apiKey = { id: key.id, auth: key.auth };
    memberKey = w.a.memberKey;
    const login = await ok(
      w.t.gql<{ login: { accessToken: string } }>(LOGIN, {
        input: {
          email: w.a.admin.email,
          password: w.a.admin.password,
          tenantSlug: w.a.tenant.slug,
        },
      }),
    );
    bearer = `Bearer ${login.login.accessToken}`;

    const sessions = {} as Record<Kind, string>;
    const external = {} as Record<Kind, string | null>;
    for (const kind of KINDS) {
      const s = await createSession({ provider: kind, customSessionId: `gql-${kind}-${uniq()}` });
      sessions[kind] = s.id;
      external[kind] = s.externalId;
    }
    const pexip = await createSession({ provider: 'PEXIP' });
    rooms = {
      slug: w.a.tenant.slug,
      channel: `ch-${uniq()}`,
      livekitRoom: `lk-${uniq()}`,
      fishjamRoom: `fj-${uniq()}`,
      openviduId: String(external.OPENVIDU),
      pexipMeetingId: String(pexip.externalId),
      sessions,
    };
    // The get-or-create routes' rooms, made once, so the cases below only mint into them.
    for (const [method, path, body] of [
      ['GET', `/t/${rooms.slug}/agora/rtc/${rooms.channel}/publisher/uid/1/`, undefined],
      [
        'POST',
        `/t/${rooms.slug}/livekit/token`,
        { roomName: rooms.livekitRoom, participantName: 'a' },
      ],
      [
        'GET',
        `/t/${rooms.slug}/fishjam/room-manager?roomName=${rooms.fishjamRoom}&peerName=a`,
        undefined,
      ],
    ] as Array<[Method, string, Record<string, unknown> | undefined]>) {
      expect((await call(method, path, apiKey.auth, newRequestId(), body)).status).toBe(200);
    }
    w.quiet();
  });
  afterAll(() => w.close());
  afterEach(() => w.quiet());

  const CALLERS: Caller[] = [
    {
      name: 'a Basic API key',
      auth: () => Promise.resolve(apiKey.auth),
      authMethod: 'BASIC_API_KEY',
      actor: () => ({ actor_type: 'API_KEY', actor_id: apiKey.id }),
    },
    {
      name: 'a Bearer access token',
      auth: () => Promise.resolve(bearer),
      authMethod: 'JWT',
      actor: () => ({ actor_type: 'USER', actor_id: w.a.admin.id }),
    },
    {
      name: 'Basic email and password',
      auth: () => Promise.resolve(w.a.admin.auth),
      authMethod: 'BASIC_PASSWORD',
      actor: () => ({ actor_type: 'USER', actor_id: w.a.admin.id }),
    },
  ];

  const newRequestId = (): string => `rk-test-${randomBytes(8).toString('hex')}`;

  async function createSession(input: Record<string, unknown>): Promise<SessionJson> {
    const data = await ok(
      w.t.gql<{ createSession: SessionJson }>(CREATE_SESSION, { input }, { auth: w.a.admin.auth }),
    );
    return data.createSession;
  }

  function call(
    method: Method,
    path: string,
    auth: string,
    requestId: string,
    body?: Record<string, unknown>,
  ) {
    const req = (method === 'GET' ? w.t.http().get(path) : w.t.http().post(path))
      .set('authorization', auth)
      .set('x-request-id', requestId);
    return body === undefined ? req : req.send(body);
  }

  /** The events of one request, in chain order, without sign-in events. */
  async function eventsOf(requestId: string): Promise<EventRow[]> {
    const rows = await auditRows(w.t, { requestId }, EVENT_COLUMNS);
    return rows.filter((e) => !SIGN_IN.has(e.action));
  }

  async function connectionCount(): Promise<number> {
    const [r] = await w.t.ds.query<Array<{ n: number }>>(
      'SELECT count(*)::int AS n FROM session_connection WHERE tenant_id = $1',
      [w.a.tenant.id],
    );
    return r.n;
  }

  async function connectionRow(id: string | null): Promise<Record<string, unknown> | undefined> {
    const [row] = await w.t.ds.query<Array<Record<string, unknown>>>(
      `SELECT id, session_id, created_by_type, created_by_id, created_by_label
         FROM session_connection WHERE id = $1 AND tenant_id = $2`,
      [id, w.a.tenant.id],
    );
    return row;
  }

  /** Each event is an issuance of this request, with its actor, auth method, via and route. */
  async function expectIssuances(
    events: EventRow[],
    expected: { actions: string[]; via: string; route: string; caller: Caller },
  ): Promise<void> {
    expect(events.map((e) => e.action)).toEqual(expected.actions);
    for (const e of events) {
      expect(e).toMatchObject({
        outcome: 'SUCCESS',
        error_code: null,
        auth_method: expected.caller.authMethod,
        ...expected.caller.actor(),
        metadata: { via: expected.via, route: expected.route },
      });
      if (e.action === 'connection.created') {
        const row = await connectionRow(e.target_id);
        expect(row).toMatchObject({
          created_by_type: e.actor_type,
          created_by_id: e.actor_id,
          created_by_label: e.actor_label,
        });
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Compatibility routes
  // ---------------------------------------------------------------------------------------------

  describe.each(CALLERS.map((c): [string, Caller] => [c.name, c]))(
    'a compatibility mint by %s into an existing room',
    (_name, caller) => {
      it.each(
        MINT_ROUTES.map((r): [string, MintRoute] => [
          `${r.route} ${r.method} ${r.path(LABELS)}`,
          r,
        ]),
      )(
        'should write exactly one event per issued credential and no compat.called when %s answers 200',
        async (_label, r) => {
          const requestId = newRequestId();
          const before = await connectionCount();
          const res = await call(
            r.method,
            r.path(rooms),
            await caller.auth(),
            requestId,
            r.body?.(rooms),
          );
          expect(res.status).toBe(200);
          const events = await eventsOf(requestId);
          await expectIssuances(events, {
            actions: r.issues,
            via: `compat.${r.route.split('.')[0]}`,
            route: r.route,
            caller,
          });
          expect(await connectionCount()).toBe(
            before + r.issues.filter((a) => a === 'connection.created').length,
          );
        },
      );
    },
  );

  it('should write session.created and then the one issuance event when the first mint creates the room', async () => {
    const requestId = newRequestId();
    const channel = `ch-new-${uniq()}`;
    const res = await call(
      'GET',
      `/t/${rooms.slug}/agora/rtc/${channel}/subscriber/uid/3`,
      apiKey.auth,
      requestId,
    );
    expect(res.status).toBe(200);
    const events = await eventsOf(requestId);
    expect(events.map((e) => e.action)).toEqual(['session.created', 'connection.created']);
    expect(events[0]).toMatchObject({
      outcome: 'SUCCESS',
      metadata: { provider: 'AGORA', customSessionId: channel, via: 'compat.agora' },
    });
    expect(events[1].metadata).toMatchObject({ via: 'compat.agora', route: 'agora.rtc' });
  });

  it.each([
    ['agora ping', 'GET', () => `/t/${rooms.slug}/agora/ping`, undefined],
    ['the Pexip API address', 'GET', () => `/t/${rooms.slug}/pexip/api-address`, undefined],
    [
      'an OpenVidu session that already exists',
      'POST',
      () => `/t/${rooms.slug}/openvidu/api/sessions`,
      () => ({ customSessionId: rooms.openviduId }),
    ],
  ] as Array<[string, Method, () => string, (() => Record<string, unknown>) | undefined]>)(
    'should write no event when a compatibility route that issues nothing answers 200 for %s',
    async (_name, method, path, body) => {
      const requestId = newRequestId();
      const res = await call(method, path(), apiKey.auth, requestId, body?.());
      expect(res.status).toBe(200);
      expect(await eventsOf(requestId)).toEqual([]);
    },
  );

  it.each([
    ['a Pexip meeting', 'POST', () => `/t/${rooms.slug}/pexip/meetings`, undefined],
    [
      'an OpenVidu session',
      'POST',
      () => `/t/${rooms.slug}/openvidu/api/sessions`,
      () => ({ customSessionId: `ov-new-${uniq()}` }),
    ],
  ] as Array<[string, Method, () => string, (() => Record<string, unknown>) | undefined]>)(
    'should write only session.created when a compatibility route creates %s',
    async (_name, method, path, body) => {
      const requestId = newRequestId();
      const res = await call(method, path(), apiKey.auth, requestId, body?.());
      expect(res.status).toBe(200);
      const events = await eventsOf(requestId);
      expect(events.map((e) => [e.action, e.outcome])).toEqual([['session.created', 'SUCCESS']]);
    },
  );

  describe('a compatibility mint that fails', () => {
    it.each([
      [
        'bad input (an unknown Agora role)',
        () =>
          call(
            'GET',
            `/t/${rooms.slug}/agora/rtc/${rooms.channel}/owner/uid/5`,
            apiKey.auth,
            requestIdOf(),
          ),
        'agora.rtc',
        400,
        'FAILURE',
        'BAD_USER_INPUT',
      ],
      [
        'bad input (a LiveKit participant name with a slash)',
        () =>
          call('POST', `/t/${rooms.slug}/livekit/token`, apiKey.auth, requestIdOf(), {
            roomName: rooms.livekitRoom,
            participantName: 'a/b',
          }),
        'livekit.token',
        400,
        'FAILURE',
        'BAD_USER_INPUT',
      ],
      [
        'a role the caller may not issue (MODERATOR by a MEMBER key)',
        () =>
          call(
            'POST',
            `/t/${rooms.slug}/openvidu/api/sessions/${rooms.openviduId}/connections`,
            memberKey,
            requestIdOf(),
            {
              role: 'MODERATOR',
            },
          ),
        'openvidu.connections',
        403,
        'DENIED',
        'FORBIDDEN',
      ],
      [
        'the vendor down (OpenVidu 503 on the connection)',
        () => {
          w.ov.faults.set({
            status: 503,
            match: (m, p) => m === 'POST' && p.endsWith('/connection'),
          });
          return call(
            'POST',
            `/t/${rooms.slug}/openvidu/api/sessions/${rooms.openviduId}/connections`,
            apiKey.auth,
            requestIdOf(),
            {},
          );
        },
        'openvidu.connections',
        503,
        'FAILURE',
        'PROVIDER_UNAVAILABLE',
      ],
      [
        'the vendor down (Fishjam 503 on the peer)',
        () => {
          w.fj.faults.set({ status: 503, match: (m, p) => m === 'POST' && p.endsWith('/peer') });
          return call(
            'GET',
            `/t/${rooms.slug}/fishjam/room-manager?roomName=${rooms.fishjamRoom}&peerName=z`,
            apiKey.auth,
            requestIdOf(),
          );
        },
        'fishjam.room-manager',
        503,
        'FAILURE',
        'PROVIDER_UNAVAILABLE',
      ],
    ] as Array<[string, () => ReturnType<typeof call>, string, number, string, string]>)(
      'should write exactly one compat.called event and no connection row when it meets %s',
      async (_name, send, route, status, outcome, code) => {
        const before = await connectionCount();
        const res = await send();
        expect(res.status).toBe(status);
        expect(await eventsOf(lastRequestId)).toEqual([
          expect.objectContaining({
            action: 'compat.called',
            outcome,
            error_code: code,
            metadata: { route, status },
          }),
        ]);
        expect(await connectionCount()).toBe(before);
      },
    );
  });

  // ---------------------------------------------------------------------------------------------
  // GraphQL
  // ---------------------------------------------------------------------------------------------

  async function gql(
    query: string,
    input: Record<string, unknown>,
    auth: string,
    requestId: string,
  ): Promise<{
    data?: Record<string, { id?: string; connectionId?: string }> | null;
    code?: string;
  }> {
    const res = await w.t.gql<Record<string, { id?: string; connectionId?: string }>>(
      query,
      { input },
      { auth, headers: { 'x-request-id': requestId } },
    );
    return { data: res.body.data, code: res.body.errors?.[0]?.extensions?.code };
  }

  const AGORA_JOIN = { agora: { uid: 21 } };

  describe.each(CALLERS.map((c): [string, Caller] => [c.name, c]))(
    'GraphQL createConnection by %s',
    (_name, caller) => {
      it.each(KINDS)(
        'should write exactly one connection.created with via graphql and its route when a %s credential is issued',
        async (kind) => {
          const requestId = newRequestId();
          const before = await connectionCount();
          const input = {
            sessionId: rooms.sessions[kind],
            ...(kind === 'AGORA' ? AGORA_JOIN : {}),
          };
          const res = await gql(CREATE_CONNECTION, input, await caller.auth(), requestId);
          expect(res.code).toBeUndefined();
          const events = await eventsOf(requestId);
          await expectIssuances(events, {
            actions: ['connection.created'],
            via: 'graphql',
            route: 'graphql:createConnection',
            caller,
          });
          expect(events[0].target_id).toBe(res.data?.createConnection.id);
          expect(events[0].metadata).toMatchObject({
            provider: kind,
            sessionId: rooms.sessions[kind],
          });
          expect(await connectionCount()).toBe(before + 1);
        },
      );
    },
  );

  it('should write exactly one connection.created with the createParticipant route when GraphQL adds a Pexip participant', async () => {
    const requestId = newRequestId();
    const res = await gql(
      CREATE_PARTICIPANT,
      { meetingId: rooms.pexipMeetingId },
      apiKey.auth,
      requestId,
    );
    expect(res.code).toBeUndefined();
    const events = await eventsOf(requestId);
    await expectIssuances(events, {
      actions: ['connection.created'],
      via: 'graphql',
      route: 'graphql:createParticipant',
      caller: CALLERS[0],
    });
    expect(events[0].target_id).toBe(res.data?.createParticipant.connectionId);
  });

  it.each([
    [
      'bad input (a LiveKit identity with a slash)',
      () => ({ sessionId: rooms.sessions.LIVEKIT, identity: 'a/b' }),
      () => apiKey.auth,
      'FAILURE',
      'BAD_USER_INPUT',
    ],
    [
      'a role the caller may not issue (MODERATOR by a MEMBER key)',
      () => ({ sessionId: rooms.sessions.OPENVIDU, role: 'MODERATOR' }),
      () => memberKey,
      'DENIED',
      'FORBIDDEN',
    ],
    [
      'the vendor down (OpenVidu 503 on the connection)',
      () => {
        w.ov.faults.set({
          status: 503,
          match: (m, p) => m === 'POST' && p.endsWith('/connection'),
        });
        return { sessionId: rooms.sessions.OPENVIDU };
      },
      () => apiKey.auth,
      'FAILURE',
      'PROVIDER_UNAVAILABLE',
    ],
  ] as Array<[string, () => Record<string, unknown>, () => string, string, string]>)(
    'should write exactly one FAILURE or DENIED connection.created event and no connection row when GraphQL createConnection meets %s',
    async (_name, input, auth, outcome, code) => {
      const requestId = newRequestId();
      const before = await connectionCount();
      const res = await gql(CREATE_CONNECTION, input(), auth(), requestId);
      expect(res.code).toBe(code);
      expect(await eventsOf(requestId)).toEqual([
        expect.objectContaining({ action: 'connection.created', outcome, error_code: code }),
      ]);
      expect(await connectionCount()).toBe(before);
    },
  );

  // The failure table builds its calls lazily; this is the id the last one sent.
  let lastRequestId = '';
  function requestIdOf(): string {
    lastRequestId = newRequestId();
    return lastRequestId;
  }

  it('should keep every issuance in a chain that verifies', async () => {
    const data = await ok(
      w.t.gql<{ verifyAuditLog: { ok: boolean } }>('{ verifyAuditLog { ok } }', undefined, {
        auth: w.a.owner.auth,
      }),
    );
    expect(data.verifyAuditLog.ok).toBe(true);
  });
});
