import { randomBytes, randomUUID } from 'node:crypto';
import { type AddressInfo, connect } from 'node:net';
import { type Server } from 'node:http';
import { type Response } from 'supertest';
import { TypeMetadataStorage } from '@nestjs/graphql';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage } from 'class-validator';
import { toClientError } from '../src/common/errors';
import { seedApiKey, seedTenant, type SeededTenant } from './factories/tenancy';
import { expectError } from './helpers/assertions';
import { startTestApp, type TestApp } from './helpers/test-app';

/**
 * docs/decisions.md#issue-10 item 6 (second half), docs/security.md S8 and S10: control characters — NUL above all —
 * in paths, query strings, headers and GraphQL arguments are BAD_USER_INPUT naming the field,
 * never a 500 or a stack; nested filters are validated; a failed query never logs its values.
 */

const uniq = (): string => randomBytes(4).toString('hex');

interface HttpError {
  status: number;
  code: string | undefined;
  header: string | undefined;
  text: string;
}

/** SSO and compat routes, with `%SLUG%` standing for the tenant slug. */
const ROUTES: Array<[method: 'get' | 'post', path: string]> = [
  ['get', '/auth/oidc/%SLUG%/login'],
  ['get', '/auth/oidc/%SLUG%/callback'],
  ['get', '/auth/saml/%SLUG%/metadata'],
  ['get', '/auth/saml/%SLUG%/login'],
  ['post', '/auth/saml/%SLUG%/acs'],
  ['post', '/t/%SLUG%/openvidu/api/sessions'],
  ['post', '/t/%SLUG%/livekit/token'],
  ['get', '/t/%SLUG%/pexip/api-address'],
  ['get', '/t/%SLUG%/agora/ping'],
  ['get', '/t/%SLUG%/fishjam/room-manager'],
];

/** Encoded control characters as an attacker would put them in a URL. */
const ENCODED = ['%00', '%01', '%1F', '%7f', '%C2%85'];

/**
 * The typed code an answer's body carries: Roomkey's `{error: {code}}`; on a LiveKit, Fishjam or
 * Pexip path the sample's own refusal shape (README "Refusals"), which has no code of its own, so
 * the header's code once the body is exactly that shape.
 */
function bodyCode(path: string, res: Response): string | undefined {
  const header = res.headers['x-roomkey-error-code'] as string | undefined;
  const body = res.body as Record<string, unknown> | undefined;
  const only = (key: string): boolean =>
    typeof body?.[key] === 'string' && Object.keys(body).length === 1;
  switch (/^\/t\/[^/]*\/(livekit|fishjam|pexip)\//.exec(path)?.[1]) {
    case 'livekit':
      return only('errorMessage') ? header : 'not the LiveKit shape';
    case 'fishjam':
      return only('error') ? header : 'not the Fishjam shape';
    case 'pexip':
      return /^text\/plain/.test(String(res.headers['content-type'])) && res.text !== ''
        ? header
        : 'not the Pexip shape';
    default:
      return (body?.error as { code?: string } | undefined)?.code;
  }
}

/** No stack, no file paths, no internals: the closed error shape only. */
function expectNoInternals(text: string): void {
  expect(text).not.toMatch(/\bat .+\(.*:\d+:\d+\)|node_modules|\/src\/|stack/i);
}

/** Sends raw bytes (a request Node's HTTP client would refuse to send) and reads the answer. */
function rawRequest(server: Server, bytes: string): Promise<string> {
  const { port } = server.address() as AddressInfo;
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(Buffer.from(bytes, 'latin1')));
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

