/**
 * Contract tests for the OpenVidu 3 / LiveKit adapter: join tokens minted locally and checked
 * claim by claim (signature verified with jose), and the Twirp RoomService against the LiveKit
 * emulator over real HTTP on 127.0.0.1 (docs/vendors.md#livekit-openvidu-3; docs/security.md S9, S14).
 */
import { randomUUID } from 'node:crypto';
import { type JWTPayload, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import { type RecordedCall } from '../../../test/emulators/faults';
import {
  LiveKitError,
  type LiveKitEmulator,
  startLiveKitEmulator,
} from '../../../test/emulators/livekit';
import { loadConfig } from '../../common/config';
import { DomainException, ErrorCode } from '../../common/errors';
import { VendorHttp } from '../http/vendor-http';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import { type JoinRequest, type ResolvedCredential } from '../video-provider';
import { LiveKitAdapter } from './livekit.adapter';

const API_KEY = 'APIroomkeyTest';
const API_SECRET = 'lk-secret-0123456789abcdef0123456789abcdef';
/** Vendor-call timeout here: long enough for a loaded CI machine, short enough for hang tests. */
const TIMEOUT_MS = 1000;
const BREAKER_OPEN_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

async function failure(call: () => Promise<unknown>): Promise<DomainException> {
  try {
    await call();
  } catch (err) {
    if (err instanceof DomainException) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

interface LiveKitPayload extends JWTPayload {
  name?: string;
  metadata?: string;
  video?: Record<string, unknown>;
}

/** Verifies HS256 with `secret` and the issuer, and returns the claims. */
async function verified(
  token: string,
  secret = API_SECRET,
  clockTolerance = 0,
): Promise<LiveKitPayload> {
  const { payload, protectedHeader } = await jwtVerify<LiveKitPayload>(
    token,
    new TextEncoder().encode(secret),
    { algorithms: ['HS256'], issuer: API_KEY, clockTolerance },
  );
  expect(protectedHeader.alg).toBe('HS256');
  return payload;
}

/** exp − nbf; jose stamps them a few microseconds apart, so a second boundary may fall between. */
function expectLifetime(claims: LiveKitPayload, seconds: number): void {
  const lifetime = (claims.exp as number) - (claims.nbf as number);
  expect(lifetime).toBeGreaterThanOrEqual(seconds - 1);
  expect(lifetime).toBeLessThanOrEqual(seconds);
}

/** The claims of the server token on a recorded Twirp call. */
async function serverClaims(call: RecordedCall): Promise<LiveKitPayload> {
  const auth = call.headers.authorization ?? '';
  expect(auth).toMatch(/^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
  return verified(auth.slice('Bearer '.length));
}

describe('LiveKitAdapter against the LiveKit emulator', () => {
  const tenantId = randomUUID();
  let lk: LiveKitEmulator;
  let adapter: LiveKitAdapter;

  const credential = (apiSecret = API_SECRET, id: string = randomUUID()): ResolvedCredential => ({
    id,
    tenantId,
    kind: ProviderKind.LIVEKIT,
    config: { url: lk.url, apiKey: API_KEY },
    secrets: { apiSecret },
  });

  const join = (extra: Partial<JoinRequest> = {}): JoinRequest => ({
    roomExternalId: 'weekly-sync',
    role: ParticipantRole.PUBLISHER,
    identity: 'user-42',
    displayName: 'Ada Lovelace',
    data: '{"team":"core"}',
    ttlSeconds: 900,
    ...extra,
  });

  const twirp = (method: string): RecordedCall[] =>
    lk.calls.filter((c) => c.path === `/twirp/livekit.RoomService/${method}`);

  beforeAll(async () => {
    lk = await startLiveKitEmulator({ apiKey: API_KEY, apiSecret: API_SECRET });
  });

  beforeEach(() => {
    adapter = new LiveKitAdapter(
      new VendorHttp(
        loadConfig({
          ROOMKEY_DATA_DIR: 'memory://',
          ROOMKEY_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
          ROOMKEY_PROVIDER_BREAKER_FAILURES: '3',
          ROOMKEY_PROVIDER_BREAKER_OPEN_MS: String(BREAKER_OPEN_MS),
        }),
      ),
    );
  });

  afterEach(() => lk.reset());

  afterAll(async () => {
    await lk.close();
  });

  describe('join tokens (minted locally)', () => {
    const grants: Array<[ParticipantRole, Record<string, unknown>]> = [
      [
        ParticipantRole.SUBSCRIBER,
        {
          roomJoin: true,
          room: 'weekly-sync',
          canSubscribe: true,
          canPublish: false,
          canPublishData: false,
        },
      ],
      [
        ParticipantRole.PUBLISHER,
        {
          roomJoin: true,
          room: 'weekly-sync',
          canSubscribe: true,
          canPublish: true,
          canPublishData: true,
        },
      ],
      [
        ParticipantRole.MODERATOR,
        {
          roomJoin: true,
          room: 'weekly-sync',
          canSubscribe: true,
          canPublish: true,
          canPublishData: true,
          roomAdmin: true,
        },
      ],
    ];

    it.each(grants)(
      'should mint an HS256 token with every claim and the exact %s grant without calling LiveKit',
      async (role, grant) => {
        const ttl = 900;
        const before = nowSeconds();
        const issued = await adapter.issueJoin(credential(), join({ role, ttlSeconds: ttl }));
        const token = issued.credential.token as string;

        expect(lk.calls).toHaveLength(0);
        expect(decodeProtectedHeader(token)).toEqual({ alg: 'HS256' });
        const claims = await verified(token);
        expect(claims.iss).toBe(API_KEY);
        expect(claims.sub).toBe('user-42');
        expect(claims.name).toBe('Ada Lovelace');
        expect(claims.metadata).toBe('{"team":"core"}');
        expect(Math.abs((claims.nbf as number) - before)).toBeLessThanOrEqual(5);
        expect(Math.abs((claims.exp as number) - (before + ttl))).toBeLessThanOrEqual(5);
        expectLifetime(claims, ttl);
        expect(claims.video).toEqual(grant);
        expect(Object.keys(claims).sort()).toEqual(
          ['exp', 'iss', 'metadata', 'name', 'nbf', 'sub', 'video'].sort(),
        );

        expect(issued.externalId).toBe('user-42');
        expect(
          Math.abs((issued.expiresAt as Date).getTime() - (claims.exp as number) * 1000),
        ).toBeLessThan(5000);
        expect(issued.credential).toEqual({
          token,
          serverUrl: lk.url.replace(/^http/, 'ws'),
          identity: 'user-42',
          room: 'weekly-sync',
        });
      },
    );

    it.each(grants)(
      'should be accepted by the LiveKit emulator with matching permissions when a %s joins',
      async (role, grant) => {
        const issued = await adapter.issueJoin(credential(), join({ role }));

        const participant = lk.joinAs(issued.credential.token as string);

        expect(participant).toMatchObject({
          room: 'weekly-sync',
          identity: 'user-42',
          name: 'Ada Lovelace',
          metadata: '{"team":"core"}',
        });
        expect(participant.permission.canPublish).toBe(grant.canPublish);
        expect(participant.permission.canPublishData).toBe(grant.canPublishData);
        expect(participant.permission.canSubscribe).toBe(true);
        expect(lk.room('weekly-sync')?.participants.map((p) => p.identity)).toEqual(['user-42']);
      },
    );

    it('should omit name and metadata when the join request has none', async () => {
      const issued = await adapter.issueJoin(credential(), join({ displayName: null, data: null }));

      const claims = await verified(issued.credential.token as string);
      expect(claims).not.toHaveProperty('name');
      expect(claims).not.toHaveProperty('metadata');
    });

    it('should be refused by LiveKit and by jose when the token was signed with another secret', async () => {
      const issued = await adapter.issueJoin(credential('another-secret-0123456789abcdef'), join());
      const token = issued.credential.token as string;

      expect(() => lk.joinAs(token)).toThrow(LiveKitError);
      await expect(verified(token)).rejects.toBeInstanceOf(
        joseErrors.JWSSignatureVerificationFailed,
      );
      expect(lk.rooms()).toHaveLength(0);
    });

    it.each([1, 86_400])('should accept a ttl of %i seconds at the edges', async (ttl) => {
      const issued = await adapter.issueJoin(credential(), join({ ttlSeconds: ttl }));

      // A one-second token can expire before a loaded machine gets to verify it: the lifetime
      // is what is checked here, so the check allows a few seconds of clock.
      const claims = await verified(issued.credential.token as string, API_SECRET, 5);
      expectLifetime(claims, ttl);
    });

    it.each([0, -1, 86_401, Number.NaN])(
      'should refuse a ttl of %d seconds with BAD_USER_INPUT',
      async (ttl) => {
        const err = await failure(() => adapter.issueJoin(credential(), join({ ttlSeconds: ttl })));

        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe('ttlSeconds');
      },
    );

    it.each([
      ['room', 'a slash', { roomExternalId: 'a/b' }],
      ['room', 'a leading space', { roomExternalId: ' room' }],
      ['room', 'a zero-width space', { roomExternalId: 'ro\u200bom' }],
      ['room', 'an RTL override', { roomExternalId: 'room\u202eexe' }],
      ['room', 'NFD accents', { roomExternalId: 'cafe\u0301' }],
      ['room', '129 bytes', { roomExternalId: 'r'.repeat(129) }],
      ['identity', 'a question mark', { identity: 'x?y' }],
      ['identity', 'a hash', { identity: 'x#y' }],
      ['identity', 'a control character', { identity: 'x\ny' }],
      ['identity', 'nothing', { identity: '' }],
    ])(
      'should refuse a %s with %s before minting when issueJoin is called',
      async (_what, _label, extra) => {
        const err = await failure(() => adapter.issueJoin(credential(), join(extra)));

        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(['roomName', 'identity']).toContain(err.field);
        expect(lk.calls).toHaveLength(0);
      },
    );
  });

  describe('Twirp RoomService', () => {
    it('should create the room with a roomCreate server token when createRoom is called', async () => {
      const room = await adapter.createRoom(credential(), {
        customId: 'standup',
        options: { emptyTimeout: 120, maxParticipants: 8, metadata: 'm', ignored: true },
      });

      expect(room.externalId).toBe('standup');
      expect(room.details).toMatchObject({ name: 'standup' });
      expect(lk.room('standup')).toMatchObject({
        name: 'standup',
        emptyTimeout: 120,
        maxParticipants: 8,
        metadata: 'm',
      });
      const [call] = twirp('CreateRoom');
      expect(call.method).toBe('POST');
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.body).toEqual({
        name: 'standup',
        emptyTimeout: 120,
        maxParticipants: 8,
        metadata: 'm',
      });
      const claims = await serverClaims(call);
      expect(claims.video).toEqual({ roomCreate: true });
      expect(claims.sub).toBeUndefined();
      expectLifetime(claims, 60);
    });

    it('should keep one room when createRoom is called twice with the same name', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'twice' });
      const again = await adapter.createRoom(cred, { customId: 'twice' });

      expect(again.externalId).toBe('twice');
      expect(lk.rooms()).toHaveLength(1);
      expect(twirp('CreateRoom')).toHaveLength(2);
    });

    it('should list rooms with a roomList server token when listRooms is called', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'r1' });
      await adapter.createRoom(cred, { customId: 'r2' });

      const rooms = await adapter.listRooms(cred);

      expect(rooms.map((r) => r.externalId).sort()).toEqual(['r1', 'r2']);
      const claims = await serverClaims(twirp('ListRooms')[0]);
      expect(claims.video).toEqual({ roomList: true });
      await expect(adapter.checkHealth(cred)).resolves.toBe('reachable; 2 room(s)');
    });

    it('should delete the room and tolerate a second delete when closeRoom is called', async () => {
      const cred = credential();
      await adapter.createRoom(cred, { customId: 'closing' });

      await adapter.closeRoom(cred, 'closing');
      expect(lk.room('closing')).toBeUndefined();
      await expect(adapter.closeRoom(cred, 'closing')).resolves.toBeUndefined(); // not_found

      const deletes = twirp('DeleteRoom');
      expect(deletes).toHaveLength(2);
      expect(deletes[0].body).toEqual({ room: 'closing' });
      expect((await serverClaims(deletes[0])).video).toEqual({ roomCreate: true });
    });

    it('should remove the participant with a room-scoped roomAdmin token when revokeJoin is called', async () => {
      const cred = credential();
      const issued = await adapter.issueJoin(cred, join({ identity: 'leaver' }));
      lk.joinAs(issued.credential.token as string);
      const stays = await adapter.issueJoin(cred, join({ identity: 'stayer' }));
      lk.joinAs(stays.credential.token as string);

      await adapter.revokeJoin(cred, 'weekly-sync', 'leaver');

      expect(lk.room('weekly-sync')?.participants.map((p) => p.identity)).toEqual(['stayer']);
      const [call] = twirp('RemoveParticipant');
      expect(call.body).toEqual({ room: 'weekly-sync', identity: 'leaver' });
      expect((await serverClaims(call)).video).toEqual({ roomAdmin: true, room: 'weekly-sync' });

      await expect(adapter.revokeJoin(cred, 'weekly-sync', 'leaver')).resolves.toBeUndefined();
      expect(twirp('RemoveParticipant')).toHaveLength(2);
    });

    it('should refuse an invalid room name before any call when createRoom is called', async () => {
      for (const customId of ['a/b', 'x\u200by', '#room', 'r'.repeat(129)]) {
        const err = await failure(() => adapter.createRoom(credential(), { customId }));
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      }
      expect(lk.calls).toHaveLength(0);
    });

    it('should fail with PROVIDER_REJECTED and a sanitised message when the API secret is wrong', async () => {
      const wrong = 'wrong-secret-for-livekit';
      const err = await failure(() => adapter.createRoom(credential(wrong), { customId: 'nope' }));

      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_401');
      for (const leak of [wrong, API_SECRET, lk.url, '127.0.0.1']) {
        expect(err.message).not.toContain(leak);
      }
      expect(lk.rooms()).toHaveLength(0);
      expect(lk.calls).toHaveLength(1);
    });

    it.each([
      ['a 500', { status: 500 }, 'status_500'],
      ['a connection reset', { reset: true }, 'connection_failed'],
      ['malformed JSON', { malformedJson: true }, 'malformed_response'],
      ['no answer', { hang: true }, 'timeout'],
    ])(
      'should fail with PROVIDER_UNAVAILABLE when LiveKit answers %s',
      async (_label, fault, reason) => {
        lk.faults.set(fault);

        const err = await failure(() => adapter.listRooms(credential()));

        expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
        expect(err.reason).toBe(reason);
      },
    );

    it('should retry a Twirp call once when only the first attempt fails', async () => {
      lk.faults.set({ status: 503, times: 1 });

      await adapter.createRoom(credential(), { customId: 'retried' });

      expect(twirp('CreateRoom')).toHaveLength(2);
      expect(lk.room('retried')).toBeDefined();
    });

    it('should fail fast without a call while the breaker is open and recover afterwards', async () => {
      const cred = credential();
      lk.faults.set({ status: 500 });
      // 2 attempts per call (one retry): the third failed attempt opens the breaker.
      for (let i = 0; i < 2; i += 1) await failure(() => adapter.listRooms(cred));
      expect(lk.calls).toHaveLength(3);

      const open = await failure(() => adapter.listRooms(cred));
      expect(open.reason).toBe('circuit_open');
      expect(lk.calls).toHaveLength(3);

      lk.faults.clear();
      await sleep(BREAKER_OPEN_MS + 100);
      await expect(adapter.listRooms(cred)).resolves.toEqual([]);
      expect(lk.calls).toHaveLength(4);
    });
  });
});
