/**
 * Rate limits hold (docs/security.md S13, README "Rate limits"): per-IP budgets on anonymous routes
 * (each aliased GraphQL root field counts), credential-failure locks per account and per API key
 * that refuse even the right secret until they end, per-tenant budgets on authenticated traffic
 * (HTTP 429 + Retry-After), Red5 limits per tenant slug that keep Red5's contract and leave other
 * tenants alone, one audit summary per source, route and minute, and a bounded Argon2 queue.
 *
 * The app trusts the loopback proxy, so each test picks its own client IPs with X-Forwarded-For.
 */
import { randomBytes } from 'node:crypto';
import { AuditService } from '../src/audit/audit.service';
import { RateLimitAudit } from '../src/rate-limits/rate-limit-audit.service';
import { seedApiKey, seedTenant } from './factories/tenancy';
import { seedRed5Tenant, validateRed5 } from './helpers/red5';
import { basic, type GqlResult, startTestApp, type TestApp } from './helpers/test-app';
import { AGORA_NO_CACHE } from './helpers/vendors';

const uniq = (): string => randomBytes(4).toString('hex');
let ipCounter = 0;
/** A client IP no other request in this file uses. */
const freshIp = (): string => {
  ipCounter++;
  return `10.${Math.floor(ipCounter / 65536) % 256}.${Math.floor(ipCounter / 256) % 256}.${ipCounter % 256}`;
};

const LOGIN = 'mutation ($i: LoginInput!) { login(input: $i) { accessToken } }';
const ME = '{ me { tenant { slug } } }';

type Errors = GqlResult['body']['errors'];
const codeOf = (errors: Errors | undefined): string | undefined => errors?.[0]?.extensions?.code;
const retryAfterOf = (errors: Errors | undefined): unknown =>
  (errors?.[0]?.extensions as { retryAfter?: unknown } | undefined)?.retryAfter;

/** Low limits where the tests need them; everything else keeps its default. */
const ENV = {
  ROOMKEY_TRUST_PROXY: 'loopback',
  ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP: '10',
  ROOMKEY_RATE_LIMIT_TENANT_PER_MINUTE: '8',
  ROOMKEY_RATE_LIMIT_RED5_PER_TENANT: '5',
  // Answer over-budget Red5 requests at once here; the hold-back has its own spec (red5-admission).
  ROOMKEY_RATE_LIMIT_RED5_REFUSAL_DELAY_MS: '0',
  ROOMKEY_PASSWORD_HASH_CONCURRENCY: '1',
  ROOMKEY_PASSWORD_HASH_QUEUE: '1',
  // The Argon2 queue fills only behind checks that take real time: the production cost.
  ROOMKEY_TEST_FAST_PASSWORD_HASH: 'false',
};

