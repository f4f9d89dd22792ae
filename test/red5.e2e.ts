/**
 * Red5 Pro round-trip authentication is strict (docs/security.md S12, README "Red5 Pro round-trip
 * authentication"): `POST /t/:slug/red5/validateCredentials` answers HTTP 200 `{"result": true}`
 * only for an unexpired, unrevoked credential of that tenant whose stream, type and every secret
 * sent match; everything else — malformed, oversized, foreign, stale — is HTTP 200
 * `{"result": false}`. `invalidateCredentials` marks a credential used. Each answer writes exactly
 * one audit event with a reason code; the body and the secrets are never logged, stored or audited.
 * Red5 sends no credential of its own, so these requests carry no Authorization header.
 */
import { createHash, randomBytes } from 'node:crypto';
import request from 'supertest';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  type ConnectionJson,
  END_SESSION,
  REVOKE_CONNECTION,
  type SessionJson,
  type VendorWorld,
  type WorldTenant,
  ok,
  startVendorWorld,
} from './helpers/vendors';
import { type AuditRow, auditCount, auditRows } from './helpers/audit';

type Op = 'validateCredentials' | 'invalidateCredentials';
type Role = 'PUBLISHER' | 'MODERATOR' | 'SUBSCRIBER';

/** What a Red5 request got back, and the request id its audit events carry. */
interface Sent {
  status: number;
  body: unknown;
  requestId: string;
}

interface SendOptions {
  /** `null` sends no Content-Type header. */
  contentType?: string | null;
  headers?: Record<string, string>;
}

/** One issued Red5 credential, as the client received it from createConnection. */
interface Issued {
  tenant: WorldTenant;
  sessionId: string;
  connectionId: string;
  streamId: string;
  type: 'publisher' | 'subscriber';
  username: string;
  password: string;
  token: string;
}

const NO = { status: 200, body: { result: false } };
const YES = { status: 200, body: { result: true } };
const uniq = (): string => randomBytes(4).toString('hex');
const sha256 = (v: string): Buffer => createHash('sha256').update(v).digest();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The fields Red5's RoundTripAuthValidator sends, in Gson's declaration order. */
const full = (c: Issued): Record<string, unknown> => ({
  type: c.type,
  username: c.username,
  password: c.password,
  streamID: c.streamId,
  token: c.token,
});

