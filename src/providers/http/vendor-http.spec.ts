/**
 * VendorHttp against a tiny node:http server on 127.0.0.1 that each test programs: sanitised vendor
 * messages, the 4xx / 5xx / accept-list mapping, connection failures, caller aborts, timeouts that
 * abort the request on the server side, the single retry for idempotent calls and the breaker.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo, type Socket } from 'node:net';
import { loadConfig } from '../../common/config';
import { DomainException, ErrorCode } from '../../common/errors';
import { MetricsService } from '../../common/metrics/metrics.service';
import { ProviderKind } from '../provider-kind';
import {
  VendorHttp,
  type VendorRequest,
  sanitiseVendorMessage,
  scrubSecrets,
  secretForms,
} from './vendor-http';

/** Vendor-call timeout here: long enough for a loaded CI machine, short enough for hang tests. */
const TIMEOUT_MS = 1000;
const BREAKER_OPEN_MS = 500;

function vendorHttp(metrics?: MetricsService): VendorHttp {
  return new VendorHttp(
    loadConfig({
      ROOMKEY_DATA_DIR: 'memory://',
      ROOMKEY_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS),
      ROOMKEY_PROVIDER_BREAKER_FAILURES: '3',
      ROOMKEY_PROVIDER_BREAKER_OPEN_MS: String(BREAKER_OPEN_MS),
    }),
    metrics,
  );
}

/** The sum of every series of a counter. */
async function totalOf(metric: { get(): Promise<{ values: Array<{ value: number }> }> }) {
  return (await metric.get()).values.reduce((n, v) => n + v.value, 0);
}

/** The value of one series of a metric (0 when it has none). */
async function valueOf(
  metric: { get(): Promise<{ values: Array<{ labels: object; value: number }> }> },
  labels: Record<string, string>,
  name?: string,
): Promise<number> {
  const { values } = await metric.get();
  const found = values.find(
    (v) =>
      (name === undefined || (v as { metricName?: string }).metricName === name) &&
      Object.keys(labels).length === Object.keys(v.labels).length &&
      Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
  );
  return found?.value ?? 0;
}

