/**
 * Sessions under concurrency and across tenants, over real HTTP to the vendor emulators.
 *
 * A) createSession with a customSessionId is idempotent under load: parallel identical calls (in
 *    one process, from two service instances without a shared in-flight map, through a compat
 *    route, and from two app instances on one PostgreSQL database) give one session, one vendor
 *    create and one audit event; parallel createConnection gives distinct credentials; an ended
 *    key is free again; a claim left by a crashed instance does not block the key for ever.
 * B) docs/security.md S6 for every session and connection operation: tenant A's principals
 *    with tenant B's ids get NOT_FOUND (403 on B's compat slug) and B's rows, B's audit chain and
 *    the vendors' state stay exactly as they were.
 */
import { randomBytes } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service';
import { AuthSuccessSummary } from '../src/auth/auth-success-summary';
import { Caches } from '../src/common/cache';
import { APP_CONFIG, type AppConfig } from '../src/common/config';
import { RequestContext } from '../src/common/context';
import { CredentialLifecycle } from '../src/providers/vault/credential-lifecycle';
import { CredentialVault } from '../src/providers/vault/credential-vault';
import { ProviderKind } from '../src/providers/provider-kind';
import { ProviderRegistry } from '../src/providers/provider-registry';
import { SessionCache } from '../src/sessions/session-cache';
import { SessionCreator } from '../src/sessions/session-creator';
import { SessionsService } from '../src/sessions/sessions.service';
import { type RecordedCall } from './emulators/faults';
import { expectError } from './helpers/assertions';
import { type TestApp, startTestApp } from './helpers/test-app';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  type ConnectionJson,
  END_SESSION,
  type HttpKind,
  KINDS,
  type Kind,
  REVOKE_CONNECTION,
  type SessionJson,
  type VendorWorld,
  type WorldTenant,
  ok,
  startVendorWorld,
} from './helpers/vendors';
import { decodeAgoraToken, verifyAgoraSignature } from './support/agora-token-decoder';

const uniq = (): string => randomBytes(4).toString('hex');

const SESSION = 'query ($id: ID!) { session(id: $id) { id status externalId } }';
const SESSION_CONNECTIONS =
  'query ($id: ID!) { session(id: $id) { id connections { id sessionId } } }';
const SESSIONS = `query ($f: SessionFilterInput, $after: String) {
  sessions(filter: $f, first: 100, after: $after) {
    nodes { id createdBy } pageInfo { hasNextPage endCursor }
  }
}`;
const VERIFY = '{ verifyAuditLog { ok checkedCount firstInvalidEventId reason } }';
const CREATE_MEETING =
  'mutation ($input: CreateMeetingInput!) { createMeeting(input: $input) { sessionId meetingId apiAddress } }';
const CREATE_PARTICIPANT =
  'mutation ($input: CreateParticipantInput!) { createParticipant(input: $input) { connectionId participantId participantSecret } }';

/** The request that creates a room at each HTTP vendor (token exchanges and the rest excluded). */
const VENDOR_CREATE: Record<HttpKind, (c: RecordedCall) => boolean> = {
  OPENVIDU: (c) => c.method === 'POST' && c.path === '/openvidu/api/sessions',
  LIVEKIT: (c) => c.method === 'POST' && c.path === '/twirp/livekit.RoomService/CreateRoom',
  PEXIP: (c) => c.method === 'POST' && /^\/v1\/meetings\/?$/.test(c.path),
  FISHJAM: (c) => c.method === 'POST' && /\/room$/.test(c.path),
};
const isHttpKind = (k: Kind): k is HttpKind => k in VENDOR_CREATE;

/** Awaits every promise and fails with all the rejections (not only the first) when any failed. */
async function settleAll<T>(ps: Array<Promise<T>>): Promise<T[]> {
  const rs = await Promise.allSettled(ps);
  const failures = rs.flatMap((r) => (r.status === 'rejected' ? [String(r.reason)] : []));
  expect(failures).toEqual([]);
  return rs.map((r) => (r as PromiseFulfilledResult<T>).value);
}

