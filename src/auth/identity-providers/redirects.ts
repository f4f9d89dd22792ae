import { DomainException } from '../../common/errors';
import { hasControlChars } from '../../common/text';

/**
 * Validates a redirect URI for an allow-list: absolute http(s), no credentials, no fragment.
 * http is accepted only for loopback hosts (local development).
 */
export function validateRedirectUri(uri: string, field: string): string {
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    throw DomainException.badInput(field, `${field}: not an absolute URL`);
  }
  if (uri.length > 2000 || hasControlChars(uri))
    throw DomainException.badInput(field, `${field}: invalid URL`);
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && loopback)) {
    throw DomainException.badInput(field, `${field}: must be https (http only for localhost)`);
  }
  if (u.username || u.password)
    throw DomainException.badInput(field, `${field}: must not contain credentials`);
  if (uri.includes('#'))
    throw DomainException.badInput(field, `${field}: must not contain a fragment`);
  if (u.href !== uri && `${u.href.replace(/\/$/, '')}` !== uri) {
    throw DomainException.badInput(field, `${field}: must be in canonical form (${u.href})`);
  }
  return uri;
}

/**
 * Exact string match against the tenant's allow-list. No prefix, pattern or normalisation:
 * `//evil.com`, `/\evil.com`, `https://ok@evil.com`, `%2F%2Fevil.com`, `javascript:` and every
 * other trick is simply not in the list.
 */
export function isAllowedRedirect(uri: unknown, allowList: readonly string[]): uri is string {
  return typeof uri === 'string' && uri.length <= 2000 && allowList.includes(uri);
}

/** Appends query parameters to an allow-listed redirect URI. */
export function withParams(uri: string, params: Record<string, string>): string {
  const u = new URL(uri);
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
  return u.toString();
}
