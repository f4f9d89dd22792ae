import { randomBytes, randomUUID } from 'node:crypto';
import { GENESIS_HASH, PLATFORM_TENANT_ID } from '../src/audit/audit-chain';
import { AuthSuccessSummary } from '../src/auth/auth-success-summary';
import { ApiKeysService } from '../src/api-keys/api-keys.service';
import { MemberRole } from '../src/common/auth/roles';
import { RequestContext } from '../src/common/context';
import {
  seedApiKey,
  seedMember,
  seedTenant,
  type SeededTenant,
  type SeededUser,
  TEST_PASSWORD,
} from './factories/tenancy';
import { type AuditRow, auditCount, auditDump, auditRows } from './helpers/audit';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ADMIN_TENANT,
  basic,
  errorCode,
  type GqlResult,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

/**
 * docs/security.md S11 / docs/decisions.md#issue-3: every wired action writes exactly one audit event with the right
 * actor, tenant, target, outcome, client IP and request id — failed and denied attempts too — and
 * no secret ever reaches `audit_event`.
 */

type Key = Awaited<ReturnType<typeof seedApiKey>>;

const LOOPBACK = /^(::ffff:)?127\.0\.0\.1$/;
const USER_AGENT = 'roomkey-audit-wiring/1.0 (jest)';
const TWO_ROOT_FIELDS = '{ me { role } tenant { slug } }';
const ME = '{ me { role } }';
const MEMBERS = '{ members { nodes { id } } }';
const ADD = `mutation($input: AddMemberInput!) { addMember(input: $input) { id role user { id email } } }`;
const UPDATE = `mutation($input: UpdateMemberRoleInput!) { updateMemberRole(input: $input) { id role } }`;
const REMOVE = `mutation($id: ID!) { removeMember(memberId: $id) { id } }`;
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) {
  createApiKey(input: $input) { secret apiKey { id keyId role } } }`;
const REVOKE_KEY = `mutation($id: ID!) { revokeApiKey(id: $id) { id status } }`;
const CREATE_TENANT = `mutation($input: CreateTenantInput!) { createTenant(input: $input) { id slug } }`;

const uniq = (): string => randomBytes(4).toString('hex');
let requests = 0;
/** A fresh, recognisable X-Request-Id (in the accepted charset, so it is kept as sent). */
const rid = (): string => `wiring-${++requests}-${uniq()}`;
const headersFor = (requestId: string, extra: Record<string, string> = {}) => ({
  'x-request-id': requestId,
  'user-agent': USER_AGENT,
  ...extra,
});

/**
 * Runs one request and returns how many `action` events appeared in the whole table meanwhile,
 * and the ones carrying this request's id.
 */
async function audited<T>(
  t: TestApp,
  action: string,
  requestId: string,
  run: () => Promise<T>,
): Promise<{ result: T; delta: number; rows: AuditRow[] }> {
  const before = await auditCount(t, { action });
  const result = await run();
  const delta = (await auditCount(t, { action })) - before;
  return { result, delta, rows: await auditRows(t, { requestId, action }) };
}

/** The one event a request wrote for `action`; fails unless there is exactly one. */
async function oneEvent<T>(
  t: TestApp,
  action: string,
  requestId: string,
  run: () => Promise<T>,
): Promise<{ result: T; row: AuditRow }> {
  const { result, delta, rows } = await audited(t, action, requestId, run);
  expect({ delta, rows: rows.length }).toEqual({ delta: 1, rows: 1 });
  return { result, row: rows[0] };
}

/**
 * Runs one authenticated request that should append no sign-in event of its own, then writes the
 * open summaries and returns the one `auth.succeeded.summary` it produced for `actorId`.
 */
async function summarised<T>(
  t: TestApp,
  actorId: string,
  requestId: string,
  run: () => Promise<T>,
): Promise<{ result: T; row: AuditRow }> {
  const summaries = t.app.get(AuthSuccessSummary);
  await summaries.flush(); // earlier requests' counts are written now, not with this one
  const mine = () => auditRows(t, { action: 'auth.succeeded.summary', actorId });
  const before = (await mine()).length;
  const { result, delta, rows } = await audited(t, 'auth.login.succeeded', requestId, run);
  expect({ delta, rows: rows.length }).toEqual({ delta: 0, rows: 0 });
  await summaries.flush();
  const after = (await mine()).slice(before);
  expect(after).toHaveLength(1);
  return { result, row: after[0] };
}

function expectRequestFacts(row: AuditRow, requestId: string): void {
  expect(row.request_id).toBe(requestId);
  expect(row.client_ip).toMatch(LOOPBACK);
  expect(row.user_agent).toBe(USER_AGENT);
}

function expectCode(r: GqlResult, code: string): void {
  expect(errorCode(r)).toBe(code);
  expect(r.body.data ?? null).toBeNull();
}

describe('audit wiring', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let admin: SeededUser;
  let member: SeededUser;
  let key: Key;
  let platformAdminId: string;
  let demoTenantId: string;

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await seedTenant(t);
    admin = await seedMember(t, tenant, MemberRole.ADMIN);
    member = await seedMember(t, tenant, MemberRole.MEMBER);
    key = await seedApiKey(t, tenant, MemberRole.ADMIN);
    const [u] = await t.ds.query<Array<{ id: string }>>(
      'SELECT id FROM app_user WHERE email = $1',
      [ADMIN_EMAIL],
    );
    platformAdminId = u.id;
    const [d] = await t.ds.query<Array<{ id: string }>>('SELECT id FROM tenant WHERE slug = $1', [
      ADMIN_TENANT,
    ]);
    demoTenantId = d.id;
  });

  afterAll(async () => {
    await t?.close();
  });

  const gql = (query: string, variables: Record<string, unknown>, auth: string, id: string) =>
    t.gql(query, variables, { auth, headers: headersFor(id) });

  describe('authentication', () => {
    it('should write no per-request event and one auth.succeeded.summary for the user when a two-field query signs in with a password', async () => {
      const id = rid();
      const { result, row } = await summarised(t, tenant.owner.id, id, () =>
        gql(TWO_ROOT_FIELDS, {}, tenant.owner.auth, id),
      );
      expect(result.body.data).toEqual({ me: { role: 'OWNER' }, tenant: { slug: tenant.slug } });
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_type: 'USER',
        actor_id: tenant.owner.id,
        actor_label: tenant.owner.email,
        auth_method: 'BASIC_PASSWORD',
        target_type: null,
        target_id: null,
        outcome: 'SUCCESS',
        error_code: null,
        // One request with two root fields is one authentication.
        metadata: { method: 'BASIC_PASSWORD', count: 1 },
        request_id: null,
        client_ip: null,
        user_agent: null,
      });
    });

    it('should write no per-request event and one auth.succeeded.summary for the key when a two-field query signs in with an API key', async () => {
      const id = rid();
      const { result, row } = await summarised(t, key.id, id, () =>
        gql(TWO_ROOT_FIELDS, {}, key.auth, id),
      );
      expect(result.body.data).toEqual({ me: { role: 'ADMIN' }, tenant: { slug: tenant.slug } });
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_type: 'API_KEY',
        actor_id: key.id,
        actor_label: key.keyId,
        auth_method: 'BASIC_API_KEY',
        target_type: null,
        target_id: null,
        outcome: 'SUCCESS',
        error_code: null,
        metadata: { method: 'BASIC_API_KEY', count: 1 },
      });
    });

    it('should write one audit.exported event and a summary, not a per-request sign-in, when the export route is called with a password', async () => {
      const id = rid();
      const exportsBefore = await auditCount(t, { action: 'audit.exported' });
      const { result, row } = await summarised(t, tenant.owner.id, id, () =>
        t
          .http()
          .get('/audit/export?format=csv&from=2020-01-01T00:00:00.000Z')
          .set('authorization', tenant.owner.auth)
          .set(headersFor(id)),
      );
      expect(result.status).toBe(200);
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_type: 'USER',
        actor_id: tenant.owner.id,
        auth_method: 'BASIC_PASSWORD',
        outcome: 'SUCCESS',
        metadata: { method: 'BASIC_PASSWORD', count: 1 },
      });
      expect((await auditCount(t, { action: 'audit.exported' })) - exportsBefore).toBe(1);
      const [exported] = await auditRows(t, { requestId: id, action: 'audit.exported' });
      expect(exported).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        target_type: null,
        outcome: 'SUCCESS',
        metadata: { format: 'csv', from: '2020-01-01T00:00:00.000Z', to: null },
      });
      expectRequestFacts(exported, id);
    });

    it('should write one auth.login.failed event on the platform chain when the user is unknown', async () => {
      const id = rid();
      const { result, row } = await oneEvent(t, 'auth.login.failed', id, () =>
        gql(TWO_ROOT_FIELDS, {}, basic(`nobody-${uniq()}@nowhere.test`, 'whatever-password'), id),
      );
      expectCode(result, 'UNAUTHENTICATED');
      expect(row).toMatchObject({
        tenant_id: PLATFORM_TENANT_ID,
        actor_type: 'ANONYMOUS',
        actor_id: null,
        actor_label: 'anonymous',
        auth_method: 'BASIC_PASSWORD',
        target_type: null,
        target_id: null,
        outcome: 'FAILURE',
        error_code: 'UNAUTHENTICATED',
        metadata: { method: 'BASIC_PASSWORD', reason: 'unknown_user' },
      });
      expectRequestFacts(row, id);
    });

    it('should write one auth.login.failed event labelled with the email when the password is wrong', async () => {
      const id = rid();
      const { result, row } = await oneEvent(t, 'auth.login.failed', id, () =>
        gql(ME, {}, basic(member.email, 'not-the-right-password'), id),
      );
      expectCode(result, 'UNAUTHENTICATED');
      expect(row).toMatchObject({
        tenant_id: PLATFORM_TENANT_ID,
        actor_type: 'ANONYMOUS',
        actor_label: member.email,
        auth_method: 'BASIC_PASSWORD',
        outcome: 'FAILURE',
        error_code: 'UNAUTHENTICATED',
        metadata: { method: 'BASIC_PASSWORD', reason: 'bad_password' },
      });
      expectRequestFacts(row, id);
    });

    it("should write one auth.login.failed event in the key's tenant when an existing key has a bad secret", async () => {
      const id = rid();
      const { result, row } = await oneEvent(t, 'auth.login.failed', id, () =>
        gql(TWO_ROOT_FIELDS, {}, basic(key.keyId, 'x'.repeat(43)), id),
      );
      expectCode(result, 'UNAUTHENTICATED');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_type: 'ANONYMOUS',
        actor_id: null,
        actor_label: key.keyId,
        auth_method: 'BASIC_API_KEY',
        outcome: 'FAILURE',
        error_code: 'UNAUTHENTICATED',
        metadata: { method: 'BASIC_API_KEY', reason: 'bad_secret' },
      });
      expectRequestFacts(row, id);
    });

    it("should write one auth.login.failed event with reason revoked in the key's tenant when the key was revoked", async () => {
      const revoked = await seedApiKey(t, tenant, MemberRole.MEMBER);
      await t.app.get(ApiKeysService).revoke(RequestContext.system(tenant), revoked.id);
      const id = rid();
      const { result, row } = await oneEvent(t, 'auth.login.failed', id, () =>
        gql(ME, {}, revoked.auth, id),
      );
      expectCode(result, 'UNAUTHENTICATED');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_label: revoked.keyId,
        auth_method: 'BASIC_API_KEY',
        outcome: 'FAILURE',
        error_code: 'UNAUTHENTICATED',
        metadata: { method: 'BASIC_API_KEY', reason: 'revoked' },
      });
      expectRequestFacts(row, id);
    });

    it('should record the socket address and ignore a spoofed X-Forwarded-For when no proxy is trusted', async () => {
      const id = rid();
      // An authenticated request's own event (sign-ins are summarised without an address).
      const { row } = await oneEvent(t, 'authz.denied', id, () =>
        t.gql(
          MEMBERS,
          {},
          {
            auth: member.auth,
            headers: headersFor(id, { 'x-forwarded-for': '203.0.113.7' }),
          },
        ),
      );
      expect(row.client_ip).toMatch(LOOPBACK);
      const failedId = rid();
      const { row: failed } = await oneEvent(t, 'auth.login.failed', failedId, () =>
        t.gql(
          ME,
          {},
          {
            auth: basic(`ghost-${uniq()}@nowhere.test`, 'whatever-password'),
            headers: headersFor(failedId, { 'x-forwarded-for': '203.0.113.7' }),
          },
        ),
      );
      expect(failed.client_ip).toMatch(LOOPBACK);
    });
  });

  describe('authorization denials', () => {
    it('should write one authz.denied event when a MEMBER lists members', async () => {
      const id = rid();
      const { result, row } = await oneEvent(t, 'authz.denied', id, () =>
        gql(MEMBERS, {}, member.auth, id),
      );
      expectCode(result, 'FORBIDDEN');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_type: 'USER',
        actor_id: member.id,
        actor_label: member.email,
        auth_method: 'BASIC_PASSWORD',
        outcome: 'DENIED',
        error_code: 'FORBIDDEN',
        metadata: { operation: 'MembersResolver.members', reason: 'role_not_allowed' },
      });
      expectRequestFacts(row, id);
    });

    it('should write one authz.denied event and no api_key.created event when a MEMBER creates an API key', async () => {
      const id = rid();
      const name = `member-key-${uniq()}`;
      const createdBefore = await auditCount(t, { action: 'api_key.created' });
      const { result, row } = await oneEvent(t, 'authz.denied', id, () =>
        gql(CREATE_KEY, { input: { name, role: 'MEMBER' } }, member.auth, id),
      );
      expectCode(result, 'FORBIDDEN');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: member.id,
        outcome: 'DENIED',
        error_code: 'FORBIDDEN',
        metadata: { operation: 'ApiKeysResolver.createApiKey', reason: 'role_not_allowed' },
      });
      expectRequestFacts(row, id);
      expect(await auditCount(t, { action: 'api_key.created' })).toBe(createdBefore);
      expect(await t.ds.query('SELECT id FROM api_key WHERE name = $1', [name])).toEqual([]);
    });

    it('should write one authz.denied event and no tenant.created event when a tenant OWNER creates a tenant', async () => {
      const id = rid();
      const slug = `denied-${uniq()}`;
      const createdBefore = await auditCount(t, { action: 'tenant.created' });
      const { result, row } = await oneEvent(t, 'authz.denied', id, () =>
        gql(CREATE_TENANT, { input: { slug, name: 'Denied' } }, tenant.owner.auth, id),
      );
      expectCode(result, 'FORBIDDEN');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        outcome: 'DENIED',
        error_code: 'FORBIDDEN',
        metadata: {
          operation: 'TenantsResolver.createTenant',
          reason: 'platform_admin_required',
        },
      });
      expect(await auditCount(t, { action: 'tenant.created' })).toBe(createdBefore);
      expect(await t.ds.query('SELECT id FROM tenant WHERE slug = $1', [slug])).toEqual([]);
    });
  });

  describe('tenant mutations', () => {
    it("should write one tenant.created event at the start of the new tenant's chain when a platform admin creates a tenant", async () => {
      const id = rid();
      const slug = `created-${uniq()}`;
      const ownerEmail = `first-owner-${uniq()}@created.test`;
      const { result, row } = await oneEvent(t, 'tenant.created', id, () =>
        gql(CREATE_TENANT, { input: { slug, name: 'Created', ownerEmail } }, t.adminAuth, id),
      );
      const created = (result.body.data as { createTenant: { id: string } }).createTenant;
      const [owner] = await t.ds.query<Array<{ id: string }>>(
        'SELECT id FROM app_user WHERE email = $1',
        [ownerEmail],
      );
      expect(row).toMatchObject({
        tenant_id: created.id,
        seq: '1',
        prev_hash: GENESIS_HASH,
        actor_type: 'USER',
        actor_id: platformAdminId,
        actor_label: ADMIN_EMAIL,
        auth_method: 'BASIC_PASSWORD',
        target_type: 'tenant',
        target_id: created.id,
        outcome: 'SUCCESS',
        error_code: null,
        metadata: { slug, ownerUserId: owner.id },
      });
      expect(String(row.seq)).toBe('1');
      expectRequestFacts(row, id);
    });

    it("should write one tenant.created FAILURE event in the caller's tenant and create nothing when the slug is taken", async () => {
      const id = rid();
      const tenantsBefore = await t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM tenant',
      );
      const { result, row } = await oneEvent(t, 'tenant.created', id, () =>
        gql(CREATE_TENANT, { input: { slug: tenant.slug, name: 'Again' } }, t.adminAuth, id),
      );
      expectCode(result, 'CONFLICT');
      expect(row).toMatchObject({
        tenant_id: demoTenantId,
        actor_id: platformAdminId,
        target_type: 'tenant',
        target_id: null,
        outcome: 'FAILURE',
        error_code: 'CONFLICT',
      });
      expectRequestFacts(row, id);
      expect(await t.ds.query('SELECT count(*)::int AS n FROM tenant')).toEqual(tenantsBefore);
    });

    it('should write one member.added event with the new membership as target when an OWNER adds a member', async () => {
      const id = rid();
      const email = `added-${uniq()}@${tenant.slug}.test`;
      const { result, row } = await oneEvent(t, 'member.added', id, () =>
        gql(ADD, { input: { email, role: 'ADMIN' } }, tenant.owner.auth, id),
      );
      const added = (result.body.data as { addMember: { id: string; user: { id: string } } })
        .addMember;
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_type: 'USER',
        actor_id: tenant.owner.id,
        actor_label: tenant.owner.email,
        target_type: 'member',
        target_id: added.id,
        outcome: 'SUCCESS',
        error_code: null,
        metadata: { userId: added.user.id, role: 'ADMIN', newUser: true },
      });
      expectRequestFacts(row, id);
    });

    it('should write one DENIED member.added event and create no membership when an ADMIN grants OWNER', async () => {
      const id = rid();
      const email = `would-be-owner-${uniq()}@${tenant.slug}.test`;
      const { result, row } = await oneEvent(t, 'member.added', id, () =>
        gql(ADD, { input: { email, role: 'OWNER' } }, admin.auth, id),
      );
      expectCode(result, 'FORBIDDEN');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: admin.id,
        actor_label: admin.email,
        target_type: 'member',
        target_id: null,
        outcome: 'DENIED',
        error_code: 'FORBIDDEN',
      });
      expectRequestFacts(row, id);
      expect(
        await t.ds.query(
          'SELECT m.id FROM membership m JOIN app_user u ON u.id = m.user_id WHERE u.email = $1',
          [email],
        ),
      ).toEqual([]);
      expect(await t.ds.query('SELECT id FROM app_user WHERE email = $1', [email])).toEqual([]);
    });

    it('should write one FAILURE member.added event and create no user when the password is too short', async () => {
      const id = rid();
      const email = `short-pw-${uniq()}@${tenant.slug}.test`;
      const { result, row } = await oneEvent(t, 'member.added', id, () =>
        gql(ADD, { input: { email, role: 'MEMBER', password: 'short' } }, tenant.owner.auth, id),
      );
      expectCode(result, 'BAD_USER_INPUT');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        target_type: 'member',
        outcome: 'FAILURE',
        error_code: 'BAD_USER_INPUT',
      });
      expectRequestFacts(row, id);
      expect(await t.ds.query('SELECT id FROM app_user WHERE email = $1', [email])).toEqual([]);
    });

    it('should write one member.role_changed event with both roles when an OWNER promotes a member', async () => {
      const target = await seedMember(t, tenant, MemberRole.MEMBER);
      const id = rid();
      const { result, row } = await oneEvent(t, 'member.role_changed', id, () =>
        gql(UPDATE, { input: { memberId: target.memberId, role: 'ADMIN' } }, tenant.owner.auth, id),
      );
      expect(result.body.data).toEqual({
        updateMemberRole: { id: target.memberId, role: 'ADMIN' },
      });
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        target_type: 'member',
        target_id: target.memberId,
        outcome: 'SUCCESS',
        error_code: null,
        metadata: { userId: target.id, from: 'MEMBER', to: 'ADMIN' },
      });
      expectRequestFacts(row, id);
    });

    it('should write one DENIED member.role_changed event and keep the role when an ADMIN demotes the OWNER', async () => {
      const id = rid();
      const { result, row } = await oneEvent(t, 'member.role_changed', id, () =>
        gql(UPDATE, { input: { memberId: tenant.owner.memberId, role: 'MEMBER' } }, admin.auth, id),
      );
      expectCode(result, 'FORBIDDEN');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: admin.id,
        target_type: 'member',
        target_id: tenant.owner.memberId,
        outcome: 'DENIED',
        error_code: 'FORBIDDEN',
      });
      expectRequestFacts(row, id);
      expect(
        await t.ds.query('SELECT role FROM membership WHERE id = $1', [tenant.owner.memberId]),
      ).toEqual([{ role: 'OWNER' }]);
    });

    it('should write one member.removed event and delete the membership when an OWNER removes a member', async () => {
      const target = await seedMember(t, tenant, MemberRole.MEMBER);
      const id = rid();
      const { row } = await oneEvent(t, 'member.removed', id, () =>
        gql(REMOVE, { id: target.memberId }, tenant.owner.auth, id),
      );
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        target_type: 'member',
        target_id: target.memberId,
        outcome: 'SUCCESS',
        error_code: null,
        metadata: { userId: target.id, role: 'MEMBER' },
      });
      expectRequestFacts(row, id);
      expect(
        await t.ds.query('SELECT id FROM membership WHERE id = $1', [target.memberId]),
      ).toEqual([]);
    });

    it('should write one FAILURE member.removed event with CONFLICT and keep the membership when the last OWNER is removed', async () => {
      const id = rid();
      const { result, row } = await oneEvent(t, 'member.removed', id, () =>
        gql(REMOVE, { id: tenant.owner.memberId }, tenant.owner.auth, id),
      );
      expectCode(result, 'CONFLICT');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        target_type: 'member',
        target_id: tenant.owner.memberId,
        outcome: 'FAILURE',
        error_code: 'CONFLICT',
      });
      expectRequestFacts(row, id);
      expect(
        await t.ds.query('SELECT role FROM membership WHERE id = $1', [tenant.owner.memberId]),
      ).toEqual([{ role: 'OWNER' }]);
    });

    it('should write one api_key.created event with the key as target when an OWNER creates a key', async () => {
      const id = rid();
      const { result, row } = await oneEvent(t, 'api_key.created', id, () =>
        gql(CREATE_KEY, { input: { name: 'ci', role: 'MEMBER' } }, tenant.owner.auth, id),
      );
      const created = (
        result.body.data as { createApiKey: { apiKey: { id: string; keyId: string } } }
      ).createApiKey.apiKey;
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_type: 'USER',
        actor_id: tenant.owner.id,
        target_type: 'api_key',
        target_id: created.id,
        outcome: 'SUCCESS',
        error_code: null,
        metadata: { keyId: created.keyId, role: 'MEMBER', expiresAt: null },
      });
      expectRequestFacts(row, id);
    });

    it('should write one DENIED api_key.created event and store no key when an ADMIN creates an OWNER key', async () => {
      const id = rid();
      const name = `too-high-${uniq()}`;
      const { result, row } = await oneEvent(t, 'api_key.created', id, () =>
        gql(CREATE_KEY, { input: { name, role: 'OWNER' } }, admin.auth, id),
      );
      expectCode(result, 'FORBIDDEN');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: admin.id,
        target_type: 'api_key',
        target_id: null,
        outcome: 'DENIED',
        error_code: 'FORBIDDEN',
      });
      expectRequestFacts(row, id);
      expect(await t.ds.query('SELECT id FROM api_key WHERE name = $1', [name])).toEqual([]);
    });

    it('should write one api_key.revoked event with the key as target when an OWNER revokes a key', async () => {
      const victim = await seedApiKey(t, tenant, MemberRole.MEMBER);
      const id = rid();
      const { result, delta, rows } = await audited(t, 'api_key.revoked', id, () =>
        gql(REVOKE_KEY, { id: victim.id }, tenant.owner.auth, id),
      );
      expect(result.body.data).toEqual({ revokeApiKey: { id: victim.id, status: 'REVOKED' } });
      expect({ delta, rows: rows.length }).toEqual({ delta: 1, rows: 1 });
      expect(rows[0]).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        target_type: 'api_key',
        target_id: victim.id,
        outcome: 'SUCCESS',
        error_code: null,
        metadata: { keyId: victim.keyId },
      });
      expectRequestFacts(rows[0], id);
    });

    it('should write one FAILURE api_key.revoked event with NOT_FOUND when the key does not exist', async () => {
      const id = rid();
      const missing = randomUUID();
      const { result, row } = await oneEvent(t, 'api_key.revoked', id, () =>
        gql(REVOKE_KEY, { id: missing }, tenant.owner.auth, id),
      );
      expectCode(result, 'NOT_FOUND');
      expect(row).toMatchObject({
        tenant_id: tenant.id,
        actor_id: tenant.owner.id,
        target_type: 'api_key',
        target_id: missing,
        outcome: 'FAILURE',
        error_code: 'NOT_FOUND',
      });
      expectRequestFacts(row, id);
    });
  });

  describe('canary secrets', () => {
    const CANARY = 'CANARY-7f3a9c-SECRET';
    /** Shorter than the 12-character minimum, so it can only travel as a refused password. */
    const SHORT_CANARY = 'CNRY7f3a9c';
    const secrets: string[] = [];
    let canaryTenant: SeededTenant;
    let canaryAdmin: SeededUser;
    let canaryKey: Key;

    beforeAll(async () => {
      canaryTenant = await seedTenant(t);
      canaryAdmin = await seedMember(t, canaryTenant, MemberRole.ADMIN);
      canaryKey = await seedApiKey(t, canaryTenant, MemberRole.ADMIN);
      secrets.push(canaryKey.secret, key.secret, TEST_PASSWORD, ADMIN_PASSWORD);

      const owner = canaryTenant.owner;
      const send = (query: string, variables: Record<string, unknown>, auth: string) =>
        t.gql(query, variables, { auth, headers: { 'user-agent': USER_AGENT } });
      const failedBefore = await auditCount(t, { action: 'auth.login.failed' });

      // Basic credentials: wrong password, unknown user, canary as user name, API key secrets.
      expectCode(await send(ME, {}, basic(owner.email, CANARY)), 'UNAUTHENTICATED');
      expectCode(await send(ME, {}, basic(`nobody-${uniq()}@x.test`, CANARY)), 'UNAUTHENTICATED');
      expectCode(await send(ME, {}, basic(CANARY, CANARY)), 'UNAUTHENTICATED');
      expectCode(await send(ME, {}, basic(canaryKey.keyId, CANARY)), 'UNAUTHENTICATED');
      expectCode(await send(ME, {}, basic(`rk_${'0'.repeat(24)}`, CANARY)), 'UNAUTHENTICATED');
      expectCode(
        await send(ME, {}, `Basic ${Buffer.from(`nocolon${CANARY}`).toString('base64')}`),
        'UNAUTHENTICATED',
      );
      // A tenant header shaped like a slug, carrying the canary.
      expectCode(
        await t.gql(
          ME,
          {},
          {
            auth: owner.auth,
            headers: { 'x-roomkey-tenant': CANARY.toLowerCase() },
          },
        ),
        'UNAUTHENTICATED',
      );
      expect((await auditCount(t, { action: 'auth.login.failed' })) - failedBefore).toBe(7);

      // addMember passwords: a valid one (then used to sign in), a too-short one, a refused one.
      const canaryPassword = `${CANARY}-pw`;
      secrets.push(canaryPassword);
      const email = `canary-${uniq()}@${canaryTenant.slug}.test`;
      const added = await send(
        ADD,
        { input: { email, role: 'MEMBER', password: canaryPassword } },
        owner.auth,
      );
      expect(added.body.errors).toBeUndefined();
      const signedIn = await send(ME, {}, basic(email, canaryPassword));
      expect(signedIn.body.data).toEqual({ me: { role: 'MEMBER' } });
      expectCode(
        await send(
          ADD,
          { input: { email: `short-${uniq()}@x.test`, role: 'MEMBER', password: SHORT_CANARY } },
          owner.auth,
        ),
        'BAD_USER_INPUT',
      );
      expectCode(
        await send(
          ADD,
          { input: { email: canaryAdmin.email, role: 'MEMBER', password: `${CANARY}-again` } },
          owner.auth,
        ),
        'CONFLICT',
      );

      // createApiKey: a name carrying the canary, with the key secret collected.
      const createdKey = await send(
        CREATE_KEY,
        { input: { name: `key ${CANARY}`, role: 'MEMBER' } },
        canaryAdmin.auth,
      );
      const secret = (createdKey.body.data as { createApiKey: { secret: string } } | null)
        ?.createApiKey.secret;
      expect(secret).toEqual(expect.any(String));
      secrets.push(secret!);
      const newKeyId = (createdKey.body.data as { createApiKey: { apiKey: { keyId: string } } })
        .createApiKey.apiKey.keyId;
      // The new key used once (success) and with the canary as its secret (failure).
      expect((await send(ME, {}, basic(newKeyId, secret!))).body.data).toEqual({
        me: { role: 'MEMBER' },
      });
      expectCode(await send(ME, {}, basic(newKeyId, CANARY)), 'UNAUTHENTICATED');

      // Query variables that fail validation or match nothing.
      expectCode(
        await send(
          'query($c: String) { members(after: $c) { nodes { id } } }',
          { c: CANARY },
          owner.auth,
        ),
        'BAD_USER_INPUT',
      );
      const filtered = await send(
        'query($x: String) { auditEvents(filter: { targetId: $x }) { nodes { id } } }',
        { x: CANARY },
        owner.auth,
      );
      expect(filtered.body.data).toEqual({ auditEvents: { nodes: [] } });
    });

    it('should keep the canary, passwords and key secrets out of every audit row when they were sent on every input path', async () => {
      const dump = await auditDump(t);
      expect(dump.length).toBeGreaterThan(1000);
      // The attempts were recorded (so the check is not vacuous) …
      expect(dump).toContain(canaryKey.keyId);
      expect(dump).toContain('bad_secret');
      const recorded = await t.ds.query<Array<{ action: string; outcome: string; n: number }>>(
        `SELECT action, outcome::text AS outcome, count(*)::int AS n FROM audit_event
          WHERE tenant_id = $1 AND action IN ('member.added', 'api_key.created')
          GROUP BY action, outcome ORDER BY action, outcome`,
        [canaryTenant.id],
      );
      expect(recorded).toEqual([
        { action: 'api_key.created', outcome: 'SUCCESS', n: 2 },
        { action: 'member.added', outcome: 'FAILURE', n: 2 },
        { action: 'member.added', outcome: 'SUCCESS', n: 2 },
      ]);
      // … without what they carried.
      const lower = dump.toLowerCase();
      expect(lower).not.toContain(CANARY.toLowerCase());
      expect(lower).not.toContain(SHORT_CANARY.toLowerCase());
      for (const s of secrets) expect(dump).not.toContain(s);
    });

    it('should keep the canary, passwords and key secrets out of the NDJSON and CSV exports when they were sent on every input path', async () => {
      for (const format of ['ndjson', 'csv']) {
        const res = await t
          .http()
          .get(`/audit/export?format=${format}`)
          .set('authorization', canaryTenant.owner.auth)
          .buffer(true)
          .parse((r, cb) => {
            let body = '';
            r.setEncoding('utf8');
            r.on('data', (c: string) => (body += c));
            r.on('end', () => cb(null, body));
          });
        expect(res.status).toBe(200);
        const text = res.body as string;
        expect(text).toContain('bad_secret');
        expect(text).toContain('member.added');
        expect(text.toLowerCase()).not.toContain(CANARY.toLowerCase());
        expect(text.toLowerCase()).not.toContain(SHORT_CANARY.toLowerCase());
        for (const s of secrets) expect(text).not.toContain(s);
      }
    });

    it('should keep the canary out of every log line when it was sent on every input path', () => {
      const logs = t.logs.join('\n');
      expect(logs.length).toBeGreaterThan(0);
      expect(logs.toLowerCase()).not.toContain(CANARY.toLowerCase());
      expect(logs.toLowerCase()).not.toContain(SHORT_CANARY.toLowerCase());
      for (const s of secrets) expect(logs).not.toContain(s);
    });
  });

  // Last on purpose: Passport strategies are registered process-wide, so while (and after) a
  // second app runs in this process, the first app's `basic` strategy is the second app's.
  describe('behind a trusted proxy', () => {
    let tp: TestApp;
    let tpMember: SeededUser;

    beforeAll(async () => {
      tp = await startTestApp({ ROOMKEY_TRUST_PROXY: 'loopback' });
      tpMember = await seedMember(tp, await seedTenant(tp), MemberRole.MEMBER);
    });

    afterAll(async () => {
      await tp?.close();
    });

    it('should record the forwarded client address when the loopback proxy is trusted', async () => {
      const id = rid();
      const { row } = await oneEvent(tp, 'authz.denied', id, () =>
        tp.gql(
          MEMBERS,
          {},
          {
            auth: tpMember.auth,
            headers: headersFor(id, { 'x-forwarded-for': '203.0.113.7' }),
          },
        ),
      );
      expect(row.client_ip).toBe('203.0.113.7');
      expect(row.request_id).toBe(id);
    });

    it('should record the nearest untrusted hop when X-Forwarded-For lists several addresses', async () => {
      const id = rid();
      const { row } = await oneEvent(tp, 'auth.login.failed', id, () =>
        tp.gql(
          ME,
          {},
          {
            auth: basic(`ghost-${uniq()}@nowhere.test`, 'whatever-password'),
            headers: headersFor(id, { 'x-forwarded-for': '198.51.100.9, 203.0.113.7' }),
          },
        ),
      );
      expect(row.client_ip).toBe('203.0.113.7');
      expect(row.tenant_id).toBe(PLATFORM_TENANT_ID);
    });
  });
});
