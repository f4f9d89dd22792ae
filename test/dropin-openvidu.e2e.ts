/**
 * OpenVidu 2 drop-in: Roomkey takes OpenVidu's full session and connection property sets as the
 * official clients send them (README "Vendor-compatible routes", docs/vendors.md#openvidu-2),
 * checks each by OpenVidu's own rules (REST API `POST /openvidu/api/sessions` and
 * `POST /openvidu/api/sessions/<SESSION_ID>/connection`) and forwards it, over real HTTP to the
 * OpenVidu emulator, which records what it receives and validates it as OpenVidu Server does.
 *
 * The request bodies below are what openvidu-node-client 2.32.2 puts on the wire
 * (`OpenVidu.createSession(properties)` → `Session.getSessionHttp`, `Session.createConnection`),
 * captured from the client itself: unset properties travel as null, an unset customSessionId as
 * "" (OpenVidu then generates an id), and the recording defaults are always filled in. A sample
 * application server passes the front end's body to those calls, so Roomkey's compatibility
 * route receives the same shapes. The same options go through GraphQL's `openvidu` inputs.
 */
import { createHmac } from 'node:crypto';
import { expectError, uniq } from './helpers/assertions';
import { type GqlResult } from './helpers/test-app';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  type ConnectionJson,
  type SessionJson,
  type VendorWorld,
  ok,
  sessionCounts,
  startVendorWorld,
} from './helpers/vendors';

type Json = Record<string, unknown>;

/** `openVidu.createSession({})`: the defaults the client fills in, customSessionId "". */
const NODE_CREATE_SESSION_DEFAULT = {
  mediaMode: 'ROUTED',
  recordingMode: 'MANUAL',
  customSessionId: '',
  defaultRecordingProperties: {
    name: '',
    hasAudio: true,
    hasVideo: true,
    outputMode: 'COMPOSED',
    recordingLayout: 'BEST_FIT',
    resolution: '1280x720',
    frameRate: 25,
    shmSize: 536870912,
  },
};

/** `openVidu.createSession({customSessionId, …every property…, mediaNode: 'media_…'})`. */
const nodeCreateSessionFull = (customSessionId: string): Json => ({
  customSessionId,
  mediaMode: 'ROUTED',
  recordingMode: 'ALWAYS',
  forcedVideoCodec: 'VP8',
  allowTranscoding: true,
  mediaNode: { id: 'media_i-0c58bcdd26l11d0sd' },
  defaultRecordingProperties: {
    name: 'rec',
    outputMode: 'INDIVIDUAL',
    hasAudio: true,
    hasVideo: true,
    ignoreFailedStreams: false,
  },
});

/** `session.createConnection({})`. */
const NODE_CONNECTION_EMPTY = {
  type: null,
  data: null,
  role: null,
  kurentoOptions: null,
  rtspUri: null,
  networkCache: null,
};

const KURENTO = {
  videoMaxRecvBandwidth: 1000,
  videoMinRecvBandwidth: 300,
  videoMaxSendBandwidth: 1000,
  videoMinSendBandwidth: 300,
  allowedFilters: ['GStreamerFilter', 'ZBarFilter'],
};
const TURN = { url: 'turn:turn-domain.com:443', username: 'usertest', credential: 'userpass' };

/** `session.createConnection({role, data, record, kurentoOptions, customIceServers})`. */
const NODE_CONNECTION_WEBRTC = {
  type: null,
  data: 'Alice',
  record: false,
  role: 'PUBLISHER',
  kurentoOptions: KURENTO,
  rtspUri: null,
  networkCache: null,
  customIceServers: [TURN],
};

/** `session.createConnection({type: IPCAM, …})`, the REST API reference's example. */
const NODE_CONNECTION_IPCAM = {
  type: 'IPCAM',
  data: 'Office security camera',
  record: true,
  role: null,
  kurentoOptions: null,
  rtspUri: 'rtsp://your.camera.ip.sdp',
  adaptativeBitrate: true,
  onlyPlayWithSubscribers: true,
  networkCache: 2000,
};

/** One bad value: the field Roomkey names, and whether OpenVidu itself refuses it too. */
interface BadRow {
  name: string;
  body: Json;
  field: string;
  /** OpenVidu (the emulator) answers 400 too; false where Roomkey is the stricter one. */
  vendorToo: boolean;
  /** Expressible through GraphQL (its scalar types do not refuse it first). */
  gql: boolean;
}

