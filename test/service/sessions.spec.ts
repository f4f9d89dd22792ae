import { MemberRole } from '../../src/common/auth/roles';
import { ErrorCode } from '../../src/common/errors/error-code';
import { ProviderCredentialsService } from '../../src/providers/provider-credentials.service';
import { ParticipantRole, ProviderKind } from '../../src/providers/provider-kind';
import { ConnectionsService, SESSION_GONE } from '../../src/sessions/connections.service';
import { SessionStatus } from '../../src/sessions/session-status';
import { SessionsService } from '../../src/sessions/sessions.service';
import { type SeededTenant } from '../factories/tenancy';
import { type Services, rejection, startServices } from './services';

/**
 * Sessions and join credentials at the service tier: what the session layer does with each vendor
 * answer, with rows, audit events and vendor calls in view (no HTTP; the vendor is a FakeVendor).
 */
describe('sessions and join credentials (service tier)', () => {
  let s: Services;
  let tenant: SeededTenant;
  let credentialId: string;
  const SECRET = 'openvidu-secret-for-the-service-tier';
  const ORIGIN = { via: 'graphql', route: 'graphql:createConnection' };

  const sessions = () => s.app.get(SessionsService);
  const connections = () => s.app.get(ConnectionsService);
  const admin = () => s.as(tenant, MemberRole.ADMIN);
  const openvidu = () => s.vendor(ProviderKind.OPENVIDU);

  async function events(tenantId: string, action: string) {
    return s.ds.query<Array<{ outcome: string; metadata: Record<string, unknown> }>>(
      'SELECT outcome::text AS outcome, metadata FROM audit_event WHERE tenant_id = $1 AND action = $2 ORDER BY seq',
      [tenantId, action],
    );
  }

  async function rows(table: 'video_session' | 'session_connection', tenantId: string) {
    const [r] = await s.ds.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM ${table} WHERE tenant_id = $1`,
      [tenantId],
    );
    return r.n;
  }

  beforeAll(async () => {
    s = await startServices();
  });
  afterAll(() => s?.close());

  beforeEach(async () => {
    openvidu().clearCalls();
    tenant = await s.tenant();
    const cred = await s.app.get(ProviderCredentialsService).create(admin(), {
      name: 'fake openvidu',
      isDefault: true,
      openvidu: { url: 'https://openvidu.service-tier.test', secret: SECRET },
    });
    credentialId = cred.id;
  });

  it('should create the room once, with the stored secret, and record one session.created', async () => {
    const session = await sessions().create(admin(), {
      provider: ProviderKind.OPENVIDU,
      customSessionId: 'daily-standup',
      name: 'Daily stand-up',
    });

    expect(session.status).toBe(SessionStatus.ACTIVE);
    expect(session.externalId).toBe('daily-standup');
    expect(openvidu().calls.map((c) => [c.op, c.credentialId, c.secrets.secret])).toEqual([
      ['createRoom', credentialId, SECRET],
    ]);
    const created = await events(tenant.id, 'session.created');
    expect(created).toHaveLength(1);
    expect(JSON.stringify(created)).not.toContain(SECRET);
  });

  it('should call the vendor once for concurrent creates of one customSessionId', async () => {
    const ask = { provider: ProviderKind.OPENVIDU, customSessionId: 'all-hands' };
    const made = await Promise.all([1, 2, 3].map(() => sessions().create(admin(), ask)));

    expect(new Set(made.map((m) => m.id)).size).toBe(1);
    expect(openvidu().calls.filter((c) => c.op === 'createRoom')).toHaveLength(1);
    expect(await rows('video_session', tenant.id)).toBe(1);
  });

  it('should store nothing when the vendor fails the create', async () => {
    openvidu().failNext();
    const err = await rejection(
      sessions().create(admin(), { provider: ProviderKind.OPENVIDU, customSessionId: 'lost' }),
    );

    expect(err.code).toBe(ErrorCode.PROVIDER_UNAVAILABLE);
    expect(await rows('video_session', tenant.id)).toBe(0);
    expect(await events(tenant.id, 'session.created')).toEqual([]);
  });

  it('should refuse a bad room name before the vendor or the database sees it', async () => {
    const err = await rejection(
      sessions().create(admin(), { provider: ProviderKind.OPENVIDU, customSessionId: 'a b/../c' }),
    );

    expect([err.code, err.field]).toEqual([ErrorCode.BAD_USER_INPUT, 'customSessionId']);
    expect(openvidu().calls).toEqual([]);
    expect(await rows('video_session', tenant.id)).toBe(0);
  });

  it('should mint within the vendor lifetime and record the connection with its event', async () => {
    const session = await sessions().create(admin(), { provider: ProviderKind.OPENVIDU });
    const issued = await connections().issueFor(
      admin(),
      session,
      { role: ParticipantRole.SUBSCRIBER, identity: 'alice', ttlSeconds: 600 },
      ORIGIN,
    );

    const join = openvidu().calls.find((c) => c.op === 'issueJoin')?.join;
    expect(join).toMatchObject({
      roomExternalId: session.externalId,
      role: ParticipantRole.SUBSCRIBER,
      identity: 'alice',
      ttlSeconds: 600,
    });
    expect(issued.connection.identity).toBe('alice');
    const created = await events(tenant.id, 'connection.created');
    expect(created.map((e) => [e.outcome, e.metadata.route, e.metadata.identity])).toEqual([
      ['SUCCESS', ORIGIN.route, 'alice'],
    ]);
    expect(JSON.stringify(created)).not.toContain(String(issued.credential.token));
  });

  it.each([
    ['a lifetime above the vendor maximum', { ttlSeconds: 10 * 365 * 24 * 3600 }, 'ttlSeconds'],
    ['a lifetime of zero', { ttlSeconds: 0 }, 'ttlSeconds'],
    ['an identity the vendor cannot carry', { identity: 'x'.repeat(300) }, 'identity'],
  ])('should refuse %s before calling the vendor', async (_what, input, field) => {
    const session = await sessions().create(admin(), { provider: ProviderKind.OPENVIDU });
    openvidu().clearCalls();

    const err = await rejection(connections().issueFor(admin(), session, input, ORIGIN));

    expect([err.code, err.field]).toEqual([ErrorCode.BAD_USER_INPUT, field]);
    expect(openvidu().calls).toEqual([]);
    expect(await rows('session_connection', tenant.id)).toBe(0);
  });

  it('should end the session when the vendor no longer has its room, so the next create makes a new one', async () => {
    const ask = { provider: ProviderKind.OPENVIDU, customSessionId: 'weekly' };
    const first = await sessions().create(admin(), ask);
    openvidu().forget('weekly');

    const err = await rejection(connections().issueFor(admin(), first, {}, ORIGIN));

    expect([err.code, err.reason]).toEqual([ErrorCode.CONFLICT, SESSION_GONE]);
    expect((await sessions().get(admin(), first.id)).status).toBe(SessionStatus.ENDED);
    const second = await sessions().create(admin(), ask);
    expect(second.id).not.toBe(first.id);
    expect(second.status).toBe(SessionStatus.ACTIVE);
  });

  it('should refuse a MODERATOR credential to a MEMBER before calling the vendor', async () => {
    const session = await sessions().create(admin(), { provider: ProviderKind.OPENVIDU });
    openvidu().clearCalls();
    const member = s.as(tenant, MemberRole.MEMBER);

    const err = await rejection(
      connections().issueFor(member, session, { role: ParticipantRole.MODERATOR }, ORIGIN),
    );
    expect([err.code, err.reason]).toEqual([ErrorCode.FORBIDDEN, 'moderator_requires_admin']);
    expect(openvidu().calls).toEqual([]);

    await connections().issueFor(member, session, { role: ParticipantRole.PUBLISHER }, ORIGIN);
    expect(openvidu().calls.map((c) => c.op)).toEqual(['issueJoin']);
  });

  it('should refuse to delete a credential with open sessions, and end them when forced', async () => {
    const session = await sessions().create(admin(), { provider: ProviderKind.OPENVIDU });
    const credentials = s.app.get(ProviderCredentialsService);

    const refused = await rejection(credentials.delete(admin(), credentialId, false));
    expect(refused.code).toBe(ErrorCode.CONFLICT);
    expect((await sessions().get(admin(), session.id)).status).toBe(SessionStatus.ACTIVE);

    await credentials.delete(admin(), credentialId, true);
    const ended = await sessions().get(admin(), session.id);
    expect(ended.status).toBe(SessionStatus.ENDED);
    expect(ended.credentialId).toBeNull();
    const endings = await events(tenant.id, 'session.ended');
    expect(endings.map((e) => e.metadata.reason)).toEqual(['credential_deleted']);
    // Nothing is closed at the vendor: the credential to do it with is gone.
    expect(openvidu().calls.filter((c) => c.op === 'closeRoom')).toEqual([]);
  });

  it("should not find another tenant's session", async () => {
    const session = await sessions().create(admin(), { provider: ProviderKind.OPENVIDU });
    const other = await s.tenant();

    const err = await rejection(sessions().get(s.as(other, MemberRole.OWNER), session.id));

    expect(err.code).toBe(ErrorCode.NOT_FOUND);
  });
});
