/**
 * docs/security.md S7: GraphQL cannot be used to exhaust the server. Depth, alias, cost, token and
 * directive limits refuse a document before anything executes (HTTP 400, BAD_USER_INPUT, a message
 * naming the limit and never the query); legitimate queries and introspection still pass.
 */
import { getIntrospectionQuery } from 'graphql';
import { AuditService } from '../src/audit/audit.service';
import { AuthSuccessSummary } from '../src/auth/auth-success-summary';
import { TenantsService } from '../src/tenants/tenants.service';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ADMIN_TENANT,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

type Result = Awaited<ReturnType<TestApp['gql']>>;

const aliased = (n: number, field: string): string =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ')} }`;

/** The deepest legitimate path in schema.gql: six levels. */
const DEEPEST_SESSIONS_QUERY =
  '{ sessions { edges { node { connections { credential { ... on AgoraCredential { token } } } } } } }';

async function auditCount(t: TestApp): Promise<number> {
  const rows: Array<{ n: number | string }> = await t.ds.query(
    'SELECT count(*) AS n FROM audit_event',
  );
  return Number(rows[0].n);
}

/** Refused as a request problem: 400, BAD_USER_INPUT on every error, no data, query not echoed. */
function expectRefused(r: Result, message: RegExp, echoed: string[] = ['a0', 'a1']): void {
  expect(r.status).toBe(400);
  expect(r.body.data).toBeUndefined();
  expect(r.body.errors?.length).toBeGreaterThan(0);
  for (const e of r.body.errors ?? []) expect(e.extensions?.code).toBe('BAD_USER_INPUT');
  expect(r.body.errors?.map((e) => e.message)).toEqual(
    expect.arrayContaining([expect.stringMatching(message)]),
  );
  for (const fragment of echoed) expect(r.text).not.toContain(`"${fragment}`);
  expect(r.text).not.toMatch(/Syntax Error|INTERNAL_SERVER_ERROR|stack/i);
}