const bad = (name: string, body: Json, field: string, vendorToo = true, gql = false): BadRow => ({
  name,
  body,
  field,
  vendorToo,
  gql,
});

const rec = (p: Json): Json => ({ defaultRecordingProperties: p });
const kurento = (k: Json): Json => ({ kurentoOptions: k });
const ice = (...servers: unknown[]): Json => ({ customIceServers: servers });
const ipcam = (extra: Json = {}): Json => ({
  type: 'IPCAM',
  rtspUri: 'rtsp://camera.example:554/live',
  ...extra,
});

const BAD_SESSION: BadRow[] = [
  bad('mediaMode is RELAYED', { mediaMode: 'RELAYED' }, 'mediaMode', false, true),
  bad('mediaMode is unknown', { mediaMode: 'P2P' }, 'mediaMode', true, true),
  bad('recordingMode is unknown', { recordingMode: 'SOMETIMES' }, 'recordingMode', true, true),
  bad('forcedVideoCodec is AV1', { forcedVideoCodec: 'AV1' }, 'forcedVideoCodec', true, true),
  bad('allowTranscoding is a string', { allowTranscoding: 'yes' }, 'allowTranscoding'),
  bad(
    'defaultRecordingProperties is a string',
    { defaultRecordingProperties: 'x' },
    'defaultRecordingProperties',
  ),
  bad('the recording name is a number', rec({ name: 5 }), 'defaultRecordingProperties.name'),
  bad(
    'outputMode is unknown',
    rec({ outputMode: 'MIXED' }),
    'defaultRecordingProperties.outputMode',
    true,
    true,
  ),
  bad(
    'recordingLayout is unknown',
    rec({ recordingLayout: 'GRID' }),
    'defaultRecordingProperties.recordingLayout',
    true,
    true,
  ),
  bad(
    'resolution is 4K',
    rec({ resolution: '3840x2160' }),
    'defaultRecordingProperties.resolution',
    true,
    true,
  ),
  bad(
    'resolution is not WIDTHxHEIGHT',
    rec({ resolution: 'big' }),
    'defaultRecordingProperties.resolution',
    true,
    true,
  ),
  bad('frameRate is 0', rec({ frameRate: 0 }), 'defaultRecordingProperties.frameRate', true, true),
  bad(
    'frameRate is 121',
    rec({ frameRate: 121 }),
    'defaultRecordingProperties.frameRate',
    true,
    true,
  ),
  bad(
    'shmSize is under 128 MB',
    rec({ shmSize: 1000 }),
    'defaultRecordingProperties.shmSize',
    true,
    true,
  ),
  bad(
    'hasAudio and hasVideo are both false',
    rec({ hasAudio: false, hasVideo: false }),
    'defaultRecordingProperties.hasVideo',
    true,
    true,
  ),
  bad(
    'the recording mediaNode is a string',
    rec({ mediaNode: 'media_1' }),
    'defaultRecordingProperties.mediaNode',
    false,
  ),
  bad('mediaNode is a string', { mediaNode: 'media_1' }, 'mediaNode'),
  bad('mediaNode has no id', { mediaNode: { name: 'x' } }, 'mediaNode.id'),
  bad('mediaNode.id is a number', { mediaNode: { id: 5 } }, 'mediaNode.id'),
  bad('mediaNode.id is empty', { mediaNode: { id: '' } }, 'mediaNode.id', false, true),
];

