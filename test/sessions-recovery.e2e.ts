/**
 * Sessions the vendor forgot, and claims lost mid-call (docs/decisions.md#issue-6): a room the vendor no longer has
 * is recorded as ended (so its key can be used again) and the compatibility routes whose front
 * ends reuse a name make it again; a claim taken over while its vendor call was in flight still
 * ends with exactly one open session.
 */
import request from 'supertest';
import { expectError } from './helpers/assertions';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  type ConnectionJson,
  type SessionJson,
  type VendorWorld,
  ok,
  startVendorWorld,
} from './helpers/vendors';

const SESSION = 'query ($id: ID!) { session(id: $id) { id status endReason externalId } }';

describe('sessions the vendor forgot, and lost claims', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const createSession = async (input: Record<string, unknown>) =>
    (
      await ok(
        w.t.gql<{ createSession: SessionJson }>(CREATE_SESSION, { input }, { auth: w.a.adminKey }),
      )
    ).createSession;
  const session = async (id: string) =>
    (await ok(w.t.gql<{ session: SessionJson }>(SESSION, { id }, { auth: w.a.adminKey }))).session;
  const openRows = async (key: string) =>
    w.t.ds.query<Array<{ id: string; status: string }>>(
      `SELECT id, status FROM video_session WHERE tenant_id = $1 AND custom_id = $2 AND status <> 'ENDED'`,
      [w.a.tenant.id, key],
    );
  /** Closes an OpenVidu session behind Roomkey's back, as OpenVidu does when the last one leaves. */
  const closeAtOpenVidu = async (id: string) => {
    const res = await fetch(`${w.ov.url}/openvidu/api/sessions/${id}`, {
      method: 'DELETE',
      headers: {
        authorization: `Basic ${Buffer.from(`OPENVIDUAPP:${w.secrets.openvidu}`).toString('base64')}`,
      },
    });
    expect(res.status).toBe(204);
  };

  it('should record the session as ended and answer CONFLICT when the vendor no longer has it, and then create a new one for the same key', async () => {
    const s = await createSession({ provider: 'OPENVIDU', customSessionId: 'gone-1' });
    await closeAtOpenVidu('gone-1');
    const r = await w.t.gql<{ createConnection: ConnectionJson }>(
      CREATE_CONNECTION,
      { input: { sessionId: s.id } },
      { auth: w.a.adminKey },
    );
    expectError(r, 'CONFLICT');
    expect(r.body.errors?.[0]?.extensions?.field).toBe('sessionId');
    expect(await session(s.id)).toMatchObject({ status: 'ENDED', endReason: 'vendor:gone' });

    const again = await createSession({ provider: 'OPENVIDU', customSessionId: 'gone-1' });
    expect(again.id).not.toBe(s.id);
    expect(w.ov.session('gone-1')).toBeDefined();
    const [ended] = await w.t.ds.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_event
        WHERE tenant_id = $1 AND action = 'session.ended' AND target_id = $2`,
      [w.a.tenant.id, s.id],
    );
    expect(ended.n).toBe(1);
  });

  it('should end a Pexip session whose meeting ended at Pexip when a participant is asked for', async () => {
    const s = await createSession({ provider: 'PEXIP' });
    expect(w.px.endMeeting(s.externalId)).toBe(true);
    const r = await w.t.gql(
      'mutation ($m: String!) { createParticipant(input: {meetingId: $m}) { participantId } }',
      { m: s.externalId },
      { auth: w.a.adminKey },
    );
    expectError(r, 'CONFLICT');
    expect(await session(s.id)).toMatchObject({ status: 'ENDED', endReason: 'vendor:gone' });
  });

  it('should make the OpenVidu session again under the same id when the sample route asks for a token after OpenVidu closed it', async () => {
    const http = () => request(w.t.app.getHttpServer());
    const slug = w.a.tenant.slug;
    const created = await http()
      .post(`/t/${slug}/openvidu/api/sessions`)
      .set('authorization', w.a.adminKey)
      .send({ customSessionId: 'gone-2' });
    expect(created.text).toBe('gone-2');
    await closeAtOpenVidu('gone-2');

    const token = await http()
      .post(`/t/${slug}/openvidu/api/sessions/gone-2/connections`)
      .set('authorization', w.a.adminKey)
      .send({});
    expect(token.status).toBe(200);
    expect(w.ov.connectWithToken(token.text).status).toBe('active');
    const rows = await w.t.ds.query<Array<{ status: string; end_reason: string | null }>>(
      `SELECT status, end_reason FROM video_session WHERE tenant_id = $1 AND custom_id = 'gone-2'
        ORDER BY created_at`,
      [w.a.tenant.id],
    );
    expect(rows).toEqual([
      { status: 'ENDED', end_reason: 'vendor:gone' },
      { status: 'ACTIVE', end_reason: null },
    ]);
  });

  it('should make the Fishjam room again when the room manager is asked for a peer after Fishjam purged it', async () => {
    const http = () => request(w.t.app.getHttpServer());
    const url = `/t/${w.a.tenant.slug}/fishjam/room-manager?roomName=gone-3&peerName=alice`;
    const first = await http().get(url).set('authorization', w.a.adminKey);
    expect(first.status).toBe(200);
    const roomId = (first.body as { room: { id: string } }).room.id;
    const purged = await fetch(`${w.fj.fishjamUrl}/room/${roomId}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${w.secrets.fishjamToken}` },
    });
    expect(purged.status).toBe(204);

    const second = await http().get(url).set('authorization', w.a.adminKey);
    expect(second.status).toBe(200);
    const body = second.body as { peerToken: string; room: { id: string; name: string } };
    expect(body.room.name).toBe('gone-3');
    expect(body.room.id).not.toBe(roomId);
    expect(w.fj.peerByToken(body.peerToken)?.roomId).toBe(body.room.id);
    expect(await openRows('gone-3')).toHaveLength(1);
  });

  it('should still record exactly one open session when its claim is taken over while the vendor call is in flight', async () => {
    w.ov.faults.set({ latencyMs: 400, match: (m, p) => m === 'POST' && p.endsWith('/sessions') });
    const pending = createSession({ provider: 'OPENVIDU', customSessionId: 'lost-1' });
    for (let i = 0; i < 200 && w.ov.calls.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // What a takeover of a stale claim does: the CREATING row disappears under the caller.
    const [claim] = await w.t.ds.query<Array<{ id: string }>>(
      `DELETE FROM video_session WHERE custom_id = 'lost-1' AND status = 'CREATING' RETURNING id`,
    );
    expect(claim).toBeDefined();
    const s = await pending;
    expect(s).toMatchObject({ customSessionId: 'lost-1', status: 'ACTIVE', externalId: 'lost-1' });
    expect(await openRows('lost-1')).toEqual([{ id: s.id, status: 'ACTIVE' }]);
  });

  it('should answer CONFLICT and close its own Fishjam room when another claim took the key while its vendor call was in flight', async () => {
    const roomsBefore = w.fj.rooms().map((r) => r.id);
    w.fj.faults.set({ latencyMs: 400, match: (m, p) => m === 'POST' && p.endsWith('/room') });
    const pending = w.t.gql(
      CREATE_SESSION,
      { input: { provider: 'FISHJAM', customSessionId: 'lost-2' } },
      { auth: w.a.adminKey },
    );
    for (let i = 0; i < 200 && w.fj.calls.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    // The claim is taken over by another (still creating) request.
    await w.t.ds.query(
      `UPDATE video_session SET created_by_label = 'other-request', created_at = now()
        WHERE custom_id = 'lost-2' AND status = 'CREATING'`,
    );
    const [row] = await w.t.ds.query<Array<{ id: string }>>(
      `SELECT id FROM video_session WHERE custom_id = 'lost-2' AND status = 'CREATING'`,
    );
    await w.t.ds.query(`DELETE FROM video_session WHERE id = $1`, [row.id]);
    await w.t.ds.query(
      `INSERT INTO video_session (tenant_id, provider, credential_id, custom_id, status,
         created_by_type, created_by_label)
       VALUES ($1, 'FISHJAM', $2, 'lost-2', 'CREATING', 'SYSTEM', 'other-request')`,
      [w.a.tenant.id, w.a.creds.FISHJAM],
    );
    const r = await pending;
    expectError(r, 'CONFLICT');
    // The room Fishjam made for the losing call is closed again; only the other claim remains.
    expect(w.fj.calls.filter((c) => c.method === 'POST')).toHaveLength(1);
    expect(w.fj.rooms().map((r) => r.id)).toEqual(roomsBefore);
    expect(w.fj.calls.filter((c) => c.method === 'DELETE')).toHaveLength(1);
    expect(await openRows('lost-2')).toEqual([{ id: expect.any(String), status: 'CREATING' }]);
  });
});
