import { createHash, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { LifecycleState } from '../src/health/health.controller';
import { migratedDataFolder } from './helpers/database';
import { type ServerProcess, buildServer, spawnServer, waitReady } from './helpers/server-process';
import { ADMIN_EMAIL, ADMIN_PASSWORD, basic, startTestApp, type TestApp } from './helpers/test-app';
import { metricSample } from './helpers/metrics';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDE_ASSETS: Array<[string, RegExp]> = [
  ['react.js', /^text\/javascript/],
  ['react-dom.js', /^text\/javascript/],
  ['graphiql.js', /^text\/javascript/],
  ['graphiql.css', /^text\/css/],
  ['init.js', /^text\/javascript/],
];

/** Every label value of every sample in a scrape. */
function labelValues(metrics: string): string[] {
  return [...metrics.matchAll(/[a-z_]+="([^"]*)"/g)].map((m) => m[1]);
}

/** Sends raw bytes over HTTP/1.1 (for headers a well-behaved client refuses to send) and returns the reply. */
function rawHttp(port: number, head: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(reply));
    socket.write(head);
  });
}

describe('operations endpoints', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  describe('health', () => {
    it('should report ok when the process is up', async () => {
      const res = await t.http().get('/health/live');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok' });
    });

    it('should report ready with the database ok when the database answers', async () => {
      const res = await t.http().get('/health/ready');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: 'ok', checks: { database: 'ok' } });
    });

    it('should fail readiness but stay live when the app is draining', async () => {
      const state = t.app.get(LifecycleState);
      state.draining = true;
      try {
        const ready = await t.http().get('/health/ready');
        expect(ready.status).toBe(503);
        expect(ready.body).toMatchObject({ status: 'draining' });
        const live = await t.http().get('/health/live');
        expect(live.status).toBe(200);
        expect(live.body).toEqual({ status: 'ok' });
      } finally {
        state.draining = false;
      }
      expect((await t.http().get('/health/ready')).status).toBe(200);
    });

    it('should not require credentials when probes call the health routes', async () => {
      const res = await t
        .http()
        .get('/health/ready')
        .set('authorization', 'Basic bm9ib2R5Om5vdGhpbmc=');
      expect(res.status).toBe(200);
    });
  });

  describe('metrics', () => {
    it('should count HTTP requests by route pattern when /metrics is scraped', async () => {
      const before = metricSample(
        (await t.http().get('/metrics')).text,
        'roomkey_http_requests_total',
        {
          method: 'GET',
          route: '/health/live',
          status: '200',
        },
      );
      await t.http().get('/health/live');
      await t.http().get('/health/live');
      const res = await t.http().get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain;/);
      expect(res.headers['content-type']).toMatch(/version=0\.0\.4/);
      expect(res.text).toContain('# TYPE roomkey_http_requests_total counter');
      const after = metricSample(res.text, 'roomkey_http_requests_total', {
        method: 'GET',
        route: '/health/live',
        status: '200',
      });
      expect(after).toBe((before ?? 0) + 2);
      expect(res.text).toMatch(
        /^roomkey_http_request_duration_seconds_bucket\{.*route="\/health\/live".*\} \d+$/m,
      );
    });

    it('should count every SQL statement the process sends when the app queries its database', async () => {
      const statements = async (): Promise<number> => {
        const m = /^roomkey_db_statements_total (\d+)$/m.exec(
          (await t.http().get('/metrics')).text,
        );
        expect(m).not.toBeNull();
        return Number(m![1]);
      };
      const before = await statements();
      for (let i = 0; i < 3; i++) await t.ds.query('SELECT 1');
      // Process-wide: background work may add statements, never take any away.
      expect((await statements()) - before).toBeGreaterThanOrEqual(3);
    });

    it('should count GraphQL root fields when a me query runs', async () => {
      const labels = { type: 'query', field: 'me', outcome: 'success' };
      const before =
        metricSample(
          (await t.http().get('/metrics')).text,
          'roomkey_graphql_operations_total',
          labels,
        ) ?? 0;
      const r = await t.gql('{ me { role } }', {}, { auth: t.adminAuth });
      expect(r.body.errors).toBeUndefined();
      const text = (await t.http().get('/metrics')).text;
      expect(metricSample(text, 'roomkey_graphql_operations_total', labels)).toBe(before + 1);
    });

    it('should label GraphQL HTTP requests with route /graphql when a query is posted', async () => {
      const labels = { method: 'POST', route: '/graphql', status: '200' };
      const before =
        metricSample(
          (await t.http().get('/metrics')).text,
          'roomkey_http_requests_total',
          labels,
        ) ?? 0;
      await t.gql('{ __typename }');
      const text = (await t.http().get('/metrics')).text;
      expect(metricSample(text, 'roomkey_http_requests_total', labels)).toBe(before + 1);
    });

    it('should count a failed operation as an error when the caller is not authenticated', async () => {
      const labels = { type: 'query', field: 'me', outcome: 'error' };
      const before =
        metricSample(
          (await t.http().get('/metrics')).text,
          'roomkey_graphql_operations_total',
          labels,
        ) ?? 0;
      await t.gql('{ me { role } }');
      const text = (await t.http().get('/metrics')).text;
      expect(metricSample(text, 'roomkey_graphql_operations_total', labels)).toBe(before + 1);
    });

    it('should never use raw paths as labels when paths carry slugs, ids or query strings', async () => {
      const slug = `slug-${randomUUID().slice(0, 8)}`;
      const id = randomUUID();
      const asset = randomUUID();
      const query = randomUUID();
      await t.http().get(`/t/${slug}/openvidu/api/sessions/${id}`);
      await t.http().post(`/t/${slug}/livekit/token`).send({ roomName: 'r' });
      await t.http().get(`/graphql-ide/${asset}.js`);
      await t.http().get(`/health/live?probe=${query}`);
      const text = (await t.http().get('/metrics')).text;
      for (const raw of [slug, id, asset, query]) expect(text).not.toContain(raw);
      const routes = new Set([...text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
      expect(routes).toContain('/graphql-ide/:file');
      for (const value of labelValues(text)) expect(value).not.toMatch(/[0-9a-f]{8}-[0-9a-f]{4}-/);
    });

    it('should label requests as unmatched when no route matches them', async () => {
      const labels = { method: 'GET', route: 'unmatched', status: '404' };
      const before =
        metricSample(
          (await t.http().get('/metrics')).text,
          'roomkey_http_requests_total',
          labels,
        ) ?? 0;
      await t.http().get(`/t/some-tenant/${randomUUID()}`);
      const text = (await t.http().get('/metrics')).text;
      expect(metricSample(text, 'roomkey_http_requests_total', labels)).toBe(before + 1);
    });
  });

  describe('request ids and logs', () => {
    it('should return an X-Request-Id when any response is sent', async () => {
      const responses = await Promise.all([
        t.http().get('/health/live'),
        t.http().get('/health/ready'),
        t.http().get('/metrics'),
        t.http().get('/no/such/route'),
        t
          .http()
          .post('/graphql')
          .set('content-type', 'application/json')
          .send({ query: '{ __typename }' }),
        t.http().get('/graphql-ide/init.js'),
      ]);
      for (const res of responses) expect(res.headers['x-request-id']).toMatch(UUID);
      expect(new Set(responses.map((r) => r.headers['x-request-id'])).size).toBe(responses.length);
    });

    it('should return an X-Request-Id when the JSON body cannot be parsed', async () => {
      const res = await t
        .http()
        .post('/graphql')
        .set('content-type', 'application/json')
        .set('x-request-id', 'bad-body-1')
        .send('{"query": ');
      expect(res.status).toBe(400);
      expect(res.headers['x-request-id']).toBe('bad-body-1');
    });

    it('should echo the caller id when X-Request-Id is short and plain', async () => {
      const id = `trace-${Date.now()}.abc:DEF_9`;
      const res = await t.http().get('/health/live').set('x-request-id', id);
      expect(res.headers['x-request-id']).toBe(id);
    });

    it.each([
      ['300 characters long', 'a'.repeat(300)],
      ['encoded CR/LF', 'abc%0d%0aSet-Cookie:%20x=1'],
      ['spaces and markup', 'abc <script>alert(1)</script>'],
      ['a header injection attempt', 'abc\tSet-Cookie: x=1'],
    ])('should replace X-Request-Id when it is %s', async (_label, id) => {
      const res = await t.http().get('/health/live').set('x-request-id', id);
      expect(res.status).toBe(200);
      expect(res.headers['x-request-id']).toMatch(UUID);
      expect(res.headers['set-cookie']).toBeUndefined();
    });

    it('should not reflect a raw CR/LF into response headers when X-Request-Id contains one', async () => {
      const server = t.app.getHttpServer() as net.Server;
      if (!server.listening)
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      const reply = await rawHttp(
        port,
        'GET /health/live HTTP/1.1\r\nHost: x\r\nX-Request-Id: abc\rInjected: yes\r\nConnection: close\r\n\r\n',
      );
      const [head] = reply.split('\r\n\r\n');
      // Node's parser refuses a bare CR outright; whatever answers, nothing may be reflected.
      expect(head).toMatch(/^HTTP\/1\.1 (200|400) /);
      expect(head).not.toMatch(/^Injected:/im);
      const echoed = /^X-Request-Id: (.*)$/im.exec(head)?.[1];
      expect(echoed === undefined || UUID.test(echoed)).toBe(true);
    });

    it('should log the request id and never the Authorization header when a request is made', async () => {
      const id = `log-check-${Date.now()}`;
      const secretAuth = t.adminAuth;
      const res = await t
        .http()
        .post('/graphql')
        .set('content-type', 'application/json')
        .set('authorization', secretAuth)
        .set('x-request-id', id)
        .send({ query: '{ me { role } }' });
      expect(res.status).toBe(200);
      const lines = t.logs.map(
        (l) => JSON.parse(l) as { req?: { id?: string; headers?: unknown } },
      );
      const mine = lines.filter((l) => l.req?.id === id);
      expect(mine.length).toBeGreaterThan(0);
      for (const l of mine) expect(l.req?.headers).toBeUndefined();
      const all = t.logs.join('\n');
      expect(all).not.toContain(secretAuth.slice('Basic '.length));
      expect(all).not.toContain(ADMIN_PASSWORD);
      expect(all).not.toMatch(/authorization/i);
    });
  });

  describe('GraphQL IDE', () => {
    it('should serve an offline HTML page when a browser asks for /graphql', async () => {
      const res = await t
        .http()
        .get('/graphql')
        .set('accept', 'text/html,application/xhtml+xml,*/*;q=0.8');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
      expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
      for (const [file] of IDE_ASSETS) expect(res.text).toContain(`/graphql-ide/${file}`);
      expect(res.text.match(/https?:\/\/[^\s"'<>)]+/g) ?? []).toEqual([]);
      expect(res.text).not.toMatch(/(src|href)="\/\//);
    });

    it.each(IDE_ASSETS)(
      'should serve %s with its content type and a CSP when requested',
      async (file, type) => {
        const res = await t.http().get(`/graphql-ide/${file}`).buffer(true);
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(type);
        expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
        expect(res.headers['x-content-type-options']).toBe('nosniff');
        expect(Number(res.headers['content-length'] ?? (res.text ?? '').length)).toBeGreaterThan(
          100,
        );
      },
    );

    it('should keep the headers in sessionStorage, never localStorage, when init.js is loaded', async () => {
      const res = await t.http().get('/graphql-ide/init.js');
      expect(res.text).toContain('shouldPersistHeaders: true');
      expect(res.text).toContain('storage: window.sessionStorage');
      expect(res.text).not.toContain('localStorage');
    });

    it('should explain how to write the Basic Authorization header when the page is served', async () => {
      const res = await t.http().get('/graphql').set('accept', 'text/html');
      const help = /<p id="sign-in-help">([\s\S]*?)<\/p>/.exec(res.text)?.[1] ?? '';
      expect(help).toContain('{"Authorization": "Basic …"}');
      expect(help).toContain('base64 of <code>email:password</code>');
      expect(help).toContain('<code>keyId:secret</code>');
      expect(help).toContain('this browser tab only');
    });

    it('should point the IDE at this origin when init.js is loaded', async () => {
      const res = await t.http().get('/graphql-ide/init.js');
      expect(res.text).toContain("window.location.origin + '/graphql'");
      expect(res.text.match(/https?:\/\/[^\s"'<>)]+/g) ?? []).toEqual([]);
    });

    it.each(['nope.js', '..%2Fpackage.json', 'package.json', '__proto__', 'constructor'])(
      'should answer 404 when the asset %p is unknown',
      async (file) => {
        const res = await t.http().get(`/graphql-ide/${file}`);
        expect(res.status).toBe(404);
        expect(res.headers['content-type'] ?? '').not.toMatch(/javascript/);
      },
    );

    it('should not serve the IDE when a client asks /graphql for JSON', async () => {
      const res = await t.http().get('/graphql').set('accept', 'application/json');
      expect(res.headers['content-type'] ?? '').not.toMatch(/text\/html/);
      expect(res.text).not.toMatch(/<!doctype html>/i);
      expect(res.text).not.toContain('/graphql-ide/');
    });

    it('should pass a GET query to GraphQL when a browser sends one', async () => {
      const res = await t
        .http()
        .get('/graphql')
        .query({ query: '{ __typename }' })
        .set('accept', 'text/html')
        .set('apollo-require-preflight', 'true');
      expect(res.text).not.toMatch(/<!doctype html>/i);
    });
  });

  describe('GraphQL request guards', () => {
    it('should refuse the request when a POST has content-type text/plain', async () => {
      const res = await t
        .http()
        .post('/graphql')
        .set('content-type', 'text/plain')
        .send(JSON.stringify({ query: '{ __typename }' }));
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('"__typename"');
    });

    it('should refuse the request when a GET carries no CSRF preflight header', async () => {
      const res = await t
        .http()
        .get('/graphql')
        .query({ query: '{ __typename }' })
        .set('accept', 'application/json');
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('"__typename"');
    });

    it('should refuse the request when operations are batched in an array', async () => {
      const res = await t
        .http()
        .post('/graphql')
        .set('content-type', 'application/json')
        .send([{ query: '{ __typename }' }, { query: '{ __typename }' }]);
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('"__typename"');
    });

    it('should refuse with 400 when the JSON body is malformed', async () => {
      const res = await t
        .http()
        .post('/graphql')
        .set('content-type', 'application/json')
        .send('{"query": "{ __typename }"');
      expect(res.status).toBe(400);
    });

    it('should execute the request when a POST is plain JSON', async () => {
      const r = await t.gql<{ __typename: string }>('{ __typename }');
      expect(r.status).toBe(200);
      expect(r.body.data?.__typename).toBe('Query');
    });
  });
});

describe('operations with ROOMKEY_GRAPHQL_IDE=false', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ROOMKEY_GRAPHQL_IDE: 'false' });
  });
  afterAll(() => t.close());

  it('should not serve the HTML page when a browser asks for /graphql', async () => {
    const res = await t.http().get('/graphql').set('accept', 'text/html');
    expect(res.headers['content-type'] ?? '').not.toMatch(/text\/html/);
    expect(res.text).not.toContain('/graphql-ide/');
    expect(res.text).not.toMatch(/graphiql/i);
  });

  it('should answer 404 when an IDE asset is requested', async () => {
    expect((await t.http().get('/graphql-ide/init.js')).status).toBe(404);
    expect((await t.http().get('/graphql-ide/graphiql.js')).status).toBe(404);
  });

  it('should still execute GraphQL when the IDE is off', async () => {
    const r = await t.gql<{ __typename: string }>('{ __typename }');
    expect(r.body.data?.__typename).toBe('Query');
  });
});

describe('operations with ROOMKEY_BODY_LIMIT_BYTES=2048', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ROOMKEY_BODY_LIMIT_BYTES: '2048' });
  });
  afterAll(() => t.close());

  it('should refuse with 413 when a GraphQL body is over the limit', async () => {
    const query = `{ __typename ${' '.repeat(3000)}}`;
    const res = await t
      .http()
      .post('/graphql')
      .set('content-type', 'application/json')
      .send({ query });
    expect(res.status).toBe(413);
    expect(res.text).not.toContain('"__typename"');
  });

  it('should refuse with 413 when a body over the limit is sent to an HTTP route', async () => {
    const res = await t
      .http()
      .post('/health/live')
      .set('content-type', 'application/json')
      .send({ pad: 'x'.repeat(4096) });
    expect(res.status).toBe(413);
  });

  it('should accept the request when a body is under the limit', async () => {
    const r = await t.gql<{ me: { role: string } }>(
      `{ me { role } ${' '.repeat(1000)}}`,
      {},
      { auth: t.adminAuth },
    );
    expect(r.status).toBe(200);
    expect(r.body.data?.me.role).toBe('OWNER');
  });
});

