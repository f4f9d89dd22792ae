/**
 * Roomkey's own signals on `/metrics`: the Grafana dashboard in deploy/grafana reads only metrics
 * that exist (checked on the scrape of a demo run), and each domain metric moves when its event
 * happens — a mint, an authentication, a rate-limit refusal, a vendor fault, an audit append, a
 * database acquire — with the labels its help text promises. GraphQL access log lines name their
 * operation.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { seedMigratedInMemoryDatabases } from './helpers/database';
import { type Demo, type DemoCommand, runDemo } from '../scripts/demo';
import {
  dashboardExprs,
  metricSample,
  missingFromScrape,
  promqlMetricNames,
} from './helpers/metrics';
import { errorCode } from './helpers/test-app';
import { CREATE_SESSION, type VendorWorld, startVendorWorld } from './helpers/vendors';

const DASHBOARD = join(__dirname, '..', 'deploy', 'grafana', 'roomkey-dashboard.json');
const LOGIN = 'mutation ($input: LoginInput!) { login(input: $input) { accessToken } }';
const CREATE_CONNECTION =
  'mutation ($input: CreateConnectionInput!) { createConnection(input: $input) { id } }';

/** A 127.0.0.1 port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

describe('metrics: the Grafana dashboard', () => {
  let demo: Demo;
  let scrape: string;

  const send = async (c: DemoCommand): Promise<Response> =>
    fetch(c.url, {
      method: c.method,
      headers: {
        ...(c.basic ? { authorization: `Basic ${Buffer.from(c.basic).toString('base64')}` } : {}),
        ...(c.json !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: c.json === undefined ? undefined : JSON.stringify(c.json),
    });
  const gql = async (query: string, variables: Record<string, unknown>, basic?: string) =>
    (await send({
      title: 'gql',
      method: 'POST',
      url: `${demo.url}/graphql`,
      basic,
      json: { query, variables },
    }).then((r) => r.json())) as {
      data?: Record<string, unknown>;
      errors?: Array<{ extensions?: { code?: string } }>;
    };

  beforeAll(async () => {
    seedMigratedInMemoryDatabases(); // the demo's in-memory database starts migrated
    demo = await runDemo({ quiet: true, env: { ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP: '2' } });
    // The demo's commands, as printed…
    for (const c of demo.commands) expect((await send(c)).status).toBe(200);
    // …and what a day brings besides: wrong passwords until the login limit refuses, and a
    // vendor that does not answer.
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 3; i++) {
      const r = await gql(LOGIN, {
        input: { email: 'nobody@example.test', password: 'wrong-password-1', tenantSlug: 'demo' },
      });
      codes.push(r.errors?.[0]?.extensions?.code);
    }
    expect(codes).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'RATE_LIMITED']);
    const created = await gql(
      'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }',
      {
        input: {
          name: 'openvidu-unreachable',
          openvidu: { url: `http://127.0.0.1:${await closedPort()}`, secret: 'unreachable' },
        },
      },
      demo.apiKey,
    );
    const id = (created.data?.createProviderCredential as { id: string }).id;
    const tested = await gql(
      'mutation ($id: ID!) { testProviderCredential(id: $id) { ok } }',
      { id },
      demo.apiKey,
    );
    expect(tested.data?.testProviderCredential).toEqual({ ok: false });
    scrape = await (await fetch(`${demo.url}/metrics`)).text();
  });
  afterAll(() => demo.close());

  it('should find every metric a dashboard query names, with samples, after a demo run', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as unknown;
    const exprs = dashboardExprs(dashboard);
    expect(exprs.length).toBeGreaterThanOrEqual(20);
    const names = [...new Set(exprs.flatMap(promqlMetricNames))];
    // Each query reads at least one metric, and all of them are Roomkey's own.
    for (const expr of exprs) expect(promqlMetricNames(expr).length).toBeGreaterThan(0);
    expect(names.filter((n) => !n.startsWith('roomkey_'))).toEqual([]);
    const missing = names.map((n) => missingFromScrape(scrape, n, true)).filter(Boolean);
    expect(missing).toEqual([]);
  });

  it('should report a query that names a metric missing from the scrape', () => {
    const names = promqlMetricNames(
      'histogram_quantile(0.95, sum by (le, vendor) (rate(roomkey_vendor_call_seconds_bucket{vendor="x"}[5m]))) / roomkey_db_pool_clients',
    );
    expect(names).toEqual(['roomkey_vendor_call_seconds_bucket', 'roomkey_db_pool_clients']);
    expect(missingFromScrape(scrape, names[0], false)).toMatch(/no such metric/);
    expect(missingFromScrape(scrape, names[1], false)).toBeUndefined();
    // A histogram's series exist under their suffixes only; a counter has no `_bucket`.
    expect(missingFromScrape(scrape, 'roomkey_audit_batch_size', false)).toMatch(/no such/);
    expect(missingFromScrape(scrape, 'roomkey_audit_batch_size_count', true)).toBeUndefined();
    expect(missingFromScrape(scrape, 'roomkey_http_requests_total_bucket', false)).toMatch(
      /no such/,
    );
  });

  it('should never label a series with an id, a key or a secret of the demo', () => {
    const [keyId, secret] = demo.apiKey.split(':');
    expect(scrape).not.toContain(keyId);
    expect(scrape).not.toContain(secret);
    expect(scrape).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
    expect(scrape).not.toContain('nobody@example.test');
  });
});

describe('metrics: domain events', () => {
  let w: VendorWorld;
  const scrape = async (): Promise<string> => (await w.t.http().get('/metrics').expect(200)).text;
  /** The value of one series now (0 when absent). */
  const value = async (name: string, labels: Record<string, string>): Promise<number> =>
    metricSample(await scrape(), name, labels) ?? 0;

  beforeAll(async () => {
    w = await startVendorWorld({
      ROOMKEY_RATE_LIMIT_PUBLIC_PER_IP: '3',
      ROOMKEY_PROVIDER_TIMEOUT_MS: '400',
      ROOMKEY_PROVIDER_BREAKER_FAILURES: '3',
      ROOMKEY_PROVIDER_BREAKER_OPEN_MS: '60000',
    });
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const session = async (provider: string, customSessionId: string) =>
    w.t.gql<{ createSession: { id: string } }>(
      CREATE_SESSION,
      { input: { provider, customSessionId } },
      { auth: w.a.adminKey },
    );

  it('should count a GraphQL mint under its vendor, role, lane and route, and not a refused one', async () => {
    const labels = {
      vendor: 'agora',
      kind: 'join',
      role: 'subscriber',
      lane: 'graphql',
      route: 'graphql:createConnection',
    };
    const before = await value('roomkey_credentials_issued_total', labels);
    const s = await session('AGORA', 'metrics-mint');
    const id = s.body.data!.createSession.id;
    const ok = await w.t.gql(
      CREATE_CONNECTION,
      { input: { sessionId: id, role: 'SUBSCRIBER', agora: { uid: 7 } } },
      { auth: w.a.adminKey },
    );
    expect(ok.body.errors).toBeUndefined();
    expect(await value('roomkey_credentials_issued_total', labels)).toBe(before + 1);
    // Refused before anything is issued: not counted.
    const refused = await w.t.gql(
      CREATE_CONNECTION,
      { input: { sessionId: id, role: 'SUBSCRIBER', ttlSeconds: 0, agora: { uid: 8 } } },
      { auth: w.a.adminKey },
    );
    expect(errorCode(refused)).toBe('BAD_USER_INPUT');
    expect(await value('roomkey_credentials_issued_total', labels)).toBe(before + 1);
  });

  it('should count a compatibility-route mint under the compat lane and its route', async () => {
    const labels = {
      vendor: 'agora',
      kind: 'join',
      role: 'publisher',
      lane: 'compat',
      route: 'agora.rtc',
    };
    const before = await value('roomkey_credentials_issued_total', labels);
    await w.t
      .http()
      .get(`/t/${w.a.tenant.slug}/agora/rtc/metrics-rtc/publisher/uid/42/?expiry=600`)
      .set('authorization', w.a.adminKey)
      .expect(200);
    expect(await value('roomkey_credentials_issued_total', labels)).toBe(before + 1);
  });

  it('should count a failed Basic login as a failure of its method and reason class', async () => {
    const failed = { method: 'basic_password', outcome: 'failure', reason: 'bad_credentials' };
    const succeeded = { method: 'basic_api_key', outcome: 'success', reason: 'none' };
    const [f0, s0] = [
      await value('roomkey_auth_attempts_total', failed),
      await value('roomkey_auth_attempts_total', succeeded),
    ];
    const wrong = `Basic ${Buffer.from(`${w.a.member.email}:not-the-password`).toString('base64')}`;
    const r = await w.t.gql('{ me { role } }', {}, { auth: wrong });
    expect(errorCode(r)).toBe('UNAUTHENTICATED');
    expect(await value('roomkey_auth_attempts_total', failed)).toBe(f0 + 1);
    expect(await value('roomkey_auth_attempts_total', succeeded)).toBe(s0);
    const ok = await w.t.gql('{ me { role } }', {}, { auth: w.a.adminKey });
    expect(ok.body.errors).toBeUndefined();
    expect(await value('roomkey_auth_attempts_total', succeeded)).toBe(s0 + 1);
    expect(await value('roomkey_auth_attempts_total', failed)).toBe(f0 + 1);
  });

  it('should count each rate-limited request once under its limiter and lane', async () => {
    const labels = { limiter: 'ip_login', lane: 'graphql' };
    const before = await value('roomkey_rate_limit_rejections_total', labels);
    const codes: Array<string | undefined> = [];
    for (let i = 0; i < 5; i++) {
      const r = await w.t.gql(LOGIN, {
        input: { email: w.a.member.email, password: 'wrong-password-2', tenantSlug: 'nope' },
      });
      codes.push(errorCode(r));
    }
    const limited = codes.filter((c) => c === 'RATE_LIMITED').length;
    expect(limited).toBe(2);
    expect(await value('roomkey_rate_limit_rejections_total', labels)).toBe(before + limited);
  });

  it('should count vendor 5xx answers and timeouts per vendor and operation, and open the breaker', async () => {
    const errors = 'roomkey_vendor_request_errors_total';
    const ov = { vendor: 'openvidu', operation: 'create_room' };
    const [e5, et] = [
      await value(errors, { ...ov, reason: 'status_5xx' }),
      await value(errors, { ...ov, reason: 'timeout' }),
    ];
    expect(await value('roomkey_vendor_circuit_state', { vendor: 'openvidu' })).toBe(0);

    w.ov.faults.set({ status: 503 });
    expect(errorCode(await session('OPENVIDU', 'metrics-5xx'))).toBe('PROVIDER_UNAVAILABLE');
    expect(await value(errors, { ...ov, reason: 'status_5xx' })).toBe(e5 + 1);

    w.ov.faults.set({ hang: true });
    expect(errorCode(await session('OPENVIDU', 'metrics-hang'))).toBe('PROVIDER_UNAVAILABLE');
    expect(await value(errors, { ...ov, reason: 'timeout' })).toBe(et + 1);
    w.ov.faults.clear();

    // Three failures in a row (the 503 and its one retry, then the timeout, which is not retried):
    // the breaker is open, and the next call fails fast without reaching the vendor.
    expect(await value('roomkey_vendor_circuit_state', { vendor: 'openvidu' })).toBe(2);
    expect(await value('roomkey_vendor_circuits', { vendor: 'openvidu', state: 'open' })).toBe(1);
    const calls = w.calls('OPENVIDU').length;
    expect(errorCode(await session('OPENVIDU', 'metrics-open'))).toBe('PROVIDER_UNAVAILABLE');
    expect(w.calls('OPENVIDU').length).toBe(calls);
    expect(await value(errors, { ...ov, reason: 'circuit_open' })).toBe(1);
    // Other vendors are untouched.
    expect(await value('roomkey_vendor_circuit_state', { vendor: 'livekit' })).toBe(0);
    const lkOk = await value('roomkey_vendor_request_duration_seconds_count', {
      vendor: 'livekit',
      operation: 'create_room',
      outcome: 'ok',
    });
    expect(errorCode(await session('LIVEKIT', 'metrics-lk'))).toBeUndefined();
    expect(
      await value('roomkey_vendor_request_duration_seconds_count', {
        vendor: 'livekit',
        operation: 'create_room',
        outcome: 'ok',
      }),
    ).toBe(lkOk + 1);
  });

  it('should observe audit appends, their batches and database acquires', async () => {
    const appends = { mode: 'group_commit', outcome: 'ok' };
    const before = await scrape();
    const a0 = metricSample(before, 'roomkey_audit_append_duration_seconds_count', appends) ?? 0;
    const b0 = metricSample(before, 'roomkey_audit_batch_size_count', {}) ?? 0;
    const d0 =
      metricSample(before, 'roomkey_db_pool_acquire_duration_seconds_count', {
        outcome: 'acquired',
      }) ?? 0;
    const s = await session('AGORA', 'metrics-audit');
    expect(s.body.errors).toBeUndefined();
    const after = await scrape();
    expect(
      metricSample(after, 'roomkey_audit_append_duration_seconds_count', appends),
    ).toBeGreaterThan(a0);
    expect(metricSample(after, 'roomkey_audit_batch_size_count', {})).toBeGreaterThan(b0);
    expect(
      metricSample(after, 'roomkey_db_pool_acquire_duration_seconds_count', {
        outcome: 'acquired',
      }),
    ).toBeGreaterThan(d0);
    expect(metricSample(after, 'roomkey_db_pool_clients', { state: 'total' })).toBeGreaterThan(0);
    expect(metricSample(after, 'roomkey_db_pool_clients', { state: 'waiting' })).toEqual(
      expect.any(Number),
    );
  });

  describe('GraphQL access log', () => {
    const accessLine = (requestId: string): Record<string, unknown> | undefined =>
      w.t.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find(
          (l) =>
            l.msg === 'request completed' &&
            (l.req as { id?: string } | undefined)?.id === requestId,
        );

    it.each([
      ['the lane', {}],
      ['the general path', { origin: 'http://127.0.0.1:1' }],
    ])('should name a named operation in its access log line through %s', async (_, headers) => {
      const r = await w.t.gql(
        'query WhoAmI { me { role } }',
        {},
        {
          auth: w.a.adminKey,
          headers: { ...headers, 'x-request-id': `metrics-named-${Object.keys(headers).length}` },
        },
      );
      expect(r.status).toBe(200);
      const line = accessLine(`metrics-named-${Object.keys(headers).length}`);
      expect(line?.graphql).toEqual({
        operation: 'WhoAmI',
        operationName: 'WhoAmI',
        type: 'query',
        rootField: 'me',
      });
    });

    it('should name an anonymous operation by its first root field', async () => {
      await w.t.gql(
        '{ me { role } sessions(first: 1) { nodes { id } } }',
        {},
        {
          auth: w.a.adminKey,
          headers: { 'x-request-id': 'metrics-anonymous' },
        },
      );
      expect(accessLine('metrics-anonymous')?.graphql).toEqual({
        operation: 'me',
        type: 'query',
        rootField: 'me',
      });
    });

    it('should not log an operation name that is not a GraphQL name', async () => {
      const res = await w.t
        .http()
        .post('/graphql')
        .set('content-type', 'application/json')
        .set('authorization', w.a.adminKey)
        .set('x-request-id', 'metrics-bad-name')
        .send({ query: '{ me { role } }', operationName: 'x\ny secret=1' });
      expect(res.status).toBeGreaterThanOrEqual(200);
      const line = accessLine('metrics-bad-name');
      expect(line).toBeDefined();
      expect(JSON.stringify(line)).not.toContain('secret=1');
      expect((line?.graphql as { operationName?: string } | undefined)?.operationName).toBe(
        undefined,
      );
    });
  });
});