describe('GraphQL limits with the default settings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('should refuse 1,000 aliased me before execution when the token limit is exceeded', async () => {
    const current = jest.spyOn(t.app.get(TenantsService), 'current');
    const before = await auditCount(t);
    const r = await t.gql(aliased(1000, 'me { role }'), {}, { auth: t.adminAuth });
    expectRefused(r, /^Token limit of 1000 exceeded\.$/);
    expect(current).not.toHaveBeenCalled();
    expect(await auditCount(t)).toBe(before);
  });

  it('should refuse with BAD_USER_INPUT when an anonymous request sends 40,000 aliases', async () => {
    const query = aliased(40_000, 'me { role }');
    expect(query.length).toBeGreaterThan(500_000); // under the 1 MB body cap, so GraphQL sees it
    const r = await t.gql(query);
    expectRefused(r, /^Token limit of 1000 exceeded\.$/);
    expect(r.body.errors).toHaveLength(1);
    // The parser stopped at token 1,001 (`{`, 6 per alias: the `{` of alias 166), so the rest
    // of the 600 KB document was never read.
    const stoppedAt = (r.body.errors?.[0] as { locations?: Array<{ column: number }> }).locations;
    expect(stoppedAt?.[0].column).toBe(query.indexOf('{', query.indexOf('a166:')) + 1);
  });

  it('should refuse 16 aliases naming the aliases limit when the default of 15 applies', async () => {
    const current = jest.spyOn(t.app.get(TenantsService), 'current');
    const r = await t.gql(aliased(16, 'me { role }'), {}, { auth: t.adminAuth });
    expectRefused(r, /^Aliases limit of 15 exceeded, found 16\.$/);
    expect(current).not.toHaveBeenCalled();
  });

  it('should answer 15 aliases when the count equals the default limit', async () => {
    const r = await t.gql<Record<string, { role: string }>>(
      aliased(15, 'me { role }'),
      {},
      {
        auth: t.adminAuth,
      },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.a14.role).toBe('OWNER');
  });

  it('should refuse on cost before any verification runs when verifyAuditLog is aliased three times', async () => {
    const verify = jest.spyOn(t.app.get(AuditService), 'verify');
    const before = await auditCount(t);
    const r = await t.gql(aliased(3, 'verifyAuditLog { ok }'), {}, { auth: t.adminAuth });
    expectRefused(r, /^Query cost limit of 20000 exceeded, found 24003\.$/);
    expect(r.body.errors).toHaveLength(1); // cost alone: within the alias, token and depth limits
    expect(verify).not.toHaveBeenCalled();
    expect(await auditCount(t)).toBe(before);
  });

  it('should verify the audit log when verifyAuditLog is asked once', async () => {
    const verify = jest.spyOn(t.app.get(AuditService), 'verify');
    const r = await t.gql<{ verifyAuditLog: { ok: boolean } }>(
      '{ verifyAuditLog { ok checkedCount } }',
      {},
      { auth: t.adminAuth },
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.verifyAuditLog.ok).toBe(true);
    expect(verify).toHaveBeenCalledTimes(1);
  });

  it('should refuse a query nested deeper than 7 levels when __type chains ofType', async () => {
    const r = await t.gql(
      '{ __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } }',
      {},
      { auth: t.adminAuth },
    );
    expectRefused(r, /^Query depth limit of 7 exceeded, found 9\.$/);
  });

  it('should refuse 21 directives naming the directives limit when the default of 20 applies', async () => {
    const fields = Array.from({ length: 21 }, () => 'role @include(if: true)').join(' ');
    const r = await t.gql(`{ me { ${fields} } }`, {}, { auth: t.adminAuth });
    expectRefused(r, /^Directives limit of 20 exceeded, found 21\.$/);
  });

  it('should refuse a long document without aliases when it has more than 1,000 tokens', async () => {
    const r = await t.gql(`{ me { ${'role '.repeat(1000)}} }`, {}, { auth: t.adminAuth });
    expectRefused(r, /^Token limit of 1000 exceeded\.$/);
  });

  it('should answer a normal query of each major area when it is within the limits', async () => {
    const login = await t.gql<{ login: { accessToken: string } }>(
      'mutation ($input: LoginInput!) { login(input: $input) { accessToken expiresAt user { email } tenant { slug } } }',
      { input: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, tenantSlug: ADMIN_TENANT } },
    );
    expect(login.body.errors).toBeUndefined();
    expect(login.body.data?.login.accessToken).toBeTruthy();

    const queries = [
      '{ me { role actorType authMethod isPlatformAdmin user { id email } tenant { id slug name compatCorsOrigins } } }',
      '{ tenant { id slug name createdAt } }',
      '{ members(first: 100) { nodes { id role createdAt user { id email displayName } } edges { cursor } pageInfo { hasNextPage endCursor } } }',
      '{ apiKeys(first: 100) { nodes { id keyId name role status createdAt } pageInfo { hasNextPage } } }',
      '{ providerCredentials { id name kind isDefault config createdAt } identityProviders { id kind issuer } jwtIssuers { id issuer } }',
      DEEPEST_SESSIONS_QUERY,
      '{ sessions(first: 20) { nodes { id provider status connections { id role status identity } } pageInfo { hasNextPage } } }',
      `{ verifyAuditLog { ok checkedCount firstInvalidEventId reason }
         auditEvents(first: 100) { edges { cursor node { id seq action actorType actorId actorLabel authMethod
           outcome targetType targetId errorCode metadata clientIp userAgent requestId occurredAt keyId prevHash hash } }
           pageInfo { hasNextPage endCursor } } }`,
    ];
    for (const query of queries) {
      const r = await t.gql(query, {}, { auth: t.adminAuth });
      expect({ query, errors: r.body.errors }).toEqual({ query, errors: undefined });
      expect(r.status).toBe(200);
    }
  });

  it("should answer GraphiQL's introspection query when introspection is enabled", async () => {
    expect(t.config.app.introspection).toBe(true);
    const r = await t.gql<{ __schema: { types: Array<{ name: string }> } }>(
      getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true }),
    );
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data?.__schema.types.map((x) => x.name)).toEqual(
      expect.arrayContaining(['Query', 'Mutation', 'VideoSession', 'AuditEvent']),
    );
  });

  it('should refuse a cyclic introspection query when fields nest under fields', async () => {
    // `__schema` is exempt from the depth and cost limits; graphql-js's own introspection-depth
    // rule is what bounds fields → type → fields cycles.
    const r = await t.gql(
      '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
    );
    expectRefused(r, /^Maximum introspection depth exceeded$/);
  });

  it('should refuse with 413 when a GraphQL body is over the default 1 MB cap', async () => {
    expect(t.config.app.bodyLimitBytes).toBe(1_048_576);
    const res = await t
      .http()
      .post('/graphql')
      .set('content-type', 'application/json')
      .send({ query: `{ __typename ${' '.repeat(1_048_576)}}` });
    expect(res.status).toBe(413);
    expect(res.text).not.toContain('"__typename"');
  });
});

