/**
 * Offline decoder and verifier for Agora AccessToken2 ("007") tokens, written from the format in
 * `agora-token` 2.0.x `src/AccessToken2.js` (build / from_string / verifySignature) so tests can
 * check every field of a token Roomkey minted without trusting the library that minted it.
 *
 *   token        = "007" + base64(zlib.deflate(content))
 *   content      = putString(signature) ‖ signing_info
 *   signing_info = putString(appId) ‖ u32 issueTs ‖ u32 expire ‖ u32 salt ‖ u16 nServices ‖ services
 *   service      = u16 type ‖ u16 nPriv ‖ {u16 privilege ‖ u32 expire}* ‖ type-specific fields
 *                  RTC (1): putString(channel) ‖ putString(uid, "" for uid 0)
 *                  RTM (2): putString(userId)
 *                  Chat (5): putString(userId, "" for the app token)
 *   putString    = u16 length ‖ bytes; every integer little-endian
 *   k1           = HMAC_SHA256(key = u32le(issueTs), msg = appCertificate)  (the 32 hex chars)
 *   signingKey   = HMAC_SHA256(key = u32le(salt), msg = k1)
 *   signature    = HMAC_SHA256(key = signingKey, msg = signing_info)
 *
 * The decoder is strict: unknown versions, non-base64 text, truncated fields, unknown service types
 * and trailing bytes all throw `AgoraTokenFormatError`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { inflateSync } from 'node:zlib';

export const AGORA_TOKEN_VERSION = '007';
export const AGORA_SERVICE_RTC = 1;
export const AGORA_SERVICE_RTM = 2;
export const AGORA_SERVICE_CHAT = 5;

/** RTC privileges (ServiceRtc.kPrivilege*). */
export const AGORA_RTC_PRIVILEGE = {
  JOIN_CHANNEL: 1,
  PUBLISH_AUDIO: 2,
  PUBLISH_VIDEO: 3,
  PUBLISH_DATA: 4,
} as const;

/** RTM privilege (ServiceRtm.kPrivilegeLogin). */
export const AGORA_RTM_PRIVILEGE_LOGIN = 1;

/** Chat privileges (ServiceChat.kPrivilegeUser, kPrivilegeApp). */
export const AGORA_CHAT_PRIVILEGE = { USER: 1, APP: 2 } as const;

export interface AgoraPrivilege {
  id: number;
  /** Seconds from the issue time, exactly as carried in the token. */
  expire: number;
}

export interface AgoraRtcService {
  type: typeof AGORA_SERVICE_RTC;
  privileges: AgoraPrivilege[];
  channel: string;
  /** The uid as a decimal string, or '' for uid 0 ("any uid"), or the user account. */
  uid: string;
}

export interface AgoraRtmService {
  type: typeof AGORA_SERVICE_RTM;
  privileges: AgoraPrivilege[];
  userId: string;
}

export interface AgoraChatService {
  type: typeof AGORA_SERVICE_CHAT;
  privileges: AgoraPrivilege[];
  /** The Chat user id, or '' in an app token. */
  userId: string;
}

export type AgoraService = AgoraRtcService | AgoraRtmService | AgoraChatService;

export interface DecodedAgoraToken {
  signature: Buffer;
  /** The signed bytes (everything after the signature), kept for verification. */
  signingInfo: Buffer;
  appId: string;
  /** Unix seconds when the token was minted. */
  issueTs: number;
  /** Token lifetime in seconds from `issueTs` (relative, not a timestamp). */
  expire: number;
  salt: number;
  services: AgoraService[];
}

export class AgoraTokenFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgoraTokenFormatError';
  }
}

class Reader {
  private offset = 0;

  constructor(private readonly buf: Buffer) {}

