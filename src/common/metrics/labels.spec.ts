import { authReasonClass, codeName, issueLane, rateLimitLane } from './labels';

describe('metric labels', () => {
  it.each([
    ['missing_credentials', 'missing'],
    ['bad_password', 'bad_credentials'],
    ['unknown_user', 'bad_credentials'],
    ['bad_secret', 'bad_credentials'],
    ['invalid_refresh_token', 'bad_credentials'],
    ['token_expired', 'expired'],
    ['refresh_token_expired', 'expired'],
    ['token_not_yet_valid', 'expired'],
    ['refresh_token_reused', 'revoked'],
    ['session_revoked', 'revoked'],
    ['no_membership', 'revoked'],
    ['malformed_basic_header', 'malformed'],
    ['unsupported_credentials', 'malformed'],
    ['alg_not_allowed', 'invalid_token'],
    ['wrong_audience', 'invalid_token'],
    ['unknown_kid', 'invalid_token'],
    ['join_link_origin', 'refused'],
    ['locked', 'locked'],
    ['strategy_error', 'other'],
    ['', 'other'],
    ['Bearer abc.def.ghi', 'other'],
  ])('should class the reason %j as %s', (reason, cls) => {
    expect(authReasonClass(reason)).toBe(cls);
  });

  it.each([
    ['graphql:login', 'graphql'],
    ['POST /t/:tenantSlug/red5/validateCredentials', 'red5'],
    ['POST /t/:tenantSlug/webhooks/livekit/:credentialId', 'webhook'],
    ['GET /auth/oidc/:slug/callback', 'sso'],
    ['POST /t/:tenantSlug/livekit/token', 'compat'],
    ['GET /health/ready', 'other'],
    ['GET /t-raw-path-with-an-id-5f1c', 'other'],
  ])('should name the lane of %j %s', (route, lane) => {
    expect(rateLimitLane(route)).toBe(lane);
  });

  it('should keep code names and refuse anything else as other', () => {
    expect(codeName('graphql:createConnection')).toBe('graphql:createConnection');
    expect(codeName('agora.rtc')).toBe('agora.rtc');
    expect(codeName('ip_login')).toBe('ip_login');
    expect(codeName('a b')).toBe('other');
    expect(codeName('x'.repeat(61))).toBe('other');
    expect(codeName('4f8c-uuid')).toBe('other');
    expect(codeName(null)).toBe('other');
  });

  it('should name the issue lane from the join link first, then the channel', () => {
    expect(issueLane(true, 'compat.livekit')).toBe('join_link');
    expect(issueLane(false, 'graphql')).toBe('graphql');
    expect(issueLane(false, 'compat.agora')).toBe('compat');
  });
});
