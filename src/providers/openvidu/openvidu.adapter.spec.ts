/**
 * Contract tests for the OpenVidu 2 adapter against the OpenVidu emulator over real HTTP on
 * 127.0.0.1 (docs/vendors.md#openvidu-2; docs/security.md S9 and S14).
 */
import { randomUUID } from 'node:crypto';
import {
  OpenViduTokenError,
  type OpenViduEmulator,
  startOpenViduEmulator,
} from '../../../test/emulators/openvidu';
import { type RecordedCall } from '../../../test/emulators/faults';
import { loadConfig } from '../../common/config';
import { DomainException, ErrorCode } from '../../common/errors';
import { VendorHttp } from '../http/vendor-http';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import { type JoinRequest, type ResolvedCredential } from '../video-provider';
import { OpenViduAdapter } from './openvidu.adapter';

const SECRET = 'ov-emulator-secret-4b1c29d';
/** Vendor-call timeout here: long enough for a loaded CI machine, short enough for hang tests. */
const TIMEOUT_MS = 1000;
const BREAKER_FAILURES = 3;
const BREAKER_OPEN_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The DomainException a call fails with (sync throws included); fails the test if it succeeds. */
async function failure(call: () => Promise<unknown>): Promise<DomainException> {
  try {
    await call();
  } catch (err) {
    if (err instanceof DomainException) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const basic = (secret: string): string =>
  `Basic ${Buffer.from(`OPENVIDUAPP:${secret}`).toString('base64')}`;

const isConnectionPost = (m: string, p: string): boolean =>
  m === 'POST' && p.endsWith('/connection');

describe('OpenViduAdapter against the OpenVidu 2 emulator', () => {
  const tenantId = randomUUID();
  let ov: OpenViduEmulator;
  let http: VendorHttp;
  let adapter: OpenViduAdapter;

  const credential = (secret = SECRET, id: string = randomUUID()): ResolvedCredential => ({
    id,
    tenantId,
    kind: ProviderKind.OPENVIDU,
    config: { url: ov.url },
    secrets: { secret },
  });

  const join = (roomExternalId: string, extra: Partial<JoinRequest> = {}): JoinRequest => ({
    roomExternalId,
    role: ParticipantRole.PUBLISHER,
    identity: 'user-1',
    ttlSeconds: 600,
    ...extra,
  });

  const callsTo = (method: string, pathEnd: string): RecordedCall[] =>
    ov.calls.filter((c) => c.method === method && c.path.endsWith(pathEnd));

  beforeAll(async () => {
    ov = await startOpenViduEmulator({ secret: SECRET });
  });

  beforeEach(() => {
    http = new VendorHttp(
      loadConfig({
        ROOMKEY_DATA_DIR: 'memory://',
        ROOMKEY_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
        ROOMKEY_PROVIDER_BREAKER_FAILURES: String(BREAKER_FAILURES),
        ROOMKEY_PROVIDER_BREAKER_OPEN_MS: String(BREAKER_OPEN_MS),
      }),
    );
    adapter = new OpenViduAdapter(http);
  });

  afterEach(() => ov.reset());

  afterAll(async () => {
    await ov.close();
  });

  describe('happy paths', () => {
    it('should create the session under the customSessionId when createRoom gets a customId', async () => {
      const cred = credential();
      const room = await adapter.createRoom(cred, { customId: 'room-a' });

      expect(room.externalId).toBe('room-a');
      expect(room.details).toMatchObject({ id: 'room-a', object: 'session' });
      expect(ov.session('room-a')).toMatchObject({ id: 'room-a', customSessionId: 'room-a' });
      expect(ov.calls).toHaveLength(1);
      expect(ov.calls[0]).toMatchObject({
        method: 'POST',
        path: '/openvidu/api/sessions',
        body: { customSessionId: 'room-a' },
      });
      expect(ov.calls[0].headers.authorization).toBe(basic(SECRET));
    });

    it('should send only the documented session options when createRoom gets options', async () => {
      await adapter.createRoom(credential(), {
        customId: 'room-opts',
        options: {
          recordingMode: 'ALWAYS',
          forcedVideoCodec: 'VP8',
          allowTranscoding: true,
          notAnOpenViduOption: 'dropped',
        },
      });

      expect(ov.calls[0].body).toEqual({
        customSessionId: 'room-opts',
        recordingMode: 'ALWAYS',
        forcedVideoCodec: 'VP8',
        allowTranscoding: true,
      });
      expect(ov.session('room-opts')).toMatchObject({
        recordingMode: 'ALWAYS',
        forcedVideoCodec: 'VP8',
        allowTranscoding: true,
      });
    });

    it('should generate a safe customSessionId when createRoom gets no customId', async () => {
      const room = await adapter.createRoom(credential(), {});

      expect(room.externalId).toMatch(/^[a-zA-Z0-9_-]{1,100}$/);
      expect(ov.session(room.externalId)?.customSessionId).toBe(room.externalId);
    });

    it('should return the same id and keep one session when createRoom is called twice (409 is success)', async () => {
      const cred = credential();
      const first = await adapter.createRoom(cred, { customId: 'room-dup' });
      const createdAt = ov.session('room-dup')?.createdAt;
      const second = await adapter.createRoom(cred, { customId: 'room-dup' });

      expect(second.externalId).toBe(first.externalId);
      expect(second.details).toEqual({ existing: true });
      expect(ov.sessions()).toHaveLength(1);
      expect(ov.session('room-dup')?.createdAt).toBe(createdAt);
      expect(callsTo('POST', '/sessions')).toHaveLength(2);
    });

    it('should create a fresh pending connection when issueJoin is called twice for one session', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-join' });

      const a = await adapter.issueJoin(cred, join('room-join', { data: '{"user":"a"}' }));
      const b = await adapter.issueJoin(cred, join('room-join', { data: '{"user":"b"}' }));

      expect(a.externalId).not.toBe(b.externalId);
      expect(a.credential.token).not.toBe(b.credential.token);
      for (const issued of [a, b]) {
        expect(issued.expiresAt).toBeNull();
        expect(issued.credential).toEqual({
          token: expect.stringMatching(/^wss:\/\/.+\?sessionId=room-join&token=tok_/) as string,
          connectionId: issued.externalId,
        });
        expect(ov.connection('room-join', issued.externalId as string)).toMatchObject({
          status: 'pending',
          token: issued.credential.token,
        });
      }
      expect(ov.connection('room-join', a.externalId as string)?.serverData).toBe('{"user":"a"}');
      const posts = callsTo('POST', '/sessions/room-join/connection');
      expect(posts).toHaveLength(2);
      expect(posts[0].body).toEqual({ type: 'WEBRTC', role: 'PUBLISHER', data: '{"user":"a"}' });
    });

    it.each([ParticipantRole.SUBSCRIBER, ParticipantRole.PUBLISHER, ParticipantRole.MODERATOR])(
      'should pass the role through when issueJoin is called with role %s',
      async (role) => {
        const cred = credential();
        await adapter.createRoom(cred, { customId: 'room-role' });

        const issued = await adapter.issueJoin(cred, join('room-role', { role }));

        expect(ov.connection('room-role', issued.externalId as string)?.role).toBe(role);
        expect(callsTo('POST', '/connection')[0].body).toMatchObject({ role });
      },
    );

    it('should delete the pending connection so its token cannot connect when revokeJoin is called', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-revoke' });
      const revoked = await adapter.issueJoin(cred, join('room-revoke'));
      const kept = await adapter.issueJoin(cred, join('room-revoke'));

      await adapter.revokeJoin(cred, 'room-revoke', revoked.externalId as string);

      expect(ov.connection('room-revoke', revoked.externalId as string)).toBeUndefined();
      expect(() => ov.connectWithToken(revoked.credential.token as string)).toThrow(
        OpenViduTokenError,
      );
      // The other connection is untouched and its token still works.
      expect(ov.connectWithToken(kept.credential.token as string).status).toBe('active');
      expect(
        callsTo('DELETE', `/sessions/room-revoke/connection/${String(revoked.externalId)}`),
      ).toHaveLength(1);
    });

    it('should close the session when closeRoom is called', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-close' });

      await adapter.closeRoom(cred, 'room-close');

      expect(ov.session('room-close')).toBeUndefined();
      expect(callsTo('DELETE', '/sessions/room-close')).toHaveLength(1);
    });

    it('should resolve without error when closeRoom or revokeJoin target something already gone', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-here' });

      await expect(adapter.closeRoom(cred, 'room-gone')).resolves.toBeUndefined(); // 404
      await expect(
        adapter.revokeJoin(cred, 'room-gone', 'con_A123456789'), // 400: no session
      ).resolves.toBeUndefined();
      await expect(
        adapter.revokeJoin(cred, 'room-here', 'con_B123456789'), // 404: no connection
      ).resolves.toBeUndefined();

      // Each answer really came from the vendor (not skipped locally).
      expect(ov.calls.filter((c) => c.method === 'DELETE')).toHaveLength(3);
      expect(ov.session('room-here')).toBeDefined();
    });

    it('should list the sessions and report health when listRooms and checkHealth are called', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-l1' });
      await adapter.createRoom(cred, { customId: 'room-l2' });

      const rooms = await adapter.listRooms(cred);

      expect(rooms.map((r) => r.externalId).sort()).toEqual(['room-l1', 'room-l2']);
      expect(rooms[0].details).toMatchObject({ object: 'session' });
      await expect(adapter.checkHealth(cred)).resolves.toBe('reachable; 2 active session(s)');
    });
  });

  describe('vendor refusals', () => {
    it('should fail with PROVIDER_REJECTED and a sanitised message when the secret is wrong', async () => {
      const wrong = 'wrong-secret-9f8e7d6c5b';
      const err = await failure(() =>
        adapter.createRoom(credential(wrong), { customId: 'room-x' }),
      );

      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_401');
      expect(err.message).toMatch(/\(401\)/);
      for (const leak of [wrong, SECRET, ov.url, '127.0.0.1', 'http', basic(wrong)]) {
        expect(err.message).not.toContain(leak);
      }
      expect(ov.sessions()).toHaveLength(0);
      expect(ov.calls).toHaveLength(1); // a 4xx is an answer, not retried
    });

    it('should strip URLs, long tokens and control characters when the vendor message carries them', async () => {
      const token = 'A'.repeat(40);
      ov.faults.set({
        status: 403,
        body: JSON.stringify({
          message: `denied\u0007 at https://media.internal:4443/openvidu?x=1 token ${token}`,
        }),
      });

      const err = await failure(() => adapter.listRooms(credential()));

      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.message).toBe(
        'Vendor refused the request (403): denied  at [url] token [redacted]',
      );
    });

    it('should not open the breaker when the vendor keeps refusing with 4xx', async () => {
      const cred = credential('wrong-secret');
      for (let i = 0; i < BREAKER_FAILURES + 1; i += 1) {
        const err = await failure(() => adapter.listRooms(cred));
        expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      }
      expect(ov.calls).toHaveLength(BREAKER_FAILURES + 1);
    });
  });

  describe('failure mapping', () => {
    it.each([
      ['a 500', { status: 500 }, 'status_500'],
      ['a 503', { status: 503 }, 'status_503'],
      ['a connection reset', { reset: true }, 'connection_failed'],
      ['malformed JSON', { malformedJson: true }, 'malformed_response'],
    ])(
      'should fail with PROVIDER_UNAVAILABLE when the vendor answers %s',
      async (_label, fault, reason) => {
        ov.faults.set(fault);

        const err = await failure(() => adapter.listRooms(credential()));

        expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
        expect(err.reason).toBe(reason);
        expect(err.message).not.toContain(ov.url);
        expect(ov.calls.length).toBeGreaterThanOrEqual(1);
      },
    );

    it('should time out with PROVIDER_UNAVAILABLE (reason timeout) when the vendor never answers', async () => {
      ov.faults.set({ hang: true });
      const started = Date.now();

      const err = await failure(() => adapter.listRooms(credential()));
      const elapsed = Date.now() - started;

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('timeout');
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      expect(ov.calls.length).toBeGreaterThanOrEqual(1);
      expect(ov.calls.length).toBeLessThanOrEqual(2);
    });

    it('should abort the request so the vendor never handles it when the timeout fires', async () => {
      const slowCreate = (latencyMs: number): void =>
        ov.faults.set({ latencyMs, match: (m, p) => m === 'POST' && p.endsWith('/sessions') });

      // Control: a slow answer inside the timeout is handled (so the emulator does act on it).
      slowCreate(50);
      await adapter.createRoom(credential(), { customId: 'room-fast' });
      expect(ov.session('room-fast')).toBeDefined();

      // The emulator only handles the request after 3 × the timeout, unless the socket is gone.
      slowCreate(3 * TIMEOUT_MS);
      const err = await failure(() => adapter.createRoom(credential(), { customId: 'room-slow' }));
      expect(err.reason).toBe('timeout');
      await sleep(3 * TIMEOUT_MS + 200);

      expect(
        callsTo('POST', '/sessions').map(
          (c) => (c.body as { customSessionId: string }).customSessionId,
        ),
      ).toContain('room-slow');
      expect(ov.session('room-slow')).toBeUndefined();
    });

    it('should pass the caller abort signal through when the caller cancels', async () => {
      ov.faults.set({ hang: true });
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);

      const err = await failure(() =>
        adapter.listRooms(credential(), { signal: controller.signal }),
      );

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('cancelled'); // the caller's abort, not our timeout
    });
  });

  describe('retries', () => {
    it('should retry an idempotent call once and succeed when only the first attempt fails', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-retry' });
      const before = ov.calls.length;
      ov.faults.set({ status: 500, times: 1 });

      const rooms = await adapter.listRooms(cred);

      expect(rooms.map((r) => r.externalId)).toEqual(['room-retry']);
      const calls = ov.calls.slice(before);
      expect(calls).toHaveLength(2);
      expect(calls.every((c) => c.method === 'GET' && c.path === '/openvidu/api/sessions')).toBe(
        true,
      );
    });

    it('should retry an idempotent call at most once when the vendor keeps failing', async () => {
      ov.faults.set({ status: 500 });

      const err = await failure(() => adapter.listRooms(credential()));

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(ov.calls).toHaveLength(2);
    });

    it('should never retry issueJoin when the vendor fails once', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-noretry' });
      // Only the first POST fails: a retry would have succeeded and created a connection.
      ov.faults.set({ status: 500, times: 1, match: isConnectionPost });

      const err = await failure(() => adapter.issueJoin(cred, join('room-noretry')));

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('status_500');
      expect(callsTo('POST', '/sessions/room-noretry/connection')).toHaveLength(1);
      expect(ov.session('room-noretry')?.connections.numberOfElements).toBe(0);
    });
  });

  describe('circuit breaker', () => {
    /** Three failed (never retried) issueJoin calls: the breaker for `cred` is then open. */
    const openBreaker = async (cred: ResolvedCredential, room: string): Promise<void> => {
      await adapter.createRoom(cred, { customId: room });
      ov.faults.set({ status: 500, match: isConnectionPost });
      for (let i = 0; i < BREAKER_FAILURES; i += 1) {
        const err = await failure(() => adapter.issueJoin(cred, join(room)));
        expect(err.reason).toBe('status_500');
      }
      expect(callsTo('POST', '/connection')).toHaveLength(BREAKER_FAILURES);
    };

    it('should fail fast without calling the vendor when three consecutive calls failed', async () => {
      const cred = credential();
      await openBreaker(cred, 'room-breaker');
      const before = ov.calls.length;
      ov.faults.clear(); // the vendor is healthy again, but the breaker does not know yet

      const err = await failure(() => adapter.issueJoin(cred, join('room-breaker')));

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('circuit_open');
      expect(ov.calls.length).toBe(before);
      const listErr = await failure(() => adapter.listRooms(cred));
      expect(listErr.reason).toBe('circuit_open');
      expect(ov.calls.length).toBe(before);
    });

    it('should let a probe through and recover when the open period has passed and the vendor is healthy', async () => {
      const cred = credential();
      await openBreaker(cred, 'room-recover');
      ov.faults.clear();
      await sleep(BREAKER_OPEN_MS + 100);
      const before = ov.calls.length;

      const rooms = await adapter.listRooms(cred);

      expect(rooms.map((r) => r.externalId)).toEqual(['room-recover']);
      expect(ov.calls.length).toBe(before + 1);
      const issued = await adapter.issueJoin(cred, join('room-recover'));
      expect(ov.connection('room-recover', issued.externalId as string)?.status).toBe('pending');
    });

    it('should open again when the probe fails after the open period', async () => {
      const cred = credential();
      await openBreaker(cred, 'room-reopen');
      await sleep(BREAKER_OPEN_MS + 100);
      const before = ov.calls.length;

      const probe = await failure(() => adapter.issueJoin(cred, join('room-reopen')));
      expect(probe.reason).toBe('status_500');
      expect(ov.calls.length).toBe(before + 1);

      ov.faults.clear();
      const next = await failure(() => adapter.issueJoin(cred, join('room-reopen')));
      expect(next.reason).toBe('circuit_open');
      expect(ov.calls.length).toBe(before + 1);
    });

    it('should keep another credential working when one credential has an open breaker', async () => {
      const broken = credential();
      await openBreaker(broken, 'room-shared');
      ov.faults.clear();
      const other = credential();
      const before = ov.calls.length;

      const rooms = await adapter.listRooms(other);

      expect(rooms.map((r) => r.externalId)).toEqual(['room-shared']);
      expect(ov.calls.length).toBe(before + 1);
      expect((await failure(() => adapter.listRooms(broken))).reason).toBe('circuit_open');
    });
  });

  describe('input validation before any vendor call (docs/security.md S9)', () => {
    it.each([
      ['a space', 'has space'],
      ['a path traversal', '../x'],
      ['a percent-encoded NUL', '%00'],
      ['an RTL override U+202E', 'room\u202eexe'],
      ['a zero-width space U+200B', 'room\u200bA'],
      ['NFD accents', 'cafe\u0301'],
      ['NFC accents', 'caf\u00e9'],
      ['a slash', 'a/b'],
      ['a NUL byte', 'a\u0000b'],
      ['101 characters', 'a'.repeat(101)],
    ])('should refuse a customSessionId with %s and make no call', async (_label, customId) => {
      const err = await failure(() => adapter.createRoom(credential(), { customId }));

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(err.field).toBe('customSessionId');
      expect(ov.calls).toHaveLength(0);
      expect(ov.sessions()).toHaveLength(0);
    });

    it('should accept a customSessionId of exactly 100 characters when they are all allowed', async () => {
      const id = `A_-${'z'.repeat(97)}`;
      await expect(adapter.createRoom(credential(), { customId: id })).resolves.toMatchObject({
        externalId: id,
      });
      expect(ov.session(id)).toBeDefined();
    });

    it.each([['../x'], ['a b'], ['room\u200b'], ['x?y=1']])(
      'should refuse issueJoin for session id %j and make no call',
      async (roomExternalId) => {
        const err = await failure(() => adapter.issueJoin(credential(), join(roomExternalId)));

        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(ov.calls).toHaveLength(0);
      },
    );

    it('should refuse a connection id of ".." without any call when revokeJoin is called', async () => {
      // "/sessions/room/connection/.." is normalised by the URL parser to "/sessions/room/": a
      // DELETE there closes the whole session. Ids must be validated before they reach a path.
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-dots' });
      const before = ov.calls.length;

      const outcome = await adapter.revokeJoin(cred, 'room-dots', '..').then(
        () => 'resolved',
        (err: unknown) => err,
      );

      expect(ov.session('room-dots')).toBeDefined(); // the session survives
      expect(ov.calls.length).toBe(before);
      expect(outcome).toBeInstanceOf(DomainException);
      expect((outcome as DomainException).code).toBe(ErrorCode.BAD_USER_INPUT);
    });
  });
  describe('OpenVidu session and connection options (openvidu-options.ts)', () => {
    const RECORDING = {
      name: 'rec',
      hasAudio: true,
      hasVideo: true,
      outputMode: 'COMPOSED',
      recordingLayout: 'CUSTOM',
      customLayout: 'layouts/grid',
      resolution: '1920x1080',
      frameRate: 30,
      shmSize: 536870912,
      mediaNode: { id: 'media_i-rec' },
    };
    const KURENTO = {
      videoMaxRecvBandwidth: 1000,
      videoMinRecvBandwidth: 300,
      videoMaxSendBandwidth: 1000,
      videoMinSendBandwidth: 0,
      allowedFilters: ['GStreamerFilter', 'ZBarFilter'],
    };
    const ICE = [
      { url: 'turn:turn.example.com:443?transport=tcp', username: 'u', credential: 'p' },
      { url: 'stun:[2001:db8::1]:3478' },
    ];

    it('should send every session option, without nulls or unknown keys, when createRoom gets them', async () => {
      await adapter.createRoom(credential(), {
        customId: 'room-all',
        options: {
          mediaMode: 'ROUTED',
          recordingMode: 'ALWAYS',
          forcedVideoCodec: 'H264',
          allowTranscoding: false,
          defaultRecordingProperties: { ...RECORDING, ignoreFailedStreams: null, extra: 1 },
          mediaNode: { id: 'media_i-1', other: 'x' },
        },
      });

      expect(ov.calls[0].body).toEqual({
        customSessionId: 'room-all',
        mediaMode: 'ROUTED',
        recordingMode: 'ALWAYS',
        forcedVideoCodec: 'H264',
        allowTranscoding: false,
        defaultRecordingProperties: RECORDING,
        mediaNode: { id: 'media_i-1' },
      });
      expect(ov.session('room-all')).toMatchObject({
        recordingMode: 'ALWAYS',
        forcedVideoCodec: 'H264',
        mediaNode: { id: 'media_i-1' },
        defaultRecordingProperties: { ...RECORDING, mediaNode: 'media_i-rec' },
      });
    });

    it.each([
      ['mediaMode is RELAYED', { mediaMode: 'RELAYED' }, 'mediaMode'],
      ['recordingMode is unknown', { recordingMode: 'NEVER' }, 'recordingMode'],
      ['forcedVideoCodec is AV1', { forcedVideoCodec: 'AV1' }, 'forcedVideoCodec'],
      ['allowTranscoding is a string', { allowTranscoding: 'true' }, 'allowTranscoding'],
      ['mediaNode is a string', { mediaNode: 'media_i-1' }, 'mediaNode'],
      ['mediaNode has no id', { mediaNode: {} }, 'mediaNode.id'],
      [
        'defaultRecordingProperties is an array',
        { defaultRecordingProperties: [] },
        'defaultRecordingProperties',
      ],
      [
        'outputMode is unknown',
        { defaultRecordingProperties: { outputMode: 'MIXED' } },
        'defaultRecordingProperties.outputMode',
      ],
      [
        'resolution is 99 wide',
        { defaultRecordingProperties: { resolution: '99x720' } },
        'defaultRecordingProperties.resolution',
      ],
      [
        'resolution is 2000 high',
        { defaultRecordingProperties: { resolution: '1280x2000' } },
        'defaultRecordingProperties.resolution',
      ],
      [
        'frameRate is 121',
        { defaultRecordingProperties: { frameRate: 121 } },
        'defaultRecordingProperties.frameRate',
      ],
      [
        'frameRate is 2.5',
        { defaultRecordingProperties: { frameRate: 2.5 } },
        'defaultRecordingProperties.frameRate',
      ],
      [
        'shmSize is below 128 MB',
        { defaultRecordingProperties: { shmSize: 134217727 } },
        'defaultRecordingProperties.shmSize',
      ],
      [
        'hasAudio and hasVideo are false',
        { defaultRecordingProperties: { hasAudio: false, hasVideo: false } },
        'defaultRecordingProperties.hasVideo',
      ],
    ])(
      'should refuse the session options and make no call when %s',
      async (_label, options, field) => {
        expect(() => adapter.validateRoom({ customId: 'room-bad', options })).toThrow(
          DomainException,
        );
        const err = await failure(() =>
          adapter.createRoom(credential(), { customId: 'room-bad', options }),
        );

        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe(field);
        expect(ov.calls).toHaveLength(0);
      },
    );

    it('should send the WEBRTC options and leave out the IPCAM ones when issueJoin gets both', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-webrtc' });

      const issued = await adapter.issueJoin(
        cred,
        join('room-webrtc', {
          role: ParticipantRole.SUBSCRIBER,
          data: 'alice',
          options: {
            type: 'WEBRTC',
            record: false,
            kurentoOptions: KURENTO,
            customIceServers: ICE,
            rtspUri: 'rtsp://ignored.example/cam',
            networkCache: null,
          },
        }),
      );

      expect(callsTo('POST', '/connection')[0].body).toEqual({
        type: 'WEBRTC',
        role: 'SUBSCRIBER',
        data: 'alice',
        record: false,
        kurentoOptions: KURENTO,
        customIceServers: ICE,
      });
      expect(ov.connection('room-webrtc', issued.externalId as string)).toMatchObject({
        type: 'WEBRTC',
        record: false,
        kurentoOptions: KURENTO,
        customIceServers: ICE,
        rtspUri: null,
      });
    });

    it('should create an active IP camera connection without a role and answer an empty token when issueJoin gets type IPCAM', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-cam' });

      const issued = await adapter.issueJoin(
        cred,
        join('room-cam', {
          data: 'Office camera',
          options: {
            type: 'IPCAM',
            record: true,
            rtspUri: 'rtsp://camera.example:554/live',
            adaptativeBitrate: false,
            onlyPlayWithSubscribers: false,
            networkCache: 500,
            kurentoOptions: { videoMaxRecvBandwidth: 1 },
          },
        }),
      );

      expect(callsTo('POST', '/connection')[0].body).toEqual({
        type: 'IPCAM',
        data: 'Office camera',
        record: true,
        rtspUri: 'rtsp://camera.example:554/live',
        adaptativeBitrate: false,
        onlyPlayWithSubscribers: false,
        networkCache: 500,
      });
      expect(issued.credential).toEqual({ token: '', connectionId: issued.externalId });
      expect(issued.details).toEqual({ type: 'IPCAM', status: 'active' });
      expect(ov.connection('room-cam', issued.externalId as string)).toMatchObject({
        type: 'IPCAM',
        status: 'active',
        token: null,
        rtspUri: 'rtsp://camera.example:554/live',
        networkCache: 500,
      });
    });

    it('should forward a staticAuthSecret, which OpenVidu turns into TURN credentials', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-turn-rest' });
      const ice = [{ url: 'turns:turn.example.com:5349', staticAuthSecret: 'turn-rest-secret' }];

      const issued = await adapter.issueJoin(
        cred,
        join('room-turn-rest', { options: { customIceServers: ice } }),
      );

      expect(callsTo('POST', '/connection')[0].body).toMatchObject({ customIceServers: ice });
      const [server] = ov.connection('room-turn-rest', issued.externalId as string)
        ?.customIceServers as Array<Record<string, string>>;
      expect(server.url).toBe(ice[0].url);
      expect(server.username).toMatch(/^\d{10}:[A-Za-z0-9]{8}$/);
      expect(server.credential).toMatch(/^[A-Za-z0-9+/]+=*$/);
      expect(server).not.toHaveProperty('staticAuthSecret');
    });

    it.each([
      ['type is SIP', { type: 'SIP' }, 'type'],
      ['record is a string', { record: 'yes' }, 'record'],
      ['kurentoOptions is an array', { kurentoOptions: [1] }, 'kurentoOptions'],
      [
        'a bandwidth is a numeric string',
        { kurentoOptions: { videoMaxRecvBandwidth: '1000' } },
        'kurentoOptions.videoMaxRecvBandwidth',
      ],
      [
        'a bandwidth is negative',
        { kurentoOptions: { videoMinSendBandwidth: -1 } },
        'kurentoOptions.videoMinSendBandwidth',
      ],
      [
        'a bandwidth is fractional',
        { kurentoOptions: { videoMaxSendBandwidth: 1.5 } },
        'kurentoOptions.videoMaxSendBandwidth',
      ],
      [
        'allowedFilters holds a number',
        { kurentoOptions: { allowedFilters: [1] } },
        'kurentoOptions.allowedFilters',
      ],
      [
        'customIceServers is an object',
        { customIceServers: { url: 'stun:a.example' } },
        'customIceServers',
      ],
      [
        'an ICE server has no url',
        { customIceServers: [{ username: 'u' }] },
        'customIceServers.url',
      ],
      [
        'an ICE url has an http scheme',
        { customIceServers: [{ url: 'http://a.example' }] },
        'customIceServers.url',
      ],
      [
        'a STUN url has a query',
        { customIceServers: [{ url: 'stun:a.example?transport=udp' }] },
        'customIceServers.url',
      ],
      [
        'a TURN url has another query',
        { customIceServers: [{ url: 'turn:a.example?x=1', username: 'u', credential: 'p' }] },
        'customIceServers.url',
      ],
      [
        'an ICE port is 0',
        { customIceServers: [{ url: 'stun:a.example:0' }] },
        'customIceServers.url',
      ],
      [
        'an ICE port is 70000',
        { customIceServers: [{ url: 'stun:a.example:70000' }] },
        'customIceServers.url',
      ],
      [
        'an ICE host is empty',
        { customIceServers: [{ url: 'stun::3478' }] },
        'customIceServers.url',
      ],
      [
        'an IPv6 host is not closed',
        { customIceServers: [{ url: 'stun:[::1:3478' }] },
        'customIceServers.url',
      ],
      [
        'a TURN server has no credential',
        { customIceServers: [{ url: 'turn:a.example', username: 'u' }] },
        'customIceServers.credential',
      ],
      [
        'a TURN server has a secret and a username',
        { customIceServers: [{ url: 'turn:a.example', username: 'u', staticAuthSecret: 's' }] },
        'customIceServers.staticAuthSecret',
      ],
      [
        'a STUN server has a username',
        { customIceServers: [{ url: 'stun:a.example', username: 'u' }] },
        'customIceServers.username',
      ],
      ['an IPCAM has no rtspUri', { type: 'IPCAM' }, 'rtspUri'],
      [
        'an rtspUri has an ftp scheme',
        { type: 'IPCAM', rtspUri: 'ftp://cam.example/1' },
        'rtspUri',
      ],
      [
        'an rtspUri has an upper-case scheme',
        { type: 'IPCAM', rtspUri: 'RTSP://cam.example/1' },
        'rtspUri',
      ],
      ['an rtspUri has a space', { type: 'IPCAM', rtspUri: 'rtsp://cam.example/a b' }, 'rtspUri'],
      [
        'adaptativeBitrate is a string',
        { type: 'IPCAM', rtspUri: 'rtsp://c.example/1', adaptativeBitrate: 'no' },
        'adaptativeBitrate',
      ],
      [
        'onlyPlayWithSubscribers is a number',
        { type: 'IPCAM', rtspUri: 'rtsp://c.example/1', onlyPlayWithSubscribers: 0 },
        'onlyPlayWithSubscribers',
      ],
      [
        'networkCache is negative',
        { type: 'IPCAM', rtspUri: 'rtsp://c.example/1', networkCache: -5 },
        'networkCache',
      ],
    ])(
      'should refuse the connection options and make no call when %s',
      async (_label, options, field) => {
        const err = await failure(() =>
          adapter.issueJoin(credential(), join('room-x', { options })),
        );

        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe(field);
        expect(ov.calls).toHaveLength(0);
      },
    );

    it.each([
      ['stun:stun.example.com'],
      ['stun:192.0.2.1:3478'],
      ['stuns:[2001:db8::1]'],
      ['turn:turn.example.com:3478?transport=udp'],
    ])('should accept the ICE url %s', async (url) => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'room-ice-ok' });
      const auth = url.startsWith('turn') ? { username: 'u', credential: 'p' } : {};

      await expect(
        adapter.issueJoin(
          cred,
          join('room-ice-ok', { options: { customIceServers: [{ url, ...auth }] } }),
        ),
      ).resolves.toMatchObject({ externalId: expect.stringMatching(/^con_/) as string });
    });
  });
});
