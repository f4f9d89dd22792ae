import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt } from 'jose';
import { AuthMethod, MemberRole } from '../src/common/auth/roles';
import { SessionCheckService } from '../src/auth/tokens/session-check.service';
import { TokenService } from '../src/auth/tokens/token.service';
import {
  seedApiKey,
  seedMember,
  seedTenant,
  type SeededTenant,
  type SeededUser,
  TEST_PASSWORD,
} from './factories/tenancy';
import { auditRows } from './helpers/audit';
import { errorCode, type GqlResult, startTestApp, type TestApp } from './helpers/test-app';

/**
 * docs/decisions.md#issue-4 item 1 and docs/security.md S1, S5 and S10: password login, refresh-token rotation with family
 * revocation on reuse, logout, one-time login codes — and no token ever in the audit log or logs.
 */

interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  tenant: { slug: string };
  user: { email: string };
}

const PAYLOAD = 'accessToken refreshToken expiresAt tenant { slug } user { email }';
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { ${PAYLOAD} } }`;
const REFRESH = `mutation($r: String!) { refreshToken(refreshToken: $r) { ${PAYLOAD} } }`;
const EXCHANGE = `mutation($c: String!) { exchangeLoginCode(code: $c) { ${PAYLOAD} } }`;
const LOGOUT = 'mutation { logout }';
const ME = '{ me { role authMethod tenant { slug } user { email } } }';
const REMOVE = 'mutation($id: ID!) { removeMember(memberId: $id) { id } }';

const uniq = (): string => randomBytes(4).toString('hex');
const sha256Hex = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
let requestCounter = 0;
const rid = (): string => `refresh-${++requestCounter}-${uniq()}`;

describe('login, refresh tokens, logout and login codes', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let member: SeededUser;
  /** Every secret handed out in this file; none may ever reach audit_event or the logs. */
  const secrets = new Set<string>();

  const remember = (p: AuthPayload): AuthPayload => {
    secrets.add(p.accessToken);
    secrets.add(p.accessToken.split('.')[2]);
    secrets.add(p.refreshToken);
    return p;
  };

  const loginRaw = (
    input: { email: string; password: string; tenantSlug: string },
    requestId = rid(),
  ): Promise<GqlResult<{ login: AuthPayload }>> =>
    t.gql<{ login: AuthPayload }>(LOGIN, { input }, { headers: { 'x-request-id': requestId } });

  const login = async (user: SeededUser = member, slug = tenant.slug): Promise<AuthPayload> => {
    const r = await loginRaw({ email: user.email, password: user.password, tenantSlug: slug });
    expect(r.body.errors).toBeUndefined();
    return remember(r.body.data!.login);
  };

  const refreshRaw = (
    token: string,
    requestId = rid(),
  ): Promise<GqlResult<{ refreshToken: AuthPayload }>> =>
    t.gql<{ refreshToken: AuthPayload }>(
      REFRESH,
      { r: token },
      { headers: { 'x-request-id': requestId } },
    );

  const refresh = async (token: string): Promise<AuthPayload> => {
    const r = await refreshRaw(token);
    expect(r.body.errors).toBeUndefined();
    return remember(r.body.data!.refreshToken);
  };

  const exchangeRaw = (
    code: string,
    requestId = rid(),
  ): Promise<GqlResult<{ exchangeLoginCode: AuthPayload }>> =>
    t.gql<{ exchangeLoginCode: AuthPayload }>(
      EXCHANGE,
      { c: code },
      { headers: { 'x-request-id': requestId } },
    );

  const me = (accessToken: string) =>
    t.gql<{ me: { role: string; authMethod: string; tenant: { slug: string } } }>(
      ME,
      {},
      { auth: `Bearer ${accessToken}` },
    );

  const createCode = async (user: SeededUser = member, tenantId = tenant.id): Promise<string> => {
    const code = await t.ds.transaction((m) =>
      t.app.get(TokenService).createLoginCode(m, tenantId, user.id, AuthMethod.OIDC),
    );
    secrets.add(code);
    return code;
  };

  function expectUnauthenticated(r: GqlResult): void {
    expect(errorCode(r)).toBe('UNAUTHENTICATED');
    expect(r.body.data ?? null).toBeNull();
  }

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await seedTenant(t);
    member = await seedMember(t, tenant, MemberRole.MEMBER);
  });
  afterAll(() => t?.close());

  describe('login', () => {
    it('should return working tokens and audit auth.login.succeeded when email, password and tenant are right', async () => {
      const requestId = rid();
      const r = await loginRaw(
        { email: member.email, password: member.password, tenantSlug: tenant.slug },
        requestId,
      );
      expect(r.body.errors).toBeUndefined();
      const p = remember(r.body.data!.login);
      expect(p).toMatchObject({ tenant: { slug: tenant.slug }, user: { email: member.email } });
      expect(p.refreshToken).not.toBe(p.accessToken);
      expect(new Date(p.expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 15 * 60_000 + 5_000);

      const who = await me(p.accessToken);
      expect(who.body.errors).toBeUndefined();
      expect(who.body.data?.me).toMatchObject({ role: 'MEMBER', authMethod: 'JWT' });

      const rows = await auditRows(t, { requestId });
      expect(rows.map((e) => e.action)).toEqual(['auth.login.succeeded']);
      expect(rows[0].outcome).toBe('SUCCESS');
      expect(rows[0].tenant_id).toBe(tenant.id);
    });

    it('should refuse with UNAUTHENTICATED and audit the reason when the password is wrong', async () => {
      const requestId = rid();
      const r = await loginRaw(
        { email: member.email, password: 'wrong password 123', tenantSlug: tenant.slug },
        requestId,
      );
      expectUnauthenticated(r);
      const rows = await auditRows(t, { requestId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        action: 'auth.login.failed',
        outcome: 'FAILURE',
        error_code: 'UNAUTHENTICATED',
      });
      expect(rows[0].metadata.reason).toEqual(expect.stringMatching(/^[a-z_]{1,40}$/));
      expect(JSON.stringify(rows[0])).not.toContain('wrong password 123');
    });

    it('should answer exactly like a wrong password when the user does not exist', async () => {
      const wrong = await loginRaw({
        email: member.email,
        password: 'wrong password 123',
        tenantSlug: tenant.slug,
      });
      const requestId = rid();
      const unknown = await loginRaw(
        {
          email: `nobody-${uniq()}@nowhere.test`,
          password: 'wrong password 123',
          tenantSlug: tenant.slug,
        },
        requestId,
      );
      expectUnauthenticated(unknown);
      expect(unknown.status).toBe(wrong.status);
      expect(unknown.body.errors).toEqual(wrong.body.errors);
      const rows = await auditRows(t, { requestId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'auth.login.failed', outcome: 'FAILURE' });
    });

    it('should refuse and audit when the user signs in to a tenant they do not belong to', async () => {
      const other = await seedTenant(t);
      const requestId = rid();
      const r = await loginRaw(
        { email: member.email, password: member.password, tenantSlug: other.slug },
        requestId,
      );
      expectUnauthenticated(r);
      const rows = await auditRows(t, { requestId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'auth.login.failed', outcome: 'FAILURE' });
    });

    it('should refuse and audit when the tenant slug does not exist', async () => {
      const requestId = rid();
      const r = await loginRaw(
        { email: member.email, password: member.password, tenantSlug: `no-such-${uniq()}` },
        requestId,
      );
      expectUnauthenticated(r);
      const rows = await auditRows(t, { requestId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'auth.login.failed', outcome: 'FAILURE' });
    });
  });

  describe('refresh', () => {
    it('should return new tokens and refuse the old refresh token when a refresh token is used', async () => {
      const first = await login();
      const second = await refresh(first.refreshToken);
      expect(second.refreshToken).not.toBe(first.refreshToken);
      expect(second.accessToken).not.toBe(first.accessToken);
      expect(second).toMatchObject({
        tenant: { slug: tenant.slug },
        user: { email: member.email },
      });
      // Same session (refresh family), new token.
      expect(decodeJwt(second.accessToken).sid).toBe(decodeJwt(first.accessToken).sid);
      expect((await me(second.accessToken)).body.errors).toBeUndefined();

      expectUnauthenticated(await refreshRaw(first.refreshToken));
    });

    it('should revoke the whole family and audit auth.refresh.reuse_detected when a rotated token is reused', async () => {
      const first = await login();
      const familyId = decodeJwt(first.accessToken).sid as string;
      const second = await refresh(first.refreshToken);
      const third = await refresh(second.refreshToken);

      const reuseId = rid();
      expectUnauthenticated(await refreshRaw(first.refreshToken, reuseId));
      // The newest token of the family dies with it — the thief and the victim both lose the session.
      expectUnauthenticated(await refreshRaw(third.refreshToken));

      const rows = await auditRows(t, { requestId: reuseId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        action: 'auth.refresh.reuse_detected',
        outcome: 'DENIED',
        tenant_id: tenant.id,
        target_id: familyId,
      });
      const [{ n }] = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM refresh_token WHERE family_id = $1 AND revoked_at IS NULL',
        [familyId],
      );
      expect(n).toBe(0);

      // Its access tokens stop too, once the ≤ 30 s session cache has run out.
      t.app.get(SessionCheckService).invalidate();
      expectUnauthenticated(await me(third.accessToken));
    });

    it('should let exactly one of two concurrent refreshes with the same token succeed', async () => {
      const first = await login();
      const results = await Promise.all([
        refreshRaw(first.refreshToken),
        refreshRaw(first.refreshToken),
      ]);
      for (const r of results) if (r.body.data?.refreshToken) remember(r.body.data.refreshToken);
      const ok = results.filter((r) => !r.body.errors && r.body.data?.refreshToken);
      const refused = results.filter((r) => errorCode(r) === 'UNAUTHENTICATED');
      expect(ok).toHaveLength(1);
      expect(refused).toHaveLength(1);
    });

    it('should let exactly one of five concurrent refreshes with the same token succeed', async () => {
      const first = await login();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => refreshRaw(first.refreshToken)),
      );
      for (const r of results) if (r.body.data?.refreshToken) remember(r.body.data.refreshToken);
      expect(results.filter((r) => !r.body.errors && r.body.data?.refreshToken)).toHaveLength(1);
      expect(results.filter((r) => errorCode(r) === 'UNAUTHENTICATED')).toHaveLength(4);
    });

    it('should refuse and audit the failure when the refresh token has expired', async () => {
      const first = await login();
      await t.ds.query(
        "UPDATE refresh_token SET expires_at = now() - interval '1 second' WHERE token_hash = decode($1, 'hex')",
        [sha256Hex(first.refreshToken)],
      );
      const [{ n }] = await t.ds.query<Array<{ n: number }>>(
        "SELECT count(*)::int AS n FROM refresh_token WHERE token_hash = decode($1, 'hex') AND expires_at < now()",
        [sha256Hex(first.refreshToken)],
      );
      expect(n).toBe(1);

      const requestId = rid();
      expectUnauthenticated(await refreshRaw(first.refreshToken, requestId));
      const rows = await auditRows(t, { requestId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'auth.token.refreshed', outcome: 'FAILURE' });
    });

    it('should refuse and audit the failure when the refresh token is unknown', async () => {
      const requestId = rid();
      expectUnauthenticated(
        await refreshRaw(`rkr_${randomBytes(32).toString('base64url')}`, requestId),
      );
      const rows = await auditRows(t, { requestId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'auth.token.refreshed', outcome: 'FAILURE' });
    });

    it('should refuse the refresh token when the member has been removed from the tenant', async () => {
      const gone = await seedMember(t, tenant, MemberRole.MEMBER);
      const tokens = await login(gone);
      const removed = await t.gql(REMOVE, { id: gone.memberId }, { auth: tenant.owner.auth });
      expect(removed.body.errors).toBeUndefined();
      expectUnauthenticated(await refreshRaw(tokens.refreshToken));
    });

    it('should refuse an access token used as a refresh token', async () => {
      const first = await login();
      const r = await refreshRaw(first.accessToken);
      // Longer than any refresh token, so the input check may refuse it before the lookup does.
      expect(['UNAUTHENTICATED', 'BAD_USER_INPUT']).toContain(errorCode(r));
      expect(r.body.data ?? null).toBeNull();
    });
  });

  describe('logout', () => {
    it('should revoke the session so its refresh token and (after the cache) its access token are refused', async () => {
      const tokens = await login();
      const other = await login(); // a second session of the same user stays alive
      expect((await me(tokens.accessToken)).body.errors).toBeUndefined();

      const out = await t.gql<{ logout: boolean }>(
        LOGOUT,
        {},
        { auth: `Bearer ${tokens.accessToken}` },
      );
      expect(out.body.errors).toBeUndefined();
      expect(out.body.data?.logout).toBe(true);

      expectUnauthenticated(await refreshRaw(tokens.refreshToken));
      t.app.get(SessionCheckService).invalidate();
      expectUnauthenticated(await me(tokens.accessToken));

      expect((await me(other.accessToken)).body.errors).toBeUndefined();
      expect((await refreshRaw(other.refreshToken)).body.errors).toBeUndefined();
    });

    it('should audit auth.logout with the session id when a session is ended', async () => {
      const tokens = await login();
      const requestId = rid();
      const out = await t.gql(
        LOGOUT,
        {},
        { auth: `Bearer ${tokens.accessToken}`, headers: { 'x-request-id': requestId } },
      );
      expect(out.body.errors).toBeUndefined();
      const rows = await auditRows(t, { requestId });
      expect(rows.map((e) => e.action)).toContain('auth.logout');
      expect(rows.find((e) => e.action === 'auth.logout')?.target_id).toBe(
        decodeJwt(tokens.accessToken).sid,
      );
    });

    it('should answer BAD_USER_INPUT when logout is called with Basic password credentials', async () => {
      const r = await t.gql(LOGOUT, {}, { auth: member.auth });
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
    });

    it('should answer BAD_USER_INPUT when logout is called with an API key', async () => {
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      const r = await t.gql(LOGOUT, {}, { auth: key.auth });
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
    });

    it('should answer UNAUTHENTICATED when logout is called without credentials', async () => {
      expectUnauthenticated(await t.gql(LOGOUT));
    });
  });

  describe('exchangeLoginCode', () => {
    it('should return working tokens for the member when a fresh code is exchanged', async () => {
      const code = await createCode();
      const requestId = rid();
      const r = await exchangeRaw(code, requestId);
      expect(r.body.errors).toBeUndefined();
      const p = remember(r.body.data!.exchangeLoginCode);
      expect(p).toMatchObject({ tenant: { slug: tenant.slug }, user: { email: member.email } });
      const who = await me(p.accessToken);
      expect(who.body.errors).toBeUndefined();
      expect(who.body.data?.me).toMatchObject({ role: 'MEMBER', tenant: { slug: tenant.slug } });
      expect((await auditRows(t, { requestId })).map((e) => e.action)).toEqual([
        'auth.code.exchanged',
      ]);
    });

    it('should refuse and audit when the same code is exchanged a second time', async () => {
      const code = await createCode();
      expect((await exchangeRaw(code)).body.errors).toBeUndefined();
      const requestId = rid();
      expectUnauthenticated(await exchangeRaw(code, requestId));
      const rows = await auditRows(t, { requestId });
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ action: 'auth.code.exchanged', outcome: 'FAILURE' });
    });

    it('should let exactly one of two concurrent exchanges of the same code succeed', async () => {
      const code = await createCode();
      const results = await Promise.all([exchangeRaw(code), exchangeRaw(code)]);
      for (const r of results)
        if (r.body.data?.exchangeLoginCode) remember(r.body.data.exchangeLoginCode);
      expect(results.filter((r) => !r.body.errors)).toHaveLength(1);
      expect(results.filter((r) => errorCode(r) === 'UNAUTHENTICATED')).toHaveLength(1);
    });

    it('should refuse the code when it has expired', async () => {
      const code = await createCode();
      await t.ds.query(
        "UPDATE login_code SET expires_at = now() - interval '1 second' WHERE code_hash = decode($1, 'hex')",
        [sha256Hex(code)],
      );
      expectUnauthenticated(await exchangeRaw(code));
    });

    it('should refuse the code when it is garbage', async () => {
      expectUnauthenticated(await exchangeRaw('not-a-code'));
      expectUnauthenticated(await exchangeRaw(`rkc_${randomBytes(32).toString('base64url')}`));
    });

    it('should refuse a refresh token presented as a login code', async () => {
      const tokens = await login();
      expectUnauthenticated(await exchangeRaw(tokens.refreshToken));
    });

    it('should refuse the code when its user is no longer a member of the tenant', async () => {
      const gone = await seedMember(t, tenant, MemberRole.MEMBER);
      const code = await createCode(gone);
      const removed = await t.gql(REMOVE, { id: gone.memberId }, { auth: tenant.owner.auth });
      expect(removed.body.errors).toBeUndefined();
      expectUnauthenticated(await exchangeRaw(code));
    });
  });

  describe('secrets', () => {
    it('should keep every password, access token, refresh token and login code out of audit_event and the logs', async () => {
      // One more full cycle, so this test stands on its own.
      const tokens = await login();
      const next = await refresh(tokens.refreshToken);
      await refreshRaw(tokens.refreshToken); // reuse → family revoked
      await t.gql(LOGOUT, {}, { auth: `Bearer ${next.accessToken}` });
      const code = await createCode();
      const viaCode = await exchangeRaw(code);
      if (viaCode.body.data) remember(viaCode.body.data.exchangeLoginCode);
      await exchangeRaw(code);
      await loginRaw({
        email: member.email,
        password: 'wrong password 123',
        tenantSlug: tenant.slug,
      });
      expect(secrets.size).toBeGreaterThanOrEqual(8);

      t.app.flushLogs();
      const logs = t.logs.join('\n');
      expect(logs.length).toBeGreaterThan(0);
      const rows = await t.ds.query<unknown[]>('SELECT * FROM audit_event');
      const audit = JSON.stringify(rows);
      expect(rows.length).toBeGreaterThanOrEqual(5);

      const leaks = [...secrets, TEST_PASSWORD, 'wrong password 123'].filter(
        (s) => audit.includes(s) || logs.includes(s),
      );
      expect(leaks).toEqual([]);
      // The stored refresh tokens are hashes, never the token itself.
      const stored = JSON.stringify(await t.ds.query<unknown[]>('SELECT * FROM refresh_token'));
      expect([...secrets].filter((s) => s.startsWith('rkr_') && stored.includes(s))).toEqual([]);
    });
  });
});