describe('Red5 round-trip authentication (validateCredentials / invalidateCredentials)', () => {
  let w: VendorWorld;
  /** Every secret handed out or sent in this file: none may reach a log line, a row or an event. */
  const canaries: string[] = [];

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());
  // Red5 validation is local: no vendor is ever called.
  afterEach(() => expect(w.totalCalls()).toBe(0));

  const server = () => w.t.app.getHttpServer() as Parameters<typeof request>[0];

  async function send(
    slug: string,
    op: Op,
    body: Record<string, unknown> | unknown[] | string | Buffer | undefined,
    opts: SendOptions = {},
  ): Promise<Sent> {
    const requestId = `red5-${uniq()}${uniq()}`;
    const req = request(server()).post(`/t/${slug}/red5/${op}`).set('x-request-id', requestId);
    const contentType = opts.contentType === undefined ? 'application/json' : opts.contentType;
    if (contentType !== null) req.set('content-type', contentType);
    for (const [k, v] of Object.entries(opts.headers ?? {})) req.set(k, v);
    const payload =
      body === undefined || typeof body === 'string' || Buffer.isBuffer(body)
        ? body
        : JSON.stringify(body);
    const res = await (payload === undefined ? req : req.send(payload));
    return { status: res.status, body: res.body as unknown, requestId };
  }

  const validate = (
    tenant: WorldTenant,
    body: Parameters<typeof send>[2],
    opts?: SendOptions,
  ): Promise<Sent> => send(tenant.tenant.slug, 'validateCredentials', body, opts);
  const invalidate = (
    tenant: WorldTenant,
    body: Parameters<typeof send>[2],
    opts?: SendOptions,
  ): Promise<Sent> => send(tenant.tenant.slug, 'invalidateCredentials', body, opts);

  /** The answer, and exactly one audit event of `action` in `tenant` with that reason. */
  async function expectAnswer(
    sent: Sent,
    result: boolean,
    tenant: WorldTenant,
    action: 'red5.validated' | 'red5.invalidated',
    reason: string,
    outcome: unknown = result ? 'SUCCESS' : 'DENIED',
  ): Promise<AuditRow> {
    expect({ status: sent.status, body: sent.body }).toEqual(result ? YES : NO);
    const events = await auditRows(w.t, { requestId: sent.requestId });
    expect(
      events.map((e) => ({
        tenant: e.tenant_id,
        action: e.action,
        outcome: e.outcome,
        reason: e.metadata.reason,
      })),
    ).toEqual([{ tenant: tenant.tenant.id, action, outcome, reason }]);
    return events[0];
  }

  const accepted = async (c: Issued, body: Parameters<typeof send>[2], opts?: SendOptions) =>
    expectAnswer(await validate(c.tenant, body, opts), true, c.tenant, 'red5.validated', 'ok');
  const denied = async (
    tenant: WorldTenant,
    body: Parameters<typeof send>[2],
    reason: string,
    opts?: SendOptions,
  ) => expectAnswer(await validate(tenant, body, opts), false, tenant, 'red5.validated', reason);

  async function createSession(
    tenant: WorldTenant,
    streamId: string,
    credentialId?: string,
  ): Promise<SessionJson> {
    const input = { provider: 'RED5', customSessionId: streamId, credentialId };
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

  async function connect(
    tenant: WorldTenant,
    session: SessionJson,
    role: Role = 'PUBLISHER',
    ttlSeconds = 600,
  ): Promise<Issued> {
    const input = { sessionId: session.id, role, ttlSeconds };
    const c = (
      await ok(
        w.t.gql<{ createConnection: ConnectionJson }>(
          CREATE_CONNECTION,
          { input },
          {
            auth: tenant.admin.auth,
          },
        ),
      )
    ).createConnection;
    const cred = c.credential as unknown as {
      __typename: string;
      streamId: string;
      type: 'publisher' | 'subscriber';
      username: string;
      password: string;
      token: string;
    };
    expect(cred.__typename).toBe('Red5Credential');
    expect(cred.streamId).toBe(session.externalId);
    canaries.push(cred.token, cred.password);
    return {
      tenant,
      sessionId: session.id,
      connectionId: c.id,
      streamId: cred.streamId,
      type: cred.type,
      username: cred.username,
      password: cred.password,
      token: cred.token,
    };
  }

  /** A fresh stream (RED5 session) in `tenant` with one credential of `role`. */
  async function issue(
    tenant: WorldTenant = w.a,
    role: Role = 'PUBLISHER',
    ttlSeconds = 600,
  ): Promise<Issued> {
    const session = await createSession(tenant, `st-${uniq()}`);
    return connect(tenant, session, role, ttlSeconds);
  }

  const statusOf = async (c: Issued): Promise<{ status: string; revoked: boolean }> => {
    const [row] = await w.t.ds.query<Array<{ status: string; revoked: boolean }>>(
      'SELECT status::text AS status, revoked_at IS NOT NULL AS revoked FROM session_connection WHERE id = $1',
      [c.connectionId],
    );
    return row;
  };

  const revokedAtOf = async (c: Issued): Promise<string | null> => {
    const [row] = await w.t.ds.query<Array<{ at: string | null }>>(
      'SELECT revoked_at::text AS at FROM session_connection WHERE id = $1',
      [c.connectionId],
    );
    return row.at;
  };

  describe('a full match', () => {
    it('should answer true when only the token is sent', async () => {
      const c = await issue();
      const event = await accepted(c, { type: c.type, streamID: c.streamId, token: c.token });
      expect(event).toMatchObject({
        actor_type: 'VENDOR',
        actor_label: 'red5',
        auth_method: 'NONE',
        target_type: 'connection',
        target_id: c.connectionId,
        metadata: {
          reason: 'ok',
          type: 'publisher',
          streamId: c.streamId,
          connectionId: c.connectionId,
        },
      });
    });

    it('should answer true when username and password are sent without a token', async () => {
      const c = await issue();
      await accepted(c, {
        type: c.type,
        username: c.username,
        password: c.password,
        streamID: c.streamId,
      });
    });

    it('should answer true when token, username and password are all sent and match', async () => {
      const c = await issue();
      await accepted(c, full(c));
    });

    it.each([
      ['PUBLISHER', 'publisher', 'subscriber'],
      ['MODERATOR', 'publisher', 'subscriber'],
      ['SUBSCRIBER', 'subscriber', 'publisher'],
    ] as const)(
      'should answer true only with type %s→%s when the credential was issued for that role',
      async (role, type, other) => {
        const c = await issue(w.a, role);
        expect(c.type).toBe(type);
        await accepted(c, { ...full(c), type });
        await denied(w.a, { ...full(c), type: other }, 'wrong_type');
      },
    );

    it('should ignore unknown fields when Red5 adds scope and others', async () => {
      const c = await issue();
      await accepted(c, { ...full(c), scope: 'live', extra: { nested: [1, 2] }, url: 'x' });
    });

    it('should treat an empty token as absent when username and password are sent', async () => {
      // Red5 sends token "" when the client gave none.
      const c = await issue();
      await accepted(c, { ...full(c), token: '' });
    });

    it('should still require every other value to match when the token is empty', async () => {
      const c = await issue();
      await denied(w.a, { ...full(c), token: '', password: `${c.password}x` }, 'wrong_password');
    });

    it('should parse the raw body whatever its content type when it is valid JSON', async () => {
      // The README promises an answer by the values sent; the raw body is read whatever its type.
      const c = await issue();
      await accepted(c, JSON.stringify(full(c)), { contentType: 'text/plain' });
      await accepted(c, JSON.stringify(full(c)), { contentType: null });
      await accepted(c, JSON.stringify(full(c)), {
        contentType: 'application/x-www-form-urlencoded',
      });
    });

    it('should answer true when the body is exactly 64 KiB and carries a valid credential', async () => {
      const c = await issue();
      const base = JSON.stringify({ ...full(c), scope: '' });
      const body = JSON.stringify({ ...full(c), scope: 'p'.repeat(64 * 1024 - base.length) });
      expect(Buffer.byteLength(body)).toBe(64 * 1024);
      await accepted(c, body);
    });

    it('should keep validating a credential when Red5 asks again before it is invalidated', async () => {
      const c = await issue();
      await accepted(c, full(c));
      await accepted(c, full(c));
    });
  });

  describe('a malformed or incomplete body', () => {
    it.each([
      ['not JSON', '{"type":"publisher",', 'not_json'],
      ['plain text', 'hello', 'not_json'],
      ['a JSON array', '[{"type":"publisher"}]', 'not_an_object'],
      ['a JSON string', '"publisher"', 'not_an_object'],
      ['a JSON number', '42', 'not_an_object'],
      ['JSON null', 'null', 'not_an_object'],
      ['an empty object', '{}', 'missing_stream'],
    ])('should answer false when the body is %s', async (_what, body, reason) => {
      await denied(w.a, body, reason);
    });

    it('should answer false when the body is empty', async () => {
      await denied(w.a, undefined, 'empty_body');
      await denied(w.a, '', 'empty_body', { contentType: null });
    });

    it('should answer false when a valid credential is wrapped in an array', async () => {
      const c = await issue();
      await denied(w.a, [full(c)], 'not_an_object');
    });

    it('should answer false when a valid credential is sent as a JSON string', async () => {
      const c = await issue();
      await denied(w.a, JSON.stringify(JSON.stringify(full(c))), 'not_an_object');
    });

    it('should answer false when the credential is sent form-encoded instead of as JSON', async () => {
      const c = await issue();
      const form = new URLSearchParams(full(c) as Record<string, string>).toString();
      await denied(w.a, form, 'not_json', { contentType: 'application/x-www-form-urlencoded' });
    });

    it('should answer false when streamID is missing or empty', async () => {
      const c = await issue();
      const { streamID: _s, ...rest } = full(c);
      await denied(w.a, rest, 'missing_stream');
      await denied(w.a, { ...full(c), streamID: '' }, 'missing_stream');
      await denied(w.a, { ...full(c), streamID: null }, 'missing_stream');
    });

    it('should answer false when the stream is sent as streamId instead of streamID', async () => {
      const c = await issue();
      const { streamID, ...rest } = full(c);
      await denied(w.a, { ...rest, streamId: streamID }, 'missing_stream');
    });

    it('should answer false when type is missing', async () => {
      const c = await issue();
      const { type: _t, ...rest } = full(c);
      await denied(w.a, rest, 'bad_type');
    });

    it.each([['admin'], ['Publisher'], ['PUBLISHER'], [''], ['publisher ']])(
      'should answer false when type is %p',
      async (type) => {
        const c = await issue();
        await denied(w.a, { ...full(c), type }, 'bad_type');
      },
    );

    it('should answer false when neither a token nor a username and password are sent', async () => {
      const c = await issue();
      await denied(w.a, { type: c.type, streamID: c.streamId }, 'missing_credentials');
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, token: '', username: '', password: '' },
        'missing_credentials',
      );
    });

    it('should answer false when a username is sent without a password (and no token)', async () => {
      const c = await issue();
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, username: c.username },
        'missing_credentials',
      );
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, username: c.username, password: '', token: '' },
        'missing_credentials',
      );
    });

    it('should answer false when a password is sent without a username (and no token)', async () => {
      const c = await issue();
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, password: c.password },
        'missing_credentials',
      );
    });

    it.each<[string, unknown]>([
      ['token', 12345],
      ['token', true],
      ['username', { name: 'x' }],
      ['password', ['x']],
      ['password', 1.5],
      ['streamID', 7],
      ['streamID', ['s']],
    ])('should answer false when %s has the wrong JSON type (%p)', async (field, value) => {
      const c = await issue();
      await denied(w.a, { ...full(c), [field]: value }, 'bad_field');
    });

    it('should answer false when type has the wrong JSON type', async () => {
      const c = await issue();
      await denied(w.a, { ...full(c), type: 1 }, 'bad_type');
      await denied(w.a, { ...full(c), type: ['publisher'] }, 'bad_type');
    });

    it.each([['token'], ['username'], ['password'], ['streamID']])(
      'should answer false when %s is longer than 512 characters',
      async (field) => {
        const c = await issue();
        await denied(w.a, { ...full(c), [field]: 'a'.repeat(513) }, 'bad_field');
      },
    );
  });

  describe('a value that does not match', () => {
    it('should answer false when the password is wrong (username and password only)', async () => {
      const c = await issue();
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, username: c.username, password: `${c.password}x` },
        'wrong_password',
      );
    });

    it('should answer false when the token is right but the password is wrong', async () => {
      const c = await issue();
      await denied(w.a, { ...full(c), password: 'CANARY-wrong-password' }, 'wrong_password');
      canaries.push('CANARY-wrong-password');
    });

    it('should answer false when the token is right but the username is wrong', async () => {
      const c = await issue();
      const other = await issue();
      await denied(w.a, { ...full(c), username: 'rk_not_a_user' }, 'wrong_username');
      // Another real user name of the same tenant does not fit this token either.
      await denied(w.a, { ...full(c), username: other.username }, 'wrong_username');
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, token: c.token, username: other.username },
        'wrong_username',
      );
    });

    it('should answer false when the token is wrong but username and password are right', async () => {
      const c = await issue();
      const wrong = randomBytes(32).toString('base64url');
      await denied(w.a, { ...full(c), token: wrong }, 'unknown_credential');
      // Someone else's valid token with this user's name and password.
      const other = await issue();
      await denied(w.a, { ...full(c), token: other.token }, 'wrong_stream');
      await denied(
        w.a,
        { ...full(c), token: other.token, streamID: other.streamId },
        'wrong_username',
      );
    });

    it('should answer false when the user name is unknown', async () => {
      const c = await issue();
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, username: 'rk_nobody', password: c.password },
        'unknown_credential',
      );
    });

    it('should answer false when the credential belongs to another stream of the tenant', async () => {
      const c = await issue();
      const other = await issue();
      await denied(w.a, { ...full(c), streamID: other.streamId }, 'wrong_stream');
      await denied(
        w.a,
        { type: c.type, streamID: other.streamId, username: c.username, password: c.password },
        'wrong_stream',
      );
      await denied(w.a, { ...full(c), streamID: 'no-such-stream' }, 'wrong_stream');
    });

    it('should answer false when the stream name differs only in case', async () => {
      const c = await issue();
      await denied(w.a, { ...full(c), streamID: c.streamId.toUpperCase() }, 'wrong_stream');
    });

    it("should answer false when tenant B's credential is presented on tenant A's slug", async () => {
      const b = await issue(w.b);
      const before = await auditCount(w.t, { tenantId: w.b.tenant.id });
      const event = await denied(w.a, full(b), 'wrong_tenant');
      // Nothing about B's connection is written into A's log, and B's chain is untouched.
      expect(event.target_id).toBeNull();
      expect(event.metadata.connectionId).toBeNull();
      await denied(
        w.a,
        { type: b.type, streamID: b.streamId, username: b.username, password: b.password },
        'wrong_tenant',
      );
      await denied(w.a, { type: b.type, streamID: b.streamId, token: b.token }, 'wrong_tenant');
      expect(await auditCount(w.t, { tenantId: w.b.tenant.id })).toBe(before);
      // It still works where it was issued.
      await accepted(b, full(b));
    });

    it("should answer false when tenant A's credential is presented on tenant B's slug", async () => {
      const a = await issue(w.a);
      const before = await auditCount(w.t, { tenantId: w.a.tenant.id });
      await denied(w.b, full(a), 'wrong_tenant');
      await denied(w.b, { type: a.type, streamID: a.streamId, token: a.token }, 'wrong_tenant');
      expect(await auditCount(w.t, { tenantId: w.a.tenant.id })).toBe(before);
    });

    it('should answer false when the same stream name exists in both tenants and the credential is foreign', async () => {
      const name = `shared-${uniq()}`;
      const a = await connect(w.a, await createSession(w.a, name));
      const b = await connect(w.b, await createSession(w.b, name));
      await denied(w.a, full(b), 'wrong_tenant');
      await denied(w.b, full(a), 'wrong_tenant');
      await accepted(a, full(a));
      await accepted(b, full(b));
    });

    it('should answer false and write no event when the slug is unknown', async () => {
      const c = await issue();
      const total = await auditCount(w.t);
      for (const slug of ['no-such-tenant', 'NOT_A_SLUG', '%20']) {
        const sent = await send(slug, 'validateCredentials', full(c));
        expect({ status: sent.status, body: sent.body }).toEqual(NO);
      }
      expect(await auditCount(w.t)).toBe(total);
    });
  });

  describe('a credential that is no longer valid', () => {
    it('should answer false when the credential has expired', async () => {
      const c = await issue(w.a, 'PUBLISHER', 1);
      await sleep(1500);
      await denied(w.a, full(c), 'expired');
      await denied(w.a, { type: c.type, streamID: c.streamId, token: c.token }, 'expired');
    });

    it('should answer false when expires_at has just passed', async () => {
      const c = await issue();
      await accepted(c, full(c));
      await w.t.ds.query(
        `UPDATE session_connection SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [c.connectionId],
      );
      await denied(w.a, full(c), 'expired');
    });

    it('should answer false when the credential was revoked with revokeConnection', async () => {
      const c = await issue();
      await accepted(c, full(c));
      await ok(w.t.gql(REVOKE_CONNECTION, { id: c.connectionId }, { auth: w.a.admin.auth }));
      await denied(w.a, full(c), 'revoked');
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, username: c.username, password: c.password },
        'revoked',
      );
    });

    it('should answer false when the session was ended with endSession', async () => {
      const c = await issue();
      const sub = await connect(
        w.a,
        { id: c.sessionId, externalId: c.streamId } as SessionJson,
        'SUBSCRIBER',
      );
      await accepted(c, full(c));
      await ok(w.t.gql(END_SESSION, { id: c.sessionId }, { auth: w.a.admin.auth }));
      await denied(w.a, full(c), 'session_ended');
      await denied(w.a, full(sub), 'session_ended');
    });

    it('should answer false when the stream is reopened after its session ended', async () => {
      // A new session reusing the stream name must not revive credentials of the old one.
      const c = await issue();
      await ok(w.t.gql(END_SESSION, { id: c.sessionId }, { auth: w.a.admin.auth }));
      const fresh = await connect(w.a, await createSession(w.a, c.streamId));
      await denied(w.a, full(c), 'session_ended');
      await accepted(fresh, full(fresh));
    });

    it('should answer false when the credential is reused after invalidateCredentials', async () => {
      const c = await issue();
      await accepted(c, full(c));
      const { type: _t, ...noType } = full(c);
      await expectAnswer(await invalidate(w.a, noType), true, w.a, 'red5.invalidated', 'ok');
      await denied(w.a, full(c), 'revoked');
      await denied(w.a, { type: c.type, streamID: c.streamId, token: c.token }, 'revoked');
    });
  });

  describe('oversized bodies', () => {
    it('should answer false when the body is one byte over 64 KiB even with a valid credential', async () => {
      const c = await issue();
      const base = JSON.stringify({ ...full(c), scope: '' });
      const body = JSON.stringify({ ...full(c), scope: 'p'.repeat(64 * 1024 + 1 - base.length) });
      expect(Buffer.byteLength(body)).toBe(64 * 1024 + 1);
      await denied(w.a, body, 'body_too_large');
    });

    it('should answer false when the body is 1 MB or 10 MB', async () => {
      const c = await issue();
      const body = JSON.stringify({ ...full(c), scope: 'p'.repeat(1024 * 1024) });
      await denied(w.a, body, 'body_too_large');
      await denied(w.a, Buffer.alloc(1024 * 1024, 0x7b), 'body_too_large', {
        contentType: 'application/octet-stream',
      });
      // Well past the JSON parser's own 1 MB limit, but under the point where the socket is dropped.
      await denied(w.a, `{"scope":"${'p'.repeat(10 * 1024 * 1024)}"}`, 'body_too_large');
      // The same request on invalidate does not revoke anything.
      const sent = await invalidate(w.a, body);
      await expectAnswer(sent, false, w.a, 'red5.invalidated', 'body_too_large');
      await accepted(c, full(c));
    });

    it('should keep serving when a 20 MB body is sent', async () => {
      const c = await issue();
      const outcome = await request(server())
        .post(`/t/${w.a.tenant.slug}/red5/validateCredentials`)
        .set('content-type', 'application/json')
        // A string is sent as is (superagent would JSON-encode a Buffer under a JSON type).
        .send(`{"scope":"${'p'.repeat(20 * 1024 * 1024)}"}`)
        .then(
          (res) => `answered ${res.status} ${res.text}`,
          () => 'dropped',
        );
      // Past the drop limit the connection may be closed; if answered, it is a plain denial.
      expect(['dropped', 'answered 200 {"result":false}']).toContain(outcome);
      await accepted(c, full(c));
      const health = await request(server())
        .post(`/t/${w.a.tenant.slug}/red5/validateCredentials`)
        .send('x');
      expect({ status: health.status, body: health.body as unknown }).toEqual(NO);
    });
  });

  describe('invalidateCredentials', () => {
    it('should mark the credential used and answer true when every value matches', async () => {
      const c = await issue();
      const { type: _t, ...noType } = full(c);
      const event = await expectAnswer(
        await invalidate(w.a, noType),
        true,
        w.a,
        'red5.invalidated',
        'ok',
      );
      expect(event).toMatchObject({
        target_type: 'connection',
        target_id: c.connectionId,
        metadata: { reason: 'ok', streamId: c.streamId, connectionId: c.connectionId },
      });
      expect(await statusOf(c)).toEqual({ status: 'REVOKED', revoked: true });
      await denied(w.a, full(c), 'revoked');
    });

    it('should answer true again and record already_revoked when the credential was already invalidated', async () => {
      // README: true "when it matched a credential" — a repeated call still matches it, but it
      // revokes nothing, so its audit reason must not claim it did ('ok').
      const c = await issue();
      const { type: _t, ...noType } = full(c);
      await expectAnswer(await invalidate(w.a, noType), true, w.a, 'red5.invalidated', 'ok');
      const revokedAt = await revokedAtOf(c);
      await expectAnswer(
        await invalidate(w.a, noType),
        true,
        w.a,
        'red5.invalidated',
        'already_revoked',
        expect.any(String),
      );
      expect(await statusOf(c)).toEqual({ status: 'REVOKED', revoked: true });
      expect(await revokedAtOf(c)).toBe(revokedAt);
    });

    it('should answer true and record already_revoked when Red5 invalidates a credential revoked with revokeConnection', async () => {
      const c = await issue();
      await ok(w.t.gql(REVOKE_CONNECTION, { id: c.connectionId }, { auth: w.a.admin.auth }));
      const revokedAt = await revokedAtOf(c);
      const { type: _t, ...noType } = full(c);
      await expectAnswer(
        await invalidate(w.a, noType),
        true,
        w.a,
        'red5.invalidated',
        'already_revoked',
        expect.any(String),
      );
      expect(await revokedAtOf(c)).toBe(revokedAt);
    });

    it('should invalidate by username and password when no token is sent', async () => {
      const c = await issue();
      const body = { username: c.username, password: c.password, streamID: c.streamId, token: '' };
      await expectAnswer(await invalidate(w.a, body), true, w.a, 'red5.invalidated', 'ok');
      await denied(w.a, full(c), 'revoked');
    });

    it('should ignore type when Red5 includes it in an invalidate call', async () => {
      const c = await issue(w.a, 'SUBSCRIBER');
      await expectAnswer(
        await invalidate(w.a, { ...full(c), type: 'publisher' }),
        true,
        w.a,
        'red5.invalidated',
        'ok',
      );
      await denied(w.a, full(c), 'revoked');
    });

    it.each([
      ['not JSON', '{{', 'not_json'],
      ['a JSON array', '[]', 'not_an_object'],
      ['empty', '', 'empty_body'],
      ['without credentials', '{"streamID":"s"}', 'missing_credentials'],
    ])('should answer false when the invalidate body is %s', async (_what, body, reason) => {
      await expectAnswer(await invalidate(w.a, body), false, w.a, 'red5.invalidated', reason);
    });

    it('should answer false and revoke nothing when the credential is unknown', async () => {
      const c = await issue();
      await expectAnswer(
        await invalidate(w.a, {
          streamID: c.streamId,
          token: randomBytes(32).toString('base64url'),
        }),
        false,
        w.a,
        'red5.invalidated',
        'unknown_credential',
      );
      await expectAnswer(
        await invalidate(w.a, { streamID: c.streamId, username: 'rk_nobody', password: 'x' }),
        false,
        w.a,
        'red5.invalidated',
        'unknown_credential',
      );
      expect(await statusOf(c)).toEqual({ status: 'ISSUED', revoked: false });
    });

    it('should answer false and revoke nothing when any value does not match', async () => {
      const c = await issue();
      const other = await issue();
      const { type: _t, ...body } = full(c);
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ ...body, streamID: other.streamId }, 'wrong_stream'],
        [{ ...body, password: 'CANARY-invalidate-password' }, 'wrong_password'],
        [{ ...body, username: other.username }, 'wrong_username'],
        [{ ...body, token: other.token }, 'wrong_stream'],
      ];
      canaries.push('CANARY-invalidate-password');
      for (const [wrong, reason] of cases) {
        await expectAnswer(await invalidate(w.a, wrong), false, w.a, 'red5.invalidated', reason);
      }
      expect(await statusOf(c)).toEqual({ status: 'ISSUED', revoked: false });
      expect(await statusOf(other)).toEqual({ status: 'ISSUED', revoked: false });
      await accepted(c, full(c));
    });

    it("should answer false and revoke nothing when another tenant's slug is used", async () => {
      const b = await issue(w.b);
      const { type: _t, ...body } = full(b);
      await expectAnswer(
        await invalidate(w.a, body),
        false,
        w.a,
        'red5.invalidated',
        'wrong_tenant',
      );
      expect(await statusOf(b)).toEqual({ status: 'ISSUED', revoked: false });
      await accepted(b, full(b));
    });

    it('should answer false when the credential has expired', async () => {
      const c = await issue();
      await w.t.ds.query(
        `UPDATE session_connection SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [c.connectionId],
      );
      const { type: _t, ...body } = full(c);
      await expectAnswer(await invalidate(w.a, body), false, w.a, 'red5.invalidated', 'expired');
    });
  });

  describe('IP allow-list', () => {
    const CREATE_CRED =
      'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }';
    const UPDATE_CRED =
      'mutation ($input: UpdateProviderCredentialInput!) { updateProviderCredential(input: $input) { id } }';

    async function red5Credential(allowedIps: string[]): Promise<string> {
      const input = { name: `red5-ips-${uniq()}`, red5: { tokenTtlSeconds: 600, allowedIps } };
      const r = await ok(
        w.t.gql<{ createProviderCredential: { id: string } }>(
          CREATE_CRED,
          { input },
          {
            auth: w.a.admin.auth,
          },
        ),
      );
      return r.createProviderCredential.id;
    }

    async function issueUnder(credentialId: string, role: Role = 'PUBLISHER'): Promise<Issued> {
      const session = await createSession(w.a, `ip-${uniq()}`, credentialId);
      expect(session.credentialId).toBe(credentialId);
      return connect(w.a, session, role);
    }

    it('should answer false when the request comes from outside allowedIps', async () => {
      const c = await issueUnder(await red5Credential(['10.0.0.0/8']));
      const event = await denied(w.a, full(c), 'ip_not_allowed');
      // The address recorded is the loopback address the test connects from.
      expect(['127.0.0.1', '::ffff:127.0.0.1']).toContain(event.client_ip);
      await denied(w.a, { type: c.type, streamID: c.streamId, token: c.token }, 'ip_not_allowed');
    });

    it('should not trust X-Forwarded-For when no proxy is trusted', async () => {
      const c = await issueUnder(await red5Credential(['10.0.0.0/8']));
      await denied(w.a, full(c), 'ip_not_allowed', {
        headers: { 'x-forwarded-for': '10.1.2.3', 'x-real-ip': '10.1.2.3' },
      });
    });

    it('should answer true when the request address is in allowedIps', async () => {
      for (const ips of [['127.0.0.1'], ['10.0.0.0/8', '127.0.0.0/8'], ['::ffff:127.0.0.1']]) {
        const c = await issueUnder(await red5Credential(ips));
        await accepted(c, full(c));
      }
    });

    it('should apply a changed allow-list at once when the credential is updated', async () => {
      const credId = await red5Credential(['10.0.0.0/8']);
      const c = await issueUnder(credId);
      await denied(w.a, full(c), 'ip_not_allowed');
      const update = (allowedIps: string[]) =>
        ok(
          w.t.gql(
            UPDATE_CRED,
            { input: { id: credId, red5: { allowedIps } } },
            {
              auth: w.a.admin.auth,
            },
          ),
        );
      await update(['10.0.0.0/8', '127.0.0.1']);
      await accepted(c, full(c));
      await update(['192.168.0.0/16']);
      await denied(w.a, full(c), 'ip_not_allowed');
      await update([]);
      await accepted(c, full(c));
    });

    it('should check the allow-list before revealing that a credential was revoked', async () => {
      const c = await issueUnder(await red5Credential(['10.0.0.0/8']));
      await ok(w.t.gql(REVOKE_CONNECTION, { id: c.connectionId }, { auth: w.a.admin.auth }));
      await denied(w.a, full(c), 'ip_not_allowed');
    });
  });

  describe('concurrency', () => {
    it('should answer true to every one of 50 parallel validations of one credential', async () => {
      const c = await issue();
      const sent = await Promise.all(Array.from({ length: 50 }, () => validate(w.a, full(c))));
      expect(sent.map((s) => ({ status: s.status, body: s.body }))).toEqual(
        Array.from({ length: 50 }, () => YES),
      );
      const [{ n }] = await w.t.ds.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM audit_event
          WHERE tenant_id = $1 AND action = 'red5.validated' AND request_id = ANY($2)`,
        [w.a.tenant.id, sent.map((s) => s.requestId)],
      );
      expect(n).toBe(50);
      const v = await ok(
        w.t.gql<{ verifyAuditLog: { ok: boolean; firstInvalidEventId: string | null } }>(
          '{ verifyAuditLog { ok checkedCount firstInvalidEventId reason } }',
          {},
          { auth: w.a.admin.auth },
        ),
      );
      expect(v.verifyAuditLog).toMatchObject({ ok: true, firstInvalidEventId: null });
    });
  });

  describe('secrets', () => {
    it('should store only 32-byte hashes of the token and password when a credential is issued', async () => {
      const c = await issue();
      const [row] = await w.t.ds.query<
        Array<{ token_hash: Uint8Array; password_hash: Uint8Array; username: string; t: string }>
      >(
        'SELECT token_hash, password_hash, username, row_to_json(c)::text AS t FROM session_connection c WHERE id = $1',
        [c.connectionId],
      );
      // bytea comes back as a Buffer from pg and as a Uint8Array from PGlite.
      const tokenHash = Buffer.from(row.token_hash);
      const passwordHash = Buffer.from(row.password_hash);
      expect(tokenHash.length).toBe(32);
      expect(passwordHash.length).toBe(32);
      expect(tokenHash.equals(sha256(c.token))).toBe(true);
      expect(passwordHash.equals(sha256(c.password))).toBe(true);
      expect(row.username).toBe(c.username);
      expect(row.t).not.toContain(c.token);
      expect(row.t).not.toContain(c.password);
    });

    it('should never log, store or audit a secret when credentials are validated and refused', async () => {
      const c = await issue();
      const denyPassword = `CANARY-${uniq()}-denied`;
      canaries.push(denyPassword, c.username);
      await accepted(c, full(c));
      await denied(w.a, { ...full(c), password: denyPassword }, 'wrong_password');
      await denied(
        w.a,
        { type: c.type, streamID: c.streamId, username: c.username, password: denyPassword },
        'wrong_password',
      );
      await denied(w.a, `{"password":"${denyPassword}",`, 'not_json');
      await expectAnswer(
        await invalidate(w.a, { streamID: c.streamId, token: c.token, password: denyPassword }),
        false,
        w.a,
        'red5.invalidated',
        'wrong_password',
      );
      w.t.app.flushLogs();
      await sleep(50);

      // The logs are being captured (so the checks below can fail)…
      expect(w.t.logs.some((l) => l.includes('/red5/validateCredentials'))).toBe(true);
      const logs = w.t.logs.join('\n');
      // …and the audit rows exist.
      const events = await w.t.ds.query<Array<{ t: string }>>(
        `SELECT row_to_json(e)::text AS t FROM audit_event e WHERE action LIKE 'red5.%'`,
      );
      expect(events.length).toBeGreaterThan(0);
      const audit = events.map((e) => e.t).join('\n');
      // Every table, every row, as text.
      const tables = await w.t.ds.query<Array<{ name: string }>>(
        `SELECT table_name AS name FROM information_schema.tables
          WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`,
      );
      expect(tables.map((t) => t.name)).toContain('session_connection');
      const dump: string[] = [];
      for (const { name } of tables) {
        const rows = await w.t.ds.query<Array<{ t: string | null }>>(
          `SELECT string_agg(x::text, E'\\n') AS t FROM "${name}" x`,
        );
        dump.push(rows[0]?.t ?? '');
      }
      const stored = dump.join('\n');

      const secrets = canaries.filter((s) => !s.startsWith('rk_'));
      expect(secrets.length).toBeGreaterThan(3);
      for (const secret of canaries) expect(logs).not.toContain(secret);
      for (const secret of secrets) {
        expect(audit).not.toContain(secret);
        expect(stored).not.toContain(secret);
      }
      // The audit metadata of these events carries only the reason and non-secret identifiers.
      const keys = await w.t.ds.query<Array<{ k: string }>>(
        `SELECT DISTINCT jsonb_object_keys(metadata) AS k FROM audit_event WHERE action LIKE 'red5.%' ORDER BY 1`,
      );
      expect(keys.map((k) => k.k).sort()).toEqual(['connectionId', 'reason', 'streamId', 'type']);
    });
  });
});

describe('Red5 round-trip authentication behind a trusted proxy', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    w = await startVendorWorld({ ROOMKEY_TRUST_PROXY: 'loopback' });
  });
  afterAll(() => w.close());

  it('should check allowedIps against the forwarded client address when the proxy is trusted', async () => {
    const cred = await ok(
      w.t.gql<{ createProviderCredential: { id: string } }>(
        'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }',
        { input: { name: 'red5-ips', red5: { tokenTtlSeconds: 600, allowedIps: ['10.0.0.0/8'] } } },
        { auth: w.a.admin.auth },
      ),
    );
    const s = await ok(
      w.t.gql<{ createSession: SessionJson }>(
        CREATE_SESSION,
        {
          input: {
            provider: 'RED5',
            customSessionId: 'proxied',
            credentialId: cred.createProviderCredential.id,
          },
        },
        { auth: w.a.admin.auth },
      ),
    );
    const conn = await ok(
      w.t.gql<{ createConnection: ConnectionJson }>(
        CREATE_CONNECTION,
        { input: { sessionId: s.createSession.id, role: 'PUBLISHER', ttlSeconds: 600 } },
        { auth: w.a.admin.auth },
      ),
    );
    const c = conn.createConnection.credential as Record<string, unknown>;
    const body = { type: 'publisher', streamID: 'proxied', token: c.token };
    const ask = (xff?: string) => {
      const req = request(w.t.app.getHttpServer() as Parameters<typeof request>[0]).post(
        `/t/${w.a.tenant.slug}/red5/validateCredentials`,
      );
      if (xff) req.set('x-forwarded-for', xff);
      return req.send(body).then((r) => ({ status: r.status, body: r.body as unknown }));
    };
    expect(await ask('10.1.2.3')).toEqual(YES);
    expect(await ask('192.168.1.1')).toEqual(NO);
    expect(await ask()).toEqual(NO);
    expect(w.totalCalls()).toBe(0);
  });
});