describe('GraphQL limits when the token limit is raised', () => {
  // With the parser's limit out of the way, the validation rules are what refuse big documents.
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ROOMKEY_GRAPHQL_MAX_TOKENS: '100000' });
  });
  afterAll(() => t.close());
  afterEach(() => jest.restoreAllMocks());

  it('should refuse naming the aliases limit and run nothing when me is aliased 1,000 times', async () => {
    const current = jest.spyOn(t.app.get(TenantsService), 'current');
    const before = await auditCount(t);
    const r = await t.gql(aliased(1000, 'me { role }'), {}, { auth: t.adminAuth });
    expectRefused(r, /^Aliases limit of 15 exceeded, found 1000\.$/);
    expect(current).not.toHaveBeenCalled();
    expect(await auditCount(t)).toBe(before);

    // The same probes do see an executed request: the resolver runs, and its authentication is
    // counted (one summary, written by the flush) — the refused request was not.
    const ok = await t.gql('{ me { role } }', {}, { auth: t.adminAuth });
    expect(ok.body.errors).toBeUndefined();
    expect(current).toHaveBeenCalledTimes(1);
    await t.app.get(AuthSuccessSummary).flush();
    expect(await auditCount(t)).toBeGreaterThan(before);
    const counts: Array<{ n: number }> = await t.ds.query(
      `SELECT (metadata->>'count')::int AS n FROM audit_event WHERE action = 'auth.succeeded.summary'`,
    );
    expect(counts.map((c) => c.n)).toEqual([1]);
  });

  it('should refuse naming the cost limit and verify nothing when verifyAuditLog is aliased 200 times', async () => {
    const verify = jest.spyOn(t.app.get(AuditService), 'verify');
    const r = await t.gql(aliased(200, 'verifyAuditLog { ok }'), {}, { auth: t.adminAuth });
    expectRefused(r, /^Query cost limit of 20000 exceeded, found 1600200\.$/);
    expectRefused(r, /^Aliases limit of 15 exceeded, found 200\.$/);
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('GraphQL limits read from the environment', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      NODE_ENV: 'production',
      ROOMKEY_GRAPHQL_MAX_DEPTH: '5',
      ROOMKEY_GRAPHQL_MAX_ALIASES: '2',
      ROOMKEY_GRAPHQL_MAX_COST: '50',
      ROOMKEY_GRAPHQL_MAX_TOKENS: '200',
      ROOMKEY_GRAPHQL_MAX_DIRECTIVES: '1',
    });
  });
  afterAll(() => t.close());

  it('should refuse the six-level sessions path when ROOMKEY_GRAPHQL_MAX_DEPTH is 5', async () => {
    const r = await t.gql(DEEPEST_SESSIONS_QUERY, {}, { auth: t.adminAuth });
    expectRefused(r, /^Query depth limit of 5 exceeded, found 6\.$/);
  });

  it('should refuse three aliases when ROOMKEY_GRAPHQL_MAX_ALIASES is 2', async () => {
    expectRefused(
      await t.gql(aliased(3, 'me { role }'), {}, { auth: t.adminAuth }),
      /^Aliases limit of 2 exceeded, found 3\.$/,
    );
    const two = await t.gql(aliased(2, 'me { role }'), {}, { auth: t.adminAuth });
    expect(two.body.errors).toBeUndefined();
  });

  it('should refuse a 100-member page when ROOMKEY_GRAPHQL_MAX_COST is 50', async () => {
    // members(first: 100) { nodes { id } } costs 1 + 100 × (1 + 2) = 301; first: 5 costs 16.
    expectRefused(
      await t.gql('{ members(first: 100) { nodes { id } } }', {}, { auth: t.adminAuth }),
      /^Query cost limit of 50 exceeded, found 301\.$/,
    );
    const small = await t.gql('{ members(first: 5) { nodes { id } } }', {}, { auth: t.adminAuth });
    expect(small.body.errors).toBeUndefined();
  });

  it('should refuse two directives when ROOMKEY_GRAPHQL_MAX_DIRECTIVES is 1', async () => {
    expectRefused(
      await t.gql(
        '{ me { role @include(if: true) actorType @skip(if: false) } }',
        {},
        { auth: t.adminAuth },
      ),
      /^Directives limit of 1 exceeded, found 2\.$/,
    );
  });

  it('should refuse a 201-token document when ROOMKEY_GRAPHQL_MAX_TOKENS is 200', async () => {
    // `{ me {` + n × `role` + `} }` is n + 5 tokens: 196 → 201 refused, 195 → 200 accepted.
    const doc = (n: number): string => `{ me { ${'role '.repeat(n)}} }`;
    expectRefused(
      await t.gql(doc(196), {}, { auth: t.adminAuth }),
      /^Token limit of 200 exceeded\.$/,
    );
    const ok = await t.gql(doc(195), {}, { auth: t.adminAuth });
    expect(ok.body.errors).toBeUndefined();
  });

  it('should apply the limits when NODE_ENV is production and introspection is off', async () => {
    expect(t.config.app.env).toBe('production');
    expect(t.config.app.introspection).toBe(false);
    expectRefused(
      await t.gql(aliased(3, 'tenant { slug }'), {}, { auth: t.adminAuth }),
      /^Aliases limit of 2 exceeded, found 3\.$/,
    );
  });
});
