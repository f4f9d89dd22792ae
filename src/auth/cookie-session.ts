import { type Request, type Response } from 'express';
import { DomainException } from '../common/errors';

/**
 * Cookie sessions (README "Cookie sessions"): the OpenVidu document's second sign-in strategy.
 * `login(input: {…, cookie: true})` and `exchangeLoginCode(code, cookie: true)` put the session's
 * access token in an HttpOnly cookie and its refresh token in a second, SameSite=Strict one (on
 * plain loopback HTTP sent to /graphql only; `__Host-` cookies must have Path=/); GraphQL and the
 * compatibility routes then accept the access cookie in place of a header.
 *
 * Over HTTPS the cookies are `__Host-` prefixed and Secure (host-only, Path=/, never set by a
 * sibling domain); over plain HTTP only on a loopback host (development), without the prefix;
 * plain HTTP elsewhere is refused. SameSite=Lax: a cross-site page never sends them with a fetch,
 * and every request they authenticate must also pass {@link cookieRequestAllowed}.
 */
const ACCESS = 'rk_session';
const REFRESH = 'rk_refresh';
const LOOPBACK = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\])(?::\d+)?$/i;

interface CookieMode {
  secure: boolean;
  access: string;
  refresh: string;
}

/** The cookie names and security for this request; null where no cookie may be set or read. */
function modeOf(req: Request): CookieMode | null {
  if (req.secure) return { secure: true, access: `__Host-${ACCESS}`, refresh: `__Host-${REFRESH}` };
  if (LOOPBACK.test(req.headers.host ?? ''))
    return { secure: false, access: ACCESS, refresh: REFRESH };
  return null;
}

/** One cookie of the request's `Cookie` header (the first of that name), or undefined. */
function cookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      const value = part.slice(eq + 1).trim();
      return /^[A-Za-z0-9._~+/=-]{1,4096}$/.test(value) ? value : undefined;
    }
  }
  return undefined;
}

/** The access token of the request's session cookie (only when no Authorization header is sent). */
export function sessionCookieToken(req: Request): string | undefined {
  if (req.headers.authorization !== undefined) return undefined;
  const mode = modeOf(req);
  return mode ? cookie(req, mode.access) : undefined;
}

/** The refresh token of the request's refresh cookie. */
export function refreshCookieToken(req: Request): string | undefined {
  const mode = modeOf(req);
  return mode ? cookie(req, mode.refresh) : undefined;
}

function serialize(
  name: string,
  value: string,
  opts: { maxAge: number; path: string; sameSite: 'Lax' | 'Strict'; secure: boolean },
): string {
  return [
    `${name}=${value}`,
    `Path=${opts.path}`,
    `Max-Age=${opts.maxAge}`,
    'HttpOnly',
    `SameSite=${opts.sameSite}`,
    ...(opts.secure ? ['Secure'] : []),
  ].join('; ');
}

function append(res: Response, cookies: string[]): void {
  const prior = res.getHeader('set-cookie');
  const list = prior === undefined ? [] : Array.isArray(prior) ? prior : [String(prior)];
  res.setHeader('Set-Cookie', [...list, ...cookies]);
}

/** Refuses a cookie session where its cookies would travel in clear (plain HTTP off loopback). */
export function assertCookieSessionPossible(req: Request): CookieMode {
  const mode = modeOf(req);
  if (!mode) {
    throw DomainException.badInput(
      'cookie',
      'Cookie sessions need HTTPS (plain HTTP is allowed on a loopback host only)',
    );
  }
  return mode;
}

/** Sets the session's two cookies (see assertCookieSessionPossible). */
export function setSessionCookies(
  req: Request,
  res: Response,
  tokens: { accessToken: string; refreshToken: string; expiresAt: Date },
  refreshTtlSeconds: number,
): void {
  const mode = assertCookieSessionPossible(req);
  const accessAge = Math.max(1, Math.floor((tokens.expiresAt.getTime() - Date.now()) / 1000));
  append(res, [
    serialize(mode.access, tokens.accessToken, {
      maxAge: accessAge,
      path: '/',
      sameSite: 'Lax',
      secure: mode.secure,
    }),
    // Only GraphQL (refreshToken, logout) needs it; `__Host-` requires Path=/.
    serialize(mode.refresh, tokens.refreshToken, {
      maxAge: refreshTtlSeconds,
      path: mode.secure ? '/' : '/graphql',
      sameSite: 'Strict',
      secure: mode.secure,
    }),
  ]);
}

/** Expires both cookies (logout). */
export function clearSessionCookies(req: Request, res: Response): void {
  const mode = modeOf(req);
  if (!mode) return;
  append(res, [
    serialize(mode.access, '', { maxAge: 0, path: '/', sameSite: 'Lax', secure: mode.secure }),
    serialize(mode.refresh, '', {
      maxAge: 0,
      path: mode.secure ? '/' : '/graphql',
      sameSite: 'Strict',
      secure: mode.secure,
    }),
  ]);
}

/**
 * Cross-site request forgery stays closed for cookie-authenticated requests: the browser's
 * `Origin` must be Roomkey's own or one the tenant allowed for its compatibility routes; a request
 * without `Origin` must be marked same-origin by the browser (`Sec-Fetch-Site`). Anything else —
 * another site's form, a page on another origin, a client that sends the cookie but neither
 * header — is refused. (GraphQL keeps Apollo's preflight rule on top: a cross-origin JSON POST
 * needs a CORS preflight, which /graphql never grants.)
 */
export function cookieRequestAllowed(req: Request, allowedOrigins: readonly string[]): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) {
    const self = `${req.protocol}://${req.headers.host ?? ''}`;
    return origin === self || allowedOrigins.includes(origin);
  }
  return req.headers['sec-fetch-site'] === 'same-origin';
}
