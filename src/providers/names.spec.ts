import { DomainException, ErrorCode } from '../common/errors';
import { AGORA_CHANNEL, LIVEKIT_NAME, SAFE_ID, vendorName } from './names';

type Rule = Parameters<typeof vendorName>[2];

const NFC_CAFE = 'caf\u00e9';
const NFD_CAFE = 'cafe\u0301';

/** The DomainException `vendorName` throws, or a test failure when it accepts the value. */
function refusal(value: string, rule: Rule, field = 'name'): DomainException {
  try {
    vendorName(value, field, rule);
  } catch (err) {
    if (err instanceof DomainException) return err;
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

describe('vendorName', () => {
  it('should return the value unchanged when it is valid', () => {
    expect(vendorName('Room_1-a', 'sessionId', SAFE_ID)).toBe('Room_1-a');
  });

  it('should name the field and use BAD_USER_INPUT when a value is refused', () => {
    const err = refusal('has space', SAFE_ID, 'customSessionId');
    expect(err.code).toBe(ErrorCode.BAD_USER_INPUT);
    expect(err.field).toBe('customSessionId');
    expect(err.reason).toBe('invalid_input');
    expect(err.message).toBe('customSessionId may only contain a-z A-Z 0-9 _ -');
  });

  it.each([
    ['SAFE_ID', SAFE_ID],
    ['AGORA_CHANNEL', AGORA_CHANNEL],
    ['LIVEKIT_NAME', LIVEKIT_NAME],
  ])('should refuse an empty value when the rule is %s', (_name, rule) => {
    expect(refusal('', rule).message).toBe('name must not be empty');
  });

  describe('AGORA_CHANNEL (< 64 bytes, Agora charset)', () => {
    const allowedPunctuation = ' !#$%&()+-:;<=.>?@[]^_{}|~,';

    it('should accept exactly 63 bytes when the name is ASCII', () => {
      const name = 'c'.repeat(63);
      expect(vendorName(name, 'channelName', AGORA_CHANNEL)).toBe(name);
    });

    it.each([64, 65])('should refuse %i ASCII bytes with the byte-limit message', (length) => {
      const err = refusal('c'.repeat(length), AGORA_CHANNEL, 'channelName');
      expect(err.message).toBe('channelName must be at most 63 bytes (UTF-8)');
    });

    it('should accept every character of the documented charset when used together', () => {
      const name = `azAZ09${allowedPunctuation}`;
      expect(vendorName(name, 'channelName', AGORA_CHANNEL)).toBe(name);
    });

    it('should refuse 21 euro signs (63 bytes) by charset when the bytes fit but are not ASCII', () => {
      const name = '\u20ac'.repeat(21);
      expect(bytes(name)).toBe(63);
      expect(refusal(name, AGORA_CHANNEL, 'channelName').message).toBe(
        `channelName ${AGORA_CHANNEL.describe}`,
      );
    });

    it('should refuse 22 euro signs (66 bytes, 22 UTF-16 units) by bytes when they exceed 63 bytes', () => {
      const name = '\u20ac'.repeat(22);
      expect(name.length).toBeLessThan(64);
      expect(refusal(name, AGORA_CHANNEL, 'channelName').message).toMatch(/at most 63 bytes/);
    });

    it.each([
      ['slash', 'a/b'],
      ['backslash', 'a\\b'],
      ['asterisk', 'a*b'],
      ['single quote', "it's"],
      ['double quote', 'a"b'],
      ['backtick', 'a`b'],
      ['CJK', 'room\u4e2d'],
      ['NFC accent', NFC_CAFE],
      ['emoji', 'party\u{1f389}'],
    ])('should refuse a name with a %s when it is outside the charset', (_label, name) => {
      expect(refusal(name, AGORA_CHANNEL).message).toBe(`name ${AGORA_CHANNEL.describe}`);
    });
  });

  describe('SAFE_ID (OpenVidu customSessionId, ≤ 100 bytes of [a-zA-Z0-9_-])', () => {
    it('should accept 100 characters when they are all allowed', () => {
      expect(vendorName('a'.repeat(100), 'id', SAFE_ID)).toHaveLength(100);
    });

    it('should refuse 101 characters with the byte-limit message', () => {
      expect(refusal('a'.repeat(101), SAFE_ID).message).toBe(
        'name must be at most 100 bytes (UTF-8)',
      );
    });

    it.each([
      ['a space', 'a b'],
      ['a path traversal', '../x'],
      ['a dot', 'a.b'],
      ['a percent-encoded NUL', '%00'],
      ['a slash', 'a/b'],
      ['a colon', 'a:b'],
      ['an NFC accent', NFC_CAFE],
    ])('should refuse %s when it is outside the charset', (_label, value) => {
      expect(refusal(value, SAFE_ID).message).toBe(`name ${SAFE_ID.describe}`);
    });
  });

  describe('LIVEKIT_NAME (≤ 128 bytes, printable, no separators)', () => {
    it('should accept 128 bytes of multi-byte characters when they are printable', () => {
      const name = '\u00e9'.repeat(64);
      expect(bytes(name)).toBe(128);
      expect(vendorName(name, 'roomName', LIVEKIT_NAME)).toBe(name);
    });

    it('should accept 32 four-byte emoji (128 bytes) when they are printable', () => {
      const name = '\u{1f389}'.repeat(32);
      expect(vendorName(name, 'roomName', LIVEKIT_NAME)).toBe(name);
    });

    it.each([
      ['129 ASCII bytes', 'r'.repeat(129)],
      ['130 bytes of 65 two-byte characters', '\u00e9'.repeat(65)],
      ['132 bytes of 33 emoji', '\u{1f389}'.repeat(33)],
    ])('should refuse %s with the byte-limit message', (_label, value) => {
      expect(bytes(value)).toBeGreaterThan(128);
      expect(refusal(value, LIVEKIT_NAME).message).toBe('name must be at most 128 bytes (UTF-8)');
    });

    it('should accept spaces inside a name when it does not start with one', () => {
      expect(vendorName('weekly sync', 'roomName', LIVEKIT_NAME)).toBe('weekly sync');
    });

    it.each([
      ['a leading space', ' room'],
      ['a slash', 'a/b'],
      ['a backslash', 'a\\b'],
      ['a question mark', 'a?b'],
      ['a hash', 'a#b'],
      ['a percent sign', 'a%2Fb'],
    ])('should refuse %s when it could break a path or query', (_label, value) => {
      expect(refusal(value, LIVEKIT_NAME).message).toBe(`name ${LIVEKIT_NAME.describe}`);
    });
  });

  describe.each([
    ['AGORA_CHANNEL', AGORA_CHANNEL],
    ['SAFE_ID', SAFE_ID],
    ['LIVEKIT_NAME', LIVEKIT_NAME],
  ])('spoofing and control characters with %s', (_name, rule) => {
    it.each([
      ['zero-width space U+200B', 'ab\u200bc'],
      ['zero-width joiner U+200D', 'ab\u200dc'],
      ['left-to-right mark U+200E', 'ab\u200ec'],
      ['right-to-left mark U+200F', 'ab\u200fc'],
      ['RTL override U+202E', 'ab\u202ecod.exe'],
      ['LTR embedding U+202A', '\u202aabc'],
      ['word joiner U+2060', 'a\u2060b'],
      ['first strong isolate U+2068', 'a\u2068b'],
      ['byte order mark U+FEFF', '\ufeffabc'],
    ])('should refuse a %s with the invisible-character message', (_label, value) => {
      expect(refusal(value, rule).message).toBe('name contains control or invisible characters');
    });

    it.each([
      ['NUL', 'a\u0000b'],
      ['tab', 'a\tb'],
      ['line feed', 'a\nb'],
      ['carriage return', 'a\rb'],
      ['escape', 'a\u001bb'],
      ['DEL', 'a\u007fb'],
      ['C1 NEL U+0085', 'a\u0085b'],
      ['C1 CSI U+009B', 'a\u009bb'],
    ])('should refuse a %s with the control-character message', (_label, value) => {
      expect(refusal(value, rule).message).toBe('name contains control or invisible characters');
    });

    it('should refuse the NFD form with the NFC message when accents are decomposed', () => {
      expect(NFD_CAFE.normalize('NFC')).toBe(NFC_CAFE);
      expect(refusal(NFD_CAFE, rule).message).toBe('name must be in Unicode NFC form');
    });
  });

  it('should accept the NFC form when the rule allows non-ASCII characters', () => {
    expect(vendorName(NFC_CAFE, 'roomName', LIVEKIT_NAME)).toBe(NFC_CAFE);
  });

  it('should refuse the Arabic letter mark U+061C (a bidi control) when a LiveKit name carries it', () => {
    // U+061C is a bidi formatting mark like U+200F, invisible on screen: it can spoof a name.
    expect(refusal('room\u061cevil', LIVEKIT_NAME).message).toBe(
      'name contains control or invisible characters',
    );
  });
});
