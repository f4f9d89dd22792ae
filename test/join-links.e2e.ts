/**
 * Scoped join links (README "Join links", docs/decisions.md#issue-12): an ADMIN creates a revocable, expiring,
 * audited key valid only for one vendor's compatibility routes, a room-name pattern, a maximum
 * role, listed origins and its own rate limit; front ends use it as a path segment
 * (`/t/<slug>/j/<link>/<vendor>`) with no Authorization header. Over real HTTP, against the
 * vendor emulators: what a link can do, and every way it must be refused.
 */
import { decodeJwt } from 'jose';
import { type Response } from 'supertest';
import { uniq } from './helpers/assertions';
import { auditHighWater } from './helpers/audit';
import { ok, startVendorWorld, type VendorWorld } from './helpers/vendors';
import {
  AGORA_RTC_PRIVILEGE,
  AGORA_SERVICE_RTC,
  decodeAgoraToken,
  onlyService,
} from './support/agora-token-decoder';

const ORIGIN = 'https://app.example.test';
/** Wrong secrets of one link id before it is locked (ROOMKEY_RATE_LIMIT_API_KEY_FAILURES here). */
const LINK_FAILURES = 4;
const OTHER_ORIGIN = 'https://evil.example.test';
const CREATE =
  'mutation ($input: CreateJoinLinkInput!) { createJoinLink(input: $input) { link basePath joinLink { id keyId provider roomPattern maxRole origins ratePerMinute status } } }';
const REVOKE = 'mutation ($id: ID!) { revokeJoinLink(id: $id) { id status revokedAt } }';

interface Created {
  link: string;
  basePath: string;
  joinLink: {
    id: string;
    keyId: string;
    provider: string;
    roomPattern: string;
    maxRole: string;
    origins: string[];
    ratePerMinute: number;
    status: string;
  };
}

interface EventRow {
  action: string;
  outcome: string;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  auth_method: string;
  error_code: string | null;
  metadata: Record<string, unknown>;
}