const BAD_CONNECTION: BadRow[] = [
  bad('type is SIP', { type: 'SIP' }, 'type', true, true),
  bad('role is unknown', { role: 'OWNER' }, 'role'),
  bad('data is an object', { data: { a: 1 } }, 'data'),
  bad('record is a string', { record: 'yes' }, 'record'),
  bad('kurentoOptions is a string', { kurentoOptions: 'fast' }, 'kurentoOptions'),
  bad(
    'videoMaxRecvBandwidth is a word',
    kurento({ videoMaxRecvBandwidth: 'fast' }),
    'kurentoOptions.videoMaxRecvBandwidth',
  ),
  bad(
    'videoMinRecvBandwidth is a numeric string',
    kurento({ videoMinRecvBandwidth: '300' }),
    'kurentoOptions.videoMinRecvBandwidth',
    false,
  ),
  bad(
    'videoMaxSendBandwidth is negative',
    kurento({ videoMaxSendBandwidth: -1 }),
    'kurentoOptions.videoMaxSendBandwidth',
    false,
    true,
  ),
  bad(
    'videoMinSendBandwidth is fractional',
    kurento({ videoMinSendBandwidth: 1.5 }),
    'kurentoOptions.videoMinSendBandwidth',
    false,
  ),
  bad(
    'allowedFilters is a string',
    kurento({ allowedFilters: 'GStreamerFilter' }),
    'kurentoOptions.allowedFilters',
  ),
  bad(
    'allowedFilters holds an object',
    kurento({ allowedFilters: [{}] }),
    'kurentoOptions.allowedFilters',
  ),
  bad('customIceServers is an object', { customIceServers: TURN }, 'customIceServers'),
  bad('an ICE server has no url', ice({ username: 'u' }), 'customIceServers.url'),
  bad(
    'an ICE url is http',
    ice({ url: 'http://turn-domain.com' }),
    'customIceServers.url',
    true,
    true,
  ),
  bad(
    'a STUN url has a query',
    ice({ url: 'stun:stun.example.com?transport=udp' }),
    'customIceServers.url',
    true,
    true,
  ),
  bad(
    'an ICE port is out of range',
    ice({ ...TURN, url: 'turn:turn-domain.com:99999' }),
    'customIceServers.url',
    true,
    true,
  ),
  bad(
    'a TURN server has no credential',
    ice({ url: TURN.url, username: 'u' }),
    'customIceServers.credential',
    true,
    true,
  ),
  bad(
    'a TURN server has a staticAuthSecret and a username',
    ice({ url: TURN.url, username: 'u', staticAuthSecret: 's' }),
    'customIceServers.staticAuthSecret',
    true,
    true,
  ),
  bad(
    'a STUN server has a username',
    ice({ url: 'stun:stun.example.com:3478', username: 'u' }),
    'customIceServers.username',
    true,
    true,
  ),
  bad('an IPCAM has no rtspUri', { type: 'IPCAM' }, 'rtspUri', true, true),
  bad(
    'an IPCAM rtspUri reads a file of the media server',
    { type: 'IPCAM', rtspUri: 'file:///etc/passwd' },
    'rtspUri',
    false,
    true,
  ),
  bad(
    'an IPCAM rtspUri is ftp',
    { type: 'IPCAM', rtspUri: 'ftp://camera.example/1' },
    'rtspUri',
    true,
    true,
  ),
  bad('adaptativeBitrate is a string', ipcam({ adaptativeBitrate: 'yes' }), 'adaptativeBitrate'),
  bad(
    'onlyPlayWithSubscribers is a number',
    ipcam({ onlyPlayWithSubscribers: 1 }),
    'onlyPlayWithSubscribers',
  ),
  bad('networkCache is a string', ipcam({ networkCache: '2000' }), 'networkCache'),
  bad('networkCache is negative', ipcam({ networkCache: -1 }), 'networkCache', false, true),
];

