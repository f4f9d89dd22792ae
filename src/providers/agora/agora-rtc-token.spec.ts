/**
 * agoraRtcToken against the official `agora-token` package: for the same issue time and salt the
 * two tokens must carry the very same content (what the zlib stream holds), for every shape of input the adapter passes (uid 0,
 * numeric uids up to 2^32-1, user accounts, publisher and subscriber, any expiry); and a token
 * minted at the current time must parse and verify with the package's own AccessToken2.
 */
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { RtcRole, RtcTokenBuilder } from 'agora-token';
import { decodeAgoraToken, verifyAgoraSignature } from '../../../test/support/agora-token-decoder';
import { agoraRtcToken } from './agora-rtc-token';

interface PackageToken {
  salt: number;
  services: Array<{ __privileges: Record<string, number>; __channel_name: Buffer; __uid: Buffer }>;
  add_service(service: unknown): void;
  build(): string;
  from_string(token: string): boolean;
  verifySignature(cert: string): boolean;
}
type PackageTokenClass = new (
  appId?: string,
  cert?: string,
  issueTs?: number,
  expire?: number,
) => PackageToken;
type ServiceRtcClass = (new (
  channel: string,
  uid: number | string,
) => {
  add_privilege(privilege: number, expire: number): void;
}) &
  Record<string, number>;
// The package's token and RTC service classes (untyped, not in its index), for a build with a
// chosen issue time and salt, and for parsing.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { AccessToken2: Token, ServiceRtc: Rtc } = require('agora-token/src/AccessToken2') as {
  AccessToken2: PackageTokenClass;
  ServiceRtc: ServiceRtcClass;
};

/** The package's build for a chosen issue time and salt (RtcTokenBuilder.buildTokenWith*'s steps). */
function packageToken(
  appId: string,
  cert: string,
  channel: string,
  user: number | string,
  publisher: boolean,
  expire: number,
  issueTs: number,
  salt: number,
): string {
  const token = new Token(appId, cert, issueTs, expire);
  token.salt = salt;
  const rtc = new Rtc(channel, user);
  rtc.add_privilege(Rtc.kPrivilegeJoinChannel, expire);
  if (publisher) {
    rtc.add_privilege(Rtc.kPrivilegePublishAudioStream, expire);
    rtc.add_privilege(Rtc.kPrivilegePublishVideoStream, expire);
    rtc.add_privilege(Rtc.kPrivilegePublishDataStream, expire);
  }
  token.add_service(rtc);
  return token.build();
}

/** The token's version and its zlib stream, inflated (zlib checks the Adler-32 trailer). */
const opened = (token: string): { version: string; content: Buffer; stream: Buffer } => {
  const stream = Buffer.from(token.slice(3), 'base64');
  return { version: token.slice(0, 3), content: inflateSync(stream), stream };
};

/** A deterministic 32-hex-character value per label. */
const hex32 = (label: string): string =>
  createHash('sha256').update(label).digest('hex').slice(0, 32);

