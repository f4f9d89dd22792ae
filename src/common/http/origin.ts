import { DomainException } from '../errors';

/** `https://app.example.com` or `http://localhost:5173`: scheme, host and optional port only. */
export function exactOrigin(value: string, index: number): string {
  const field = `origins[${index}]`;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw DomainException.badInput(
      field,
      `${field} must be an origin like https://app.example.com`,
    );
  }
  if (
    (u.protocol !== 'http:' && u.protocol !== 'https:') ||
    u.origin !== value.replace(/\/$/, '') ||
    u.hostname.includes('*')
  ) {
    throw DomainException.badInput(
      field,
      `${field} must be exactly scheme://host[:port] (http or https), without path, wildcard or credentials`,
    );
  }
  return u.origin;
}
