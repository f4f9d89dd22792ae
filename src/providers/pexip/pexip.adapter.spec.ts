/**
 * Contract tests for the Pexip VPaaS adapter against the Pexip emulator over real HTTP on 127.0.0.1
 * (docs/vendors.md#pexip-vpaas, docs/security.md S9 and S14): the RS384 client assertion and its
 * exchange, access-token caching per credential, meetings and participants, error mapping, faults,
 * and name validation before any call.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { loadConfig } from '../../common/config';
import { DomainException, ErrorCode } from '../../common/errors';
import {
  JWT_BEARER_ASSERTION_TYPE,
  PEXIP_SCOPES,
  type PexipEmulator,
  startPexipEmulator,
} from '../../../test/emulators/pexip';
import { type RecordedCall } from '../../../test/emulators/faults';
import { VendorHttp } from '../http/vendor-http';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import { type JoinRequest, type ResolvedCredential } from '../video-provider';
import { PexipAdapter } from './pexip.adapter';

/** Vendor-call timeout here: long enough for a loaded CI machine, short enough for hang tests. */
const TIMEOUT_MS = 2500;
const CLIENT_ID = 'euopeke6qei65m5prjcvnqv2lq';
const OTHER_CLIENT_ID = 'zq3v7dd2wbm4kqyq6n5u2mqf4a';

function keyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

// 2048-bit keys keep the suite fast; the emulator accepts ≥ 2048 and the size plays no part here.
const registered = keyPair();
const other = keyPair();
const unregistered = keyPair();

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

const isToken = (m: string, p: string) => m === 'POST' && p === '/oauth/token';
const isMeetings = (m: string, p: string) => m === 'POST' && /^\/v1\/meetings\/?$/.test(p);
const isParticipants = (m: string, p: string) =>
  m === 'POST' && /^\/v1\/meetings\/[^/]+\/participants$/.test(p);

