import { randomBytes } from 'node:crypto';
import { MemberRole } from '../src/common/auth/roles';
import {
  seedApiKey,
  seedMember,
  seedTenant,
  type SeededTenant,
  type SeededUser,
} from './factories/tenancy';
import { expectError } from './helpers/assertions';
import { basic, startTestApp, type TestApp } from './helpers/test-app';
import { generateSamlKeyPair } from './support/saml-idp';

/**
 * docs/decisions.md#issue-10 item 7, docs/security.md S11: a failed sign-in that names an existing tenant is recorded
 * in that tenant's chain, where its admins read it; one naming no tenant, or an unknown one, stays
 * in the platform chain, which platform administrators (only) read and verify through GraphQL.
 */

const uniq = (): string => randomBytes(4).toString('hex');

interface Node {
  id: string;
  action: string;
  outcome: string;
  actorLabel: string;
  authMethod: string;
  requestId: string | null;
  errorCode: string | null;
  metadata: Record<string, unknown>;
}
type Events = { edges: Array<{ node: Node }> };

const FIELDS =
  'edges { node { id action outcome actorLabel authMethod requestId errorCode metadata } }';
const EVENTS = `query($f: AuditEventFilter) { auditEvents(filter: $f, first: 100) { ${FIELDS} } }`;
const PLATFORM_EVENTS = `query($f: AuditEventFilter) { platformAuditEvents(filter: $f, first: 100) { ${FIELDS} } }`;
const VERIFY = '{ verifyAuditLog { ok checkedCount firstInvalidEventId reason } }';
const VERIFY_PLATFORM = '{ verifyPlatformAuditLog { ok checkedCount firstInvalidEventId reason } }';
const LOGIN = 'mutation($i: LoginInput!) { login(input: $i) { accessToken } }';
const ME = '{ me { role } }';
const FAILED = { action: 'auth.login.failed' };

