/**
 * Proves the OpenVidu 2 and LiveKit emulators answer like the vendors do (auth, idempotency,
 * 4xx paths, wire shapes) and that the shared fault injection works — with plain `fetch`
 * against 127.0.0.1, no SDKs.
 */
import { type IncomingHttpHeaders, type Server, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { MALFORMED_JSON_BODY } from './faults';
import {
  LiveKitError,
  type LiveKitEmulator,
  mintLiveKitToken,
  startLiveKitEmulator,
  verifyLiveKitJwt,
  webhookBodyHash,
} from './livekit';
import {
  OpenViduTokenError,
  type OpenViduConnectionJson,
  type OpenViduEmulator,
  type OpenViduSessionJson,
  startOpenViduEmulator,
} from './openvidu';

const SECRET = 'MY_SECRET';
const API_KEY = 'devkey';
const API_SECRET = 'secret-secret-secret-secret-secret';

function basic(secret: string, user = 'OPENVIDUAPP'): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** A receiver for webhooks on 127.0.0.1. */
async function startReceiver(): Promise<{
  url: string;
  received: Received[];
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('OpenVidu 2 emulator', () => {
  let ov: OpenViduEmulator;
  const api = (path: string): string => `${ov.url}/openvidu/api${path}`;
  const call = (
    method: string,
    path: string,
    body?: unknown,
    auth = basic(SECRET),
  ): Promise<Response> =>
    fetch(api(path), {
      method,
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
  const createSession = async (body: unknown = {}): Promise<OpenViduSessionJson> => {
    const res = await call('POST', '/sessions', body);
    expect(res.status).toBe(200);
    return (await res.json()) as OpenViduSessionJson;
  };
  const createConnection = async (
    sessionId: string,
    body: unknown = {},
  ): Promise<OpenViduConnectionJson> => {
    const res = await call('POST', `/sessions/${sessionId}/connection`, body);
    expect(res.status).toBe(200);
    return (await res.json()) as OpenViduConnectionJson;
  };

  beforeAll(async () => {
    ov = await startOpenViduEmulator({
      secret: SECRET,
      webhookHeaders: { 'x-roomkey-hook': 'h-secret' },
    });
  });
  afterEach(() => ov.reset());
  afterAll(async () => {
    await ov.close();
  });

  it('should answer 401 when the Authorization header is missing, wrong or for another user', async () => {
    const missing = await fetch(api('/sessions'), { method: 'GET' });
    const wrongSecret = await call('GET', '/sessions', undefined, basic('nope'));
    const wrongUser = await call('GET', '/sessions', undefined, basic(SECRET, 'ADMIN'));
    const unknownPath = await call('GET', '/nothing-here', undefined, basic('nope'));
    for (const res of [missing, wrongSecret, wrongUser, unknownPath]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic/);
    }
    expect(ov.sessions()).toHaveLength(0);
  });

  it('should create a session with the documented shape when the body is empty', async () => {
    const res = await fetch(api('/sessions'), {
      method: 'POST',
      headers: { authorization: basic(SECRET) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const session = (await res.json()) as OpenViduSessionJson;
    expect(session).toMatchObject({
      object: 'session',
      mediaMode: 'ROUTED',
      recordingMode: 'MANUAL',
      customSessionId: '',
      forcedVideoCodec: 'MEDIA_SERVER_PREFERRED',
      allowTranscoding: false,
      recording: false,
      connections: { numberOfElements: 0, content: [] },
      defaultRecordingProperties: { outputMode: 'COMPOSED', resolution: '1280x720', frameRate: 25 },
    });
    expect(session.id).toMatch(/^ses_[A-Z][A-Za-z0-9]{9}$/);
    expect(Math.abs(session.createdAt - Date.now())).toBeLessThan(5000);
    expect(ov.session(session.id)?.id).toBe(session.id);
  });

  it('should use the customSessionId as id and keep every optional property when all are given', async () => {
    const session = await createSession({
      mediaMode: 'ROUTED',
      recordingMode: 'ALWAYS',
      customSessionId: 'Tenant_1-room',
      forcedVideoCodec: 'VP8',
      allowTranscoding: true,
      defaultRecordingProperties: { name: 'rec', outputMode: 'INDIVIDUAL', hasVideo: true },
      mediaNode: { id: 'media_i-1' },
    });
    expect(session).toMatchObject({
      id: 'Tenant_1-room',
      customSessionId: 'Tenant_1-room',
      recordingMode: 'ALWAYS',
      forcedVideoCodec: 'VP8',
      allowTranscoding: true,
      mediaNode: { id: 'media_i-1' },
      defaultRecordingProperties: {
        name: 'rec',
        outputMode: 'INDIVIDUAL',
        ignoreFailedStreams: false,
      },
    });
  });

  it('should answer 409 with an empty body and change nothing when the customSessionId exists', async () => {
    const first = await createSession({ customSessionId: 'dup', recordingMode: 'MANUAL' });
    const again = await call('POST', '/sessions', {
      customSessionId: 'dup',
      recordingMode: 'ALWAYS',
    });
    expect(again.status).toBe(409);
    expect(await again.text()).toBe('');
    expect(ov.sessions()).toHaveLength(1);
    expect(ov.session('dup')).toMatchObject({
      createdAt: first.createdAt,
      recordingMode: 'MANUAL',
    });
  });

  it.each([
    [{ customSessionId: 'has space' }, /customSessionId' is wrong/],
    [{ customSessionId: 'x/y' }, /customSessionId' is wrong/],
    [{ customSessionId: 42 }, /Type error in some parameter/],
    [{ recordingMode: 'SOMETIMES' }, /No enum constant .*RecordingMode\.SOMETIMES/],
    [{ mediaMode: 'ROUTED_PLUS' }, /No enum constant .*MediaMode/],
    [{ forcedVideoCodec: 'AV1' }, /forcedVideoCodec/],
    [{ allowTranscoding: 'yes' }, /Type error/],
    [{ defaultRecordingProperties: { frameRate: 500 } }, /frameRate/],
    [{ mediaNode: { name: 'x' } }, /Property 'id' not found/],
  ])(
    'should answer 400 with an error message when the session body is %j',
    async (body, message) => {
      const res = await call('POST', '/sessions', body);
      expect(res.status).toBe(400);
      const error = (await res.json()) as {
        status: number;
        error: string;
        message: string;
        path: string;
      };
      expect(error).toMatchObject({
        status: 400,
        error: 'Bad Request',
        path: '/openvidu/api/sessions',
      });
      expect(error.message).toMatch(message);
      expect(ov.sessions()).toHaveLength(0);
    },
  );

  it('should answer 400 when the body is not a JSON object', async () => {
    expect((await call('POST', '/sessions', '{oops')).status).toBe(400);
    expect((await call('POST', '/sessions', '[1,2]')).status).toBe(400);
  });

  it('should create a pending PUBLISHER connection with a single-use wss token when the session exists', async () => {
    const session = await createSession({ customSessionId: 'room1' });
    const connection = await createConnection(session.id, { data: '{"user":"alice"}' });
    expect(connection).toMatchObject({
      object: 'connection',
      status: 'pending',
      type: 'WEBRTC',
      sessionId: 'room1',
      role: 'PUBLISHER',
      serverData: '{"user":"alice"}',
      record: true,
      kurentoOptions: null,
      customIceServers: [],
      activeAt: null,
      clientData: null,
    });
    expect(connection.id).toMatch(/^con_[A-Z][A-Za-z0-9]{9}$/);
    expect(connection.connectionId).toBe(connection.id);
    expect(connection.token).toMatch(
      /^wss:\/\/127\.0\.0\.1:4443\?sessionId=room1&token=tok_[A-Za-z0-9]{16}$/,
    );
    expect(ov.connection('room1', connection.id)?.status).toBe('pending');

    const active = ov.connectWithToken(connection.token as string, 'client');
    expect(active).toMatchObject({ status: 'active', clientData: 'client' });
    expect(() => ov.connectWithToken(connection.token as string)).toThrow(OpenViduTokenError);
  });

  it('should keep role, record and kurentoOptions when they are given', async () => {
    await createSession({ customSessionId: 'room2' });
    const connection = await createConnection('room2', {
      type: 'WEBRTC',
      role: 'SUBSCRIBER',
      record: false,
      kurentoOptions: { videoMaxRecvBandwidth: 1000, allowedFilters: ['GStreamerFilter'] },
      customIceServers: [{ url: 'turn:turn.example:443', username: 'u', credential: 'p' }],
    });
    expect(connection).toMatchObject({
      role: 'SUBSCRIBER',
      record: false,
      kurentoOptions: { videoMaxRecvBandwidth: 1000, allowedFilters: ['GStreamerFilter'] },
      customIceServers: [{ url: 'turn:turn.example:443', username: 'u', credential: 'p' }],
    });
  });

  it('should answer 404 when a connection is created for an unknown session', async () => {
    const res = await call('POST', '/sessions/nope/connection', { role: 'PUBLISHER' });
    expect(res.status).toBe(404);
    expect(await res.text()).toBe('');
  });

  it.each([
    [{ role: 'ADMIN' }, /Parameter role ADMIN is not defined/],
    [{ type: 'SIP' }, /Parameter 'type' SIP is not defined/],
    [{ data: 7 }, /Type error/],
    [{ record: 'true' }, /Type error in parameter 'record'/],
    [{ kurentoOptions: { videoMaxRecvBandwidth: 'fast' } }, /kurentoOptions/],
    [{ type: 'IPCAM' }, /Type error/],
    [{ type: 'IPCAM', rtspUri: 'ftp://cam/1' }, /valid protocol/],
  ])('should answer 400 when the connection body is %j', async (body, message) => {
    await createSession({ customSessionId: 'room3' });
    const res = await call('POST', '/sessions/room3/connection', body);
    expect(res.status).toBe(400);
    const error = (await res.json()) as { message: string; path: string };
    expect(error.path).toBe('/openvidu/api/sessions/room3/connection');
    expect(error.message).toMatch(message);
    expect(ov.session('room3')?.connections.numberOfElements).toBe(0);
  });

  it('should hide pending connections from GET session unless pendingConnections=true is asked', async () => {
    await createSession({ customSessionId: 'room4' });
    const pending = await createConnection('room4');
    const plain = (await (await call('GET', '/sessions/room4')).json()) as OpenViduSessionJson;
    expect(plain.connections.numberOfElements).toBe(0);
    const withPending = (await (
      await call('GET', '/sessions/room4?pendingConnections=true')
    ).json()) as OpenViduSessionJson;
    expect(withPending.connections.content.map((c) => c.id)).toEqual([pending.id]);

    const list = (await (await call('GET', '/sessions/room4/connection')).json()) as {
      numberOfElements: number;
    };
    expect(list.numberOfElements).toBe(1);
    const all = (await (await call('GET', '/sessions')).json()) as { numberOfElements: number };
    expect(all.numberOfElements).toBe(1);
    expect((await call('GET', '/sessions/unknown')).status).toBe(404);
    expect((await call('GET', '/sessions/unknown/connection')).status).toBe(404);
  });

  it('should answer 400 for an unknown session and 404 for an unknown connection when reading one connection', async () => {
    await createSession({ customSessionId: 'room5' });
    const connection = await createConnection('room5');
    expect((await call('GET', `/sessions/room5/connection/${connection.id}`)).status).toBe(200);
    expect((await call('GET', '/sessions/room5/connection/con_Missing123')).status).toBe(404);
    expect((await call('GET', `/sessions/nope/connection/${connection.id}`)).status).toBe(400);
  });

  it('should revoke a pending token with 204 and then answer 404, and 400 when the session is unknown', async () => {
    await createSession({ customSessionId: 'room6' });
    const connection = await createConnection('room6');
    expect((await call('DELETE', `/sessions/nope/connection/${connection.id}`)).status).toBe(400);
    const deleted = await call('DELETE', `/sessions/room6/connection/${connection.id}`);
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');
    expect((await call('DELETE', `/sessions/room6/connection/${connection.id}`)).status).toBe(404);
    expect(() => ov.connectWithToken(connection.token as string)).toThrow(OpenViduTokenError);
  });

  it('should close a session with 204 and answer 404 when it is closed again', async () => {
    await createSession({ customSessionId: 'room7' });
    expect((await call('DELETE', '/sessions/room7')).status).toBe(204);
    expect((await call('DELETE', '/sessions/room7')).status).toBe(404);
    expect(ov.sessions()).toHaveLength(0);
  });

  it('should record every call with method, path, headers and parsed body when requests arrive', async () => {
    await createSession({ customSessionId: 'rec' });
    expect(ov.calls).toHaveLength(1);
    expect(ov.calls[0]).toMatchObject({
      method: 'POST',
      path: '/openvidu/api/sessions',
      body: { customSessionId: 'rec' },
    });
    expect(ov.calls[0].headers.authorization).toBe(basic(SECRET));
  });

  it('should post an OpenVidu webhook with the static headers when the webhook helper is used', async () => {
    const receiver = await startReceiver();
    try {
      const res = await ov.webhook(receiver.url, 'participantJoined', {
        sessionId: 'room8',
        participantId: 'con_A123456789',
      });
      expect(res.status).toBe(200);
      expect(receiver.received).toHaveLength(1);
      const [hook] = receiver.received;
      expect(hook.headers['x-roomkey-hook']).toBe('h-secret');
      expect(hook.headers['content-type']).toBe('application/json');
      expect(JSON.parse(hook.body)).toMatchObject({
        event: 'participantJoined',
        sessionId: 'room8',
        participantId: 'con_A123456789',
        timestamp: expect.any(Number) as number,
      });
    } finally {
      await receiver.close();
    }
  });
});

describe('LiveKit emulator', () => {
  let lk: LiveKitEmulator;
  const admin = (video: Record<string, unknown>): string => lk.mint({ video, ttlSeconds: 60 });
  const twirp = (
    method: string,
    body: unknown,
    token?: string,
    headers: Record<string, string> = {},
  ) =>
    fetch(`${lk.url}/twirp/livekit.RoomService/${method}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json;charset=UTF-8',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  beforeAll(async () => {
    lk = await startLiveKitEmulator({ apiKey: API_KEY, apiSecret: API_SECRET });
  });
  afterEach(() => lk.reset());
  afterAll(async () => {
    await lk.close();
  });

  it('should answer twirp unauthenticated when no Authorization header is sent', async () => {
    const res = await twirp('ListRooms', {});
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ code: 'unauthenticated', msg: 'permissions denied' });
  });

  it('should answer 401 when the token is signed with another secret, expired, for another key or not Bearer', async () => {
    const cases = [
      mintLiveKitToken({ apiKey: API_KEY, apiSecret: 'other-secret', video: { roomList: true } }),
      lk.mint({
        video: { roomList: true },
        nowSeconds: Math.floor(Date.now() / 1000) - 3600,
        ttlSeconds: 60,
      }),
      mintLiveKitToken({ apiKey: 'other-key', apiSecret: API_SECRET, video: { roomList: true } }),
      lk.mint({ video: { roomList: true }, claims: { exp: undefined } }),
      'not.a.jwt',
    ];
    for (const token of cases) {
      const res = await twirp('ListRooms', {}, token);
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).not.toBe('application/json');
    }
    const basicAuth = await twirp('ListRooms', {}, undefined, { authorization: 'Basic abc' });
    expect(basicAuth.status).toBe(401);
  });

  it.each([
    ['CreateRoom', { roomList: true }, { name: 'r' }],
    ['ListRooms', { roomCreate: true }, {}],
    ['DeleteRoom', { roomAdmin: true, room: 'r' }, { room: 'r' }],
    ['ListParticipants', { roomAdmin: true, room: 'other' }, { room: 'r' }],
    ['ListParticipants', { room: 'r' }, { room: 'r' }],
    ['RemoveParticipant', { roomAdmin: true }, { room: 'r', identity: 'a' }],
  ])(
    'should answer twirp unauthenticated when %s is called with only the grant %j',
    async (method, video, body) => {
      const res = await twirp(method, body, admin(video));
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ code: 'unauthenticated', msg: 'permissions denied' });
    },
  );

  it('should create a room with snake_case fields and defaults, and return the same room when created again', async () => {
    const res = await twirp(
      'CreateRoom',
      { name: 'demo', maxParticipants: 5 },
      admin({ roomCreate: true }),
    );
    expect(res.status).toBe(200);
    const room = (await res.json()) as Record<string, unknown>;
    expect(room).toMatchObject({
      name: 'demo',
      empty_timeout: 300,
      departure_timeout: 20,
      max_participants: 5,
      metadata: '',
      num_participants: 0,
      active_recording: false,
    });
    expect(room.sid).toMatch(/^RM_/);
    expect(room.creation_time).toMatch(/^\d+$/);

    const again = await twirp(
      'CreateRoom',
      { name: 'demo', empty_timeout: 60, metadata: 'm' },
      admin({ roomCreate: true }),
    );
    const second = (await again.json()) as Record<string, unknown>;
    expect(second).toMatchObject({
      sid: room.sid,
      empty_timeout: 60,
      max_participants: 5,
      metadata: 'm',
    });
    expect(lk.rooms()).toHaveLength(1);
  });

  it('should answer in camelCase when the emulator is started with jsonNames camel', async () => {
    const camel = await startLiveKitEmulator({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      jsonNames: 'camel',
    });
    try {
      const token = camel.mint({ video: { roomCreate: true } });
      const res = await fetch(`${camel.url}/twirp/livekit.RoomService/CreateRoom`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ name: 'c', empty_timeout: 10 }),
      });
      expect(await res.json()).toMatchObject({ name: 'c', emptyTimeout: 10, numParticipants: 0 });
    } finally {
      await camel.close();
    }
  });

  it('should filter by names when ListRooms gets names', async () => {
    const token = admin({ roomCreate: true, roomList: true });
    for (const name of ['a', 'b', 'c']) await twirp('CreateRoom', { name }, token);
    const all = (await (await twirp('ListRooms', {}, token)).json()) as {
      rooms: { name: string }[];
    };
    expect(all.rooms.map((r) => r.name).sort()).toEqual(['a', 'b', 'c']);
    const some = (await (await twirp('ListRooms', { names: ['b', 'zz'] }, token)).json()) as {
      rooms: { name: string }[];
    };
    expect(some.rooms.map((r) => r.name)).toEqual(['b']);
  });

  it('should delete a room with {} and answer twirp not_found when it is deleted again', async () => {
    const token = admin({ roomCreate: true });
    await twirp('CreateRoom', { name: 'gone' }, token);
    const res = await twirp('DeleteRoom', { room: 'gone' }, token);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    const again = await twirp('DeleteRoom', { room: 'gone' }, token);
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ code: 'not_found', msg: 'room not found' });
  });

  it('should accept a minted participant token and list then remove the participant when joinAs is used', async () => {
    const token = lk.mint({
      identity: 'alice',
      name: 'Alice',
      metadata: '{"tenant":"t1"}',
      video: { roomJoin: true, room: 'call-1', canPublish: false },
    });
    const joined = lk.joinAs(token);
    expect(joined).toMatchObject({ identity: 'alice', name: 'Alice', room: 'call-1' });
    expect(joined.permission).toMatchObject({
      canPublish: false,
      canSubscribe: true,
      canPublishData: true,
    });
    expect(lk.room('call-1')?.numParticipants).toBe(1);

    const roomAdmin = admin({ roomAdmin: true, room: 'call-1' });
    const list = (await (
      await twirp('ListParticipants', { room: 'call-1' }, roomAdmin)
    ).json()) as {
      participants: Record<string, unknown>[];
    };
    expect(list.participants).toHaveLength(1);
    expect(list.participants[0]).toMatchObject({
      identity: 'alice',
      name: 'Alice',
      state: 'ACTIVE',
      kind: 'STANDARD',
      permission: { can_publish: false, can_subscribe: true },
    });

    const removed = await twirp(
      'RemoveParticipant',
      { room: 'call-1', identity: 'alice' },
      roomAdmin,
    );
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({});
    const again = await twirp(
      'RemoveParticipant',
      { room: 'call-1', identity: 'alice' },
      roomAdmin,
    );
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ code: 'not_found', msg: 'participant not found' });
  });

  it('should answer an empty participant list when the room does not exist', async () => {
    const res = await twirp(
      'ListParticipants',
      { room: 'none' },
      admin({ roomAdmin: true, room: 'none' }),
    );
    expect(await res.json()).toEqual({ participants: [] });
  });

  it('should refuse joinAs when the token lacks roomJoin, identity, room or a valid signature', () => {
    const refuse = (token: string, status: number): void => {
      let caught: unknown;
      try {
        lk.joinAs(token);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(LiveKitError);
      expect((caught as LiveKitError).status).toBe(status);
    };
    refuse(lk.mint({ identity: 'a', video: { room: 'r' } }), 401);
    refuse(lk.mint({ video: { roomJoin: true, room: 'r' } }), 400);
    refuse(lk.mint({ identity: 'a', video: { roomJoin: true } }), 400);
    refuse(
      mintLiveKitToken({
        apiKey: API_KEY,
        apiSecret: 'wrong',
        identity: 'a',
        video: { roomJoin: true, room: 'r' },
      }),
      401,
    );
    refuse(
      lk.mint({
        identity: 'a',
        video: { roomJoin: true, room: 'r' },
        nowSeconds: Math.floor(Date.now() / 1000) - 7200,
        ttlSeconds: 3600,
      }),
      401,
    );
    expect(lk.rooms()).toHaveLength(0);
  });

  it('should answer twirp malformed when the body has a wrong type or is not JSON', async () => {
    const token = admin({ roomCreate: true });
    const wrongType = await twirp('CreateRoom', { name: 42 }, token);
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ code: 'malformed' });
    const notJson = await twirp('CreateRoom', '{name:', token);
    expect(notJson.status).toBe(400);
    expect(lk.rooms()).toHaveLength(0);
  });

  it('should answer twirp bad_route when the method is not POST or the path is unknown', async () => {
    const get = await fetch(`${lk.url}/twirp/livekit.RoomService/ListRooms`);
    expect(get.status).toBe(404);
    expect(await get.json()).toMatchObject({ code: 'bad_route' });
    const unknown = await twirp('listrooms', {}, admin({ roomList: true }));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'bad_route' });
  });

  it('should sign webhooks with a JWT whose sha256 claim hashes the raw body when signWebhook is used', () => {
    const body = '{"event":"room_started","room":{"name":"x"}}';
    const claims = verifyLiveKitJwt(lk.signWebhook(body), {
      apiKey: API_KEY,
      apiSecret: API_SECRET,
    });
    expect(claims.iss).toBe(API_KEY);
    expect(claims.sha256).toBe(webhookBodyHash(body));
    expect(claims.sha256).not.toBe(webhookBodyHash(`${body} `));
  });

  it('should post a signed application/webhook+json event when sendWebhook is used', async () => {
    const receiver = await startReceiver();
    try {
      lk.joinAs(lk.mint({ identity: 'bob', video: { roomJoin: true, room: 'hooked' } }));
      const res = await lk.sendWebhook(receiver.url, 'participant_joined', {
        room: 'hooked',
        identity: 'bob',
      });
      expect(res.status).toBe(200);
      const [hook] = receiver.received;
      expect(hook.headers['content-type']).toBe('application/webhook+json');
      const claims = lk.verify(hook.headers.authorization as string);
      expect(claims.sha256).toBe(webhookBodyHash(hook.body));
      expect(JSON.parse(hook.body)).toMatchObject({
        event: 'participant_joined',
        room: { name: 'hooked', emptyTimeout: 300 },
        participant: { identity: 'bob', state: 'ACTIVE' },
        id: expect.stringMatching(/^EV_/) as string,
      });
    } finally {
      await receiver.close();
    }
  });

  it('should emit room_started and participant_joined webhooks when webhookUrl is configured', async () => {
    const receiver = await startReceiver();
    const hooked = await startLiveKitEmulator({
      apiKey: API_KEY,
      apiSecret: API_SECRET,
      webhookUrl: receiver.url,
    });
    try {
      hooked.joinAs(hooked.mint({ identity: 'carol', video: { roomJoin: true, room: 'auto' } }));
      await waitFor(() => receiver.received.length === 2);
      const events = receiver.received
        .map((r) => (JSON.parse(r.body) as { event: string }).event)
        .sort();
      expect(events).toEqual(['participant_joined', 'room_started']);
    } finally {
      await hooked.close();
      await receiver.close();
    }
  });
});

describe('fault injection', () => {
  let ov: OpenViduEmulator;
  let lk: LiveKitEmulator;
  const list = (signal?: AbortSignal): Promise<Response> =>
    fetch(`${ov.url}/openvidu/api/sessions`, { headers: { authorization: basic(SECRET) }, signal });

  beforeAll(async () => {
    ov = await startOpenViduEmulator({ secret: SECRET });
    lk = await startLiveKitEmulator({ apiKey: API_KEY, apiSecret: API_SECRET });
  });
  afterEach(() => {
    ov.reset();
    lk.reset();
  });
  afterAll(async () => {
    await ov.close();
    await lk.close();
  });

  it('should delay the normal answer when latencyMs is set', async () => {
    ov.faults.set({ latencyMs: 250 });
    const started = Date.now();
    const res = await list();
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('should answer the injected status for the next N requests only when times is set', async () => {
    ov.faults.set({ status: 500, times: 2 });
    expect((await list()).status).toBe(500);
    expect((await list()).status).toBe(500);
    const third = await list();
    expect(third.status).toBe(200);
    expect(ov.faults.current).toBeUndefined();
    expect(ov.faults.applied).toBe(2);
    expect(ov.calls).toHaveLength(3);
  });

  it('should answer a custom status and body when both are set', async () => {
    lk.faults.set({ status: 503, body: '{"code":"unavailable","msg":"down"}' });
    const res = await fetch(`${lk.url}/twirp/livekit.RoomService/ListRooms`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ code: 'unavailable', msg: 'down' });
  });

  it('should destroy the socket when reset is set', async () => {
    ov.faults.set({ reset: true, times: 1 });
    await expect(list()).rejects.toThrow();
    expect((await list()).status).toBe(200);
  });

  it('should never answer until the client aborts when hang is set', async () => {
    ov.faults.set({ hang: true });
    const started = Date.now();
    await expect(list(AbortSignal.timeout(300))).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
  });

  it('should answer a body that is not JSON with a JSON content type when malformedJson is set', async () => {
    ov.faults.set({ malformedJson: true });
    const res = await list();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const text = await res.text();
    expect(text).toBe(MALFORMED_JSON_BODY);
    expect(() => JSON.parse(text) as unknown).toThrow();
  });

  it('should fault only matching requests when match is set', async () => {
    ov.faults.set({
      status: 503,
      match: (method, path) => method === 'POST' && path.endsWith('/sessions'),
    });
    expect((await list()).status).toBe(200);
    const post = await fetch(`${ov.url}/openvidu/api/sessions`, {
      method: 'POST',
      headers: { authorization: basic(SECRET) },
    });
    expect(post.status).toBe(503);
    expect(ov.sessions()).toHaveLength(0);
  });

  it('should close promptly when a request is hanging', async () => {
    for (const start of [
      () => startOpenViduEmulator({ secret: SECRET }),
      () => startLiveKitEmulator({ apiKey: API_KEY, apiSecret: API_SECRET }),
    ]) {
      const emulator = await start();
      emulator.faults.set({ hang: true });
      const pending = fetch(`${emulator.url}/openvidu/api/sessions`).then(
        () => 'answered',
        () => 'failed',
      );
      await waitFor(() => emulator.calls.length === 1);
      // close() must not wait for the hung request (it would never resolve), and ends it.
      await emulator.close();
      expect(await pending).toBe('failed');
    }
  });

  it('should close promptly when a request is waiting on latency', async () => {
    const emulator = await startOpenViduEmulator({ secret: SECRET });
    emulator.faults.set({ latencyMs: 60_000 });
    const pending = fetch(`${emulator.url}/openvidu/api/sessions`).then(
      () => 'answered',
      () => 'failed',
    );
    await waitFor(() => emulator.calls.length === 1);
    // Had close() waited out the latency, the emulator would have answered normally.
    await emulator.close();
    expect(await pending).toBe('failed');
  });
});
