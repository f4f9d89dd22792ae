import { DomainException } from '../../common/errors';
import { AGORA_CHANNEL, vendorName } from '../names';

/**
 * Agora's limits, checked by Roomkey because Agora's token builders do not. Pure functions (no
 * SDK), so callers can check a request before they store or mint anything.
 */
export const AGORA_MAX_TTL = 86_400;
const MAX_UID = 0xffff_ffff;

/** uid 0..2^32-1 (0 = any), as a number or a decimal string; null when absent. */
export function agoraUid(value: unknown): number | null {
  if (value === undefined || value === null || value === '') return null;
  let n = NaN;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && /^\d{1,10}$/.test(value)) n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_UID)
    throw DomainException.badInput('uid', 'uid must be an integer 0..4294967295');
  return n;
}

/** A string user account: printable ASCII, at most 255 bytes. */
export function agoraAccount(value: string): string {
  return vendorName(value, 'userAccount', {
    pattern: /^[\x20-\x7e]+$/,
    maxBytes: 255,
    describe: 'must be printable ASCII',
  });
}

/** An RTM user id: printable ASCII not starting with a space, at most 64 bytes, not "0". */
export function agoraRtmUser(value: string): string {
  vendorName(value, 'uid', {
    pattern: /^[\x21-\x7e][\x20-\x7e]*$/,
    maxBytes: 64,
    describe: 'must be printable ASCII and not start with a space',
  });
  if (value === '0') throw DomainException.badInput('uid', 'An RTM user id must not be 0');
  return value;
}

/**
 * The stream channel an RTM token grants (join and publish data on it): a channel name, or `*`
 * for every channel, the one wildcard the token service documents for it.
 */
export function agoraStreamChannel(value: string): string {
  return value === '*' ? value : vendorName(value, 'channel', AGORA_CHANNEL);
}

/**
 * An Agora Chat user id: Chat's documented set (a-z A-Z 0-9 _ - .), at most 64 bytes. `field`
 * names it as the route does (`chatid`, `uid`).
 */
export function agoraChatUser(value: string, field = 'uid'): string {
  return vendorName(value, field, {
    pattern: /^[a-zA-Z0-9_.-]+$/,
    maxBytes: 64,
    describe: 'may only contain a-z A-Z 0-9 _ - .',
  });
}