describe('audit visibility of failed sign-ins (docs/decisions.md#issue-10 item 7)', () => {
  let t: TestApp;
  let tenant: SeededTenant;
  let admin: SeededUser;
  let member: SeededUser;

  /** The failed sign-ins of a request, in the tenant chain as its ADMIN reads it. */
  const tenantEvents = async (requestId: string): Promise<Node[]> => {
    const r = await t.gql<{ auditEvents: Events }>(EVENTS, { f: FAILED }, { auth: admin.auth });
    expect(r.body.errors).toBeUndefined();
    return r.body
      .data!.auditEvents.edges.map((e) => e.node)
      .filter((n) => n.requestId === requestId);
  };

  /** The failed sign-ins of a request, in the platform chain as the platform admin reads it. */
  const platformEvents = async (requestId: string): Promise<Node[]> => {
    const r = await t.gql<{ platformAuditEvents: Events }>(
      PLATFORM_EVENTS,
      { f: FAILED },
      { auth: t.adminAuth },
    );
    expect(r.body.errors).toBeUndefined();
    return r.body
      .data!.platformAuditEvents.edges.map((e) => e.node)
      .filter((n) => n.requestId === requestId);
  };

  const verifyTenant = async (): Promise<unknown> =>
    (await t.gql<{ verifyAuditLog: unknown }>(VERIFY, undefined, { auth: admin.auth })).body.data
      ?.verifyAuditLog;

  beforeAll(async () => {
    t = await startTestApp();
    tenant = await seedTenant(t);
    admin = await seedMember(t, tenant, MemberRole.ADMIN);
    member = await seedMember(t, tenant, MemberRole.MEMBER);
  });
  afterAll(() => t.close());

  it("should record the failure in the tenant's chain, readable by its ADMIN, when a member's wrong password names the tenant in X-Roomkey-Tenant", async () => {
    const rid = `vis-header-${uniq()}`;
    const r = await t.gql(ME, undefined, {
      auth: basic(member.email, `${member.password}!`),
      headers: { 'x-roomkey-tenant': tenant.slug, 'x-request-id': rid },
    });
    expectError(r, 'UNAUTHENTICATED');

    const events = await tenantEvents(rid);
    expect(events).toEqual([
      expect.objectContaining({
        outcome: 'FAILURE',
        actorLabel: member.email,
        authMethod: 'BASIC_PASSWORD',
        errorCode: 'UNAUTHENTICATED',
        metadata: { method: 'BASIC_PASSWORD', reason: 'bad_password' },
      }),
    ]);
    expect(await platformEvents(rid)).toEqual([]);
    expect(await verifyTenant()).toEqual({
      ok: true,
      checkedCount: expect.any(Number) as unknown,
      firstInvalidEventId: null,
      reason: null,
    });
  });

  it("should record the failure in the tenant's chain, readable by its ADMIN, when a member's wrong password comes through login with tenantSlug", async () => {
    const rid = `vis-login-${uniq()}`;
    const r = await t.gql(
      LOGIN,
      { i: { email: member.email, password: `${member.password}!`, tenantSlug: tenant.slug } },
      { headers: { 'x-request-id': rid } },
    );
    expectError(r, 'UNAUTHENTICATED');

    expect(await tenantEvents(rid)).toEqual([
      expect.objectContaining({
        outcome: 'FAILURE',
        actorLabel: member.email,
        metadata: { method: 'BASIC_PASSWORD', reason: 'bad_password' },
      }),
    ]);
    expect(await platformEvents(rid)).toEqual([]);
    expect(await verifyTenant()).toMatchObject({ ok: true, firstInvalidEventId: null });
  });

  it("should record not_a_member with no email in the tenant's chain when someone who is not its member names the tenant", async () => {
    const other = await seedTenant(t);
    const strangers = [
      ['an unknown email', `nobody-${uniq()}@nowhere.test`, 'whatever'],
      ["another tenant's owner with a wrong password", other.owner.email, 'wrong'],
      ["another tenant's owner with the right password", other.owner.email, other.owner.password],
    ];
    for (const [label, email, password] of strangers) {
      const rid = `vis-stranger-${uniq()}`;
      const r = await t.gql(
        LOGIN,
        { i: { email, password, tenantSlug: tenant.slug } },
        { headers: { 'x-request-id': rid } },
      );
      expectError(r, 'UNAUTHENTICATED');
      const events = await tenantEvents(rid);
      expect({ label, events }).toEqual({
        label,
        events: [
          expect.objectContaining({
            actorLabel: 'anonymous',
            metadata: { method: 'BASIC_PASSWORD', reason: 'not_a_member' },
          }),
        ],
      });
      expect(JSON.stringify(events)).not.toContain(email);
      expect(await platformEvents(rid)).toEqual([]);
    }
  });

  it('should keep the failure in the platform chain when the named tenant does not exist', async () => {
    for (const via of ['header', 'login'] as const) {
      const rid = `vis-unknown-${via}-${uniq()}`;
      const slug = `no-such-${uniq()}`;
      const r =
        via === 'header'
          ? await t.gql(ME, undefined, {
              auth: basic(member.email, `${member.password}!`),
              headers: { 'x-roomkey-tenant': slug, 'x-request-id': rid },
            })
          : await t.gql(
              LOGIN,
              { i: { email: member.email, password: `${member.password}!`, tenantSlug: slug } },
              { headers: { 'x-request-id': rid } },
            );
      expectError(r, 'UNAUTHENTICATED');
      expect({ via, events: await platformEvents(rid) }).toEqual({
        via,
        events: [
          expect.objectContaining({
            outcome: 'FAILURE',
            metadata: { method: 'BASIC_PASSWORD', reason: 'bad_password' },
          }),
        ],
      });
      expect(await tenantEvents(rid)).toEqual([]);
    }
  });

  it('should keep the failure in the platform chain when a wrong password names no tenant', async () => {
    const rid = `vis-none-${uniq()}`;
    const r = await t.gql(ME, undefined, {
      auth: basic(member.email, `${member.password}!`),
      headers: { 'x-request-id': rid },
    });
    expectError(r, 'UNAUTHENTICATED');
    expect(await platformEvents(rid)).toHaveLength(1);
    expect(await tenantEvents(rid)).toEqual([]);
  });

  it("should record the failure in the key's tenant chain when an API key of the tenant comes with a wrong secret", async () => {
    const key = await seedApiKey(t, tenant, MemberRole.MEMBER);
    const rid = `vis-key-${uniq()}`;
    const r = await t.gql(ME, undefined, {
      auth: basic(key.keyId, `${key.secret.slice(0, -2)}xx`),
      headers: { 'x-request-id': rid },
    });
    expectError(r, 'UNAUTHENTICATED');
    expect(await tenantEvents(rid)).toEqual([
      expect.objectContaining({
        actorLabel: key.keyId,
        metadata: { method: 'BASIC_API_KEY', reason: 'bad_secret' },
      }),
    ]);
    expect(await platformEvents(rid)).toEqual([]);
  });

  it("should record the failure in the tenant's chain when a SAML sign-in to the tenant fails", async () => {
    const idp = generateSamlKeyPair('roomkey-visibility-idp');
    const configured = await t.gql(
      `mutation($i: ConfigureSamlProviderInput!) { configureSamlProvider(input: $i) { id } }`,
      {
        i: {
          idpEntityId: 'https://idp.example.test/metadata',
          ssoUrl: 'https://idp.example.test/sso',
          idpCertificates: [idp.certPem],
          redirectUris: ['https://app.example.test/after-login'],
          roleMapping: [],
        },
      },
      { auth: tenant.owner.auth },
    );
    expect(configured.body.errors).toBeUndefined();
    const rid = `vis-saml-${uniq()}`;
    const res = await t
      .http()
      .post(`/auth/saml/${tenant.slug}/acs`)
      .set('x-request-id', rid)
      .type('form')
      .send({ RelayState: '' });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(await tenantEvents(rid)).toEqual([
      expect.objectContaining({ outcome: 'FAILURE', authMethod: 'SAML' }),
    ]);
    expect(await platformEvents(rid)).toEqual([]);
  });

  it('should let the platform admin read and verify the platform chain when it holds failures', async () => {
    const rid = `vis-platform-${uniq()}`;
    expectError(
      await t.gql(ME, undefined, {
        auth: basic(`nobody-${uniq()}@nowhere.test`, 'x'),
        headers: { 'x-request-id': rid },
      }),
      'UNAUTHENTICATED',
    );
    expect(await platformEvents(rid)).toEqual([
      expect.objectContaining({
        actorLabel: 'anonymous',
        metadata: { method: 'BASIC_PASSWORD', reason: 'unknown_user' },
      }),
    ]);
    const v = await t.gql<{ verifyPlatformAuditLog: { ok: boolean; checkedCount: number } }>(
      VERIFY_PLATFORM,
      undefined,
      { auth: t.adminAuth },
    );
    expect(v.body.errors).toBeUndefined();
    expect(v.body.data!.verifyPlatformAuditLog).toMatchObject({ ok: true, reason: null });
    expect(v.body.data!.verifyPlatformAuditLog.checkedCount).toBeGreaterThan(0);
  });

  it('should find a tampered platform event when verifying the platform chain', async () => {
    const rid = `vis-tamper-${uniq()}`;
    await t.gql(ME, undefined, {
      auth: basic(`nobody-${uniq()}@nowhere.test`, 'x'),
      headers: { 'x-request-id': rid },
    });
    const [event] = await platformEvents(rid);
    await t.ds.query('ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only');
    try {
      await t.ds.query(`UPDATE audit_event SET actor_label = 'someone-else' WHERE id = $1`, [
        event.id,
      ]);
      const v = await t.gql<{ verifyPlatformAuditLog: unknown }>(VERIFY_PLATFORM, undefined, {
        auth: t.adminAuth,
      });
      expect(v.body.data!.verifyPlatformAuditLog).toMatchObject({
        ok: false,
        firstInvalidEventId: event.id,
        reason: 'hash_mismatch',
      });
    } finally {
      await t.ds.query(`UPDATE audit_event SET actor_label = $2 WHERE id = $1`, [
        event.id,
        event.actorLabel,
      ]);
      await t.ds.query('ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only');
    }
  });

  it.each([
    ['platformAuditEvents', `{ platformAuditEvents { edges { node { id } } } }`],
    ['verifyPlatformAuditLog', VERIFY_PLATFORM],
  ])(
    'should answer FORBIDDEN to a tenant OWNER who is not a platform admin when calling %s',
    async (_field, query) => {
      const rid = `vis-forbidden-${uniq()}`;
      const r = await t.gql(query, undefined, {
        auth: tenant.owner.auth,
        headers: { 'x-request-id': rid },
      });
      expectError(r, 'FORBIDDEN');
      const denied = await t.gql<{ auditEvents: Events }>(
        EVENTS,
        { f: { action: 'authz.denied' } },
        { auth: admin.auth },
      );
      expect(denied.body.data!.auditEvents.edges.filter((e) => e.node.requestId === rid)).toEqual([
        {
          node: expect.objectContaining({
            outcome: 'DENIED',
            metadata: expect.objectContaining({ reason: 'platform_admin_required' }) as unknown,
          }) as unknown,
        },
      ]);
    },
  );

  it('should answer FORBIDDEN to an API key when calling platformAuditEvents, even an OWNER key', async () => {
    const key = await seedApiKey(t, tenant, MemberRole.OWNER);
    expectError(
      await t.gql('{ platformAuditEvents { edges { node { id } } } }', undefined, {
        auth: key.auth,
      }),
      'FORBIDDEN',
    );
  });
});
