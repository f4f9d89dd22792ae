/**
 * Label values for the domain metrics, each from a closed set: whatever the input, the result is
 * one of a few names fixed here (or a code constant that passed `codeName`), so a metric's series
 * stay bounded and never carry an identifier or a client's text.
 */

const CODE_NAME = /^[A-Za-z][A-Za-z0-9_.:]{0,59}$/;

/** A name from code (a route constant, a limiter name); anything else is `other`. */
export function codeName(value: string | null | undefined): string {
  return value && CODE_NAME.test(value) ? value : 'other';
}

/** Failure reason codes, grouped: the audit log keeps the exact code, the metric its class. */
const AUTH_REASON_CLASSES: Array<[RegExp, string]> = [
  [/^(missing_credentials|no_principal)$/, 'missing'],
  [/expired|not_yet_valid/, 'expired'],
  [/revoked|reused|replayed|removed|not_a_member|no_membership/, 'revoked'],
  [/^(locked|[a-z_]+_locked)$/, 'locked'],
  [
    /^(bad_secret|bad_password|unknown_user|unknown_key|unknown_link|invalid_refresh_token|invalid_login_code)$/,
    'bad_credentials',
  ],
  [/^(join_link_vendor|join_link_origin|cookie_origin|email_belongs_to_other_account)$/, 'refused'],
  [
    /malformed|missing|too_large|doctype|bad_tenant_header|unsupported|no_profile|email_/,
    'malformed',
  ],
  [
    /token|signature|alg|kid|issuer|audience|claim|destination|recipient|in_response_to|relay_state|digest|response_invalid/,
    'invalid_token',
  ],
];

/** The class of an authentication failure reason code (see the help of the auth metric). */
export function authReasonClass(reason: string | null | undefined): string {
  if (!reason) return 'other';
  for (const [pattern, cls] of AUTH_REASON_CLASSES) if (pattern.test(reason)) return cls;
  return 'other';
}

/**
 * The lane of a rate-limited route, from the route name the limiter is given: `graphql:<field>`
 * or `<METHOD> <route pattern>` (src/rate-limits/rate-limit.guard.ts `routeOf`).
 */
export function rateLimitLane(route: string): string {
  if (route.startsWith('graphql')) return 'graphql';
  if (route.includes('/red5/')) return 'red5';
  if (route.includes('/webhooks/')) return 'webhook';
  if (/ \/auth\/(oidc|saml)\//.test(route)) return 'sso';
  if (route.includes(' /t/')) return 'compat';
  return 'other';
}

/** The lane a credential was issued through: a join link, GraphQL, or a compatibility route. */
export function issueLane(joinLink: boolean, via: string): 'join_link' | 'graphql' | 'compat' {
  if (joinLink) return 'join_link';
  return via === 'graphql' ? 'graphql' : 'compat';
}