  get position(): number {
    return this.offset;
  }

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(bytes: number, what: string): void {
    if (this.remaining < bytes) {
      throw new AgoraTokenFormatError(`token truncated while reading ${what}`);
    }
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16LE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32LE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(what: string): Buffer {
    const length = this.u16(`${what} length`);
    this.need(length, what);
    const out = Buffer.from(this.buf.subarray(this.offset, this.offset + length));
    this.offset += length;
    return out;
  }

  string(what: string): string {
    const raw = this.bytes(what);
    const text = raw.toString('utf8');
    if (!Buffer.from(text, 'utf8').equals(raw)) {
      throw new AgoraTokenFormatError(`${what} is not valid UTF-8`);
    }
    return text;
  }
}

function readPrivileges(r: Reader): AgoraPrivilege[] {
  const count = r.u16('privilege count');
  const privileges: AgoraPrivilege[] = [];
  for (let i = 0; i < count; i += 1) {
    privileges.push({ id: r.u16('privilege id'), expire: r.u32('privilege expire') });
  }
  return privileges;
}

/** Decodes a "007" token. Throws `AgoraTokenFormatError` for anything malformed. */
export function decodeAgoraToken(token: string): DecodedAgoraToken {
  if (!token.startsWith(AGORA_TOKEN_VERSION)) {
    throw new AgoraTokenFormatError(`not an AccessToken2: version is not ${AGORA_TOKEN_VERSION}`);
  }
  const body = token.slice(AGORA_TOKEN_VERSION.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body) || body.length % 4 !== 0) {
    throw new AgoraTokenFormatError('token body is not base64');
  }
  let content: Buffer;
  try {
    content = inflateSync(Buffer.from(body, 'base64'));
  } catch {
    throw new AgoraTokenFormatError('token body is not zlib data');
  }
  const r = new Reader(content);
  const signature = r.bytes('signature');
  const signingInfo = Buffer.from(content.subarray(r.position));
  const appId = r.string('appId');
  const issueTs = r.u32('issueTs');
  const expire = r.u32('expire');
  const salt = r.u32('salt');
  const serviceCount = r.u16('service count');
  const services: AgoraService[] = [];
  for (let i = 0; i < serviceCount; i += 1) {
    const type = r.u16('service type');
    const privileges = readPrivileges(r);
    if (type === AGORA_SERVICE_RTC) {
      const channel = r.string('channel');
      const uid = r.string('uid');
      services.push({ type: AGORA_SERVICE_RTC, privileges, channel, uid });
    } else if (type === AGORA_SERVICE_RTM) {
      services.push({ type: AGORA_SERVICE_RTM, privileges, userId: r.string('userId') });
    } else if (type === AGORA_SERVICE_CHAT) {
      services.push({ type: AGORA_SERVICE_CHAT, privileges, userId: r.string('userId') });
    } else {
      throw new AgoraTokenFormatError(`unexpected service type ${type}`);
    }
  }
  if (r.remaining !== 0) {
    throw new AgoraTokenFormatError(`${r.remaining} unexpected trailing byte(s)`);
  }
  return { signature, signingInfo, appId, issueTs, expire, salt, services };
}

function u32le(value: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(value);
  return b;
}

/** signingKey = HMAC(u32le(salt), HMAC(u32le(issueTs), appCertificate)). */
export function agoraSigningKey(appCertificate: string, issueTs: number, salt: number): Buffer {
  const k1 = createHmac('sha256', u32le(issueTs)).update(appCertificate, 'utf8').digest();
  return createHmac('sha256', u32le(salt)).update(k1).digest();
}

/** The signature a token with these fields must carry. */
export function agoraSignature(
  appCertificate: string,
  issueTs: number,
  salt: number,
  signingInfo: Buffer,
): Buffer {
  return createHmac('sha256', agoraSigningKey(appCertificate, issueTs, salt))
    .update(signingInfo)
    .digest();
}

/** True when the token's signature was made with `appCertificate` over its signing info. */
export function verifyAgoraSignature(token: DecodedAgoraToken, appCertificate: string): boolean {
  const expected = agoraSignature(appCertificate, token.issueTs, token.salt, token.signingInfo);
  return token.signature.length === expected.length && timingSafeEqual(token.signature, expected);
}

/** The single service of `type` in the token; throws when there is none or more than one. */
export function onlyService<T extends AgoraService['type']>(
  token: DecodedAgoraToken,
  type: T,
): Extract<AgoraService, { type: T }> {
  const found = token.services.filter((s) => s.type === type);
  if (found.length !== 1) {
    throw new AgoraTokenFormatError(`expected one service of type ${type}, found ${found.length}`);
  }
  return found[0] as Extract<AgoraService, { type: T }>;
}
