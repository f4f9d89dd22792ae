/**
 * Proves the Pexip VPaaS and Fishjam emulators behave like the vendors where Roomkey depends on
 * it (docs/vendors.md#pexip-vpaas, docs/vendors.md#fishjam): Pexip's RS384 client-assertion exchange and its refusals, the meetings API
 * behind the access token, Fishjam's bearer auth, status codes, peers and peer limit, and the
 * shared fault modes on both.
 *
 * The registered Pexip key is RSA-4096 like Pexip's onboarding asks (generated once, ~2 s); the
 * unregistered "attacker" key is RSA-2048 only to save time — its size plays no part in the test.
 */
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import {
  JWT_BEARER_ASSERTION_TYPE,
  PEXIP_SCOPES,
  type PexipEmulator,
  startPexipEmulator,
} from './pexip';
import { type FishjamEmulator, startFishjamEmulator } from './fishjam';

const CLIENT_ID = 'euopeke6qei65m5prjcvnqv2lq';
const SCOPE = PEXIP_SCOPES.join(' ');

const registered = generateKeyPairSync('rsa', { modulusLength: 4096 });
const unregistered = generateKeyPairSync('rsa', { modulusLength: 2048 });
const publicKeyPem = registered.publicKey.export({ type: 'spki', format: 'pem' }).toString();

interface AssertionOptions {
  alg?: string;
  key?: KeyObject;
  /** Claims to set; a claim set to `undefined` is left out. */
  claims?: Record<string, unknown>;
}

/** Signs a client assertion the way the Pexip tutorial does, with per-test overrides. */
async function signAssertion(apiAddress: string, options: AssertionOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {
    iss: CLIENT_ID,
    sub: CLIENT_ID,
    aud: `${apiAddress}/oauth/token`,
    scope: SCOPE,
    iat: now,
    exp: now + 60,
    jti: randomUUID(),
    ...options.claims,
  };
  for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
  return new SignJWT(claims)
    .setProtectedHeader({ alg: options.alg ?? 'RS384', typ: 'JWT' })
    .sign(options.key ?? registered.privateKey);
}

function tokenRequest(
  apiAddress: string,
  assertion: string,
  overrides: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${apiAddress}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion: assertion,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      ...overrides,
    }),
  });
}

async function accessToken(apiAddress: string, options: AssertionOptions = {}): Promise<string> {
  const res = await tokenRequest(apiAddress, await signAssertion(apiAddress, options));
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token_type: string; access_token: string };
  return `${body.token_type} ${body.access_token}`;
}