describe('input hygiene (docs/decisions.md#issue-10 item 6)', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let server: Server;

  const send = async (
    method: 'get' | 'post',
    path: string,
    headers: Record<string, string> = {},
  ): Promise<HttpError> => {
    const req = t.http()[method](path);
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    const res = await req;
    return {
      status: res.status,
      code: bodyCode(path, res),
      header: res.headers['x-roomkey-error-code'],
      text: res.text,
    };
  };

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await seedTenant(t);
    server = t.app.getHttpServer() as Server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(() => t.close());

  describe('paths and query strings', () => {
    const cases = ROUTES.flatMap(([method, path]) =>
      ENCODED.map((enc) => [method, path, enc] as const),
    );

    it.each(cases)(
      'should answer 400 BAD_USER_INPUT with no stack when %s %s has %s in the slug',
      async (method, path, enc) => {
        const r = await send(method, path.replace('%SLUG%', `${tenant.slug}${enc}x`), {
          authorization: tenant.owner.auth,
        });
        expect({ status: r.status, code: r.code, header: r.header }).toEqual({
          status: 400,
          code: 'BAD_USER_INPUT',
          header: 'BAD_USER_INPUT',
        });
        expectNoInternals(r.text);
      },
    );

    it.each(ROUTES)(
      'should answer 400 BAD_USER_INPUT with no stack when %s %s has %00 in the query string',
      async (method, path) => {
        const r = await send(
          method,
          `${path.replace('%SLUG%', tenant.slug)}?ok=1&state=a%00b&redirect_uri=https://x.test/%00`,
          { authorization: tenant.owner.auth },
        );
        expect({ status: r.status, code: r.code, header: r.header }).toEqual({
          status: 400,
          code: 'BAD_USER_INPUT',
          header: 'BAD_USER_INPUT',
        });
        // The refusal says what was refused, in whichever shape the route answers (a vendor's
        // shape has no field of its own).
        if (/\/t\/[^/]+\/(livekit|fishjam|pexip)\//.test(path))
          expect(r.text).toContain('The query string contains a control character');
        else expect(JSON.parse(r.text)).toMatchObject({ error: { field: 'state' } });
        expectNoInternals(r.text);
      },
    );

    it('should answer 400 BAD_USER_INPUT when a compat route path parameter carries %00', async () => {
      const r = await send(
        'post',
        `/t/${tenant.slug}/openvidu/api/sessions/ses%00sion/connections`,
        { authorization: tenant.owner.auth },
      );
      expect({ status: r.status, code: r.code }).toEqual({ status: 400, code: 'BAD_USER_INPUT' });
      expectNoInternals(r.text);
    });

    it.each(ROUTES)(
      'should answer 400 BAD_USER_INPUT in JSON with no stack when %s %s carries a raw NUL byte',
      async (method, path) => {
        for (const target of [
          path.replace('%SLUG%', `${tenant.slug}\u0000x`),
          `${path.replace('%SLUG%', tenant.slug)}?state=a\u0000b`,
        ]) {
          const answer = await rawRequest(
            server,
            `${method.toUpperCase()} ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n`,
          );
          const [head, body] = answer.split('\r\n\r\n');
          expect(head.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
          expect(head).toMatch(/^X-Roomkey-Error-Code: BAD_USER_INPUT$/im);
          expect((JSON.parse(body) as { error: { code: string } }).error.code).toBe(
            'BAD_USER_INPUT',
          );
          expectNoInternals(answer);
        }
      },
    );

    it('should answer 400 BAD_USER_INPUT in JSON when a header carries a raw NUL byte', async () => {
      const answer = await rawRequest(
        server,
        `GET /auth/oidc/${tenant.slug}/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Roomkey-Tenant: a\u0000b\r\n\r\n`,
      );
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 400 Bad Request');
      expect(answer).toContain('"code":"BAD_USER_INPUT"');
    });

    it('should keep the Red5 contract (200 {"result":false}) when the slug carries %00', async () => {
      for (const action of ['validateCredentials', 'invalidateCredentials']) {
        const res = await t
          .http()
          .post(`/t/${tenant.slug}%00/red5/${action}`)
          .set('content-type', 'application/json')
          .send('{"username":"a","password":"b","token":"c","streamID":"d","type":"publisher"}');
        expect({ action, status: res.status, body: res.body as unknown }).toEqual({
          action,
          status: 200,
          body: { result: false },
        });
      }
    });

    it('should keep the webhook answer (401) when the slug or credential id carries %00', async () => {
      for (const path of [
        `/t/${tenant.slug}%00/webhooks/openvidu/${randomUUID()}`,
        `/t/${tenant.slug}/webhooks/openvidu/${randomUUID()}%00`,
        `/t/${tenant.slug}%00/webhooks/livekit/${randomUUID()}`,
      ]) {
        const res = await t
          .http()
          .post(path)
          .set('content-type', 'application/json')
          .set('authorization', 'Basic T1BFTlZJRFVBUFA6c2VjcmV0')
          .send('{"event":"sessionCreated"}');
        expect({ path, status: res.status }).toEqual({ path, status: 401 });
        expectNoInternals(res.text);
      }
    });
  });

  describe('headers', () => {
    it('should answer 400 BAD_USER_INPUT naming the header when X-Roomkey-Tenant carries a control character', async () => {
      const header = 'x-roomkey-tenant';
      // Node's client refuses C0 bytes in headers; C1 (here NEL, U+0085) still travels.
      for (const path of [`/auth/oidc/${tenant.slug}/login`, `/t/${tenant.slug}/agora/ping`]) {
        const res = await t
          .http()
          .get(path)
          .set('authorization', tenant.owner.auth)
          .set(header, `${tenant.slug}\u0085`);
        expect({ path, status: res.status, body: res.body as unknown }).toEqual({
          path,
          status: 400,
          body: {
            error: expect.objectContaining({ code: 'BAD_USER_INPUT', field: header }) as unknown,
          },
        });
      }
      const g = await t.gql('{ me { role } }', undefined, {
        auth: tenant.owner.auth,
        headers: { [header]: `${tenant.slug}\u0085` },
      });
      expect(g.status).toBe(400);
      expect(g.headers['x-roomkey-error-code']).toBe('BAD_USER_INPUT');
    });

    it('should replace X-Request-Id with a fresh id, not fail, when it carries a control character', async () => {
      const res = await t
        .http()
        .get(`/t/${tenant.slug}/agora/ping`)
        .set('authorization', tenant.owner.auth)
        .set('x-request-id', 'trace\u0085id');
      expect(res.status).toBeLessThan(500);
      expect(res.headers['x-request-id']).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      );
    });

    it('should answer UNAUTHENTICATED, not 500, when a Basic payload decodes to a NUL byte', async () => {
      const key = await seedApiKey(t, tenant);
      const auth = `Basic ${Buffer.from(`${key.keyId}\u0000:${key.secret}`).toString('base64')}`;
      expectError(await t.gql('{ me { role } }', undefined, { auth }), 'UNAUTHENTICATED');
    });
  });

  describe('GraphQL arguments', () => {
    const EVENTS = `query($filter: AuditEventFilter) {
      auditEvents(filter: $filter, first: 5) { edges { node { id } } } }`;

    it.each([
      ['actorId', { actorId: 'a\u0000b' }],
      ['targetId', { targetId: 'a\u0000b' }],
      ['targetType', { targetType: 'member\u0000' }],
      ['action', { action: 'auth.login\u0000.failed' }],
      ['actorId', { actorId: 'a\u0007b' }],
    ])(
      'should answer BAD_USER_INPUT naming %s when the auditEvents filter carries a control character',
      async (field, filter) => {
        const r = await t.gql(EVENTS, { filter }, { auth: t.adminAuth });
        expectError(r, 'BAD_USER_INPUT');
        expect(r.body.errors?.[0].extensions?.field).toBe(field);
      },
    );

    it('should answer BAD_USER_INPUT when a NUL arrives in an inline string literal', async () => {
      const r = await t.gql(
        '{ auditEvents(filter: { targetId: "a\\u0000b" }) { edges { node { id } } } }',
        undefined,
        { auth: t.adminAuth },
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(r.body.errors?.[0].extensions?.field).toBe('targetId');
    });

    it.each([
      ['actorId', { actorId: 'a'.repeat(5000) }],
      ['targetId', { targetId: 'a'.repeat(5000) }],
      ['targetType', { targetType: 'a'.repeat(5000) }],
      ['action', { action: `a.${'b'.repeat(5000)}` }],
    ])(
      'should answer BAD_USER_INPUT naming %s when the nested auditEvents filter value is 5,000 characters',
      async (field, filter) => {
        const r = await t.gql(EVENTS, { filter }, { auth: t.adminAuth });
        expectError(r, 'BAD_USER_INPUT');
        expect(r.body.errors?.[0].extensions?.field).toBe(field);
      },
    );

    it('should find @ValidateNested and @Type on every nested input when walking the input and args types', () => {
      const classes = [
        ...TypeMetadataStorage.getInputTypesMetadata(),
        ...TypeMetadataStorage.getArgumentsMetadata(),
      ];
      const inputs = new Set<unknown>(
        TypeMetadataStorage.getInputTypesMetadata().map((c) => c.target),
      );
      const offenders: string[] = [];
      let nested = 0;
      for (const cls of classes) {
        const rules = getMetadataStorage().getTargetValidationMetadatas(
          cls.target,
          '',
          true,
          false,
        );
        for (const prop of cls.properties ?? []) {
          const ref: unknown = prop.typeFn();
          const type = Array.isArray(ref) ? (ref[0] as unknown) : ref;
          if (!inputs.has(type)) continue;
          nested++;
          const validated = rules.some(
            (r) => r.propertyName === prop.name && r.type === 'nestedValidation',
          );
          // @Type: class-transformer builds the nested class, so its own rules run.
          const built = plainToInstance(cls.target as new () => object, {
            [prop.name]: Array.isArray(ref) ? [{}] : {},
          }) as Record<string, unknown>;
          const value = built[prop.name];
          const typed =
            (Array.isArray(value) ? (value[0] as unknown) : value) instanceof
            (type as new () => object);
          if (!validated || !typed) offenders.push(`${cls.name}.${prop.name}`);
        }
      }
      expect(nested).toBeGreaterThan(5);
      expect({ nestedInputsWithoutValidation: offenders }).toEqual({
        nestedInputsWithoutValidation: [],
      });
    });

    it('should answer BAD_USER_INPUT naming createdBy when the nested sessions filter is not a UUID', async () => {
      const r = await t.gql(
        'query($f: SessionFilterInput) { sessions(filter: $f) { edges { node { id } } } }',
        { f: { createdBy: 'a'.repeat(5000) } },
        { auth: t.adminAuth },
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(r.body.errors?.[0].extensions?.field).toBe('createdBy');
    });

    it.each([
      [
        'email',
        'mutation($i: LoginInput!) { login(input: $i) { accessToken } }',
        { i: { email: 'a\u0000@b.test', password: 'x', tenantSlug: 'demo' } },
        undefined,
      ],
      [
        'password',
        'mutation($i: LoginInput!) { login(input: $i) { accessToken } }',
        { i: { email: 'a@b.test', password: 'x\u0000', tenantSlug: 'demo' } },
        undefined,
      ],
      [
        'code',
        'mutation($c: String!) { exchangeLoginCode(code: $c) { accessToken } }',
        { c: 'abc\u0000' },
        undefined,
      ],
      [
        'refreshToken',
        'mutation($r: String!) { refreshToken(refreshToken: $r) { accessToken } }',
        { r: '\u0000' },
        undefined,
      ],
      [
        'name',
        'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }',
        { i: { name: 'key\u0000', role: 'MEMBER' } },
        'admin',
      ],
      [
        'after',
        'query($a: String) { auditEvents(after: $a) { edges { node { id } } } }',
        { a: 'c2VxOjE\u0000' },
        'admin',
      ],
    ])(
      'should answer BAD_USER_INPUT naming %s when a GraphQL string argument carries a NUL',
      async (field, query, variables, auth) => {
        const before = await t.ds.query<Array<{ n: number }>>(
          'SELECT count(*)::int AS n FROM api_key',
        );
        const r = await t.gql(query, variables, auth ? { auth: t.adminAuth } : {});
        expectError(r, 'BAD_USER_INPUT');
        expect(r.body.errors?.[0].extensions?.field).toBe(field);
        expect(r.text).not.toContain('\\u0000');
        const after = await t.ds.query<Array<{ n: number }>>(
          'SELECT count(*)::int AS n FROM api_key',
        );
        expect(after).toEqual(before);
      },
    );

    it('should map PostgreSQL refusing a NUL (SQLSTATE 22021) to BAD_USER_INPUT when a value slips through', async () => {
      const err = await t.ds.query('SELECT $1::text AS v', ['a\u0000b']).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).not.toBeNull();
      expect(toClientError(err, false)).toEqual({
        code: 'BAD_USER_INPUT',
        message: expect.any(String) as unknown,
      });
    });
  });

  describe('failed-query logs', () => {
    it('should log neither the parameter values nor the database message when a query fails', async () => {
      const canary = `canary-${uniq()}-${uniq()}`;
      // A database that quotes the bound value in its error, as PostgreSQL does for bad input.
      await t.ds.query(`CREATE OR REPLACE FUNCTION hygiene_refuse() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'refusing %', NEW.name USING DETAIL = NEW.name, HINT = NEW.name; END
        $$ LANGUAGE plpgsql`);
      await t.ds.query(
        'CREATE TRIGGER hygiene_refuse BEFORE INSERT ON api_key FOR EACH ROW EXECUTE FUNCTION hygiene_refuse()',
      );
      try {
        const logged = t.logs.length;
        const r = await t.gql(
          'mutation($i: CreateApiKeyInput!) { createApiKey(input: $i) { secret } }',
          { i: { name: canary, role: 'MEMBER' } },
          { auth: t.adminAuth },
        );
        expectError(r, 'INTERNAL_SERVER_ERROR');
        expect(r.text).not.toContain(canary);
        const lines = t.logs.slice(logged);
        const failure = lines.find((l) => l.includes('P0001'));
        expect(failure).toBeDefined();
        expect(JSON.parse(failure!)).toMatchObject({
          err: { sqlState: 'P0001', queryHash: expect.stringMatching(/^[0-9a-f]{16}$/) as unknown },
        });
        expect(lines.filter((l) => l.includes(canary))).toEqual([]);
      } finally {
        await t.ds.query('DROP TRIGGER hygiene_refuse ON api_key');
        await t.ds.query('DROP FUNCTION hygiene_refuse()');
      }
    });
  });
});
