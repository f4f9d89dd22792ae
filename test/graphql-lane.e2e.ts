/**
 * The GraphQL lane (common/http/graphql-lane): `POST /graphql` with a JSON body is answered on the
 * server's request event, in front of Express's router and middleware. The GraphQL contract is
 * covered by every other suite (their requests reach the lane); these check that the lane is the
 * one answering, that it answers every outcome exactly as the general path does (compared side by
 * side: a request with an `Origin` header is left to Express, and /graphql has no CORS of its own,
 * so the two answers must match), which requests it leaves alone, and what it must keep — the
 * request id, the one audit event, the metrics and the access log.
 */
import { storage } from 'nestjs-pino/storage';
import { type Response } from 'supertest';
import { GraphqlLane } from '../src/common/http/graphql-lane';
import { JoinRoom } from '../src/sessions/join-room';
import { answerShape, uniq } from './helpers/assertions';
import { type VendorWorld, startVendorWorld } from './helpers/vendors';
import { httpRequests } from './helpers/metrics';

const ORIGIN = 'http://elsewhere.test';

describe('GraphQL lane', () => {
  let w: VendorWorld;
  let served: jest.SpyInstance;
  let sessionId: string;

  beforeAll(async () => {
    w = await startVendorWorld();
    // The lane's own entry point once it has taken a request (private; spied on, not replaced).
    served = jest.spyOn(GraphqlLane.prototype as never, 'serve');
    const created = await w.t.gql<{ createSession: { id: string } }>(
      'mutation { createSession(input: {provider: AGORA, customSessionId: "graphql-lane"}) { id } }',
      {},
      { auth: w.a.memberKey },
    );
    sessionId = created.body.data!.createSession.id;
  });
  afterAll(() => w?.close());
  beforeEach(() => served.mockClear());

  const post = (body: string, headers: Record<string, string> = {}) => {
    const r = w.t.http().post('/graphql').set('content-type', 'application/json');
    for (const [k, v] of Object.entries(headers)) r.set(k, v);
    return r.send(body);
  };
  const mint = (requestId: string, origin?: string) =>
    post(
      JSON.stringify({
        query: `mutation { createConnection(input: {sessionId: "${sessionId}", role: PUBLISHER, agora: {uid: 42}}) { id credential { ... on AgoraCredential { token } } } }`,
      }),
      {
        authorization: w.a.memberKey,
        'x-request-id': requestId,
        ...(origin ? { origin } : {}),
      },
    );
  const events = (requestId: string) =>
    w.t.ds.query<Array<{ action: string; outcome: string }>>(
      `SELECT action, outcome::text AS outcome FROM audit_event WHERE request_id = $1 ORDER BY seq`,
      [requestId],
    );

  it('should mint in the lane with the request id echoed and one connection.created event when a member calls createConnection', async () => {
    const id = `graphql-lane-${uniq()}`;
    const r = await mint(id);
    expect(r.status).toBe(200);
    expect(served).toHaveBeenCalledTimes(1);
    expect(r.headers['x-request-id']).toBe(id);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers.etag).toMatch(/^W\/"/);
    const body = JSON.parse(r.text) as {
      data: { createConnection: { id: string; credential: { token: string } } };
    };
    expect(body.data.createConnection.credential.token).toMatch(/^007/);
    expect(await events(id)).toEqual([{ action: 'connection.created', outcome: 'SUCCESS' }]);
  });

  it('should answer a mint as the general path does, but for the ids and the token', async () => {
    const viaLane = await mint(`lane-${uniq()}`);
    expect(served).toHaveBeenCalledTimes(1);
    const viaExpress = await mint(`express-${uniq()}`, ORIGIN);
    expect(served).toHaveBeenCalledTimes(1);
    const strip = (r: Response) => {
      const b = JSON.parse(r.text) as {
        data: { createConnection: { id: string; credential: { token: string } } };
      };
      return {
        status: r.status,
        type: r.headers['content-type'],
        cache: r.headers['cache-control'],
        keys: Object.keys(b.data.createConnection),
        token: b.data.createConnection.credential.token.slice(0, 3),
      };
    };
    expect(strip(viaLane)).toEqual(strip(viaExpress));
  });

  it('should count the answer under /graphql and log one line with the tenant and no token when the lane answers', async () => {
    const labels = { method: 'POST', route: '/graphql', status: '200' };
    const metrics = async (): Promise<string> =>
      (await w.t.http().get('/metrics').set('authorization', w.a.adminKey)).text;
    const before = httpRequests(await metrics(), labels);
    const lines = w.t.logs.length;
    const id = `graphql-lane-log-${uniq()}`;
    const r = await mint(id);
    expect(r.status).toBe(200);
    expect(served).toHaveBeenCalledTimes(1);
    // The metrics request itself is a GET: only the mint counts here.
    expect(httpRequests(await metrics(), labels)).toBe(before + 1);
    const written = w.t.logs
      .slice(lines)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => (l.req as { id?: string } | undefined)?.id === id);
    expect(written).toEqual([
      expect.objectContaining({
        msg: 'request completed',
        tenantId: w.a.tenant.id,
        req: expect.objectContaining({ method: 'POST', path: '/graphql' }) as unknown,
        res: expect.objectContaining({ statusCode: 200 }) as unknown,
      }),
    ]);
    const token = (
      JSON.parse(r.text) as { data: { createConnection: { credential: { token: string } } } }
    ).data.createConnection.credential.token;
    expect(w.t.logs.slice(lines).join('\n')).not.toContain(token);
  });

  it('should give the resolvers a logger bound to the request, with its id, when the lane serves it', async () => {
    const seen: unknown[] = [];
    const execute = JoinRoom.prototype.execute;
    const spy = jest.spyOn(JoinRoom.prototype, 'execute').mockImplementation(function (
      this: JoinRoom,
      ...args: Parameters<JoinRoom['execute']>
    ) {
      seen.push(storage.getStore()?.logger.bindings());
      return execute.apply(this, args);
    });
    try {
      const id = `graphql-lane-bound-${uniq()}`;
      const r = await mint(id);
      expect(r.status).toBe(200);
      expect(served).toHaveBeenCalledTimes(1);
      expect(seen).toEqual([
        expect.objectContaining({
          req: { id, method: 'POST', path: '/graphql' },
        }),
      ]);
    } finally {
      spy.mockRestore();
    }
  });

  describe('answers as the general path does', () => {
    const cases: Array<[string, () => { body: string; auth?: string }]> = [
      ['malformed JSON', () => ({ body: '{"query": ' })],
      ['a JSON string', () => ({ body: '"{ __typename }"' })],
      ['a batch (an array)', () => ({ body: '[{"query":"{ __typename }"}]' })],
      ['an empty object', () => ({ body: '{}' })],
      ['a query that does not parse', () => ({ body: '{"query":"{ me { "}' })],
      ['an unknown field', () => ({ body: '{"query":"{ nope }"}', auth: w.a.memberKey })],
      ['no credentials', () => ({ body: '{"query":"{ me { role } }"}' })],
      [
        'a wrong API key secret',
        () => ({
          body: '{"query":"{ me { role } }"}',
          auth: `Basic ${Buffer.from('rk_nope:wrong').toString('base64')}`,
        }),
      ],
      [
        'a member creating an API key (roles)',
        () => ({
          body: JSON.stringify({
            query: 'mutation { createApiKey(input: {name: "x", role: ADMIN}) { secret } }',
          }),
          auth: w.a.memberKey,
        }),
      ],
      [
        'invalid input (validation pipe)',
        () => ({
          body: JSON.stringify({
            query: `mutation { createConnection(input: {sessionId: "not-a-uuid"}) { id } }`,
          }),
          auth: w.a.memberKey,
        }),
      ],
      [
        'a query over the depth limit',
        () => ({
          body: JSON.stringify({
            query: `{ me { tenant { ${'id '.repeat(1)}} } ${'a: me { role } '.repeat(60)} }`,
          }),
          auth: w.a.memberKey,
        }),
      ],
      [
        'variables of the wrong type',
        () => ({
          body: JSON.stringify({
            query: 'mutation ($id: ID!) { endSession(id: $id) { id } }',
            variables: { id: { not: 'an id' } },
          }),
          auth: w.a.memberKey,
        }),
      ],
    ];

    it.each(cases)('should answer %s exactly as Express does', async (_name, make) => {
      const { body, auth } = make();
      const headers: Record<string, string> = auth ? { authorization: auth } : {};
      const viaLane = await post(body, headers);
      expect(served).toHaveBeenCalledTimes(1);
      const viaExpress = await post(body, { ...headers, origin: ORIGIN });
      expect(served).toHaveBeenCalledTimes(1);
      expect(viaLane.status).toBeGreaterThanOrEqual(200);
      expect(answerShape(viaLane)).toEqual(answerShape(viaExpress));
      // Express's ETag hashes the body: equal unless the body carries the request id.
      if (!viaLane.text.includes('requestId'))
        expect(viaLane.headers.etag).toBe(viaExpress.headers.etag);
    });
  });

  describe('leaves to Express', () => {
    const query = '{"query":"{ __typename }"}';
    it.each<[string, () => ReturnType<ReturnType<VendorWorld['t']['http']>['post']>, number]>([
      ['a request with an Origin', () => post(query, { origin: ORIGIN }), 200],
      [
        'a query string',
        () => w.t.http().post('/graphql?x=1').set('content-type', 'application/json').send(query),
        200,
      ],
      [
        'another spelling of the path',
        () => w.t.http().post('/graphql/').set('content-type', 'application/json').send(query),
        200,
      ],
      [
        'a text/plain body (Apollo’s CSRF prevention refuses it)',
        () => w.t.http().post('/graphql').set('content-type', 'text/plain').send(query),
        400,
      ],
      [
        'a chunked body',
        () => {
          // Written in two parts with no declared length: sent chunked.
          const r = w.t.http().post('/graphql').set('content-type', 'application/json');
          void r.write(query.slice(0, 5));
          void r.write(query.slice(5));
          return r;
        },
        200,
      ],
      [
        'a control character in X-Roomkey-Tenant (the hygiene middleware refuses it)',
        // Node's client refuses C0 bytes in headers; C1 (here NEL, U+0085) still travels.
        () => post(query, { 'x-roomkey-tenant': 'demo\u0085' }),
        400,
      ],
      [
        'a body over the limit',
        () => post(JSON.stringify({ query: `{ __typename } #${'x'.repeat(1_100_000)}` })),
        413,
      ],
    ])('should leave %s to Express', async (_name, send, status) => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(served).not.toHaveBeenCalled();
    });

    it('should leave GET /graphql to Express', async () => {
      const r = await w.t
        .http()
        .get('/graphql?query=%7B__typename%7D')
        .set('apollo-require-preflight', 'true');
      expect(r.status).toBe(200);
      expect(served).not.toHaveBeenCalled();
    });
  });
});
