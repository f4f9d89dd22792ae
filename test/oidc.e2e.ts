import childProcess, { type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { lookupKey } from '../src/auth/identity-providers/login-attempts';
import { MemberRole } from '../src/common/auth/roles';
import { seedMember, seedTenant, type SeededTenant, type SeededUser } from './factories/tenancy';
import {
  ADMIN_EMAIL,
  errorCode,
  type GqlResult,
  startTestApp,
  type TestApp,
} from './helpers/test-app';
import {
  type OidcAccount,
  type OidcClientSpec,
  type StartOidcProviderOptions,
  type TestOidcProvider,
  startOidcProvider,
} from './support/oidc-provider';

/**
 * docs/security.md S2 (OIDC logins cannot be forged or replayed) and S4 (redirects go only where
 * allowed), end to end: Roomkey on the real database, real `oidc-provider` instances on 127.0.0.1.
 *
 * The IdPs send the browser to `${PUBLIC_URL}/auth/oidc/<slug>/callback`. Nothing listens there:
 * `provider.authorize()` returns that URL unrequested, and the test delivers its path and query to
 * the in-process app through supertest, as the browser would.
 */

const PUBLIC_URL = 'http://127.0.0.1:47123';
const APP_REDIRECT = 'http://localhost:5173/after-login';

const hex = (bytes = 4): string => randomBytes(bytes).toString('hex');
const callbackUrlOf = (slug: string): string => `${PUBLIC_URL}/auth/oidc/${slug}/callback`;

const SLUG = {
  a: `oidc-a-${hex()}`,
  b: `oidc-b-${hex()}`,
  domains: `oidc-d-${hex()}`,
  email: `oidc-e-${hex()}`,
  liar: `oidc-x-${hex()}`,
  spare: `oidc-f-${hex()}`,
};

/** Canary client secrets: none may ever show up in a response, a log line or an audit event. */
const SECRET = {
  a: `canary-a-${hex(16)}`,
  b: `canary-b-${hex(16)}`,
  domains: `canary-d-${hex(16)}`,
  email: `canary-e-${hex(16)}`,
  liar: `canary-x-${hex(16)}`,
  spare: `canary-f-${hex(16)}`,
};

const CLIENT = {
  a: { clientId: 'rk-a', clientSecret: SECRET.a, redirectUris: [callbackUrlOf(SLUG.a)] },
  b: { clientId: 'rk-b', clientSecret: SECRET.b, redirectUris: [callbackUrlOf(SLUG.b)] },
  domains: {
    clientId: 'rk-d',
    clientSecret: SECRET.domains,
    redirectUris: [callbackUrlOf(SLUG.domains)],
  },
  email: {
    clientId: 'rk-e',
    clientSecret: SECRET.email,
    redirectUris: [callbackUrlOf(SLUG.email)],
  },
  liar: { clientId: 'rk-x', clientSecret: SECRET.liar, redirectUris: [callbackUrlOf(SLUG.liar)] },
} satisfies Record<string, OidcClientSpec>;

const ALICE: OidcAccount = {
  sub: 'alice-sub',
  email: `alice-${hex()}@idp-one.test`,
  name: 'Alice Example',
  roles: ['rk-admins', 'viewers'],
};
/** The account of the negative cases: what it is does not matter, only what happens around it. */
const DAVE: OidcAccount = { sub: 'dave-sub', email: `dave-${hex()}@idp-one.test`, roles: [] };
const IMPOSTER: OidcAccount = { sub: 'imposter-sub', email: ADMIN_EMAIL, roles: [] };
const INSIDER: OidcAccount = { sub: 'insider-sub', email: `insider-${hex()}@corp.test` };
const OUTSIDER: OidcAccount = { sub: 'outsider-sub', email: `mallory-${hex()}@evilcorp.test` };
const BOB: OidcAccount = { sub: 'bob-sub', email: `bob-${hex()}@idp-two.test`, roles: [] };
const ERIN: OidcAccount = { sub: 'erin-sub', email: `erin-${hex()}@old.idp-four.test` };
const ERIN_RENAMED: OidcAccount = { ...ERIN, email: `erin-${hex()}@new.idp-four.test` };

const IDP_FIELDS =
  'id kind enabled issuer clientId hasClientSecret secretFingerprint redirectUris roleMapping { value role } loginUrl callbackUrl';
const CONFIGURE = `mutation($input: ConfigureOidcProviderInput!) { configureOidcProvider(input: $input) { ${IDP_FIELDS} } }`;
const LIST = `{ identityProviders { ${IDP_FIELDS} } }`;
const EXCHANGE = `mutation($code: String!) { exchangeLoginCode(code: $code) {
  accessToken refreshToken expiresAt tenant { id slug } user { id email } } }`;
const ME = '{ me { role authMethod isPlatformAdmin tenant { id slug } user { id email } } }';
const CREATE_TENANT = `mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }`;

interface IdpModel {
  id: string;
  kind: string;
  enabled: boolean;
  issuer: string;
  clientId: string | null;
  hasClientSecret: boolean;
  secretFingerprint: string | null;
  redirectUris: string[];
  roleMapping: Array<{ value: string; role: string }>;
  loginUrl: string;
  callbackUrl: string | null;
}
interface AuthPayload {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  tenant: { id: string; slug: string };
  user: { id: string; email: string };
}
interface MeModel {
  role: string;
  authMethod: string;
  isPlatformAdmin: boolean;
  tenant: { id: string; slug: string };
  user: { id: string; email: string } | null;
}
interface AuditRow {
  action: string;
  outcome: string;
  tenant_id: string;
  actor_id: string | null;
  target_id: string | null;
  metadata: Record<string, unknown>;
}
interface Delivered {
  status: number;
  location: URL | null;
  requestId: string;
  body: { error?: { code?: string } };
  text: string;
}

function oidcInput(
  issuer: string,
  client: OidcClientSpec,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    issuer,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    redirectUris: [APP_REDIRECT],
    roleMapping: [{ value: 'rk-admins', role: 'ADMIN' }],
    ...extra,
  };
}