function post(url: string, authorization?: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = {};
  if (authorization) headers.authorization = authorization;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(url, {
    method: 'POST',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

describe('Pexip VPaaS emulator', () => {
  let pexip: PexipEmulator;

  beforeEach(async () => {
    pexip = await startPexipEmulator({ clientId: CLIENT_ID, publicKeyPem });
  });
  afterEach(async () => {
    await pexip.close();
  });

  const expectRefusal = async (
    res: Response,
    status: number,
    error: string,
  ): Promise<{ error: string; error_description: string }> => {
    expect(res.status).toBe(status);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const body = (await res.json()) as { error: string; error_description: string };
    expect(body).toEqual({ error, error_description: expect.any(String) });
    expect(pexip.exchanges()).toBe(0);
    return body;
  };

  describe('token exchange', () => {
    it('should issue a Bearer access token when the assertion is a correct RS384 JWT', async () => {
      const res = await tokenRequest(pexip.url, await signAssertion(pexip.url));

      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.headers.get('x-request-id')).toBeTruthy();
      const body = await res.json();
      expect(body).toEqual({
        token_type: 'Bearer',
        access_token: expect.any(String),
        expires_in: 3600,
      });
      expect(pexip.exchanges()).toBe(1);
      const call = pexip.calls.find((c) => c.path === '/oauth/token');
      expect(call?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    });

    it('should report the configured expires_in when the emulator is started with expiresIn', async () => {
      const short = await startPexipEmulator({ clientId: CLIENT_ID, publicKeyPem, expiresIn: 120 });
      try {
        const res = await tokenRequest(short.url, await signAssertion(short.url));
        expect((await res.json()).expires_in).toBe(120);
      } finally {
        await short.close();
      }
    });

    it('should accept the assertion when it is shaped like the Python sample (nbf in the past, float exp, fewer scopes)', async () => {
      const now = Date.now() / 1000;
      const assertion = await signAssertion(pexip.url, {
        claims: {
          iat: now,
          nbf: now - 30,
          exp: now + 60,
          scope: 'meeting:read meeting:create meeting:write participant:read participant:create',
        },
      });
      expect((await tokenRequest(pexip.url, assertion)).status).toBe(200);
      expect(pexip.exchanges()).toBe(1);
    });

    it('should refuse with 401 invalid_client when the assertion is signed with RS256', async () => {
      const body = await expectRefusal(
        await tokenRequest(pexip.url, await signAssertion(pexip.url, { alg: 'RS256' })),
        401,
        'invalid_client',
      );
      expect(body.error_description).toContain('RS384');
    });

    it('should refuse with 401 invalid_client when the assertion is signed with an unregistered key', async () => {
      await expectRefusal(
        await tokenRequest(
          pexip.url,
          await signAssertion(pexip.url, { key: unregistered.privateKey }),
        ),
        401,
        'invalid_client',
      );
    });

    it('should refuse with 401 invalid_client when iss is not the registered client id', async () => {
      await expectRefusal(
        await tokenRequest(
          pexip.url,
          await signAssertion(pexip.url, { claims: { iss: 'someone-else' } }),
        ),
        401,
        'invalid_client',
      );
    });

    it('should refuse with 401 invalid_client when sub differs from iss', async () => {
      await expectRefusal(
        await tokenRequest(
          pexip.url,
          await signAssertion(pexip.url, { claims: { sub: 'user-1' } }),
        ),
        401,
        'invalid_client',
      );
    });

    it.each([
      ['the API address alone', (url: string) => url],
      ['the token URL with a trailing slash', (url: string) => `${url}/oauth/token/`],
      ["another host's token URL", () => 'https://crud.pexip.rocks/oauth/token'],
    ])('should refuse with 400 invalid_grant when aud is %s', async (_label, aud) => {
      const assertion = await signAssertion(pexip.url, { claims: { aud: aud(pexip.url) } });
      await expectRefusal(await tokenRequest(pexip.url, assertion), 400, 'invalid_grant');
    });

    it('should refuse with 400 invalid_grant when the assertion has expired', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await signAssertion(pexip.url, {
        claims: { iat: now - 120, exp: now - 60 },
      });
      await expectRefusal(await tokenRequest(pexip.url, assertion), 400, 'invalid_grant');
    });

    it('should refuse with 400 invalid_grant when the assertion lives longer than 60 s', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await signAssertion(pexip.url, { claims: { iat: now, exp: now + 300 } });
      await expectRefusal(await tokenRequest(pexip.url, assertion), 400, 'invalid_grant');
    });

    it('should refuse with 400 invalid_grant when the assertion lives longer than 60 s without iat', async () => {
      const now = Math.floor(Date.now() / 1000);
      const assertion = await signAssertion(pexip.url, {
        claims: { iat: undefined, exp: now + 120 },
      });
      await expectRefusal(await tokenRequest(pexip.url, assertion), 400, 'invalid_grant');
    });

    it('should refuse with 400 invalid_grant when exp is missing', async () => {
      const assertion = await signAssertion(pexip.url, { claims: { exp: undefined } });
      await expectRefusal(await tokenRequest(pexip.url, assertion), 400, 'invalid_grant');
    });

    it('should refuse with 400 invalid_grant when jti is missing', async () => {
      const assertion = await signAssertion(pexip.url, { claims: { jti: undefined } });
      await expectRefusal(await tokenRequest(pexip.url, assertion), 400, 'invalid_grant');
    });

    it('should refuse with 400 invalid_grant when a jti is replayed', async () => {
      const jti = randomUUID();
      expect(
        (await tokenRequest(pexip.url, await signAssertion(pexip.url, { claims: { jti } }))).status,
      ).toBe(200);

      const again = await tokenRequest(
        pexip.url,
        await signAssertion(pexip.url, { claims: { jti } }),
      );

      expect(again.status).toBe(400);
      expect((await again.json()).error).toBe('invalid_grant');
      expect(pexip.exchanges()).toBe(1);
    });

    it('should refuse with 400 invalid_scope when the scope claim is missing or unknown', async () => {
      await expectRefusal(
        await tokenRequest(
          pexip.url,
          await signAssertion(pexip.url, { claims: { scope: undefined } }),
        ),
        400,
        'invalid_scope',
      );
      await expectRefusal(
        await tokenRequest(
          pexip.url,
          await signAssertion(pexip.url, { claims: { scope: 'meeting:create admin' } }),
        ),
        400,
        'invalid_scope',
      );
    });

    it('should refuse with 400 when the form is wrong', async () => {
      const assertion = await signAssertion(pexip.url);
      await expectRefusal(
        await tokenRequest(pexip.url, assertion, { grant_type: 'password' }),
        400,
        'unsupported_grant_type',
      );
      await expectRefusal(
        await tokenRequest(pexip.url, assertion, { client_assertion_type: 'jwt' }),
        400,
        'invalid_request',
      );
      const asJson = await fetch(`${pexip.url}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_type: 'client_credentials',
          client_assertion: assertion,
          client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        }),
      });
      await expectRefusal(asJson, 400, 'invalid_request');
    });

    it('should refuse with 401 invalid_client when the assertion is not a JWT', async () => {
      await expectRefusal(await tokenRequest(pexip.url, 'not-a-jwt'), 401, 'invalid_client');
    });

    it('should count one exchange per issued token when several clients ask concurrently', async () => {
      const results = await Promise.all(
        [1, 2, 3].map(async () => tokenRequest(pexip.url, await signAssertion(pexip.url))),
      );
      expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(pexip.exchanges()).toBe(3);
    });
  });

  describe('meetings API', () => {
    it('should create a meeting when called with "<token_type> <access_token>"', async () => {
      const auth = await accessToken(pexip.url);

      const res = await post(`${pexip.url}/v1/meetings/`, auth, {});

      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBeTruthy();
      const meeting = await res.json();
      expect(meeting).toEqual({
        id: expect.stringMatching(/^[a-z2-7]{26}$/),
        status: 'ready',
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/),
        updated_at: expect.any(String),
      });
      expect(pexip.meetings().map((m) => m.id)).toEqual([meeting.id]);
    });

    it('should create a meeting when the path has no trailing slash and there is no body', async () => {
      const res = await post(`${pexip.url}/v1/meetings`, await accessToken(pexip.url));
      expect(res.status).toBe(200);
    });

    it('should answer 401 when the access token is missing, unknown or malformed', async () => {
      expect((await post(`${pexip.url}/v1/meetings/`)).status).toBe(401);
      expect((await post(`${pexip.url}/v1/meetings/`, 'Bearer made-up')).status).toBe(401);
      const auth = await accessToken(pexip.url);
      expect((await post(`${pexip.url}/v1/meetings/`, auth.split(' ')[1])).status).toBe(401);
      expect(pexip.meetings()).toHaveLength(0);
    });

    it('should answer 401 when the access token has expired', async () => {
      const auth = await accessToken(pexip.url);
      pexip.expireAccessTokens();
      const res = await post(`${pexip.url}/v1/meetings/`, auth, {});
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    });

    it('should answer 401 when expires_in has elapsed', async () => {
      const short = await startPexipEmulator({ clientId: CLIENT_ID, publicKeyPem, expiresIn: 1 });
      try {
        const auth = await accessToken(short.url);
        expect((await post(`${short.url}/v1/meetings/`, auth)).status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 1100));
        expect((await post(`${short.url}/v1/meetings/`, auth)).status).toBe(401);
      } finally {
        await short.close();
      }
    });

    it('should create a one-time participant when the meeting exists', async () => {
      const auth = await accessToken(pexip.url);
      const meeting = await (await post(`${pexip.url}/v1/meetings/`, auth, {})).json();

      const res = await post(`${pexip.url}/v1/meetings/${meeting.id}/participants`, auth, {});

      expect(res.status).toBe(200);
      const participant = await res.json();
      expect(participant).toEqual({
        meeting_id: meeting.id,
        id: expect.stringMatching(/^[a-z2-7]{26}$/),
        participant_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        status: 'ready',
        created_at: expect.any(String),
        updated_at: expect.any(String),
      });
      expect(pexip.participant(meeting.id, participant.id)).toEqual(participant);
    });

    it('should name the field participant_id when configured like the other SDK docs', async () => {
      const other = await startPexipEmulator({
        clientId: CLIENT_ID,
        publicKeyPem,
        participantIdField: 'participant_id',
      });
      try {
        const auth = await accessToken(other.url);
        const meeting = await (await post(`${other.url}/v1/meetings/`, auth)).json();
        const participant = await (
          await post(`${other.url}/v1/meetings/${meeting.id}/participants`, auth)
        ).json();
        expect(participant.participant_id).toEqual(expect.any(String));
        expect(participant.id).toBeUndefined();
      } finally {
        await other.close();
      }
    });

    it('should answer 404 when the meeting does not exist', async () => {
      const res = await post(
        `${pexip.url}/v1/meetings/nosuchmeeting/participants`,
        await accessToken(pexip.url),
      );
      expect(res.status).toBe(404);
    });

    it('should answer 404 when the meeting belongs to another client', async () => {
      const otherKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
      pexip.registerClient(
        'tenant-b',
        otherKeys.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      );
      const authA = await accessToken(pexip.url);
      const authB = await accessToken(pexip.url, {
        key: otherKeys.privateKey,
        claims: { iss: 'tenant-b', sub: 'tenant-b' },
      });
      const meeting = await (await post(`${pexip.url}/v1/meetings/`, authA)).json();

      expect(
        (await post(`${pexip.url}/v1/meetings/${meeting.id}/participants`, authB)).status,
      ).toBe(404);
      expect(
        (await post(`${pexip.url}/v1/meetings/${meeting.id}/participants`, authA)).status,
      ).toBe(200);
    });

    it('should answer 403 when the token lacks the scope the operation needs', async () => {
      const auth = await accessToken(pexip.url, {
        claims: { scope: 'meeting:create meeting:read' },
      });
      const meeting = await (await post(`${pexip.url}/v1/meetings/`, auth)).json();

      const res = await post(`${pexip.url}/v1/meetings/${meeting.id}/participants`, auth);

      expect(res.status).toBe(403);
      expect((await res.json()).error).toBe('insufficient_scope');
    });

    it('should answer 404 when the meeting has ended', async () => {
      const auth = await accessToken(pexip.url);
      const meeting = await (await post(`${pexip.url}/v1/meetings/`, auth)).json();
      expect(pexip.endMeeting(meeting.id)).toBe(true);
      expect((await post(`${pexip.url}/v1/meetings/${meeting.id}/participants`, auth)).status).toBe(
        404,
      );
    });

    it('should delete a participant and then a meeting when the convenience DELETE routes are called', async () => {
      const auth = await accessToken(pexip.url);
      const meeting = await (await post(`${pexip.url}/v1/meetings/`, auth)).json();
      const participant = await (
        await post(`${pexip.url}/v1/meetings/${meeting.id}/participants`, auth)
      ).json();
      const del = (path: string) =>
        fetch(`${pexip.url}${path}`, { method: 'DELETE', headers: { authorization: auth } });

      expect((await del(`/v1/meetings/${meeting.id}/participants/${participant.id}`)).status).toBe(
        204,
      );
      expect(pexip.participant(meeting.id, participant.id)).toBeUndefined();
      expect((await del(`/v1/meetings/${meeting.id}/participants/${participant.id}`)).status).toBe(
        404,
      );
      expect((await del(`/v1/meetings/${meeting.id}`)).status).toBe(204);
      expect(pexip.meetings()).toHaveLength(0);
      expect((await del(`/v1/meetings/${meeting.id}`)).status).toBe(404);
    });
  });
});

describe('Fishjam emulator', () => {
  const MANAGEMENT_TOKEN = 'management-token-1234';
  let fishjam: FishjamEmulator;
  let bearer: string;

  beforeEach(async () => {
    fishjam = await startFishjamEmulator({
      managementToken: MANAGEMENT_TOKEN,
      fishjamId: 'abc123',
    });
    bearer = `Bearer ${MANAGEMENT_TOKEN}`;
  });
  afterEach(async () => {
    await fishjam.close();
  });

  const api = (method: string, path: string, body?: unknown, authorization = bearer) =>
    fetch(`${fishjam.fishjamUrl}${path}`, {
      method,
      headers: {
        authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  const createRoom = async (config: Record<string, unknown> = {}): Promise<string> => {
    const res = await api('POST', '/room', config);
    expect(res.status).toBe(201);
    return (await res.json()).data.room.id as string;
  };

  it('should serve the API under /api/v1/connect/<fishjamId> when started', () => {
    expect(fishjam.fishjamUrl).toBe(`${fishjam.url}/api/v1/connect/abc123`);
    expect(fishjam.fishjamUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\//);
  });

  it('should answer 401 when the management token is missing or wrong', async () => {
    const missing = await fetch(`${fishjam.fishjamUrl}/room`);
    expect(missing.status).toBe(401);
    expect(await missing.json()).toEqual({ errors: 'Missing token' });

    const wrong = await api('GET', '/room', undefined, 'Bearer nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ errors: 'Invalid token' });

    expect((await api('POST', '/room', {}, `Basic ${MANAGEMENT_TOKEN}`)).status).toBe(401);
    expect(fishjam.rooms()).toHaveLength(0);
    expect(fishjam.calls).toHaveLength(3);
  });

  it('should create a room with 201 and default config when the body is empty', async () => {
    const res = await fetch(`${fishjam.fishjamUrl}/room`, {
      method: 'POST',
      headers: { authorization: bearer },
    });

    expect(res.status).toBe(201);
    const { data } = await res.json();
    expect(data.room).toEqual({
      id: expect.any(String),
      config: {
        maxPeers: null,
        videoCodec: 'h264',
        roomType: 'conference',
        webhookUrl: null,
        public: false,
      },
      peers: [],
    });
    expect(fishjam.rooms().map((r) => r.id)).toEqual([data.room.id]);
  });

  it('should keep the given config when the values are valid', async () => {
    const config = {
      maxPeers: 4,
      videoCodec: 'vp8',
      roomType: 'audio_only',
      webhookUrl: 'https://roomkey.example/webhooks/fishjam',
    };
    const res = await api('POST', '/room', config);
    expect(res.status).toBe(201);
    expect((await res.json()).data.room.config).toEqual({ ...config, public: false });
  });

  it.each([
    [{ videoCodec: 'h265' }],
    [{ roomType: 'webinar' }],
    [{ maxPeers: -1 }],
    [{ maxPeers: 'ten' }],
    [{ webhookUrl: 'not a url' }],
    [{ roomId: 'custom' }],
  ])('should answer 400 when the room config is %j', async (config) => {
    const res = await api('POST', '/room', config);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errors: expect.any(String) });
    expect(fishjam.rooms()).toHaveLength(0);
  });

  it('should answer 400 when the body is not JSON', async () => {
    const res = await fetch(`${fishjam.fishjamUrl}/room`, {
      method: 'POST',
      headers: { authorization: bearer, 'content-type': 'application/json' },
      body: '{"maxPeers": ',
    });
    expect(res.status).toBe(400);
  });

  it('should list, show and delete rooms when they exist and answer 404 when they do not', async () => {
    const id = await createRoom();

    expect(
      (await (await api('GET', '/room')).json()).data.map((r: { id: string }) => r.id),
    ).toEqual([id]);
    const shown = await api('GET', `/room/${id}`);
    expect(shown.status).toBe(200);
    expect((await shown.json()).data.id).toBe(id);

    expect((await api('DELETE', `/room/${id}`)).status).toBe(204);
    const gone = await api('GET', `/room/${id}`);
    expect(gone.status).toBe(404);
    expect(await gone.json()).toEqual({ errors: `Room ${id} does not exist` });
    expect((await api('DELETE', `/room/${id}`)).status).toBe(404);
  });

  it('should add a WebRTC peer with 201 and an opaque token when the room exists', async () => {
    const roomId = await createRoom();

    const res = await api('POST', `/room/${roomId}/peer`, {
      type: 'webrtc',
      options: { metadata: { name: 'alice' }, subscribeMode: 'manual' },
    });

    expect(res.status).toBe(201);
    const { data } = await res.json();
    expect(data.peer).toEqual({
      id: expect.any(String),
      type: 'webrtc',
      status: 'disconnected',
      tracks: [],
      metadata: { name: 'alice' },
      subscribeMode: 'manual',
      subscriptions: { peers: [], tracks: [] },
    });
    expect(data.token).toEqual(expect.any(String));
    expect(data.token.split('.')).toHaveLength(1); // opaque, not a JWT
    expect(data.peer_websocket_url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
    expect(fishjam.peerByToken(data.token)).toEqual({
      roomId,
      peer: data.peer,
      expiresAt: expect.any(Number),
    });
    expect(fishjam.peerByToken(data.token)!.expiresAt - Date.now()).toBeGreaterThan(
      23.9 * 3600 * 1000,
    );
  });

  it('should answer 400 when the peer type or options are invalid', async () => {
    const roomId = await createRoom();
    expect((await api('POST', `/room/${roomId}/peer`, { options: {} })).status).toBe(400);
    expect((await api('POST', `/room/${roomId}/peer`, { type: 'sip', options: {} })).status).toBe(
      400,
    );
    expect(
      (
        await api('POST', `/room/${roomId}/peer`, {
          type: 'webrtc',
          options: { subscribeMode: 'all' },
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api('POST', `/room/${roomId}/peer`, {
          type: 'webrtc',
          options: { enableSimulcast: true },
        })
      ).status,
    ).toBe(400);
    expect(fishjam.rooms()[0].peers).toHaveLength(0);
  });

  it('should answer 404 when adding a peer to a room that does not exist', async () => {
    const res = await api('POST', '/room/nope/peer', { type: 'webrtc', options: {} });
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ errors: 'Room nope does not exist' });
  });

  it('should answer 503 when the room already has maxPeers peers', async () => {
    const roomId = await createRoom({ maxPeers: 2 });
    const add = () => api('POST', `/room/${roomId}/peer`, { type: 'webrtc', options: {} });
    const first = await (await add()).json();
    expect((await add()).status).toBe(201);

    const full = await add();

    expect(full.status).toBe(503);
    expect(await full.json()).toEqual({ errors: `Reached webrtc peers limit in room ${roomId}` });
    expect((await api('DELETE', `/room/${roomId}/peer/${first.data.peer.id}`)).status).toBe(204);
    expect((await add()).status).toBe(201);
  });

  it('should delete a peer and forget its token when the peer exists, and 404 when it does not', async () => {
    const roomId = await createRoom();
    const { data } = await (
      await api('POST', `/room/${roomId}/peer`, { type: 'webrtc', options: {} })
    ).json();

    expect((await api('DELETE', `/room/${roomId}/peer/${data.peer.id}`)).status).toBe(204);

    expect(fishjam.peerByToken(data.token)).toBeUndefined();
    const again = await api('DELETE', `/room/${roomId}/peer/${data.peer.id}`);
    expect(again.status).toBe(404);
    expect(await again.json()).toEqual({ errors: `Peer ${data.peer.id} does not exist` });
  });

  it('should issue a new token with 201 when refresh_token is called for an existing peer', async () => {
    const roomId = await createRoom();
    const { data } = await (
      await api('POST', `/room/${roomId}/peer`, { type: 'webrtc', options: {} })
    ).json();

    const res = await api('POST', `/room/${roomId}/peer/${data.peer.id}/refresh_token`);

    expect(res.status).toBe(201);
    const refreshed = (await res.json()).data.token;
    expect(refreshed).not.toBe(data.token);
    expect(fishjam.peerByToken(refreshed)?.peer.id).toBe(data.peer.id);
    expect((await api('POST', `/room/${roomId}/peer/nope/refresh_token`)).status).toBe(404);
  });

  it('should invalidate peer tokens when their room is deleted', async () => {
    const roomId = await createRoom();
    const { data } = await (
      await api('POST', `/room/${roomId}/peer`, { type: 'webrtc', options: {} })
    ).json();
    await api('DELETE', `/room/${roomId}`);
    expect(fishjam.peerByToken(data.token)).toBeUndefined();
  });

  it('should answer 404 when the path is outside the configured base path', async () => {
    const res = await fetch(`${fishjam.url}/api/v1/connect/other/room`, {
      headers: { authorization: bearer },
    });
    expect(res.status).toBe(404);
  });
});

describe.each([
  [
    'Pexip',
    async () => {
      const emulator = await startPexipEmulator({ clientId: CLIENT_ID, publicKeyPem });
      // A plain API call (401 without a token is a normal, JSON answer).
      return {
        emulator,
        request: (init?: RequestInit) =>
          fetch(`${emulator.url}/v1/meetings/`, { method: 'POST', ...init }),
      };
    },
  ],
  [
    'Fishjam',
    async () => {
      const emulator = await startFishjamEmulator({ managementToken: 't' });
      return {
        emulator,
        request: (init?: RequestInit) =>
          fetch(`${emulator.fishjamUrl}/room`, { headers: { authorization: 'Bearer t' }, ...init }),
      };
    },
  ],
])('%s emulator faults', (_name, start) => {
  let subject: Awaited<ReturnType<typeof start>>;

  beforeEach(async () => {
    subject = await start();
  });
  afterEach(async () => {
    await subject.emulator.close();
  });

  it('should answer late but normally when latency is injected', async () => {
    const normal = await subject.request();
    subject.emulator.faults.set({ latencyMs: 300 });

    const started = Date.now();
    const slow = await subject.request();

    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    expect(slow.status).toBe(normal.status);
  });

  it('should answer 500 once and then normally when a status fault is set for one request', async () => {
    subject.emulator.faults.set({ status: 500, times: 1 });
    expect((await subject.request()).status).toBe(500);
    expect((await subject.request()).status).not.toBe(500);
    expect(subject.emulator.calls).toHaveLength(2);
  });

  it('should reset the connection when a reset fault is set', async () => {
    subject.emulator.faults.set({ reset: true });
    await expect(subject.request()).rejects.toThrow();
    expect(subject.emulator.calls).toHaveLength(1);
  });

  it('should send a body that is not JSON when malformedJson is set', async () => {
    subject.emulator.faults.set({ malformedJson: true });
    const res = await subject.request();
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    await expect(res.json()).rejects.toThrow();
  });

  it('should never answer when a hang fault is set, until the client gives up', async () => {
    subject.emulator.faults.set({ hang: true });
    await expect(subject.request({ signal: AbortSignal.timeout(200) })).rejects.toThrow();
  });

  it('should close promptly when a request is hanging', async () => {
    subject.emulator.faults.set({ hang: true });
    const pending = subject.request().then(
      () => 'answered',
      () => 'failed',
    );
    while (subject.emulator.calls.length === 0)
      await new Promise((resolve) => setTimeout(resolve, 10));

    // close() must not wait for the hung request (it would never resolve), and ends it.
    await subject.emulator.close();
    await expect(pending).resolves.toBe('failed');
  });
});