describe('PexipAdapter (against the Pexip VPaaS emulator)', () => {
  let pexip: PexipEmulator;
  let adapter: PexipAdapter;
  const tenantId = randomUUID();

  const http = new VendorHttp(
    loadConfig({
      ROOMKEY_DATA_DIR: 'memory://',
      ROOMKEY_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
      ROOMKEY_PROVIDER_BREAKER_FAILURES: '3',
      ROOMKEY_PROVIDER_BREAKER_OPEN_MS: '500',
    }),
  );

  function credential(
    apiAddress: string,
    overrides: { clientId?: string; privateKeyPem?: string } = {},
  ): ResolvedCredential {
    return {
      id: randomUUID(),
      tenantId,
      kind: ProviderKind.PEXIP,
      config: { apiAddress, clientId: overrides.clientId ?? CLIENT_ID },
      secrets: { privateKeyPem: overrides.privateKeyPem ?? registered.privatePem },
    };
  }

  const join = (meetingId: string, extra: Partial<JoinRequest> = {}): JoinRequest => ({
    roomExternalId: meetingId,
    role: ParticipantRole.PUBLISHER,
    identity: 'user-1',
    displayName: 'Ada',
    ttlSeconds: 3600,
    ...extra,
  });

  const tokenCalls = (): RecordedCall[] => pexip.calls.filter((c) => isToken(c.method, c.path));
  const callsTo = (match: (m: string, p: string) => boolean): RecordedCall[] =>
    pexip.calls.filter((c) => match(c.method, c.path));

  beforeAll(async () => {
    // First use of fetch and of RS384 signing is slow; keep it out of the timeout budget.
    const warm = await startPexipEmulator({
      clientId: CLIENT_ID,
      publicKeyPem: registered.publicPem,
    });
    try {
      await new PexipAdapter(http).checkHealth(credential(warm.url));
    } finally {
      await warm.close();
    }
  });

  beforeEach(async () => {
    pexip = await startPexipEmulator({ clientId: CLIENT_ID, publicKeyPem: registered.publicPem });
    adapter = new PexipAdapter(http);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await pexip.close();
  });

  describe('happy path', () => {
    it('should create a meeting in the emulator when createRoom is called', async () => {
      const cred = credential(pexip.url);

      const room = await adapter.createRoom(cred, {});

      expect(room.externalId).toMatch(/^[a-z2-7]{26}$/);
      expect(pexip.meetings().map((m) => m.id)).toEqual([room.externalId]);
      expect(room.details).toMatchObject({ id: room.externalId, status: 'ready' });
      const [create] = callsTo(isMeetings);
      expect(create.path).toBe('/v1/meetings/');
      expect(create.headers.authorization).toMatch(/^Bearer \S+$/);
    });

    it('should add a participant and return its credential when issueJoin is called', async () => {
      const cred = credential(pexip.url);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});

      const issued = await adapter.issueJoin(cred, join(meetingId));

      const participantId = issued.credential.participantId as string;
      const participant = pexip.participant(meetingId, participantId);
      expect(participant).toBeDefined();
      expect(issued.externalId).toBe(participantId);
      expect(issued.credential).toEqual({
        apiAddress: pexip.url,
        meetingId,
        participantId,
        participantSecret: participant?.participant_secret,
      });
      expect(issued.credential.participantSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('should accept participant_id when the vendor names the participant id field that way', async () => {
      const alt = await startPexipEmulator({
        clientId: CLIENT_ID,
        publicKeyPem: registered.publicPem,
        participantIdField: 'participant_id',
      });
      try {
        const cred = credential(alt.url);
        const { externalId: meetingId } = await adapter.createRoom(cred, {});
        const issued = await adapter.issueJoin(cred, join(meetingId));
        expect(alt.participant(meetingId, issued.externalId as string)).toBeDefined();
      } finally {
        await alt.close();
      }
    });

    it('should use the API address without a trailing slash when the config has one', async () => {
      const cred = credential(`${pexip.url}/`);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});
      const issued = await adapter.issueJoin(cred, join(meetingId));
      expect(issued.credential.apiAddress).toBe(pexip.url);
      expect(pexip.exchanges()).toBe(1);
    });

    it('should end the meeting in the emulator when closeRoom is called', async () => {
      const cred = credential(pexip.url);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});

      await adapter.closeRoom(cred, meetingId);

      expect(pexip.meetings()).toEqual([]);
      expect(callsTo((m, p) => m === 'DELETE' && p === `/v1/meetings/${meetingId}`)).toHaveLength(
        1,
      );
    });

    it('should succeed when closeRoom meets a meeting that is already gone', async () => {
      const cred = credential(pexip.url);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});
      expect(pexip.endMeeting(meetingId)).toBe(true);

      await expect(adapter.closeRoom(cred, meetingId)).resolves.toBeUndefined();
      expect(callsTo((m) => m === 'DELETE')).toHaveLength(1);
    });

    it('should remove the participant in the emulator when revokeJoin is called', async () => {
      const cred = credential(pexip.url);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});
      const issued = await adapter.issueJoin(cred, join(meetingId));
      const participantId = issued.externalId as string;

      await adapter.revokeJoin(cred, meetingId, participantId);

      expect(pexip.participant(meetingId, participantId)).toBeUndefined();
      expect(
        callsTo(
          (m, p) =>
            m === 'DELETE' && p === `/v1/meetings/${meetingId}/participants/${participantId}`,
        ),
      ).toHaveLength(1);
    });

    it('should succeed when revokeJoin meets a participant that is already gone', async () => {
      const cred = credential(pexip.url);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});
      const issued = await adapter.issueJoin(cred, join(meetingId));
      await adapter.revokeJoin(cred, meetingId, issued.externalId as string);

      await expect(
        adapter.revokeJoin(cred, meetingId, issued.externalId as string),
      ).resolves.toBeUndefined();
      pexip.endMeeting(meetingId);
      await expect(
        adapter.revokeJoin(cred, meetingId, issued.externalId as string),
      ).resolves.toBeUndefined();
      expect(callsTo((m) => m === 'DELETE')).toHaveLength(3);
    });

    it('should list no rooms without calling when listRooms is called (no listing API)', async () => {
      await expect(adapter.listRooms()).resolves.toEqual([]);
      expect(pexip.calls).toHaveLength(0);
    });

    it('should exchange a fresh token every time checkHealth is called', async () => {
      const cred = credential(pexip.url);
      await expect(adapter.checkHealth(cred)).resolves.toEqual(expect.any(String));
      expect(pexip.exchanges()).toBe(1);
      await adapter.checkHealth(cred);
      expect(pexip.exchanges()).toBe(2);
      expect(tokenCalls()).toHaveLength(2);
    });
  });

  describe('client assertion', () => {
    it('should send an RS384 assertion with the contract claims when it exchanges a token', async () => {
      const cred = credential(pexip.url);
      const before = Math.floor(Date.now() / 1000);

      await adapter.createRoom(cred, {});

      expect(pexip.exchanges()).toBe(1); // the emulator verified signature, claims and lifetime
      const [call] = tokenCalls();
      expect(call.headers['content-type']).toBe('application/x-www-form-urlencoded');
      const form = new URLSearchParams(call.rawBody);
      expect([...form.keys()].sort()).toEqual([
        'client_assertion',
        'client_assertion_type',
        'grant_type',
      ]);
      expect(form.get('grant_type')).toBe('client_credentials');
      expect(form.get('client_assertion_type')).toBe(JWT_BEARER_ASSERTION_TYPE);

      const assertion = form.get('client_assertion') as string;
      expect(decodeProtectedHeader(assertion).alg).toBe('RS384');
      const claims = decodeJwt(assertion);
      expect(claims.iss).toBe(CLIENT_ID);
      expect(claims.sub).toBe(CLIENT_ID);
      expect(claims.aud).toBe(`${pexip.url}/oauth/token`);
      expect(String(claims.scope).split(' ').sort()).toEqual([...PEXIP_SCOPES].sort());
      expect(typeof claims.exp).toBe('number');
      expect(typeof claims.iat).toBe('number');
      const exp = claims.exp as number;
      const iat = claims.iat as number;
      expect(exp - iat).toBeGreaterThan(0);
      expect(exp - iat).toBeLessThanOrEqual(60);
      expect(exp).toBeLessThanOrEqual(before + 61);
      expect(iat).toBeGreaterThanOrEqual(before - 1);
      expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('should use a new jti when it exchanges again', async () => {
      const cred = credential(pexip.url);
      await adapter.checkHealth(cred);
      await adapter.checkHealth(cred);
      const jtis = tokenCalls().map(
        (c) => decodeJwt(new URLSearchParams(c.rawBody).get('client_assertion') as string).jti,
      );
      expect(jtis).toHaveLength(2);
      expect(jtis[0]).not.toBe(jtis[1]);
      expect(pexip.exchanges()).toBe(2);
    });

    it('should reject with PROVIDER_REJECTED and create nothing when the key is not the registered one', async () => {
      const cred = credential(pexip.url, { privateKeyPem: unregistered.privatePem });

      const err = await rejection(adapter.createRoom(cred, {}));

      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_401');
      expect(err.message).not.toMatch(/eyJ/); // no assertion echoed back
      expect(pexip.exchanges()).toBe(0);
      expect(pexip.meetings()).toEqual([]);
      expect(callsTo(isMeetings)).toHaveLength(0);
    });

    it('should reject with PROVIDER_REJECTED when checkHealth uses an unknown client id', async () => {
      const cred = credential(pexip.url, { clientId: 'not-registered' });
      const err = await rejection(adapter.checkHealth(cred));
      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(pexip.exchanges()).toBe(0);
    });
  });

  describe('access-token caching', () => {
    it('should exchange exactly once when 20 joins run concurrently on one credential', async () => {
      const cred = credential(pexip.url);
      const meetingId = await seedMeeting();
      const before = pexip.exchanges();

      const issued = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          adapter.issueJoin(cred, join(meetingId, { identity: `u${i}` })),
        ),
      );

      expect(pexip.exchanges() - before).toBe(1);
      expect(tokenCalls()).toHaveLength(1);
      expect(new Set(issued.map((j) => j.externalId)).size).toBe(20);
      for (const j of issued)
        expect(pexip.participant(meetingId, j.externalId as string)).toBeDefined();
      const auths = new Set(callsTo(isParticipants).map((c) => c.headers.authorization));
      expect(auths.size).toBe(1);
    });

    it('should reuse the cached token when later calls follow', async () => {
      const cred = credential(pexip.url);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});
      await adapter.issueJoin(cred, join(meetingId));
      await adapter.issueJoin(cred, join(meetingId));
      await adapter.createRoom(cred, {});
      expect(pexip.exchanges()).toBe(1);
      expect(tokenCalls()).toHaveLength(1);
    });

    it('should exchange again on the next call when a 401 shows the cached token expired', async () => {
      const cred = credential(pexip.url);
      const { externalId: meetingId } = await adapter.createRoom(cred, {});
      expect(pexip.exchanges()).toBe(1);

      pexip.expireAccessTokens();
      const err = await rejection(adapter.issueJoin(cred, join(meetingId)));
      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.reason).toBe('status_401');

      const issued = await adapter.issueJoin(cred, join(meetingId));
      expect(pexip.participant(meetingId, issued.externalId as string)).toBeDefined();
      expect(pexip.exchanges()).toBe(2);
    });

    it('should exchange again before the vendor refuses when the cached token is about to expire', async () => {
      const cred = credential(pexip.url); // the emulator's tokens live 3600 s
      await adapter.createRoom(cred, {});
      expect(pexip.exchanges()).toBe(1);

      const realNow = Date.now.bind(Date);
      jest.spyOn(Date, 'now').mockImplementation(() => realNow() + 3590_000); // 10 s left
      await adapter.createRoom(cred, {});

      expect(pexip.exchanges()).toBe(2);
      expect(callsTo(isMeetings)).toHaveLength(2); // no 401 round trip was needed
      expect(pexip.meetings()).toHaveLength(2);
    });

    it('should reuse a short-lived token within its lifetime when expires_in is 30 s', async () => {
      const short = await startPexipEmulator({
        clientId: CLIENT_ID,
        publicKeyPem: registered.publicPem,
        expiresIn: 30,
      });
      try {
        const cred = credential(short.url);
        await adapter.createRoom(cred, {});
        await adapter.createRoom(cred, {});
        await adapter.createRoom(cred, {});
        // "never mint an assertion per request" (docs/vendors.md#pexip-vpaas)
        expect(short.exchanges()).toBe(1);
      } finally {
        await short.close();
      }
    });

    it('should exchange once per credential when two credentials are used', async () => {
      pexip.registerClient(OTHER_CLIENT_ID, other.publicPem);
      const a = credential(pexip.url);
      const b = credential(pexip.url, {
        clientId: OTHER_CLIENT_ID,
        privateKeyPem: other.privatePem,
      });

      await Promise.all([
        adapter.createRoom(a, {}),
        adapter.createRoom(b, {}),
        adapter.createRoom(a, {}),
        adapter.createRoom(b, {}),
      ]);

      expect(pexip.exchanges()).toBe(2);
      const issuers = tokenCalls().map(
        (c) => decodeJwt(new URLSearchParams(c.rawBody).get('client_assertion') as string).iss,
      );
      expect(issuers.sort()).toEqual([CLIENT_ID, OTHER_CLIENT_ID].sort());
      const auths = new Set(callsTo(isMeetings).map((c) => c.headers.authorization));
      expect(auths.size).toBe(2);
    });

    it('should still serve other callers when the caller that started the shared exchange aborts', async () => {
      const cred = credential(pexip.url);
      const meetingId = await seedMeeting();
      pexip.faults.set({ latencyMs: 200, times: 1, match: isToken });
      const ctrl = new AbortController();

      const first = adapter.issueJoin(cred, join(meetingId), { signal: ctrl.signal });
      const second = adapter.issueJoin(cred, join(meetingId, { identity: 'u2' }));
      await sleep(50);
      ctrl.abort();

      await rejection(first);
      const issued = await second;
      expect(pexip.participant(meetingId, issued.externalId as string)).toBeDefined();
    });
  });

  describe('faults (docs/security.md S14)', () => {
    /** A credential whose token is already cached, so faults hit the API call. */
    async function warmCredential(): Promise<ResolvedCredential> {
      const cred = credential(pexip.url);
      await adapter.authorization(cred);
      pexip.calls.length = 0;
      return cred;
    }

    it.each([
      ['a 500', { status: 500 }, 'status_500'],
      ['a 503', { status: 503 }, 'status_503'],
      ['a connection reset', { reset: true }, 'connection_failed'],
      ['malformed JSON', { malformedJson: true }, 'malformed_response'],
      ['no answer', { hang: true }, 'timeout'],
    ])(
      'should reject with PROVIDER_UNAVAILABLE when creating a meeting meets %s',
      async (_label, fault, reason) => {
        const cred = await warmCredential();
        pexip.faults.set({ ...fault, match: isMeetings });

        const err = await rejection(adapter.createRoom(cred, {}));

        expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
        expect(err.reason).toBe(reason);
        expect(callsTo(isMeetings)).toHaveLength(1);
      },
    );

    it('should reject with PROVIDER_UNAVAILABLE when adding a participant meets malformed JSON', async () => {
      const cred = await warmCredential();
      const meetingId = await seedMeeting();
      pexip.faults.set({ malformedJson: true, match: isParticipants });
      const err = await rejection(adapter.issueJoin(cred, join(meetingId)));
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
    });

    it('should reject with PROVIDER_UNAVAILABLE when the token endpoint does not answer', async () => {
      const cred = credential(pexip.url);
      pexip.faults.set({ hang: true, match: isToken });
      const err = await rejection(adapter.createRoom(cred, {}));
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('timeout');
      expect(callsTo(isMeetings)).toHaveLength(0);
    });

    it('should call once and not retry when creating a meeting meets one 500', async () => {
      const cred = await warmCredential();
      pexip.faults.set({ status: 500, times: 1, match: isMeetings });

      await rejection(adapter.createRoom(cred, {}));
      await sleep(400);

      expect(callsTo(isMeetings)).toHaveLength(1);
      expect(pexip.meetings()).toEqual([]);
    });

    it('should call once and not retry when adding a participant meets one 500', async () => {
      const cred = await warmCredential();
      const meetingId = await seedMeeting();
      pexip.faults.set({ status: 500, times: 1, match: isParticipants });

      const err = await rejection(adapter.issueJoin(cred, join(meetingId)));
      await sleep(400);

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(callsTo(isParticipants)).toHaveLength(1);
      expect(pexip.meetings()[0].participants).toEqual([]);
    });

    it('should call once and not retry when the token exchange meets one 500', async () => {
      const cred = credential(pexip.url);
      pexip.faults.set({ status: 500, times: 1, match: isToken });

      const err = await rejection(adapter.createRoom(cred, {}));
      await sleep(400);

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(tokenCalls()).toHaveLength(1);
      expect(callsTo(isMeetings)).toHaveLength(0);

      // The failed exchange is not cached: the next call exchanges and succeeds.
      await adapter.createRoom(cred, {});
      expect(pexip.exchanges()).toBe(1);
    });

    it('should retry once and succeed when ending a meeting meets one 500', async () => {
      const cred = await warmCredential();
      const { externalId: meetingId } = await adapter.createRoom(cred, {});
      pexip.faults.set({ status: 500, times: 1, match: (m) => m === 'DELETE' });

      await adapter.closeRoom(cred, meetingId);

      expect(callsTo((m) => m === 'DELETE')).toHaveLength(2);
      expect(pexip.meetings()).toEqual([]);
    });

    it('should fail fast without calling when the breaker opened after 3 failures, then recover', async () => {
      const cred = await warmCredential();
      pexip.faults.set({ status: 500, match: isMeetings });
      for (let i = 0; i < 3; i++) await rejection(adapter.createRoom(cred, {}));
      expect(callsTo(isMeetings)).toHaveLength(3);

      const open = await rejection(adapter.createRoom(cred, {}));
      expect(open.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(open.reason).toBe('circuit_open');
      expect(callsTo(isMeetings)).toHaveLength(3);

      pexip.faults.clear();
      await sleep(600);
      await expect(adapter.createRoom(cred, {})).resolves.toMatchObject({
        externalId: expect.any(String),
      });
      expect(pexip.meetings()).toHaveLength(1);
    });
  });

  describe('input validation (docs/security.md S9)', () => {
    const bad = [
      'a/b',
      '..',
      '../admin',
      'a%2Fb',
      'a?b',
      'a#b',
      'a b',
      '',
      'abc\u200b',
      'abc\u202e',
      'a\nb',
      'é',
      'x'.repeat(101),
    ];

    it.each(bad)(
      'should refuse issueJoin with BAD_USER_INPUT and no call when the meeting id is %j',
      async (id) => {
        const err = await rejection(adapter.issueJoin(credential(pexip.url), join(id)));
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe('meetingId');
        expect(pexip.calls).toHaveLength(0);
      },
    );

    it.each(bad)(
      'should refuse closeRoom with BAD_USER_INPUT and no call when the meeting id is %j',
      async (id) => {
        const err = await rejection(adapter.closeRoom(credential(pexip.url), id));
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(pexip.calls).toHaveLength(0);
      },
    );

    it.each(bad)(
      'should refuse revokeJoin with BAD_USER_INPUT and no call when an id is %j',
      async (id) => {
        const cred = credential(pexip.url);
        expect((await rejection(adapter.revokeJoin(cred, id, 'participant1'))).code).toBe(
          ErrorCode.BAD_USER_INPUT,
        );
        expect((await rejection(adapter.revokeJoin(cred, 'meeting1', id))).code).toBe(
          ErrorCode.BAD_USER_INPUT,
        );
        expect(pexip.calls).toHaveLength(0);
      },
    );
  });

  /**
   * A meeting created by another credential through another adapter instance; its calls are
   * cleared from the recorder (the emulator's exchange counter still counts its exchange).
   */
  async function seedMeeting(): Promise<string> {
    const seeder = new PexipAdapter(http);
    const { externalId } = await seeder.createRoom(credential(pexip.url), {});
    pexip.calls.length = 0;
    return externalId;
  }
});
