import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { MemberRole } from '../src/common/auth/roles';
import { Caches } from '../src/common/cache';
import { seedApiKey, seedMember, seedTenant, type SeededTenant } from './factories/tenancy';
import { counts, expectError } from './helpers/assertions';
import { basic, type GqlResult, startTestApp, type TestApp } from './helpers/test-app';

const KEY_FIELDS =
  'id keyId name role status expiresAt revokedAt lastUsedAt createdByUserId createdAt';
const LIST = `query($first: Int, $after: String) { apiKeys(first: $first, after: $after) {
  edges { cursor node { ${KEY_FIELDS} } } nodes { id } pageInfo { hasNextPage endCursor } } }`;
const CREATE = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { secret apiKey { ${KEY_FIELDS} } } }`;
const REVOKE = `mutation($id: ID!) { revokeApiKey(id: $id) { ${KEY_FIELDS} } }`;
const ME =
  '{ me { actorType authMethod role user { id } apiKey { id keyId } tenant { id slug } } }';

interface ApiKey {
  id: string;
  keyId: string;
  name: string;
  role: string;
  status: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
  createdByUserId: string | null;
  createdAt: string;
}
interface ListData {
  apiKeys: {
    edges: Array<{ cursor: string; node: ApiKey }>;
    nodes: Array<{ id: string }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface CreateData {
  createApiKey: { secret: string; apiKey: ApiKey };
}
interface MeData {
  me: {
    actorType: string;
    authMethod: string;
    role: string;
    user: { id: string } | null;
    apiKey: { id: string; keyId: string } | null;
    tenant: { id: string; slug: string };
  };
}

describe('API keys (apiKeys, createApiKey, revokeApiKey)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const keyCount = async (tenant: SeededTenant): Promise<number> =>
    (
      await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM api_key WHERE tenant_id = $1',
        [tenant.id],
      )
    )[0].n;
  const meWith = (auth: string): Promise<GqlResult<MeData>> => t.gql<MeData>(ME, {}, { auth });
  const listAll = async (auth: string): Promise<ApiKey[]> => {
    const r = await t.gql<ListData>(LIST, { first: 100 }, { auth });
    expect(r.body.errors).toBeUndefined();
    return r.body.data!.apiKeys.edges.map((e) => e.node);
  };

  describe('createApiKey', () => {
    it('should return the key and a one-time secret that works for Basic auth when an OWNER creates an ADMIN key', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'CI server', role: 'ADMIN' } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      const { secret, apiKey } = r.body.data!.createApiKey;
      expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(apiKey).toMatchObject({
        name: 'CI server',
        role: 'ADMIN',
        status: 'ACTIVE',
        expiresAt: null,
        revokedAt: null,
        lastUsedAt: null,
        createdByUserId: tenant.owner.id,
      });
      expect(apiKey.keyId).toMatch(/^rk_[0-9a-f]{24}$/);

      const me = await meWith(basic(apiKey.keyId, secret));
      expect(me.body.errors).toBeUndefined();
      expect(me.body.data!.me).toEqual({
        actorType: 'API_KEY',
        authMethod: 'BASIC_API_KEY',
        role: 'ADMIN',
        user: null,
        apiKey: { id: apiKey.id, keyId: apiKey.keyId },
        tenant: { id: tenant.id, slug: tenant.slug },
      });
    });

    it('should store only the SHA-256 of the secret when a key is created', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'hash check', role: 'MEMBER' } },
        { auth: tenant.owner.auth },
      );
      const { secret, apiKey } = r.body.data!.createApiKey;
      const rows = await t.ds.query<Array<Record<string, unknown>>>(
        'SELECT * FROM api_key WHERE id = $1',
        [apiKey.id],
      );
      expect(rows).toHaveLength(1);
      const row = rows[0];
      expect(Buffer.from(row.secret_hash as Buffer).toString('hex')).toBe(
        createHash('sha256').update(secret, 'utf8').digest('hex'),
      );
      const asText = JSON.stringify(
        Object.entries(row).map(([k, v]) => [k, Buffer.isBuffer(v) ? v.toString('utf8') : v]),
      );
      expect(asText).not.toContain(secret);
    });

    it('should give every key its own keyId and secret when two keys are created', async () => {
      const tenant = await seedTenant(t);
      const a = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'a', role: 'MEMBER' } },
        { auth: tenant.owner.auth },
      );
      const b = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'a', role: 'MEMBER' } },
        { auth: tenant.owner.auth },
      );
      expect(a.body.data!.createApiKey.secret).not.toBe(b.body.data!.createApiKey.secret);
      expect(a.body.data!.createApiKey.apiKey.keyId).not.toBe(
        b.body.data!.createApiKey.apiKey.keyId,
      );
      // One key's secret does not open the other.
      expectError(
        await meWith(
          basic(a.body.data!.createApiKey.apiKey.keyId, b.body.data!.createApiKey.secret),
        ),
        'UNAUTHENTICATED',
      );
    });

    it('should never return the secret again when the keys are listed or the key calls me', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'once', role: 'ADMIN' } },
        { auth: tenant.owner.auth },
      );
      const { secret, apiKey } = r.body.data!.createApiKey;
      const auth = basic(apiKey.keyId, secret);
      const list = await t.gql<ListData>(LIST, {}, { auth: tenant.owner.auth });
      expect(list.body.data!.apiKeys.nodes.map((n) => n.id)).toEqual([apiKey.id]);
      expect(list.text).not.toContain(secret);
      const listByKey = await t.gql<ListData>(LIST, {}, { auth });
      expect(listByKey.body.data!.apiKeys.nodes.map((n) => n.id)).toEqual([apiKey.id]);
      expect(listByKey.text).not.toContain(secret);
      const me = await t.gql(`{ me { apiKey { ${KEY_FIELDS} } } }`, {}, { auth });
      expect(me.body.errors).toBeUndefined();
      expect(me.text).not.toContain(secret);
    });

    it('should answer BAD_USER_INPUT when a listing asks for a secret field', async () => {
      const tenant = await seedTenant(t);
      await seedApiKey(t, tenant);
      expectError(
        await t.gql('{ apiKeys { nodes { id secret } } }', {}, { auth: tenant.owner.auth }),
        'BAD_USER_INPUT',
      );
    });

    it('should create a working key with that expiry when expiresAt is in the future', async () => {
      const tenant = await seedTenant(t);
      const expiresAt = new Date(Date.now() + 3_600_000);
      expiresAt.setMilliseconds(0);
      const r = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'short-lived', role: 'MEMBER', expiresAt: expiresAt.toISOString() } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      const { secret, apiKey } = r.body.data!.createApiKey;
      expect(new Date(apiKey.expiresAt!).getTime()).toBe(expiresAt.getTime());
      expect(apiKey.status).toBe('ACTIVE');
      const me = await meWith(basic(apiKey.keyId, secret));
      expect(me.body.data?.me.role).toBe('MEMBER');
    });

    it('should answer BAD_USER_INPUT and create nothing when expiresAt is in the past', async () => {
      const tenant = await seedTenant(t);
      const before = await counts(t);
      const r = await t.gql(
        CREATE,
        {
          input: {
            name: 'stale',
            role: 'MEMBER',
            expiresAt: new Date(Date.now() - 60_000).toISOString(),
          },
        },
        { auth: tenant.owner.auth },
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(r.body.errors![0].extensions?.field).toBe('expiresAt');
      expect(await counts(t)).toEqual(before);
    });

    it('should refuse with BAD_USER_INPUT and create nothing when the service is asked for a key with a past expiresAt', async () => {
      const tenant = await seedTenant(t);
      const before = await counts(t);
      await expect(
        seedApiKey(t, tenant, MemberRole.ADMIN, new Date(Date.now() - 1000)),
      ).rejects.toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'expiresAt',
      });
      expect(await counts(t)).toEqual(before);
    });

    it.each([
      ['expiresAt is not a date', { name: 'x', role: 'MEMBER', expiresAt: 'tomorrow' }],
      ['the name is empty', { name: '', role: 'MEMBER' }],
      ['the name is only spaces', { name: '   ', role: 'MEMBER' }],
      ['the name is 201 characters long', { name: 'k'.repeat(201), role: 'MEMBER' }],
      ['the name has a control character', { name: 'line\nbreak', role: 'MEMBER' }],
      ['the role is not a MemberRole', { name: 'x', role: 'ROOT' }],
      ['the role is missing', { name: 'x' }],
    ])('should answer BAD_USER_INPUT and create nothing when %s', async (_label, input) => {
      const tenant = await seedTenant(t);
      const before = await counts(t);
      expectError(await t.gql(CREATE, { input }, { auth: tenant.owner.auth }), 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
    });

    it('should store the name trimmed when it has surrounding spaces', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<CreateData>(
        CREATE,
        { input: { name: '  build bot  ', role: 'MEMBER' } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.createApiKey.apiKey.name).toBe('build bot');
    });

    it('should answer FORBIDDEN and create nothing when an ADMIN creates an OWNER key', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const before = await counts(t);
      expectError(
        await t.gql(CREATE, { input: { name: 'too high', role: 'OWNER' } }, { auth: admin.auth }),
        'FORBIDDEN',
      );
      expect(await counts(t)).toEqual(before);
    });

    it('should answer FORBIDDEN and create nothing when an ADMIN API key creates an OWNER key', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const before = await counts(t);
      expectError(
        await t.gql(CREATE, { input: { name: 'too high', role: 'OWNER' } }, { auth: key.auth }),
        'FORBIDDEN',
      );
      expect(await counts(t)).toEqual(before);
    });

    it.each([['ADMIN'], ['MEMBER']])(
      'should create the key when an ADMIN creates a %s key',
      async (role) => {
        const tenant = await seedTenant(t);
        const admin = await seedMember(t, tenant, MemberRole.ADMIN);
        const r = await t.gql<CreateData>(
          CREATE,
          { input: { name: `by admin ${role}`, role } },
          { auth: admin.auth },
        );
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data!.createApiKey.apiKey).toMatchObject({ role, createdByUserId: admin.id });
      },
    );

    it('should create a key with no creating user when an ADMIN API key creates a MEMBER key', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const r = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'by key', role: 'MEMBER' } },
        { auth: key.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.createApiKey.apiKey).toMatchObject({
        role: 'MEMBER',
        createdByUserId: null,
      });
    });

    it('should answer FORBIDDEN and create nothing when a MEMBER creates a key', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const before = await counts(t);
      expectError(
        await t.gql(CREATE, { input: { name: 'nope', role: 'MEMBER' } }, { auth: member.auth }),
        'FORBIDDEN',
      );
      expect(await counts(t)).toEqual(before);
    });

    it('should answer FORBIDDEN and create nothing when a MEMBER API key creates a key', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      const before = await counts(t);
      expectError(
        await t.gql(CREATE, { input: { name: 'nope', role: 'MEMBER' } }, { auth: key.auth }),
        'FORBIDDEN',
      );
      expect(await counts(t)).toEqual(before);
    });

    it('should answer UNAUTHENTICATED and create nothing when the caller is anonymous', async () => {
      const before = await counts(t);
      expectError(
        await t.gql(CREATE, { input: { name: 'anon', role: 'MEMBER' } }),
        'UNAUTHENTICATED',
      );
      expect(await counts(t)).toEqual(before);
    });

    it('should answer BAD_USER_INPUT and create nothing when the input literal carries an unknown tenantId', async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const before = await counts(t);
      const r = await t.gql(
        `mutation { createApiKey(input: { name: "x", role: ADMIN, tenantId: "${b.id}" }) { secret } }`,
        {},
        { auth: a.owner.auth },
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
    });

    it.each([
      ['tenantId', (b: SeededTenant): unknown => ({ name: 'x', role: 'ADMIN', tenantId: b.id })],
      ['secret', (): unknown => ({ name: 'x', role: 'ADMIN', secret: 'chosen-by-the-caller' })],
      ['keyId', (): unknown => ({ name: 'x', role: 'ADMIN', keyId: `rk_${'a'.repeat(24)}` })],
      [
        'createdByUserId',
        (b: SeededTenant): unknown => ({ name: 'x', role: 'ADMIN', createdByUserId: b.owner.id }),
      ],
      [
        '__proto__',
        (b: SeededTenant): unknown =>
          JSON.parse(`{"name":"x","role":"ADMIN","__proto__":{"tenantId":"${b.id}"}}`),
      ],
    ])(
      'should answer BAD_USER_INPUT and create nothing in either tenant when the input variable has an extra %s key',
      async (label, makeInput) => {
        const a = await seedTenant(t);
        const b = await seedTenant(t);
        const before = await counts(t);
        const r = await t.gql(CREATE, { input: makeInput(b) }, { auth: a.owner.auth });
        expectError(r, 'BAD_USER_INPUT');
        expect(r.body.errors![0].message).toContain(label);
        expect(await counts(t)).toEqual(before);
        expect(await keyCount(a)).toBe(0);
        expect(await keyCount(b)).toBe(0);
      },
    );

    it("should create the key in the caller's tenant when an undeclared top-level tenantId variable is sent", async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const r = await t.gql<CreateData>(
        CREATE,
        { input: { name: 'x', role: 'ADMIN' }, tenantId: b.id },
        { auth: a.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(await keyCount(a)).toBe(1);
      expect(await keyCount(b)).toBe(0);
    });
  });

  describe('using a key', () => {
    it("should answer UNAUTHENTICATED when the key is used with another tenant's X-Roomkey-Tenant", async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const key = await seedApiKey(t, a, MemberRole.ADMIN);
      expectError(
        await t.gql(ME, {}, { auth: key.auth, headers: { 'x-roomkey-tenant': b.slug } }),
        'UNAUTHENTICATED',
      );
      const ok = await t.gql<MeData>(
        ME,
        {},
        { auth: key.auth, headers: { 'x-roomkey-tenant': a.slug } },
      );
      expect(ok.body.data?.me.tenant.id).toBe(a.id);
    });

    it('should answer UNAUTHENTICATED when the secret is wrong or the key id is unknown', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const wrong = `${key.secret.slice(0, -1)}${key.secret.endsWith('A') ? 'B' : 'A'}`;
      expect(wrong).not.toBe(key.secret);
      expectError(await meWith(basic(key.keyId, wrong)), 'UNAUTHENTICATED');
      expectError(
        await meWith(basic(`rk_${randomBytes(12).toString('hex')}`, key.secret)),
        'UNAUTHENTICATED',
      );
      expectError(await meWith(basic('rk_short', key.secret)), 'UNAUTHENTICATED');
    });

    it('should record lastUsedAt when the key is used', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const before = Date.now();
      expect((await meWith(key.auth)).body.errors).toBeUndefined();
      const [node] = (await listAll(tenant.owner.auth)).filter((k) => k.id === key.id);
      expect(node.lastUsedAt).not.toBeNull();
      expect(new Date(node.lastUsedAt!).getTime()).toBeGreaterThanOrEqual(before - 1000);
    });

    it('should answer UNAUTHENTICATED and list the key as EXPIRED when its expiry has passed', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<CreateData>(
        CREATE,
        {
          input: {
            name: 'expiring',
            role: 'ADMIN',
            expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
          },
        },
        { auth: tenant.owner.auth },
      );
      const { secret, apiKey } = r.body.data!.createApiKey;
      const auth = basic(apiKey.keyId, secret);
      expect((await meWith(auth)).body.data?.me.apiKey?.id).toBe(apiKey.id);

      await t.ds.query(
        `UPDATE api_key SET expires_at = now() - interval '1 minute' WHERE id = $1`,
        [apiKey.id],
      );
      // The edit stands in for time passing. Made behind Roomkey's back, it would reach the key
      // cache only at its TTL: tell the caches, as Roomkey's own writes do.
      await t.app.get(Caches).publish(null, { kind: 'api_key', id: apiKey.id });
      expectError(await meWith(auth), 'UNAUTHENTICATED');
      expectError(await t.gql(LIST, {}, { auth }), 'UNAUTHENTICATED');
      const [node] = (await listAll(tenant.owner.auth)).filter((k) => k.id === apiKey.id);
      expect(node.status).toBe('EXPIRED');
    });
  });

  describe('revokeApiKey', () => {
    it('should mark the key REVOKED and make it answer UNAUTHENTICATED when an OWNER revokes it', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      expect((await meWith(key.auth)).body.errors).toBeUndefined();
      const before = Date.now();
      const r = await t.gql<{ revokeApiKey: ApiKey }>(
        REVOKE,
        { id: key.id },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.revokeApiKey).toMatchObject({
        id: key.id,
        keyId: key.keyId,
        status: 'REVOKED',
      });
      expect(new Date(r.body.data!.revokeApiKey.revokedAt!).getTime()).toBeGreaterThanOrEqual(
        before - 1000,
      );
      expect(r.text).not.toContain(key.secret);

      expectError(await meWith(key.auth), 'UNAUTHENTICATED');
      const [node] = (await listAll(tenant.owner.auth)).filter((k) => k.id === key.id);
      expect(node.status).toBe('REVOKED');
    });

    it('should keep the first revocation time when a key is revoked twice', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      const first = await t.gql<{ revokeApiKey: ApiKey }>(
        REVOKE,
        { id: key.id },
        { auth: tenant.owner.auth },
      );
      await new Promise((resolve) => setTimeout(resolve, 20));
      const second = await t.gql<{ revokeApiKey: ApiKey }>(
        REVOKE,
        { id: key.id },
        { auth: tenant.owner.auth },
      );
      expect(second.body.errors).toBeUndefined();
      expect(second.body.data!.revokeApiKey.revokedAt).toBe(
        first.body.data!.revokeApiKey.revokedAt,
      );
      expect(second.body.data!.revokeApiKey.status).toBe('REVOKED');
    });

    it('should revoke the key itself when an API key revokes its own id', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const r = await t.gql<{ revokeApiKey: ApiKey }>(REVOKE, { id: key.id }, { auth: key.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.revokeApiKey.status).toBe('REVOKED');
      expectError(await meWith(key.auth), 'UNAUTHENTICATED');
    });

    it('should answer FORBIDDEN and leave the key working when an ADMIN revokes an OWNER key', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const ownerKey = await seedApiKey(t, tenant, MemberRole.OWNER);
      expectError(await t.gql(REVOKE, { id: ownerKey.id }, { auth: admin.auth }), 'FORBIDDEN');
      expect((await meWith(ownerKey.auth)).body.data?.me.role).toBe('OWNER');
    });

    it('should revoke the key when an ADMIN revokes an ADMIN key', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const r = await t.gql<{ revokeApiKey: ApiKey }>(REVOKE, { id: key.id }, { auth: admin.auth });
      expect(r.body.errors).toBeUndefined();
      expectError(await meWith(key.auth), 'UNAUTHENTICATED');
    });

    it('should answer FORBIDDEN and leave the key working when a MEMBER revokes a key', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      expectError(await t.gql(REVOKE, { id: key.id }, { auth: member.auth }), 'FORBIDDEN');
      expectError(await t.gql(REVOKE, { id: key.id }, { auth: key.auth }), 'FORBIDDEN');
      expect((await meWith(key.auth)).body.data?.me.role).toBe('MEMBER');
    });

    it('should answer UNAUTHENTICATED and leave the key working when the caller is anonymous', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      expectError(await t.gql(REVOKE, { id: key.id }), 'UNAUTHENTICATED');
      expect((await meWith(key.auth)).body.errors).toBeUndefined();
    });

    it('should answer NOT_FOUND and leave the key working when the key belongs to another tenant', async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const bKey = await seedApiKey(t, b, MemberRole.MEMBER);
      expectError(await t.gql(REVOKE, { id: bKey.id }, { auth: a.owner.auth }), 'NOT_FOUND');
      const rows = await t.ds.query<Array<{ revoked_at: Date | null }>>(
        'SELECT revoked_at FROM api_key WHERE id = $1',
        [bKey.id],
      );
      expect(rows).toEqual([{ revoked_at: null }]);
      expect((await meWith(bKey.auth)).body.data?.me.tenant.id).toBe(b.id);
    });

    it('should answer NOT_FOUND when the key id does not exist', async () => {
      const tenant = await seedTenant(t);
      expectError(
        await t.gql(REVOKE, { id: randomUUID() }, { auth: tenant.owner.auth }),
        'NOT_FOUND',
      );
    });

    it('should answer BAD_USER_INPUT when the key id is not a UUID', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      expectError(
        await t.gql(REVOKE, { id: key.keyId }, { auth: tenant.owner.auth }),
        'BAD_USER_INPUT',
      );
      expect((await meWith(key.auth)).body.errors).toBeUndefined();
    });
  });

  describe('apiKeys', () => {
    it('should list the keys when an ADMIN asks', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const key = await seedApiKey(t, tenant, MemberRole.OWNER);
      expect((await listAll(admin.auth)).map((k) => [k.id, k.role])).toEqual([[key.id, 'OWNER']]);
    });

    it('should answer FORBIDDEN when a MEMBER or a MEMBER API key asks', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      expectError(await t.gql(LIST, {}, { auth: member.auth }), 'FORBIDDEN');
      expectError(await t.gql(LIST, {}, { auth: key.auth }), 'FORBIDDEN');
    });

    it('should answer UNAUTHENTICATED when the caller is anonymous', async () => {
      expectError(await t.gql(LIST), 'UNAUTHENTICATED');
    });

    it("should list only the caller's tenant's keys when both tenants have keys", async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const aKey = await seedApiKey(t, a, MemberRole.MEMBER);
      await seedApiKey(t, b, MemberRole.MEMBER);
      await seedApiKey(t, b, MemberRole.ADMIN);
      expect((await listAll(a.owner.auth)).map((k) => k.id)).toEqual([aKey.id]);
    });

    describe('pagination', () => {
      let tenant: SeededTenant;
      /** Key ids in creation order; created_at is set one second apart, oldest first. */
      let created: string[];

      beforeAll(async () => {
        tenant = await seedTenant(t);
        created = [];
        for (let i = 0; i < 25; i++)
          created.push((await seedApiKey(t, tenant, MemberRole.MEMBER)).id);
        const base = Date.now() - 3_600_000;
        for (const [i, id] of created.entries()) {
          await t.ds.query('UPDATE api_key SET created_at = $2 WHERE id = $1', [
            id,
            new Date(base + i * 1000),
          ]);
        }
      });

      const page = (first: number | null, after: string | null): Promise<GqlResult<ListData>> =>
        t.gql<ListData>(LIST, { first, after }, { auth: tenant.owner.auth });

      it('should return all 25 keys newest first without duplicates when paging by 10 with endCursor', async () => {
        const seen: string[] = [];
        const sizes: number[] = [];
        const hasNext: boolean[] = [];
        let after: string | null = null;
        for (let i = 0; i < 3; i++) {
          const r: GqlResult<ListData> = await page(10, after);
          expect(r.body.errors).toBeUndefined();
          const conn = r.body.data!.apiKeys;
          expect(conn.nodes.map((n) => n.id)).toEqual(conn.edges.map((e) => e.node.id));
          expect(conn.pageInfo.endCursor).toBe(conn.edges.at(-1)!.cursor);
          seen.push(...conn.nodes.map((n) => n.id));
          sizes.push(conn.nodes.length);
          hasNext.push(conn.pageInfo.hasNextPage);
          after = conn.pageInfo.endCursor;
        }
        expect(sizes).toEqual([10, 10, 5]);
        expect(hasNext).toEqual([true, true, false]);
        expect(new Set(seen).size).toBe(25);
        expect(seen).toEqual([...created].reverse());
      });

      it('should page without gaps or duplicates when every key has the same creation time', async () => {
        const same = await seedTenant(t);
        const ids: string[] = [];
        for (let i = 0; i < 25; i++) ids.push((await seedApiKey(t, same, MemberRole.MEMBER)).id);
        await t.ds.query(
          `UPDATE api_key SET created_at = '2030-01-01T00:00:00.123Z' WHERE tenant_id = $1`,
          [same.id],
        );
        const seen: string[] = [];
        let after: string | null = null;
        for (let i = 0; i < 3; i++) {
          const r: GqlResult<ListData> = await t.gql<ListData>(
            LIST,
            { first: 10, after },
            { auth: same.owner.auth },
          );
          expect(r.body.errors).toBeUndefined();
          seen.push(...r.body.data!.apiKeys.nodes.map((n) => n.id));
          after = r.body.data!.apiKeys.pageInfo.endCursor;
        }
        expect(seen).toEqual([...ids].sort().reverse());
      });

      it('should return an empty last page when paging after the final cursor', async () => {
        const all = await page(25, null);
        const r = await page(10, all.body.data!.apiKeys.pageInfo.endCursor);
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data!.apiKeys).toEqual({
          edges: [],
          nodes: [],
          pageInfo: { hasNextPage: false, endCursor: null },
        });
      });

      it.each([
        ['0', 0, 1],
        ['negative', -5, 1],
        ['null (the default)', null, 20],
      ])('should clamp the page size when first is %s', async (_label, first, expected) => {
        const r = await page(first, null);
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data!.apiKeys.nodes).toHaveLength(expected);
        expect(r.body.data!.apiKeys.nodes[0].id).toBe(created[24]);
        expect(r.body.data!.apiKeys.pageInfo.hasNextPage).toBe(true);
      });

      it('should return at most 100 keys when first is 100000', async () => {
        const big = await seedTenant(t);
        for (let i = 0; i < 105; i++) await seedApiKey(t, big, MemberRole.MEMBER);
        const r = await t.gql<ListData>(LIST, { first: 100000 }, { auth: big.owner.auth });
        expect(r.body.errors).toBeUndefined();
        expect(r.body.data!.apiKeys.nodes).toHaveLength(100);
        expect(r.body.data!.apiKeys.pageInfo.hasNextPage).toBe(true);
        const rest = await t.gql<ListData>(
          LIST,
          { first: 100000, after: r.body.data!.apiKeys.pageInfo.endCursor },
          { auth: big.owner.auth },
        );
        expect(rest.body.data!.apiKeys.nodes).toHaveLength(5);
        expect(rest.body.data!.apiKeys.pageInfo.hasNextPage).toBe(false);
      });

      it.each([
        ['is garbage', 'garbage!!'],
        ['is base64 of something that is not JSON', Buffer.from('not json').toString('base64url')],
        [
          'has a non-uuid id',
          Buffer.from(JSON.stringify({ t: new Date().toISOString(), i: "1' OR '1'='1" })).toString(
            'base64url',
          ),
        ],
        [
          'has an invalid date',
          Buffer.from(JSON.stringify({ t: 'yesterday', i: randomUUID() })).toString('base64url'),
        ],
        ['is longer than 200 characters', 'A'.repeat(201)],
      ])('should answer BAD_USER_INPUT when the after cursor %s', async (_label, after) => {
        expectError(await page(10, after), 'BAD_USER_INPUT');
      });

      it('should answer BAD_USER_INPUT when first is not an Int', async () => {
        expectError(
          await t.gql(LIST, { first: 'ten' }, { auth: tenant.owner.auth }),
          'BAD_USER_INPUT',
        );
        expectError(
          await t.gql(LIST, { first: 2 ** 31 }, { auth: tenant.owner.auth }),
          'BAD_USER_INPUT',
        );
      });
    });
  });
});
