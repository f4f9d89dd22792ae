import { randomUUID } from 'node:crypto';
import { MemberRole } from '../src/common/auth/roles';
import { errorCode, type GqlResult, startTestApp, type TestApp } from './helpers/test-app';
import {
  seedApiKey,
  seedMember,
  seedTenant,
  type SeededTenant,
  type SeededUser,
} from './factories/tenancy';

/** docs/security.md S6: tenant A's principals can neither read nor change tenant B's rows. */

type SeededKey = Awaited<ReturnType<typeof seedApiKey>>;

const UPDATE_ROLE =
  'mutation ($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { id role } }';
const REMOVE = 'mutation ($id: ID!) { removeMember(memberId: $id) { id } }';
const REVOKE = 'mutation ($id: ID!) { revokeApiKey(id: $id) { id status } }';
const MEMBERS =
  '{ members(first: 100) { nodes { id role user { id email } } pageInfo { hasNextPage } } }';
const API_KEYS = '{ apiKeys(first: 100) { nodes { id keyId } pageInfo { hasNextPage } } }';
const WHO = '{ me { role tenant { id slug } } tenant { id slug } }';

type MembersData = {
  members: {
    nodes: Array<{ id: string; role: string; user: { id: string; email: string } }>;
    pageInfo: { hasNextPage: boolean };
  };
};
type ApiKeysData = {
  apiKeys: { nodes: Array<{ id: string; keyId: string }>; pageInfo: { hasNextPage: boolean } };
};
type WhoData = {
  me: { role: string; tenant: { id: string; slug: string } };
  tenant: { id: string; slug: string };
};

function expectCode(r: GqlResult, code: string): void {
  expect(r.body.errors?.length).toBeGreaterThan(0);
  expect(errorCode(r)).toBe(code);
  expect(r.body.data ?? null).toBeNull();
}

/** A different, well-formed v4 UUID: same shape as a real id, one hex digit changed. */
function neighbourOf(id: string): string {
  const last = id.at(-1) === '0' ? '1' : '0';
  return `${id.slice(0, -1)}${last}`;
}

