/**
 * Contract tests for the Agora adapter: every minted AccessToken2 ("007") is decoded offline by
 * test/support/agora-token-decoder.ts and checked field by field, signature included; every limit
 * is refused before minting (docs/vendors.md#agora; docs/security.md S9).
 */
import { randomUUID } from 'node:crypto';
import {
  AGORA_CHAT_PRIVILEGE,
  AGORA_RTC_PRIVILEGE,
  AGORA_RTM_PRIVILEGE_LOGIN,
  AGORA_SERVICE_CHAT,
  AGORA_SERVICE_RTC,
  AGORA_SERVICE_RTM,
  AgoraTokenFormatError,
  type DecodedAgoraToken,
  decodeAgoraToken,
  onlyService,
  verifyAgoraSignature,
} from '../../../test/support/agora-token-decoder';
import { DomainException, ErrorCode } from '../../common/errors';
import { AGORA_CHANNEL } from '../names';
import { ParticipantRole, ProviderKind } from '../provider-kind';
import { type IssuedJoin, type JoinRequest, type ResolvedCredential } from '../video-provider';
import { agoraUid } from './agora-limits';
import { AgoraAdapter } from './agora.adapter';

const APP_ID = '5f0c1e2d3b4a69788796a5b4c3d2e1f0';
const CERT = '0a1b2c3d4e5f60718293a4b5c6d7e8f9';
const OTHER_CERT = '0a1b2c3d4e5f60718293a4b5c6d7e8fa';

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The DomainException a call fails with, whether it throws or rejects. */
async function failure(call: () => Promise<unknown>): Promise<DomainException> {
  try {
    await call();
  } catch (err) {
    if (err instanceof DomainException) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}

const publisherPrivileges = (ttl: number) => [
  { id: AGORA_RTC_PRIVILEGE.JOIN_CHANNEL, expire: ttl },
  { id: AGORA_RTC_PRIVILEGE.PUBLISH_AUDIO, expire: ttl },
  { id: AGORA_RTC_PRIVILEGE.PUBLISH_VIDEO, expire: ttl },
  { id: AGORA_RTC_PRIVILEGE.PUBLISH_DATA, expire: ttl },
];

describe('Agora AccessToken2 decoder (test support)', () => {
  // Built once with agora-token's own AccessToken2 (issueTs 1700000000, salt 12345678, expire
  // 3600; RTC "golden channel"/uid 42 with privileges 1→3600 and 2→1800; RTM "alice" 1→600).
  const GOLDEN =
    '007eJxTYLA58c+MuTOtMa/d+/ukR1djbkWYPbzi+vyefqwCt9LxSZMUGAwMjYxNTM3MLSwTk5JTUtPQ+Qwfg1MF+BgY/BL3MDAxMIIxiM/EwMHOwMDHkJ6fk5Kap5CckZiXl5rDxGBiBFLByBDBxMDAypCYk5mcCgD9yyUn';
  const GOLDEN_APP_ID = '0123456789abcdef0123456789abcdef';
  const GOLDEN_CERT = 'fedcba9876543210fedcba9876543210';

  it('should read every field of a known token when it was built by the reference library', () => {
    const t = decodeAgoraToken(GOLDEN);

    expect(t).toMatchObject({
      appId: GOLDEN_APP_ID,
      issueTs: 1_700_000_000,
      expire: 3600,
      salt: 12_345_678,
    });
    expect(t.signature.toString('hex')).toBe(
      '3cc8fe36038966816e874bf792e2d55cda5836e1d445e7de2f5d200b22c79292',
    );
    expect(t.services).toEqual([
      {
        type: AGORA_SERVICE_RTC,
        privileges: [
          { id: 1, expire: 3600 },
          { id: 2, expire: 1800 },
        ],
        channel: 'golden channel',
        uid: '42',
      },
      { type: AGORA_SERVICE_RTM, privileges: [{ id: 1, expire: 600 }], userId: 'alice' },
    ]);
  });

  it('should verify the signature only when the certificate is the one that signed', () => {
    const t = decodeAgoraToken(GOLDEN);

    expect(verifyAgoraSignature(t, GOLDEN_CERT)).toBe(true);
    expect(verifyAgoraSignature(t, GOLDEN_CERT.toUpperCase())).toBe(false);
    expect(verifyAgoraSignature(t, `${GOLDEN_CERT.slice(0, 31)}1`)).toBe(false);
  });

  it('should fail verification when a signed byte or the salt is altered', () => {
    const t = decodeAgoraToken(GOLDEN);
    const tampered = Buffer.from(t.signingInfo);
    tampered[tampered.length - 1] ^= 1;

    expect(verifyAgoraSignature({ ...t, signingInfo: tampered }, GOLDEN_CERT)).toBe(false);
    expect(verifyAgoraSignature({ ...t, salt: t.salt + 1 }, GOLDEN_CERT)).toBe(false);
    expect(verifyAgoraSignature({ ...t, issueTs: t.issueTs + 1 }, GOLDEN_CERT)).toBe(false);
  });

  it.each([
    ['another version', `006${GOLDEN.slice(3)}`],
    ['a body that is not base64', '007!!!!'],
    ['a body that is not zlib', `007${Buffer.from('plain bytes').toString('base64')}`],
    ['a truncated body', `007${GOLDEN.slice(3, 40)}`],
    ['an empty string', ''],
  ])('should throw AgoraTokenFormatError when given %s', (_label, token) => {
    expect(() => decodeAgoraToken(token)).toThrow(AgoraTokenFormatError);
  });
});

describe('AgoraAdapter', () => {
  const adapter = new AgoraAdapter();
  const cred: ResolvedCredential = {
    id: randomUUID(),
    tenantId: randomUUID(),
    kind: ProviderKind.AGORA,
    config: { appId: APP_ID },
    secrets: { appCertificate: CERT },
  };

  const join = (extra: Partial<JoinRequest> = {}): JoinRequest => ({
    roomExternalId: 'Weekly sync #42',
    role: ParticipantRole.PUBLISHER,
    identity: 'user-1',
    ttlSeconds: 600,
    options: { uid: 1234 },
    ...extra,
  });

  const mint = async (
    extra: Partial<JoinRequest> = {},
  ): Promise<{ issued: IssuedJoin; token: DecodedAgoraToken; mintedAt: number }> => {
    const mintedAt = nowSeconds();
    const issued = await adapter.issueJoin(cred, join(extra));
    expect(issued.credential.token).toMatch(/^007[A-Za-z0-9+/]+={0,2}$/);
    return { issued, token: decodeAgoraToken(issued.credential.token as string), mintedAt };
  };

  describe('RTC tokens', () => {
    it('should carry app id, channel, uid and the four publisher privileges when a PUBLISHER joins', async () => {
      const { issued, token, mintedAt } = await mint({ ttlSeconds: 600 });

      expect(token.appId).toBe(APP_ID);
      expect(Math.abs(token.issueTs - mintedAt)).toBeLessThanOrEqual(5);
      expect(token.expire).toBe(600);
      expect(token.salt).toBeGreaterThanOrEqual(1);
      expect(token.salt).toBeLessThanOrEqual(99_999_999);
      expect(token.services).toEqual([
        {
          type: AGORA_SERVICE_RTC,
          privileges: publisherPrivileges(600),
          channel: 'Weekly sync #42',
          uid: '1234',
        },
      ]);
      expect(verifyAgoraSignature(token, CERT)).toBe(true);

      expect(issued.externalId).toBeNull();
      expect(issued.credential).toEqual({
        token: issued.credential.token,
        appId: APP_ID,
        channel: 'Weekly sync #42',
        uid: 1234,
        userAccount: null,
      });
      const expiresAt = (issued.expiresAt as Date).getTime();
      expect(Math.abs(expiresAt - (mintedAt + 600) * 1000)).toBeLessThan(5000);
    });

    it('should carry only the join-channel privilege when a SUBSCRIBER joins', async () => {
      const { token } = await mint({ role: ParticipantRole.SUBSCRIBER, ttlSeconds: 300 });

      expect(onlyService(token, AGORA_SERVICE_RTC).privileges).toEqual([
        { id: AGORA_RTC_PRIVILEGE.JOIN_CHANNEL, expire: 300 },
      ]);
      expect(token.expire).toBe(300);
      expect(verifyAgoraSignature(token, CERT)).toBe(true);
    });

    it('should carry the publisher privileges when a MODERATOR joins', async () => {
      const { token } = await mint({ role: ParticipantRole.MODERATOR });

      expect(onlyService(token, AGORA_SERVICE_RTC).privileges).toEqual(publisherPrivileges(600));
    });

    it('should use relative seconds, not absolute timestamps, when it sets expiries', async () => {
      const { token } = await mint({ ttlSeconds: 3600 });

      // "Expiries are seconds from now": an absolute timestamp here is the classic bug.
      expect(token.expire).toBe(3600);
      expect(token.expire).toBeLessThan(token.issueTs);
      for (const p of onlyService(token, AGORA_SERVICE_RTC).privileges) {
        expect(p.expire).toBe(3600);
      }
    });

    it('should fail verification when the certificate is another one', async () => {
      const { token } = await mint();

      expect(verifyAgoraSignature(token, CERT)).toBe(true);
      expect(verifyAgoraSignature(token, OTHER_CERT)).toBe(false);
    });

    it.each([
      ['absent', undefined, ''],
      ['0', 0, ''],
      ['the string "0"', '0', ''],
      ['1', 1, '1'],
      ['4294967295', 4_294_967_295, '4294967295'],
      ['the decimal string "4294967295"', '4294967295', '4294967295'],
    ])('should put uid %s in the token as %j', async (_label, uid, inToken) => {
      const { token, issued } = await mint({ options: uid === undefined ? {} : { uid } });

      expect(onlyService(token, AGORA_SERVICE_RTC).uid).toBe(inToken);
      expect(issued.credential.uid).toBe(inToken === '' ? 0 : Number(inToken));
      expect(verifyAgoraSignature(token, CERT)).toBe(true);
    });

    it('should carry the account string when a userAccount is given', async () => {
      const { token, issued } = await mint({
        options: { userAccount: 'ada@example.com', uid: 77 },
      });

      expect(onlyService(token, AGORA_SERVICE_RTC)).toEqual({
        type: AGORA_SERVICE_RTC,
        privileges: publisherPrivileges(600),
        channel: 'Weekly sync #42',
        uid: 'ada@example.com',
      });
      expect(issued.credential).toMatchObject({ uid: null, userAccount: 'ada@example.com' });
      expect(verifyAgoraSignature(token, CERT)).toBe(true);
    });

    it('should accept a channel of exactly 63 bytes and carry it unchanged', async () => {
      const channel = `${'c'.repeat(62)}~`;
      const { token } = await mint({ roomExternalId: channel });

      expect(onlyService(token, AGORA_SERVICE_RTC).channel).toBe(channel);
    });

    it('should accept a ttl of 86400 seconds (24 h) at the limit', async () => {
      const { token } = await mint({ ttlSeconds: 86_400 });

      expect(token.expire).toBe(86_400);
      expect(onlyService(token, AGORA_SERVICE_RTC).privileges[0].expire).toBe(86_400);
    });
  });

  describe('RTM tokens', () => {
    it('should add no RTM token when options.rtm is not set', async () => {
      const { issued } = await mint();

      expect(issued.credential).not.toHaveProperty('rtmToken');
    });

    it('should add a signed RTM token for the user account when options.rtm is true', async () => {
      const mintedAt = nowSeconds();
      const issued = await adapter.issueJoin(
        cred,
        join({ ttlSeconds: 1200, options: { userAccount: 'ada', rtm: true } }),
      );
      const rtm = decodeAgoraToken(issued.credential.rtmToken as string);

      expect(rtm.appId).toBe(APP_ID);
      expect(rtm.expire).toBe(1200);
      expect(Math.abs(rtm.issueTs - mintedAt)).toBeLessThanOrEqual(5);
      expect(rtm.services).toEqual([
        {
          type: AGORA_SERVICE_RTM,
          privileges: [{ id: AGORA_RTM_PRIVILEGE_LOGIN, expire: 1200 }],
          userId: 'ada',
        },
      ]);
      expect(verifyAgoraSignature(rtm, CERT)).toBe(true);
      expect(verifyAgoraSignature(rtm, OTHER_CERT)).toBe(false);
    });

    it('should use the uid as the RTM user id when no user account is given', async () => {
      const issued = await adapter.issueJoin(cred, join({ options: { uid: 99, rtm: true } }));
      const rtm = decodeAgoraToken(issued.credential.rtmToken as string);

      expect(onlyService(rtm, AGORA_SERVICE_RTM).userId).toBe('99');
    });

    /** The token service's stream-channel grant: join and publish data, for the RTM user. */
    const streamChannel = (channel: string, userId: string, ttl: number) => ({
      type: AGORA_SERVICE_RTC,
      privileges: [
        { id: AGORA_RTC_PRIVILEGE.JOIN_CHANNEL, expire: ttl },
        { id: AGORA_RTC_PRIVILEGE.PUBLISH_DATA, expire: ttl },
      ],
      channel,
      uid: userId,
    });
    const login = (userId: string, ttl: number) => ({
      type: AGORA_SERVICE_RTM,
      privileges: [{ id: AGORA_RTM_PRIVILEGE_LOGIN, expire: ttl }],
      userId,
    });

    it.each([
      ['a channel name', 'Weekly sync #42'],
      ['the * wildcard', '*'],
    ])(
      'should add the stream-channel service before the RTM service when rtmToken is given %s',
      async (_label, channel) => {
        const rtm = decodeAgoraToken(await adapter.rtmToken(cred, 'bob', 900, channel));

        expect(rtm.expire).toBe(900);
        expect(rtm.services).toEqual([streamChannel(channel, 'bob', 900), login('bob', 900)]);
        expect(verifyAgoraSignature(rtm, CERT)).toBe(true);
      },
    );

    it('should carry only the RTM service when rtmToken is given no channel', async () => {
      const rtm = decodeAgoraToken(await adapter.rtmToken(cred, 'bob', 900));

      expect(rtm.services).toEqual([login('bob', 900)]);
    });

    it("should grant the session's channel to the RTM token only when options.rtmStreamChannel is set", async () => {
      const issued = await adapter.issueJoin(
        cred,
        join({ options: { userAccount: 'ada', rtm: true, rtmStreamChannel: true } }),
      );
      const rtm = decodeAgoraToken(issued.credential.rtmToken as string);

      expect(rtm.services).toEqual([
        streamChannel('Weekly sync #42', 'ada', 600),
        login('ada', 600),
      ]);
    });

    it.each([
      ['a slash', 'a/b', /may only contain/],
      ['64 bytes', 'c'.repeat(64), /at most 63 bytes/],
      ['a wildcard inside a name', 'a*', /may only contain/],
      ['nothing', '', /must not be empty/],
    ])('should refuse a stream channel with %s', async (_label, channel, message) => {
      const err = await failure(() => adapter.rtmToken(cred, 'bob', 900, channel));

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(err.field).toBe('channel');
      expect(err.message).toMatch(message);
    });
  });

  describe('Chat tokens', () => {
    it('should carry the user privilege for that Chat user when chatToken is given a user', async () => {
      const chat = decodeAgoraToken(await adapter.chatToken(cred, 'ada.l-1_x', 700));

      expect(chat.appId).toBe(APP_ID);
      expect(chat.expire).toBe(700);
      expect(chat.services).toEqual([
        {
          type: AGORA_SERVICE_CHAT,
          privileges: [{ id: AGORA_CHAT_PRIVILEGE.USER, expire: 700 }],
          userId: 'ada.l-1_x',
        },
      ]);
      expect(verifyAgoraSignature(chat, CERT)).toBe(true);
    });

    it('should carry the app privilege and no user when chatToken is given none', async () => {
      const chat = decodeAgoraToken(await adapter.chatToken(cred, null, 700));

      expect(chat.services).toEqual([
        {
          type: AGORA_SERVICE_CHAT,
          privileges: [{ id: AGORA_CHAT_PRIVILEGE.APP, expire: 700 }],
          userId: '',
        },
      ]);
    });

    it('should add a Chat user token for the uid when options.chat is true', async () => {
      const issued = await adapter.issueJoin(cred, join({ options: { uid: 77, chat: true } }));
      const chat = decodeAgoraToken(issued.credential.chatToken as string);

      expect(onlyService(chat, AGORA_SERVICE_CHAT)).toEqual({
        type: AGORA_SERVICE_CHAT,
        privileges: [{ id: AGORA_CHAT_PRIVILEGE.USER, expire: 600 }],
        userId: '77',
      });
      expect(issued.credential).not.toHaveProperty('rtmToken');
    });

    it('should refuse options.chat when the uid is 0', async () => {
      const err = await failure(() =>
        adapter.issueJoin(cred, join({ options: { uid: 0, chat: true } })),
      );

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    });

    it.each([
      ['a space', 'ada l'],
      ['an at sign', 'ada@example.com'],
      ['65 bytes', 'a'.repeat(65)],
      ['nothing', ''],
    ])('should refuse a Chat user id with %s', async (_label, userId) => {
      const err = await failure(() => adapter.chatToken(cred, userId, 600));

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(err.field).toBe('uid');
    });

    it.each([0, 86_401, 1.5])('should refuse a Chat token of %d seconds', async (ttl) => {
      const err = await failure(() => adapter.chatToken(cred, null, ttl));

      expect(err.field).toBe('ttlSeconds');
    });
  });

  describe('limits, validated before minting (docs/security.md S9)', () => {
    it.each([
      ['64 ASCII bytes', 'c'.repeat(64), /at most 63 bytes/],
      ['65 ASCII bytes', 'c'.repeat(65), /at most 63 bytes/],
      ['22 euro signs (66 bytes)', '\u20ac'.repeat(22), /at most 63 bytes/],
      ['21 euro signs (63 bytes, outside the charset)', '\u20ac'.repeat(21), /may only contain/],
      ['a slash', 'a/b', /may only contain/],
      ['an asterisk', 'a*b', /may only contain/],
      ['a quote', "it's", /may only contain/],
      ['a backslash', 'a\\b', /may only contain/],
      ['an accent', 'caf\u00e9', /may only contain/],
      ['a zero-width space', 'a\u200bb', /control or invisible/],
      ['an RTL override', 'a\u202eb', /control or invisible/],
      ['a line feed', 'a\nb', /control or invisible/],
      ['NFD accents', 'cafe\u0301', /NFC/],
      ['nothing', '', /must not be empty/],
    ])('should refuse a channel with %s', async (_label, channel, message) => {
      const err = await failure(() => adapter.issueJoin(cred, join({ roomExternalId: channel })));

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(err.field).toBe('channelName');
      expect(err.message).toMatch(message);
    });

    it('should name the exact charset in the message when a multi-byte channel fits in 63 bytes', async () => {
      const err = await failure(() =>
        adapter.issueJoin(cred, join({ roomExternalId: '\u20ac'.repeat(21) })),
      );

      expect(err.message).toBe(`channelName ${AGORA_CHANNEL.describe}`);
    });

    it.each([
      ['-1', -1],
      ['2^32', 2 ** 32],
      ['1.5', 1.5],
      ['"abc"', 'abc'],
      ['"-1"', '-1'],
      ['"4294967296"', '4294967296'],
      ['"1e3"', '1e3'],
      ['" 12"', ' 12'],
      ['NaN', Number.NaN],
      ['Infinity', Number.POSITIVE_INFINITY],
      ['true', true],
    ])('should refuse uid %s', async (_label, uid) => {
      const err = await failure(() => adapter.issueJoin(cred, join({ options: { uid } })));

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(err.field).toBe('uid');
      expect(() => agoraUid(uid)).toThrow(DomainException);
    });

    it.each([0, -60, 86_401, 1.5, Number.NaN])(
      'should refuse a ttl of %d seconds',
      async (ttlSeconds) => {
        const err = await failure(() => adapter.issueJoin(cred, join({ ttlSeconds })));

        expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
        expect(err.field).toBe('ttlSeconds');
      },
    );

    it.each([
      ['a non-ASCII character', 'ad\u00e0'],
      ['a control character', 'ada\u0007'],
      ['a zero-width space', 'a\u200bda'],
      ['256 bytes', 'a'.repeat(256)],
    ])('should refuse a userAccount with %s', async (_label, userAccount) => {
      const err = await failure(() => adapter.issueJoin(cred, join({ options: { userAccount } })));

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(err.field).toBe('userAccount');
    });

    it('should return a rejected promise rather than throw synchronously when the input is invalid', () => {
      // The port returns promises: a synchronous throw escapes `.catch()` and Promise.allSettled.
      let issued: Promise<unknown> | undefined;
      let created: Promise<unknown> | undefined;
      expect(() => {
        issued = adapter.issueJoin(cred, join({ roomExternalId: 'a/b' }));
      }).not.toThrow();
      expect(() => {
        created = adapter.createRoom(cred, { customId: 'a/b' });
      }).not.toThrow();
      return Promise.all([
        expect(issued).rejects.toBeInstanceOf(DomainException),
        expect(created).rejects.toBeInstanceOf(DomainException),
      ]);
    });
  });

  describe('rooms and health', () => {
    it('should validate and return the channel name when createRoom gets a customId', async () => {
      await expect(adapter.createRoom(cred, { customId: 'Town hall' })).resolves.toEqual({
        externalId: 'Town hall',
        details: { local: true },
      });
      const err = await failure(() => adapter.createRoom(cred, { customId: 'c'.repeat(64) }));
      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    });

    it('should generate a valid channel name when createRoom gets none', async () => {
      const room = await adapter.createRoom(cred, {});

      expect(room.externalId).toMatch(AGORA_CHANNEL.pattern);
      expect(Buffer.byteLength(room.externalId)).toBeLessThanOrEqual(63);
    });

    it('should pass the local self-check when the credentials are well formed', async () => {
      await expect(adapter.checkHealth(cred)).resolves.toMatch(/self-check passed/);
    });

    it('should fail the self-check when the certificate is not 32 hex characters', async () => {
      const err = await failure(() =>
        adapter.checkHealth({ ...cred, secrets: { appCertificate: 'not-a-certificate' } }),
      );

      expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    });
  });
});
