/**
 * Contract tests for the Red5 Pro adapter (docs/vendors.md#red5-pro,
 * docs/security.md S9): credentials are minted locally — a high-entropy token and a username/password
 * pair bound to a stream and a type — with the lifetime and stream name validated, and no network.
 */
import { randomUUID } from 'node:crypto';
import { DomainException, ErrorCode } from '../../common/errors';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import { type JoinRequest, type ResolvedCredential } from '../video-provider';
import { Red5Adapter } from './red5.adapter';

/** Resolves with the rejection of `p` (fails the test when `p` resolves). */
async function rejection(p: () => Promise<unknown>): Promise<DomainException> {
  let err: unknown;
  try {
    await p();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(DomainException);
  return err as DomainException;
}

interface Red5Credential {
  streamId: string;
  type: string;
  username: string;
  password: string;
  token: string;
}

describe('Red5Adapter', () => {
  const adapter = new Red5Adapter();
  let fetchSpy: jest.SpyInstance;

  function credential(
    config: Record<string, unknown> = { tokenTtlSeconds: 600 },
  ): ResolvedCredential {
    return {
      id: randomUUID(),
      tenantId: randomUUID(),
      kind: ProviderKind.RED5,
      config,
      secrets: {},
    };
  }

  const join = (extra: Partial<JoinRequest> = {}): JoinRequest => ({
    roomExternalId: 'stream_1-A',
    role: ParticipantRole.PUBLISHER,
    identity: 'user-1',
    displayName: 'Ada',
    ttlSeconds: 300,
    ...extra,
  });

  async function issue(
    req: Partial<JoinRequest> = {},
    cred = credential(),
  ): Promise<Red5Credential> {
    return (await adapter.issueJoin(cred, join(req))).credential as unknown as Red5Credential;
  }

  beforeEach(() => {
    fetchSpy = jest.spyOn(globalThis, 'fetch');
  });

  afterEach(() => {
    // No network: Red5 calls Roomkey, never the other way round.
    expect(fetchSpy).not.toHaveBeenCalled();
    jest.restoreAllMocks();
  });

  describe('issueJoin', () => {
    it('should return a Red5 credential with every field when a publisher joins', async () => {
      const before = Date.now();
      const issued = await adapter.issueJoin(credential(), join());

      expect(issued.externalId).toBeNull();
      expect(issued.credential).toEqual({
        streamId: 'stream_1-A',
        type: 'publisher',
        username: expect.any(String),
        password: expect.any(String),
        token: expect.any(String),
      });
      const c = issued.credential as unknown as Red5Credential;
      expect(c.username.length).toBeGreaterThan(0);
      expect(c.password.length).toBeGreaterThanOrEqual(16);
      const expiresAt = issued.expiresAt?.getTime() ?? 0;
      expect(expiresAt).toBeGreaterThanOrEqual(before + 300_000);
      expect(expiresAt).toBeLessThanOrEqual(Date.now() + 300_000);
    });

    it.each([
      [ParticipantRole.PUBLISHER, 'publisher'],
      [ParticipantRole.MODERATOR, 'publisher'],
      [ParticipantRole.SUBSCRIBER, 'subscriber'],
    ])('should set type %s → %s when that role joins', async (role, type) => {
      expect((await issue({ role })).type).toBe(type);
    });

    it('should mint a 256-bit base64url token when a credential is issued', async () => {
      const { token } = await issue();
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    });

    it('should mint different tokens, usernames and passwords when called repeatedly', async () => {
      const cred = credential();
      const issued = await Promise.all(Array.from({ length: 200 }, () => issue({}, cred)));
      for (const field of ['token', 'username', 'password'] as const) {
        expect(new Set(issued.map((c) => c[field])).size).toBe(200);
      }
      // Every token bit varies across 200 tokens (a constant or counter-like part would not).
      const bytes = issued.map((c) => Buffer.from(c.token, 'base64url'));
      const ored = Buffer.alloc(32);
      const anded = Buffer.alloc(32, 0xff);
      for (const b of bytes) {
        for (let i = 0; i < 32; i++) {
          ored[i] |= b[i];
          anded[i] &= b[i];
        }
      }
      expect(ored.equals(Buffer.alloc(32, 0xff))).toBe(true);
      expect(anded.equals(Buffer.alloc(32, 0))).toBe(true);
    });

    it('should not derive the secrets from the identity or stream when the same user joins twice', async () => {
      const a = await issue({ identity: 'same', roomExternalId: 'same' });
      const b = await issue({ identity: 'same', roomExternalId: 'same' });
      expect(a.token).not.toBe(b.token);
      expect(a.password).not.toBe(b.password);
      expect(a.username).not.toBe(b.username);
      for (const c of [a, b]) {
        expect(c.token).not.toContain('same');
        expect(c.password).not.toContain('same');
      }
    });

    it('should accept the ttl when it equals the credential tokenTtlSeconds', async () => {
      await expect(
        adapter.issueJoin(credential({ tokenTtlSeconds: 600 }), join({ ttlSeconds: 600 })),
      ).resolves.toBeDefined();
    });

    it.each([601, 3600, 86_400])(
      'should refuse with BAD_USER_INPUT when ttl %i exceeds the credential tokenTtlSeconds 600',
      async (ttlSeconds) => {
        const err = await rejection(() =>
          adapter.issueJoin(credential({ tokenTtlSeconds: 600 }), join({ ttlSeconds })),
        );
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe('ttlSeconds');
      },
    );

    it.each([0, -1, 1.5, Number.NaN, 86_401])(
      'should refuse with BAD_USER_INPUT when ttl is %p and the credential sets no limit',
      async (ttlSeconds) => {
        const err = await rejection(() => adapter.issueJoin(credential({}), join({ ttlSeconds })));
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe('ttlSeconds');
      },
    );

    it('should allow up to 24 h when the credential sets no limit', async () => {
      await expect(
        adapter.issueJoin(credential({}), join({ ttlSeconds: 86_400 })),
      ).resolves.toBeDefined();
    });

    it('should cap at 24 h when the credential allows more', async () => {
      const err = await rejection(() =>
        adapter.issueJoin(
          credential({ tokenTtlSeconds: 7 * 86_400 }),
          join({ ttlSeconds: 2 * 86_400 }),
        ),
      );
      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    });
  });

  describe('stream name validation (docs/security.md S9)', () => {
    const bad = [
      '',
      'a/b',
      '..',
      '../live',
      'a b',
      'a.b',
      'a?b',
      'a%2F',
      'live\u200b',
      'live\u202e',
      'live\u0000',
      'a\nb',
      'straße',
      'x'.repeat(101),
    ];

    it.each(bad)(
      'should refuse issueJoin with BAD_USER_INPUT when the stream name is %j',
      async (name) => {
        const err = await rejection(() =>
          adapter.issueJoin(credential(), join({ roomExternalId: name })),
        );
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe('streamId');
      },
    );

    it.each(bad)(
      'should refuse createRoom with BAD_USER_INPUT when the stream name is %j',
      async (name) => {
        const err = await rejection(() => adapter.createRoom(credential(), { customId: name }));
        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      },
    );

    it('should reject the returned promise rather than throw when the input is invalid', async () => {
      // The port returns promises: callers chaining .catch() or using allSettled must see the error.
      let join1: Promise<unknown> | undefined;
      let room: Promise<unknown> | undefined;
      expect(() => {
        join1 = adapter.issueJoin(credential(), join({ roomExternalId: 'a/b' }));
      }).not.toThrow();
      expect(() => {
        room = adapter.createRoom(credential(), { customId: 'a/b' });
      }).not.toThrow();
      await expect(join1).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
      await expect(room).rejects.toMatchObject({ code: ErrorCode.BAD_USER_INPUT });
    });

    it('should accept a 100-character stream name of the safe charset', async () => {
      const name = `A-z_0${'9'.repeat(95)}`;
      expect((await issue({ roomExternalId: name })).streamId).toBe(name);
    });
  });

  describe('rooms', () => {
    it('should use the custom id as the stream id when createRoom is given one', async () => {
      await expect(adapter.createRoom(credential(), { customId: 'town-hall_2' })).resolves.toEqual({
        externalId: 'town-hall_2',
        details: { local: true },
      });
    });

    it('should generate distinct safe stream ids when createRoom is given no id', async () => {
      const a = await adapter.createRoom(credential(), {});
      const b = await adapter.createRoom(credential(), {});
      expect(a.externalId).toMatch(/^[a-zA-Z0-9_-]+$/);
      expect(a.externalId).not.toBe(b.externalId);
    });

    it('should answer locally when close, revoke, list and health are called', async () => {
      await expect(adapter.closeRoom()).resolves.toBeUndefined();
      await expect(adapter.revokeJoin()).resolves.toBeUndefined();
      await expect(adapter.listRooms()).resolves.toEqual([]);
      await expect(adapter.checkHealth()).resolves.toEqual(expect.any(String));
    });
  });
});