describe('agoraRtcToken', () => {
  const cases: Array<{ name: string; channel: string; user: number | string }> = [
    { name: 'uid 0 (any uid)', channel: 'room', user: 0 },
    { name: 'a small uid', channel: 'bench-channel', user: 42 },
    { name: 'the largest uid', channel: 'c', user: 4_294_967_295 },
    { name: 'a user account', channel: 'team standup', user: 'alice@example.com' },
    { name: 'the account "0"', channel: 'zero', user: '0' },
    {
      name: 'every allowed channel character',
      channel: 'aZ09 !#$%&()+-:;<=.>?@[]^_{}|~,',
      user: 7,
    },
    { name: 'a 63-byte channel', channel: 'x'.repeat(63), user: 'y'.repeat(255) },
  ];
  const shapes = cases.flatMap((c) =>
    [true, false].flatMap((publisher) =>
      [1, 600, 86_400].map((expire) => ({ ...c, publisher, expire })),
    ),
  );

  it.each(shapes)(
    'should carry the content of the package token when $name, publisher $publisher, expire $expire',
    ({ name, channel, user, publisher, expire }) => {
      const appId = hex32(`app ${name}`);
      const cert = hex32(`cert ${name}`);
      for (const [issueTs, salt] of [
        [1_700_000_000, 1],
        [1_800_000_123, 99_999_999],
        [4_000_000_000, 31_337],
      ]) {
        const ours = agoraRtcToken({
          appId,
          appCertificate: cert,
          channel,
          user,
          publisher,
          expireSeconds: expire,
          issueTs,
          salt,
        });
        const theirs = packageToken(appId, cert, channel, user, publisher, expire, issueTs, salt);
        const mine = opened(ours);
        expect(mine.version).toBe('007');
        expect(mine.content.equals(opened(theirs).content)).toBe(true);
        // One final stored block: header, BFINAL/BTYPE, LEN, NLEN, the content, Adler-32.
        expect([...mine.stream.subarray(0, 3)]).toEqual([0x78, 0x01, 0x01]);
        expect(mine.stream.readUInt16LE(3)).toBe(mine.content.length);
        expect(mine.stream.length).toBe(7 + mine.content.length + 4);
      }
    },
  );

  it('should mint at the current time a token the package parses and verifies', () => {
    const appId = hex32('now app');
    const cert = hex32('now cert');
    const before = Math.floor(Date.now() / 1000);
    const token = agoraRtcToken({
      appId,
      appCertificate: cert,
      channel: 'live',
      user: 1234,
      publisher: false,
      expireSeconds: 3600,
    });
    const after = Math.floor(Date.now() / 1000);

    const parsed = new Token();
    expect(parsed.from_string(token)).toBe(true);
    expect(parsed.verifySignature(cert)).toBe(true);
    expect(parsed.verifySignature(hex32('another cert'))).toBe(false);
    expect(parsed.services).toHaveLength(1);
    expect(parsed.services[0].__privileges).toEqual({ 1: 3600 });
    expect(parsed.services[0].__channel_name.toString()).toBe('live');
    expect(parsed.services[0].__uid.toString()).toBe('1234');
    const decoded = decodeAgoraToken(token);
    expect(decoded.issueTs).toBeGreaterThanOrEqual(before);
    expect(decoded.issueTs).toBeLessThanOrEqual(after);
    expect(decoded.salt).toBeGreaterThanOrEqual(1);
    expect(decoded.salt).toBeLessThanOrEqual(99_999_999);
    expect(verifyAgoraSignature(decoded, cert)).toBe(true);
  });

  it('should sign for the certificate asked, when tokens for two certificates alternate within one second', () => {
    const appId = hex32('alternate app');
    const [a, b] = [hex32('alternate cert a'), hex32('alternate cert b')];
    for (const cert of [a, b, a, b]) {
      const ours = agoraRtcToken({
        appId,
        appCertificate: cert,
        channel: 'c',
        user: 5,
        publisher: true,
        expireSeconds: 60,
        issueTs: 1_750_000_000,
        salt: 77,
      });
      const theirs = packageToken(appId, cert, 'c', 5, true, 60, 1_750_000_000, 77);
      expect(opened(ours).content.equals(opened(theirs).content)).toBe(true);
    }
  });

  it('should draw a new salt for each token', () => {
    const input = {
      appId: hex32('salt app'),
      appCertificate: hex32('salt cert'),
      channel: 'c',
      user: 1,
      publisher: true,
      expireSeconds: 60,
    };
    const tokens = Array.from({ length: 20 }, () => decodeAgoraToken(agoraRtcToken(input)));
    expect(new Set(tokens.map((t) => t.salt)).size).toBeGreaterThan(15);
    for (const t of tokens) expect(verifyAgoraSignature(t, input.appCertificate)).toBe(true);
  });

  it('should return an empty token, as the package does, when the app id or certificate is not 32 hex characters', () => {
    const good = hex32('good');
    for (const [appId, cert] of [
      ['', good],
      [good, ''],
      [`${good.slice(0, 31)}g`, good],
      [good, `${good}0`],
    ]) {
      const input = { appId, appCertificate: cert, channel: 'c', user: 1, publisher: true };
      expect(agoraRtcToken({ ...input, expireSeconds: 60 })).toBe('');
      expect(
        RtcTokenBuilder.buildTokenWithUid(appId, cert, 'c', 1, RtcRole.PUBLISHER, 60, 60),
      ).toBe('');
    }
  });
});