describe('OpenVidu 2 drop-in: full session and connection options', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const sessionsPath = (): string => `/t/${w.a.tenant.slug}/openvidu/api/sessions`;
  const connectionsPath = (id: string): string =>
    `/t/${w.a.tenant.slug}/openvidu/api/sessions/${encodeURIComponent(id)}/connections`;
  const post = (path: string, body: unknown, auth = w.a.adminKey) =>
    w.t
      .http()
      .post(path)
      .set('authorization', auth)
      .send(body as object);

  /** POSTs straight to the emulator, as openvidu-node-client does to OpenVidu. */
  const direct = (path: string, body: unknown): Promise<Response> =>
    fetch(`${w.ov.url}/openvidu/api${path}`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`OPENVIDUAPP:${w.secrets.openvidu}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(body),
    });

  const posted = (pathEnd: RegExp) =>
    w.calls('OPENVIDU').filter((c) => c.method === 'POST' && pathEnd.test(c.path));
  const sessionPosts = () => posted(/\/openvidu\/api\/sessions$/);
  const connectionPosts = () => posted(/\/connection$/);

  const gql = <T>(query: string, input: Json): Promise<GqlResult<T>> =>
    w.t.gql<T>(query, { input }, { auth: w.a.admin.auth });
  const gqlSession = async (input: Json): Promise<SessionJson> =>
    (await ok(gql<{ createSession: SessionJson }>(CREATE_SESSION, input))).createSession;
  const gqlConnection = async (input: Json): Promise<ConnectionJson> =>
    (await ok(gql<{ createConnection: ConnectionJson }>(CREATE_CONNECTION, input)))
      .createConnection;

  /** A session made through the compatibility route; the emulator's calls are cleared after. */
  async function compatSession(body: Json = {}): Promise<string> {
    const id = `ov-dropin-${uniq()}`;
    const res = await post(sessionsPath(), { ...body, customSessionId: id });
    expect([res.status, res.text]).toEqual([200, id]);
    w.quiet();
    return id;
  }

  // =============================================================================================
  // The official clients' request sequences over the compatibility routes
  // =============================================================================================

  describe('replaying openvidu-node-client over POST /t/:slug/openvidu/api/sessions[/:id/connections]', () => {
    it('should generate a session id and forward the recording defaults when createSession({}) sends customSessionId ""', async () => {
      const before = await sessionCounts(w.t);
      const res = await post(sessionsPath(), NODE_CREATE_SESSION_DEFAULT);

      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const id = res.text;
      expect(id).toMatch(/^[A-Za-z0-9_-]+$/);
      const [call] = sessionPosts();
      expect(call.body).toEqual({
        customSessionId: id,
        mediaMode: 'ROUTED',
        recordingMode: 'MANUAL',
        defaultRecordingProperties: NODE_CREATE_SESSION_DEFAULT.defaultRecordingProperties,
      });
      expect(w.ov.session(id)).toMatchObject({
        mediaMode: 'ROUTED',
        recordingMode: 'MANUAL',
        defaultRecordingProperties: NODE_CREATE_SESSION_DEFAULT.defaultRecordingProperties,
      });
      const [row] = await w.t.ds.query<Array<{ custom_id: string | null; options: unknown }>>(
        'SELECT custom_id, options FROM video_session WHERE external_id = $1',
        [id],
      );
      expect(row.custom_id).toBeNull();
      expect((await sessionCounts(w.t)).sessions).toBe(before.sessions + 1);

      // "" is no key: the same body again is another session, as on OpenVidu.
      const again = await post(sessionsPath(), NODE_CREATE_SESSION_DEFAULT);
      expect(again.status).toBe(200);
      expect(again.text).not.toBe(id);
      expect(sessionPosts()).toHaveLength(2);
    });

    it('should issue a PUBLISHER token with empty data when createConnection({}) sends every property as null', async () => {
      const id = await compatSession();
      const res = await post(connectionsPath(id), NODE_CONNECTION_EMPTY);

      expect(res.status).toBe(200);
      expect(res.text).toMatch(new RegExp(`sessionId=${id}&token=tok_`));
      expect(connectionPosts()[0].body).toEqual({ type: 'WEBRTC', role: 'PUBLISHER', data: '' });
      expect(w.ov.connectWithToken(res.text)).toMatchObject({
        role: 'PUBLISHER',
        serverData: '',
        record: true,
        kurentoOptions: null,
        customIceServers: [],
      });
    });

    it('should forward every session and connection property when the client sets them all (createSession then createConnection)', async () => {
      const id = `ov-full-${uniq()}`;
      const session = await post(sessionsPath(), nodeCreateSessionFull(id));
      expect([session.status, session.text]).toEqual([200, id]);
      const { customSessionId: _, ...sessionProps } = nodeCreateSessionFull(id);
      expect(sessionPosts()[0].body).toEqual({ customSessionId: id, ...sessionProps });

      const res = await post(connectionsPath(id), NODE_CONNECTION_WEBRTC);
      expect(res.status).toBe(200);
      expect(connectionPosts()[0].body).toEqual({
        type: 'WEBRTC',
        role: 'PUBLISHER',
        data: 'Alice',
        record: false,
        kurentoOptions: KURENTO,
        customIceServers: [TURN],
      });
      const conn = w.ov.connectWithToken(res.text);
      expect(conn).toMatchObject({
        sessionId: id,
        type: 'WEBRTC',
        role: 'PUBLISHER',
        serverData: 'Alice',
        record: false,
        kurentoOptions: KURENTO,
        customIceServers: [TURN],
      });
    });

    it.each<[string, Json, Json]>([
      ['mediaMode', { mediaMode: 'ROUTED' }, { mediaMode: 'ROUTED' }],
      ['recordingMode', { recordingMode: 'ALWAYS' }, { recordingMode: 'ALWAYS' }],
      ['forcedVideoCodec', { forcedVideoCodec: 'VP9' }, { forcedVideoCodec: 'VP9' }],
      ['allowTranscoding', { allowTranscoding: true }, { allowTranscoding: true }],
      [
        'defaultRecordingProperties',
        rec({
          name: 'grid',
          hasAudio: false,
          outputMode: 'COMPOSED_QUICK_START',
          recordingLayout: 'CUSTOM',
          customLayout: 'layouts/grid',
          resolution: '1920x1080',
          frameRate: 30,
          shmSize: 1073741824,
          mediaNode: { id: 'media_i-rec' },
        }),
        rec({
          name: 'grid',
          hasAudio: false,
          hasVideo: true,
          outputMode: 'COMPOSED_QUICK_START',
          recordingLayout: 'CUSTOM',
          customLayout: 'layouts/grid',
          resolution: '1920x1080',
          frameRate: 30,
          shmSize: 1073741824,
          mediaNode: 'media_i-rec',
        }),
      ],
      ['mediaNode', { mediaNode: { id: 'media_i-1' } }, { mediaNode: { id: 'media_i-1' } }],
    ])(
      'should forward the session property %s to POST /openvidu/api/sessions, where OpenVidu holds it',
      async (_name, props, held) => {
        const body = { ...NODE_CREATE_SESSION_DEFAULT, ...props };
        const res = await post(sessionsPath(), body);

        expect(res.status).toBe(200);
        const [call] = sessionPosts();
        expect(call.body).toMatchObject(props);
        expect(w.ov.session(res.text)).toMatchObject(held);
        // What Roomkey stored is what it sent (used again if OpenVidu drops the session).
        const [row] = await w.t.ds.query<Array<{ options: unknown }>>(
          'SELECT options FROM video_session WHERE external_id = $1',
          [res.text],
        );
        const stored = (
          typeof row.options === 'string' ? JSON.parse(row.options) : row.options
        ) as Json;
        const { customSessionId: _, ...sent } = call.body as Json;
        expect(stored).toEqual(sent);
      },
    );

    it.each<[string, Json, Json]>([
      ['type', { type: 'WEBRTC' }, { type: 'WEBRTC' }],
      ['role', { role: 'SUBSCRIBER' }, { role: 'SUBSCRIBER' }],
      ['data', { data: '{"name":"alice"}' }, { serverData: '{"name":"alice"}' }],
      ['record', { record: false }, { record: false }],
      ['kurentoOptions', { kurentoOptions: KURENTO }, { kurentoOptions: KURENTO }],
      [
        'kurentoOptions (one bandwidth)',
        kurento({ videoMaxSendBandwidth: 0 }),
        kurento({ videoMaxSendBandwidth: 0 }),
      ],
      ['customIceServers (TURN)', ice(TURN), ice(TURN)],
      [
        'customIceServers (STUN and TURN over TCP)',
        ice({ url: 'stun:stun.example.com:3478' }, { ...TURN, url: `${TURN.url}?transport=tcp` }),
        ice({ url: 'stun:stun.example.com:3478' }, { ...TURN, url: `${TURN.url}?transport=tcp` }),
      ],
    ])(
      'should forward the connection property %s to POST /openvidu/api/sessions/:id/connection, where OpenVidu holds it',
      async (_name, props, held) => {
        const id = await compatSession();
        const res = await post(connectionsPath(id), { ...NODE_CONNECTION_EMPTY, ...props });

        expect(res.status).toBe(200);
        expect(connectionPosts()[0].body).toMatchObject(props);
        expect(w.ov.connectWithToken(res.text)).toMatchObject(held);
      },
    );

    it('should let OpenVidu derive TURN credentials from a staticAuthSecret, which Roomkey forwards and never writes down', async () => {
      const secret = `CANARY-turn-${uniq()}`;
      const id = await compatSession();
      const server = { url: 'turns:turn.example.com:5349', staticAuthSecret: secret };

      const res = await post(connectionsPath(id), { ...NODE_CONNECTION_EMPTY, ...ice(server) });

      expect(res.status).toBe(200);
      expect(connectionPosts()[0].body).toMatchObject(ice(server));
      const [held] = w.ov.connectWithToken(res.text).customIceServers as Array<
        Record<string, string>
      >;
      expect(held.url).toBe(server.url);
      expect(held.credential).toBe(
        createHmac('sha1', secret).update(held.username).digest('base64'),
      );
      expect(res.text).not.toContain(secret);
      expect(w.t.logs.join('\n')).not.toContain(secret);
      const [audit] = await w.t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM audit_event WHERE metadata::text LIKE $1',
        [`%${secret}%`],
      );
      expect(audit.n).toBe(0);
    });

    it('should create an active IP camera connection and answer an empty body when createConnection sends type IPCAM', async () => {
      const id = await compatSession();
      const res = await post(connectionsPath(id), NODE_CONNECTION_IPCAM);

      expect(res.status).toBe(200);
      expect(res.text).toBe('');
      const [call] = connectionPosts();
      expect(call.body).toEqual({
        type: 'IPCAM',
        data: 'Office security camera',
        record: true,
        rtspUri: 'rtsp://your.camera.ip.sdp',
        adaptativeBitrate: true,
        onlyPlayWithSubscribers: true,
        networkCache: 2000,
      });
      const [cam] = w.ov.session(id)!.connections.content;
      expect(cam).toMatchObject({
        type: 'IPCAM',
        status: 'active',
        token: null,
        platform: 'IPCAM',
        serverData: 'Office security camera',
        rtspUri: 'rtsp://your.camera.ip.sdp',
        adaptativeBitrate: true,
        onlyPlayWithSubscribers: true,
        networkCache: 2000,
      });
      const [row] = await w.t.ds.query<Array<{ role: string; external_id: string }>>(
        'SELECT role, external_id FROM session_connection WHERE external_id = $1',
        [cam.id],
      );
      expect(row).toEqual({ role: 'PUBLISHER', external_id: cam.id });
    });

    it('should ignore a role on an IPCAM connection, as OpenVidu does', async () => {
      const id = await compatSession();
      const res = await post(connectionsPath(id), {
        ...NODE_CONNECTION_IPCAM,
        role: 'MODERATOR',
        kurentoOptions: 'ignored',
      });

      expect(res.status).toBe(200);
      expect(connectionPosts()[0].body).not.toHaveProperty('role');
      expect(connectionPosts()[0].body).not.toHaveProperty('kurentoOptions');
    });

    it('should refuse an IPCAM connection to a MEMBER (the media server would connect to the address given) and call OpenVidu zero times', async () => {
      const id = await compatSession();
      w.quiet();
      const res = await post(connectionsPath(id), NODE_CONNECTION_IPCAM, w.a.memberKey);

      expect(res.status).toBe(403);
      expect(res.headers['x-roomkey-error-code']).toBe('FORBIDDEN');
      expect(w.totalCalls()).toBe(0);
    });

    it("should answer the tutorial front end's getToken (createSession {customSessionId}, createToken {}) with a token OpenVidu accepts", async () => {
      const id = `SessionA-${uniq()}`;
      const created = await post(sessionsPath(), { customSessionId: id });
      const token = await post(connectionsPath(created.text), {});

      expect([created.status, created.text]).toEqual([200, id]);
      expect(token.status).toBe(200);
      expect(w.ov.connectWithToken(token.text)).toMatchObject({ sessionId: id, status: 'active' });
    });
  });

  // =============================================================================================
  // Bad values: a clear 400 naming the field, nothing created at the vendor or in Roomkey
  // =============================================================================================

  describe('refusing bad values before OpenVidu is called', () => {
    it.each(BAD_SESSION.map((r) => [r.name, r] as const))(
      'should answer a session body 400 naming the field and call OpenVidu zero times when %s',
      async (_name, row) => {
        const before = await sessionCounts(w.t);
        const res = await post(sessionsPath(), { ...NODE_CREATE_SESSION_DEFAULT, ...row.body });

        expect(res.status).toBe(400);
        expect(res.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
        expect(res.body).toEqual({
          error: { code: 'BAD_USER_INPUT', field: row.field, message: expect.any(String) },
        });
        expect((res.body as { error: { message: string } }).error.message).toContain(
          row.field.split('.')[0],
        );
        expect(w.totalCalls()).toBe(0);
        expect(await sessionCounts(w.t)).toEqual(before);
        // The emulator judges the same body as OpenVidu Server would.
        const vendor = await direct('/sessions', { ...NODE_CREATE_SESSION_DEFAULT, ...row.body });
        expect(vendor.status === 400).toBe(row.vendorToo);
      },
    );

    describe('connections', () => {
      let id: string;
      beforeAll(async () => {
        id = await compatSession();
      });

      it.each(BAD_CONNECTION.map((r) => [r.name, r] as const))(
        'should answer a connection body 400 naming the field and call OpenVidu zero times when %s',
        async (_name, row) => {
          const before = await sessionCounts(w.t);
          const body = { ...NODE_CONNECTION_EMPTY, ...row.body };
          const res = await post(connectionsPath(id), body);

          expect(res.status).toBe(400);
          expect(res.body).toEqual({
            error: { code: 'BAD_USER_INPUT', field: row.field, message: expect.any(String) },
          });
          expect(w.totalCalls()).toBe(0);
          expect(await sessionCounts(w.t)).toEqual(before);
          const vendor = await direct(`/sessions/${id}/connection`, body);
          expect(vendor.status === 400).toBe(row.vendorToo);
        },
      );
    });
  });

  // =============================================================================================
  // The same options through GraphQL
  // =============================================================================================

  describe('GraphQL createSession / createConnection with openvidu options', () => {
    const OPENVIDU_SESSION = {
      mediaMode: 'ROUTED',
      recordingMode: 'ALWAYS',
      forcedVideoCodec: 'H264',
      allowTranscoding: true,
      defaultRecordingProperties: {
        name: 'weekly',
        hasAudio: true,
        hasVideo: true,
        outputMode: 'COMPOSED',
        recordingLayout: 'BEST_FIT',
        resolution: '1280x720',
        frameRate: 25,
        shmSize: 536870912,
        mediaNode: { id: 'media_i-rec' },
      },
      mediaNode: { id: 'media_i-0c58bcdd26l11d0sd' },
    };

    it('should forward every openvidu session option and record them without nulls when createSession gets them', async () => {
      const customSessionId = `ov-gql-${uniq()}`;
      const s = await gqlSession({
        provider: 'OPENVIDU',
        customSessionId,
        openvidu: {
          ...OPENVIDU_SESSION,
          defaultRecordingProperties: {
            ...OPENVIDU_SESSION.defaultRecordingProperties,
            customLayout: null,
          },
        },
      });

      expect(sessionPosts()[0].body).toEqual({ customSessionId, ...OPENVIDU_SESSION });
      expect(w.ov.session(customSessionId)).toMatchObject({
        recordingMode: 'ALWAYS',
        forcedVideoCodec: 'H264',
        allowTranscoding: true,
        mediaNode: { id: 'media_i-0c58bcdd26l11d0sd' },
        defaultRecordingProperties: { name: 'weekly', mediaNode: 'media_i-rec' },
      });
      expect(s.options).toEqual(OPENVIDU_SESSION);
    });

    it('should forward the WEBRTC options when createConnection gets openvidu {record kurentoOptions customIceServers}', async () => {
      const s = await gqlSession({ provider: 'OPENVIDU', customSessionId: `ov-gql-c-${uniq()}` });
      w.quiet();
      const servers = [{ url: 'stun:stun.example.com' }, TURN];

      const c = await gqlConnection({
        sessionId: s.id,
        role: 'SUBSCRIBER',
        data: 'bob',
        openvidu: {
          type: 'WEBRTC',
          record: false,
          kurentoOptions: KURENTO,
          customIceServers: servers,
        },
      });

      expect(connectionPosts()[0].body).toEqual({
        type: 'WEBRTC',
        role: 'SUBSCRIBER',
        data: 'bob',
        record: false,
        kurentoOptions: KURENTO,
        customIceServers: servers,
      });
      expect(c.credential).toMatchObject({ __typename: 'OpenViduCredential' });
      expect(w.ov.connectWithToken(String(c.credential!.token))).toMatchObject({
        role: 'SUBSCRIBER',
        record: false,
        kurentoOptions: KURENTO,
        customIceServers: servers,
      });
    });

    it('should add an IP camera, with an empty token, when createConnection gets openvidu {type: IPCAM}', async () => {
      const s = await gqlSession({ provider: 'OPENVIDU', customSessionId: `ov-gql-cam-${uniq()}` });
      w.quiet();

      const c = await gqlConnection({
        sessionId: s.id,
        data: 'Lobby camera',
        openvidu: {
          type: 'IPCAM',
          rtspUri: 'rtsps://camera.example:322/live',
          adaptativeBitrate: false,
          onlyPlayWithSubscribers: false,
          networkCache: 300,
        },
      });

      expect(connectionPosts()[0].body).toEqual({
        type: 'IPCAM',
        data: 'Lobby camera',
        rtspUri: 'rtsps://camera.example:322/live',
        adaptativeBitrate: false,
        onlyPlayWithSubscribers: false,
        networkCache: 300,
      });
      expect(c).toMatchObject({ role: 'PUBLISHER', credential: { token: '' } });
      expect(w.ov.connection(s.externalId, String(c.externalId))).toMatchObject({
        type: 'IPCAM',
        status: 'active',
        rtspUri: 'rtsps://camera.example:322/live',
        networkCache: 300,
      });
    });

    it('should refuse an IPCAM connection with a role other than PUBLISHER and call OpenVidu zero times', async () => {
      const s = await gqlSession({ provider: 'OPENVIDU', customSessionId: `ov-gql-r-${uniq()}` });
      w.quiet();
      const r = await gql(CREATE_CONNECTION, {
        sessionId: s.id,
        role: 'SUBSCRIBER',
        openvidu: ipcam(),
      });

      expectError(r, 'BAD_USER_INPUT');
      expect(r.body.errors?.[0].extensions?.field).toBe('role');
      expect(w.totalCalls()).toBe(0);
    });

    it('should refuse openvidu connection options on a session of another vendor', async () => {
      const s = await gqlSession({ provider: 'LIVEKIT' });
      w.quiet();
      const r = await gql(CREATE_CONNECTION, { sessionId: s.id, openvidu: { record: false } });

      expectError(r, 'BAD_USER_INPUT');
      expect(r.body.errors?.[0].extensions?.field).toBe('openvidu');
      expect(w.totalCalls()).toBe(0);
    });

    it.each(BAD_SESSION.filter((r) => r.gql).map((r) => [r.name, r] as const))(
      'should refuse createSession with the same field as the REST route and call OpenVidu zero times when %s',
      async (_name, row) => {
        const before = await sessionCounts(w.t);
        const r = await gql(CREATE_SESSION, { provider: 'OPENVIDU', openvidu: row.body });

        expectError(r, 'BAD_USER_INPUT');
        expect(r.body.errors?.[0].extensions?.field).toBe(row.field);
        expect(w.totalCalls()).toBe(0);
        expect(await sessionCounts(w.t)).toEqual(before);
      },
    );

    describe('connections', () => {
      let sessionId: string;
      beforeAll(async () => {
        sessionId = (
          await gqlSession({ provider: 'OPENVIDU', customSessionId: `ov-gql-b-${uniq()}` })
        ).id;
      });

      it.each(BAD_CONNECTION.filter((r) => r.gql).map((r) => [r.name, r] as const))(
        'should refuse createConnection with the same field as the REST route and call OpenVidu zero times when %s',
        async (_name, row) => {
          const before = await sessionCounts(w.t);
          const r = await gql(CREATE_CONNECTION, { sessionId, openvidu: row.body });

          expectError(r, 'BAD_USER_INPUT');
          expect(r.body.errors?.[0].extensions?.field).toBe(row.field);
          expect(w.totalCalls()).toBe(0);
          expect(await sessionCounts(w.t)).toEqual(before);
        },
      );
    });
  });
});
