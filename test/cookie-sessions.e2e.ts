/**
 * Cookie sessions (README "Cookie sessions", docs/decisions.md#issue-12): `login` and the SSO hand-off
 * (`exchangeLoginCode`) can put the session in HttpOnly cookies; GraphQL and the compatibility
 * routes accept them; logout and refresh-family revocation end them; cross-site request forgery
 * stays closed (SameSite, and the Origin / Sec-Fetch-Site check against the tenant's allowed
 * origins). Over real HTTP with supertest; the same flows in headless Chromium are in
 * test/cookie-browser.e2e-spec.ts.
 */
import { type Response } from 'supertest';
import { AuthMethod } from '../src/common/auth/roles';
import { TokenService } from '../src/auth/tokens/token.service';
import { uniq } from './helpers/assertions';
import { ok, startVendorWorld, type VendorWorld } from './helpers/vendors';

const ALLOWED = 'https://app.example.test';
const OTHER = 'https://evil.example.test';
const LOGIN =
  'mutation ($input: LoginInput!) { login(input: $input) { accessToken refreshToken expiresAt user { email } tenant { slug } } }';
const ME = '{ me { tenant { slug } } }';

/** The `name=value` pairs a response sets, and their attributes. */
function setCookies(res: Response): Map<string, { value: string; attributes: string[] }> {
  const raw = res.headers['set-cookie'] as string[] | string | undefined;
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const out = new Map<string, { value: string; attributes: string[] }>();
  for (const line of list) {
    const [pair, ...attributes] = line.split(';').map((p) => p.trim());
    const eq = pair.indexOf('=');
    out.set(pair.slice(0, eq), { value: pair.slice(eq + 1), attributes });
  }
  return out;
}