/**
 * Starts a provider on a given port. The harness picks a free port and offers no option for it, but
 * an IdP "restarted with changed data" must keep its issuer (http://127.0.0.1:PORT); so this adds
 * `port` to the configuration the harness hands its child process (the server script reads it).
 */
async function startOidcProviderOnPort(
  port: number,
  opts: StartOidcProviderOptions,
): Promise<TestOidcProvider> {
  const realSpawn = childProcess.spawn;
  const spy = jest
    .spyOn(childProcess, 'spawn')
    .mockImplementation((command: string, args: readonly string[], options: SpawnOptions) => {
      const env = { ...options.env };
      const config = JSON.parse(env.OIDC_TEST_PROVIDER_CONFIG ?? '{}') as Record<string, unknown>;
      env.OIDC_TEST_PROVIDER_CONFIG = JSON.stringify({ ...config, port });
      return realSpawn(command, args, { ...options, env });
    });
  try {
    return await startOidcProvider(opts);
  } finally {
    spy.mockRestore();
  }
}

describe('OIDC sign-in against a real OpenID provider', () => {
  let t: TestApp;
  const tenants = {} as Record<keyof typeof SLUG, SeededTenant>;
  let existing: SeededUser;
  let victim: SeededUser;
  let aAdmin: SeededUser;
  let aMember: SeededUser;
  /** P1: tenant A and the email-domain tenant. */
  let p1: TestOidcProvider;
  /** P2: tenant B. */
  let p2: TestOidcProvider;
  /** P3: advertises a foreign issuer in discovery. */
  let liar: TestOidcProvider;
  /** P4: tenant E; restarted (same port, same issuer) with a changed email. */
  let p4: TestOidcProvider;
  const providers: TestOidcProvider[] = [];
  const configured = {} as Record<keyof typeof SLUG, IdpModel>;
  /** Every GraphQL and HTTP response body and header block this file received. */
  const seen: string[] = [];

  async function gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    auth?: string,
    headers?: Record<string, string>,
  ): Promise<GqlResult<T>> {
    const r = await t.gql<T>(query, variables, { auth, headers });
    seen.push(r.text, JSON.stringify(r.headers));
    return r;
  }

  async function configure(
    tenant: SeededTenant,
    input: Record<string, unknown>,
    auth = tenant.owner.auth,
  ): Promise<IdpModel> {
    const r = await gql<{ configureOidcProvider: IdpModel }>(CONFIGURE, { input }, auth);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.configureOidcProvider;
  }

  /** GET /auth/oidc/:slug/login with a raw query string. */
  async function login(slug: string, query: string): Promise<Delivered> {
    const requestId = `rk-oidc-test-${hex(8)}`;
    const res = await t
      .http()
      .get(`/auth/oidc/${slug}/login${query}`)
      .set('x-request-id', requestId);
    seen.push(res.text ?? '', JSON.stringify(res.headers));
    const location = res.headers.location as string | undefined;
    return {
      status: res.status,
      location: location ? new URL(location) : null,
      requestId,
      body: res.body as Delivered['body'],
      text: res.text ?? '',
    };
  }

  /** Starts a sign-in for the app's redirect URI; returns the IdP authorization URL. */
  async function beginLogin(slug: string): Promise<URL> {
    const r = await login(slug, `?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`);
    expect(r.status).toBe(302);
    expect(r.location).not.toBeNull();
    return r.location!;
  }

  /** Begins at Roomkey, signs in at the IdP; returns the IdP's redirect to our callback. */
  async function idpCallback(
    slug: string,
    provider: TestOidcProvider,
    account: OidcAccount,
  ): Promise<URL> {
    const callback = await provider.authorize((await beginLogin(slug)).href, account.sub);
    expect(`${callback.origin}${callback.pathname}`).toBe(callbackUrlOf(slug));
    expect(callback.searchParams.get('code')).toEqual(expect.any(String));
    return callback;
  }

  /** Delivers a callback (path + query) to the app, as the browser would. */
  async function deliver(pathAndQuery: string): Promise<Delivered> {
    const requestId = `rk-oidc-test-${hex(8)}`;
    const res = await t.http().get(pathAndQuery).set('x-request-id', requestId);
    seen.push(res.text ?? '', JSON.stringify(res.headers));
    const location = res.headers.location as string | undefined;
    return {
      status: res.status,
      location: location ? new URL(location) : null,
      requestId,
      body: res.body as Delivered['body'],
      text: res.text ?? '',
    };
  }

  const pathOf = (u: URL): string => `${u.pathname}${u.search}`;

  /** A full browser sign-in; returns the login code handed to the app. */
  async function signIn(
    slug: string,
    provider: TestOidcProvider,
    account: OidcAccount,
  ): Promise<{ code: string; requestId: string }> {
    const r = await deliver(pathOf(await idpCallback(slug, provider, account)));
    expect(r.status).toBe(302);
    expect(`${r.location?.origin}${r.location?.pathname}`).toBe(APP_REDIRECT);
    const code = r.location!.searchParams.get('code');
    expect(code).toMatch(/^rkc_/);
    return { code: code!, requestId: r.requestId };
  }

  async function exchange(code: string): Promise<GqlResult<{ exchangeLoginCode: AuthPayload }>> {
    return gql<{ exchangeLoginCode: AuthPayload }>(EXCHANGE, { code });
  }

  async function meWith(accessToken: string): Promise<MeModel> {
    const r = await gql<{ me: MeModel }>(ME, undefined, `Bearer ${accessToken}`);
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.me;
  }

  async function audit(requestId: string): Promise<AuditRow[]> {
    const rows = await t.ds.query<AuditRow[]>(
      `SELECT action, outcome, tenant_id, actor_id, target_id, metadata FROM audit_event
        WHERE request_id = $1 ORDER BY occurred_at, seq`,
      [requestId],
    );
    return rows.map((r) => ({
      ...r,
      metadata: (typeof r.metadata === 'string' ? JSON.parse(r.metadata) : r.metadata) as Record<
        string,
        unknown
      >,
    }));
  }

  async function count(sql: string, params: unknown[]): Promise<number> {
    const [row] = await t.ds.query<Array<{ n: number }>>(sql, params);
    return Number(row.n);
  }
  const loginCodes = (tenant: SeededTenant): Promise<number> =>
    count('SELECT count(*)::int AS n FROM login_code WHERE tenant_id = $1', [tenant.id]);
  const usersWithEmail = (email: string): Promise<number> =>
    count('SELECT count(*)::int AS n FROM app_user WHERE email = $1', [email.toLowerCase()]);

  /** Runs an UPDATE … RETURNING and returns how many rows it changed (pg and PGlite alike). */
  async function update(sql: string, params: unknown[]): Promise<number> {
    const result: unknown = await t.ds.query(sql, params);
    const rows = Array.isArray(result) && Array.isArray(result[0]) ? result[0] : result;
    return Array.isArray(rows) ? rows.length : 0;
  }

  /** The callback refused the sign-in by sending the browser back to the app with an error. */
  function expectAccessDenied(r: Delivered): void {
    expect(r.status).toBe(302);
    expect(r.location).not.toBeNull();
    expect(`${r.location!.origin}${r.location!.pathname}`).toBe(APP_REDIRECT);
    expect(r.location!.searchParams.get('error')).toBe('access_denied');
    expect(r.location!.searchParams.has('code')).toBe(false);
  }

  /** The callback refused the sign-in outright: a 4xx, and no redirect anywhere. */
  function expectRefusedOutright(r: Delivered): void {
    expect(r.status).toBeGreaterThanOrEqual(400);
    expect(r.status).toBeLessThan(500);
    expect(r.location).toBeNull();
    expect(r.text).not.toMatch(/rkc_/);
  }

  async function expectFailureAudited(requestId: string, tenant: SeededTenant): Promise<string> {
    const events = await audit(requestId);
    const failures = events.filter((e) => e.action === 'auth.login.failed');
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ outcome: 'FAILURE', tenant_id: tenant.id });
    expect(failures[0].metadata.method).toBe('OIDC');
    expect(failures[0].metadata.reason).toMatch(/^[a-z0-9_]+$/);
    expect(events.some((e) => e.action === 'auth.login.succeeded')).toBe(false);
    return failures[0].metadata.reason as string;
  }

  beforeAll(async () => {
    t = await startTestApp({ ROOMKEY_ALLOW_INSECURE_IDP: 'true', ROOMKEY_PUBLIC_URL: PUBLIC_URL });
    for (const key of Object.keys(SLUG) as Array<keyof typeof SLUG>) {
      tenants[key] = await seedTenant(t, SLUG[key]);
    }
    existing = await seedMember(t, tenants.a, MemberRole.MEMBER);
    victim = await seedMember(t, tenants.a, MemberRole.MEMBER);
    aAdmin = await seedMember(t, tenants.a, MemberRole.ADMIN);
    aMember = await seedMember(t, tenants.a, MemberRole.MEMBER);

    [p1, p2, liar, p4] = await Promise.all([
      startOidcProvider({
        clients: [CLIENT.a, CLIENT.domains],
        accounts: [
          ALICE,
          DAVE,
          IMPOSTER,
          INSIDER,
          OUTSIDER,
          { sub: 'linked-sub', email: existing.email },
          { sub: 'unverified-sub', email: victim.email, emailVerified: false },
        ],
      }),
      startOidcProvider({ clients: [CLIENT.b], accounts: [BOB] }),
      startOidcProvider({
        clients: [CLIENT.liar],
        accounts: [DAVE],
        discoveryIssuerOverride: 'https://idp.evil.test',
      }),
      startOidcProvider({ clients: [CLIENT.email], accounts: [ERIN] }),
    ]);
    providers.push(p1, p2, liar, p4);

    configured.a = await configure(tenants.a, oidcInput(p1.issuer, CLIENT.a));
    configured.b = await configure(tenants.b, oidcInput(p2.issuer, CLIENT.b));
    configured.domains = await configure(
      tenants.domains,
      oidcInput(p1.issuer, CLIENT.domains, { allowedEmailDomains: ['CORP.test'] }),
    );
    configured.email = await configure(tenants.email, oidcInput(p4.issuer, CLIENT.email));
    configured.liar = await configure(tenants.liar, oidcInput(liar.issuer, CLIENT.liar));
    configured.spare = await configure(
      tenants.spare,
      oidcInput(
        p1.issuer,
        { clientId: 'rk-f', clientSecret: SECRET.spare, redirectUris: [] },
        {
          redirectUris: ['https://app.example/cb', 'http://127.0.0.1:5173/cb'],
        },
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(providers.map((p) => p.close()));
    await t?.close();
  });

  describe('sign-in', () => {
    it('should redirect to the IdP with PKCE S256, a fresh state and nonce and our callback when a login starts', async () => {
      const r = await login(SLUG.a, `?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`);
      const second = await beginLogin(SLUG.a);

      expect(r.status).toBe(302);
      const url = r.location!;
      expect(url.origin).toBe(p1.issuer);
      const q = url.searchParams;
      expect(q.get('client_id')).toBe(CLIENT.a.clientId);
      expect(q.get('response_type')).toBe('code');
      expect(q.get('redirect_uri')).toBe(callbackUrlOf(SLUG.a));
      expect(q.get('scope')?.split(' ')).toContain('openid');
      expect(q.get('code_challenge_method')).toBe('S256');
      expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(q.get('state')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(q.get('nonce')).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      // Nothing of the app's redirect URI or the verifier travels to the IdP.
      expect(url.href).not.toContain('after-login');
      // Fresh per attempt.
      expect(second.searchParams.get('state')).not.toBe(q.get('state'));
      expect(second.searchParams.get('nonce')).not.toBe(q.get('nonce'));
      expect(second.searchParams.get('code_challenge')).not.toBe(q.get('code_challenge'));
    });

    it('should provision the user just in time and hand the app a one-time code that becomes working tokens when the sign-in completes', async () => {
      expect(await usersWithEmail(ALICE.email)).toBe(0);

      const authorizationUrl = await beginLogin(SLUG.a);
      const callback = await p1.authorize(authorizationUrl.href, ALICE.sub);
      expect(callback.searchParams.get('state')).toBe(authorizationUrl.searchParams.get('state'));
      expect(callback.searchParams.get('iss')).toBe(p1.issuer);
      const r = await deliver(pathOf(callback));

      expect(r.status).toBe(302);
      expect(`${r.location!.origin}${r.location!.pathname}`).toBe(APP_REDIRECT);
      expect([...r.location!.searchParams.keys()]).toEqual(['code']);
      const code = r.location!.searchParams.get('code')!;
      expect(code).toMatch(/^rkc_[A-Za-z0-9_-]{40,}$/);

      const exchanged = await exchange(code);
      expect(exchanged.body.errors).toBeUndefined();
      const payload = exchanged.body.data!.exchangeLoginCode;
      expect(payload.tenant).toEqual({ id: tenants.a.id, slug: SLUG.a });
      expect(payload.user.email).toBe(ALICE.email);
      expect(payload.refreshToken).toEqual(expect.any(String));

      const me = await meWith(payload.accessToken);
      expect(me).toMatchObject({
        role: 'ADMIN',
        tenant: { id: tenants.a.id, slug: SLUG.a },
        user: { id: payload.user.id, email: ALICE.email },
        isPlatformAdmin: false,
      });

      // Provisioned once, linked on (issuer, sub), a member with the mapped role.
      expect(await usersWithEmail(ALICE.email)).toBe(1);
      const links = await t.ds.query<Array<{ user_id: string }>>(
        'SELECT user_id FROM external_identity WHERE tenant_id = $1 AND issuer = $2 AND subject = $3',
        [tenants.a.id, p1.issuer, ALICE.sub],
      );
      expect(links).toEqual([{ user_id: payload.user.id }]);

      const events = await audit(r.requestId);
      const succeeded = events.filter((e) => e.action === 'auth.login.succeeded');
      expect(succeeded).toHaveLength(1);
      expect(succeeded[0]).toMatchObject({
        outcome: 'SUCCESS',
        tenant_id: tenants.a.id,
        actor_id: payload.user.id,
        metadata: { method: 'OIDC' },
      });
      expect(events.filter((e) => e.action === 'member.added')).toHaveLength(1);

      // The code is single use.
      const again = await exchange(code);
      expect(errorCode(again)).toBe('UNAUTHENTICATED');
      expect(again.body.data ?? null).toBeNull();
    });

    it('should map a returning account to the same user when the IdP changed its email but kept its sub', async () => {
      const first = await signIn(SLUG.email, p4, ERIN);
      const firstTokens = (await exchange(first.code)).body.data!.exchangeLoginCode;
      const userId = firstTokens.user.id;
      expect(firstTokens.user.email).toBe(ERIN.email);

      // The same IdP (same issuer, so same port) now reports another email for the same sub.
      const issuer = p4.issuer;
      await p4.close();
      p4 = await startOidcProviderOnPort(Number(new URL(issuer).port), {
        clients: [CLIENT.email],
        accounts: [ERIN_RENAMED],
      });
      providers.push(p4);
      expect(p4.issuer).toBe(issuer);
      // The restarted IdP signs with a new key; re-saving the configuration (same issuer, client
      // and secret) drops Roomkey's cached discovery and JWKS, as a real key rollover would in time.
      await configure(
        tenants.email,
        oidcInput(issuer, CLIENT.email, {
          clientSecret: undefined,
          scopes: ['openid', 'email', 'profile', 'roles'],
        }),
      );

      const second = await signIn(SLUG.email, p4, ERIN_RENAMED);
      const secondTokens = (await exchange(second.code)).body.data!.exchangeLoginCode;

      expect(secondTokens.user.id).toBe(userId);
      expect((await meWith(secondTokens.accessToken)).user?.id).toBe(userId);
      expect(await usersWithEmail(ERIN_RENAMED.email)).toBe(0);
      expect(
        await count(
          'SELECT count(*)::int AS n FROM external_identity WHERE tenant_id = $1 AND subject = $2',
          [tenants.email.id, ERIN.sub],
        ),
      ).toBe(1);
    });

    it('should link the existing Roomkey user when a new IdP account has the same email', async () => {
      const usersBefore = await count('SELECT count(*)::int AS n FROM app_user', []);

      const { code } = await signIn(SLUG.a, p1, { sub: 'linked-sub', email: existing.email });
      const payload = (await exchange(code)).body.data!.exchangeLoginCode;

      expect(payload.user.id).toBe(existing.id);
      const me = await meWith(payload.accessToken);
      expect(me.user?.id).toBe(existing.id);
      expect(me.role).toBe('MEMBER');
      expect(await count('SELECT count(*)::int AS n FROM app_user', [])).toBe(usersBefore);
      const links = await t.ds.query<Array<{ user_id: string }>>(
        'SELECT user_id FROM external_identity WHERE tenant_id = $1 AND subject = $2',
        [tenants.a.id, 'linked-sub'],
      );
      expect(links).toEqual([{ user_id: existing.id }]);
    });

    it('should refuse the sign-in and link nobody when the IdP says the email is not verified', async () => {
      const r = await deliver(
        pathOf(await idpCallback(SLUG.a, p1, { sub: 'unverified-sub', email: victim.email })),
      );

      expectAccessDenied(r);
      expect(await expectFailureAudited(r.requestId, tenants.a)).toBe('email_not_verified');
      expect(
        await count(
          'SELECT count(*)::int AS n FROM external_identity WHERE tenant_id = $1 AND subject = $2',
          [tenants.a.id, 'unverified-sub'],
        ),
      ).toBe(0);
    });

    it('should not grant platform-administrator rights when a tenant IdP asserts the email of a platform administrator', async () => {
      const [admin] = await t.ds.query<Array<{ is_platform_admin: boolean }>>(
        'SELECT is_platform_admin FROM app_user WHERE email = $1',
        [ADMIN_EMAIL],
      );
      expect(admin.is_platform_admin).toBe(true);

      // Tenant A's admins control their IdP; an account there claims the platform admin's email.
      const r = await deliver(pathOf(await idpCallback(SLUG.a, p1, IMPOSTER)));
      const powers = { isPlatformAdmin: false, createdTenant: false };
      const code = r.location?.searchParams.get('code');
      if (code) {
        const payload = (await exchange(code)).body.data!.exchangeLoginCode;
        powers.isPlatformAdmin = (await meWith(payload.accessToken)).isPlatformAdmin;
        const slug = `pwned-${hex()}`;
        await gql(
          CREATE_TENANT,
          { input: { slug, name: 'Pwned' } },
          `Bearer ${payload.accessToken}`,
        );
        powers.createdTenant =
          (await count('SELECT count(*)::int AS n FROM tenant WHERE slug = $1', [slug])) > 0;
      } else {
        // Refusing the sign-in outright is a correct answer too.
        expectAccessDenied(r);
      }

      expect(powers).toEqual({ isPlatformAdmin: false, createdTenant: false });
    });
  });

  describe('state, code and nonce', () => {
    it('should refuse with a 4xx and issue no code when the callback has no state', async () => {
      const callback = await idpCallback(SLUG.a, p1, DAVE);
      const codesBefore = await loginCodes(tenants.a);
      const stripped = new URL(callback);
      stripped.searchParams.delete('state');

      const r = await deliver(pathOf(stripped));

      expectRefusedOutright(r);
      expect(await loginCodes(tenants.a)).toBe(codesBefore);
      expect(await expectFailureAudited(r.requestId, tenants.a)).toMatch(/state/);
      // Control: the untouched callback would have worked.
      expect((await deliver(pathOf(callback))).location?.searchParams.get('code')).toMatch(/^rkc_/);
    });

    it('should refuse and issue no code when one character of the state is changed', async () => {
      const callback = await idpCallback(SLUG.a, p1, DAVE);
      const codesBefore = await loginCodes(tenants.a);
      const state = callback.searchParams.get('state')!;
      const tampered = new URL(callback);
      tampered.searchParams.set('state', `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`);

      const r = await deliver(pathOf(tampered));

      expectRefusedOutright(r);
      expect(await loginCodes(tenants.a)).toBe(codesBefore);
      expect(await expectFailureAudited(r.requestId, tenants.a)).toMatch(/state/);
      expect((await deliver(pathOf(callback))).location?.searchParams.get('code')).toMatch(/^rkc_/);
    });

    it("should refuse and issue no code when the state belongs to another tenant's sign-in attempt", async () => {
      const callbackA = await idpCallback(SLUG.a, p1, DAVE);
      const callbackB = await idpCallback(SLUG.b, p2, BOB);
      const codesBefore = await loginCodes(tenants.a);
      const crossed = new URL(callbackA);
      crossed.searchParams.set('state', callbackB.searchParams.get('state')!);

      const r = await deliver(pathOf(crossed));

      expectRefusedOutright(r);
      expect(await loginCodes(tenants.a)).toBe(codesBefore);
      expect(await expectFailureAudited(r.requestId, tenants.a)).toMatch(/state/);
      // B's attempt is bound to B and was not consumed by A's endpoint.
      expect((await deliver(pathOf(callbackB))).location?.searchParams.get('code')).toMatch(
        /^rkc_/,
      );
    });

    it('should refuse the second delivery and issue no second code when the same callback URL is replayed', async () => {
      const callback = await idpCallback(SLUG.a, p1, DAVE);
      const codesBefore = await loginCodes(tenants.a);

      const first = await deliver(pathOf(callback));
      const replay = await deliver(pathOf(callback));

      expect(first.location?.searchParams.get('code')).toMatch(/^rkc_/);
      expectRefusedOutright(replay);
      expect(await loginCodes(tenants.a)).toBe(codesBefore + 1);
      expect(await expectFailureAudited(replay.requestId, tenants.a)).toMatch(/state/);
    });

    it('should send back access_denied and issue no code when a redeemed IdP code comes back with a fresh state', async () => {
      const used = await idpCallback(SLUG.a, p1, DAVE);
      expect((await deliver(pathOf(used))).location?.searchParams.get('code')).toMatch(/^rkc_/);
      const fresh = await beginLogin(SLUG.a);
      const codesBefore = await loginCodes(tenants.a);
      const replay = new URL(used);
      replay.searchParams.set('state', fresh.searchParams.get('state')!);

      const r = await deliver(pathOf(replay));

      expectAccessDenied(r);
      expect(await loginCodes(tenants.a)).toBe(codesBefore);
      await expectFailureAudited(r.requestId, tenants.a);
    });

    it('should refuse and issue no code when the sign-in attempt is older than its TTL', async () => {
      const callback = await idpCallback(SLUG.a, p1, DAVE);
      const codesBefore = await loginCodes(tenants.a);
      const expired = await update(
        `UPDATE login_attempt SET expires_at = now() - interval '1 second'
          WHERE lookup = $1 AND tenant_id = $2 RETURNING id`,
        [lookupKey('oidc', callback.searchParams.get('state')!), tenants.a.id],
      );
      expect(expired).toBe(1);

      const r = await deliver(pathOf(callback));

      expectRefusedOutright(r);
      expect(await loginCodes(tenants.a)).toBe(codesBefore);
      await expectFailureAudited(r.requestId, tenants.a);
    });

    it('should send back access_denied, issue no code and audit a reason when the ID token nonce does not match the attempt', async () => {
      const callback = await idpCallback(SLUG.a, p1, DAVE);
      const codesBefore = await loginCodes(tenants.a);
      const tampered = await update(
        `UPDATE login_attempt SET data = jsonb_set(data, '{nonce}', '"other"')
          WHERE kind = 'OIDC' AND lookup = $1 AND tenant_id = $2 RETURNING id`,
        [lookupKey('oidc', callback.searchParams.get('state')!), tenants.a.id],
      );
      expect(tampered).toBe(1);

      const r = await deliver(pathOf(callback));

      expectAccessDenied(r);
      expect(await loginCodes(tenants.a)).toBe(codesBefore);
      const reason = await expectFailureAudited(r.requestId, tenants.a);
      expect(reason).not.toBe('unknown');
    });
  });

  describe("issuer mix-up between two tenants' IdPs", () => {
    /** A's pending attempt (its state) and a response that P2 produced for B's attempt. */
    async function mixUp(): Promise<{ stateA: string; fromP2: URL }> {
      const stateA = (await beginLogin(SLUG.a)).searchParams.get('state')!;
      const fromP2 = await idpCallback(SLUG.b, p2, BOB);
      expect(fromP2.searchParams.get('iss')).toBe(p2.issuer);
      return { stateA, fromP2 };
    }

    it.each([
      [
        "P2's response with A's state swapped in",
        (stateA: string, fromP2: URL): Record<string, string> => ({
          code: fromP2.searchParams.get('code')!,
          state: stateA,
          iss: p2.issuer,
        }),
      ],
      [
        "P2's code with A's state and iss rewritten to A's issuer",
        (stateA: string, fromP2: URL): Record<string, string> => ({
          code: fromP2.searchParams.get('code')!,
          state: stateA,
          iss: p1.issuer,
        }),
      ],
      [
        "P2's code with A's state and no iss",
        (stateA: string, fromP2: URL): Record<string, string> => ({
          code: fromP2.searchParams.get('code')!,
          state: stateA,
        }),
      ],
    ])(
      "should send back access_denied and issue no code when tenant A's callback receives %s",
      async (_label, craft) => {
        const { stateA, fromP2 } = await mixUp();
        const codesBefore = await loginCodes(tenants.a);

        const r = await deliver(
          `/auth/oidc/${SLUG.a}/callback?${new URLSearchParams(craft(stateA, fromP2)).toString()}`,
        );

        expectAccessDenied(r);
        expect(await loginCodes(tenants.a)).toBe(codesBefore);
        await expectFailureAudited(r.requestId, tenants.a);
      },
    );

    it("should refuse and issue no code when P2's callback for tenant B is delivered unchanged to tenant A", async () => {
      await beginLogin(SLUG.a);
      const fromP2 = await idpCallback(SLUG.b, p2, BOB);
      const codesBefore = await loginCodes(tenants.a);

      const r = await deliver(`/auth/oidc/${SLUG.a}/callback${fromP2.search}`);

      expectRefusedOutright(r);
      expect(await loginCodes(tenants.a)).toBe(codesBefore);
      await expectFailureAudited(r.requestId, tenants.a);
    });
  });

  describe('discovery', () => {
    it('should answer an error and never redirect to the IdP when discovery advertises another issuer', async () => {
      for (let i = 0; i < 2; i += 1) {
        const r = await login(SLUG.liar, `?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`);

        expect(r.status).toBeGreaterThanOrEqual(400);
        expect(r.location).toBeNull();
        expect(r.text).not.toContain(liar.issuer);
      }
      expect(
        await count('SELECT count(*)::int AS n FROM login_attempt WHERE tenant_id = $1', [
          tenants.liar.id,
        ]),
      ).toBe(0);
    });

    it('should answer 404 and never redirect when the tenant has no OIDC sign-in', async () => {
      const r = await login(`nope-${hex()}`, `?redirect_uri=${encodeURIComponent(APP_REDIRECT)}`);

      expect(r.status).toBe(404);
      expect(r.location).toBeNull();
    });
  });

  describe('redirect_uri', () => {
    async function redirectUrisOf(tenant: SeededTenant): Promise<string[]> {
      const [row] = await t.ds.query<Array<{ config: { redirectUris: string[] } | string }>>(
        `SELECT config FROM identity_provider WHERE tenant_id = $1 AND kind = 'OIDC'`,
        [tenant.id],
      );
      const config = (typeof row.config === 'string' ? JSON.parse(row.config) : row.config) as {
        redirectUris: string[];
      };
      return config.redirectUris;
    }

    const q = (value: string): string => `?redirect_uri=${encodeURIComponent(value)}`;

    it.each([
      ['a URI that is not allow-listed', q('http://localhost:5173/elsewhere')],
      ['//evil.com', q('//evil.com')],
      ['https://evil.com', q('https://evil.com')],
      ['/\\evil.com', q('/\\evil.com')],
      ['javascript:alert(1)', q('javascript:alert(1)')],
      ['%2F%2Fevil.com (literally)', q('%2F%2Fevil.com')],
      ['%2F%2Fevil.com (decoded by the server to //evil.com)', '?redirect_uri=%2F%2Fevil.com'],
      ['https://ok@evil.com', q('https://ok@evil.com')],
      ['the allowed origin used as userinfo', q('http://localhost:5173@evil.com/after-login')],
      ['the allowed URI with a trailing slash', q(`${APP_REDIRECT}/`)],
      ['the allowed URI with an extra query', q(`${APP_REDIRECT}?next=/admin`)],
      ['the allowed URI with a fragment', q(`${APP_REDIRECT}#x`)],
      ['the allowed URI in upper case', q(APP_REDIRECT.toUpperCase())],
      ['the allowed URI followed by CR/LF', q(`${APP_REDIRECT}\r\nSet-Cookie: a=1`)],
      ['the allowed URI with a 4 KiB query', q(`${APP_REDIRECT}?${'a'.repeat(4096)}`)],
      ['the allowed URI given twice', `${q(APP_REDIRECT)}&${q(APP_REDIRECT).slice(1)}`],
      ['missing', ''],
    ])(
      'should answer 400 BAD_USER_INPUT JSON without a Location header when redirect_uri is %s',
      async (_label, query) => {
        const attemptsBefore = await count(
          'SELECT count(*)::int AS n FROM login_attempt WHERE tenant_id = $1',
          [tenants.a.id],
        );

        const r = await login(SLUG.a, query);

        expect(r.status).toBe(400);
        expect(r.location).toBeNull();
        expect(r.body.error?.code).toBe('BAD_USER_INPUT');
        expect(r.text).not.toContain('evil.com');
        expect(
          await count('SELECT count(*)::int AS n FROM login_attempt WHERE tenant_id = $1', [
            tenants.a.id,
          ]),
        ).toBe(attemptsBefore);
      },
    );

    it.each([
      ['http on a public host', 'http://app.example.com/cb'],
      ['a protocol-relative URL', '//evil.com/cb'],
      ['a relative path', '/after-login'],
      ['a javascript: URL', 'javascript:alert(1)'],
      ['a username', 'https://ok@evil.com/cb'],
      ['a username and password', 'https://user:pass@app.example.com/cb'],
      ['a fragment', 'https://app.example.com/cb#frag'],
      ['an empty fragment', 'https://app.example.com/cb#'],
      ['CR/LF', 'https://app.example.com/cb\r\nSet-Cookie: a=1'],
      ['a non-canonical spelling', 'HTTPS://APP.EXAMPLE.COM/cb'],
      ['an ftp URL', 'ftp://app.example.com/cb'],
    ])(
      'should refuse configureOidcProvider with BAD_USER_INPUT and change nothing when a redirect URI has %s',
      async (_label, uri) => {
        const before = await redirectUrisOf(tenants.spare);
        expect(before).toHaveLength(2);

        const r = await gql(
          CONFIGURE,
          {
            input: oidcInput(p1.issuer, CLIENT.a, {
              clientSecret: undefined,
              clientId: 'rk-f',
              redirectUris: ['https://app.example/ok', uri],
            }),
          },
          tenants.spare.owner.auth,
        );

        expect(errorCode(r)).toBe('BAD_USER_INPUT');
        expect(r.body.data ?? null).toBeNull();
        expect(await redirectUrisOf(tenants.spare)).toEqual(before);
      },
    );

    it('should store https and loopback http redirect URIs when an owner configures them', () => {
      expect(configured.spare.redirectUris).toEqual([
        'https://app.example/cb',
        'http://127.0.0.1:5173/cb',
      ]);
    });
  });

  describe('allowed email domains', () => {
    it('should send back access_denied and create no user when the email is outside the allowed domains', async () => {
      const codesBefore = await loginCodes(tenants.domains);

      const r = await deliver(pathOf(await idpCallback(SLUG.domains, p1, OUTSIDER)));

      expectAccessDenied(r);
      expect(await loginCodes(tenants.domains)).toBe(codesBefore);
      expect(await usersWithEmail(OUTSIDER.email)).toBe(0);
      expect(await expectFailureAudited(r.requestId, tenants.domains)).toBe(
        'email_domain_not_allowed',
      );
    });

    it('should sign in when the email is inside an allowed domain', async () => {
      const { code } = await signIn(SLUG.domains, p1, INSIDER);

      const payload = (await exchange(code)).body.data!.exchangeLoginCode;

      expect(payload.user.email).toBe(INSIDER.email);
      expect(payload.tenant.id).toBe(tenants.domains.id);
    });
  });

  describe('configuration access and secrecy', () => {
    async function configOf(tenant: SeededTenant): Promise<unknown> {
      const [row] = await t.ds.query<Array<{ config: unknown; secret_sealed: string }>>(
        `SELECT config, secret_sealed FROM identity_provider WHERE tenant_id = $1 AND kind = 'OIDC'`,
        [tenant.id],
      );
      return row;
    }

    it('should refuse with FORBIDDEN and change nothing when a MEMBER configures OIDC', async () => {
      const before = await configOf(tenants.a);

      const r = await gql(
        CONFIGURE,
        { input: oidcInput(p1.issuer, CLIENT.a, { clientSecret: 'member-secret' }) },
        aMember.auth,
      );

      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(r.body.data ?? null).toBeNull();
      expect(await configOf(tenants.a)).toEqual(before);
    });

    it('should refuse with FORBIDDEN, change nothing and audit the denial when an ADMIN maps an IdP role to OWNER', async () => {
      const before = await configOf(tenants.a);
      const requestId = `rk-oidc-test-${hex(8)}`;

      const r = await gql(
        CONFIGURE,
        {
          input: oidcInput(p1.issuer, CLIENT.a, {
            clientSecret: undefined,
            roleMapping: [{ value: 'rk-admins', role: 'OWNER' }],
          }),
        },
        aAdmin.auth,
        { 'x-request-id': requestId },
      );

      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(await configOf(tenants.a)).toEqual(before);
      const events = (await audit(requestId)).filter(
        (e) => e.action === 'identity_provider.configured',
      );
      expect(events).toEqual([
        expect.objectContaining({
          action: 'identity_provider.configured',
          outcome: 'DENIED',
          tenant_id: tenants.a.id,
          actor_id: aAdmin.id,
        }),
      ]);
    });

    it('should write exactly one identity_provider.configured event without the secret when an owner configures OIDC', async () => {
      const requestId = `rk-oidc-test-${hex(8)}`;
      const secret = `canary-f2-${hex(16)}`;

      const r = await gql<{ configureOidcProvider: IdpModel }>(
        CONFIGURE,
        {
          input: oidcInput(p1.issuer, CLIENT.a, {
            clientId: 'rk-f',
            clientSecret: secret,
            redirectUris: ['https://app.example/cb', 'http://127.0.0.1:5173/cb'],
          }),
        },
        tenants.spare.owner.auth,
        { 'x-request-id': requestId },
      );

      expect(r.body.errors).toBeUndefined();
      const all = await audit(requestId);
      const events = all.filter((e) => e.action === 'identity_provider.configured');
      expect(events).toEqual([
        expect.objectContaining({
          action: 'identity_provider.configured',
          outcome: 'SUCCESS',
          tenant_id: tenants.spare.id,
          actor_id: tenants.spare.owner.id,
          target_id: r.body.data!.configureOidcProvider.id,
          metadata: expect.objectContaining({ kind: 'OIDC', issuer: p1.issuer }),
        }),
      ]);
      expect(JSON.stringify(all)).not.toContain(secret);
      expect(r.text).not.toContain(secret);
    });

    it('should never return, log or audit a client secret while listing hasClientSecret and a fingerprint', async () => {
      const r = await gql<{ identityProviders: IdpModel[] }>(LIST, undefined, tenants.a.owner.auth);

      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.identityProviders).toEqual([
        expect.objectContaining({
          id: configured.a.id,
          kind: 'OIDC',
          issuer: p1.issuer,
          clientId: CLIENT.a.clientId,
          hasClientSecret: true,
          secretFingerprint: expect.stringMatching(/\S{8,}/),
          redirectUris: [APP_REDIRECT],
          loginUrl: `${PUBLIC_URL}/auth/oidc/${SLUG.a}/login`,
          callbackUrl: callbackUrlOf(SLUG.a),
        }),
      ]);
      expect(Object.keys(r.body.data!.identityProviders[0])).not.toContain('clientSecret');

      const auditText = (
        await t.ds.query<Array<{ row: string }>>(
          'SELECT row_to_json(a)::text AS row FROM audit_event a',
        )
      )
        .map((x) => x.row)
        .join('\n');
      const sealed = (
        await t.ds.query<Array<{ secret_sealed: string }>>(
          'SELECT secret_sealed FROM identity_provider',
        )
      )
        .map((x) => x.secret_sealed)
        .join('\n');
      const responses = seen.join('\n');
      const logs = t.logs.join('\n');
      expect(responses).toContain(configured.a.secretFingerprint!);
      for (const secret of Object.values(SECRET)) {
        expect(responses).not.toContain(secret);
        expect(auditText).not.toContain(secret);
        expect(logs).not.toContain(secret);
        expect(sealed).not.toContain(secret);
        expect(sealed).not.toContain(Buffer.from(secret).toString('base64'));
      }
      // One-time login codes travel only in the redirect, never into logs or audit.
      expect(logs).not.toMatch(/rkc_/);
      expect(auditText).not.toMatch(/rkc_/);
    });

    it("should not show tenant A's provider to tenant B's owner when B lists its identity providers", async () => {
      const r = await gql<{ identityProviders: IdpModel[] }>(LIST, undefined, tenants.b.owner.auth);

      expect(r.body.errors).toBeUndefined();
      const list = r.body.data!.identityProviders;
      expect(list.map((p) => p.id)).toEqual([configured.b.id]);
      expect(list[0]).toMatchObject({ issuer: p2.issuer, clientId: CLIENT.b.clientId });
      expect(r.text).not.toContain(configured.a.id);
      expect(r.text).not.toContain(p1.issuer);
      expect(r.text).not.toContain(SLUG.a);
    });
  });
});
