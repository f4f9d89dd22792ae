import { DomainException, ErrorCode } from '../src/common/errors';
import {
  isAllowedRedirect,
  validateRedirectUri,
  withParams,
} from '../src/auth/identity-providers/redirects';

/**
 * docs/security.md S4: redirects go only where allowed. `validateRedirectUri` decides what an admin
 * may put on the allow-list; `isAllowedRedirect` decides whether a browser-supplied value is on it.
 */

const ALLOWED = 'https://app.example/cb';
const LOCAL = 'http://localhost:5173/after-login';
const ALLOW_LIST = [ALLOWED, LOCAL];
const KIB4 = 'a'.repeat(4096);

/** The error `validateRedirectUri` throws for `value`, or null when it accepts the value. */
function rejectionOf(value: string): DomainException | null {
  try {
    validateRedirectUri(value, 'redirectUris[0]');
    return null;
  } catch (err) {
    if (err instanceof DomainException) return err;
    throw err;
  }
}

describe('validateRedirectUri', () => {
  it.each([
    ['an https URI', 'https://app.example/cb'],
    ['an https URI with a query', 'https://app.example/cb?tenant=a'],
    ['an https URI with a non-default port', 'https://app.example:8443/cb'],
    ['an https origin without a path', 'https://app.example'],
    ['an https origin with the root path', 'https://app.example/'],
    ['an https URI with a punycode host', 'https://xn--bcher-kva.example/cb'],
    ['http on localhost', 'http://localhost:5173/after-login'],
    ['http on 127.0.0.1', 'http://127.0.0.1:8080/cb'],
    ['http on [::1]', 'http://[::1]:3000/cb'],
    ['a URI of exactly 2000 characters', `https://app.example/${'b'.repeat(2000 - 20)}`],
  ])('should accept the value unchanged when it is %s', (_label, value) => {
    expect(rejectionOf(value)).toBeNull();
    expect(validateRedirectUri(value, 'redirectUris[0]')).toBe(value);
  });

  it.each([
    // docs/security.md S4 values that are not absolute http(s) URLs without credentials.
    ['a protocol-relative URL (//evil.com)', '//evil.com'],
    ['a backslash path (/\\evil.com)', '/\\evil.com'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a percent-encoded protocol-relative URL', '%2F%2Fevil.com'],
    ['a URL with a username (https://ok@evil.com)', 'https://ok@evil.com'],
    ['a URL with username and password', 'https://user:pass@app.example/cb'],
    ['a URL with an empty username and a password', 'https://:pass@app.example/cb'],
    // Shape rules.
    ['an empty string', ''],
    ['a relative path', '/after-login'],
    ['a scheme-less host', 'app.example/cb'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['a file: URL', 'file:///etc/passwd'],
    ['an ftp URL', 'ftp://app.example/cb'],
    ['http on a public host', 'http://app.example/cb'],
    ['http on a host that starts with localhost', 'http://localhost.evil.com/cb'],
    ['http on a host that starts with 127.0.0.1', 'http://127.0.0.1.nip.io/cb'],
    ['a fragment', 'https://app.example/cb#x'],
    ['an empty fragment', 'https://app.example/cb#'],
    ['an upper-case scheme and host (HTTPS://APP.EXAMPLE/cb)', 'HTTPS://APP.EXAMPLE/cb'],
    ['an upper-case host on localhost', 'http://LOCALHOST:5173/after-login'],
    ['a unicode host (not in punycode form)', 'https://bücher.example/cb'],
    ['a unicode homograph host', 'https://аpp.example/cb'],
    ['the default port spelled out', 'https://app.example:443/cb'],
    ['dot segments in the path', 'https://app.example/a/../cb'],
    ['a backslash after the host', 'https://app.example\\@evil.com/cb'],
    ['a space in the path', 'https://app.example/c b'],
    ['a trailing CR/LF', 'https://app.example/cb\r\n'],
    ['CR/LF inside the path', 'https://app.example/c\r\nSet-Cookie: a=1'],
    ['a bare LF inside the host', 'https://app.\nexample/cb'],
    ['a tab', 'https://app.example/\tcb'],
    ['a NUL character', 'https://app.example/cb\u0000'],
    ['a C1 control character', 'https://app.example/cb\u0085'],
    ['a 4 KiB value', `https://app.example/${KIB4}`],
    ['a value of 2001 characters', `https://app.example/${'b'.repeat(2001 - 20)}`],
  ])(
    'should refuse with BAD_USER_INPUT on the given field when the value is %s',
    (_label, value) => {
      const error = rejectionOf(value);
      expect(error).not.toBeNull();
      expect(error?.code).toBe(ErrorCode.BAD_USER_INPUT);
      expect(error?.field).toBe('redirectUris[0]');
    },
  );

  it('should accept an https URI to any host when its shape is valid (the allow-list decides where, not the shape)', () => {
    // https://evil.com is a well-formed URI; an admin may list any host. The browser-facing check is
    // isAllowedRedirect, below, which refuses it unless the tenant listed it exactly.
    expect(validateRedirectUri('https://evil.com', 'f')).toBe('https://evil.com');
    expect(isAllowedRedirect('https://evil.com', ALLOW_LIST)).toBe(false);
  });

  it('should name the field in the message when the value is refused', () => {
    expect(() => validateRedirectUri('//evil.com', 'redirectUris[3]')).toThrow(/redirectUris\[3]/);
  });
});

describe('isAllowedRedirect', () => {
  it.each([
    ['the listed https URI', ALLOWED],
    ['the listed localhost URI', LOCAL],
  ])('should allow the value when it is %s exactly', (_label, value) => {
    expect(isAllowedRedirect(value, ALLOW_LIST)).toBe(true);
  });

  it.each([
    // docs/security.md S4.
    ['//evil.com', '//evil.com'],
    ['https://evil.com', 'https://evil.com'],
    ['/\\evil.com', '/\\evil.com'],
    ['javascript:alert(1)', 'javascript:alert(1)'],
    ['%2F%2Fevil.com', '%2F%2Fevil.com'],
    ['https://ok@evil.com', 'https://ok@evil.com'],
    // Near misses of a listed URI.
    ['the listed URI with a userinfo prefix', 'https://ok@app.example/cb'],
    ['the listed host used as userinfo', 'https://app.example/cb@evil.com'],
    ['the listed URI with a trailing slash', `${ALLOWED}/`],
    ['the listed URI with an extra query', `${ALLOWED}?next=/admin`],
    ['the listed URI with an empty query', `${ALLOWED}?`],
    ['the listed URI with a fragment', `${ALLOWED}#x`],
    ['the listed URI with an extra path segment', `${ALLOWED}/../../evil`],
    ['a prefix of the listed URI', 'https://app.example/c'],
    ['the listed URI as a prefix of another host', 'https://app.example.evil.com/cb'],
    ['the listed URI in upper case (HTTPS://APP.EXAMPLE/cb)', 'HTTPS://APP.EXAMPLE/cb'],
    ['the listed URI with an upper-case path', 'https://app.example/CB'],
    ['the listed URI over http', 'http://app.example/cb'],
    ['the listed URI with the default port spelled out', 'https://app.example:443/cb'],
    ['the listed URI percent-encoded', encodeURIComponent(ALLOWED)],
    ['the listed URI with a homograph host', 'https://аpp.example/cb'],
    ['the listed URI with surrounding spaces', ` ${ALLOWED} `],
    ['the listed URI followed by CR/LF', `${ALLOWED}\r\n`],
    ['the listed URI followed by a header injection', `${ALLOWED}\r\nSet-Cookie: a=1`],
    ['the listed URI followed by a NUL', `${ALLOWED}\u0000`],
    ['the listed URI with a 4 KiB query', `${ALLOWED}?${KIB4}`],
    ['an empty string', ''],
  ])('should refuse the value when it is %s', (_label, value) => {
    expect(isAllowedRedirect(value, ALLOW_LIST)).toBe(false);
  });

  it('should refuse a unicode host when the allow-list holds its punycode form, and the other way round', () => {
    expect(
      isAllowedRedirect('https://bücher.example/cb', ['https://xn--bcher-kva.example/cb']),
    ).toBe(false);
    expect(
      isAllowedRedirect('https://xn--bcher-kva.example/cb', ['https://bücher.example/cb']),
    ).toBe(false);
    expect(
      isAllowedRedirect('https://xn--bcher-kva.example/cb', ['https://xn--bcher-kva.example/cb']),
    ).toBe(true);
  });

  it('should refuse the lower-case URI when the allow-list holds an upper-case spelling', () => {
    expect(isAllowedRedirect('https://app.example/cb', ['HTTPS://APP.EXAMPLE/cb'])).toBe(false);
  });

  it('should refuse a value longer than 2000 characters when it is on the allow-list verbatim', () => {
    const long = `https://app.example/${KIB4}`;
    expect(isAllowedRedirect(long, [long])).toBe(false);
    const limit = `https://app.example/${'b'.repeat(2000 - 20)}`;
    expect(limit).toHaveLength(2000);
    expect(isAllowedRedirect(limit, [limit])).toBe(true);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 42],
    ['an array holding the listed URI', [ALLOWED]],
    ['an object whose toString is the listed URI', { toString: () => ALLOWED }],
    ['a String object of the listed URI', new String(ALLOWED)],
  ])('should refuse a non-string value when it is %s', (_label, value) => {
    expect(isAllowedRedirect(value, ALLOW_LIST)).toBe(false);
  });

  it('should refuse every value when the allow-list is empty', () => {
    expect(isAllowedRedirect(ALLOWED, [])).toBe(false);
    expect(isAllowedRedirect('', [])).toBe(false);
  });
});

describe('withParams', () => {
  it('should add the parameter and keep the allow-listed origin, path and query when appending a code', () => {
    const out = new URL(withParams('https://app.example/cb?tenant=a', { code: 'rkc_x' }));
    expect(out.origin).toBe('https://app.example');
    expect(out.pathname).toBe('/cb');
    expect(out.searchParams.get('tenant')).toBe('a');
    expect(out.searchParams.get('code')).toBe('rkc_x');
  });

  it('should encode the value so it cannot add parameters or change the destination when it holds & # / characters', () => {
    const out = new URL(
      withParams('https://app.example/cb', { error: 'x&code=evil#https://evil.com/' }),
    );
    expect(out.host).toBe('app.example');
    expect(out.hash).toBe('');
    expect([...out.searchParams.keys()]).toEqual(['error']);
    expect(out.searchParams.get('error')).toBe('x&code=evil#https://evil.com/');
  });

  it('should replace a parameter of the same name when the allow-listed URI already has one', () => {
    const out = new URL(withParams('https://app.example/cb?code=stale', { code: 'fresh' }));
    expect(out.searchParams.getAll('code')).toEqual(['fresh']);
  });
});
