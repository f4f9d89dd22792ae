import { isDatabaseUnavailable } from '../src/common/errors';
import { withStatementTimeout } from '../src/database/pg-client';
import { createScratchDatabase } from './helpers/database';
import { type TcpProxy, startTcpProxy } from './helpers/tcp-proxy';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ADMIN_TENANT,
  type GqlResult,
  type TestApp,
  basic,
  errorCode,
  startTestApp,
} from './helpers/test-app';

// The app reaches PostgreSQL only through a loopback proxy that can go silent (partition) or drop
// everything (outage). It needs PostgreSQL even in the embedded run: the machine's own is used then.
const BASE_URL = process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

const ME = '{ me { role } }';
const LOGIN = 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }';
const CREATE_KEY =
  'mutation ($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { keyId } } }';

interface Probe {
  apiKey: GqlResult<{ me: { role: string } }>;
  login: GqlResult<{ login: { accessToken: string } }>;
  wrongPassword: GqlResult;
  bearer: GqlResult<{ me: { role: string } }>;
  compat: { status: number; retryAfter: string | undefined; code: string | undefined };
  ready: number;
  live: number;
}

describe('database faults (PostgreSQL through a TCP proxy)', () => {
  let t: TestApp;
  let proxy: TcpProxy;
  let drop: () => Promise<void>;
  let apiKeyAuth: string;
  let secrets: string[];
  let freshKeys = 0;

  beforeAll(async () => {
    const scratch = await createScratchDatabase(BASE_URL);
    drop = scratch.drop;
    const target = new URL(scratch.url);
    proxy = await startTcpProxy(Number(target.port || 5432), target.hostname);
    const proxied = new URL(scratch.url);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(proxy.port);
    t = await startTestApp({
      DATABASE_URL: proxied.toString(),
      ROOMKEY_DB_CONNECT_TIMEOUT_MS: '1000',
      ROOMKEY_DB_ACQUIRE_TIMEOUT_MS: '1500',
      ROOMKEY_DB_STATEMENT_TIMEOUT_MS: '1000',
    });
    const key = await t.gql<{ createApiKey: { secret: string; apiKey: { keyId: string } } }>(
      CREATE_KEY,
      { input: { name: 'fault probe', role: 'ADMIN' } },
      { auth: t.adminAuth },
    );
    expect(key.body.errors).toBeUndefined();
    const { secret, apiKey } = key.body.data!.createApiKey;
    apiKeyAuth = basic(apiKey.keyId, secret);
    secrets = [secret, ADMIN_PASSWORD, t.adminAuth.slice('Basic '.length)];
  }, 120_000);

  afterAll(async () => {
    await t?.close();
    await proxy?.close();
    await drop?.();
  });

  /** A fresh access token, never used yet (so no cached session check can answer for it). */
  async function freshToken(): Promise<string> {
    const r = await t.gql<{ login: { accessToken: string } }>(LOGIN, {
      input: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, tenantSlug: ADMIN_TENANT },
    });
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.login.accessToken;
  }

  /**
   * A fresh API key, never used yet (so no remembered check can answer for it: a remembered key
   * needs no database to authenticate, and a route that needs none either is then served).
   */
  async function freshApiKey(): Promise<string> {
    const key = await t.gql<{ createApiKey: { secret: string; apiKey: { keyId: string } } }>(
      CREATE_KEY,
      { input: { name: `fault probe ${++freshKeys}`, role: 'ADMIN' } },
      { auth: t.adminAuth },
    );
    expect(key.body.errors).toBeUndefined();
    const { secret, apiKey } = key.body.data!.createApiKey;
    secrets.push(secret);
    return basic(apiKey.keyId, secret);
  }

  /** Every kind of caller at once: API key, password login, bearer token, compat route, probes. */
  async function probe(token: string, keyAuth = apiKeyAuth): Promise<Probe> {
    const login = (password: string) =>
      t.gql<{ login: { accessToken: string } }>(LOGIN, {
        input: { email: ADMIN_EMAIL, password, tenantSlug: ADMIN_TENANT },
      });
    const [apiKey, ok, wrongPassword, bearer, compat, ready, live] = await Promise.all([
      t.gql<{ me: { role: string } }>(ME, {}, { auth: keyAuth }),
      login(ADMIN_PASSWORD),
      login('not-the-password-at-all'),
      t.gql<{ me: { role: string } }>(ME, {}, { auth: `Bearer ${token}` }),
      t.http().get(`/t/${ADMIN_TENANT}/agora/ping`).set('authorization', keyAuth),
      t.http().get('/health/ready'),
      t.http().get('/health/live'),
    ]);
    return {
      apiKey,
      login: ok,
      wrongPassword,
      bearer,
      compat: {
        status: compat.status,
        retryAfter: compat.headers['retry-after'],
        code: compat.headers['x-roomkey-error-code'],
      },
      ready: ready.status,
      live: live.status,
    };
  }

  function expectUnavailable(p: Probe): void {
    for (const r of [p.apiKey, p.login, p.wrongPassword, p.bearer]) {
      expect(errorCode(r)).toBe('SERVICE_UNAVAILABLE');
      expect(r.body.errors?.[0]?.extensions).toMatchObject({ retryAfter: expect.any(Number) });
      expect(r.body.data ?? null).toBeNull();
    }
    expect(p.compat).toEqual({
      status: 503,
      retryAfter: expect.stringMatching(/^\d+$/),
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(p.ready).toBe(503);
    expect(p.live).toBe(200);
  }

  function expectServed(p: Probe): void {
    expect(p.apiKey.body).toEqual({ data: { me: { role: 'ADMIN' } } });
    expect(p.login.body.errors).toBeUndefined();
    expect(typeof p.login.body.data?.login.accessToken).toBe('string');
    expect(errorCode(p.wrongPassword)).toBe('UNAUTHENTICATED');
    expect(p.bearer.body).toEqual({ data: { me: { role: 'OWNER' } } });
    expect(p.compat.status).toBe(200);
    expect(p.ready).toBe(200);
    expect(p.live).toBe(200);
  }

  /** Probes once while `fault` holds (a token and a key made before it), then after healing. */
  async function probeThrough(fault: () => void): Promise<{ during: Probe; after: Probe }> {
    const token = await freshToken();
    const keyAuth = await freshApiKey();
    fault();
    let during: Probe;
    try {
      during = await probe(token, keyAuth);
    } finally {
      proxy.resume();
    }
    return { during, after: await probe(await freshToken()) };
  }

  it('should answer every caller normally when the database is reachable', async () => {
    expectServed(await probe(await freshToken()));
  });

  describe('when the network to the database is partitioned (connections go silent)', () => {
    let during: Probe;
    let after: Probe;

    beforeAll(async () => {
      ({ during, after } = await probeThrough(() => proxy.pause()));
    }, 120_000);

    it('should answer SERVICE_UNAVAILABLE with a retry delay when a valid key, password or token cannot be checked', () => {
      expectUnavailable(during);
    });

    it('should serve the same requests again without a restart when the network heals', () => {
      expectServed(after);
    });
  });

  describe('when the database is down (connections reset, new ones refused)', () => {
    let during: Probe;
    let after: Probe;

    beforeAll(async () => {
      ({ during, after } = await probeThrough(() => proxy.cut()));
    }, 120_000);

    it('should answer SERVICE_UNAVAILABLE, never UNAUTHENTICATED, when credentials cannot be checked', () => {
      expectUnavailable(during);
      for (const r of [during.apiKey, during.login, during.wrongPassword, during.bearer])
        expect(errorCode(r)).not.toBe('UNAUTHENTICATED');
    });

    it('should serve the same requests again without a restart when the database is back', () => {
      expectServed(after);
    });
  });

  describe('statement timeouts', () => {
    it('should cancel a statement as database-unavailable when it runs past the statement timeout', async () => {
      const err: unknown = await t.ds.query('SELECT pg_sleep(2)').then(
        () => null,
        (e: unknown) => e,
      );
      expect((err as { code?: string } | null)?.code).toBe('57014');
      expect(isDatabaseUnavailable(err)).toBe(true);
    });

    it('should let maintenance work run longer when it sets its own timeout, and restore the default after', async () => {
      const runner = t.ds.createQueryRunner();
      try {
        await runner.connect();
        const rows = await withStatementTimeout(runner, 10_000, () =>
          runner.query('SELECT pg_sleep(2), 1 AS done'),
        );
        expect(rows).toEqual([expect.objectContaining({ done: 1 })]);
        const [setting] = (await runner.query('SHOW statement_timeout')) as Array<{
          statement_timeout: string;
        }>;
        expect(setting.statement_timeout).toBe('1s');
      } finally {
        await runner.release();
      }
    });
  });

  it('should log database failures without any credential when it answers SERVICE_UNAVAILABLE', () => {
    const logs = t.logs.join('\n');
    expect(logs).toMatch(/database unavailable/);
    for (const s of secrets) expect(logs).not.toContain(s);
  });
});
