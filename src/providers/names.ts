import { DomainException } from '../common/errors';
import { hasControlChars } from '../common/text';

/** Unicode format characters (zero-width, bidi marks and overrides, BOM, tags…): invisible, used to spoof names. */
const INVISIBLE = /\p{Cf}/u;

/**
 * Validates a vendor-bound name before any vendor call: NFC form, no control or invisible
 * characters, a charset and a byte (UTF-8) limit. Throws BAD_USER_INPUT naming the field.
 */
export function vendorName(
  value: string,
  field: string,
  opts: { pattern: RegExp; maxBytes: number; describe: string },
): string {
  if (value.length === 0) throw DomainException.badInput(field, `${field} must not be empty`);
  if (value !== value.normalize('NFC'))
    throw DomainException.badInput(field, `${field} must be in Unicode NFC form`);
  if (hasControlChars(value) || INVISIBLE.test(value)) {
    throw DomainException.badInput(field, `${field} contains control or invisible characters`);
  }
  if (Buffer.byteLength(value, 'utf8') > opts.maxBytes) {
    throw DomainException.badInput(
      field,
      `${field} must be at most ${opts.maxBytes} bytes (UTF-8)`,
    );
  }
  if (!opts.pattern.test(value)) throw DomainException.badInput(field, `${field} ${opts.describe}`);
  return value;
}

/** Agora channel names: < 64 bytes from Agora's documented charset. */
export const AGORA_CHANNEL = {
  pattern: /^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@[\]^_{}|~,]+$/,
  maxBytes: 63,
  describe:
    'may only contain a-z A-Z 0-9 space and ! # $ % & ( ) + - : ; < = . > ? @ [ ] ^ _ { } | ~ ,',
};

/** OpenVidu customSessionId, Red5 stream names and our canonical ids. */
export const SAFE_ID = {
  pattern: /^[a-zA-Z0-9_-]+$/,
  maxBytes: 100,
  describe: 'may only contain a-z A-Z 0-9 _ -',
};

/** LiveKit room names and identities: printable, no path or query separators. */
export const LIVEKIT_NAME = {
  pattern: /^[^/\\?#%\s][^/\\?#%]*$/u,
  maxBytes: 128,
  describe: 'must not start with a space or contain / \\ ? # %',
};

/** Display names and free-form labels: printable, no leading or trailing spaces. */
export const DISPLAY_TEXT = {
  pattern: /^\S(?:.*\S)?$/su,
  maxBytes: 800,
  describe: 'must not start or end with spaces',
};

/** Roomkey-side idempotency keys (customSessionId): printable, at most 200 bytes. */
export const CUSTOM_KEY = { pattern: /^.+$/su, maxBytes: 200, describe: 'must not be empty' };