describe('Rate limits', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp(ENV);
  });
  afterAll(() => t?.close());

  const login = (
    email: string,
    password: string,
    tenantSlug: string,
    ip: string,
  ): Promise<GqlResult<{ login: { accessToken: string } }>> =>
    t.gql(LOGIN, { i: { email, password, tenantSlug } }, { headers: { 'x-forwarded-for': ip } });

  const me = (auth: string, ip: string, tenantSlug?: string): Promise<GqlResult> =>
    t.gql(
      ME,
      {},
      {
        auth,
        headers: {
          'x-forwarded-for': ip,
          ...(tenantSlug ? { 'x-roomkey-tenant': tenantSlug } : {}),
        },
      },
    );

  /** Sum of `count` over the rate-limit summaries in one chain, after writing the open windows. */
  async function summaries(
    tenantId: string,
  ): Promise<Array<{ count: number; scope: string; route: string }>> {
    await t.app.get(RateLimitAudit).flush();
    const rows = await t.ds.query<Array<{ metadata: Record<string, unknown> }>>(
      `SELECT metadata FROM audit_event WHERE tenant_id = $1 AND action = 'rate_limit.exceeded' ORDER BY seq`,
      [tenantId],
    );
    return rows.map((r) => ({
      count: Number(r.metadata.count),
      scope: String(r.metadata.scope),
      route: String(r.metadata.route),
    }));
  }

  describe('failed passwords lock the account', () => {
    it('should refuse with RATE_LIMITED and retryAfter, even the right password, when one account had 20 wrong passwords', async () => {
      const tenant = await seedTenant(t);
      const { email, password } = tenant.owner;
      const codes: Array<string | undefined> = [];
      const retryAfters: unknown[] = [];
      // From 20 different IPs: the per-IP budget never applies, only the account's.
      for (let i = 0; i < 20; i++) {
        const r = await login(email, `${password}-wrong-${i}`, tenant.slug, freshIp());
        codes.push(codeOf(r.body.errors));
        retryAfters.push(retryAfterOf(r.body.errors));
      }
      expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
      expect(codes.slice(10)).toEqual(Array(10).fill('RATE_LIMITED'));
      for (const ra of retryAfters.slice(10)) {
        expect(typeof ra).toBe('number');
        expect(ra as number).toBeGreaterThanOrEqual(1);
        expect(ra as number).toBeLessThanOrEqual(60);
      }

      const right = await login(email, password, tenant.slug, freshIp());
      expect(codeOf(right.body.errors)).toBe('RATE_LIMITED');
      expect(right.body.data?.login ?? null).toBeNull();
      // Basic with the right password, naming the same tenant, is the same account: locked too.
      const viaBasic = await me(tenant.owner.auth, freshIp(), tenant.slug);
      expect(codeOf(viaBasic.body.errors)).toBe('RATE_LIMITED');
    });

    it('should still sign in another account when one account is locked', async () => {
      const locked = await seedTenant(t);
      const other = await seedTenant(t);
      const ip = freshIp();
      for (let i = 0; i < 12; i++) {
        await login(locked.owner.email, `wrong-password-${i}`, locked.slug, freshIp());
      }
      expect(
        codeOf(
          (await login(locked.owner.email, locked.owner.password, locked.slug, ip)).body.errors,
        ),
      ).toBe('RATE_LIMITED');
      const r = await login(other.owner.email, other.owner.password, other.slug, ip);
      expect(r.body.errors).toBeUndefined();
      expect(typeof r.body.data?.login.accessToken).toBe('string');
    });

    it('should not hash anything for a locked account when its flood goes on', async () => {
      const tenant = await seedTenant(t);
      for (let i = 0; i < 10; i++) {
        await login(tenant.owner.email, `wrong-password-${i}`, tenant.slug, freshIp());
      }
      const failedBefore = await t.ds.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM audit_event WHERE action = 'auth.login.failed' AND actor_label = $1`,
        [tenant.owner.email],
      );
      for (let i = 0; i < 10; i++) {
        const r = await login(tenant.owner.email, `wrong-again-${i}`, tenant.slug, freshIp());
        expect(codeOf(r.body.errors)).toBe('RATE_LIMITED');
      }
      // Refused before the password check: no further failure was recorded one by one.
      const failedAfter = await t.ds.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM audit_event WHERE action = 'auth.login.failed' AND actor_label = $1`,
        [tenant.owner.email],
      );
      expect(failedBefore[0].n).toBe(10);
      expect(failedAfter[0].n).toBe(10);
      const counted = (await summaries(tenant.id)).filter((s) => s.scope === 'account_locked');
      expect(counted.reduce((n, s) => n + s.count, 0)).toBe(10);
    });
  });

  describe('failed API key secrets lock the key', () => {
    it('should refuse the key with RATE_LIMITED, even with its right secret, when its id had 25 wrong secrets', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant);
      const other = await seedApiKey(t, tenant);
      const codes: Array<string | undefined> = [];
      for (let i = 0; i < 25; i++) {
        const r = await me(basic(key.keyId, `wrong-secret-${i}`), freshIp());
        codes.push(codeOf(r.body.errors));
      }
      expect(codes.slice(0, 20)).toEqual(Array(20).fill('UNAUTHENTICATED'));
      expect(codes.slice(20)).toEqual(Array(5).fill('RATE_LIMITED'));
      const right = await me(key.auth, freshIp());
      expect(codeOf(right.body.errors)).toBe('RATE_LIMITED');
      expect(typeof retryAfterOf(right.body.errors)).toBe('number');
      const otherKey = await me(other.auth, freshIp());
      expect(otherKey.body.errors).toBeUndefined();
    });
  });

  describe('per-IP budget on anonymous GraphQL', () => {
    it('should count each aliased login as one request when 15 are sent in one operation', async () => {
      const tenant = await seedTenant(t);
      const ip = freshIp();
      const { email, password } = tenant.owner;
      // The right password, so every field runs (mutation fields run in order and the first
      // error ends the operation) and no failure lock is involved: only the IP budget (10).
      const fields = Array.from(
        { length: 15 },
        (_, i) =>
          `a${i}: login(input: {email: "${email}", password: "${password}", tenantSlug: "${tenant.slug}"}) { accessToken }`,
      );
      const r = await t.gql(
        `mutation { ${fields.join(' ')} }`,
        {},
        { headers: { 'x-forwarded-for': ip } },
      );
      const errors = (r.body.errors ?? []) as Array<{
        path?: string[];
        extensions?: { code?: string; retryAfter?: number };
      }>;
      // a0…a9 signed in; a10 is the eleventh request of this IP's minute.
      expect(errors).toHaveLength(1);
      expect(errors[0].path).toEqual(['a10']);
      expect(errors[0].extensions?.code).toBe('RATE_LIMITED');
      expect(errors[0].extensions?.retryAfter).toBeGreaterThanOrEqual(1);

      const again = await login(email, password, tenant.slug, ip);
      expect(codeOf(again.body.errors)).toBe('RATE_LIMITED');
      const elsewhere = await login(email, password, tenant.slug, freshIp());
      expect(elsewhere.body.errors).toBeUndefined();
    });
  });

  describe('per-tenant budget on HTTP routes', () => {
    it('should answer 429 with Retry-After when a tenant exceeds its per-minute budget on a compat route', async () => {
      const tenant = await seedTenant(t);
      const statuses: number[] = [];
      let limited: { status: number; headers: Record<string, string>; body: unknown } | null = null;
      for (let i = 0; i < 10; i++) {
        const res = await t
          .http()
          .get(`/t/${tenant.slug}/agora/ping`)
          .set('authorization', tenant.owner.auth)
          .set('x-forwarded-for', freshIp());
        statuses.push(res.status);
        if (res.status === 429 && !limited) limited = res;
      }
      expect(statuses.slice(0, 8).every((s) => s !== 429)).toBe(true);
      expect(statuses.slice(8)).toEqual([429, 429]);
      expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(limited!.body).toMatchObject({ error: { code: 'RATE_LIMITED' } });
      expect(limited!.headers).toMatchObject(AGORA_NO_CACHE);

      // The same refusal on other vendors' routes, in each sample's shape (README "Refusals").
      const livekit = await t
        .http()
        .post(`/t/${tenant.slug}/livekit/token`)
        .set('authorization', tenant.owner.auth)
        .set('x-forwarded-for', freshIp())
        .send({ roomName: 'r', participantName: 'p' });
      expect(livekit.status).toBe(429);
      expect(livekit.body).toEqual({ errorMessage: 'Too many requests: retry later' });
      expect(Number(livekit.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(livekit.headers['x-roomkey-error-code']).toBe('RATE_LIMITED');
      const pexip = await t
        .http()
        .get(`/t/${tenant.slug}/pexip/api-address`)
        .set('authorization', tenant.owner.auth)
        .set('x-forwarded-for', freshIp());
      expect(pexip.status).toBe(429);
      expect(pexip.headers['content-type']).toMatch(/^text\/plain/);
      expect(pexip.text).toBe('Too many requests: retry later');
    });
  });

  describe('Red5 round-trip auth', () => {
    const red5Tenant = () => seedRed5Tenant(t, { 'x-forwarded-for': freshIp() });
    const validate = (slug: string, body: unknown) => validateRed5(t, slug, body);

    it("should answer tenant A's flood with 200 {result:false} past its budget while tenant B's valid credential still passes", async () => {
      const [a, b] = [await red5Tenant(), await red5Tenant()];
      const answers: Array<{ status: number; text: string }> = [];
      for (let i = 0; i < 12; i++) {
        const res = await validate(a.tenant.slug, a.body);
        answers.push({ status: res.status, text: res.text });
      }
      expect(answers.every((x) => x.status === 200)).toBe(true);
      // A's credential is valid: the first five pass, the rest are the limit's denials.
      expect(answers.slice(0, 5).map((x) => x.text)).toEqual(Array(5).fill('{"result":true}'));
      expect(answers.slice(5).map((x) => x.text)).toEqual(Array(7).fill('{"result":false}'));

      const fromB = await validate(b.tenant.slug, b.body);
      expect(fromB.status).toBe(200);
      expect(fromB.text).toBe('{"result":true}');
    });

    it('should write one summary with the count, and no per-request event, when a tenant floods its Red5 route', async () => {
      const a = await red5Tenant();
      for (let i = 0; i < 30; i++) await validate(a.tenant.slug, { nonsense: i });
      const validated = await t.ds.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM audit_event WHERE tenant_id = $1 AND action = 'red5.validated'`,
        [a.tenant.id],
      );
      // Five answered (and audited) within the budget; the 25 refused appended nothing each.
      expect(validated[0].n).toBe(5);
      const events = await summaries(a.tenant.id);
      expect(events.length).toBeGreaterThanOrEqual(1);
      expect(events.length).toBeLessThanOrEqual(2); // one per minute: a flood may straddle two
      expect(events.every((e) => e.scope === 'red5_tenant')).toBe(true);
      expect(events.every((e) => e.route === 'POST /t/:tenantSlug/red5/validateCredentials')).toBe(
        true,
      );
      expect(events.reduce((n, e) => n + e.count, 0)).toBe(25);
      // The summaries extend the tenant's chain like any other event.
      expect((await t.app.get(AuditService).verify(a.tenant.id)).ok).toBe(true);
    });
  });

  describe('Argon2 queue', () => {
    it('should refuse at once with RATE_LIMITED when every hashing slot and queue place is taken', async () => {
      const tenant = await seedTenant(t);
      // Concurrency 1, queue 1: twenty simultaneous checks (distinct accounts and IPs, so no lock
      // or IP budget is involved) cannot all wait.
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          login(`queue-${uniq()}-${i}@example.test`, 'not-the-password', tenant.slug, freshIp()),
        ),
      );
      const codes = results.map((r) => codeOf(r.body.errors));
      expect(codes).toContain('RATE_LIMITED');
      expect(codes).toContain('UNAUTHENTICATED');
      expect(codes.every((c) => c === 'RATE_LIMITED' || c === 'UNAUTHENTICATED')).toBe(true);
      for (const r of results.filter((x) => codeOf(x.body.errors) === 'RATE_LIMITED')) {
        expect(retryAfterOf(r.body.errors)).toBe(1);
      }
    });
  });
});
