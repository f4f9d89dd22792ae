/**
 * The Red5 lane (compat/red5-lane): Red5's round-trip auth is answered on the server's request event,
 * in front of Express and Nest. These check what the lane must keep from the general path — the
 * request id, the metrics, the access log, Express's handling of everything else — and its own
 * edges. The decisions themselves are covered by red5.e2e-spec and red5-admission.e2e-spec.
 */
import { type RequestMeta } from '../src/common/context';
import { Red5AuthService } from '../src/compat/red5-auth.service';
import { seedRed5Tenant, type Red5Tenant, validateRed5 } from './helpers/red5';
import { startTestApp, type TestApp } from './helpers/test-app';
import { httpRequests } from './helpers/metrics';

describe('Red5 lane', () => {
  let t: TestApp;
  let a: Red5Tenant;

  const auditCount = async (): Promise<number> => {
    const [r] = await t.ds.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_event WHERE action LIKE 'red5.%'`,
    );
    return r.n;
  };

  beforeAll(async () => {
    t = await startTestApp();
    a = await seedRed5Tenant(t);
  });
  afterAll(() => t?.close());

  it('should answer 200 JSON with the caller’s request id echoed when Red5 validates a credential', async () => {
    const r = await validateRed5(t, a.tenant.slug, a.body).set('x-request-id', 'red5-lane-1');
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"result":true}');
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['x-request-id']).toBe('red5-lane-1');
    const [event] = await t.ds.query<Array<{ action: string; outcome: string }>>(
      `SELECT action, outcome::text AS outcome FROM audit_event WHERE request_id = $1`,
      ['red5-lane-1'],
    );
    expect(event).toEqual({ action: 'red5.validated', outcome: 'SUCCESS' });
  });

  it('should replace an unusable request id with a fresh one when the header is not short and plain', async () => {
    const r = await validateRed5(t, a.tenant.slug, a.body).set('x-request-id', 'has space');
    expect(r.text).toBe('{"result":true}');
    expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('should count answers under the route pattern and log a line without the body when validations are served', async () => {
    const labels = {
      method: 'POST',
      route: '/t/:tenantSlug/red5/validateCredentials',
      status: '200',
    };
    const before = httpRequests((await t.http().get('/metrics')).text, labels);
    const lines = t.logs.length;
    await validateRed5(t, a.tenant.slug, a.body);
    await validateRed5(t, a.tenant.slug, { ...a.body, password: 'wrong-password-canary' });
    expect(httpRequests((await t.http().get('/metrics')).text, labels)).toBe(before + 2);
    const written = t.logs.slice(lines).filter((l) => l.includes('/red5/validateCredentials'));
    expect(written).toHaveLength(2);
    for (const line of written) {
      expect(JSON.parse(line)).toMatchObject({
        msg: 'request completed',
        req: { method: 'POST', path: `/t/${a.tenant.slug}/red5/validateCredentials` },
        res: { statusCode: 200 },
      });
    }
    const all = t.logs.join('\n');
    expect(all).not.toContain('wrong-password-canary');
    expect(all).not.toContain(String(a.body.password));
    expect(all).not.toContain(String(a.body.token));
  });

  it('should answer result false, write nothing and stay up when the slug cannot be percent-decoded', async () => {
    const before = await auditCount();
    const r = await t
      .http()
      .post('/t/%E0%A4%A/red5/validateCredentials')
      .set('content-type', 'application/json')
      .send(JSON.stringify(a.body));
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"result":false}');
    expect(await auditCount()).toBe(before);
    expect((await validateRed5(t, a.tenant.slug, a.body)).text).toBe('{"result":true}');
  });

  it('should decode a percent-encoded slug as Express did when the tenant is named with escapes', async () => {
    const encoded = [...a.tenant.slug].map((c) => `%${c.charCodeAt(0).toString(16)}`).join('');
    const r = await t
      .http()
      .post(`/t/${encoded}/red5/VALIDATECREDENTIALS/?scope=live`)
      .set('content-type', 'application/json')
      .send(JSON.stringify(a.body));
    expect(r.text).toBe('{"result":true}');
  });

  it.each(['GET', 'PUT', 'DELETE'] as const)(
    'should leave %s on the Red5 paths to the general router (404 in Roomkey’s shape)',
    async (method) => {
      const before = await auditCount();
      const path = `/t/${a.tenant.slug}/red5/validateCredentials`;
      const call = t.http();
      const r = await (method === 'GET'
        ? call.get(path)
        : method === 'PUT'
          ? call.put(path).send(a.body)
          : call.delete(path));
      expect(r.status).toBe(404);
      expect(r.body).toMatchObject({ error: { code: 'NOT_FOUND' } });
      expect(await auditCount()).toBe(before);
    },
  );

  it('should leave POSTs to neighbouring paths to the general router', async () => {
    for (const path of [
      `/t/${a.tenant.slug}/red5/validateCredentialsX`,
      `/t/${a.tenant.slug}/red5/validate`,
      `/x/t/${a.tenant.slug}/red5/validateCredentials`,
    ]) {
      const r = await t.http().post(path).set('content-type', 'application/json').send('{}');
      expect(r.status).toBe(404);
    }
  });

  it('should refuse with result false and no audit event when the body is over 64 KiB', async () => {
    const before = await auditCount();
    const r = await validateRed5(t, a.tenant.slug, { ...a.body, pad: 'x'.repeat(70 * 1024) });
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"result":false}');
    // Refused bodies are still audited in the tenant's chain with their reason.
    const [event] = await t.ds.query<Array<{ reason: string }>>(
      `SELECT metadata->>'reason' AS reason FROM audit_event
        WHERE action = 'red5.validated' ORDER BY occurred_at DESC, seq DESC LIMIT 1`,
    );
    expect(event.reason).toBe('body_too_large');
    expect(await auditCount()).toBe(before + 1);
  });
});

describe('Red5 group lookup', () => {
  let t: TestApp;
  let a: Red5Tenant;
  let b: Red5Tenant;
  let red5: Red5AuthService;
  const meta: RequestMeta = { requestId: 'group-lookup', clientIp: '127.0.0.1', userAgent: null };
  const raw = (body: unknown) => Buffer.from(JSON.stringify(body));

  /** Lookup statements sent while `run` runs. */
  const lookups = async (run: () => Promise<unknown>): Promise<number> => {
    const query = jest.spyOn(t.ds, 'query');
    try {
      await run();
      return query.mock.calls.filter(([sql]) => String(sql).includes('FROM session_connection c'))
        .length;
    } finally {
      query.mockRestore();
    }
  };

  beforeAll(async () => {
    t = await startTestApp();
    a = await seedRed5Tenant(t);
    b = await seedRed5Tenant(t);
    red5 = t.app.get(Red5AuthService);
  });
  afterAll(() => t?.close());

  it('should decide each of the validations that arrive together from one shared statement', async () => {
    const { token: _token, ...byName } = a.body;
    const cases: Array<[string, string, unknown, boolean]> = [
      ['token', a.tenant.slug, a.body, true],
      ['user name and password', a.tenant.slug, byName, true],
      ['wrong password', a.tenant.slug, { ...byName, password: 'not-it' }, false],
      ['unknown token', a.tenant.slug, { ...a.body, token: 'no-such-token' }, false],
      ["B's credential on A's slug", a.tenant.slug, b.body, false],
      ["B's credential on B's slug", b.tenant.slug, b.body, true],
      ['wrong stream', a.tenant.slug, { ...a.body, streamID: 'other-stream' }, false],
    ];
    let answers: boolean[] = [];
    const statements = await lookups(async () => {
      answers = await Promise.all(
        cases.map(([, slug, body]) => red5.validate(slug, raw(body), false, meta)),
      );
    });
    expect(statements).toBe(1);
    expect(cases.map(([label], i) => [label, answers[i]])).toEqual(
      cases.map(([label, , , want]) => [label, want]),
    );
  });

  it('should see a revocation committed before the shared statement when a batch follows it', async () => {
    const c = await seedRed5Tenant(t);
    expect(await red5.validate(c.tenant.slug, raw(c.body), false, meta)).toBe(true);
    expect(await red5.invalidate(c.tenant.slug, raw(c.body), false, meta)).toBe(true);
    const answers = await Promise.all(
      [c.body, c.body].map((body) => red5.validate(c.tenant.slug, raw(body), false, meta)),
    );
    expect(answers).toEqual([false, false]);
  });

  it('should deny every validation of a batch whose statement fails, and decide the next batch', async () => {
    const query = jest.spyOn(t.ds, 'query');
    query.mockRejectedValueOnce(new Error('connection lost'));
    try {
      const answers = await Promise.all(
        [a.body, b.body].map((body, i) =>
          red5.validate([a, b][i].tenant.slug, raw(body), false, meta).catch(() => 'threw'),
        ),
      );
      // The service throws; the lane turns that into {"result":false}.
      expect(answers).toEqual(['threw', 'threw']);
    } finally {
      query.mockRestore();
    }
    const after = await Promise.all(
      [a, b].map((x) => red5.validate(x.tenant.slug, raw(x.body), false, meta)),
    );
    expect(after).toEqual([true, true]);
  });
});
