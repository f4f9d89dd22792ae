/**
 * Vendor webhooks over real HTTP (README "Vendor webhooks", docs/vendors.md#openvidu-2 / docs/vendors.md#livekit-openvidu-3
 * webhook, docs/security.md S11): the app listens on 127.0.0.1 and the OpenVidu and LiveKit
 * emulators deliver real events to it; forged, tampered, replayed, malformed and oversized
 * deliveries are sent with supertest. Every test checks the rows it could have changed and the
 * `webhook.received` audit events the delivery wrote.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { type Response as SupertestResponse } from 'supertest';
import { signLiveKitJwt, webhookBodyHash } from './emulators/livekit';
import { sendOpenViduWebhook } from './emulators/openvidu';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  type ConnectionJson,
  type SessionJson,
  type VendorWorld,
  ok,
  startVendorWorld,
} from './helpers/vendors';

const uniq = (): string => randomBytes(4).toString('hex');
const KB64 = 64 * 1024;

interface AuditRow {
  id: string;
  tenant_id: string;
  action: string;
  outcome: string;
  error_code: string | null;
  actor_type: string;
  target_type: string | null;
  target_id: string | null;
  metadata: Record<string, unknown>;
}

interface Snapshot {
  sessions: unknown[];
  connections: unknown[];
  receipts: unknown[];
}

interface SessionView {
  id: string;
  status: string;
  endedAt: string | null;
  endReason: string | null;
  connections: Array<{
    id: string;
    status: string;
    externalId: string | null;
    identity: string;
    joinedAt: string | null;
    leftAt: string | null;
  }>;
}

const SESSION_VIEW = `query ($id: ID!) { session(id: $id) {
  id status endedAt endReason connections { id status externalId identity joinedAt leftAt }
} }`;

describe('vendor webhooks (OpenVidu 2 header secret, LiveKit body-bound JWT)', () => {
  let w: VendorWorld;
  let base: string;

  beforeAll(async () => {
    w = await startVendorWorld();
    await w.t.app.listen(0, '127.0.0.1');
    const addr = (w.t.app.getHttpServer() as { address(): AddressInfo }).address();
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  // ------------------------------------------------------------------------------------------
  // helpers
  // ------------------------------------------------------------------------------------------

  const ovPath = (cred = w.a.creds.OPENVIDU, slug = w.a.tenant.slug) =>
    `/t/${slug}/webhooks/openvidu/${cred}`;
  const lkPath = (cred = w.a.creds.LIVEKIT, slug = w.a.tenant.slug) =>
    `/t/${slug}/webhooks/livekit/${cred}`;
  const ovAuth = () => `Bearer ${w.secrets.openviduWebhook}`;

  const post = (
    path: string,
    body: string | Buffer,
    contentType: string,
    auth: string | null,
  ): Promise<SupertestResponse> => {
    const req = w.t.http().post(path).set('content-type', contentType);
    if (auth !== null) req.set('authorization', auth);
    return req.send(body);
  };
  const postOv = (body: string | Buffer, auth: string | null = ovAuth(), path = ovPath()) =>
    post(path, body, 'application/json', auth);
  const postLk = (body: string | Buffer, auth: string | null, path = lkPath()) =>
    post(path, body, 'application/webhook+json', auth);

  /** An OpenVidu event body as the emulator (and OpenVidu) shapes it. */
  const ovBody = (event: string, fields: Record<string, unknown> = {}) =>
    JSON.stringify({ ...fields, timestamp: Date.now(), event });

  /** A LiveKit WebhookEvent in protojson (lowerCamelCase). */
  const lkBody = (
    event: string,
    subject: { room?: string; identity?: string; id?: string } = {},
  ): string =>
    JSON.stringify({
      event,
      ...(subject.room !== undefined ? { room: { sid: `RM_${uniq()}`, name: subject.room } } : {}),
      ...(subject.identity !== undefined
        ? { participant: { sid: `PA_${uniq()}`, identity: subject.identity, state: 'ACTIVE' } }
        : {}),
      id: subject.id ?? `EV_${uniq()}`,
      createdAt: String(Math.floor(Date.now() / 1000)),
    });

  const now = () => Math.floor(Date.now() / 1000);

  const snapshot = async (): Promise<Snapshot> => ({
    sessions: await w.t.ds.query('SELECT * FROM video_session ORDER BY id'),
    connections: await w.t.ds.query('SELECT * FROM session_connection ORDER BY id'),
    receipts: await w.t.ds.query('SELECT * FROM webhook_receipt ORDER BY id'),
  });

  const auditIds = async (): Promise<Set<string>> =>
    new Set(
      (await w.t.ds.query<Array<{ id: string }>>('SELECT id FROM audit_event')).map((r) => r.id),
    );

  const auditSince = async (before: Set<string>): Promise<AuditRow[]> =>
    (
      await w.t.ds.query<AuditRow[]>(
        `SELECT id, tenant_id, action, outcome, error_code, actor_type, target_type, target_id, metadata
           FROM audit_event ORDER BY occurred_at, seq`,
      )
    )
      .filter((r) => !before.has(r.id))
      .map((r) => ({
        ...r,
        metadata: typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata,
      }));

  /** Marks the database before a delivery, to compare rows and audit events after it. */
  const observe = async () => {
    const before = await snapshot();
    const ids = await auditIds();
    return {
      before,
      audit: () => auditSince(ids),
      hooks: async () => (await auditSince(ids)).filter((r) => r.action === 'webhook.received'),
    };
  };

  const expectOneHook = (
    rows: AuditRow[],
    expected: {
      provider: 'OPENVIDU' | 'LIVEKIT';
      credentialId: string;
      outcome: 'SUCCESS' | 'FAILURE' | 'DENIED';
      event: string;
      result: string;
      tenantId?: string;
    },
  ): void => {
    const hooks = rows.filter((r) => r.action === 'webhook.received');
    expect(hooks).toHaveLength(1);
    expect(hooks[0]).toMatchObject({
      tenant_id: expected.tenantId ?? w.a.tenant.id,
      outcome: expected.outcome,
      actor_type: 'VENDOR',
      target_type: 'provider_credential',
      target_id: expected.credentialId,
      error_code:
        expected.outcome === 'DENIED'
          ? 'UNAUTHENTICATED'
          : expected.outcome === 'FAILURE'
            ? 'BAD_USER_INPUT'
            : null,
    });
    expect(hooks[0].metadata).toEqual({
      provider: expected.provider,
      credentialId: expected.credentialId,
      event: expected.event,
      result: expected.result,
    });
  };

  const createSession = async (input: Record<string, unknown>) =>
    (
      await ok(
        w.t.gql<{ createSession: SessionJson }>(
          CREATE_SESSION,
          { input },
          { auth: w.a.admin.auth },
        ),
      )
    ).createSession;
  const createConnection = async (input: Record<string, unknown>) =>
    (
      await ok(
        w.t.gql<{ createConnection: ConnectionJson }>(
          CREATE_CONNECTION,
          { input },
          { auth: w.a.admin.auth },
        ),
      )
    ).createConnection;
  const viewSession = async (id: string) =>
    (await ok(w.t.gql<{ session: SessionView }>(SESSION_VIEW, { id }, { auth: w.a.admin.auth })))
      .session;
  const connOf = (s: SessionView, id: string) => {
    const c = s.connections.find((x) => x.id === id);
    if (!c) throw new Error(`connection ${id} not in session ${s.id}`);
    return c;
  };

  /** An OpenVidu session of tenant A with two issued connections (externalId = con_…). */
  const ovSession = async (credentialId?: string) => {
    const s = await createSession({
      provider: 'OPENVIDU',
      customSessionId: `ov-wh-${uniq()}`,
      ...(credentialId ? { credentialId } : {}),
    });
    const c1 = await createConnection({ sessionId: s.id });
    const c2 = await createConnection({ sessionId: s.id });
    expect(c1.externalId).toMatch(/^con_/);
    return { s, c1, c2 };
  };

  /** A LiveKit room of tenant A with two issued connections, the first one joined at the vendor. */
  const lkSession = async () => {
    const room = `lk-wh-${uniq()}`;
    const s = await createSession({ provider: 'LIVEKIT', customSessionId: room });
    const c1 = await createConnection({ sessionId: s.id, identity: `alice-${uniq()}` });
    const c2 = await createConnection({ sessionId: s.id, identity: `bob-${uniq()}` });
    w.lk.joinAs(String(c1.credential!.token));
    return { s, c1, c2, room };
  };

  const ovParticipant = (sessionId: string, connectionId: string) => ({
    sessionId,
    uniqueSessionId: `${sessionId}_${Date.now()}`,
    participantId: connectionId,
    connectionId,
    location: 'unknown',
    ip: '127.0.0.1',
    platform: 'Chrome 120 on Linux 64-bit',
    clientData: '',
    serverData: '',
  });

  // ------------------------------------------------------------------------------------------
  // OpenVidu 2
  // ------------------------------------------------------------------------------------------

  describe('OpenVidu 2', () => {
    it('should mark the connection JOINED with joinedAt when OpenVidu delivers participantJoined', async () => {
      const { s, c1, c2 } = await ovSession();
      w.ov.connectWithToken(String(c1.credential!.token));
      const o = await observe();
      const t0 = Date.now();

      const res = await w.ov.webhook(
        base + ovPath(),
        'participantJoined',
        ovParticipant(s.externalId, c1.externalId!),
      );

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 'applied' });
      const view = await viewSession(s.id);
      expect(view.status).toBe('ACTIVE');
      const joined = connOf(view, c1.id);
      expect(joined.status).toBe('JOINED');
      expect(joined.joinedAt).not.toBeNull();
      expect(Date.parse(joined.joinedAt!)).toBeGreaterThanOrEqual(t0 - 1000);
      expect(joined.leftAt).toBeNull();
      expect(connOf(view, c2.id)).toMatchObject({ status: 'ISSUED', joinedAt: null });
      expectOneHook(await o.audit(), {
        provider: 'OPENVIDU',
        credentialId: w.a.creds.OPENVIDU,
        outcome: 'SUCCESS',
        event: 'participantJoined',
        result: 'applied',
      });
    });

    it('should mark the connection LEFT with leftAt when OpenVidu delivers participantLeft', async () => {
      const { s, c1, c2 } = await ovSession();
      const url = base + ovPath();
      const fields = ovParticipant(s.externalId, c1.externalId!);
      expect((await w.ov.webhook(url, 'participantJoined', fields)).status).toBe(200);
      const o = await observe();

      const res = await w.ov.webhook(url, 'participantLeft', { ...fields, reason: 'disconnect' });

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 'applied' });
      const view = await viewSession(s.id);
      const left = connOf(view, c1.id);
      expect(left.status).toBe('LEFT');
      expect(left.leftAt).not.toBeNull();
      expect(Date.parse(left.leftAt!)).toBeGreaterThanOrEqual(Date.parse(left.joinedAt!));
      expect(connOf(view, c2.id)).toMatchObject({ status: 'ISSUED', leftAt: null });
      expect(view.status).toBe('ACTIVE');
      expectOneHook(await o.audit(), {
        provider: 'OPENVIDU',
        credentialId: w.a.creds.OPENVIDU,
        outcome: 'SUCCESS',
        event: 'participantLeft',
        result: 'applied',
      });
    });

    it('should end the session with reason vendor:sessionDestroyed and audit session.ended when OpenVidu delivers sessionDestroyed', async () => {
      const { s } = await ovSession();
      const o = await observe();
      const t0 = Date.now();

      const res = await w.ov.webhook(base + ovPath(), 'sessionDestroyed', {
        sessionId: s.externalId,
        uniqueSessionId: `${s.externalId}_1`,
        startTime: Date.now() - 60000,
        duration: 60,
        reason: 'lastParticipantLeft',
      });

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 'applied' });
      const view = await viewSession(s.id);
      expect(view).toMatchObject({ status: 'ENDED', endReason: 'vendor:sessionDestroyed' });
      expect(Date.parse(view.endedAt!)).toBeGreaterThanOrEqual(t0 - 1000);
      const rows = await o.audit();
      expectOneHook(rows, {
        provider: 'OPENVIDU',
        credentialId: w.a.creds.OPENVIDU,
        outcome: 'SUCCESS',
        event: 'sessionDestroyed',
        result: 'applied',
      });
      const ended = rows.filter((r) => r.action === 'session.ended');
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({
        tenant_id: w.a.tenant.id,
        outcome: 'SUCCESS',
        actor_type: 'VENDOR',
        target_id: s.id,
      });
      expect(ended[0].metadata).toMatchObject({
        provider: 'OPENVIDU',
        reason: 'vendor:sessionDestroyed',
      });
      // The vendor already closed it: Roomkey follows, it does not call the vendor back.
      expect(w.calls('OPENVIDU').filter((c) => c.method === 'DELETE')).toEqual([]);
    });

    it('should refuse with 401 and change nothing when the OpenVidu header secret is wrong or missing', async () => {
      const { s, c1 } = await ovSession();
      const body = ovBody('participantJoined', ovParticipant(s.externalId, c1.externalId!));
      const wrong: Array<string | null> = [
        null,
        '',
        'Bearer',
        'Bearer ',
        `Bearer CANARY-wrong-${uniq()}`,
        w.secrets.openviduWebhook,
        `bearer${w.secrets.openviduWebhook}`,
        `Bearer ${w.secrets.openviduWebhook}x`,
        `Bearer ${w.secrets.openviduWebhook.slice(0, -1)}`,
        `Bearer ${w.secrets.openvidu}`,
        `Basic ${Buffer.from(`OPENVIDUAPP:${w.secrets.openvidu}`).toString('base64')}`,
        `Basic ${Buffer.from(`OPENVIDUAPP:${w.secrets.openviduWebhook}`).toString('base64')}`,
      ];
      for (const auth of wrong) {
        const o = await observe();
        const res = await postOv(body, auth);
        expect({ auth, status: res.status }).toEqual({ auth, status: 401 });
        expect(res.body.error.code).toBe('UNAUTHENTICATED');
        expect(await snapshot()).toEqual(o.before);
        expectOneHook(await o.audit(), {
          provider: 'OPENVIDU',
          credentialId: w.a.creds.OPENVIDU,
          outcome: 'DENIED',
          event: 'unknown',
          result: 'bad_signature',
        });
      }
      // Same real emulator delivery, wrong static header.
      const res = await sendOpenViduWebhook(
        base + ovPath(),
        'participantJoined',
        ovParticipant(s.externalId, c1.externalId!),
        { authorization: `Bearer not-the-${uniq()}-secret` },
      );
      expect(res.status).toBe(401);
      expect(connOf(await viewSession(s.id), c1.id).status).toBe('ISSUED');
      // Control: the right header applies the very same body.
      expect((await postOv(body)).body).toEqual({ result: 'applied' });
    });

    it('should refuse every delivery with 401 when the OpenVidu credential has no webhookSecret', async () => {
      const created = await ok(
        w.t.gql<{ createProviderCredential: { id: string } }>(
          'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }',
          {
            input: {
              name: `openvidu-no-webhook-${uniq()}`,
              openvidu: { url: w.ov.url, secret: w.secrets.openvidu },
            },
          },
          { auth: w.a.admin.auth },
        ),
      );
      const credId = created.createProviderCredential.id;
      const { s, c1 } = await ovSession(credId);
      expect(s.credentialId).toBe(credId);
      const path = ovPath(credId);
      const deliveries: Array<[string, string | null]> = [
        [ovBody('participantJoined', ovParticipant(s.externalId, c1.externalId!)), ovAuth()],
        [ovBody('sessionDestroyed', { sessionId: s.externalId }), ovAuth()],
        [ovBody('sessionDestroyed', { sessionId: s.externalId }), null],
        [ovBody('sessionDestroyed', { sessionId: s.externalId }), 'Bearer '],
        [ovBody('sessionDestroyed', { sessionId: s.externalId }), 'Bearer undefined'],
        [ovBody('sessionDestroyed', { sessionId: s.externalId }), 'Bearer null'],
        [ovBody('signalSent', { sessionId: s.externalId }), ovAuth()],
      ];
      for (const [body, auth] of deliveries) {
        const o = await observe();
        const res = await postOv(body, auth, path);
        expect({ auth, status: res.status }).toEqual({ auth, status: 401 });
        expect(await snapshot()).toEqual(o.before);
        expectOneHook(await o.audit(), {
          provider: 'OPENVIDU',
          credentialId: credId,
          outcome: 'DENIED',
          event: 'unknown',
          result: 'webhook_not_configured',
        });
      }
      const emulated = await w.ov.webhook(base + path, 'sessionDestroyed', {
        sessionId: s.externalId,
      });
      expect(emulated.status).toBe(401);
      const view = await viewSession(s.id);
      expect(view.status).toBe('ACTIVE');
      expect(connOf(view, c1.id).status).toBe('ISSUED');
    });

    it('should answer duplicate and change nothing when the same OpenVidu delivery is replayed', async () => {
      const { s, c1 } = await ovSession();
      const fields = { ...ovParticipant(s.externalId, c1.externalId!), timestamp: Date.now() };
      const url = base + ovPath();
      const o = await observe();

      const first = await w.ov.webhook(url, 'participantJoined', fields);
      expect(first.status).toBe(200);
      expect(await first.json()).toEqual({ result: 'applied' });
      const afterFirst = await snapshot();
      const joinedAt = connOf(await viewSession(s.id), c1.id).joinedAt;
      expect(joinedAt).not.toBeNull();

      const second = await w.ov.webhook(url, 'participantJoined', fields);
      expect(second.status).toBe(200);
      expect(await second.json()).toEqual({ result: 'duplicate' });
      expect(await snapshot()).toEqual(afterFirst);
      expect(connOf(await viewSession(s.id), c1.id)).toMatchObject({
        status: 'JOINED',
        joinedAt,
      });

      const known = new Set(o.before.receipts.map((r) => (r as { id: string }).id));
      const added = (await snapshot()).receipts.filter((r) => !known.has((r as { id: string }).id));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatchObject({
        tenant_id: w.a.tenant.id,
        credential_id: w.a.creds.OPENVIDU,
        event: 'participantJoined',
      });
      const hooks = await o.hooks();
      expect(hooks.map((h) => [h.outcome, h.metadata.event, h.metadata.result])).toEqual([
        ['SUCCESS', 'participantJoined', 'applied'],
        ['SUCCESS', 'participantJoined', 'duplicate'],
      ]);
      expect(hooks.every((h) => h.tenant_id === w.a.tenant.id)).toBe(true);
    });

    it('should answer duplicate and keep one session.ended event when an OpenVidu sessionDestroyed is replayed', async () => {
      const { s } = await ovSession();
      const body = ovBody('sessionDestroyed', {
        sessionId: s.externalId,
        reason: 'sessionClosedByServer',
      });
      const o = await observe();

      expect((await postOv(body)).body).toEqual({ result: 'applied' });
      const ended = await viewSession(s.id);
      expect((await postOv(body)).body).toEqual({ result: 'duplicate' });

      expect(await viewSession(s.id)).toEqual(ended);
      const rows = await o.audit();
      expect(rows.filter((r) => r.action === 'session.ended')).toHaveLength(1);
      expect(
        rows.filter((r) => r.action === 'webhook.received').map((r) => r.metadata.result),
      ).toEqual(['applied', 'duplicate']);
    });

    it('should answer unknown_session and change nothing when OpenVidu reports a session Roomkey never created', async () => {
      const ghost = `ghost-${uniq()}`;
      const o = await observe();
      for (const [event, fields] of [
        ['participantJoined', ovParticipant(ghost, `con_${uniq()}`)],
        ['participantLeft', ovParticipant(ghost, `con_${uniq()}`)],
        ['sessionDestroyed', { sessionId: ghost }],
      ] as const) {
        const res = await w.ov.webhook(base + ovPath(), event, fields);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ result: 'unknown_session' });
      }
      const after = await snapshot();
      expect(after.sessions).toEqual(o.before.sessions);
      expect(after.connections).toEqual(o.before.connections);
      const hooks = await o.hooks();
      expect(hooks.map((h) => [h.outcome, h.metadata.event, h.metadata.result])).toEqual([
        ['SUCCESS', 'participantJoined', 'unknown_session'],
        ['SUCCESS', 'participantLeft', 'unknown_session'],
        ['SUCCESS', 'sessionDestroyed', 'unknown_session'],
      ]);
    });

    it("should answer unknown_session and leave tenant B's session open when tenant A's credential reports a session id of tenant B", async () => {
      const id = `shared-${uniq()}`;
      const b = (
        await ok(
          w.t.gql<{ createSession: SessionJson }>(
            CREATE_SESSION,
            { input: { provider: 'OPENVIDU', customSessionId: id } },
            { auth: w.b.admin.auth },
          ),
        )
      ).createSession;
      const o = await observe();

      const res = await w.ov.webhook(base + ovPath(), 'sessionDestroyed', { sessionId: id });

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 'unknown_session' });
      const after = await snapshot();
      expect(after.sessions).toEqual(o.before.sessions);
      const [row] = await w.t.ds.query<Array<{ status: string }>>(
        'SELECT status FROM video_session WHERE id = $1',
        [b.id],
      );
      expect(row.status).toBe('ACTIVE');
    });

    it('should answer ignored and change nothing when OpenVidu delivers an uninteresting event', async () => {
      const { s, c1 } = await ovSession();
      const o = await observe();
      const events = [
        ['signalSent', { sessionId: s.externalId, from: c1.externalId, type: 'chat', data: 'hi' }],
        ['webrtcConnectionCreated', { sessionId: s.externalId, connectionId: c1.externalId }],
        ['sessionCreated', { sessionId: s.externalId }],
        ['recordingStatusChanged', { sessionId: s.externalId, status: 'started' }],
      ] as const;
      for (const [event, fields] of events) {
        const res = await w.ov.webhook(base + ovPath(), event, fields);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ result: 'ignored' });
      }
      const after = await snapshot();
      expect(after.sessions).toEqual(o.before.sessions);
      expect(after.connections).toEqual(o.before.connections);
      const hooks = await o.hooks();
      expect(hooks.map((h) => [h.outcome, h.metadata.event, h.metadata.result])).toEqual(
        events.map(([e]) => ['SUCCESS', e, 'ignored']),
      );
    });

    it('should refuse with 400 and change nothing when an authenticated OpenVidu body is not a JSON object', async () => {
      const bodies = [
        '{"event":"sessionDestroyed",',
        '[]',
        '"sessionDestroyed"',
        'null',
        '',
        'event=x',
      ];
      for (const body of bodies) {
        const o = await observe();
        const res = await postOv(body);
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expect(res.body.error.code).toBe('BAD_USER_INPUT');
        expect(await snapshot()).toEqual(o.before);
        expectOneHook(await o.audit(), {
          provider: 'OPENVIDU',
          credentialId: w.a.creds.OPENVIDU,
          outcome: 'FAILURE',
          event: 'unknown',
          result: 'malformed',
        });
      }
    });

    it('should refuse with 400 when an OpenVidu body is over 64 KB and accept one of exactly 64 KB', async () => {
      const { s } = await ovSession();
      const sized = (bytes: number) => {
        const head = JSON.stringify({
          event: 'sessionDestroyed',
          sessionId: s.externalId,
          pad: '',
        });
        const pad = 'x'.repeat(bytes - Buffer.byteLength(head));
        const body = head.replace('"pad":""', `"pad":"${pad}"`);
        expect(Buffer.byteLength(body)).toBe(bytes);
        return body;
      };
      const o = await observe();
      const big = await postOv(sized(KB64 + 1));
      expect(big.status).toBe(400);
      expect(big.body.error.code).toBe('BAD_USER_INPUT');
      const huge = await postOv(sized(KB64 * 4));
      expect(huge.status).toBe(400);
      expect(await snapshot()).toEqual(o.before);
      expect((await viewSession(s.id)).status).toBe('ACTIVE');

      const fits = await postOv(sized(KB64));
      expect(fits.status).toBe(200);
      expect(fits.body).toEqual({ result: 'applied' });
      expect((await viewSession(s.id)).status).toBe('ENDED');
    });
  });

  // ------------------------------------------------------------------------------------------
  // LiveKit
  // ------------------------------------------------------------------------------------------

  describe('LiveKit', () => {
    it('should mark the connection JOINED with joinedAt when LiveKit delivers participant_joined', async () => {
      const { s, c1, c2, room } = await lkSession();
      const o = await observe();
      const t0 = Date.now();

      const res = await w.lk.sendWebhook(base + lkPath(), 'participant_joined', {
        room,
        identity: c1.identity,
      });

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 'applied' });
      const view = await viewSession(s.id);
      const joined = connOf(view, c1.id);
      expect(joined.status).toBe('JOINED');
      expect(Date.parse(joined.joinedAt!)).toBeGreaterThanOrEqual(t0 - 1000);
      expect(joined.leftAt).toBeNull();
      expect(connOf(view, c2.id)).toMatchObject({ status: 'ISSUED', joinedAt: null });
      expectOneHook(await o.audit(), {
        provider: 'LIVEKIT',
        credentialId: w.a.creds.LIVEKIT,
        outcome: 'SUCCESS',
        event: 'participant_joined',
        result: 'applied',
      });
    });

    it('should mark the connection LEFT with leftAt when LiveKit delivers participant_left', async () => {
      const { s, c1, c2, room } = await lkSession();
      const url = base + lkPath();
      expect(
        (await w.lk.sendWebhook(url, 'participant_joined', { room, identity: c1.identity })).status,
      ).toBe(200);
      const o = await observe();

      const res = await w.lk.sendWebhook(url, 'participant_left', { room, identity: c1.identity });

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 'applied' });
      const view = await viewSession(s.id);
      const left = connOf(view, c1.id);
      expect(left.status).toBe('LEFT');
      expect(Date.parse(left.leftAt!)).toBeGreaterThanOrEqual(Date.parse(left.joinedAt!));
      expect(connOf(view, c2.id)).toMatchObject({ status: 'ISSUED', leftAt: null });
      expect(view.status).toBe('ACTIVE');
      expectOneHook(await o.audit(), {
        provider: 'LIVEKIT',
        credentialId: w.a.creds.LIVEKIT,
        outcome: 'SUCCESS',
        event: 'participant_left',
        result: 'applied',
      });
    });

    it('should end the session with reason vendor:room_finished and audit session.ended when LiveKit delivers room_finished', async () => {
      const { s, room } = await lkSession();
      const o = await observe();
      const t0 = Date.now();

      const res = await w.lk.sendWebhook(base + lkPath(), 'room_finished', { room });

      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ result: 'applied' });
      const view = await viewSession(s.id);
      expect(view).toMatchObject({ status: 'ENDED', endReason: 'vendor:room_finished' });
      expect(Date.parse(view.endedAt!)).toBeGreaterThanOrEqual(t0 - 1000);
      const rows = await o.audit();
      expectOneHook(rows, {
        provider: 'LIVEKIT',
        credentialId: w.a.creds.LIVEKIT,
        outcome: 'SUCCESS',
        event: 'room_finished',
        result: 'applied',
      });
      const ended = rows.filter((r) => r.action === 'session.ended');
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ tenant_id: w.a.tenant.id, target_id: s.id });
      expect(ended[0].metadata).toMatchObject({
        provider: 'LIVEKIT',
        reason: 'vendor:room_finished',
      });
      expect(w.calls('LIVEKIT').filter((c) => c.path.includes('DeleteRoom'))).toEqual([]);
    });

    it('should verify the signature over the exact raw bytes when the LiveKit JSON has unusual formatting', async () => {
      const { s, c1, room } = await lkSession();
      const body = `{\n  "event" : "participant_joined",\n  "room": {"name": "${room}"},\n  "participant": {"identity": "${c1.identity}"},\n  "id": "EV_${uniq()}"\n}\n`;
      const res = await postLk(body, w.lk.signWebhook(body));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ result: 'applied' });
      expect(connOf(await viewSession(s.id), c1.id).status).toBe('JOINED');
    });

    it('should refuse with 401 and change nothing when a LiveKit token signed for one body comes with a tampered body', async () => {
      const { s, c1, room } = await lkSession();
      const signed = lkBody('participant_joined', { room, identity: c1.identity });
      const auth = w.lk.signWebhook(signed);
      const tampered = [
        lkBody('room_finished', { room }),
        signed.replace('participant_joined', 'participant_left'),
        `${signed} `,
        signed.replace(c1.identity, `${c1.identity}x`),
      ];
      for (const body of tampered) {
        const o = await observe();
        const res = await postLk(body, auth);
        expect({ body, status: res.status }).toEqual({ body, status: 401 });
        expect(res.body.error.code).toBe('UNAUTHENTICATED');
        expect(await snapshot()).toEqual(o.before);
        expectOneHook(await o.audit(), {
          provider: 'LIVEKIT',
          credentialId: w.a.creds.LIVEKIT,
          outcome: 'DENIED',
          event: 'unknown',
          result: 'bad_signature',
        });
      }
      const view = await viewSession(s.id);
      expect(view.status).toBe('ACTIVE');
      expect(connOf(view, c1.id).status).toBe('ISSUED');
      // Control: the body it was signed for is accepted.
      expect((await postLk(signed, auth)).body).toEqual({ result: 'applied' });
    });

    it('should refuse with 401 and change nothing when the LiveKit token is missing, forged, expired or lacks sha256', async () => {
      const { s, room } = await lkSession();
      const body = lkBody('room_finished', { room });
      const sha256 = webhookBodyHash(body);
      const key = w.secrets.livekitKey;
      const secret = w.secrets.livekitSecret;
      const t = now();
      const noneHead = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString(
        'base64url',
      );
      const noneBody = Buffer.from(
        JSON.stringify({ iss: key, nbf: t, exp: t + 300, sha256 }),
      ).toString('base64url');
      const cases: Array<[string, string | null]> = [
        ['missing', null],
        ['empty', ''],
        ['Bearer only', 'Bearer '],
        ['garbage', 'not.a.jwt'],
        [
          'other secret',
          signLiveKitJwt({ iss: key, nbf: t, exp: t + 300, sha256 }, `other-${uniq()}`),
        ],
        ['expired', signLiveKitJwt({ iss: key, nbf: t - 7200, exp: t - 3600, sha256 }, secret)],
        [
          'not yet valid',
          signLiveKitJwt({ iss: key, nbf: t + 3600, exp: t + 7200, sha256 }, secret),
        ],
        ['no sha256', signLiveKitJwt({ iss: key, nbf: t, exp: t + 300 }, secret)],
        ['empty sha256', signLiveKitJwt({ iss: key, nbf: t, exp: t + 300, sha256: '' }, secret)],
        [
          'hex sha256',
          signLiveKitJwt(
            {
              iss: key,
              nbf: t,
              exp: t + 300,
              sha256: createHash('sha256').update(body).digest('hex'),
            },
            secret,
          ),
        ],
        ['other issuer', signLiveKitJwt({ iss: `${key}x`, nbf: t, exp: t + 300, sha256 }, secret)],
        ['no issuer', signLiveKitJwt({ nbf: t, exp: t + 300, sha256 }, secret)],
        ['no exp', signLiveKitJwt({ iss: key, nbf: t, sha256 }, secret)],
        ['alg none', `${noneHead}.${noneBody}.`],
        [
          'webhook secret',
          signLiveKitJwt({ iss: key, nbf: t, exp: t + 300, sha256 }, w.secrets.openviduWebhook),
        ],
      ];
      for (const [name, auth] of cases) {
        const o = await observe();
        const res = await postLk(body, auth);
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
        expect(await snapshot()).toEqual(o.before);
        expectOneHook(await o.audit(), {
          provider: 'LIVEKIT',
          credentialId: w.a.creds.LIVEKIT,
          outcome: 'DENIED',
          event: 'unknown',
          result: 'bad_signature',
        });
      }
      expect((await viewSession(s.id)).status).toBe('ACTIVE');
      // Control: the same claims signed with the API secret are accepted.
      const good = signLiveKitJwt({ iss: key, nbf: t, exp: t + 300, sha256 }, secret);
      expect((await postLk(body, good)).body).toEqual({ result: 'applied' });
      expect((await viewSession(s.id)).status).toBe('ENDED');
    });

    it('should answer duplicate and change nothing when the same LiveKit delivery is replayed', async () => {
      const { s, c1, room } = await lkSession();
      const body = lkBody('participant_joined', { room, identity: c1.identity });
      const auth = w.lk.signWebhook(body);
      const o = await observe();

      const first = await postLk(body, auth);
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ result: 'applied' });
      const afterFirst = await snapshot();
      const joined = connOf(await viewSession(s.id), c1.id);
      expect(joined.status).toBe('JOINED');

      const second = await postLk(body, auth);
      expect(second.status).toBe(200);
      expect(second.body).toEqual({ result: 'duplicate' });
      expect(await snapshot()).toEqual(afterFirst);
      expect(connOf(await viewSession(s.id), c1.id)).toEqual(joined);

      expect(afterFirst.receipts.length - o.before.receipts.length).toBe(1);
      const hooks = await o.hooks();
      expect(hooks.map((h) => [h.outcome, h.metadata.event, h.metadata.result])).toEqual([
        ['SUCCESS', 'participant_joined', 'applied'],
        ['SUCCESS', 'participant_joined', 'duplicate'],
      ]);
    });

    it('should apply exactly once when the same LiveKit delivery arrives several times concurrently', async () => {
      const { s, room } = await lkSession();
      const body = lkBody('room_finished', { room });
      const auth = w.lk.signWebhook(body);
      const o = await observe();

      const results = await Promise.all(
        Array.from({ length: 6 }, () => postLk(body, auth).then((r) => [r.status, r.body])),
      );

      expect(results.filter(([st]) => st !== 200)).toEqual([]);
      const names = results.map(([, b]) => (b as { result: string }).result).sort();
      expect(names).toEqual([
        'applied',
        'duplicate',
        'duplicate',
        'duplicate',
        'duplicate',
        'duplicate',
      ]);
      expect((await viewSession(s.id)).endReason).toBe('vendor:room_finished');
      expect((await snapshot()).receipts.length - o.before.receipts.length).toBe(1);
      const rows = await o.audit();
      expect(rows.filter((r) => r.action === 'session.ended')).toHaveLength(1);
      expect(rows.filter((r) => r.action === 'webhook.received')).toHaveLength(6);
    });

    it('should answer duplicate when LiveKit redelivers an event from the emulator with a fresh token', async () => {
      const { s, room } = await lkSession();
      const url = base + lkPath();
      const first = await w.lk.sendWebhook(url, 'room_finished', { room });
      expect(await first.json()).toEqual({ result: 'applied' });
      const delivered = w.lk.webhooks.at(-1)!;
      expect(delivered.event).toBe('room_finished');
      const o = await observe();

      const again = await postLk(delivered.body, w.lk.signWebhook(delivered.body));

      expect(again.status).toBe(200);
      expect(again.body).toEqual({ result: 'duplicate' });
      expect(await snapshot()).toEqual(o.before);
      expect((await viewSession(s.id)).endReason).toBe('vendor:room_finished');
      const rows = await o.audit();
      expect(rows.filter((r) => r.action === 'session.ended')).toEqual([]);
      expectOneHook(rows, {
        provider: 'LIVEKIT',
        credentialId: w.a.creds.LIVEKIT,
        outcome: 'SUCCESS',
        event: 'room_finished',
        result: 'duplicate',
      });
    });

    it('should answer unknown_session and change nothing when LiveKit reports a room Roomkey never created', async () => {
      const ghostRoom = `ghost-${uniq()}`;
      // The room exists at the vendor (a participant joined with a token minted elsewhere).
      w.lk.joinAs(w.lk.mint({ identity: 'ghost', video: { roomJoin: true, room: ghostRoom } }));
      const o = await observe();
      const url = base + lkPath();
      for (const [event, subject] of [
        ['participant_joined', { room: ghostRoom, identity: 'ghost' }],
        ['participant_left', { room: ghostRoom, identity: 'ghost' }],
        ['room_finished', { room: ghostRoom }],
      ] as const) {
        const res = await w.lk.sendWebhook(url, event, subject);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ result: 'unknown_session' });
      }
      const after = await snapshot();
      expect(after.sessions).toEqual(o.before.sessions);
      expect(after.connections).toEqual(o.before.connections);
      const hooks = await o.hooks();
      expect(hooks.map((h) => h.metadata.result)).toEqual([
        'unknown_session',
        'unknown_session',
        'unknown_session',
      ]);
    });

    it('should answer ignored and change nothing when LiveKit delivers an uninteresting event', async () => {
      const { c1, room } = await lkSession();
      const o = await observe();
      const events = ['track_published', 'track_unpublished', 'room_started', 'egress_started'];
      for (const event of events) {
        const res = await w.lk.sendWebhook(base + lkPath(), event, { room, identity: c1.identity });
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ result: 'ignored' });
      }
      const after = await snapshot();
      expect(after.sessions).toEqual(o.before.sessions);
      expect(after.connections).toEqual(o.before.connections);
      const hooks = await o.hooks();
      expect(hooks.map((h) => [h.outcome, h.metadata.event, h.metadata.result])).toEqual(
        events.map((e) => ['SUCCESS', e, 'ignored']),
      );
    });

    it('should refuse with 400 and change nothing when a validly signed LiveKit body is not a JSON object', async () => {
      const bodies = ['{"event":"room_finished",', '[]', '42', 'null', '{'];
      for (const body of bodies) {
        const o = await observe();
        const res = await postLk(body, w.lk.signWebhook(body));
        expect({ body, status: res.status }).toEqual({ body, status: 400 });
        expect(res.body.error.code).toBe('BAD_USER_INPUT');
        expect(await snapshot()).toEqual(o.before);
        expectOneHook(await o.audit(), {
          provider: 'LIVEKIT',
          credentialId: w.a.creds.LIVEKIT,
          outcome: 'FAILURE',
          event: 'unknown',
          result: 'malformed',
        });
      }
    });

    it('should refuse with 400 when a signed LiveKit body is over 64 KB and accept one of exactly 64 KB', async () => {
      const { s, room } = await lkSession();
      const sized = (bytes: number) => {
        const head = JSON.stringify({
          event: 'room_finished',
          room: { name: room },
          id: `EV_${uniq()}`,
          pad: '',
        });
        const body = head.replace(
          '"pad":""',
          `"pad":"${'x'.repeat(bytes - Buffer.byteLength(head))}"`,
        );
        expect(Buffer.byteLength(body)).toBe(bytes);
        return body;
      };
      const o = await observe();
      const big = sized(KB64 + 1);
      const res = await postLk(big, w.lk.signWebhook(big));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BAD_USER_INPUT');
      expect(await snapshot()).toEqual(o.before);
      expect((await viewSession(s.id)).status).toBe('ACTIVE');

      const fits = sized(KB64);
      const ok64 = await postLk(fits, w.lk.signWebhook(fits));
      expect(ok64.status).toBe(200);
      expect(ok64.body).toEqual({ result: 'applied' });
      expect((await viewSession(s.id)).status).toBe('ENDED');
    });
  });

  // ------------------------------------------------------------------------------------------
  // Which credential a URL names
  // ------------------------------------------------------------------------------------------

  describe('webhook URL', () => {
    /** Paths under which a valid delivery must still be refused, for each vendor. */
    const badPaths = (vendor: 'openvidu' | 'livekit') => {
      const own = vendor === 'openvidu' ? w.a.creds.OPENVIDU : w.a.creds.LIVEKIT;
      const other = vendor === 'openvidu' ? w.a.creds.LIVEKIT : w.a.creds.OPENVIDU;
      const tenantB = vendor === 'openvidu' ? w.b.creds.OPENVIDU : w.b.creds.LIVEKIT;
      return [
        ['unknown credential', `/t/${w.a.tenant.slug}/webhooks/${vendor}/${randomUUID()}`],
        ['non-UUID credential', `/t/${w.a.tenant.slug}/webhooks/${vendor}/not-a-uuid`],
        ["tenant B's credential", `/t/${w.a.tenant.slug}/webhooks/${vendor}/${tenantB}`],
        ['credential of the other vendor', `/t/${w.a.tenant.slug}/webhooks/${vendor}/${other}`],
        ['unknown slug', `/t/no-such-tenant-${uniq()}/webhooks/${vendor}/${own}`],
        ['malformed slug', `/t/NO_SUCH/webhooks/${vendor}/${own}`],
      ] as const;
    };

    it('should refuse with 401 and change nothing when an OpenVidu delivery names an unknown, foreign or wrong-kind credential', async () => {
      const { s, c1 } = await ovSession();
      const body = ovBody('participantJoined', ovParticipant(s.externalId, c1.externalId!));
      for (const [name, path] of badPaths('openvidu')) {
        const before = await snapshot();
        const res = await postOv(body, ovAuth(), path);
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
        expect(res.body.error.code).toBe('UNAUTHENTICATED');
        expect(await snapshot()).toEqual(before);
      }
      // Control: the same body and header on the credential's own URL is applied.
      expect((await postOv(body)).body).toEqual({ result: 'applied' });
    });

    it('should refuse with 401 and change nothing when a signed LiveKit delivery names an unknown, foreign or wrong-kind credential', async () => {
      const { s, room } = await lkSession();
      // Tenants A and B share the LiveKit key, so the signature is valid for both credentials.
      const body = lkBody('room_finished', { room });
      const auth = w.lk.signWebhook(body);
      for (const [name, path] of badPaths('livekit')) {
        const before = await snapshot();
        const res = await postLk(body, auth, path);
        expect({ name, status: res.status }).toEqual({ name, status: 401 });
        expect(res.body.error.code).toBe('UNAUTHENTICATED');
        expect(await snapshot()).toEqual(before);
      }
      expect((await viewSession(s.id)).status).toBe('ACTIVE');
      // Control: tenant B's own URL accepts the signature (but knows no such room) ...
      const onB = await postLk(body, auth, lkPath(w.b.creds.LIVEKIT, w.b.tenant.slug));
      expect(onB.body).toEqual({ result: 'unknown_session' });
      // ... and tenant A's own URL ends the room.
      expect((await postLk(body, auth)).body).toEqual({ result: 'applied' });
      expect((await viewSession(s.id)).status).toBe('ENDED');
    });

    it("should write exactly one webhook.received event in the URL's tenant when a delivery names an unknown, foreign or wrong-kind credential", async () => {
      const { s, c1 } = await ovSession();
      const ov = ovBody('participantJoined', ovParticipant(s.externalId, c1.externalId!));
      const lk = lkBody('track_published', { room: 'x' });
      const deliveries = [
        ...badPaths('openvidu')
          .slice(0, 4)
          .map(([name, path]) => [`openvidu ${name}`, () => postOv(ov, ovAuth(), path)] as const),
        ...badPaths('livekit')
          .slice(0, 4)
          .map(
            ([name, path]) =>
              [`livekit ${name}`, () => postLk(lk, w.lk.signWebhook(lk), path)] as const,
          ),
      ];
      const missing: string[] = [];
      for (const [name, deliver] of deliveries) {
        const o = await observe();
        expect((await deliver()).status).toBe(401);
        const hooks = await o.hooks();
        const inA = hooks.filter((h) => h.tenant_id === w.a.tenant.id && h.outcome === 'DENIED');
        if (hooks.length !== 1 || inA.length !== 1) missing.push(`${name}: ${hooks.length} events`);
        expect(hooks.filter((h) => h.tenant_id === w.b.tenant.id)).toEqual([]);
      }
      expect(missing).toEqual([]);
    });

    it('should answer every refused delivery with the same 401 body when the reason differs', async () => {
      const ov = ovBody('signalSent', { sessionId: 'x' });
      const lk = lkBody('track_published', { room: 'x' });
      const refusals = [
        await postOv(ov, `Bearer wrong-${uniq()}`),
        await postOv(ov, null),
        ...(await Promise.all(badPaths('openvidu').map(([, path]) => postOv(ov, ovAuth(), path)))),
        await postLk(lk, signLiveKitJwt({ iss: w.secrets.livekitKey, exp: now() + 60 }, 'x')),
        await postLk(lk, null),
        ...(await Promise.all(
          badPaths('livekit').map(([, path]) => postLk(lk, w.lk.signWebhook(lk), path)),
        )),
      ];
      const shapes = refusals.map((r) => {
        const { requestId, ...rest } = (r.body as { error: Record<string, unknown> }).error;
        expect(typeof requestId).toBe('string');
        return { status: r.status, error: rest };
      });
      expect(new Set(shapes.map((x) => JSON.stringify(x))).size).toBe(1);
      expect(shapes[0]).toEqual({
        status: 401,
        error: { code: 'UNAUTHENTICATED', message: expect.any(String) },
      });
    });

    it('should write exactly one webhook.received event when a delivery to a known credential is over 64 KB', async () => {
      const big = JSON.stringify({ event: 'signalSent', pad: 'x'.repeat(KB64 + 10) });
      const results: string[] = [];
      for (const [name, deliver] of [
        ['openvidu', () => postOv(big)],
        ['livekit', () => postLk(big, w.lk.signWebhook(big))],
      ] as const) {
        const o = await observe();
        expect((await deliver()).status).toBe(400);
        const hooks = (await o.hooks()).filter((h) => h.tenant_id === w.a.tenant.id);
        results.push(`${name}: ${hooks.length}`);
      }
      expect(results).toEqual(['openvidu: 1', 'livekit: 1']);
    });
  });

  // ------------------------------------------------------------------------------------------
  // Secrets
  // ------------------------------------------------------------------------------------------

  it('should never write the webhook secret, API secrets or presented credentials to logs, audit events or receipts when webhooks are delivered', async () => {
    const wrongCanary = `CANARY-wrong-webhook-${uniq()}`;
    const { s, c1 } = await ovSession();
    const lk = await lkSession();
    // A mix of applied, refused and malformed deliveries on both routes.
    await w.ov.webhook(
      base + ovPath(),
      'participantJoined',
      ovParticipant(s.externalId, c1.externalId!),
    );
    await postOv(ovBody('sessionDestroyed', { sessionId: s.externalId }), `Bearer ${wrongCanary}`);
    await postOv('{not json');
    await w.lk.sendWebhook(base + lkPath(), 'participant_joined', {
      room: lk.room,
      identity: lk.c1.identity,
    });
    const lkBad = lkBody('room_finished', { room: lk.room });
    const forged = signLiveKitJwt(
      { iss: w.secrets.livekitKey, nbf: now(), exp: now() + 60, sha256: webhookBodyHash(lkBad) },
      wrongCanary,
    );
    expect((await postLk(lkBad, forged)).status).toBe(401);
    expect((await postLk('{', w.lk.signWebhook('{'))).status).toBe(400);

    const secrets = [
      w.secrets.openviduWebhook,
      w.secrets.openvidu,
      w.secrets.livekitSecret,
      wrongCanary,
      forged,
    ];
    const logs = w.t.logs.join('\n');
    expect(logs).toContain(ovPath()); // the deliveries were logged, so the check has teeth
    const audit = (
      await w.t.ds.query<Array<{ row: string }>>('SELECT a::text AS row FROM audit_event a')
    )
      .map((r) => r.row)
      .join('\n');
    expect(audit).toContain('webhook.received');
    const receipts = (
      await w.t.ds.query<Array<{ row: string }>>('SELECT r::text AS row FROM webhook_receipt r')
    )
      .map((r) => r.row)
      .join('\n');
    for (const secret of secrets) {
      expect(logs.includes(secret)).toBe(false);
      expect(audit.includes(secret)).toBe(false);
      expect(receipts.includes(secret)).toBe(false);
    }
  });
});
