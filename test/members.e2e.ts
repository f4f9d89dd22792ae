import { randomUUID } from 'node:crypto';
import { MemberRole } from '../src/common/auth/roles';
import {
  seedApiKey,
  seedMember,
  seedTenant,
  type SeededTenant,
  TEST_PASSWORD,
} from './factories/tenancy';
import { counts, expectError, uniq } from './helpers/assertions';
import { basic, type GqlResult, startTestApp, type TestApp } from './helpers/test-app';

const MEMBER_FIELDS = 'id role createdAt user { id email displayName isPlatformAdmin }';
const MEMBERS = `query($first: Int, $after: String) { members(first: $first, after: $after) {
  edges { cursor node { ${MEMBER_FIELDS} } } nodes { id } pageInfo { hasNextPage endCursor } } }`;
const ADD = `mutation($input: AddMemberInput!) { addMember(input: $input) { ${MEMBER_FIELDS} } }`;
const UPDATE = `mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { ${MEMBER_FIELDS} } }`;
const REMOVE = `mutation($id: ID!) { removeMember(memberId: $id) { ${MEMBER_FIELDS} } }`;
const ME = '{ me { role user { id email } tenant { id slug } } }';

interface Member {
  id: string;
  role: string;
  createdAt: string;
  user: { id: string; email: string; displayName: string; isPlatformAdmin: boolean };
}
interface MembersData {
  members: {
    edges: Array<{ cursor: string; node: Member }>;
    nodes: Array<{ id: string }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface MeData {
  me: {
    role: string;
    user: { id: string; email: string } | null;
    tenant: { id: string; slug: string };
  };
}

describe('members (members, addMember, updateMemberRole, removeMember)', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => t.close());

  const roleOf = async (memberId: string): Promise<string | undefined> =>
    (
      await t.ds.query<Array<{ role: string }>>('SELECT role FROM membership WHERE id = $1', [
        memberId,
      ])
    )[0]?.role;
  const ownerCount = async (tenant: SeededTenant): Promise<number> =>
    (
      await t.ds.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM membership WHERE tenant_id = $1 AND role = 'OWNER'`,
        [tenant.id],
      )
    )[0].n;
  const passwordHashOf = async (email: string): Promise<string | null | undefined> =>
    (
      await t.ds.query<Array<{ password_hash: string | null }>>(
        'SELECT password_hash FROM app_user WHERE email = $1',
        [email],
      )
    )[0]?.password_hash;

  describe('members', () => {
    it('should list every member newest first with user details when an OWNER asks', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<MembersData>(MEMBERS, {}, { auth: tenant.owner.auth });
      expect(r.body.errors).toBeUndefined();
      const { edges, nodes, pageInfo } = r.body.data!.members;
      expect(edges.map((e) => [e.node.id, e.node.role, e.node.user.email])).toEqual([
        [member.memberId, 'MEMBER', member.email],
        [admin.memberId, 'ADMIN', admin.email],
        [tenant.owner.memberId, 'OWNER', tenant.owner.email],
      ]);
      expect(nodes.map((n) => n.id)).toEqual([
        member.memberId,
        admin.memberId,
        tenant.owner.memberId,
      ]);
      expect(edges[0].node.user).toMatchObject({ id: member.id, isPlatformAdmin: false });
      expect(pageInfo).toEqual({ hasNextPage: false, endCursor: edges[2].cursor });
    });

    it('should list the members when an ADMIN asks', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const r = await t.gql<MembersData>(MEMBERS, {}, { auth: admin.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.members.nodes.map((n) => n.id).sort()).toEqual(
        [admin.memberId, tenant.owner.memberId].sort(),
      );
    });

    it('should list the members when an ADMIN API key asks', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const r = await t.gql<MembersData>(MEMBERS, {}, { auth: key.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.members.nodes.map((n) => n.id)).toEqual([tenant.owner.memberId]);
    });

    it('should answer FORBIDDEN when a MEMBER asks', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      expectError(await t.gql(MEMBERS, {}, { auth: member.auth }), 'FORBIDDEN');
    });

    it('should answer FORBIDDEN when a MEMBER API key asks', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
      expectError(await t.gql(MEMBERS, {}, { auth: key.auth }), 'FORBIDDEN');
    });

    it('should answer UNAUTHENTICATED when the caller is anonymous', async () => {
      expectError(await t.gql(MEMBERS), 'UNAUTHENTICATED');
    });

    it("should not list another tenant's members when both tenants have members", async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const bMember = await seedMember(t, b, MemberRole.MEMBER);
      const r = await t.gql<MembersData>(MEMBERS, { first: 100 }, { auth: a.owner.auth });
      expect(r.body.errors).toBeUndefined();
      const ids = r.body.data!.members.nodes.map((n) => n.id);
      expect(ids).toEqual([a.owner.memberId]);
      expect(ids).not.toContain(bMember.memberId);
      expect(ids).not.toContain(b.owner.memberId);
    });

    it('should page through every member exactly once when paging with first: 2 and endCursor', async () => {
      const tenant = await seedTenant(t);
      const added: string[] = [tenant.owner.memberId];
      for (let i = 0; i < 4; i++)
        added.push((await seedMember(t, tenant, MemberRole.MEMBER)).memberId);
      const seen: string[] = [];
      const hasNext: boolean[] = [];
      let after: string | null = null;
      for (let page = 0; page < 3; page++) {
        const r: GqlResult<MembersData> = await t.gql<MembersData>(
          MEMBERS,
          { first: 2, after },
          { auth: tenant.owner.auth },
        );
        expect(r.body.errors).toBeUndefined();
        seen.push(...r.body.data!.members.nodes.map((n) => n.id));
        hasNext.push(r.body.data!.members.pageInfo.hasNextPage);
        after = r.body.data!.members.pageInfo.endCursor;
      }
      expect(seen).toEqual([...added].reverse());
      expect(hasNext).toEqual([true, true, false]);
    });

    it('should return one member when first is 0', async () => {
      const tenant = await seedTenant(t);
      await seedMember(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<MembersData>(MEMBERS, { first: 0 }, { auth: tenant.owner.auth });
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.members.nodes).toHaveLength(1);
      expect(r.body.data!.members.pageInfo.hasNextPage).toBe(true);
    });

    it.each([
      ['is not base64 JSON', 'garbage!!'],
      [
        'has a non-uuid id',
        Buffer.from(JSON.stringify({ t: new Date().toISOString(), i: 'x' })).toString('base64url'),
      ],
      [
        'has an invalid date',
        Buffer.from(JSON.stringify({ t: 'nope', i: randomUUID() })).toString('base64url'),
      ],
      ['is longer than 200 characters', 'a'.repeat(201)],
    ])('should answer BAD_USER_INPUT when the after cursor %s', async (_label, after) => {
      const tenant = await seedTenant(t);
      expectError(
        await t.gql(MEMBERS, { first: 5, after }, { auth: tenant.owner.auth }),
        'BAD_USER_INPUT',
      );
    });
  });

  describe('addMember', () => {
    it('should create the user and membership and let the user sign in when an OWNER adds a new email with a password', async () => {
      const tenant = await seedTenant(t);
      const before = await counts(t);
      const email = `new-${uniq()}@add.test`;
      const password = 'a-fine-password-123';
      const r = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email, role: 'ADMIN', password, displayName: 'New Person' } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.addMember).toMatchObject({
        role: 'ADMIN',
        user: { email, displayName: 'New Person', isPlatformAdmin: false },
      });
      expect(await counts(t)).toEqual({
        ...before,
        app_user: before.app_user + 1,
        membership: before.membership + 1,
      });
      expect(await roleOf(r.body.data!.addMember.id)).toBe('ADMIN');

      const me = await t.gql<MeData>(ME, {}, { auth: basic(email, password) });
      expect(me.body.errors).toBeUndefined();
      expect(me.body.data!.me).toEqual({
        role: 'ADMIN',
        user: { id: r.body.data!.addMember.user.id, email },
        tenant: { id: tenant.id, slug: tenant.slug },
      });
    });

    it('should default the display name to the local part when none is given', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email: `carol-${uniq()}@add.test`, role: 'MEMBER' } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.addMember.user.displayName).toBe(
        r.body.data!.addMember.user.email.split('@')[0],
      );
    });

    it('should lower-case the email and answer CONFLICT when the same address is added again in another case', async () => {
      const tenant = await seedTenant(t);
      const local = `bob-${uniq()}`;
      const first = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email: `${local.toUpperCase()}@X.test`, role: 'MEMBER' } },
        { auth: tenant.owner.auth },
      );
      expect(first.body.errors).toBeUndefined();
      expect(first.body.data!.addMember.user.email).toBe(`${local}@x.test`);

      const before = await counts(t);
      const again = await t.gql(
        ADD,
        { input: { email: `${local}@x.test`, role: 'ADMIN' } },
        { auth: tenant.owner.auth },
      );
      expectError(again, 'CONFLICT');
      expect(await counts(t)).toEqual(before);
      expect(await roleOf(first.body.data!.addMember.id)).toBe('MEMBER');
    });

    it('should create a passwordless user who cannot sign in when no password is given', async () => {
      const tenant = await seedTenant(t);
      const email = `nopass-${uniq()}@add.test`;
      const r = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email, role: 'MEMBER' } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(await passwordHashOf(email)).toBeNull();
      expectError(await t.gql(ME, {}, { auth: basic(email, TEST_PASSWORD) }), 'UNAUTHENTICATED');
    });

    it('should reuse the existing user when the email already has an account in another tenant', async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const before = await counts(t);
      const r = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email: b.owner.email.toUpperCase(), role: 'MEMBER' } },
        { auth: a.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.addMember.user.id).toBe(b.owner.id);
      expect(await counts(t)).toEqual({ ...before, membership: before.membership + 1 });
      const me = await t.gql<MeData>(
        ME,
        {},
        { auth: b.owner.auth, headers: { 'x-roomkey-tenant': a.slug } },
      );
      expect(me.body.errors).toBeUndefined();
      expect(me.body.data!.me.role).toBe('MEMBER');
    });

    it('should answer CONFLICT and change nothing when a password is given for an existing account', async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const hashBefore = await passwordHashOf(b.owner.email);
      const before = await counts(t);
      const r = await t.gql(
        ADD,
        { input: { email: b.owner.email, role: 'MEMBER', password: 'attacker-chosen-password' } },
        { auth: a.owner.auth },
      );
      expectError(r, 'CONFLICT');
      expect(await counts(t)).toEqual(before);
      expect(await passwordHashOf(b.owner.email)).toBe(hashBefore);
      expectError(
        await t.gql(ME, {}, { auth: basic(b.owner.email, 'attacker-chosen-password') }),
        'UNAUTHENTICATED',
      );
      const me = await t.gql<MeData>(ME, {}, { auth: b.owner.auth });
      expect(me.body.data?.me.tenant.id).toBe(b.id);
    });

    it('should answer CONFLICT when a password is given for an email that is already a member', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const before = await counts(t);
      expectError(
        await t.gql(
          ADD,
          { input: { email: member.email, role: 'MEMBER', password: 'another-password-1' } },
          { auth: tenant.owner.auth },
        ),
        'CONFLICT',
      );
      expect(await counts(t)).toEqual(before);
    });

    it.each([
      ['has 11 characters', 'elevenchars'],
      ['has 1025 characters', 'p'.repeat(1025)],
      ['has 11 code points but 12 UTF-16 units', `\u{1F600}${'x'.repeat(10)}`],
      ['has 12 code points only before NFC normalisation', 'e\u0301'.repeat(6)],
      ['is empty', ''],
    ])(
      'should answer BAD_USER_INPUT and create nothing when the password %s',
      async (_label, password) => {
        const tenant = await seedTenant(t);
        const email = `weak-${uniq()}@add.test`;
        const before = await counts(t);
        const r = await t.gql(
          ADD,
          { input: { email, role: 'MEMBER', password } },
          { auth: tenant.owner.auth },
        );
        expectError(r, 'BAD_USER_INPUT');
        expect(await counts(t)).toEqual(before);
        expect(await passwordHashOf(email)).toBeUndefined();
      },
    );

    it.each([
      ['exactly 12 characters', 'twelve-chars'],
      ['exactly 1024 characters', `${'p'.repeat(1020)}-end`],
      ['12 code points with an astral character', `\u{1F600}${'y'.repeat(11)}`],
      ['12 characters with colons inside', 'pass:word:12'],
    ])('should create a user who can sign in when the password is %s', async (_label, password) => {
      expect([...password]).toHaveLength(password.length > 100 ? 1024 : 12);
      const tenant = await seedTenant(t);
      const email = `ok-${uniq()}@add.test`;
      const r = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email, role: 'MEMBER', password } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      const me = await t.gql<MeData>(ME, {}, { auth: basic(email, password) });
      expect(me.body.errors).toBeUndefined();
      expect(me.body.data!.me.user?.id).toBe(r.body.data!.addMember.user.id);
      expectError(await t.gql(ME, {}, { auth: basic(email, `${password}x`) }), 'UNAUTHENTICATED');
    });

    it('should let the user sign in with the NFC form when the password was set in NFD form', async () => {
      const tenant = await seedTenant(t);
      const email = `nfd-${uniq()}@add.test`;
      const nfd = 'cafe\u0301-password-1';
      const nfc = 'caf\u00e9-password-1';
      expect(nfd).not.toBe(nfc);
      expect(nfd.normalize('NFC')).toBe(nfc);
      const r = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email, role: 'MEMBER', password: nfd } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      for (const form of [nfc, nfd]) {
        const me = await t.gql<MeData>(ME, {}, { auth: basic(email, form) });
        expect(me.body.errors).toBeUndefined();
        expect(me.body.data!.me.user?.email).toBe(email);
      }
      expectError(
        await t.gql(ME, {}, { auth: basic(email, 'cafe-password-1') }),
        'UNAUTHENTICATED',
      );
    });

    it('should answer FORBIDDEN and create nothing when an ADMIN grants OWNER', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const before = await counts(t);
      expectError(
        await t.gql(
          ADD,
          { input: { email: `o-${uniq()}@add.test`, role: 'OWNER' } },
          { auth: admin.auth },
        ),
        'FORBIDDEN',
      );
      expect(await counts(t)).toEqual(before);
    });

    it('should answer FORBIDDEN and create nothing when an ADMIN API key grants OWNER', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      const before = await counts(t);
      expectError(
        await t.gql(
          ADD,
          { input: { email: `o-${uniq()}@add.test`, role: 'OWNER' } },
          { auth: key.auth },
        ),
        'FORBIDDEN',
      );
      expect(await counts(t)).toEqual(before);
    });

    it.each([['ADMIN'], ['MEMBER']])(
      'should add the member when an ADMIN grants %s',
      async (role) => {
        const tenant = await seedTenant(t);
        const admin = await seedMember(t, tenant, MemberRole.ADMIN);
        const r = await t.gql<{ addMember: Member }>(
          ADD,
          { input: { email: `r-${uniq()}@add.test`, role } },
          { auth: admin.auth },
        );
        expect(r.body.errors).toBeUndefined();
        expect(await roleOf(r.body.data!.addMember.id)).toBe(role);
      },
    );

    it('should add an OWNER when an OWNER grants OWNER', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql<{ addMember: Member }>(
        ADD,
        { input: { email: `own-${uniq()}@add.test`, role: 'OWNER' } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(await ownerCount(tenant)).toBe(2);
    });

    it('should answer FORBIDDEN and create nothing when a MEMBER adds a member', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const before = await counts(t);
      expectError(
        await t.gql(
          ADD,
          { input: { email: `m-${uniq()}@add.test`, role: 'MEMBER' } },
          { auth: member.auth },
        ),
        'FORBIDDEN',
      );
      expect(await counts(t)).toEqual(before);
    });

    it('should answer UNAUTHENTICATED and create nothing when the caller is anonymous', async () => {
      const before = await counts(t);
      expectError(
        await t.gql(ADD, { input: { email: `anon-${uniq()}@add.test`, role: 'MEMBER' } }),
        'UNAUTHENTICATED',
      );
      expect(await counts(t)).toEqual(before);
    });

    it.each([
      ['the email is not an address', { email: 'not-an-email', role: 'MEMBER' }],
      ['the email has no domain dot', { email: 'a@b', role: 'MEMBER' }],
      ['the role is not a MemberRole', { email: 'role@add.test', role: 'SUPERUSER' }],
      [
        'the display name is 201 characters',
        { email: 'long@add.test', role: 'MEMBER', displayName: 'd'.repeat(201) },
      ],
      [
        'the display name has a control character',
        { email: 'ctl@add.test', role: 'MEMBER', displayName: 'a\u0000b' },
      ],
    ])('should answer BAD_USER_INPUT and create nothing when %s', async (_label, input) => {
      const tenant = await seedTenant(t);
      const before = await counts(t);
      expectError(await t.gql(ADD, { input }, { auth: tenant.owner.auth }), 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
    });

    it('should answer BAD_USER_INPUT and create nothing when the input literal carries an unknown tenantId', async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const before = await counts(t);
      const r = await t.gql(
        `mutation { addMember(input: { email: "lit-${uniq()}@add.test", role: MEMBER, tenantId: "${b.id}" }) { id } }`,
        {},
        { auth: a.owner.auth },
      );
      expectError(r, 'BAD_USER_INPUT');
      expect(await counts(t)).toEqual(before);
    });

    it.each([
      [
        'tenantId',
        (b: SeededTenant, email: string): unknown => ({ email, role: 'MEMBER', tenantId: b.id }),
      ],
      [
        'isPlatformAdmin',
        (_b: SeededTenant, email: string): unknown => ({
          email,
          role: 'MEMBER',
          isPlatformAdmin: true,
        }),
      ],
      [
        'userId',
        (b: SeededTenant, email: string): unknown => ({
          email,
          role: 'MEMBER',
          userId: b.owner.id,
        }),
      ],
      [
        '__proto__',
        (b: SeededTenant, email: string): unknown =>
          JSON.parse(
            `{"email":"${email}","role":"MEMBER","__proto__":{"tenantId":"${b.id}","isPlatformAdmin":true}}`,
          ),
      ],
    ])(
      'should answer BAD_USER_INPUT and create nothing in either tenant when the input variable has an extra %s key',
      async (label, makeInput) => {
        const a = await seedTenant(t);
        const b = await seedTenant(t);
        const email = `var-${uniq()}@add.test`;
        const before = await counts(t);
        const r = await t.gql(ADD, { input: makeInput(b, email) }, { auth: a.owner.auth });
        expectError(r, 'BAD_USER_INPUT');
        expect(r.body.errors![0].message).toContain(label);
        expect(await counts(t)).toEqual(before);
        expect(await passwordHashOf(email)).toBeUndefined();
      },
    );
  });

  describe('updateMemberRole', () => {
    it("should change the role and the member's effective role when an OWNER promotes a MEMBER to ADMIN", async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<{ updateMemberRole: Member }>(
        UPDATE,
        { input: { memberId: member.memberId, role: 'ADMIN' } },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.updateMemberRole).toMatchObject({
        id: member.memberId,
        role: 'ADMIN',
        user: { id: member.id, email: member.email },
      });
      expect(await roleOf(member.memberId)).toBe('ADMIN');
      const me = await t.gql<MeData>(ME, {}, { auth: member.auth });
      expect(me.body.data?.me.role).toBe('ADMIN');
    });

    it('should answer CONFLICT and keep the role when the last OWNER demotes themself', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql(
        UPDATE,
        { input: { memberId: tenant.owner.memberId, role: 'ADMIN' } },
        { auth: tenant.owner.auth },
      );
      expectError(r, 'CONFLICT');
      expect(await roleOf(tenant.owner.memberId)).toBe('OWNER');
    });

    it('should answer CONFLICT when an OWNER API key demotes the last OWNER', async () => {
      const tenant = await seedTenant(t);
      const key = await seedApiKey(t, tenant, MemberRole.OWNER);
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: tenant.owner.memberId, role: 'MEMBER' } },
          { auth: key.auth },
        ),
        'CONFLICT',
      );
      expect(await roleOf(tenant.owner.memberId)).toBe('OWNER');
    });

    it('should demote one OWNER when a second OWNER exists, then refuse to demote the remaining one', async () => {
      const tenant = await seedTenant(t);
      const second = await seedMember(t, tenant, MemberRole.OWNER);
      const r = await t.gql<{ updateMemberRole: Member }>(
        UPDATE,
        { input: { memberId: tenant.owner.memberId, role: 'ADMIN' } },
        { auth: second.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.updateMemberRole.role).toBe('ADMIN');
      expect(await ownerCount(tenant)).toBe(1);

      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: second.memberId, role: 'MEMBER' } },
          { auth: second.auth },
        ),
        'CONFLICT',
      );
      expect(await roleOf(second.memberId)).toBe('OWNER');
    });

    it('should leave exactly one OWNER when an OWNER API key demotes both OWNERs at the same time', async () => {
      const tenant = await seedTenant(t);
      const second = await seedMember(t, tenant, MemberRole.OWNER);
      const key = await seedApiKey(t, tenant, MemberRole.OWNER);
      const [r1, r2] = await Promise.all([
        t.gql(UPDATE, { input: { memberId: second.memberId, role: 'ADMIN' } }, { auth: key.auth }),
        t.gql(
          UPDATE,
          { input: { memberId: tenant.owner.memberId, role: 'ADMIN' } },
          { auth: key.auth },
        ),
      ]);
      const failed = [r1, r2].filter((r) => r.body.errors !== undefined);
      expect(failed).toHaveLength(1);
      expectError(failed[0], 'CONFLICT');
      expect(await ownerCount(tenant)).toBe(1);
    });

    it('should answer FORBIDDEN and keep the role when an ADMIN promotes a MEMBER to OWNER', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: member.memberId, role: 'OWNER' } },
          { auth: admin.auth },
        ),
        'FORBIDDEN',
      );
      expect(await roleOf(member.memberId)).toBe('MEMBER');
    });

    it('should answer FORBIDDEN and keep the role when an ADMIN promotes themself to OWNER', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: admin.memberId, role: 'OWNER' } },
          { auth: admin.auth },
        ),
        'FORBIDDEN',
      );
      expect(await roleOf(admin.memberId)).toBe('ADMIN');
    });

    it('should answer FORBIDDEN and keep the role when an ADMIN demotes one of two OWNERs', async () => {
      const tenant = await seedTenant(t);
      await seedMember(t, tenant, MemberRole.OWNER);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: tenant.owner.memberId, role: 'MEMBER' } },
          { auth: admin.auth },
        ),
        'FORBIDDEN',
      );
      expect(await roleOf(tenant.owner.memberId)).toBe('OWNER');
      expect(await ownerCount(tenant)).toBe(2);
    });

    it('should change the role when an ADMIN promotes a MEMBER to ADMIN', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<{ updateMemberRole: Member }>(
        UPDATE,
        { input: { memberId: member.memberId, role: 'ADMIN' } },
        { auth: admin.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(await roleOf(member.memberId)).toBe('ADMIN');
    });

    it('should answer FORBIDDEN and keep the role when a MEMBER changes a role', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const other = await seedMember(t, tenant, MemberRole.MEMBER);
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: other.memberId, role: 'ADMIN' } },
          { auth: member.auth },
        ),
        'FORBIDDEN',
      );
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: member.memberId, role: 'ADMIN' } },
          { auth: member.auth },
        ),
        'FORBIDDEN',
      );
      expect(await roleOf(other.memberId)).toBe('MEMBER');
      expect(await roleOf(member.memberId)).toBe('MEMBER');
    });

    it('should answer NOT_FOUND and keep the role when the member belongs to another tenant', async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const bMember = await seedMember(t, b, MemberRole.MEMBER);
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: bMember.memberId, role: 'ADMIN' } },
          { auth: a.owner.auth },
        ),
        'NOT_FOUND',
      );
      expect(await roleOf(bMember.memberId)).toBe('MEMBER');
    });

    it('should answer NOT_FOUND when the member id does not exist', async () => {
      const tenant = await seedTenant(t);
      expectError(
        await t.gql(
          UPDATE,
          { input: { memberId: randomUUID(), role: 'ADMIN' } },
          { auth: tenant.owner.auth },
        ),
        'NOT_FOUND',
      );
    });

    it.each([
      ['the member id is not a UUID', { memberId: 'not-a-uuid', role: 'ADMIN' }],
      [
        'the role is not a MemberRole',
        { memberId: '00000000-0000-4000-8000-000000000000', role: 'ROOT' },
      ],
      [
        'the input has an unknown tenantId',
        { memberId: '00000000-0000-4000-8000-000000000000', role: 'ADMIN', tenantId: randomUUID() },
      ],
    ])('should answer BAD_USER_INPUT when %s', async (_label, input) => {
      const tenant = await seedTenant(t);
      expectError(await t.gql(UPDATE, { input }, { auth: tenant.owner.auth }), 'BAD_USER_INPUT');
    });
  });

  describe('removeMember', () => {
    it('should delete the membership, keep the user and stop the sign-in when an OWNER removes a MEMBER', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const before = await counts(t);
      const r = await t.gql<{ removeMember: Member }>(
        REMOVE,
        { id: member.memberId },
        { auth: tenant.owner.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.removeMember).toMatchObject({
        id: member.memberId,
        role: 'MEMBER',
        user: { id: member.id, email: member.email },
      });
      expect(await counts(t)).toEqual({ ...before, membership: before.membership - 1 });
      expect(await roleOf(member.memberId)).toBeUndefined();
      expect(await passwordHashOf(member.email)).toEqual(expect.any(String));
      expectError(await t.gql(ME, {}, { auth: member.auth }), 'UNAUTHENTICATED');
    });

    it('should answer CONFLICT and keep the membership when the last OWNER removes themself', async () => {
      const tenant = await seedTenant(t);
      expectError(
        await t.gql(REMOVE, { id: tenant.owner.memberId }, { auth: tenant.owner.auth }),
        'CONFLICT',
      );
      expect(await roleOf(tenant.owner.memberId)).toBe('OWNER');
    });

    it('should remove one OWNER when a second OWNER exists, then refuse to remove the remaining one', async () => {
      const tenant = await seedTenant(t);
      const second = await seedMember(t, tenant, MemberRole.OWNER);
      const r = await t.gql<{ removeMember: Member }>(
        REMOVE,
        { id: tenant.owner.memberId },
        { auth: second.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(r.body.data!.removeMember.id).toBe(tenant.owner.memberId);
      expect(await ownerCount(tenant)).toBe(1);
      expectError(await t.gql(REMOVE, { id: second.memberId }, { auth: second.auth }), 'CONFLICT');
      expect(await roleOf(second.memberId)).toBe('OWNER');
    });

    it('should answer FORBIDDEN and keep the membership when an ADMIN removes an OWNER', async () => {
      const tenant = await seedTenant(t);
      await seedMember(t, tenant, MemberRole.OWNER);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      expectError(
        await t.gql(REMOVE, { id: tenant.owner.memberId }, { auth: admin.auth }),
        'FORBIDDEN',
      );
      expect(await roleOf(tenant.owner.memberId)).toBe('OWNER');
    });

    it('should answer FORBIDDEN and keep the membership when an ADMIN API key removes an OWNER', async () => {
      const tenant = await seedTenant(t);
      await seedMember(t, tenant, MemberRole.OWNER);
      const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
      expectError(
        await t.gql(REMOVE, { id: tenant.owner.memberId }, { auth: key.auth }),
        'FORBIDDEN',
      );
      expect(await roleOf(tenant.owner.memberId)).toBe('OWNER');
    });

    it('should remove the membership when an ADMIN removes a MEMBER', async () => {
      const tenant = await seedTenant(t);
      const admin = await seedMember(t, tenant, MemberRole.ADMIN);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const r = await t.gql<{ removeMember: Member }>(
        REMOVE,
        { id: member.memberId },
        { auth: admin.auth },
      );
      expect(r.body.errors).toBeUndefined();
      expect(await roleOf(member.memberId)).toBeUndefined();
    });

    it('should answer FORBIDDEN and keep the membership when a MEMBER removes a member', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      const other = await seedMember(t, tenant, MemberRole.MEMBER);
      expectError(await t.gql(REMOVE, { id: other.memberId }, { auth: member.auth }), 'FORBIDDEN');
      expect(await roleOf(other.memberId)).toBe('MEMBER');
    });

    it('should answer UNAUTHENTICATED and keep the membership when the caller is anonymous', async () => {
      const tenant = await seedTenant(t);
      const member = await seedMember(t, tenant, MemberRole.MEMBER);
      expectError(await t.gql(REMOVE, { id: member.memberId }), 'UNAUTHENTICATED');
      expect(await roleOf(member.memberId)).toBe('MEMBER');
    });

    it('should answer NOT_FOUND and keep the membership when the member belongs to another tenant', async () => {
      const a = await seedTenant(t);
      const b = await seedTenant(t);
      const bMember = await seedMember(t, b, MemberRole.MEMBER);
      expectError(
        await t.gql(REMOVE, { id: bMember.memberId }, { auth: a.owner.auth }),
        'NOT_FOUND',
      );
      expect(await roleOf(bMember.memberId)).toBe('MEMBER');
    });

    it('should answer NOT_FOUND when the member id does not exist', async () => {
      const tenant = await seedTenant(t);
      expectError(
        await t.gql(REMOVE, { id: randomUUID() }, { auth: tenant.owner.auth }),
        'NOT_FOUND',
      );
    });

    it('should answer BAD_USER_INPUT when the member id is not a UUID', async () => {
      const tenant = await seedTenant(t);
      const r = await t.gql(REMOVE, { id: "1' OR '1'='1" }, { auth: tenant.owner.auth });
      expectError(r, 'BAD_USER_INPUT');
      expect(await ownerCount(tenant)).toBe(1);
    });
  });
});