describe('scoped join links', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    w = await startVendorWorld({ ROOMKEY_RATE_LIMIT_API_KEY_FAILURES: String(LINK_FAILURES) });
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const slug = (): string => w.a.tenant.slug;
  const inAnHour = (): string => new Date(Date.now() + 3600_000).toISOString();

  async function createLink(input: Record<string, unknown> = {}): Promise<Created> {
    const data = await ok(
      w.t.gql<{ createJoinLink: Created }>(
        CREATE,
        {
          input: {
            name: `link-${uniq()}`,
            provider: 'AGORA',
            roomPattern: 'team-*',
            maxRole: 'PUBLISHER',
            origins: [ORIGIN],
            expiresAt: inAnHour(),
            ...input,
          },
        },
        { auth: w.a.adminKey },
      ),
    );
    return data.createJoinLink;
  }

  /** GET through the link, from `origin` (none when null). */
  const get = (path: string, origin: string | null = ORIGIN): Promise<Response> => {
    const req = w.t.http().get(path);
    return origin ? req.set('origin', origin) : req;
  };

  const rtc = (c: Created, channel: string, role = 'publisher'): string =>
    `${c.basePath}/rtc/${channel}/${role}/uid/42/`;

  async function eventsSince(seq: number): Promise<EventRow[]> {
    return w.t.ds.query<EventRow[]>(
      `SELECT action, outcome, actor_type, actor_id, actor_label, auth_method, error_code, metadata
         FROM audit_event WHERE tenant_id = $1 AND seq > $2 AND action <> 'auth.succeeded.summary'
        ORDER BY seq`,
      [w.a.tenant.id, seq],
    );
  }

  async function counts(): Promise<{ sessions: number; connections: number }> {
    const [row] = await w.t.ds.query<Array<{ sessions: number; connections: number }>>(
      `SELECT (SELECT count(*)::int FROM video_session WHERE tenant_id = $1) AS sessions,
              (SELECT count(*)::int FROM session_connection WHERE tenant_id = $1) AS connections`,
      [w.a.tenant.id],
    );
    return row;
  }

  describe('creating and listing', () => {
    it('should return the link once, a base path for the front end, and audit its scope without the secret', async () => {
      const seq = await auditHighWater(w.t, w.a.tenant.id);
      const c = await createLink({ roomPattern: 'team-*', ratePerMinute: 30 });
      expect(c.link).toMatch(/^jl_[0-9a-f]{24}_[A-Za-z0-9_-]{43}$/);
      expect(c.link.startsWith(`${c.joinLink.keyId}_`)).toBe(true);
      expect(c.basePath).toBe(`/t/${slug()}/j/${c.link}/agora`);
      expect(c.joinLink).toMatchObject({
        provider: 'AGORA',
        roomPattern: 'team-*',
        maxRole: 'PUBLISHER',
        origins: [ORIGIN],
        ratePerMinute: 30,
        status: 'ACTIVE',
      });
      const events = await eventsSince(seq);
      expect(events.map((e) => e.action)).toEqual(['join_link.created']);
      expect(events[0].metadata).toMatchObject({
        keyId: c.joinLink.keyId,
        provider: 'AGORA',
        roomPattern: 'team-*',
        maxRole: 'PUBLISHER',
        origins: ORIGIN,
        ratePerMinute: 30,
      });
      const secret = c.link.slice(c.joinLink.keyId.length + 1);
      expect(JSON.stringify(events)).not.toContain(secret);
      const listed = await ok(
        w.t.gql<{ joinLinks: { edges: Array<{ node: Record<string, unknown> }> } }>(
          '{ joinLinks(first: 100) { edges { node { id keyId status } } } }',
          {},
          { auth: w.a.adminKey },
        ),
      );
      expect(listed.joinLinks.edges.map((e) => e.node.id)).toContain(c.joinLink.id);
      expect(JSON.stringify(listed)).not.toContain(secret);
    });

    it('should refuse a MEMBER, and show another tenant nothing of this one', async () => {
      const member = await w.t.gql(
        CREATE,
        {
          input: {
            name: 'x',
            provider: 'AGORA',
            roomPattern: '*',
            maxRole: 'SUBSCRIBER',
            origins: [ORIGIN],
            expiresAt: inAnHour(),
          },
        },
        { auth: w.a.memberKey },
      );
      expect(member.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const c = await createLink();
      const fromB = await ok(
        w.t.gql<{ joinLinks: { edges: Array<{ node: { id: string } }> } }>(
          '{ joinLinks(first: 100) { edges { node { id } } } }',
          {},
          { auth: w.b.adminKey },
        ),
      );
      expect(fromB.joinLinks.edges.map((e) => e.node.id)).not.toContain(c.joinLink.id);
      const revokeFromB = await w.t.gql(REVOKE, { id: c.joinLink.id }, { auth: w.b.adminKey });
      expect(revokeFromB.body.errors?.[0].extensions?.code).toBe('NOT_FOUND');
      expect((await get(rtc(c, 'team-1'))).status).toBe(200);
    });

    it.each([
      ['the vendor is RED5 (server to server)', { provider: 'RED5' }, 'provider'],
      ['the maximum role is MODERATOR', { maxRole: 'MODERATOR' }, 'maxRole'],
      [
        'a PEXIP link is SUBSCRIBER (Pexip cannot hold it to receiving only)',
        { provider: 'PEXIP', maxRole: 'SUBSCRIBER' },
        'maxRole',
      ],
      ['an origin has a path', { origins: ['https://app.example.test/app'] }, 'origins'],
      ['an origin is not http(s)', { origins: ['ftp://app.example.test'] }, 'origins'],
      ['an origin is a wildcard', { origins: ['*'] }, 'origins'],
      ['no origin is listed', { origins: [] }, 'origins'],
      [
        'it expires in the past',
        { expiresAt: new Date(Date.now() - 1000).toISOString() },
        'expiresAt',
      ],
      [
        'it expires in more than a year',
        { expiresAt: new Date(Date.now() + 400 * 24 * 3600_000).toISOString() },
        'expiresAt',
      ],
      ['the rate is 0', { ratePerMinute: 0 }, 'ratePerMinute'],
      ['the rate is above 10000', { ratePerMinute: 10_001 }, 'ratePerMinute'],
      ['the room pattern has a control character', { roomPattern: 'team-\u0001' }, 'roomPattern'],
      ['the room pattern is empty', { roomPattern: '' }, 'roomPattern'],
    ])('should answer BAD_USER_INPUT and create nothing when %s', async (_what, input, field) => {
      const seq = await auditHighWater(w.t, w.a.tenant.id);
      const rows = async () =>
        (
          await w.t.ds.query<Array<{ n: number }>>(
            'SELECT count(*)::int AS n FROM join_link WHERE tenant_id = $1',
            [w.a.tenant.id],
          )
        )[0].n;
      const before = await rows();
      const r = await w.t.gql(
        CREATE,
        {
          input: {
            name: 'bad',
            provider: 'AGORA',
            roomPattern: '*',
            maxRole: 'SUBSCRIBER',
            origins: [ORIGIN],
            expiresAt: inAnHour(),
            ...input,
          },
        },
        { auth: w.a.adminKey },
      );
      const error = r.body.errors?.[0];
      expect(error?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(JSON.stringify(error)).toContain(field);
      expect(r.body.data ?? null).toBeNull();
      expect(await rows()).toBe(before);
      // The refused mutation is audited as a failure, never as a link created.
      const events = (await eventsSince(seq)).filter((e) => e.action === 'join_link.created');
      expect(events.map((e) => [e.outcome, e.error_code])).toEqual([['FAILURE', 'BAD_USER_INPUT']]);
    });
  });

  describe('using a link', () => {
    it('should mint from a listed origin with no Authorization header, send CORS for that origin, and record the issuance as the link', async () => {
      const c = await createLink();
      const seq = await auditHighWater(w.t, w.a.tenant.id);
      const res = await get(rtc(c, 'team-red'));
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      const token = decodeAgoraToken((res.body as { rtcToken: string }).rtcToken);
      const service = onlyService(token, AGORA_SERVICE_RTC);
      expect(service.channel).toBe('team-red');
      expect(service.privileges.map((p) => p.id).sort()).toEqual([1, 2, 3, 4]);
      const events = await eventsSince(seq);
      expect(events.map((e) => e.action)).toEqual(['session.created', 'connection.created']);
      for (const e of events) {
        expect(e).toMatchObject({
          actor_type: 'JOIN_LINK',
          actor_id: c.joinLink.id,
          actor_label: c.joinLink.keyId,
          auth_method: 'JOIN_LINK',
        });
      }
      expect(JSON.stringify(events)).not.toContain(c.link);
    });

    it('should answer a preflight from a listed origin with CORS headers and one from another origin with none', async () => {
      const c = await createLink({ provider: 'LIVEKIT', roomPattern: '*' });
      const pre = (origin: string) =>
        w.t
          .http()
          .options(`${c.basePath}/token`)
          .set('origin', origin)
          .set('access-control-request-method', 'POST')
          .set('access-control-request-headers', 'content-type');
      const allowed = await pre(ORIGIN);
      expect(allowed.status).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe(ORIGIN);
      expect(allowed.headers['access-control-allow-methods']).toContain('POST');
      const other = await pre(OTHER_ORIGIN);
      expect(other.status).toBe(204);
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
    });

    it('should issue the link’s maximum role when the route asks for none (LiveKit) and refuse a role above it (Agora)', async () => {
      const lk = await createLink({
        provider: 'LIVEKIT',
        roomPattern: 'lk-*',
        maxRole: 'SUBSCRIBER',
      });
      const res = await w.t
        .http()
        .post(`${lk.basePath}/token`)
        .set('origin', ORIGIN)
        .send({ roomName: `lk-${uniq()}`, participantName: 'viewer' });
      expect(res.status).toBe(200);
      const claims = decodeJwt((res.body as { token: string }).token) as {
        video?: { canPublish?: boolean; roomAdmin?: boolean };
      };
      expect(claims.video?.canPublish).toBe(false);
      expect(claims.video?.roomAdmin).not.toBe(true);

      const agora = await createLink({ maxRole: 'SUBSCRIBER' });
      const before = await counts();
      const refused = await get(rtc(agora, 'team-up', 'publisher'));
      expect(refused.status).toBe(403);
      expect(refused.headers['x-roomkey-error-code']).toBe('FORBIDDEN');
      expect(await counts()).toEqual(before);
      const sub = await get(rtc(agora, 'team-up', 'subscriber'));
      expect(sub.status).toBe(200);
      const service = onlyService(
        decodeAgoraToken((sub.body as { rtcToken: string }).rtcToken),
        AGORA_SERVICE_RTC,
      );
      expect(service.privileges.map((p) => p.id)).toEqual([AGORA_RTC_PRIVILEGE.JOIN_CHANNEL]);
    });

    it('should refuse a room outside its pattern before anything is created at the vendor or stored', async () => {
      // `.` is literal, `*` any run: `room.1-*` covers room.1-a, not roomx1-a.
      const c = await createLink({ provider: 'LIVEKIT', roomPattern: 'room.1-*' });
      const before = await counts();
      for (const roomName of ['lobby', 'roomx1-a', 'room.1', 'xroom.1-a', 'room.12']) {
        const res = await w.t
          .http()
          .post(`${c.basePath}/token`)
          .set('origin', ORIGIN)
          .send({ roomName, participantName: 'p' });
        expect({ roomName, status: res.status }).toEqual({ roomName, status: 403 });
        expect(res.body).toEqual({ errorMessage: expect.any(String) });
      }
      expect(w.totalCalls()).toBe(0);
      expect(await counts()).toEqual(before);
      const okRes = await w.t
        .http()
        .post(`${c.basePath}/token`)
        .set('origin', ORIGIN)
        .send({ roomName: `room.1-${uniq()}`, participantName: 'p' });
      expect(okRes.status).toBe(200);
    });

    it('should issue Agora RTM tokens only for stream channels its pattern covers, and never a Chat token', async () => {
      const c = await createLink({ roomPattern: 'team-*' });
      const rtm = (body: object) =>
        w.t.http().post(`${c.basePath}/getToken`).set('origin', ORIGIN).send(body);
      // A login alone reaches every message channel: only a `*` link issues one.
      expect((await rtm({ tokenType: 'rtm', uid: 'alice' })).status).toBe(403);
      expect((await rtm({ tokenType: 'rtm', uid: 'alice', channel: 'team-a' })).status).toBe(200);
      for (const channel of ['lobby', '*']) {
        const res = await rtm({ tokenType: 'rtm', uid: 'alice', channel });
        expect({ channel, status: res.status }).toEqual({ channel, status: 403 });
      }
      expect((await get(`${c.basePath}/rte/team-b/publisher/uid/5/`)).status).toBe(200);
      expect((await get(`${c.basePath}/rte/lobby/publisher/uid/5/`)).status).toBe(403);
      for (const path of ['chat/app/', 'chat/account/alice/']) {
        const res = await get(`${c.basePath}/${path}`);
        expect({ path, status: res.status }).toEqual({ path, status: 403 });
        expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      }
      const chat = await rtm({ tokenType: 'chat', uid: 'alice' });
      expect(chat.status).toBe(403);
    });

    it('should issue a plain RTM login only through a `*` link, and no stream channel (publish data) through a SUBSCRIBER link', async () => {
      const any = await createLink({ roomPattern: '*' });
      const post = (c: Created, body: object) =>
        w.t.http().post(`${c.basePath}/getToken`).set('origin', ORIGIN).send(body);
      expect((await post(any, { tokenType: 'rtm', uid: 'bob' })).status).toBe(200);
      const viewer = await createLink({ roomPattern: 'team-*', maxRole: 'SUBSCRIBER' });
      const stream = await post(viewer, { tokenType: 'rtm', uid: 'bob', channel: 'team-a' });
      expect(stream.status).toBe(403);
      // A channel name that is not one is refused as bad input before any pattern is tried.
      const long = await post(any, { tokenType: 'rtm', uid: 'bob', channel: 'c'.repeat(30_000) });
      expect(long.status).toBe(400);
    });

    it('should not issue through a SUBSCRIBER link what the vendor cannot hold to receiving only (a Fishjam peer), while a Fishjam viewer token is fine', async () => {
      const room = `class-${uniq()}`;
      const streamer = await w.t
        .http()
        .get(`/t/${slug()}/fishjam/room-manager/livestream?roomName=${room}`)
        .set('authorization', w.a.adminKey);
      expect(streamer.status).toBe(200);
      const c = await createLink({
        provider: 'FISHJAM',
        roomPattern: 'class-*',
        maxRole: 'SUBSCRIBER',
      });
      const before = await counts();
      const peer = await get(`${c.basePath}/room-manager?roomName=class-${uniq()}&peerName=p`);
      expect(peer.status).toBe(403);
      expect(await counts()).toEqual(before);
      const viewer = await get(`${c.basePath}/room-manager/${room}/livestream-viewer-token`);
      expect(viewer.status).toBe(200);
      expect(w.fj.livestreamByToken((viewer.body as { token: string }).token)?.role).toBe('viewer');
    });

    it("should serve Fishjam's useSandbox (room manager base URL only) a peer token the link covers", async () => {
      const c = await createLink({
        provider: 'FISHJAM',
        roomPattern: 'class-*',
        maxRole: 'PUBLISHER',
      });
      // useSandbox builds `${roomManagerUrl}?roomName=…&peerName=…` from the base URL it is given.
      const roomManager = `${c.basePath}/room-manager`;
      const res = await get(`${roomManager}?roomName=class-${uniq()}&peerName=ada`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        peerToken: expect.any(String),
        room: { name: expect.stringMatching(/^class-/) },
        peer: { name: 'ada' },
      });
      expect(res.headers['access-control-allow-origin']).toBe(ORIGIN);
      const outside = await get(`${roomManager}?roomName=lobby&peerName=ada`);
      expect(outside.status).toBe(403);
      expect(outside.body).toEqual({ error: expect.any(String) });
    });

    it('should create and join only OpenVidu sessions whose customSessionId its pattern covers', async () => {
      const c = await createLink({ provider: 'OPENVIDU', roomPattern: 'ov-*' });
      const post = (path: string, body: object) =>
        w.t.http().post(`${c.basePath}/api/sessions${path}`).set('origin', ORIGIN).send(body);
      const id = `ov-${uniq()}`;
      const created = await post('', { customSessionId: id });
      expect(created.status).toBe(200);
      expect(created.text).toBe(id);
      expect((await post(`/${id}/connections`, {})).status).toBe(200);

      // An existing session outside the pattern (made with an API key) cannot be joined.
      const outside = `other-${uniq()}`;
      const byKey = await w.t
        .http()
        .post(`/t/${slug()}/openvidu/api/sessions`)
        .set('authorization', w.a.adminKey)
        .send({ customSessionId: outside });
      expect(byKey.status).toBe(200);
      w.quiet();
      const before = await counts();
      for (const [path, body] of [
        ['', { customSessionId: `x-${uniq()}` }],
        ['', {}], // a generated id is covered only by `*`
        [`/${outside}/connections`, {}],
        // No such session: 403 as for one that exists, so a link cannot probe for room names.
        [`/nowhere-${uniq()}/connections`, {}],
      ] as const) {
        const res = await post(path, body);
        expect({ path, status: res.status }).toEqual({ path, status: 403 });
      }
      expect(w.totalCalls()).toBe(0);
      expect(await counts()).toEqual(before);
    });

    it.each([
      ['no Origin header', null],
      ['an origin it does not list', OTHER_ORIGIN],
    ])(
      'should refuse a request with %s, with no CORS headers, and record the denial',
      async (_w, origin) => {
        const c = await createLink();
        const seq = await auditHighWater(w.t, w.a.tenant.id);
        const before = await counts();
        const res = await get(rtc(c, 'team-x'), origin);
        expect(res.status).toBe(403);
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
        expect(await counts()).toEqual(before);
        const events = await eventsSince(seq);
        expect(events).toEqual([
          expect.objectContaining({
            action: 'authz.denied',
            outcome: 'DENIED',
            actor_type: 'JOIN_LINK',
            metadata: expect.objectContaining({ reason: 'join_link_origin' }),
          }),
        ]);
      },
    );

    it("should refuse another vendor's routes, another tenant's slug, and every path outside the compatibility routes", async () => {
      const c = await createLink();
      const lkPath = c.basePath.replace(/\/agora$/, '/livekit/token');
      const lk = await w.t
        .http()
        .post(lkPath)
        .set('origin', ORIGIN)
        .send({ roomName: 'team-1', participantName: 'p' });
      expect(lk.status).toBe(403);
      expect(lk.headers['x-roomkey-error-code']).toBe('FORBIDDEN');

      const otherSlug = rtc(c, 'team-1').replace(`/t/${slug()}/`, `/t/${w.b.tenant.slug}/`);
      expect((await get(otherSlug)).status).toBe(403);

      for (const rest of ['graphql', 'red5/validateCredentials', 'webhooks/agora/x']) {
        const res = await w.t
          .http()
          .post(`/t/${slug()}/j/${c.link}/${rest}`)
          .set('origin', ORIGIN)
          .send({});
        expect({ rest, status: res.status }).toEqual({ rest, status: 404 });
      }
    });

    it('should never be accepted by GraphQL, in any header', async () => {
      const c = await createLink();
      const secret = c.link.slice(c.joinLink.keyId.length + 1);
      for (const auth of [
        `Bearer ${c.link}`,
        `Basic ${Buffer.from(`${c.joinLink.keyId}:${secret}`).toString('base64')}`,
        `Basic ${Buffer.from(`${c.link}:x`).toString('base64')}`,
      ]) {
        const r = await w.t.gql(
          '{ me { tenant { id } } }',
          {},
          { auth, headers: { origin: ORIGIN } },
        );
        expect(r.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
        expect(r.body.data ?? null).toBeNull();
      }
    });

    it('should stop at once when revoked, and keep failing with the right secret', async () => {
      const c = await createLink();
      for (let i = 0; i < 2; i++) expect((await get(rtc(c, 'team-rev'))).status).toBe(200);
      const r = await ok(
        w.t.gql<{ revokeJoinLink: { status: string; revokedAt: string } }>(
          REVOKE,
          { id: c.joinLink.id },
          { auth: w.a.adminKey },
        ),
      );
      expect(r.revokeJoinLink.status).toBe('REVOKED');
      const seq = await auditHighWater(w.t, w.a.tenant.id);
      for (let i = 0; i < 3; i++) expect((await get(rtc(c, 'team-rev'))).status).toBe(401);
      const failures = (await eventsSince(seq)).filter((e) => e.action === 'auth.login.failed');
      expect(failures).toHaveLength(3);
      expect(failures[0]).toMatchObject({
        auth_method: 'JOIN_LINK',
        actor_label: c.joinLink.keyId,
        metadata: { method: 'JOIN_LINK', reason: 'revoked' },
      });
    });

    it('should refuse a link that has expired', async () => {
      const c = await createLink({ expiresAt: new Date(Date.now() + 1500).toISOString() });
      expect((await get(rtc(c, 'team-exp'))).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1600)); // the link's own lifetime
      expect((await get(rtc(c, 'team-exp'))).status).toBe(401);
    });

    it('should refuse a wrong secret, a malformed link and an unknown link with 401', async () => {
      const c = await createLink();
      const wrong = `${c.joinLink.keyId}_${'A'.repeat(43)}`;
      const unknown = `jl_${'0'.repeat(24)}_${'A'.repeat(43)}`;
      for (const link of [wrong, 'jl_nope', unknown]) {
        const res = await get(`/t/${slug()}/j/${link}/agora/rtc/team-1/publisher/uid/1/`);
        expect({ link, status: res.status }).toEqual({ link, status: 401 });
        expect(res.headers['access-control-allow-origin']).toBeUndefined();
      }
    });

    it('should refuse choosing a credential (?credential=) and mint only with the default one', async () => {
      const c = await createLink();
      const chosen = await get(`${rtc(c, 'team-cred')}?credential=${w.a.creds.AGORA}`);
      expect(chosen.status).toBe(403);
      expect(chosen.headers['x-roomkey-error-code']).toBe('FORBIDDEN');
    });

    it('should lock a link id after its failure threshold of wrong secrets, refusing even the right one, and stop auditing each attempt', async () => {
      const c = await createLink();
      const wrong = `/t/${slug()}/j/${c.joinLink.keyId}_${'B'.repeat(43)}/agora/rtc/team-1/publisher/uid/1/`;
      const failures = async () =>
        (
          await w.t.ds.query<Array<{ n: number }>>(
            `SELECT count(*)::int AS n FROM audit_event
              WHERE tenant_id = $1 AND action = 'auth.login.failed' AND actor_label = $2`,
            [w.a.tenant.id, c.joinLink.keyId],
          )
        )[0].n;
      const statuses: number[] = [];
      for (let i = 0; i < LINK_FAILURES + 3; i++) statuses.push((await get(wrong)).status);
      expect(statuses).toEqual([
        ...Array<number>(LINK_FAILURES).fill(401),
        ...Array<number>(3).fill(429),
      ]);
      expect(await failures()).toBe(LINK_FAILURES);
      const right = await get(rtc(c, 'team-1'));
      expect(right.status).toBe(429);
      expect(Number(right.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    });

    it('should answer 429 past its own per-minute budget', async () => {
      const c = await createLink({ ratePerMinute: 2 });
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(rtc(c, 'team-rate'))).status);
      expect(statuses).toEqual([200, 200, 429, 429]);
      // Another link of the same tenant has its own budget.
      const other = await createLink({ ratePerMinute: 2 });
      expect((await get(rtc(other, 'team-rate'))).status).toBe(200);
    });

    it('should keep the secret out of the logs', async () => {
      const c = await createLink();
      const from = w.t.logs.length;
      expect((await get(rtc(c, 'team-log'))).status).toBe(200);
      await get(rtc(c, 'team-log'), OTHER_ORIGIN);
      for (const rest of ['', '/', '/Agora/ping', '/constructor', '/graphql']) {
        const res = await get(`/t/${slug()}/j/${c.link}${rest}`);
        expect({ rest, status: res.status }).toEqual({ rest, status: 404 });
        expect(res.text).not.toContain(c.link);
      }
      const secret = c.link.slice(c.joinLink.keyId.length + 1);
      const lines = w.t.logs.slice(from).join('\n');
      expect(lines).toContain(c.joinLink.keyId);
      expect(lines).not.toContain(secret);
    });
  });
});
