/**
 * Shared counters (docs/security.md S13, README "Rate limits"): with `REDIS_URL`, every instance
 * counts in one Redis, so failures spread over instances add up; with Redis configured but down,
 * each instance falls back to its own in-memory counters at once (typed answers, no hang).
 *
 * Needs Redis on 127.0.0.1:6379. Each run uses its own random key prefix.
 */
import { randomBytes } from 'node:crypto';
import { createScratchDatabase } from './helpers/database';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  type GqlResult,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

const LOGIN = 'mutation ($i: LoginInput!) { login(input: $i) { accessToken } }';
const uniq = (): string => randomBytes(4).toString('hex');
let ipCounter = 0;
const freshIp = (): string => `10.9.${Math.floor(++ipCounter / 256) % 256}.${ipCounter % 256}`;

const codeOf = (r: GqlResult): string | undefined => r.body.errors?.[0]?.extensions?.code;

function login(t: TestApp, password: string): Promise<GqlResult> {
  return t.gql(
    LOGIN,
    { i: { email: ADMIN_EMAIL, password, tenantSlug: 'demo' } },
    { headers: { 'x-forwarded-for': freshIp() } },
  );
}

describe('Rate limits shared through Redis', () => {
  let first: TestApp;
  let second: TestApp;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | null = null;

  beforeAll(async () => {
    const env: Record<string, string> = {
      REDIS_URL: 'redis://127.0.0.1:6379',
      ROOMKEY_RATE_LIMIT_PREFIX: `rk-test-${uniq()}${uniq()}`,
      ROOMKEY_TRUST_PROXY: 'loopback',
    };
    // On PostgreSQL both instances share one database, as in production; the embedded database
    // is one per process, so there the two share Redis only (the same bootstrap admin on each).
    if (process.env.DATABASE_URL) {
      scratch = await createScratchDatabase(process.env.DATABASE_URL);
      env.DATABASE_URL = scratch.url;
    }
    first = await startTestApp(env);
    second = await startTestApp(env);
  }, 180_000);

  afterAll(async () => {
    await second?.close();
    await first?.close();
    await scratch?.drop();
  });

  it('should lock the account on both instances when 15 failures are split across them', async () => {
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 15; i++) {
      const app = i % 2 === 0 ? first : second;
      codes.push(codeOf(await login(app, `wrong-password-${i}`)));
    }
    // Ten failures (the default threshold) counted across both, then the lock on both.
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(codes.slice(10)).toEqual(Array(5).fill('RATE_LIMITED'));
    for (const app of [first, second]) {
      const r = await login(app, ADMIN_PASSWORD);
      expect(codeOf(r)).toBe('RATE_LIMITED');
      expect(
        (r.body.errors?.[0]?.extensions as { retryAfter?: number } | undefined)?.retryAfter,
      ).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('Rate limits with Redis configured but down', () => {
  let t: TestApp;

  beforeAll(async () => {
    // Nothing listens on port 1: every Redis command fails at once.
    t = await startTestApp({
      REDIS_URL: 'redis://127.0.0.1:1',
      ROOMKEY_RATE_LIMIT_PREFIX: `rk-test-${uniq()}`,
      ROOMKEY_TRUST_PROXY: 'loopback',
    });
  }, 180_000);
  afterAll(() => t?.close());

  it('should keep locking accounts with per-instance counters when Redis is unreachable', async () => {
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 12; i++) codes.push(codeOf(await login(t, `wrong-password-${i}`)));
    expect(codes.slice(0, 10)).toEqual(Array(10).fill('UNAUTHENTICATED'));
    expect(codes.slice(10)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('should still serve authenticated requests when Redis is unreachable', async () => {
    const r = await t.gql('{ me { tenant { slug } } }', {}, { auth: t.adminAuth });
    // Basic without a tenant header is its own account scope ("-" for the tenant), not the
    // locked "demo" one above.
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data).toEqual({ me: { tenant: { slug: 'demo' } } });
  });
});
