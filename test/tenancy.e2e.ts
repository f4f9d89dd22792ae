import { randomInt } from 'node:crypto';
import { MemberRole } from '../src/common/auth/roles';
import { seedApiKey, seedMember, seedTenant, TEST_PASSWORD } from './factories/tenancy';
import { counts, expectError, uniq } from './helpers/assertions';
import {
  ADMIN_EMAIL,
  ADMIN_TENANT,
  basic,
  type GqlOptions,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

const ME = `{ me { actorType authMethod role isPlatformAdmin
  user { id email displayName isPlatformAdmin } apiKey { id keyId role status } tenant { id slug name } } }`;
const TENANT = '{ tenant { id slug name createdAt } }';
const CREATE_TENANT = `mutation($input: CreateTenantInput!) {
  createTenant(input: $input) { id slug name createdAt } }`;

interface MeData {
  me: {
    actorType: string;
    authMethod: string;
    role: string;
    isPlatformAdmin: boolean;
    user: { id: string; email: string; displayName: string; isPlatformAdmin: boolean } | null;
    apiKey: { id: string; keyId: string; role: string; status: string } | null;
    tenant: { id: string; slug: string; name: string };
  };
}
interface TenantData {
  tenant: { id: string; slug: string; name: string; createdAt: string };
}
interface CreateTenantData {
  createTenant: { id: string; slug: string; name: string; createdAt: string };
}

describe('tenancy (me, tenant, createTenant)', () => {
  let t: TestApp;
  /** The bootstrap admin, pinned to the demo tenant (it may own more tenants after some tests). */
  let admin: GqlOptions;

  beforeAll(async () => {
    t = await startTestApp();
    admin = { auth: t.adminAuth, headers: { 'x-roomkey-tenant': ADMIN_TENANT } };
  });
  afterAll(() => t.close());

  const ownerIdOf = async (tenantId: string): Promise<string[]> =>
    (
      await t.ds.query<Array<{ user_id: string }>>(
        `SELECT user_id FROM membership WHERE tenant_id = $1 AND role = 'OWNER' ORDER BY user_id`,
        [tenantId],
      )
    ).map((r) => r.user_id);

  describe('me', () => {
    it('should return the admin user, demo tenant and OWNER role when the bootstrap admin signs in with a password', async () => {
      const r = await t.gql<MeData>(ME, {}, admin);
      expect(r.body.errors).toBeUndefined();
      const me = r.body.data!.me;
      expect(me.actorType).toBe('USER');
      expect(me.authMethod).toBe('BASIC_PASSWORD');
      expect(me.role).toBe('OWNER');
      expect(me.isPlatformAdmin).toBe(true);
      expect(me.user?.email).toBe(ADMIN_EMAIL);
      expect(me.user?.isPlatformAdmin).toBe(true);
      expect(me.apiKey).toBeNull();
      expect(me.tenant.slug).toBe(ADMIN_TENANT);
    });

    it('should return the API key and no user when the caller authenticates with an API key', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<MeData>(ME, {}, { auth: key.auth });
      expect(r.body.errors).toBeUndefined();
      const me = r.body.data!.me;
      expect(me.actorType).toBe('API_KEY');
      expect(me.authMethod).toBe('BASIC_API_KEY');
      expect(me.role).toBe('MEMBER');
      expect(me.isPlatformAdmin).toBe(false);
      expect(me.user).toBeNull();
      expect(me.apiKey).toEqual({ id: key.id, keyId: key.keyId, role: 'MEMBER', status: 'ACTIVE' });
      expect(me.tenant).toEqual({
        id: tenant.id,
        slug: tenant.slug,
        name: `Tenant ${tenant.slug}`,
      });
    });

    it('should return role MEMBER and no platform-admin flag when a MEMBER signs in', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<MeData>(ME, {}, { auth: member.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.me.role).toBe('MEMBER');
      expect(r.body.data!.me.isPlatformAdmin).toBe(false);
      expect(r.body.data!.me.user?.id).toBe(member.id);
      expect(r.body.data!.me.tenant.id).toBe(tenant.id);
    });

    it('should sign the user in when the email is given in a different case', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<MeData>(
        ME,
        {},
        { auth: basic(tenant.owner.email.toUpperCase(), TEST_PASSWORD) },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.me.user?.id).toBe(tenant.owner.id);
    });

    it('should answer UNAUTHENTICATED when no Authorization header is sent', async () => {
      expectError(await t.gql(ME), 'UNAUTHENTICATED');
    });

    it.each([
      ['the password is wrong', () => basic(ADMIN_EMAIL, 'wrong-password-for-sure')],
      ['the email is unknown', () => basic(`nobody-${uniq()}@nowhere.test`, TEST_PASSWORD)],
      ['the Basic header is not base64', () => 'Basic !!!not-base64!!!'],
      [
        'the Basic credentials have no colon',
        () => `Basic ${Buffer.from('no-colon').toString('base64')}`,
      ],
      ['the scheme is not Basic', () => 'Bearer abc.def.ghi'],
      ['the API key id is unknown', () => basic(`rk_${'0'.repeat(24)}`, 'x'.repeat(43))],
    ])('should answer UNAUTHENTICATED when %s', async (_label, auth) => {
      expectError(await t.gql(ME, {}, { auth: auth() }), 'UNAUTHENTICATED');
    });

    it('should answer UNAUTHENTICATED when X-Roomkey-Tenant names a tenant the user does not belong to', async () => {
      const other = await seedTenant(t);
      expectError(
        await t.gql(ME, {}, { auth: t.adminAuth, headers: { 'x-roomkey-tenant': other.slug } }),
        'UNAUTHENTICATED',
      );
    });

    it('should answer UNAUTHENTICATED when X-Roomkey-Tenant is not a valid slug', async () => {
      expectError(
        await t.gql(ME, {}, { auth: t.adminAuth, headers: { 'x-roomkey-tenant': 'Not A Slug' } }),
        'UNAUTHENTICATED',
      );
    });
  });

  describe('tenant', () => {
    it("should return the caller's own tenant when an OWNER asks", async () => {
      const tenant = await seedTenant(t);
      await seedTenant(t); // another tenant that must not be returned
      const r = await t.gql<TenantData>(TENANT, {}, { auth: tenant.owner.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.tenant).toMatchObject({
        id: tenant.id,
        slug: tenant.slug,
        name: `Tenant ${tenant.slug}`,
      });
      expect(Number.isNaN(Date.parse(r.body.data!.tenant.createdAt))).toBe(false);
    });

    it("should return the caller's own tenant when a MEMBER asks", async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<TenantData>(TENANT, {}, { auth: member.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.tenant.id).toBe(tenant.id);
    });

    it("should return the key's tenant when an API key asks", async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<TenantData>(TENANT, {}, { auth: key.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.tenant.slug).toBe(tenant.slug);
    });

    it('should answer UNAUTHENTICATED when the caller is anonymous', async () => {
      expectError(await t.gql(TENANT), 'UNAUTHENTICATED');
    });
  });

  describe('createTenant', () => {
    it('should create a tenant with a new passwordless OWNER when the platform admin passes a new ownerEmail', async () => {
      const before = await counts(t);
      const slug = `acme-${uniq()}`;
      const ownerEmail = `boss-${uniq()}@acme.test`;
      const r = await t.gql<CreateTenantData>(
        CREATE_TENANT,
        { input: { slug, name: 'Acme', ownerEmail } },
        admin,
      );
      expect(r.body.errors).toBeUndefined();
      const created = r.body.data!.createTenant;
      expect(created).toMatchObject({ slug, name: 'Acme' });

      const after = await counts(t);
      expect(after).toEqual({
        ...before,
        tenant: before.tenant + 1,
        app_user: before.app_user + 1,
        membership: before.membership + 1,
      });
      const [user] = await t.ds.query<
        Array<{ id: string; password_hash: string | null; is_platform_admin: boolean }>
      >('SELECT id, password_hash, is_platform_admin FROM app_user WHERE email = $1', [ownerEmail]);
      expect(user.password_hash).toBeNull();
      expect(user.is_platform_admin).toBe(false);
      expect(await ownerIdOf(created.id)).toEqual([user.id]);
    });

    it('should make the platform admin the OWNER when ownerEmail is omitted', async () => {
      const slug = `mine-${uniq()}`;
      const r = await t.gql<CreateTenantData>(
        CREATE_TENANT,
        { input: { slug, name: 'Mine' } },
        admin,
      );
      expect(r.body.errors).toBeUndefined();
      const me = await t.gql<MeData>(
        ME,
        {},
        { auth: t.adminAuth, headers: { 'x-roomkey-tenant': slug } },
      );
      expect(me.body.errors).toBeUndefined();
      expect(me.body.data!.me.role).toBe('OWNER');
      expect(me.body.data!.me.tenant.id).toBe(r.body.data!.createTenant.id);
      expect(await ownerIdOf(r.body.data!.createTenant.id)).toEqual([me.body.data!.me.user!.id]);
    });

    it('should reuse the existing user when ownerEmail differs from it only in letter case', async () => {
      const existing = await seedTenant(t);
      const before = await counts(t);
      const slug = `reuse-${uniq()}`;
      const result = await t.gql<CreateTenantData>(
        CREATE_TENANT,
        { input: { slug, name: 'Reuse', ownerEmail: existing.owner.email.toUpperCase() } },
        admin,
      );
      expect(result.body.errors).toBeUndefined();
      const after = await counts(t);
      expect(after.app_user).toBe(before.app_user);
      expect(after.tenant).toBe(before.tenant + 1);
      expect(await ownerIdOf(result.body.data!.createTenant.id)).toEqual([existing.owner.id]);

      // The owner now belongs to two tenants: they must pick one, and can pick the new one.
      expectError(await t.gql(ME, {}, { auth: existing.owner.auth }), 'UNAUTHENTICATED');
      const me = await t.gql<MeData>(
        ME,
        {},
        { auth: existing.owner.auth, headers: { 'x-roomkey-tenant': slug } },
      );
      expect(me.body.errors).toBeUndefined();
      expect(me.body.data!.me.role).toBe('OWNER');
      expect(me.body.data!.me.tenant.slug).toBe(slug);
    });

    it('should answer FORBIDDEN and create nothing when a normal OWNER calls it', async () => {
      const tenant = await seedTenant(t);
      const before = await counts(t);
      const slug = `nope-${uniq()}`;
      const r = await t.gql(
        CREATE_TENANT,
        { input: { slug, name: 'Nope', ownerEmail: `x-${uniq()}@x.test` } },
        { auth: tenant.owner.auth },
      );
      expectError(r, 'FORBIDDEN');
      expect(await counts(t)).toEqual(before);
    });

    it('should answer FORBIDDEN and create nothing when an OWNER API key calls it', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.OWNER);
      const before = await counts(t);
      const r = await t.gql(
        CREATE_TENANT,
        { input: { slug: `nope-${uniq()}`, name: 'Nope', ownerEmail: `x-${uniq()}@x.test` } },
        { auth: key.auth },
      );
      expectError(r, 'FORBIDDEN');
      expect(await counts(t)).toEqual(before);
    });

    it('should answer UNAUTHENTICATED and create nothing when the caller is anonymous', async () => {
      const before = await counts(t);
      const r = await t.gql(CREATE_TENANT, {
        input: { slug: `anon-${uniq()}`, name: 'Anon', ownerEmail: `x-${uniq()}@x.test` },
      });
      expectError(r, 'UNAUTHENTICATED');
      expect(await counts(t)).toEqual(before);
    });

    it('should answer CONFLICT and create nothing, not even the new owner, when the slug is taken', async () => {
      const existing = await seedTenant(t);
      const before = await counts(t);
      const ownerEmail = `dup-${uniq()}@dup.test`;
      const r = await t.gql(
        CREATE_TENANT,
        { input: { slug: existing.slug, name: 'Dup', ownerEmail } },
        admin,
      );
      expectError(r, 'CONFLICT');
      expect(await counts(t)).toEqual(before);
      expect(await t.ds.query('SELECT id FROM app_user WHERE email = $1', [ownerEmail])).toEqual(
        [],
      );
    });

    it.each([
      ['is too short (2 characters)', 'ab'],
      ['has an upper-case letter', 'Abc'],
      ['starts with a hyphen', '-abc'],
      ['ends with a hyphen', 'abc-'],
      ['has an underscore', 'a_b'],
      ['is 41 characters long', 'a'.repeat(41)],
      ['has a space', 'ab c'],
      ['has a non-ASCII letter', 'café'],
      ['has a Cyrillic look-alike letter', '\u0430bc'],
      ['has a zero-width space', 'ab\u200bc'],
      ['is empty', ''],
    ])('should answer BAD_USER_INPUT and create nothing when the slug %s', async (_label, slug) => {
      const before = await counts(t);
      const r = await t.gql(
        CREATE_TENANT,
        { input: { slug, name: 'Bad slug', ownerEmail: `bad-${uniq()}@bad.test` } },
        admin,
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
      expect(await t.ds.query('SELECT id FROM tenant WHERE slug = $1', [slug])).toEqual([]);
    });

    it.each([
      ['is exactly 3 characters long', () => uniq().slice(0, 3), 3],
      ['is exactly 40 characters long', () => `${uniq()}${'x'.repeat(32)}`, 40],
      ['has inner hyphens', () => `a-${uniq()}-b-c`, 14],
      ['has a double inner hyphen', () => `a--${uniq()}`, 11],
      ['has only digits', () => String(randomInt(100_000_000, 999_999_999)), 9],
    ])('should create the tenant when the slug %s', async (_label, makeSlug, length) => {
      const slug = makeSlug();
      expect(slug).toHaveLength(length);
      const r = await t.gql<CreateTenantData>(
        CREATE_TENANT,
        { input: { slug, name: 'Edge', ownerEmail: `edge-${uniq()}@edge.test` } },
        admin,
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.createTenant.slug).toBe(slug);
      const rows = await t.ds.query<Array<{ slug: string }>>(
        'SELECT slug FROM tenant WHERE id = $1',
        [r.body.data!.createTenant.id],
      );
      expect(rows).toEqual([{ slug }]);
    });

    it('should store the name trimmed when it has surrounding spaces', async () => {
      const r = await t.gql<CreateTenantData>(
        CREATE_TENANT,
        {
          input: {
            slug: `trim-${uniq()}`,
            name: '  Acme Corp  ',
            ownerEmail: `trim-${uniq()}@trim.test`,
          },
        },
        admin,
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.createTenant.name).toBe('Acme Corp');
    });

    it.each([
      ['is empty', ''],
      ['is only spaces', '   '],
      ['is 201 characters long', 'n'.repeat(201)],
      ['contains a control character', 'Acme\u0007Corp'],
    ])('should answer BAD_USER_INPUT and create nothing when the name %s', async (_label, name) => {
      const before = await counts(t);
      const r = await t.gql(
        CREATE_TENANT,
        { input: { slug: `name-${uniq()}`, name, ownerEmail: `n-${uniq()}@n.test` } },
        admin,
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
    });

    it.each([['not-an-email'], ['a@b'], ['two@@at.test'], ['spa ce@x.test']])(
      'should answer BAD_USER_INPUT and create nothing when ownerEmail is %s',
      async (ownerEmail) => {
        const before = await counts(t);
        const r = await t.gql(
          CREATE_TENANT,
          { input: { slug: `mail-${uniq()}`, name: 'Mail', ownerEmail } },
          admin,
        );
        expectError(r, 'BAD_USER_INPUT');
        expect(await counts(t)).toEqual(before);
      },
    );

    it.each([
      ['isPlatformAdmin', 'isPlatformAdmin: true'],
      ['id', 'id: "00000000-0000-4000-8000-000000000000"'],
      ['ownerId', 'ownerId: "00000000-0000-4000-8000-000000000000"'],
    ])(
      'should answer BAD_USER_INPUT and create nothing when the input literal has an unknown %s field',
      async (_label, extra) => {
        const before = await counts(t);
        const slug = `lit-${uniq()}`;
        const r = await t.gql(
          `mutation { createTenant(input: { slug: "${slug}", name: "Lit", ownerEmail: "lit-${uniq()}@lit.test", ${extra} }) { id } }`,
          {},
          admin,
        );
        expectError(r, 'BAD_USER_INPUT');
        expect(await counts(t)).toEqual(before);
      },
    );

    it('should answer BAD_USER_INPUT and create nothing when createTenant gets an unknown tenantId argument', async () => {
      const other = await seedTenant(t);
      const before = await counts(t);
      const r = await t.gql(
        `mutation { createTenant(input: { slug: "arg-${uniq()}", name: "Arg" }, tenantId: "${other.id}") { id } }`,
        {},
        admin,
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
    });

    it.each([
      [
        'tenantId',
        (slug: string): unknown => ({
          slug,
          name: 'Var',
          tenantId: '00000000-0000-4000-8000-000000000000',
        }),
      ],
      [
        'isPlatformAdmin',
        (slug: string): unknown => ({ slug, name: 'Var', isPlatformAdmin: true }),
      ],
      [
        '__proto__',
        (slug: string): unknown =>
          JSON.parse(`{"slug":"${slug}","name":"Var","__proto__":{"isPlatformAdmin":true}}`),
      ],
    ])(
      'should answer BAD_USER_INPUT and create nothing when the input variable has an extra %s key',
      async (label, makeInput) => {
        const before = await counts(t);
        const slug = `var-${uniq()}`;
        const r = await t.gql(CREATE_TENANT, { input: makeInput(slug) }, admin);
        expectError(r, 'BAD_USER_INPUT');
        expect(r.body.errors![0].message).toContain(label);
        expect(await counts(t)).toEqual(before);
        expect(await t.ds.query('SELECT id FROM tenant WHERE slug = $1', [slug])).toEqual([]);
      },
    );

    it('should answer BAD_USER_INPUT and create nothing when the required slug is missing', async () => {
      const before = await counts(t);
      const r = await t.gql(CREATE_TENANT, { input: { name: 'No slug' } }, admin);
      expectError(r, 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
    });
  });
});