describe('cookie sessions', () => {
  let w: VendorWorld;

  beforeAll(async () => {
    // Behind a trusted proxy on loopback: X-Forwarded-Proto https makes a request secure.
    w = await startVendorWorld({ ROOMKEY_TRUST_PROXY: 'loopback' });
    await ok(
      w.t.gql(
        'mutation ($o: [String!]!) { setCompatCorsOrigins(origins: $o) { compatCorsOrigins } }',
        { o: [ALLOWED] },
        { auth: w.a.adminKey },
      ),
    );
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const slug = (): string => w.a.tenant.slug;
  const rtc = (channel = `ck-${uniq()}`): string =>
    `/t/${slug()}/agora/rtc/${channel}/publisher/uid/7/`;

  async function login(headers: Record<string, string> = {}, cookie = true): Promise<Response> {
    const req = w.t.http().post('/graphql').set('content-type', 'application/json');
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    return req.send({
      query: LOGIN,
      variables: {
        input: {
          email: w.a.member.email,
          password: w.a.member.password,
          tenantSlug: slug(),
          cookie,
        },
      },
    });
  }

  /** Signs in with a cookie and answers the `Cookie` header a browser would then send. */
  async function session(): Promise<{ access: string; refresh: string }> {
    const res = await login();
    expect(res.body.errors).toBeUndefined();
    const cookies = setCookies(res);
    return {
      access: `rk_session=${cookies.get('rk_session')!.value}`,
      refresh: `rk_refresh=${cookies.get('rk_refresh')!.value}`,
    };
  }

  const get = (path: string, cookie: string, headers: Record<string, string> = {}) => {
    const req = w.t.http().get(path).set('cookie', cookie);
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    return req;
  };

  const gql = (query: string, cookie: string, headers: Record<string, string>, variables = {}) => {
    const req = w.t
      .http()
      .post('/graphql')
      .set('content-type', 'application/json')
      .set('cookie', cookie);
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    return req.send({ query, variables });
  };

  async function connections(): Promise<number> {
    const [row] = await w.t.ds.query<Array<{ n: number }>>(
      'SELECT count(*)::int AS n FROM session_connection WHERE tenant_id = $1',
      [w.a.tenant.id],
    );
    return row.n;
  }

  describe('signing in', () => {
    it('should put the tokens in HttpOnly SameSite cookies, not in the answer, on a loopback HTTP host', async () => {
      const res = await login();
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.login).toMatchObject({
        accessToken: '',
        refreshToken: '',
        user: { email: w.a.member.email },
        tenant: { slug: slug() },
      });
      const cookies = setCookies(res);
      const access = cookies.get('rk_session')!;
      const refresh = cookies.get('rk_refresh')!;
      expect(access.value).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(access.attributes).toEqual(
        expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Lax']),
      );
      expect(refresh.attributes).toEqual(
        expect.arrayContaining(['Path=/graphql', 'HttpOnly', 'SameSite=Strict']),
      );
      const maxAge = Number(access.attributes.find((a) => a.startsWith('Max-Age='))!.slice(8));
      expect(maxAge).toBeGreaterThan(0);
      expect(maxAge).toBeLessThanOrEqual(900);
      expect(access.attributes).not.toContain('Secure');
    });

    it('should use Secure __Host- cookies over HTTPS', async () => {
      const res = await login({ 'x-forwarded-proto': 'https', host: 'roomkey.example.test' });
      expect(res.body.errors).toBeUndefined();
      const cookies = setCookies(res);
      expect([...cookies.keys()].sort()).toEqual(['__Host-rk_refresh', '__Host-rk_session']);
      for (const c of cookies.values()) {
        expect(c.attributes).toEqual(expect.arrayContaining(['Secure', 'HttpOnly', 'Path=/']));
      }
    });

    it('should refuse a cookie session over plain HTTP on a non-loopback host before the password is checked, starting nothing', async () => {
      const sessions = async () =>
        (
          await w.t.ds.query<Array<{ n: number }>>(
            'SELECT count(*)::int AS n FROM refresh_token WHERE user_id = $1',
            [w.a.member.id],
          )
        )[0].n;
      const before = await sessions();
      const res = await login({ host: 'roomkey.example.test' });
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(await sessions()).toBe(before);
    });

    it('should keep answering tokens in the body, and set no cookie, without cookie: true', async () => {
      const res = await login({}, false);
      expect(res.body.data.login.accessToken).not.toBe('');
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('should start a cookie session from the SSO hand-off (exchangeLoginCode with cookie: true)', async () => {
      const tokens = w.t.app.get(TokenService);
      const code = await w.t.ds.transaction((m) =>
        tokens.createLoginCode(m, w.a.tenant.id, w.a.member.id, AuthMethod.OIDC),
      );
      const res = await w.t.http().post('/graphql').set('content-type', 'application/json').send({
        query:
          'mutation ($code: String!) { exchangeLoginCode(code: $code, cookie: true) { accessToken tenant { slug } } }',
        variables: { code },
      });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.exchangeLoginCode).toEqual({
        accessToken: '',
        tenant: { slug: slug() },
      });
      const access = setCookies(res).get('rk_session')!;
      const me = await gql(ME, `rk_session=${access.value}`, { 'sec-fetch-site': 'same-origin' });
      expect(me.body.data).toEqual({ me: { tenant: { slug: slug() } } });
    });
  });

  describe('using the cookie', () => {
    it('should mint on a compatibility route from an allowed origin, with credentialed CORS, recorded as COOKIE', async () => {
      const { access } = await session();
      const res = await get(rtc(), access, { origin: ALLOWED });
      expect(res.status).toBe(200);
      expect(res.headers['access-control-allow-origin']).toBe(ALLOWED);
      expect(res.headers['access-control-allow-credentials']).toBe('true');
      const [event] = await w.t.ds.query<Array<{ auth_method: string; actor_label: string }>>(
        `SELECT auth_method, actor_label FROM audit_event
          WHERE tenant_id = $1 AND action = 'connection.created' ORDER BY seq DESC LIMIT 1`,
        [w.a.tenant.id],
      );
      expect(event).toEqual({ auth_method: 'COOKIE', actor_label: w.a.member.email });
    });

    it("should record a forged request in the tenant's log as a COOKIE refusal of that member", async () => {
      const { access } = await session();
      const res = await get(rtc(), access, { origin: OTHER });
      expect(res.status).toBe(403);
      const [event] = await w.t.ds.query<
        Array<{ outcome: string; auth_method: string; actor_label: string; metadata: object }>
      >(
        `SELECT outcome, auth_method, actor_label, metadata FROM audit_event
          WHERE tenant_id = $1 AND action = 'auth.login.failed' ORDER BY seq DESC LIMIT 1`,
        [w.a.tenant.id],
      );
      expect(event).toMatchObject({
        outcome: 'FAILURE',
        auth_method: 'COOKIE',
        actor_label: w.a.member.email,
        metadata: { reason: 'cookie_origin' },
      });
    });

    it("should accept the tenant's allowed origin on compatibility routes only, not on GraphQL, and spend the refresh cookie only from Roomkey's own pages", async () => {
      const { access, refresh } = await session();
      const me = await gql(ME, access, { origin: ALLOWED });
      expect(me.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      const spent = await gql('mutation { refreshToken { expiresAt } }', refresh, {
        origin: ALLOWED,
      });
      expect(spent.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
      expect(spent.headers['set-cookie']).toBeUndefined();
      // The refresh cookie was not spent: it still rotates from Roomkey's own page.
      const same = await gql('mutation { refreshToken { expiresAt } }', refresh, {
        'sec-fetch-site': 'same-origin',
      });
      expect(same.body.errors).toBeUndefined();
    });

    it.each([
      ['another origin', { origin: OTHER }],
      ['the page’s own origin spelled differently', { origin: 'http://app.example.test' }],
      ['no Origin and no Sec-Fetch-Site (not a browser, or an old one)', {}],
      ['a cross-site navigation', { 'sec-fetch-site': 'cross-site' }],
      ['a same-site but cross-origin request without Origin', { 'sec-fetch-site': 'same-site' }],
    ])('should refuse %s with 403, no CORS headers and nothing minted', async (_what, headers) => {
      const { access } = await session();
      const before = await connections();
      const res = await get(rtc(), access, headers);
      expect(res.status).toBe(403);
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
      expect(await connections()).toBe(before);
    });

    it('should accept a same-origin request without Origin (Sec-Fetch-Site: same-origin), on a compatibility route and on GraphQL', async () => {
      const { access } = await session();
      expect((await get(rtc(), access, { 'sec-fetch-site': 'same-origin' })).status).toBe(200);
      const me = await gql(ME, access, { 'sec-fetch-site': 'same-origin' });
      expect(me.body).toEqual({ data: { me: { tenant: { slug: slug() } } } });
      const cross = await gql(ME, access, { origin: OTHER });
      expect(cross.body.errors?.[0].extensions?.code).toBe('FORBIDDEN');
    });

    it('should let an Authorization header win over the cookie, and refuse the cookie on another tenant', async () => {
      const { access } = await session();
      const asB = await gql(ME, access, { authorization: w.b.adminKey });
      expect(asB.body.data).toEqual({ me: { tenant: { slug: w.b.tenant.slug } } });
      const other = await get(
        `/t/${w.b.tenant.slug}/agora/rtc/ck-${uniq()}/publisher/uid/1/`,
        access,
        { origin: ALLOWED },
      );
      expect(other.status).toBe(403);
    });
  });

  describe('ending it', () => {
    it('should rotate both cookies with refreshToken and no argument', async () => {
      const { refresh } = await session();
      const res = await gql('mutation { refreshToken { accessToken } }', refresh, {
        'sec-fetch-site': 'same-origin',
      });
      expect(res.body.errors).toBeUndefined();
      expect(res.body.data.refreshToken.accessToken).toBe('');
      const cookies = setCookies(res);
      expect(cookies.get('rk_session')!.value).not.toBe('');
      expect(`rk_refresh=${cookies.get('rk_refresh')!.value}`).not.toBe(refresh);
      const me = await gql(ME, `rk_session=${cookies.get('rk_session')!.value}`, {
        'sec-fetch-site': 'same-origin',
      });
      expect(me.body.data).toEqual({ me: { tenant: { slug: slug() } } });
    });

    it('should end the session at once when its refresh token is reused (refresh-family revocation)', async () => {
      const { access, refresh } = await session();
      const same = { 'sec-fetch-site': 'same-origin' };
      expect((await gql(ME, access, same)).body.data).toBeTruthy(); // cached as alive
      const first = await gql('mutation { refreshToken { expiresAt } }', refresh, same);
      expect(first.body.errors).toBeUndefined();
      const fresh = `rk_session=${setCookies(first).get('rk_session')!.value}`;
      const reuse = await gql('mutation { refreshToken { expiresAt } }', refresh, same);
      expect(reuse.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
      for (const cookie of [access, fresh]) {
        const me = await gql(ME, cookie, same);
        expect(me.body.errors?.[0].extensions?.code).toBe('UNAUTHENTICATED');
        expect((await get(rtc(), cookie, { origin: ALLOWED })).status).toBe(401);
      }
    });

    it('should clear both cookies on logout and refuse the old cookie at once', async () => {
      const { access } = await session();
      const same = { 'sec-fetch-site': 'same-origin' };
      expect((await get(rtc(), access, same)).status).toBe(200);
      const res = await gql('mutation { logout }', access, same);
      expect(res.body.data).toEqual({ logout: true });
      const cleared = setCookies(res);
      expect(cleared.get('rk_session')).toMatchObject({ value: '' });
      expect(cleared.get('rk_session')!.attributes).toContain('Max-Age=0');
      expect(cleared.get('rk_refresh')!.attributes).toContain('Max-Age=0');
      expect((await get(rtc(), access, same)).status).toBe(401);
      expect((await gql(ME, access, same)).body.errors?.[0].extensions?.code).toBe(
        'UNAUTHENTICATED',
      );
    });

    it('should refuse refreshToken with neither an argument nor a refresh cookie', async () => {
      const res = await w.t
        .http()
        .post('/graphql')
        .set('content-type', 'application/json')
        .send({ query: 'mutation { refreshToken { expiresAt } }' });
      expect(res.body.errors?.[0].extensions?.code).toBe('BAD_USER_INPUT');
      expect(res.headers['set-cookie']).toBeUndefined();
    });
  });
});