// ---------------------------------------------------------------------------------------------------
// The built server as a real process. Always on the embedded database: the data-folder lock is what
// is under test, and it only exists without DATABASE_URL.

type Server = ServerProcess;

function spawnOn(dataDir: string): Promise<Server> {
  return spawnServer({
    ROOMKEY_DATA_DIR: dataDir,
    ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
    ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
  });
}

/** Content hash of every file under a folder, by relative path. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else
        out[path.relative(dir, p)] = createHash('sha256').update(fs.readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

describe('the built server process', () => {
  let dataDir: string;
  let first: Server;

  beforeAll(async () => {
    dataDir = migratedDataFolder('ops'); // its first start is first-start.e2e-spec's subject
    buildServer();
    first = await spawnOn(dataDir);
    await waitReady(first);
  }, 300_000);

  afterAll(async () => {
    if (first && first.proc.exitCode === null && first.proc.signalCode === null) {
      first.proc.kill('SIGKILL');
      await first.exited;
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('should hold a lock file with its pid when the server runs on a data folder', () => {
    expect(fs.readFileSync(path.join(dataDir, 'roomkey.pid'), 'utf8')).toBe(String(first.proc.pid));
  });

  describe('when a second server starts on the same data folder', () => {
    let second: Server;
    let result: { code: number | null; signal: NodeJS.Signals | null };
    let before: Record<string, string>;
    let after: Record<string, string>;

    beforeAll(async () => {
      before = snapshot(path.join(dataDir, 'pgdata'));
      second = await spawnOn(dataDir);
      result = await second.exited;
      after = snapshot(path.join(dataDir, 'pgdata'));
    }, 180_000);

    it('should exit non-zero with a folder-in-use message', () => {
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBeNull();
      expect(second.output()).toMatch(/data folder .* is in use by process \d+/);
    });

    it('should leave the running server and its lock alone', async () => {
      expect(fs.readFileSync(path.join(dataDir, 'roomkey.pid'), 'utf8')).toBe(
        String(first.proc.pid),
      );
      const res = await fetch(`http://127.0.0.1:${first.port}/health/ready`);
      expect(res.status).toBe(200);
    });

    it('should not write to the database files when it is refused', () => {
      // PGlite cannot share its files: a refused process must not have opened them at all.
      const changed = Object.keys({ ...before, ...after }).filter((f) => before[f] !== after[f]);
      expect(changed).toEqual([]);
    });
  });

  describe('when SIGTERM arrives during a request', () => {
    let reply: string;
    let result: { code: number | null; signal: NodeJS.Signals | null };

    beforeAll(async () => {
      // Expect: 100-continue proves the server has the request in hand before the signal is sent;
      // the body follows only after SIGTERM, so the request is certainly in flight during shutdown.
      const body = JSON.stringify({ query: '{ me { role tenant { slug } } }' });
      const socket = net.connect(first.port, '127.0.0.1');
      let received = '';
      const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
      socket.on('data', (d: Buffer) => (received += d.toString('utf8')));
      socket.write(
        'POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n' +
          `Authorization: ${basic(ADMIN_EMAIL, ADMIN_PASSWORD)}\r\nExpect: 100-continue\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`,
      );
      const deadline = Date.now() + 10_000;
      while (!received.includes('100 Continue') && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      first.proc.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      socket.write(body);
      await closed;
      reply = received;
      result = await first.exited;
    }, 60_000);

    it('should finish the in-flight request', () => {
      const final = reply.split('HTTP/1.1 ').filter(Boolean).pop() ?? '';
      expect(final).toMatch(/^200 OK/);
      expect(final).toContain('{"data":{"me":{"role":"OWNER","tenant":{"slug":"demo"}}}}');
    });

    it('should exit 0', () => {
      expect(result).toEqual({ code: 0, signal: null });
      expect(first.output()).toContain('SIGTERM received: draining');
    });

    it('should remove the data folder lock file', () => {
      expect(fs.existsSync(path.join(dataDir, 'roomkey.pid'))).toBe(false);
    });
  });
});
