/**
 * Sessions and join credentials through GraphQL, for all six vendors, over real HTTP to the vendor
 * emulators (docs/decisions.md#issue-6): createSession → createConnection → the credential works (decoded and
 * verified for Agora and LiveKit; the emulator confirms the OpenVidu connection, Pexip
 * participant and Fishjam peer; Red5 validates it) → revokeConnection / endSession reach the vendor.
 */
import request from 'supertest';
import { ConnectionsService } from '../src/sessions/connections.service';
import {
  AGORA_RTC_PRIVILEGE,
  AGORA_SERVICE_RTC,
  AGORA_SERVICE_RTM,
  decodeAgoraToken,
  onlyService,
  verifyAgoraSignature,
} from './support/agora-token-decoder';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  type ConnectionJson,
  END_SESSION,
  type Kind,
  REVOKE_CONNECTION,
  type SessionJson,
  type VendorWorld,
  ok,
  startVendorWorld,
} from './helpers/vendors';

describe('sessions and join credentials over GraphQL (six vendors)', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const createSession = async (input: Record<string, unknown>, auth = w.a.admin.auth) =>
    (await ok(w.t.gql<{ createSession: SessionJson }>(CREATE_SESSION, { input }, { auth })))
      .createSession;
  const createConnection = async (input: Record<string, unknown>, auth = w.a.admin.auth) =>
    (
      await ok(
        w.t.gql<{ createConnection: ConnectionJson }>(CREATE_CONNECTION, { input }, { auth }),
      )
    ).createConnection;
  const endSession = async (id: string, auth = w.a.admin.auth) =>
    (await ok(w.t.gql<{ endSession: SessionJson }>(END_SESSION, { id }, { auth }))).endSession;
  const revoke = async (id: string, auth = w.a.admin.auth) =>
    (await ok(w.t.gql<{ revokeConnection: ConnectionJson }>(REVOKE_CONNECTION, { id }, { auth })))
      .revokeConnection;

  it('should create an OpenVidu session, issue a working single-use token, revoke it and close the session at the vendor', async () => {
    const s = await createSession({ provider: 'OPENVIDU', customSessionId: 'ov-e2e-1' });
    expect(s).toMatchObject({
      provider: 'OPENVIDU',
      credentialId: w.a.creds.OPENVIDU,
      externalId: 'ov-e2e-1',
      customSessionId: 'ov-e2e-1',
      status: 'ACTIVE',
      createdBy: w.a.admin.id,
      createdByLabel: w.a.admin.email,
    });
    expect(w.ov.session('ov-e2e-1')).toBeDefined();

    const c = await createConnection({ sessionId: s.id, role: 'SUBSCRIBER', data: 'alice' });
    expect(c.credential?.__typename).toBe('OpenViduCredential');
    const token = String(c.credential!.token);
    expect(token).toMatch(/sessionId=ov-e2e-1&token=tok_/);
    const vendorConn = w.ov.connection('ov-e2e-1', String(c.credential!.connectionId));
    expect(vendorConn).toMatchObject({
      role: 'SUBSCRIBER',
      serverData: 'alice',
      status: 'pending',
    });
    expect(c).toMatchObject({
      externalId: c.credential!.connectionId,
      status: 'ISSUED',
      expiresAt: null,
    });

    const second = await createConnection({ sessionId: s.id });
    expect(second.credential!.token).not.toBe(token);

    const revoked = await revoke(c.id);
    expect(revoked).toMatchObject({ status: 'REVOKED', credential: null });
    expect(revoked.revokedAt).not.toBeNull();
    expect(w.ov.connection('ov-e2e-1', String(c.credential!.connectionId))).toBeUndefined();
    expect(() => w.ov.connectWithToken(token)).toThrow();
    expect(w.ov.connectWithToken(String(second.credential!.token)).status).toBe('active');

    const ended = await endSession(s.id);
    expect(ended).toMatchObject({ status: 'ENDED', endReason: 'ended' });
    expect(w.ov.session('ov-e2e-1')).toBeUndefined();
    const deletes = w.ov.calls.filter((x) => x.method === 'DELETE').map((x) => x.path);
    expect(deletes).toEqual([
      `/openvidu/api/sessions/ov-e2e-1/connection/${String(c.credential!.connectionId)}`,
      '/openvidu/api/sessions/ov-e2e-1',
    ]);
  });

  it('should mint a LiveKit token with the role grants, identity and ttl that the emulator accepts, and remove the participant on revoke', async () => {
    const s = await createSession({
      provider: 'LIVEKIT',
      customSessionId: 'weekly sync',
      name: 'Weekly sync',
      livekit: { maxParticipants: 5 },
    });
    expect(s.externalId).toBe('weekly sync');
    expect(w.lk.room('weekly sync')).toMatchObject({ maxParticipants: 5 });

    const before = Math.floor(Date.now() / 1000);
    const c = await createConnection({
      sessionId: s.id,
      role: 'MODERATOR',
      identity: 'alice',
      displayName: 'Alice',
      data: '{"team":"a"}',
      ttlSeconds: 900,
    });
    const cred = c.credential!;
    expect(cred).toMatchObject({
      __typename: 'LiveKitCredential',
      identity: 'alice',
      room: 'weekly sync',
    });
    expect(String(cred.serverUrl)).toBe(w.lk.url.replace(/^http/, 'ws'));
    const claims = w.lk.verify(String(cred.token));
    expect(claims).toMatchObject({
      iss: w.secrets.livekitKey,
      sub: 'alice',
      name: 'Alice',
      metadata: '{"team":"a"}',
    });
    expect(claims.video).toMatchObject({
      roomJoin: true,
      room: 'weekly sync',
      canPublish: true,
      canSubscribe: true,
      roomAdmin: true,
    });
    expect(claims.exp! - before).toBeGreaterThanOrEqual(899);
    expect(claims.exp! - before).toBeLessThanOrEqual(902);
    expect(new Date(c.expiresAt!).getTime() / 1000 - before).toBeGreaterThanOrEqual(899);

    const sub = await createConnection({ sessionId: s.id, role: 'SUBSCRIBER' });
    const subClaims = w.lk.verify(String(sub.credential!.token));
    expect(subClaims.video).toMatchObject({ canPublish: false, canSubscribe: true });
    expect(subClaims.video?.roomAdmin).toBeFalsy();
    expect(subClaims.sub).toMatch(/^rk-[0-9a-f]{16}$/);

    w.lk.joinAs(String(cred.token));
    expect(w.lk.room('weekly sync')?.participants.map((p) => p.identity)).toEqual(['alice']);
    await revoke(c.id);
    expect(w.lk.room('weekly sync')?.participants ?? []).toEqual([]);
    await endSession(s.id);
    expect(w.lk.room('weekly sync')).toBeUndefined();
  });

  it('should create a Pexip meeting and a participant the emulator knows, and delete the participant on revoke', async () => {
    const s = await createSession({ provider: 'PEXIP' });
    const meeting = w.px.meetings().find((m) => m.id === s.externalId);
    expect(meeting).toBeDefined();
    const c = await createConnection({ sessionId: s.id });
    const cred = c.credential!;
    expect(cred).toMatchObject({
      __typename: 'PexipCredential',
      apiAddress: w.px.url,
      meetingId: s.externalId,
    });
    const participant = w.px.participant(s.externalId, String(cred.participantId));
    expect(participant?.participant_secret).toBe(cred.participantSecret);
    await revoke(c.id);
    expect(w.px.participant(s.externalId, String(cred.participantId))).toBeUndefined();
    await endSession(s.id);
    expect(w.px.meetings().find((m) => m.id === s.externalId)).toBeUndefined();
  });

  it('should create a Pexip meeting the emulator knows when createMeeting is called with no input at all, as POST /meetings takes no body', async () => {
    const before = w.px.meetings().length;
    const { createMeeting } = await ok(
      w.t.gql<{ createMeeting: { sessionId: string; meetingId: string; apiAddress: string } }>(
        'mutation { createMeeting { sessionId meetingId apiAddress } }',
        {},
        { auth: w.a.admin.auth },
      ),
    );
    expect(createMeeting.apiAddress).toBe(w.px.url);
    expect(w.px.meetings()).toHaveLength(before + 1);
    expect(w.px.meetings().some((m) => m.id === createMeeting.meetingId)).toBe(true);
    await endSession(createMeeting.sessionId);
  });

  it('should mint an Agora token whose every field and signature check out, for a uid and for a user account', async () => {
    const s = await createSession({ provider: 'AGORA', customSessionId: 'town hall' });
    expect(s.externalId).toBe('town hall');
    const c = await createConnection({
      sessionId: s.id,
      role: 'SUBSCRIBER',
      ttlSeconds: 600,
      agora: { uid: 4294967295 },
    });
    const cred = c.credential!;
    expect(cred).toMatchObject({
      __typename: 'AgoraCredential',
      appId: w.secrets.agoraAppId,
      channel: 'town hall',
      uid: 4294967295,
      userAccount: null,
      rtmToken: null,
    });
    const decoded = decodeAgoraToken(String(cred.token));
    expect(verifyAgoraSignature(decoded, w.secrets.agoraCertificate)).toBe(true);
    expect(verifyAgoraSignature(decoded, '0'.repeat(32))).toBe(false);
    expect(decoded.appId).toBe(w.secrets.agoraAppId);
    expect(decoded.expire).toBe(600);
    const rtc = onlyService(decoded, AGORA_SERVICE_RTC);
    expect(rtc).toMatchObject({ channel: 'town hall', uid: '4294967295' });
    expect(rtc.privileges).toEqual([{ id: AGORA_RTC_PRIVILEGE.JOIN_CHANNEL, expire: 600 }]);
    expect(c.identity).toBe('4294967295');

    const pub = await createConnection({
      sessionId: s.id,
      agora: { userAccount: 'alice@example', rtm: true },
    });
    const p = decodeAgoraToken(String(pub.credential!.token));
    const prtc = onlyService(p, AGORA_SERVICE_RTC);
    expect(prtc.uid).toBe('alice@example');
    expect(prtc.privileges.map((x) => x.id).sort()).toEqual([1, 2, 3, 4]);
    expect(prtc.privileges.every((x) => x.expire === 3600)).toBe(true);
    const rtm = onlyService(decodeAgoraToken(String(pub.credential!.rtmToken)), AGORA_SERVICE_RTM);
    expect(rtm.userId).toBe('alice@example');
    // Agora has nothing to call: end is local.
    expect(w.totalCalls()).toBe(0);
    expect((await endSession(s.id)).status).toBe('ENDED');
  });

  it('should create a Fishjam room and a peer whose token the emulator admits, and delete the peer and room', async () => {
    const s = await createSession({
      provider: 'FISHJAM',
      fishjam: { maxPeers: 4, roomType: 'audio_only' },
    });
    const room = w.fj.rooms().find((r) => r.id === s.externalId);
    expect(room?.config).toMatchObject({ maxPeers: 4, roomType: 'audio_only' });
    const c = await createConnection({ sessionId: s.id, identity: 'bob', displayName: 'Bob' });
    const cred = c.credential!;
    expect(cred).toMatchObject({ __typename: 'FishjamCredential', roomId: s.externalId });
    expect(w.fj.peerByToken(String(cred.peerToken))?.peer.id).toBe(cred.peerId);
    await revoke(c.id);
    expect(w.fj.peerByToken(String(cred.peerToken))).toBeUndefined();
    await endSession(s.id);
    expect(w.fj.rooms().find((r) => r.id === s.externalId)).toBeUndefined();
  });

  it('should issue a Red5 credential that Red5 round-trip validation accepts once and refuses after revoke', async () => {
    const s = await createSession({ provider: 'RED5', customSessionId: 'stream-1' });
    const c = await createConnection({ sessionId: s.id, role: 'PUBLISHER', ttlSeconds: 300 });
    const cred = c.credential!;
    expect(cred).toMatchObject({
      __typename: 'Red5Credential',
      streamId: 'stream-1',
      type: 'publisher',
    });
    const validate = (body: Record<string, unknown>) =>
      request(w.t.app.getHttpServer())
        .post(`/t/${w.a.tenant.slug}/red5/validateCredentials`)
        .send(body);
    const body = {
      type: 'publisher',
      streamID: 'stream-1',
      username: cred.username,
      password: cred.password,
      token: cred.token,
    };
    const yes = await validate(body);
    expect({ status: yes.status, body: yes.body }).toEqual({ status: 200, body: { result: true } });
    // Only hashes are stored.
    const [row] = await w.t.ds.query<Array<{ t: Buffer; p: Buffer; u: string }>>(
      'SELECT token_hash AS t, password_hash AS p, username AS u FROM session_connection WHERE id = $1',
      [c.id],
    );
    expect(row.t.length).toBe(32);
    expect(row.p.length).toBe(32);
    expect(row.u).toBe(cred.username);
    await revoke(c.id);
    const no = await validate(body);
    expect({ status: no.status, body: no.body }).toEqual({ status: 200, body: { result: false } });
    expect(w.totalCalls()).toBe(0);
  });

  it('should return the session with its connections (without secrets) and list sessions by filter', async () => {
    const s = await createSession({ provider: 'AGORA', customSessionId: 'listing-1' });
    const c1 = await createConnection({ sessionId: s.id, agora: { uid: 7 } });
    const c2 = await createConnection(
      { sessionId: s.id, role: 'SUBSCRIBER', agora: { uid: 8 } },
      w.a.member.auth,
    );
    const r = await ok(
      w.t.gql<{ session: SessionJson & { connections: ConnectionJson[] } }>(
        `query ($id: ID!) { session(id: $id) { id connections { id identity role createdBy credential { __typename } } } }`,
        { id: s.id },
        { auth: w.a.member.auth },
      ),
    );
    expect(r.session.connections).toEqual([
      { id: c2.id, identity: '8', role: 'SUBSCRIBER', createdBy: w.a.member.id, credential: null },
      { id: c1.id, identity: '7', role: 'PUBLISHER', createdBy: w.a.admin.id, credential: null },
    ]);
    const kinds: Kind[] = ['AGORA'];
    const list = await ok(
      w.t.gql<{ sessions: { nodes: SessionJson[] } }>(
        `query ($f: SessionFilterInput) { sessions(filter: $f, first: 100) { nodes { id provider status } } }`,
        { f: { provider: kinds[0], status: 'ACTIVE' } },
        { auth: w.a.member.auth },
      ),
    );
    expect(list.sessions.nodes.map((n) => n.id)).toContain(s.id);
    expect(list.sessions.nodes.every((n) => n.provider === 'AGORA' && n.status === 'ACTIVE')).toBe(
      true,
    );
  });

  it('should load the connections of a whole page of sessions in one query, the newest `first` of each', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await createSession({ provider: 'AGORA', customSessionId: `page-${i}` });
      ids.push(s.id);
      for (let u = 1; u <= i + 1; u++)
        await createConnection({ sessionId: s.id, agora: { uid: u } });
    }
    const spy = jest.spyOn(w.t.app.get(ConnectionsService), 'listForSessions');
    try {
      const r = await ok(
        w.t.gql<{
          sessions: { nodes: Array<{ id: string; connections: Array<{ identity: string }> }> };
        }>(
          '{ sessions(first: 4, filter: {provider: AGORA}) { nodes { id connections(first: 2) { identity } } } }',
          {},
          { auth: w.a.member.auth },
        ),
      );
      const byId = new Map(
        r.sessions.nodes.map((n) => [n.id, n.connections.map((c) => c.identity)]),
      );
      expect(ids.map((id) => byId.get(id))).toEqual([['1'], ['2', '1'], ['3', '2'], ['4', '3']]);
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
    }
  });
});