describe('sessions: concurrency, idempotency and tenant isolation', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    // The default vendor timeout (the claim wait derives from it), not the fault tests' 1 s: a
    // loaded two-core runner must not turn a slow but healthy create into a "stale" claim.
    w = await startVendorWorld({ ROOMKEY_PROVIDER_TIMEOUT_MS: '5000' });
  }, 180_000);
  afterAll(() => w?.close());
  beforeEach(() => w.quiet());

  const createSession = async (
    input: Record<string, unknown>,
    auth = w.a.adminKey,
    t: TestApp = w.t,
  ): Promise<SessionJson> =>
    (await ok(t.gql<{ createSession: SessionJson }>(CREATE_SESSION, { input }, { auth })))
      .createSession;
  const createConnection = async (
    input: Record<string, unknown>,
    auth = w.a.adminKey,
  ): Promise<ConnectionJson> =>
    (
      await ok(
        w.t.gql<{ createConnection: ConnectionJson }>(CREATE_CONNECTION, { input }, { auth }),
      )
    ).createConnection;
  const endSession = async (id: string, auth = w.a.adminKey): Promise<SessionJson> =>
    (await ok(w.t.gql<{ endSession: SessionJson }>(END_SESSION, { id }, { auth }))).endSession;

  const vendorCreates = (kind: HttpKind): number =>
    w.calls(kind).filter(VENDOR_CREATE[kind]).length;

  /** Every row (any status, CREATING included) of a tenant that holds this customSessionId. */
  const rowsForKey = (tenantId: string, key: string) =>
    w.t.ds.query<Array<{ id: string; status: string; external_id: string | null }>>(
      'SELECT id, status, external_id FROM video_session WHERE tenant_id = $1 AND custom_id = $2 ORDER BY created_at',
      [tenantId, key],
    );

  /** Successful session.created events of a tenant that name this customSessionId. */
  const sessionCreatedEvents = (tenantId: string, key: string) =>
    w.t.ds.query<Array<{ target_id: string; via: string }>>(
      `SELECT target_id, metadata->>'via' AS via FROM audit_event
        WHERE tenant_id = $1 AND action = 'session.created' AND outcome = 'SUCCESS'
          AND metadata->>'customSessionId' = $2`,
      [tenantId, key],
    );

  /** How many successful connection.created events of a tenant target one of these ids. */
  const connectionCreatedEvents = async (tenantId: string, ids: string[]): Promise<number> => {
    const rows = await w.t.ds.query<Array<{ target_id: string }>>(
      `SELECT target_id FROM audit_event
        WHERE tenant_id = $1 AND action = 'connection.created' AND outcome = 'SUCCESS'`,
      [tenantId],
    );
    const wanted = new Set(ids);
    return rows.filter((r) => wanted.has(r.target_id)).length;
  };

  const verifyAudit = async (auth: string, t: TestApp = w.t) =>
    (
      await ok(
        t.gql<{ verifyAuditLog: { ok: boolean; reason: string | null } }>(VERIFY, {}, { auth }),
      )
    ).verifyAuditLog;

  /** Asserts one open session for the key, one vendor create and one session.created event. */
  const expectExactlyOne = async (kind: Kind, key: string, ids: string[]): Promise<void> => {
    expect(new Set(ids).size).toBe(1);
    const rows = await rowsForKey(w.a.tenant.id, key);
    expect(rows).toEqual([{ id: ids[0], status: 'ACTIVE', external_id: expect.any(String) }]);
    expect(await sessionCreatedEvents(w.a.tenant.id, key)).toEqual([
      { target_id: ids[0], via: expect.any(String) },
    ]);
    if (isHttpKind(kind)) expect(vendorCreates(kind)).toBe(1);
    else expect(w.totalCalls()).toBe(0);
  };

  describe('createSession with a customSessionId under concurrency', () => {
    it.each(KINDS)(
      'should return one %s session, call the vendor once and audit once when 50 identical createSession calls run in parallel',
      async (kind) => {
        const key = `par-${kind.toLowerCase()}-${uniq()}`;
        // Two principals of the tenant: idempotency is per tenant, credential and key, not per caller.
        const sessions = await settleAll(
          Array.from({ length: 50 }, (_, i) =>
            createSession(
              { provider: kind, customSessionId: key },
              i % 2 ? w.a.adminKey : w.a.memberKey,
            ),
          ),
        );
        await expectExactlyOne(
          kind,
          key,
          sessions.map((s) => s.id),
        );
        expect(new Set(sessions.map((s) => s.externalId)).size).toBe(1);
        expect(sessions[0]).toMatchObject({
          provider: kind,
          credentialId: w.a.creds[kind],
          customSessionId: key,
          status: 'ACTIVE',
        });
        const ext = sessions[0].externalId;
        if (kind === 'OPENVIDU') expect(w.ov.session(ext)).toBeDefined();
        if (kind === 'LIVEKIT') expect(w.lk.room(ext)).toBeDefined();
        if (kind === 'PEXIP') expect(w.px.meetings().filter((m) => m.id === ext)).toHaveLength(1);
        if (kind === 'FISHJAM') expect(w.fj.rooms().filter((r) => r.id === ext)).toHaveLength(1);
      },
    );

    it.each<HttpKind>(['OPENVIDU', 'PEXIP'])(
      'should create one %s session when two service instances without a shared in-flight map race on one key',
      async (kind) => {
        const app = w.t.app;
        const primary = app.get(SessionsService);
        // A second SessionsService over the same database: its in-flight map and its session
        // cache are its own, as in another process, so only the database claim can keep the two
        // apart.
        const twinCache = new SessionCache(app.get(Caches));
        const twin = new SessionsService(
          w.t.ds,
          app.get(CredentialVault),
          app.get(ProviderRegistry),
          app.get(AuditService),
          new SessionCreator(
            w.t.ds,
            app.get<AppConfig>(APP_CONFIG),
            app.get(ProviderRegistry),
            app.get(AuditService),
            twinCache,
          ),
          twinCache,
          app.get(CredentialLifecycle),
        );
        const ctx = RequestContext.system(w.a.tenant);
        const key = `twin-${kind.toLowerCase()}-${uniq()}`;
        const req = { provider: ProviderKind[kind], customSessionId: key };
        const created = await settleAll(
          Array.from({ length: 40 }, (_, i) => (i % 2 ? twin : primary).create(ctx, req)),
        );
        await expectExactlyOne(
          kind,
          key,
          created.map((s) => s.id),
        );
      },
    );

    it('should create one LiveKit room and 30 distinct recorded tokens when 30 compat token requests name one room in parallel', async () => {
      const room = `compat-room-${uniq()}`;
      const res = await settleAll(
        Array.from({ length: 30 }, (_, i) =>
          w.t
            .http()
            .post(`/t/${w.a.tenant.slug}/livekit/token`)
            .set('authorization', w.a.adminKey)
            .send({ roomName: room, participantName: `p-${i}` })
            .then((r) => ({ status: r.status, body: r.body as { token?: string } })),
        ),
      );
      expect(res.map((r) => r.status)).toEqual(res.map(() => 200));
      const tokens = res.map((r) => String(r.body.token));
      expect(new Set(tokens).size).toBe(30);
      const claims = tokens.map((tk) => w.lk.verify(tk));
      expect(new Set(claims.map((c) => c.video?.room))).toEqual(new Set([room]));
      expect(new Set(claims.map((c) => c.sub)).size).toBe(30);

      const rows = await rowsForKey(w.a.tenant.id, room);
      expect(rows).toEqual([{ id: expect.any(String), status: 'ACTIVE', external_id: room }]);
      expect(vendorCreates('LIVEKIT')).toBe(1);
      expect(await sessionCreatedEvents(w.a.tenant.id, room)).toEqual([
        { target_id: rows[0].id, via: 'compat.livekit' },
      ]);
      const conns = await w.t.ds.query<Array<{ id: string; identity: string }>>(
        'SELECT id, identity FROM session_connection WHERE tenant_id = $1 AND session_id = $2',
        [w.a.tenant.id, rows[0].id],
      );
      expect(conns).toHaveLength(30);
      expect(new Set(conns.map((c) => c.identity)).size).toBe(30);
      expect(
        await connectionCreatedEvents(
          w.a.tenant.id,
          conns.map((c) => c.id),
        ),
      ).toBe(30);
    });

    it('should answer one session id and create the OpenVidu session once when 30 compat session requests carry one customSessionId in parallel', async () => {
      const key = `compat-ov-${uniq()}`;
      const res = await settleAll(
        Array.from({ length: 30 }, () =>
          w.t
            .http()
            .post(`/t/${w.a.tenant.slug}/openvidu/api/sessions`)
            .set('authorization', w.a.adminKey)
            .send({ customSessionId: key })
            .then((r) => ({ status: r.status, text: r.text })),
        ),
      );
      expect(res).toEqual(res.map(() => ({ status: 200, text: key })));
      const rows = await rowsForKey(w.a.tenant.id, key);
      expect(rows).toEqual([{ id: expect.any(String), status: 'ACTIVE', external_id: key }]);
      expect(vendorCreates('OPENVIDU')).toBe(1);
      expect(await sessionCreatedEvents(w.a.tenant.id, key)).toEqual([
        { target_id: rows[0].id, via: 'compat.openvidu' },
      ]);
    });

    it.each<HttpKind>(['OPENVIDU', 'PEXIP'])(
      'should create a new %s session when the key is used again after its session ended',
      async (kind) => {
        const key = `again-${kind.toLowerCase()}-${uniq()}`;
        const first = await createSession({ provider: kind, customSessionId: key });
        expect((await endSession(first.id)).status).toBe('ENDED');
        const again = await settleAll(
          Array.from({ length: 10 }, () => createSession({ provider: kind, customSessionId: key })),
        );
        expect(new Set(again.map((s) => s.id)).size).toBe(1);
        const second = again[0];
        expect(second.id).not.toBe(first.id);
        expect(second.status).toBe('ACTIVE');
        if (kind === 'OPENVIDU') {
          expect(second.externalId).toBe(key);
          expect(w.ov.session(key)).toBeDefined();
        } else {
          expect(second.externalId).not.toBe(first.externalId);
          expect(w.px.meetings().map((m) => m.id)).toContain(second.externalId);
        }
        expect(await rowsForKey(w.a.tenant.id, key)).toEqual([
          { id: first.id, status: 'ENDED', external_id: first.externalId },
          { id: second.id, status: 'ACTIVE', external_id: second.externalId },
        ]);
        expect(vendorCreates(kind)).toBe(2);
        expect((await sessionCreatedEvents(w.a.tenant.id, key)).map((e) => e.target_id)).toEqual(
          expect.arrayContaining([first.id, second.id]),
        );
        expect(await sessionCreatedEvents(w.a.tenant.id, key)).toHaveLength(2);
      },
    );

    /** A CREATING row as an instance that died during its vendor call leaves it. */
    const insertOrphanClaim = async (kind: Kind, key: string, ageSql: string): Promise<string> => {
      const [row] = await w.t.ds.query<Array<{ id: string }>>(
        `INSERT INTO video_session
           (tenant_id, provider, credential_id, custom_id, status, created_by_type, created_by_label,
            created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'CREATING', 'SYSTEM', 'crashed-instance',
                 now() - interval '${ageSql}', now() - interval '${ageSql}')
         RETURNING id`,
        [w.a.tenant.id, kind, w.a.creds[kind], key],
      );
      return row.id;
    };

    it.each<HttpKind>(['OPENVIDU', 'FISHJAM'])(
      'should create the %s session when the key is held by an old claim of a crashed instance',
      async (kind) => {
        const key = `orphan-${kind.toLowerCase()}-${uniq()}`;
        const claimId = await insertOrphanClaim(kind, key, '1 hour');
        // The half-created row is invisible meanwhile.
        expectError(await w.t.gql(SESSION, { id: claimId }, { auth: w.a.adminKey }), 'NOT_FOUND');

        const sessions = await settleAll(
          Array.from({ length: 10 }, () => createSession({ provider: kind, customSessionId: key })),
        );
        expect(sessions[0].id).not.toBe(claimId);
        await expectExactlyOne(
          kind,
          key,
          sessions.map((s) => s.id),
        );
      },
    );

    it('should create the session within a retry when a fresh claim of a crashed instance holds the key', async () => {
      const key = `orphan-fresh-${uniq()}`;
      await insertOrphanClaim('OPENVIDU', key, '0 seconds');
      // The claim looks alive at first, so a call waits; once the claim is older than the longest
      // vendor call it is taken over (a call that gave up first would answer CONFLICT).
      const codes: string[] = [];
      let created: SessionJson | undefined;
      for (let attempt = 0; attempt < 3 && !created; attempt++) {
        const r = await w.t.gql<{ createSession: SessionJson }>(
          CREATE_SESSION,
          { input: { provider: 'OPENVIDU', customSessionId: key } },
          { auth: w.a.adminKey },
        );
        if (r.body.data?.createSession) created = r.body.data.createSession;
        else codes.push(String(r.body.errors?.[0]?.extensions?.code));
      }
      expect(codes.filter((c) => c !== 'CONFLICT')).toEqual([]);
      expect(created).toBeDefined();
      await expectExactlyOne('OPENVIDU', key, [created!.id]);
    });
  });

  describe('createConnection on one session under concurrency', () => {
    const issue100 = async (kind: Kind, extra: Record<string, unknown> = {}) => {
      const s = await createSession({ provider: kind, customSessionId: `conns-${uniq()}` });
      w.quiet();
      const conns = await settleAll(
        Array.from({ length: 100 }, () => createConnection({ sessionId: s.id, ...extra })),
      );
      expect(new Set(conns.map((c) => c.id)).size).toBe(100);
      expect(conns.every((c) => c.sessionId === s.id && c.status === 'ISSUED')).toBe(true);
      expect(
        await connectionCreatedEvents(
          w.a.tenant.id,
          conns.map((c) => c.id),
        ),
      ).toBe(100);
      expect(await verifyAudit(w.a.admin.auth)).toMatchObject({ ok: true, reason: null });
      return { s, conns, creds: conns.map((c) => c.credential!) };
    };

    it('should issue 100 distinct OpenVidu tokens the emulator knows when 100 createConnection calls run in parallel', async () => {
      const { s, creds } = await issue100('OPENVIDU');
      const tokens = creds.map((c) => String(c.token));
      const vendorIds = creds.map((c) => String(c.connectionId));
      expect(new Set(tokens).size).toBe(100);
      expect(new Set(vendorIds).size).toBe(100);
      for (const c of creds) {
        expect(w.ov.connection(s.externalId, String(c.connectionId))?.token).toBe(c.token);
      }
      expect(w.ov.session(s.externalId)?.connections.numberOfElements).toBe(100);
      expect(
        w.ov.calls.filter(
          (c) =>
            c.method === 'POST' && c.path === `/openvidu/api/sessions/${s.externalId}/connection`,
        ),
      ).toHaveLength(100);
    });

    it('should issue 100 distinct Red5 credentials that each validate when 100 createConnection calls run in parallel', async () => {
      const { s, creds } = await issue100('RED5');
      for (const field of ['token', 'username', 'password']) {
        expect(new Set(creds.map((c) => String(c[field]))).size).toBe(100);
      }
      const answers = await settleAll(
        creds.map((c) =>
          w.t
            .http()
            .post(`/t/${w.a.tenant.slug}/red5/validateCredentials`)
            .send({
              type: 'publisher',
              streamID: s.externalId,
              username: c.username,
              password: c.password,
              token: c.token,
            })
            .then((r) => r.body as unknown),
        ),
      );
      expect(answers).toEqual(answers.map(() => ({ result: true })));
    });

    it('should issue 100 distinct, correctly signed Agora tokens when 100 createConnection calls run in parallel', async () => {
      const { s, creds } = await issue100('AGORA');
      const tokens = creds.map((c) => String(c.token));
      expect(new Set(tokens).size).toBe(100);
      for (const tk of tokens) {
        const decoded = decodeAgoraToken(tk);
        expect(decoded.appId).toBe(w.secrets.agoraAppId);
        expect(verifyAgoraSignature(decoded, w.secrets.agoraCertificate)).toBe(true);
      }
      expect(new Set(creds.map((c) => c.channel))).toEqual(new Set([s.externalId]));
    });
  });

  if (process.env.DATABASE_URL) {
    describe('when two Roomkey instances share one PostgreSQL database', () => {
      let second: TestApp | undefined;

      beforeAll(async () => {
        second = await startTestApp({
          DATABASE_URL: w.t.config.database.url as string,
          ROOMKEY_PROVIDER_TIMEOUT_MS: '5000',
        });
      }, 180_000);
      afterAll(() => second?.close());

      it.each<HttpKind>(['OPENVIDU', 'LIVEKIT', 'PEXIP', 'FISHJAM'])(
        'should create one %s session and call the vendor once when 25 identical createSession calls run on each instance',
        async (kind) => {
          const other = second;
          if (!other) throw new Error('the second instance did not start');
          const key = `xinst-${kind.toLowerCase()}-${uniq()}`;
          const input = { provider: kind, customSessionId: key };
          const sessions = await settleAll(
            Array.from({ length: 50 }, (_, i) =>
              createSession(input, w.a.adminKey, i % 2 ? other : w.t),
            ),
          );
          await expectExactlyOne(
            kind,
            key,
            sessions.map((s) => s.id),
          );
          expect(await verifyAudit(w.a.admin.auth, other)).toMatchObject({ ok: true });
        },
      );
    });
  }

  describe("tenant isolation: tenant A's principals and tenant B's sessions", () => {
    /** B's session and one connection for every vendor, created by B's admin. */
    const bSession = {} as Record<Kind, SessionJson>;
    const bConnection = {} as Record<Kind, ConnectionJson>;
    let aSession: SessionJson;
    let aConnection: ConnectionJson;

    const principals: Array<[string, (x: WorldTenant) => string]> = [
      ['admin user', (x) => x.admin.auth],
      ['ADMIN API key', (x) => x.adminKey],
    ];

    /** Everything of B a cross-tenant call could change: rows, audit chain and vendor state. */
    const snapshotB = async () => ({
      sessions: await w.t.ds.query(
        'SELECT id, status, external_id, custom_id, credential_id, ended_at, end_reason, updated_at FROM video_session WHERE tenant_id = $1 ORDER BY id',
        [w.b.tenant.id],
      ),
      connections: await w.t.ds.query(
        'SELECT id, session_id, status, external_id, revoked_at, updated_at FROM session_connection WHERE tenant_id = $1 ORDER BY id',
        [w.b.tenant.id],
      ),
      audit: await w.t.ds.query(
        'SELECT count(*)::int AS n, max(seq)::text AS head FROM audit_event WHERE tenant_id = $1',
        [w.b.tenant.id],
      ),
      // Rows anywhere made with B's credentials outside B.
      foreign: await w.t.ds.query(
        `SELECT count(*)::int AS n FROM video_session
          WHERE tenant_id <> $1 AND credential_id IN (SELECT id FROM provider_credential WHERE tenant_id = $1)`,
        [w.b.tenant.id],
      ),
      vendors: {
        ov: w.ov.session(bSession.OPENVIDU.externalId),
        lk: w.lk.room(bSession.LIVEKIT.externalId),
        px: w.px.meetings().find((m) => m.id === bSession.PEXIP.externalId),
        fj: w.fj.rooms().find((r) => r.id === bSession.FISHJAM.externalId),
      },
    });

    let before: Awaited<ReturnType<typeof snapshotB>>;

    beforeAll(async () => {
      for (const kind of KINDS) {
        bSession[kind] = await createSession(
          { provider: kind, customSessionId: `iso-b-${kind.toLowerCase()}-${uniq()}` },
          w.b.admin.auth,
        );
        bConnection[kind] = await createConnection(
          { sessionId: bSession[kind].id },
          w.b.admin.auth,
        );
      }
      aSession = await createSession({ provider: 'OPENVIDU', customSessionId: `iso-a-${uniq()}` });
      aConnection = await createConnection({ sessionId: aSession.id });
      // Control: the ids are real and B's own principal reaches them.
      for (const kind of KINDS) {
        const r = await ok(
          w.t.gql<{ session: { id: string } }>(
            SESSION_CONNECTIONS,
            { id: bSession[kind].id },
            { auth: w.b.adminKey },
          ),
        );
        expect(r.session).toEqual({
          id: bSession[kind].id,
          connections: [{ id: bConnection[kind].id, sessionId: bSession[kind].id }],
        });
      }
      expect(w.ov.session(bSession.OPENVIDU.externalId)?.connections.numberOfElements).toBe(1);
      expect(w.px.meetings().map((m) => m.id)).toContain(bSession.PEXIP.externalId);
      expect(w.fj.rooms().map((r) => r.id)).toContain(bSession.FISHJAM.externalId);
      expect(w.lk.room(bSession.LIVEKIT.externalId)).toBeDefined();
      // B's principals authenticated above; their per-minute summaries are written when the minute
      // closes. Write them now, so the snapshot holds them and a minute closing mid-suite adds nothing.
      await w.t.app.get(AuthSuccessSummary).flush();
      before = await snapshotB();
    }, 180_000);

    /** Nothing of B changed and no vendor was called. */
    const expectBUntouched = async (): Promise<void> => {
      expect(await snapshotB()).toEqual(before);
      expect(w.totalCalls()).toBe(0);
    };

    const each = KINDS.flatMap((kind) =>
      principals.map(([who, auth]) => [kind, who, auth] as [Kind, string, typeof auth]),
    );

    it.each(each)(
      "should answer NOT_FOUND when B's %s session is read by A's %s",
      async (kind, _who, auth) => {
        expectError(
          await w.t.gql(SESSION, { id: bSession[kind].id }, { auth: auth(w.a) }),
          'NOT_FOUND',
        );
        expectError(
          await w.t.gql(SESSION_CONNECTIONS, { id: bSession[kind].id }, { auth: auth(w.a) }),
          'NOT_FOUND',
        );
        await expectBUntouched();
      },
    );

    it.each(principals)(
      "should never list B's sessions, not even filtered by B's creator, when A's %s lists sessions",
      async (_who, auth) => {
        const listAll = async (filter: Record<string, unknown> | null) => {
          const ids: Array<{ id: string; createdBy: string | null }> = [];
          let after: string | null = null;
          for (let page = 0; page < 50; page++) {
            const r: {
              sessions: {
                nodes: Array<{ id: string; createdBy: string | null }>;
                pageInfo: { hasNextPage: boolean; endCursor: string | null };
              };
            } = await ok(w.t.gql(SESSIONS, { f: filter, after }, { auth: auth(w.a) }));
            ids.push(...r.sessions.nodes);
            if (!r.sessions.pageInfo.hasNextPage) break;
            after = r.sessions.pageInfo.endCursor;
          }
          return ids;
        };
        const all = await listAll(null);
        // The listing works: A's own session is there.
        expect(all.map((n) => n.id)).toContain(aSession.id);
        const bIds = new Set(KINDS.map((k) => bSession[k].id));
        expect(all.filter((n) => bIds.has(n.id))).toEqual([]);
        expect(all.filter((n) => n.createdBy === w.b.admin.id)).toEqual([]);
        expect(await listAll({ createdBy: w.b.admin.id })).toEqual([]);
        for (const kind of KINDS) {
          const byKind = await listAll({ provider: kind, status: 'ACTIVE' });
          expect(byKind.filter((n) => bIds.has(n.id))).toEqual([]);
        }
        await expectBUntouched();
      },
    );

    it.each(each)(
      "should answer NOT_FOUND and leave the room open when B's %s session is ended by A's %s",
      async (kind, _who, auth) => {
        expectError(
          await w.t.gql(END_SESSION, { id: bSession[kind].id }, { auth: auth(w.a) }),
          'NOT_FOUND',
        );
        await expectBUntouched();
      },
    );

    it.each(each)(
      "should answer NOT_FOUND and issue nothing when a %s connection for B's session is requested by A's %s",
      async (kind, _who, auth) => {
        expectError(
          await w.t.gql(
            CREATE_CONNECTION,
            { input: { sessionId: bSession[kind].id } },
            { auth: auth(w.a) },
          ),
          'NOT_FOUND',
        );
        await expectBUntouched();
      },
    );

    it.each(each)(
      "should answer NOT_FOUND and keep the credential valid when B's %s connection is revoked by A's %s",
      async (kind, _who, auth) => {
        expectError(
          await w.t.gql(REVOKE_CONNECTION, { id: bConnection[kind].id }, { auth: auth(w.a) }),
          'NOT_FOUND',
        );
        await expectBUntouched();
      },
    );

    it.each(each)(
      "should answer NOT_FOUND and create nothing when a %s session is created by A's %s with B's credential",
      async (kind, _who, auth) => {
        const aBefore = await w.t.ds.query(
          'SELECT count(*)::int AS n FROM video_session WHERE tenant_id = $1',
          [w.a.tenant.id],
        );
        expectError(
          await w.t.gql(
            CREATE_SESSION,
            { input: { credentialId: w.b.creds[kind], customSessionId: `iso-x-${uniq()}` } },
            { auth: auth(w.a) },
          ),
          'NOT_FOUND',
        );
        expectError(
          await w.t.gql(
            CREATE_SESSION,
            { input: { provider: kind, credentialId: w.b.creds[kind] } },
            { auth: auth(w.a) },
          ),
          'NOT_FOUND',
        );
        expect(
          await w.t.ds.query('SELECT count(*)::int AS n FROM video_session WHERE tenant_id = $1', [
            w.a.tenant.id,
          ]),
        ).toEqual(aBefore);
        await expectBUntouched();
      },
    );

    it.each(principals)(
      "should answer NOT_FOUND when A's %s creates a meeting with B's Pexip credential",
      async (_who, auth) => {
        expectError(
          await w.t.gql(
            CREATE_MEETING,
            { input: { credentialId: w.b.creds.PEXIP } },
            { auth: auth(w.a) },
          ),
          'NOT_FOUND',
        );
        await expectBUntouched();
      },
    );

    it.each(principals)(
      "should answer NOT_FOUND and add no participant when A's %s creates a participant in B's meeting",
      async (_who, auth) => {
        const meetingId = bSession.PEXIP.externalId;
        // A's default Pexip credential does not own B's meeting…
        expectError(
          await w.t.gql(CREATE_PARTICIPANT, { input: { meetingId } }, { auth: auth(w.a) }),
          'NOT_FOUND',
        );
        // …and B's credential is not A's to name.
        expectError(
          await w.t.gql(
            CREATE_PARTICIPANT,
            { input: { meetingId, credentialId: w.b.creds.PEXIP } },
            { auth: auth(w.a) },
          ),
          'NOT_FOUND',
        );
        await expectBUntouched();
      },
    );

    it.each(principals)(
      "should list only A's own connections when A's %s reads the connections of A's session",
      async (_who, auth) => {
        const r = await ok(
          w.t.gql<{ session: { id: string; connections: Array<{ id: string }> } }>(
            SESSION_CONNECTIONS,
            { id: aSession.id },
            { auth: auth(w.a) },
          ),
        );
        expect(r.session.connections).toEqual([{ id: aConnection.id, sessionId: aSession.id }]);
        await expectBUntouched();
      },
    );

    it("should answer 404 and add no vendor connection when A's key asks the OpenVidu compat route for a connection to B's session", async () => {
      const ext = bSession.OPENVIDU.externalId;
      const base = `/t/${w.a.tenant.slug}/openvidu/api/sessions/${encodeURIComponent(ext)}/connections`;
      for (const path of [base, `${base}?credential=${w.b.creds.OPENVIDU}`]) {
        const r = await w.t.http().post(path).set('authorization', w.a.adminKey).send({});
        expect({ status: r.status, text: r.text }).toEqual({ status: 404, text: '' });
      }
      expect(w.ov.session(ext)?.connections.numberOfElements).toBe(1);
      await expectBUntouched();
    });

    it("should answer 403 and call no vendor when A's key uses B's slug on a compat route", async () => {
      const ext = bSession.OPENVIDU.externalId;
      const r1 = await w.t
        .http()
        .post(`/t/${w.b.tenant.slug}/openvidu/api/sessions/${encodeURIComponent(ext)}/connections`)
        .set('authorization', w.a.adminKey)
        .send({});
      const r2 = await w.t
        .http()
        .post(`/t/${w.b.tenant.slug}/livekit/token`)
        .set('authorization', w.a.adminKey)
        .send({ roomName: bSession.LIVEKIT.externalId, participantName: 'intruder' });
      expect([r1.status, r2.status]).toEqual([403, 403]);
      await expectBUntouched();
    });

    it("should answer result false on A's slug and true on B's slug when Red5 validates B's credential", async () => {
      const cred = bConnection.RED5.credential!;
      const body = {
        type: 'publisher',
        streamID: bSession.RED5.externalId,
        username: cred.username,
        password: cred.password,
        token: cred.token,
      };
      const onA = await w.t
        .http()
        .post(`/t/${w.a.tenant.slug}/red5/validateCredentials`)
        .send(body);
      expect({ status: onA.status, body: onA.body as unknown }).toEqual({
        status: 200,
        body: { result: false },
      });
      await expectBUntouched();
      // Control (writes B's audit chain, so last): the same credential is good on its own slug.
      const onB = await w.t
        .http()
        .post(`/t/${w.b.tenant.slug}/red5/validateCredentials`)
        .send(body);
      expect(onB.body).toEqual({ result: true });
    });
  });
});
