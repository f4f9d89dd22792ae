/**
 * Contract tests for the Fishjam adapter against the Fishjam emulator over real HTTP on 127.0.0.1
 * (docs/vendors.md#fishjam, docs/security.md S9 and S14): rooms and peers with the management token,
 * livestream viewer and streamer tokens, peer and token creation never retried, deletes retried
 * once, error mapping, timeouts, the breaker, and name validation before any call.
 */
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../common/config';
import { DomainException, ErrorCode } from '../../common/errors';
import { type FishjamEmulator, startFishjamEmulator } from '../../../test/emulators/fishjam';
import { type RecordedCall } from '../../../test/emulators/faults';
import { VendorHttp } from '../http/vendor-http';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import { type JoinRequest, type ResolvedCredential } from '../video-provider';
import { FishjamAdapter } from './fishjam.adapter';
import { NOT_LIVESTREAM } from './fishjam-limits';

/** Vendor-call timeout here: long enough for a loaded CI machine, short enough for hang tests. */
const TIMEOUT_MS = 1000;
const BREAKER_OPEN_MS = 500;
const MANAGEMENT_TOKEN = 'fj-mgmt-0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c';

/** Resolves with the rejection of `p` (fails the test when `p` resolves). */
async function rejection(p: Promise<unknown>): Promise<DomainException> {
  const err: unknown = await p.then(
    () => {
      throw new Error('expected the call to be rejected');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainException);
  return err as DomainException;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const isAddPeer = (m: string, p: string) => m === 'POST' && /\/room\/[^/]+\/peer$/.test(p);
const isCreateRoom = (m: string, p: string) => m === 'POST' && /\/room$/.test(p);

describe('FishjamAdapter (against the Fishjam emulator)', () => {
  let fishjam: FishjamEmulator;
  let adapter: FishjamAdapter;
  const tenantId = randomUUID();

  function credential(
    fishjamUrl: string,
    managementToken = MANAGEMENT_TOKEN,
    id: string = randomUUID(),
  ): ResolvedCredential {
    return {
      id,
      tenantId,
      kind: ProviderKind.FISHJAM,
      config: { fishjamUrl },
      secrets: { managementToken },
    };
  }

  const join = (roomId: string, extra: Partial<JoinRequest> = {}): JoinRequest => ({
    roomExternalId: roomId,
    role: ParticipantRole.PUBLISHER,
    identity: 'user-1',
    displayName: 'Ada',
    ttlSeconds: 3600,
    ...extra,
  });

  const callsTo = (match: (m: string, p: string) => boolean): RecordedCall[] =>
    fishjam.calls.filter((c) => match(c.method, c.path));

  beforeAll(async () => {
    // Node loads its fetch implementation on first use; keep that out of the timeout budget.
    const warm = await startFishjamEmulator({ managementToken: MANAGEMENT_TOKEN });
    try {
      await (
        await fetch(`${warm.fishjamUrl}/room`, {
          headers: { authorization: `Bearer ${MANAGEMENT_TOKEN}` },
        })
      ).text();
    } finally {
      await warm.close();
    }
  });

  beforeEach(async () => {
    fishjam = await startFishjamEmulator({ managementToken: MANAGEMENT_TOKEN });
    adapter = new FishjamAdapter(
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

  afterEach(async () => {
    await fishjam.close();
  });

  /** A room created through the adapter, with the recorder cleared afterwards. */
  async function seedRoom(cred: ResolvedCredential): Promise<string> {
    const { externalId } = await adapter.createRoom(cred, {});
    fishjam.calls.length = 0;
    return externalId;
  }

  describe('rooms', () => {
    it('should create a room with the given options when createRoom is called', async () => {
      const cred = credential(fishjam.fishjamUrl);

      const room = await adapter.createRoom(cred, {
        name: 'standup',
        options: { maxPeers: 4, videoCodec: 'vp8', roomType: 'audio_only' },
      });

      const rooms = fishjam.rooms();
      expect(rooms.map((r) => r.id)).toEqual([room.externalId]);
      expect(rooms[0].config).toMatchObject({
        maxPeers: 4,
        videoCodec: 'vp8',
        roomType: 'audio_only',
      });
      expect(room.details).toMatchObject({ id: room.externalId, peers: [] });
      const [call] = callsTo(isCreateRoom);
      expect(call.headers.authorization).toBe(`Bearer ${MANAGEMENT_TOKEN}`);
      expect(call.headers['content-type']).toBe('application/json');
      expect(call.body).toEqual({ maxPeers: 4, videoCodec: 'vp8', roomType: 'audio_only' });
    });

    it('should send only the known room options when unknown options are given', async () => {
      const cred = credential(fishjam.fishjamUrl);
      await adapter.createRoom(cred, {
        options: { videoCodec: 'h264', admin: true, streamKey: 'x' },
      });
      expect(callsTo(isCreateRoom)[0].body).toEqual({ videoCodec: 'h264' });
      expect(fishjam.rooms()).toHaveLength(1);
    });

    it('should create a room with the vendor defaults when no options are given', async () => {
      const cred = credential(fishjam.fishjamUrl);
      await adapter.createRoom(cred, {});
      expect(fishjam.rooms()[0].config).toMatchObject({ videoCodec: 'h264', maxPeers: null });
    });

    it('should reject with PROVIDER_REJECTED and the vendor reason when an option is refused', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const err = await rejection(adapter.createRoom(cred, { options: { videoCodec: 'av1' } }));
      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_400');
      expect(err.message).toContain('videoCodec');
      expect(fishjam.rooms()).toEqual([]);
    });

    it('should delete the room when closeRoom is called', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);

      await adapter.closeRoom(cred, roomId);

      expect(fishjam.rooms()).toEqual([]);
      expect(callsTo((m, p) => m === 'DELETE' && p.endsWith(`/room/${roomId}`))).toHaveLength(1);
    });

    it('should succeed when closeRoom meets a room that is already gone', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      await adapter.closeRoom(cred, roomId);

      await expect(adapter.closeRoom(cred, roomId)).resolves.toBeUndefined();
      expect(callsTo((m) => m === 'DELETE')).toHaveLength(2);
    });

    it('should list every room when listRooms is called', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const a = await seedRoom(cred);
      const b = await seedRoom(cred);

      const rooms = await adapter.listRooms(cred);

      expect(rooms.map((r) => r.externalId).sort()).toEqual([a, b].sort());
      const [call] = fishjam.calls;
      expect(call.method).toBe('GET');
      expect(call.headers.authorization).toBe(`Bearer ${MANAGEMENT_TOKEN}`);
    });

    it('should report the room count when checkHealth reaches the vendor', async () => {
      const cred = credential(fishjam.fishjamUrl);
      await seedRoom(cred);
      await seedRoom(cred);

      await expect(adapter.checkHealth(cred)).resolves.toContain('2 room');
      expect(fishjam.calls.map((c) => c.method)).toEqual(['GET']);
    });

    it('should talk to the API at the root when the URL has a trailing slash (open-source server)', async () => {
      const oss = await startFishjamEmulator({ managementToken: MANAGEMENT_TOKEN, basePath: '' });
      try {
        const cred = credential(`${oss.url}/`);
        const room = await adapter.createRoom(cred, {});
        expect(oss.rooms().map((r) => r.id)).toEqual([room.externalId]);
        expect(oss.calls[0].path).toBe('/room');
      } finally {
        await oss.close();
      }
    });
  });

  describe('peers', () => {
    it('should add a peer and return its credential when issueJoin is called', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);

      const issued = await adapter.issueJoin(cred, join(roomId, { data: '{"seat":3}' }));

      const token = issued.credential.peerToken as string;
      const found = fishjam.peerByToken(token);
      expect(found).toBeDefined();
      expect(found?.roomId).toBe(roomId);
      expect(issued.externalId).toBe(found?.peer.id);
      expect(issued.credential).toEqual({
        peerToken: token,
        peerWebsocketUrl: expect.stringMatching(/^ws:\/\/127\.0\.0\.1:\d+\/.+/),
        peerId: found?.peer.id,
        roomId,
      });
      expect(found?.peer.metadata).toEqual({ name: 'Ada', data: '{"seat":3}' });
      expect(fishjam.rooms()[0].peers).toHaveLength(1);
      const [call] = callsTo(isAddPeer);
      expect(call.headers.authorization).toBe(`Bearer ${MANAGEMENT_TOKEN}`);
      expect(call.body).toMatchObject({ type: 'webrtc' });
      const expiresIn = (issued.expiresAt?.getTime() ?? 0) - Date.now();
      expect(expiresIn).toBeGreaterThan(86_400_000 - 60_000);
      expect(expiresIn).toBeLessThanOrEqual(86_400_000);
    });

    it('should name the peer by its identity when there is no display name', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      const issued = await adapter.issueJoin(cred, join(roomId, { displayName: null }));
      expect(fishjam.peerByToken(issued.credential.peerToken as string)?.peer.metadata).toEqual({
        name: 'user-1',
      });
    });

    it('should remove the peer when revokeJoin is called', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      const issued = await adapter.issueJoin(cred, join(roomId));
      const token = issued.credential.peerToken as string;
      fishjam.calls.length = 0;

      await adapter.revokeJoin(cred, roomId, issued.externalId as string);

      expect(fishjam.peerByToken(token)).toBeUndefined();
      expect(fishjam.rooms()[0].peers).toEqual([]);
      expect(fishjam.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
        `DELETE ${new URL(fishjam.fishjamUrl).pathname}/room/${roomId}/peer/${String(issued.externalId)}`,
      ]);
    });

    it('should succeed when revokeJoin meets a peer or room that is already gone', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      const issued = await adapter.issueJoin(cred, join(roomId));
      const peerId = issued.externalId as string;
      await adapter.revokeJoin(cred, roomId, peerId);

      await expect(adapter.revokeJoin(cred, roomId, peerId)).resolves.toBeUndefined();
      await adapter.closeRoom(cred, roomId);
      await expect(adapter.revokeJoin(cred, roomId, peerId)).resolves.toBeUndefined();
    });

    it('should reject with PROVIDER_REJECTED when the room does not exist', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const err = await rejection(adapter.issueJoin(cred, join(randomUUID())));
      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_404');
      expect(callsTo(isAddPeer)).toHaveLength(1);
    });

    it('should reject with PROVIDER_UNAVAILABLE and call once when the room is full (503)', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const { externalId: roomId } = await adapter.createRoom(cred, { options: { maxPeers: 1 } });
      await adapter.issueJoin(cred, join(roomId));
      fishjam.calls.length = 0;

      const err = await rejection(adapter.issueJoin(cred, join(roomId, { identity: 'u2' })));
      await sleep(400);

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('status_503');
      expect(callsTo(isAddPeer)).toHaveLength(1);
      expect(fishjam.rooms()[0].peers).toHaveLength(1);
    });
  });

  describe('livestream tokens', () => {
    const isToken = (m: string, p: string) =>
      m === 'POST' && /\/room\/[^/]+\/(viewer|streamer)$/.test(p);
    const livestream = { livestream: true };

    async function seedLivestream(cred: ResolvedCredential, isPublic?: boolean): Promise<string> {
      const { externalId } = await adapter.createRoom(cred, {
        options: {
          roomType: 'livestream',
          ...(isPublic === undefined ? {} : { public: isPublic }),
        },
      });
      fishjam.calls.length = 0;
      return externalId;
    }

    it.each([
      [ParticipantRole.SUBSCRIBER, 'viewer'],
      [ParticipantRole.PUBLISHER, 'streamer'],
    ])(
      'should mint a token the emulator admits, in one bodiless call and no peer, when a %s asks with the livestream option',
      async (role, kind) => {
        const cred = credential(fishjam.fishjamUrl);
        const roomId = await seedLivestream(cred);

        const issued = await adapter.issueJoin(cred, join(roomId, { role, options: livestream }));

        const token = issued.credential.token as string;
        expect(issued).toEqual({
          externalId: null,
          expiresAt: null,
          credential: { token, roomId, livestream: kind },
        });
        expect(fishjam.livestreamByToken(token)).toMatchObject({ roomId, role: kind });
        expect(fishjam.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
          `POST ${new URL(fishjam.fishjamUrl).pathname}/room/${roomId}/${kind}`,
        ]);
        expect(fishjam.calls[0].headers.authorization).toBe(`Bearer ${MANAGEMENT_TOKEN}`);
        expect(fishjam.calls[0].rawBody).toBe('');
        expect(fishjam.rooms()[0].peers).toEqual([]);
      },
    );

    it('should create a public livestream room when the public option is given', async () => {
      const cred = credential(fishjam.fishjamUrl);
      await seedLivestream(cred, true);
      expect(fishjam.rooms()[0].config).toMatchObject({ roomType: 'livestream', public: true });
    });

    it('should refuse a MODERATOR with BAD_USER_INPUT and call nothing', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedLivestream(cred);
      const err = await rejection(
        adapter.issueJoin(
          cred,
          join(roomId, { role: ParticipantRole.MODERATOR, options: livestream }),
        ),
      );
      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(err.field).toBe('role');
      expect(fishjam.calls).toEqual([]);
    });

    it('should reject with not_livestream, not a vendor 404, when the room is of another type', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);

      const err = await rejection(
        adapter.issueJoin(
          cred,
          join(roomId, { role: ParticipantRole.SUBSCRIBER, options: livestream }),
        ),
      );

      expect(err.reason).toBe(NOT_LIVESTREAM);
      expect(err.code).toBe(ErrorCode.CONFLICT);
      expect(fishjam.calls.map((c) => c.method)).toEqual(['POST', 'GET']);
      expect(fishjam.rooms().map((r) => r.id)).toEqual([roomId]);
    });

    it('should reject with PROVIDER_REJECTED status_404 when Fishjam no longer has the room', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const err = await rejection(
        adapter.issueJoin(
          cred,
          join(randomUUID(), { role: ParticipantRole.SUBSCRIBER, options: livestream }),
        ),
      );
      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_404');
    });

    it('should call exactly once and not retry when minting a token meets one 500', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedLivestream(cred);
      fishjam.faults.set({ status: 500, times: 1, match: isToken });

      const err = await rejection(
        adapter.issueJoin(
          cred,
          join(roomId, { role: ParticipantRole.SUBSCRIBER, options: livestream }),
        ),
      );
      await sleep(400); // a (wrong) delayed retry would land here

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(callsTo(isToken)).toHaveLength(1);
    });

    it('should reject with PROVIDER_UNAVAILABLE when the answer has no token', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedLivestream(cred);
      fishjam.faults.set({ status: 201, body: '{"data":{}}', match: isToken });
      const err = await rejection(
        adapter.issueJoin(
          cred,
          join(roomId, { role: ParticipantRole.PUBLISHER, options: livestream }),
        ),
      );
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('malformed_response');
    });
  });

  describe('authentication', () => {
    it('should reject with a sanitised PROVIDER_REJECTED when the management token is wrong', async () => {
      const wrong = 'fj-wrong-9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d';
      const cred = credential(fishjam.fishjamUrl, wrong);

      const err = await rejection(adapter.createRoom(cred, {}));

      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_401');
      expect(err.message).toContain('Invalid token');
      expect(err.message).not.toContain(wrong);
      expect(err.message).not.toContain(MANAGEMENT_TOKEN);
      expect(err.message).not.toContain(fishjam.url);
      expect(fishjam.rooms()).toEqual([]);
      expect(fishjam.calls[0].headers.authorization).toBe(`Bearer ${wrong}`);
    });

    it('should reject listRooms and checkHealth with PROVIDER_REJECTED when the token is wrong', async () => {
      const cred = credential(fishjam.fishjamUrl, 'nope');
      expect((await rejection(adapter.listRooms(cred))).code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect((await rejection(adapter.checkHealth(cred))).code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(fishjam.calls).toHaveLength(2); // a refusal is not retried
    });

    it('should not open the breaker when the vendor keeps refusing the token', async () => {
      const id = randomUUID();
      for (let i = 0; i < 4; i++) {
        const err = await rejection(adapter.listRooms(credential(fishjam.fishjamUrl, 'bad', id)));
        expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      }
      await expect(
        adapter.listRooms(credential(fishjam.fishjamUrl, MANAGEMENT_TOKEN, id)),
      ).resolves.toEqual([]);
    });
  });

  describe('faults (docs/security.md S14)', () => {
    it('should call exactly once and not retry when adding a peer meets one 500', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      fishjam.faults.set({ status: 500, times: 1 });

      const err = await rejection(adapter.issueJoin(cred, join(roomId)));
      await sleep(400); // a (wrong) delayed retry would land here

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(callsTo(isAddPeer)).toHaveLength(1);
      expect(fishjam.calls).toHaveLength(1);
      expect(fishjam.rooms()[0].peers).toEqual([]);
    });

    it.each([
      ['a connection reset', { reset: true }, 'connection_failed'],
      ['malformed JSON', { malformedJson: true }, 'malformed_response'],
      ['no answer', { hang: true }, 'timeout'],
    ])(
      'should reject with PROVIDER_UNAVAILABLE and call once when adding a peer meets %s',
      async (_label, fault, reason) => {
        const cred = credential(fishjam.fishjamUrl);
        const roomId = await seedRoom(cred);
        fishjam.faults.set({ ...fault, match: isAddPeer });

        const err = await rejection(adapter.issueJoin(cred, join(roomId)));
        await sleep(300);

        expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
        expect(err.reason).toBe(reason);
        expect(callsTo(isAddPeer)).toHaveLength(1);
      },
    );

    it('should call exactly once when creating a room meets one 500', async () => {
      const cred = credential(fishjam.fishjamUrl);
      fishjam.faults.set({ status: 500, times: 1 });

      const err = await rejection(adapter.createRoom(cred, {}));
      await sleep(400);

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(callsTo(isCreateRoom)).toHaveLength(1);
    });

    it('should retry once and succeed when deleting a room meets one 500', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      fishjam.faults.set({ status: 500, times: 1 });

      await adapter.closeRoom(cred, roomId);

      expect(callsTo((m) => m === 'DELETE')).toHaveLength(2);
      expect(fishjam.rooms()).toEqual([]);
    });

    it('should retry once and succeed when deleting a peer meets one 500', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      const issued = await adapter.issueJoin(cred, join(roomId));
      fishjam.calls.length = 0;
      fishjam.faults.set({ status: 500, times: 1 });

      await adapter.revokeJoin(cred, roomId, issued.externalId as string);

      expect(callsTo((m) => m === 'DELETE')).toHaveLength(2);
      expect(fishjam.peerByToken(issued.credential.peerToken as string)).toBeUndefined();
    });

    it('should retry at most once when a delete keeps meeting 500', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      fishjam.faults.set({ status: 500 });

      const err = await rejection(adapter.closeRoom(cred, roomId));
      await sleep(400);

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(callsTo((m) => m === 'DELETE')).toHaveLength(2);
      expect(fishjam.rooms()).toHaveLength(1);
    });

    it('should retry once and succeed when listing rooms meets one 503', async () => {
      const cred = credential(fishjam.fishjamUrl);
      await seedRoom(cred);
      fishjam.faults.set({ status: 503, times: 1 });

      await expect(adapter.listRooms(cred)).resolves.toHaveLength(1);
      expect(fishjam.calls).toHaveLength(2);
    });

    it('should reject with PROVIDER_UNAVAILABLE (timeout) when the vendor hangs', async () => {
      const cred = credential(fishjam.fishjamUrl);
      fishjam.faults.set({ hang: true });

      const started = Date.now();
      const err = await rejection(adapter.checkHealth(cred));
      const elapsed = Date.now() - started;

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('timeout');
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
    });

    it('should reject with PROVIDER_UNAVAILABLE (timeout) when latency exceeds the timeout', async () => {
      const cred = credential(fishjam.fishjamUrl);
      fishjam.faults.set({ latencyMs: 3000 });

      const err = await rejection(adapter.createRoom(cred, {}));

      expect(err.reason).toBe('timeout');
    });

    it('should abort the call when the caller signal aborts', async () => {
      const cred = credential(fishjam.fishjamUrl);
      const roomId = await seedRoom(cred);
      fishjam.faults.set({ hang: true });
      const ctrl = new AbortController();

      const pending = adapter.issueJoin(cred, join(roomId), { signal: ctrl.signal });
      while (fishjam.calls.length === 0) await sleep(5);
      ctrl.abort();

      const err = await rejection(pending);
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('cancelled'); // the caller's abort, not our timeout
    });

    it('should fail fast without calling when 3 failures opened the breaker, then recover', async () => {
      const cred = credential(fishjam.fishjamUrl);
      fishjam.faults.set({ status: 500 });
      for (let i = 0; i < 3; i++) {
        expect((await rejection(adapter.createRoom(cred, {}))).reason).toBe('status_500');
      }
      expect(fishjam.calls).toHaveLength(3);

      const open = await rejection(adapter.createRoom(cred, {}));
      expect(open.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(open.reason).toBe('circuit_open');
      const openList = await rejection(adapter.listRooms(cred));
      expect(openList.reason).toBe('circuit_open');
      expect(fishjam.calls).toHaveLength(3);

      fishjam.faults.clear();
      await sleep(BREAKER_OPEN_MS + 100);
      const room = await adapter.createRoom(cred, {});
      expect(fishjam.rooms().map((r) => r.id)).toEqual([room.externalId]);
      await expect(adapter.listRooms(cred)).resolves.toHaveLength(1);
      expect(fishjam.calls).toHaveLength(5);
    });

    it('should keep another credential working when one credential opened its breaker', async () => {
      const broken = credential(fishjam.fishjamUrl);
      fishjam.faults.set({ status: 500, match: isCreateRoom });
      for (let i = 0; i < 3; i++) await rejection(adapter.createRoom(broken, {}));
      expect((await rejection(adapter.createRoom(broken, {}))).reason).toBe('circuit_open');

      await expect(adapter.listRooms(credential(fishjam.fishjamUrl))).resolves.toEqual([]);
    });
  });

  describe('input validation (docs/security.md S9)', () => {
    const bad = [
      'a/b',
      '..',
      '../room',
      'a%2Fb',
      'a?x=1',
      'a#b',
      'a b',
      '',
      'abc\u200b',
      'abc\u202e',
      'a\r\nb',
      'ü',
      'x'.repeat(101),
    ];

    it.each(bad)(
      'should refuse issueJoin with BAD_USER_INPUT and no call when the room id is %j',
      async (id) => {
        const err = await rejection(adapter.issueJoin(credential(fishjam.fishjamUrl), join(id)));
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe('roomId');
        expect(fishjam.calls).toHaveLength(0);
      },
    );

    it.each(bad)(
      'should refuse closeRoom with BAD_USER_INPUT and no call when the room id is %j',
      async (id) => {
        const err = await rejection(adapter.closeRoom(credential(fishjam.fishjamUrl), id));
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(fishjam.calls).toHaveLength(0);
      },
    );

    it.each(bad)(
      'should refuse revokeJoin with BAD_USER_INPUT and no call when an id is %j',
      async (id) => {
        const cred = credential(fishjam.fishjamUrl);
        const room = await rejection(adapter.revokeJoin(cred, id, randomUUID()));
        expect(room.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(room.field).toBe('roomId');
        const peer = await rejection(adapter.revokeJoin(cred, randomUUID(), id));
        expect(peer.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(peer.field).toBe('peerId');
        expect(fishjam.calls).toHaveLength(0);
      },
    );
  });
});