/** Resolves with the rejection of `p` (fails the test when `p` resolves). */
async function rejection(p: Promise<unknown>): Promise<DomainException> {
  const err: unknown = await p.then(
    () => {
      throw new Error('expected the call to be rejected');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainException);
  return err as DomainException;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

describe('secretForms and scrubSecrets', () => {
  const b64 = (v: string): string => Buffer.from(v).toString('base64');

  it.each([
    ['raw', 'k3y', 'k3y'],
    ['base64', 'k3y', b64('k3y')],
    ['base64 without padding', 'k3y!', b64('k3y!').replace(/=+$/, '')],
    ['base64url', 'k3y?>', Buffer.from('k3y?>').toString('base64url')],
    ['Basic payload', 'k3y', b64('OPENVIDUAPP:k3y')],
    ['URL-encoded', 'k3y/+&', encodeURIComponent('k3y/+&')],
    ['upper case', 'k3y', 'K3Y'],
  ])('should remove the secret in its %s form when a vendor echoes it', (_form, secret, echoed) => {
    const forms = secretForms([secret, `Basic ${b64(`OPENVIDUAPP:${secret}`)}`]);
    expect(scrubSecrets(`bad ${echoed} here`, forms)).toBe('bad [secret] here');
  });

  it('should remove the token of a Bearer header and the password of a Basic header sent', () => {
    const forms = secretForms(['Bearer tok-123', `Basic ${b64('user:pw-9')}`]);
    expect(scrubSecrets('got tok-123 and pw-9 and user:pw-9', forms)).toBe(
      'got [secret] and [secret] and [secret]',
    );
  });

  it('should leave the text unchanged when there are no secrets', () => {
    expect(scrubSecrets('plain text', secretForms([]))).toBe('plain text');
    expect(scrubSecrets('plain text', secretForms(['']))).toBe('plain text');
  });

  it('should treat regular-expression characters in a secret literally', () => {
    const forms = secretForms(['a.b*c']);
    expect(scrubSecrets('aXbbbc a.b*c', forms)).toBe('aXbbbc [secret]');
  });

  it('should remove a short secret that a JSON error message echoes before the message is cut', () => {
    const text = JSON.stringify({ message: `${'x'.repeat(195)} s3cr3t tail` });
    const out = sanitiseVendorMessage(text, ['s3cr3t']);
    expect(out).not.toContain('s3cr');
    expect(out.length).toBeLessThanOrEqual(200);
  });

  it('should remove a secret that only appears JSON-escaped in the raw body', () => {
    const text = JSON.stringify({ message: 'no "q/u\\ote" here' });
    expect(sanitiseVendorMessage(text, ['"q/u\\ote"'])).toBe('no [secret] here');
  });
});

describe('sanitiseVendorMessage', () => {
  const jwt =
    'eyJhbGciOiJSUzM4NCIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJjbGllbnQiLCJzdWIiOiJjbGllbnQifQ.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';
  const hex = 'a3f1c2d4e5b6a7980a1b2c3d4e5f60718293a4b5';

  it.each([
    ['plain text is kept', 'Room not found', 'Room not found'],
    ['JSON message is picked', '{"message":"Meeting is full"}', 'Meeting is full'],
    ['JSON msg is picked', '{"msg":"quota exceeded"}', 'quota exceeded'],
    ['Fishjam errors is picked', '{"errors":"Invalid token"}', 'Invalid token'],
    [
      'OAuth error_description is picked over error',
      '{"error":"invalid_client","error_description":"Unknown client"}',
      'Unknown client',
    ],
    ['OAuth error alone is picked', '{"error":"invalid_grant"}', 'invalid_grant'],
    ['surrounding whitespace is trimmed', '   spaced out   ', 'spaced out'],
    [
      'an http URL is replaced',
      'see http://10.0.0.7:8080/internal/admin?x=1 for details',
      'see [url] for details',
    ],
    [
      'an https URL is replaced',
      'moved to https://crud.pexip.rocks/v1/meetings/abc',
      'moved to [url]',
    ],
    ['a websocket URL is replaced', 'connect wss://fishjam.internal:5002/socket', 'connect [url]'],
    ['an upper-case scheme URL is replaced', 'at HTTPS://internal.example/x now', 'at [url] now'],
    ['a JWT is redacted', `bad assertion ${jwt}`, 'bad assertion [redacted]'],
    ['a long hex token is redacted', `token ${hex} refused`, 'token [redacted] refused'],
    [
      'a base64 secret with padding is redacted',
      'key dGhpcy1pcy1hLXZlcnktc2VjcmV0LWtleS12YWx1ZQ== bad',
      'key [redacted] bad',
    ],
    ['CR/LF and NUL become spaces', 'line one\r\nline two\u0000end', 'line one  line two end'],
    ['ANSI escapes lose their control byte', '\u001b[31mred\u001b[0m', '[31mred [0m'],
    ['a short id is not redacted', 'room rk-1234 gone', 'room rk-1234 gone'],
  ])('should sanitise the message when %s', (_label, input, expected) => {
    expect(sanitiseVendorMessage(input)).toBe(expected);
  });

  it('should cap the message at 200 characters when the vendor sends a long text', () => {
    const long = 'error '.repeat(500);
    const out = sanitiseVendorMessage(long);
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out.startsWith('error error')).toBe(true);
  });

  it('should keep only printable ASCII when the vendor sends control and non-ASCII bytes', () => {
    const out = sanitiseVendorMessage('a\u0007b\u007fc\u2028d\u202ee');
    expect(out).toMatch(/^[\x20-\x7e]*$/);
    expect(out).toBe('a b c d e');
  });

  it('should use the raw text when the JSON has no string message', () => {
    expect(sanitiseVendorMessage('{"errors":{"room":["is invalid"]}}')).toBe(
      '{"errors":{"room":["is invalid"]}}',
    );
    expect(sanitiseVendorMessage('null')).toBe('null');
  });
});

describe('VendorHttp', () => {
  let server: Server;
  let base: string;
  let handler: Handler;
  let seen: Seen[];
  /** Requests whose response was closed by the client before the server answered. */
  let abortedByClient: string[];
  const sockets = new Set<Socket>();
  let http: VendorHttp;

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
        res.on('close', () => {
          if (!res.writableEnded) abortedByClient.push(req.url ?? '/');
        });
        handler(req, res, body);
      });
    });
    server.on('connection', (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // Node loads its fetch implementation on first use; keep that out of the timeout budget.
    handler = (_req, res) => json(res, 200, {});
    seen = [];
    abortedByClient = [];
    await (await fetch(base)).text();
  });

  afterAll(async () => {
    server.closeAllConnections();
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    seen = [];
    abortedByClient = [];
    handler = (_req, res) => json(res, 200, { ok: true });
    http = vendorHttp();
  });

  function json(res: ServerResponse, status: number, value: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  }

  const get = (path: string, extra: Partial<VendorRequest> = {}): VendorRequest => ({
    operation: 'list_rooms',
    method: 'GET',
    url: `${base}${path}`,
    idempotent: true,
    ...extra,
  });
  const post = (path: string, extra: Partial<VendorRequest> = {}): VendorRequest => ({
    operation: 'create_room',
    method: 'POST',
    url: `${base}${path}`,
    body: { a: 1 },
    idempotent: false,
    ...extra,
  });

  async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
    const until = Date.now() + ms;
    while (!check()) {
      if (Date.now() > until) throw new Error('condition not reached in time');
      await sleep(10);
    }
  }

  describe('success', () => {
    it('should return status, parsed JSON and text when the vendor answers 200 with JSON', async () => {
      handler = (_req, res) => json(res, 200, { id: 'r1' });
      const res = await http.request(randomUUID(), get('/rooms'));
      expect(res).toEqual({ status: 200, json: { id: 'r1' }, text: '{"id":"r1"}' });
      expect(seen).toHaveLength(1);
      expect(seen[0].headers.accept).toBe('application/json');
    });

    it('should send a JSON body with a JSON content type when the body is an object', async () => {
      await http.request(randomUUID(), post('/rooms', { headers: { authorization: 'Bearer x' } }));
      expect(seen[0].method).toBe('POST');
      expect(seen[0].headers['content-type']).toBe('application/json');
      expect(seen[0].headers.authorization).toBe('Bearer x');
      expect(JSON.parse(seen[0].body)).toEqual({ a: 1 });
    });

    it('should send a string body as is when the caller pre-encodes it', async () => {
      await http.request(
        randomUUID(),
        post('/oauth/token', {
          body: 'grant_type=client_credentials&x=1',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      );
      expect(seen[0].body).toBe('grant_type=client_credentials&x=1');
      expect(seen[0].headers['content-type']).toBe('application/x-www-form-urlencoded');
    });

    it('should return a null json when the vendor answers 204 with no body', async () => {
      handler = (_req, res) => {
        res.writeHead(204);
        res.end();
      };
      const res = await http.request(randomUUID(), get('/x', { method: 'DELETE' }));
      expect(res).toEqual({ status: 204, json: null, text: '' });
    });
  });

  describe('4xx', () => {
    it.each([400, 401, 403, 404, 422])(
      'should reject with PROVIDER_REJECTED when the vendor answers %i',
      async (status) => {
        handler = (_req, res) => json(res, status, { message: 'nope' });
        const err = await rejection(http.request(randomUUID(), get('/x')));
        expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
        expect(err.reason).toBe(`status_${status}`);
        expect(err.message).toContain(`(${status})`);
        expect(err.message).toContain('nope');
        expect(seen).toHaveLength(1); // a refusal is not retried, even when idempotent
      },
    );

    it('should sanitise the vendor message when a 4xx message carries URLs, tokens and control chars', async () => {
      const secret = 'Zk3vQ9xL2mP8rT5wY1bN4cH7jD0fG6sA3eU9iO2';
      handler = (_req, res) =>
        json(res, 400, {
          message: `Bad request\r\nfrom https://10.1.2.3:8443/admin?token=${secret} using ${secret}`,
        });
      const err = await rejection(http.request(randomUUID(), post('/rooms')));
      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
      expect(err.message).not.toContain(secret);
      expect(err.message).not.toContain('10.1.2.3');
      expect(err.message).not.toMatch(/[\r\n]/);
      expect(err.message).toContain('[url]');
      expect(err.message).toContain('[redacted]');
      expect(err.message).toContain('Bad request');
    });

    it('should not count 4xx refusals towards the breaker when the vendor keeps refusing', async () => {
      const cred = randomUUID();
      handler = (_req, res) => json(res, 401, { errors: 'Invalid token' });
      for (let i = 0; i < 5; i++) {
        expect((await rejection(http.request(cred, get('/x')))).code).toBe(
          ErrorCode.PROVIDER_REJECTED,
        );
      }
      handler = (_req, res) => json(res, 200, { ok: true });
      await expect(http.request(cred, get('/x'))).resolves.toMatchObject({ status: 200 });
      expect(seen).toHaveLength(6);
    });
  });

  describe('accept list', () => {
    it('should resolve with the status when the vendor answers 409 and 409 is accepted', async () => {
      handler = (_req, res) => json(res, 409, { message: 'already exists' });
      const res = await http.request(randomUUID(), post('/sessions', { accept: [409] }));
      expect(res.status).toBe(409);
      expect(res.json).toEqual({ message: 'already exists' });
    });

    it('should reject with PROVIDER_REJECTED when the vendor answers 409 and only 404 is accepted', async () => {
      handler = (_req, res) => json(res, 409, { message: 'already exists' });
      const err = await rejection(http.request(randomUUID(), post('/sessions', { accept: [404] })));
      expect(err.code).toBe(ErrorCode.PROVIDER_REJECTED);
    });
  });

  describe('3xx', () => {
    it('should neither follow nor accept a redirect when the vendor answers 302', async () => {
      handler = (req, res) => {
        if (req.url === '/moved') {
          res.writeHead(302, { location: `${base}/elsewhere` });
          res.end();
        } else json(res, 200, { followed: true });
      };
      const err = await rejection(http.request(randomUUID(), get('/moved', { method: 'DELETE' })));
      expect([ErrorCode.PROVIDER_UNAVAILABLE, ErrorCode.PROVIDER_REJECTED]).toContain(err.code);
      expect(seen.map((s) => s.url)).toEqual(['/moved']);
    });
  });

  describe('5xx and broken answers', () => {
    it.each([500, 502, 503, 504])(
      'should reject with PROVIDER_UNAVAILABLE when the vendor answers %i',
      async (status) => {
        handler = (_req, res) => json(res, status, { message: 'boom' });
        const err = await rejection(http.request(randomUUID(), post('/x')));
        expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
        expect(err.reason).toBe(`status_${status}`);
      },
    );

    it('should call exactly once when a non-idempotent call meets a 500', async () => {
      handler = (_req, res) => json(res, 500, {});
      await rejection(http.request(randomUUID(), post('/x')));
      await sleep(400); // a (wrong) delayed retry would land here
      expect(seen).toHaveLength(1);
    });

    it('should retry once and succeed when an idempotent call meets one 500', async () => {
      let n = 0;
      handler = (_req, res) => (n++ === 0 ? json(res, 500, {}) : json(res, 200, { ok: true }));
      const res = await http.request(randomUUID(), get('/x'));
      expect(res.json).toEqual({ ok: true });
      expect(seen).toHaveLength(2);
    });

    it('should retry at most once when an idempotent call keeps meeting 500', async () => {
      handler = (_req, res) => json(res, 500, {});
      const err = await rejection(http.request(randomUUID(), get('/x')));
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      await sleep(400);
      expect(seen).toHaveLength(2);
    });

    it('should reject with PROVIDER_UNAVAILABLE when the JSON body is malformed', async () => {
      handler = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"this is": not json');
      };
      const err = await rejection(http.request(randomUUID(), post('/x')));
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('malformed_response');
    });

    it('should reject with PROVIDER_UNAVAILABLE when the vendor resets the connection', async () => {
      handler = (req) => req.socket.destroy();
      const err = await rejection(http.request(randomUUID(), post('/x')));
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('connection_failed');
    });

    it('should reject with PROVIDER_UNAVAILABLE when nothing listens on the port', async () => {
      const probe = createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));

      const err = await rejection(
        http.request(randomUUID(), {
          operation: 'create_room',
          method: 'POST',
          url: `http://127.0.0.1:${port}/x`,
          idempotent: false,
        }),
      );
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('connection_failed');
    });
  });

  describe('timeouts and aborts', () => {
    it('should abort the request on the server side when the vendor does not answer in time', async () => {
      handler = () => undefined; // never answers
      const started = Date.now();
      const err = await rejection(http.request(randomUUID(), post('/slow')));
      const elapsed = Date.now() - started;

      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('timeout');
      expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 20);
      await waitFor(() => abortedByClient.length === 1);
      expect(abortedByClient).toEqual(['/slow']);
    });

    it("should abort the call when the caller's signal aborts", async () => {
      handler = () => undefined;
      const ctrl = new AbortController();
      const pending = http.request(randomUUID(), post('/hang'), { signal: ctrl.signal });
      await waitFor(() => seen.length === 1);
      ctrl.abort();

      const err = await rejection(pending);
      expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(err.reason).toBe('cancelled'); // the caller's abort, not our timeout
      await waitFor(() => abortedByClient.length === 1);
      expect(abortedByClient).toEqual(['/hang']);
    });

    it('should make no request when the caller signal is already aborted', async () => {
      const err = await rejection(
        http.request(randomUUID(), post('/x'), { signal: AbortSignal.abort() }),
      );
      expect(err).toBeInstanceOf(DomainException);
      await sleep(50);
      expect(seen).toHaveLength(0);
    });

    it('should not open the breaker when callers cancel their own requests', async () => {
      const cred = randomUUID();
      handler = () => undefined;
      for (let i = 0; i < 3; i++) {
        const ctrl = new AbortController();
        const pending = http.request(cred, post(`/cancel-${i}`), { signal: ctrl.signal });
        await waitFor(() => seen.length === i + 1);
        ctrl.abort();
        await rejection(pending);
      }
      handler = (_req, res) => json(res, 200, { ok: true });
      // The vendor is healthy: a caller cancelling is not a vendor failure.
      await expect(http.request(cred, post('/after'))).resolves.toMatchObject({ status: 200 });
    });
  });

  describe('circuit breaker', () => {
    it('should fail fast without calling when 3 consecutive failures opened the breaker, then recover', async () => {
      const cred = randomUUID();
      handler = (_req, res) => json(res, 500, {});
      for (let i = 0; i < 3; i++) {
        expect((await rejection(http.request(cred, post('/x')))).reason).toBe('status_500');
      }
      expect(seen).toHaveLength(3);

      const open = await rejection(http.request(cred, post('/x')));
      expect(open.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
      expect(open.reason).toBe('circuit_open');
      expect(seen).toHaveLength(3);

      handler = (_req, res) => json(res, 200, { ok: true });
      await sleep(BREAKER_OPEN_MS + 100);
      await expect(http.request(cred, post('/x'))).resolves.toMatchObject({ status: 200 });
      await expect(http.request(cred, post('/x'))).resolves.toMatchObject({ status: 200 });
      expect(seen).toHaveLength(5);
    });

    it('should keep other credentials working when one credential opened its breaker', async () => {
      const broken = randomUUID();
      handler = (_req, res) => json(res, 500, {});
      for (let i = 0; i < 3; i++) await rejection(http.request(broken, post('/x')));
      expect((await rejection(http.request(broken, post('/x')))).reason).toBe('circuit_open');

      handler = (_req, res) => json(res, 200, { ok: true });
      await expect(http.request(randomUUID(), post('/x'))).resolves.toMatchObject({
        status: 200,
      });
    });

    it('should reopen when the half-open probe fails', async () => {
      const cred = randomUUID();
      handler = (_req, res) => json(res, 500, {});
      for (let i = 0; i < 3; i++) await rejection(http.request(cred, post('/x')));
      await sleep(BREAKER_OPEN_MS + 100);
      expect((await rejection(http.request(cred, post('/x')))).reason).toBe('status_500');
      expect(seen).toHaveLength(4);
      expect((await rejection(http.request(cred, post('/x')))).reason).toBe('circuit_open');
      expect(seen).toHaveLength(4);
    });
  });

  describe('metrics', () => {
    let metrics: MetricsService;
    const caller = (kind: ProviderKind) => ({ id: randomUUID(), kind, secrets: {} });

    beforeEach(() => {
      metrics = new MetricsService();
      http = vendorHttp(metrics);
    });

    it('should time a call by vendor, operation and outcome when the vendor answers', async () => {
      await http.request(caller(ProviderKind.LIVEKIT), get('/rooms'));
      const count = await valueOf(
        metrics.vendorDuration.metric as never,
        { vendor: 'livekit', operation: 'list_rooms', outcome: 'ok' },
        'roomkey_vendor_request_duration_seconds_count',
      );
      expect(count).toBe(1);
      expect(await totalOf(metrics.vendorErrors.metric as never)).toBe(0);
    });

    it('should count a 5xx, a 4xx and a timeout under their reason classes', async () => {
      const cred = caller(ProviderKind.OPENVIDU);
      handler = (_req, res) => json(res, 503, {});
      await rejection(http.request(cred, post('/x')));
      handler = (_req, res) => json(res, 404, {});
      await rejection(http.request(cred, post('/x')));
      handler = () => undefined; // never answers: our deadline aborts it
      expect((await rejection(http.request(cred, post('/slow')))).reason).toBe('timeout');
      const errors = metrics.vendorErrors.metric as never;
      const labels = { vendor: 'openvidu', operation: 'create_room' };
      expect(await valueOf(errors, { ...labels, reason: 'status_5xx' })).toBe(1);
      expect(await valueOf(errors, { ...labels, reason: 'status_4xx' })).toBe(1);
      expect(await valueOf(errors, { ...labels, reason: 'timeout' })).toBe(1);
      const failed = await valueOf(
        metrics.vendorDuration.metric as never,
        { ...labels, outcome: 'error' },
        'roomkey_vendor_request_duration_seconds_count',
      );
      expect(failed).toBe(3);
    });

    it('should not count a call the caller cancelled as a vendor error', async () => {
      await rejection(
        http.request(caller(ProviderKind.PEXIP), post('/x'), { signal: AbortSignal.abort() }),
      );
      expect(await totalOf(metrics.vendorErrors.metric as never)).toBe(0);
      const cancelled = await valueOf(
        metrics.vendorDuration.metric as never,
        { vendor: 'pexip', operation: 'create_room', outcome: 'cancelled' },
        'roomkey_vendor_request_duration_seconds_count',
      );
      expect(cancelled).toBe(1);
    });

    it('should report a vendor closed, then open once its breaker opened, and count fast failures', async () => {
      const state = async (vendor: string) => valueOf(metrics.vendorCircuitState, { vendor });
      expect(await state('fishjam')).toBe(0);
      const cred = caller(ProviderKind.FISHJAM);
      await http.request(cred, post('/x'));
      expect(await state('fishjam')).toBe(0);
      handler = (_req, res) => json(res, 500, {});
      for (let i = 0; i < 3; i++) await rejection(http.request(cred, post('/x')));
      expect(await state('fishjam')).toBe(2);
      expect(await state('livekit')).toBe(0);
      expect(
        await valueOf(metrics.vendorCircuits as never, { vendor: 'fishjam', state: 'open' }),
      ).toBe(1);
      expect((await rejection(http.request(cred, post('/x')))).reason).toBe('circuit_open');
      const fast = await valueOf(metrics.vendorErrors.metric as never, {
        vendor: 'fishjam',
        operation: 'create_room',
        reason: 'circuit_open',
      });
      expect(fast).toBe(1);

      handler = (_req, res) => json(res, 200, { ok: true });
      await sleep(BREAKER_OPEN_MS + 100);
      await http.request(cred, post('/x'));
      expect(await state('fishjam')).toBe(0);
    });

    it('should label a bare credential id (tests) as an unknown vendor', async () => {
      await http.request(randomUUID(), get('/rooms'));
      const count = await valueOf(
        metrics.vendorDuration.metric as never,
        { vendor: 'unknown', operation: 'list_rooms', outcome: 'ok' },
        'roomkey_vendor_request_duration_seconds_count',
      );
      expect(count).toBe(1);
    });
  });
});