describe('tenant isolation', () => {
  let t: TestApp;
  let a: SeededTenant;
  let b: SeededTenant;
  let aAdmin: SeededUser;
  let aKey: SeededKey;
  let bMember: SeededUser;
  let bAdmin: SeededUser;
  let bKey: SeededKey;
  let bSnapshot: unknown;

  /** Everything of tenant B that A's principals might try to change (last use excluded: B's key is used). */
  const snapshotB = async (): Promise<unknown> => ({
    tenant: await t.ds.query('SELECT id, slug, name, updated_at FROM tenant WHERE id = $1', [b.id]),
    members: await t.ds.query(
      'SELECT id, user_id, role, updated_at FROM membership WHERE tenant_id = $1 ORDER BY id',
      [b.id],
    ),
    keys: await t.ds.query(
      'SELECT id, key_id, role, revoked_at, expires_at FROM api_key WHERE tenant_id = $1 ORDER BY id',
      [b.id],
    ),
  });

  beforeAll(async () => {
    t = await startTestApp();
    a = await seedTenant(t);
    b = await seedTenant(t);
    aAdmin = await seedMember(t, a, MemberRole.ADMIN);
    await seedMember(t, a, MemberRole.MEMBER);
    aKey = await seedApiKey(t, a, MemberRole.ADMIN);
    bMember = await seedMember(t, b, MemberRole.MEMBER);
    bAdmin = await seedMember(t, b, MemberRole.ADMIN);
    bKey = await seedApiKey(t, b, MemberRole.ADMIN);
    await seedApiKey(t, b, MemberRole.MEMBER);
    bSnapshot = await snapshotB();
  });
  afterAll(() => t.close());

  const principals: Array<[string, () => string]> = [
    ["tenant A's OWNER", () => a.owner.auth],
    ["tenant A's ADMIN", () => aAdmin.auth],
    ['an ADMIN API key of tenant A', () => aKey.auth],
  ];

  describe.each(principals)('as %s', (_label, auth) => {
    it("should answer NOT_FOUND and change nothing when updating the role of tenant B's member", async () => {
      const r = await t.gql(
        UPDATE_ROLE,
        { input: { memberId: bMember.memberId, role: 'ADMIN' } },
        { auth: auth() },
      );
      expectCode(r, 'NOT_FOUND');
      const rows = await t.ds.query('SELECT role FROM membership WHERE id = $1', [
        bMember.memberId,
      ]);
      expect(rows).toEqual([{ role: 'MEMBER' }]);
    });

    it("should answer NOT_FOUND and change nothing when demoting tenant B's OWNER", async () => {
      const r = await t.gql(
        UPDATE_ROLE,
        { input: { memberId: b.owner.memberId, role: 'MEMBER' } },
        { auth: auth() },
      );
      expectCode(r, 'NOT_FOUND');
      const rows = await t.ds.query('SELECT role FROM membership WHERE id = $1', [
        b.owner.memberId,
      ]);
      expect(rows).toEqual([{ role: 'OWNER' }]);
    });

    it.each([
      ["tenant B's MEMBER", () => bMember.memberId],
      ["tenant B's ADMIN", () => bAdmin.memberId],
      ["tenant B's OWNER", () => b.owner.memberId],
    ])('should answer NOT_FOUND and keep the membership when removing %s', async (_who, id) => {
      const r = await t.gql(REMOVE, { id: id() }, { auth: auth() });
      expectCode(r, 'NOT_FOUND');
      const rows = await t.ds.query('SELECT tenant_id FROM membership WHERE id = $1', [id()]);
      expect(rows).toEqual([{ tenant_id: b.id }]);
    });

    it("should answer NOT_FOUND and leave the key working when revoking tenant B's API key", async () => {
      const r = await t.gql(REVOKE, { id: bKey.id }, { auth: auth() });
      expectCode(r, 'NOT_FOUND');
      const rows = await t.ds.query('SELECT revoked_at FROM api_key WHERE id = $1', [bKey.id]);
      expect(rows).toEqual([{ revoked_at: null }]);
      const still = await t.gql<WhoData>(WHO, {}, { auth: bKey.auth });
      expect(still.body.errors).toBeUndefined();
      expect(still.body.data?.tenant.slug).toBe(b.slug);
    });

    it("should list only tenant A's members when listing members", async () => {
      const r = await t.gql<MembersData>(MEMBERS, {}, { auth: auth() });
      expect(r.body.errors).toBeUndefined();
      const nodes = r.body.data?.members.nodes ?? [];
      expect(r.body.data?.members.pageInfo.hasNextPage).toBe(false);
      const ids = nodes.map((n) => n.id);
      expect(ids).toEqual(expect.arrayContaining([a.owner.memberId, aAdmin.memberId]));
      for (const bId of [b.owner.memberId, bMember.memberId, bAdmin.memberId])
        expect(ids).not.toContain(bId);
      const emails = nodes.map((n) => n.user.email);
      for (const e of [b.owner.email, bMember.email, bAdmin.email]) expect(emails).not.toContain(e);
      const aRows = await t.ds.query<Array<{ id: string }>>(
        'SELECT id FROM membership WHERE tenant_id = $1',
        [a.id],
      );
      expect([...ids].sort()).toEqual(aRows.map((x) => x.id).sort());
    });

    it("should list only tenant A's API keys when listing API keys", async () => {
      const r = await t.gql<ApiKeysData>(API_KEYS, {}, { auth: auth() });
      expect(r.body.errors).toBeUndefined();
      const ids = (r.body.data?.apiKeys.nodes ?? []).map((n) => n.id);
      expect(ids).toContain(aKey.id);
      const bRows = await t.ds.query<Array<{ id: string }>>(
        'SELECT id FROM api_key WHERE tenant_id = $1',
        [b.id],
      );
      expect(bRows.length).toBeGreaterThan(0);
      for (const row of bRows) expect(ids).not.toContain(row.id);
      const aRows = await t.ds.query<Array<{ id: string }>>(
        'SELECT id FROM api_key WHERE tenant_id = $1',
        [a.id],
      );
      expect([...ids].sort()).toEqual(aRows.map((x) => x.id).sort());
    });

    it('should show tenant A when asking for me and tenant', async () => {
      const r = await t.gql<WhoData>(WHO, {}, { auth: auth() });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data?.me.tenant).toEqual({ id: a.id, slug: a.slug });
      expect(r.body.data?.tenant).toEqual({ id: a.id, slug: a.slug });
    });

    it.each([
      ['a random UUID', () => randomUUID()],
      ["a UUID one digit away from tenant B's id", () => neighbourOf(bMember.memberId)],
      ["a UUID one digit away from tenant A's own id", () => neighbourOf(aAdmin.memberId)],
    ])('should answer NOT_FOUND when member mutations get %s', async (_what, id) => {
      expectCode(
        await t.gql(UPDATE_ROLE, { input: { memberId: id(), role: 'MEMBER' } }, { auth: auth() }),
        'NOT_FOUND',
      );
      expectCode(await t.gql(REMOVE, { id: id() }, { auth: auth() }), 'NOT_FOUND');
    });

    it.each([
      ['a random UUID', () => randomUUID()],
      ["a UUID one digit away from tenant B's key id", () => neighbourOf(bKey.id)],
    ])('should answer NOT_FOUND when revokeApiKey gets %s', async (_what, id) => {
      expectCode(await t.gql(REVOKE, { id: id() }, { auth: auth() }), 'NOT_FOUND');
    });

    it.each([
      ['a word', 'not-a-uuid'],
      ['an empty string', ''],
      ['an SQL fragment', "' OR '1'='1"],
      ['a UUID with trailing text', `${randomUUID()}x`],
      ['a UUID without hyphens', randomUUID().replace(/-/g, '')],
      ['a very long string', 'a'.repeat(5000)],
    ])('should answer BAD_USER_INPUT when an id is %s', async (_what, id) => {
      expectCode(
        await t.gql(UPDATE_ROLE, { input: { memberId: id, role: 'MEMBER' } }, { auth: auth() }),
        'BAD_USER_INPUT',
      );
      expectCode(await t.gql(REMOVE, { id }, { auth: auth() }), 'BAD_USER_INPUT');
      expectCode(await t.gql(REVOKE, { id }, { auth: auth() }), 'BAD_USER_INPUT');
    });
  });

  it("should answer UNAUTHENTICATED when tenant A's API key names tenant B in X-Roomkey-Tenant", async () => {
    const r = await t.gql(WHO, {}, { auth: aKey.auth, headers: { 'X-Roomkey-Tenant': b.slug } });
    expectCode(r, 'UNAUTHENTICATED');
    const own = await t.gql<WhoData>(
      WHO,
      {},
      { auth: aKey.auth, headers: { 'X-Roomkey-Tenant': a.slug } },
    );
    expect(own.body.data?.tenant.slug).toBe(a.slug);
  });

  it("should answer UNAUTHENTICATED when tenant A's ADMIN names tenant B in X-Roomkey-Tenant", async () => {
    expectCode(
      await t.gql(WHO, {}, { auth: aAdmin.auth, headers: { 'X-Roomkey-Tenant': b.slug } }),
      'UNAUTHENTICATED',
    );
  });

  it("should leave every row of tenant B unchanged when tenant A's principals have tried to change them", async () => {
    expect(await snapshotB()).toEqual(bSnapshot);
  });
});
