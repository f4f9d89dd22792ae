/**
 * Sessions API: what is refused before any vendor call (docs/security.md S9), who may do what with
 * sessions and join credentials (README "Sessions and join credentials"), what a misbehaving vendor
 * does to a caller (docs/security.md S14: timeouts, bounded retries, circuit breaker, audit), and
 * deleting a credential that still has open sessions.
 *
 * Everything runs through GraphQL against the real app and the HTTP vendor emulators on 127.0.0.1.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { MemberRole } from '../src/common/auth/roles';
import { type FaultMode } from './emulators/faults';
import { type SeededUser, seedMember, seedTenant } from './factories/tenancy';
import { expectError, uniq } from './helpers/assertions';
import { type AuditRow, auditHighWater, auditSince } from './helpers/audit';
import { type GqlResult } from './helpers/test-app';
import {
  CREATE_CONNECTION,
  CREATE_SESSION,
  type ConnectionJson,
  END_SESSION,
  type HttpKind,
  type Kind,
  REVOKE_CONNECTION,
  type SessionJson,
  SESSION_FIELDS,
  type VendorWorld,
  credentialInputs,
  ok,
  sessionCounts,
  startVendorWorld,
} from './helpers/vendors';

type Input = Record<string, unknown>;
type Result = GqlResult<Record<string, unknown>>;

const SESSION_QUERY = `query ($id: ID!) { session(id: $id) { ${SESSION_FIELDS} connections { id status revokedAt } } }`;
const DELETE_CREDENTIAL =
  'mutation ($id: ID!, $force: Boolean) { deleteProviderCredential(id: $id, force: $force) { id kind } }';
const CREATE_CREDENTIAL =
  'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }';

/** A vendor world plus the small helpers every describe below uses. */
function worldHelpers(get: () => VendorWorld) {
  const gql = (query: string, variables: Input, auth?: string): Promise<Result> => {
    const w = get();
    return w.t.gql(query, variables, { auth: auth ?? w.a.admin.auth });
  };
  const createSession = async (input: Input, auth?: string): Promise<SessionJson> =>
    (await ok(gql(CREATE_SESSION, { input }, auth))).createSession as SessionJson;
  const createConnection = async (input: Input, auth?: string): Promise<ConnectionJson> =>
    (await ok(gql(CREATE_CONNECTION, { input }, auth))).createConnection as ConnectionJson;
  const endSession = async (id: string, auth?: string): Promise<SessionJson> =>
    (await ok(gql(END_SESSION, { id }, auth))).endSession as SessionJson;
  const revoke = async (id: string, auth?: string): Promise<ConnectionJson> =>
    (await ok(gql(REVOKE_CONNECTION, { id }, auth))).revokeConnection as ConnectionJson;
  const getSession = async (
    id: string,
  ): Promise<SessionJson & { connections: Array<Pick<ConnectionJson, 'id' | 'status'>> }> =>
    (await ok(gql(SESSION_QUERY, { id }))).session as SessionJson & {
      connections: Array<Pick<ConnectionJson, 'id' | 'status'>>;
    };
  /** A new non-default credential of `kind` (its own circuit breaker and Pexip token cache). */
  const freshCredential = async (kind: Kind, extra: Input = {}): Promise<string> => {
    const w = get();
    const input = { name: `${kind.toLowerCase()}-${uniq()}`, isDefault: false };
    const data = await ok(
      gql(CREATE_CREDENTIAL, { input: { ...input, ...credentialInputs(w)[kind], ...extra } }),
    );
    return (data.createProviderCredential as { id: string }).id;
  };
  /** The newest audit sequence number of tenant a. */
  const auditMark = (): Promise<number> => auditHighWater(get().t, get().a.tenant.id);
  /** Tenant a's audit events with this action written after `mark`. */
  const auditSinceMark = (mark: number, action: string): Promise<AuditRow[]> =>
    auditSince(get().t, get().a.tenant.id, mark, { action });
  const creatingRows = async (): Promise<number> => {
    const [row] = await get().t.ds.query<Array<{ n: number }>>(
      "SELECT count(*)::int AS n FROM video_session WHERE status = 'CREATING'",
    );
    return row.n;
  };
  const rowsOfCredential = async (credentialId: string): Promise<number> => {
    const [row] = await get().t.ds.query<Array<{ n: number }>>(
      'SELECT count(*)::int AS n FROM video_session WHERE credential_id = $1',
      [credentialId],
    );
    return row.n;
  };
  return {
    gql,
    createSession,
    createConnection,
    endSession,
    revoke,
    getSession,
    freshCredential,
    auditMark,
    auditSince: auditSinceMark,
    creatingRows,
    rowsOfCredential,
  };
}

const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');
const E_ACUTE = '\u00e9'; // precomposed é: NFC, two bytes in UTF-8

describe('sessions: validation, role policy, vendor faults and credential deletion', () => {
  let w: VendorWorld;
  const h = worldHelpers(() => w);

  beforeAll(async () => {
    w = await startVendorWorld();
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const emulatorOf = (kind: HttpKind) =>
    ({ OPENVIDU: w.ov, LIVEKIT: w.lk, PEXIP: w.px, FISHJAM: w.fj })[kind];

  describe('validation before any vendor call', () => {
    /** A tenant with an ADMIN and no vendor credential at all. */
    let bare: SeededUser;
    let red5Short: string;
    const s = {} as Record<Kind, SessionJson>;

    beforeAll(async () => {
      const tenant = await seedTenant(w.t);
      bare = await seedMember(w.t, tenant, MemberRole.ADMIN);
      red5Short = await h.freshCredential('RED5', {
        red5: { tokenTtlSeconds: 60, allowedIps: [] },
      });
      s.OPENVIDU = await h.createSession({ provider: 'OPENVIDU', customSessionId: 'val-ov' });
      s.LIVEKIT = await h.createSession({ provider: 'LIVEKIT', customSessionId: 'val-lk' });
      s.PEXIP = await h.createSession({ provider: 'PEXIP' });
      s.AGORA = await h.createSession({ provider: 'AGORA', customSessionId: 'val agora' });
      s.FISHJAM = await h.createSession({ provider: 'FISHJAM' });
      s.RED5 = await h.createSession({ credentialId: red5Short, customSessionId: 'val-red5' });
    });

    /** Runs `call` and checks it changed nothing anywhere: no vendor call, no row, no claim. */
    const refusedWithoutEffects = async (call: () => Promise<Result>): Promise<Result> => {
      const before = await sessionCounts(w.t);
      const r = await call();
      expectError(r, 'BAD_USER_INPUT');
      expect(w.totalCalls()).toBe(0);
      expect(await sessionCounts(w.t)).toEqual(before);
      expect(await h.creatingRows()).toBe(0);
      return r;
    };

    interface SessionCase {
      label: string;
      field: string;
      input: () => Input;
      auth?: () => string;
      message?: RegExp;
    }
    const ov = (customSessionId: string): Input => ({ provider: 'OPENVIDU', customSessionId });
    const agora = (customSessionId: string): Input => ({ provider: 'AGORA', customSessionId });
    const lk = (customSessionId: string): Input => ({ provider: 'LIVEKIT', customSessionId });

    const sessionCases: SessionCase[] = [
      {
        label: 'an OpenVidu customSessionId has a space',
        field: 'customSessionId',
        input: () => ov('a b'),
      },
      {
        label: "an OpenVidu customSessionId has a '/'",
        field: 'customSessionId',
        input: () => ov('a/b'),
      },
      {
        label: "an OpenVidu customSessionId is '..'",
        field: 'customSessionId',
        input: () => ov('..'),
      },
      {
        label: 'an OpenVidu customSessionId has a zero-width space (U+200B)',
        field: 'customSessionId',
        input: () => ov('ab\u200bc'),
      },
      {
        label: 'an OpenVidu customSessionId has a right-to-left override (U+202E)',
        field: 'customSessionId',
        input: () => ov('ab\u202ecd'),
      },
      {
        label: 'an OpenVidu customSessionId is not in NFC form',
        field: 'customSessionId',
        input: () => ov('cafe\u0301'),
        message: /NFC/,
      },
      {
        label: 'an Agora channel is 64 ASCII bytes',
        field: 'customSessionId',
        input: () => agora('a'.repeat(64)),
        message: /63 bytes/,
      },
      {
        label: 'an Agora channel is 65 ASCII bytes',
        field: 'customSessionId',
        input: () => agora('a'.repeat(65)),
        message: /63 bytes/,
      },
      {
        label: "an Agora channel is 64 bytes made of 32 'é' characters",
        field: 'customSessionId',
        input: () => agora(E_ACUTE.repeat(32)),
        message: /63 bytes/,
      },
      {
        label: "an Agora channel is 63 characters but 64 bytes because of one 'é'",
        field: 'customSessionId',
        input: () => agora('a'.repeat(62) + E_ACUTE),
        message: /63 bytes/,
      },
      {
        label: "an Agora channel is 65 bytes with a trailing 'é'",
        field: 'customSessionId',
        input: () => agora('a'.repeat(63) + E_ACUTE),
        message: /63 bytes/,
      },
      {
        label: "an Agora channel has a '*'",
        field: 'customSessionId',
        input: () => agora('town*hall'),
        message: /may only contain/,
      },
      {
        label: 'an Agora channel has a double quote',
        field: 'customSessionId',
        input: () => agora('town"hall'),
        message: /may only contain/,
      },
      {
        label: "an Agora channel has a short 'é' (outside Agora's charset)",
        field: 'customSessionId',
        input: () => agora(`caf${E_ACUTE}`),
        message: /may only contain/,
      },
      {
        label: "a LiveKit room name has a '/'",
        field: 'customSessionId',
        input: () => lk('room/1'),
      },
      {
        label: "a LiveKit room name has a '?'",
        field: 'customSessionId',
        input: () => lk('room?x=1'),
      },
      {
        label: "a LiveKit room name has a '#'",
        field: 'customSessionId',
        input: () => lk('room#top'),
      },
      {
        label: "a LiveKit room name has a '%'",
        field: 'customSessionId',
        input: () => lk('room%2F'),
      },
      {
        label: 'a Red5 stream name has a space',
        field: 'customSessionId',
        input: () => ({ provider: 'RED5', customSessionId: 'my stream' }),
      },
      {
        label: 'a session name has a control character',
        field: 'name',
        input: () => ({ provider: 'PEXIP', name: 'weekly\u0007sync' }),
      },
      {
        label: 'a session name has a line feed',
        field: 'name',
        input: () => ({ provider: 'OPENVIDU', name: 'weekly\nsync' }),
      },
      {
        label: 'a session name starts with spaces',
        field: 'name',
        input: () => ({ provider: 'FISHJAM', name: '  weekly sync' }),
      },
      {
        label: 'a session name has a right-to-left override',
        field: 'name',
        input: () => ({ provider: 'PEXIP', name: 'invoice\u202efdp.exe' }),
      },
      {
        label: 'a session name is longer than 200 characters',
        field: 'name',
        input: () => ({ provider: 'PEXIP', name: 'n'.repeat(201) }),
      },
      {
        label: 'a customSessionId is longer than 200 characters',
        field: 'customSessionId',
        input: () => ({ provider: 'PEXIP', customSessionId: 'k'.repeat(201) }),
      },
      {
        label: 'a livekit options block is given for an OpenVidu session',
        field: 'livekit',
        input: () => ({ provider: 'OPENVIDU', livekit: { maxParticipants: 2 } }),
      },
      {
        label: 'a fishjam options block is given for a LiveKit session',
        field: 'fishjam',
        input: () => ({ provider: 'LIVEKIT', fishjam: { maxPeers: 2 } }),
      },
      {
        label: 'an openvidu options block is given for an Agora credential by id',
        field: 'openvidu',
        input: () => ({ credentialId: w.a.creds.AGORA, openvidu: { recordingMode: 'MANUAL' } }),
      },
      {
        label: 'neither provider nor credentialId is given',
        field: 'provider',
        input: () => ({ customSessionId: 'orphan' }),
      },
      {
        label: 'credentialId is a LiveKit credential but provider is OPENVIDU',
        field: 'credentialId',
        input: () => ({ provider: 'OPENVIDU', credentialId: w.a.creds.LIVEKIT }),
      },
      {
        label: 'the tenant has no default credential for the provider',
        field: 'provider',
        input: () => ({ provider: 'LIVEKIT', customSessionId: 'no-default' }),
        auth: () => bare.auth,
      },
    ];

    it.each(sessionCases)(
      'should refuse createSession with BAD_USER_INPUT naming $field and call no vendor when $label',
      async ({ field, input, auth, message }) => {
        const r = await refusedWithoutEffects(() =>
          h.gql(CREATE_SESSION, { input: input() }, auth?.()),
        );
        expect(r.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
        if (message) expect(r.body.errors![0].message).toMatch(message);
      },
    );

    it('should create an Agora channel when its name is exactly 63 bytes from the allowed charset', async () => {
      const channel = `${'x'.repeat(50)} !#$%&()+-:;@`;
      expect(bytes(channel)).toBe(63);
      const before = await sessionCounts(w.t);
      const created = await h.createSession({ provider: 'AGORA', customSessionId: channel });
      expect(created).toMatchObject({ externalId: channel, status: 'ACTIVE' });
      expect(await sessionCounts(w.t)).toEqual({ ...before, sessions: before.sessions + 1 });
      const c = await h.createConnection({ sessionId: created.id, agora: { uid: 1 } });
      expect(c.credential).toMatchObject({ __typename: 'AgoraCredential', channel });
      expect(w.totalCalls()).toBe(0);
    });

    it.each(['AGORA', 'LIVEKIT', 'RED5'] as const)(
      'should keep name as a display name and generate the %s vendor id when no customSessionId is given',
      async (provider) => {
        // Names outside every vendor charset are fine: a display name never reaches the vendor.
        const name = `../Weekly sync #${'é'.repeat(40)}`;
        const created = await h.createSession({ provider, name });
        expect(created.name).toBe(name);
        expect(created.customSessionId).toBeNull();
        expect(created.externalId).toMatch(/^rk-[0-9a-f]{16}$/);
        const again = await h.createSession({ provider, name });
        expect(again.id).not.toBe(created.id);
        expect(again.externalId).not.toBe(created.externalId);
      },
    );

    interface ConnectionCase {
      label: string;
      field: string;
      kind: Kind;
      input: Input;
    }
    const connectionCases: ConnectionCase[] = [
      {
        label: 'a displayName has a control character',
        field: 'displayName',
        kind: 'OPENVIDU',
        input: { displayName: 'Al\u0000ice' },
      },
      {
        label: 'a displayName has a bell character',
        field: 'displayName',
        kind: 'FISHJAM',
        input: { displayName: 'Bob\u0007' },
      },
      {
        label: 'a displayName starts with a space',
        field: 'displayName',
        kind: 'OPENVIDU',
        input: { displayName: ' Alice' },
      },
      {
        label: 'a displayName has a zero-width space',
        field: 'displayName',
        kind: 'LIVEKIT',
        input: { displayName: 'Ali\u200bce' },
      },
      {
        label: 'a displayName is longer than 200 characters',
        field: 'displayName',
        kind: 'PEXIP',
        input: { displayName: 'd'.repeat(201) },
      },
      {
        label: "a LiveKit identity has a '/'",
        field: 'identity',
        kind: 'LIVEKIT',
        input: { identity: 'alice/admin' },
      },
      {
        label: "an OpenVidu identity has a '/'",
        field: 'identity',
        kind: 'OPENVIDU',
        input: { identity: '../x' },
      },
      {
        label: "a Fishjam identity has a '?'",
        field: 'identity',
        kind: 'FISHJAM',
        input: { identity: 'bob?x' },
      },
      {
        label: 'an identity is empty',
        field: 'identity',
        kind: 'LIVEKIT',
        input: { identity: '' },
      },
      {
        label: 'an identity is longer than 128 characters',
        field: 'identity',
        kind: 'LIVEKIT',
        input: { identity: 'i'.repeat(129) },
      },
      { label: 'an Agora uid is -1', field: 'uid', kind: 'AGORA', input: { agora: { uid: -1 } } },
      {
        label: 'an Agora uid is 4294967296',
        field: 'uid',
        kind: 'AGORA',
        input: { agora: { uid: 4294967296 } },
      },
      { label: 'an Agora uid is 1.5', field: 'uid', kind: 'AGORA', input: { agora: { uid: 1.5 } } },
      {
        label: 'an Agora userAccount is not ASCII',
        field: 'userAccount',
        kind: 'AGORA',
        input: { agora: { userAccount: `jos${E_ACUTE}` } },
      },
      {
        label: 'an agora block is given for a LiveKit session',
        field: 'agora',
        kind: 'LIVEKIT',
        input: { agora: { uid: 5 } },
      },
      {
        label: 'an agora block is given for an OpenVidu session',
        field: 'agora',
        kind: 'OPENVIDU',
        input: { agora: { uid: 5 } },
      },
      {
        label: 'an identity is given for an Agora session',
        field: 'identity',
        kind: 'AGORA',
        input: { identity: 'alice' },
      },
      { label: 'ttlSeconds is 0', field: 'ttlSeconds', kind: 'LIVEKIT', input: { ttlSeconds: 0 } },
      { label: 'ttlSeconds is -1', field: 'ttlSeconds', kind: 'AGORA', input: { ttlSeconds: -1 } },
      {
        label: 'ttlSeconds is 86401',
        field: 'ttlSeconds',
        kind: 'OPENVIDU',
        input: { ttlSeconds: 86401 },
      },
      {
        label: 'ttlSeconds is 86401 for Fishjam',
        field: 'ttlSeconds',
        kind: 'FISHJAM',
        input: { ttlSeconds: 86401 },
      },
      {
        label: "a Red5 ttlSeconds is above the credential's tokenTtlSeconds",
        field: 'ttlSeconds',
        kind: 'RED5',
        input: { ttlSeconds: 61 },
      },
      {
        label: 'data is longer than 4000 characters',
        field: 'data',
        kind: 'OPENVIDU',
        input: { data: 'x'.repeat(4001) },
      },
    ];

    it.each(connectionCases)(
      'should refuse createConnection with BAD_USER_INPUT naming $field and call no vendor when $label',
      async ({ field, kind, input }) => {
        const r = await refusedWithoutEffects(() =>
          h.gql(CREATE_CONNECTION, { input: { sessionId: s[kind].id, ...input } }),
        );
        expect(r.body.errors![0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field } });
      },
    );

    it("should issue a Red5 credential when ttlSeconds equals the credential's tokenTtlSeconds and default to it", async () => {
      const at60 = await h.createConnection({ sessionId: s.RED5.id, ttlSeconds: 60 });
      const byDefault = await h.createConnection({ sessionId: s.RED5.id });
      for (const c of [at60, byDefault]) {
        const lifetime =
          (new Date(c.expiresAt!).getTime() - new Date(c.createdAt).getTime()) / 1000;
        expect(Math.round(lifetime)).toBe(60);
      }
    });

    it('should issue credentials when ttlSeconds is at the 1 and 86400 bounds', async () => {
      const one = await h.createConnection({ sessionId: s.LIVEKIT.id, ttlSeconds: 1 });
      const day = await h.createConnection({ sessionId: s.AGORA.id, ttlSeconds: 86400 });
      expect(one.expiresAt).not.toBeNull();
      expect(day.credential?.__typename).toBe('AgoraCredential');
    });

    interface SchemaCase {
      label: string;
      doc: string;
      variables: () => Input;
      mentions: RegExp;
    }
    const schemaCases: SchemaCase[] = [
      {
        label: 'createSession input has an unknown field',
        doc: CREATE_SESSION,
        variables: () => ({ input: { provider: 'OPENVIDU', tenantId: w.b.tenant.id } }),
        mentions: /tenantId/,
      },
      {
        label: 'createSession provider is not a ProviderKind',
        doc: CREATE_SESSION,
        variables: () => ({ input: { provider: 'ZOOM' } }),
        mentions: /provider/,
      },
      {
        label: 'createConnection input has an unknown field',
        doc: CREATE_CONNECTION,
        variables: () => ({ input: { sessionId: s.OPENVIDU.id, createdBy: w.a.owner.id } }),
        mentions: /createdBy/,
      },
      {
        label: 'createConnection role is not a ParticipantRole',
        doc: CREATE_CONNECTION,
        variables: () => ({ input: { sessionId: s.LIVEKIT.id, role: 'OWNER' } }),
        mentions: /role/,
      },
      {
        label: 'createConnection ttlSeconds is 1.5',
        doc: CREATE_CONNECTION,
        variables: () => ({ input: { sessionId: s.LIVEKIT.id, ttlSeconds: 1.5 } }),
        mentions: /ttlSeconds/,
      },
      {
        label: 'the agora block has an unknown field',
        doc: CREATE_CONNECTION,
        variables: () => ({ input: { sessionId: s.AGORA.id, agora: { uid: 1, admin: true } } }),
        mentions: /admin/,
      },
    ];

    it.each(schemaCases)(
      'should answer BAD_USER_INPUT from GraphQL and call no vendor when $label',
      async ({ doc, variables, mentions }) => {
        const r = await refusedWithoutEffects(() => h.gql(doc, variables()));
        expect(r.body.errors![0].message).toMatch(mentions);
      },
    );
  });

  describe('role policy', () => {
    const MODERATOR_DENIED = 'connection.created';

    it('should let a MEMBER user and a MEMBER API key create sessions and issue SUBSCRIBER and PUBLISHER credentials when they ask', async () => {
      for (const auth of [w.a.member.auth, w.a.memberKey]) {
        const session = await h.createSession({ provider: 'OPENVIDU' }, auth);
        expect(session.status).toBe('ACTIVE');
        for (const role of ['SUBSCRIBER', 'PUBLISHER'] as const) {
          const c = await h.createConnection({ sessionId: session.id, role }, auth);
          expect(c.role).toBe(role);
          const id = String(c.credential!.connectionId);
          expect(w.ov.connection(session.externalId, id)?.role).toBe(role);
        }
        const lkSession = await h.createSession({ provider: 'LIVEKIT' }, auth);
        const sub = await h.createConnection({ sessionId: lkSession.id, role: 'SUBSCRIBER' }, auth);
        const claims = w.lk.verify(String(sub.credential!.token));
        expect(claims.video).toMatchObject({ canPublish: false, canSubscribe: true });
        expect(claims.video?.roomAdmin).toBeFalsy();
      }
    });

    it.each([
      { who: 'a MEMBER user', auth: () => w.a.member.auth },
      { who: 'a MEMBER API key', auth: () => w.a.memberKey },
    ])(
      'should answer FORBIDDEN, call no vendor, store nothing and audit DENIED when $who asks for a MODERATOR credential',
      async ({ auth }) => {
        const session = await h.createSession({ provider: 'OPENVIDU' }, auth());
        w.quiet();
        const before = await sessionCounts(w.t);
        const mark = await h.auditMark();
        const r = await h.gql(
          CREATE_CONNECTION,
          { input: { sessionId: session.id, role: 'MODERATOR' } },
          auth(),
        );
        expectError(r, 'FORBIDDEN');
        expect(w.totalCalls()).toBe(0);
        expect(await sessionCounts(w.t)).toEqual(before);
        expect(w.ov.session(session.externalId)?.connections.numberOfElements).toBe(0);
        const events = await h.auditSince(mark, MODERATOR_DENIED);
        expect(events).toEqual([
          expect.objectContaining({ outcome: 'DENIED', error_code: 'FORBIDDEN' }),
        ]);
      },
    );

    it.each([
      { who: 'an ADMIN user', auth: () => w.a.admin.auth },
      { who: 'the OWNER', auth: () => w.a.owner.auth },
      { who: 'an ADMIN API key', auth: () => w.a.adminKey },
    ])(
      'should issue a MODERATOR credential with LiveKit roomAdmin and the OpenVidu MODERATOR role when $who asks',
      async ({ auth }) => {
        const room = await h.createSession({ provider: 'LIVEKIT' }, auth());
        const c = await h.createConnection({ sessionId: room.id, role: 'MODERATOR' }, auth());
        expect(c.role).toBe('MODERATOR');
        const claims = w.lk.verify(String(c.credential!.token));
        expect(claims.video).toMatchObject({
          roomAdmin: true,
          room: room.externalId,
          canPublish: true,
        });

        const ovs = await h.createSession({ provider: 'OPENVIDU' }, auth());
        const oc = await h.createConnection({ sessionId: ovs.id, role: 'MODERATOR' }, auth());
        expect(w.ov.connection(ovs.externalId, String(oc.credential!.connectionId))?.role).toBe(
          'MODERATOR',
        );
      },
    );

    it('should let a MEMBER end and revoke only what that same actor created when the target belongs to someone else', async () => {
      const member = w.a.member.auth;
      const adminSession = await h.createSession({
        provider: 'OPENVIDU',
        customSessionId: `pol-a-${uniq()}`,
      });
      const adminConn = await h.createConnection({ sessionId: adminSession.id });
      const memberConnInAdminSession = await h.createConnection(
        { sessionId: adminSession.id },
        member,
      );
      const memberSession = await h.createSession(
        { provider: 'OPENVIDU', customSessionId: `pol-m-${uniq()}` },
        member,
      );
      const memberConn = await h.createConnection({ sessionId: memberSession.id }, member);
      const adminConnId = String(adminConn.credential!.connectionId);
      w.quiet();
      const mark = await h.auditMark();

      // The admin's connection and session: refused, and nothing happens at the vendor.
      expectError(await h.gql(REVOKE_CONNECTION, { id: adminConn.id }, member), 'FORBIDDEN');
      expectError(await h.gql(END_SESSION, { id: adminSession.id }, member), 'FORBIDDEN');
      // Another MEMBER actor (the MEMBER API key) cannot manage the member user's rows either.
      expectError(
        await h.gql(REVOKE_CONNECTION, { id: memberConn.id }, w.a.memberKey),
        'FORBIDDEN',
      );
      expectError(await h.gql(END_SESSION, { id: memberSession.id }, w.a.memberKey), 'FORBIDDEN');
      expect(w.totalCalls()).toBe(0);
      expect(w.ov.connection(adminSession.externalId, adminConnId)).toBeDefined();
      expect(w.ov.session(adminSession.externalId)).toBeDefined();
      const adminView = await h.getSession(adminSession.id);
      expect(adminView.status).toBe('ACTIVE');
      expect(adminView.connections.find((c) => c.id === adminConn.id)?.status).toBe('ISSUED');
      expect((await h.getSession(memberSession.id)).status).toBe('ACTIVE');
      const denied = [
        ...(await h.auditSince(mark, 'connection.revoked')),
        ...(await h.auditSince(mark, 'session.ended')),
      ];
      expect(denied.map((e) => [e.outcome, e.error_code])).toEqual([
        ['DENIED', 'FORBIDDEN'],
        ['DENIED', 'FORBIDDEN'],
        ['DENIED', 'FORBIDDEN'],
        ['DENIED', 'FORBIDDEN'],
      ]);

      // Its own: allowed, and the vendor is told.
      const revoked = await h.revoke(memberConnInAdminSession.id, member);
      expect(revoked.status).toBe('REVOKED');
      expect(
        w.ov.connection(
          adminSession.externalId,
          String(memberConnInAdminSession.credential!.connectionId),
        ),
      ).toBeUndefined();
      const ended = await h.endSession(memberSession.id, member);
      expect(ended).toMatchObject({ status: 'ENDED', endReason: 'ended' });
      expect(w.ov.session(memberSession.externalId)).toBeUndefined();
      expect(w.ov.session(adminSession.externalId)).toBeDefined();
      expect(memberConn.createdBy).toBe(w.a.member.id);
    });

    it('should let an ADMIN end and revoke what a MEMBER created when asked', async () => {
      const member = w.a.member.auth;
      const session = await h.createSession({ provider: 'LIVEKIT' }, member);
      const conn = await h.createConnection(
        { sessionId: session.id, identity: `m-${uniq()}` },
        member,
      );
      w.lk.joinAs(String(conn.credential!.token));
      expect(w.lk.room(session.externalId)?.participants).toHaveLength(1);
      expect((await h.revoke(conn.id)).status).toBe('REVOKED');
      expect(w.lk.room(session.externalId)?.participants ?? []).toEqual([]);
      expect((await h.endSession(session.id, w.a.owner.auth)).status).toBe('ENDED');
      expect(w.lk.room(session.externalId)).toBeUndefined();
    });

    it('should return an ended session unchanged without a second vendor call or session.ended event when it is ended again', async () => {
      const session = await h.createSession({ provider: 'OPENVIDU' });
      const first = await h.endSession(session.id);
      expect(first.status).toBe('ENDED');
      w.quiet();
      const mark = await h.auditMark();
      const again = await h.endSession(session.id);
      expect(again).toEqual(first);
      expect(w.totalCalls()).toBe(0);
      expect(await h.auditSince(mark, 'session.ended')).toEqual([]);
      const [row] = await w.t.ds.query<Array<{ n: number }>>(
        "SELECT count(*)::int AS n FROM audit_event WHERE action = 'session.ended' AND target_id = $1",
        [session.id],
      );
      expect(row.n).toBe(1);
    });

    it('should return a revoked connection unchanged without a second vendor call or event when it is revoked again', async () => {
      const session = await h.createSession({ provider: 'FISHJAM' });
      const conn = await h.createConnection({ sessionId: session.id });
      const first = await h.revoke(conn.id);
      expect(first.status).toBe('REVOKED');
      expect(w.calls('FISHJAM').filter((c) => c.method === 'DELETE')).toHaveLength(1);
      w.quiet();
      const mark = await h.auditMark();
      const again = await h.revoke(conn.id);
      expect(again).toEqual(first);
      expect(w.totalCalls()).toBe(0);
      expect(await h.auditSince(mark, 'connection.revoked')).toEqual([]);
    });

    it('should answer CONFLICT without calling the vendor or storing a row when a connection is asked for an ended session', async () => {
      const session = await h.createSession({ provider: 'OPENVIDU' });
      await h.endSession(session.id);
      w.quiet();
      const before = await sessionCounts(w.t);
      const r = await h.gql(CREATE_CONNECTION, { input: { sessionId: session.id } });
      expectError(r, 'CONFLICT');
      expect(w.totalCalls()).toBe(0);
      expect(await sessionCounts(w.t)).toEqual(before);
    });
  });

  describe('vendor faults', () => {
    interface Fault {
      label: string;
      mode: FaultMode;
      code: 'PROVIDER_UNAVAILABLE' | 'PROVIDER_REJECTED';
    }
    const FAULTS: Fault[] = [
      { label: 'the vendor answers 500', mode: { status: 500 }, code: 'PROVIDER_UNAVAILABLE' },
      { label: 'the vendor answers 503', mode: { status: 503 }, code: 'PROVIDER_UNAVAILABLE' },
      { label: 'the vendor never answers', mode: { hang: true }, code: 'PROVIDER_UNAVAILABLE' },
      {
        label: 'the vendor resets the connection',
        mode: { reset: true },
        code: 'PROVIDER_UNAVAILABLE',
      },
      {
        label: 'the vendor answers malformed JSON',
        mode: { malformedJson: true },
        code: 'PROVIDER_UNAVAILABLE',
      },
      {
        label: 'the vendor answers after 3 s, beyond the 1 s timeout',
        mode: { latencyMs: 3000 },
        code: 'PROVIDER_UNAVAILABLE',
      },
      { label: 'the vendor answers 401', mode: { status: 401 }, code: 'PROVIDER_REJECTED' },
      { label: 'the vendor answers 403', mode: { status: 403 }, code: 'PROVIDER_REJECTED' },
      { label: 'the vendor answers 400', mode: { status: 400 }, code: 'PROVIDER_REJECTED' },
    ];
    const SESSION_KINDS: HttpKind[] = ['OPENVIDU', 'LIVEKIT', 'PEXIP', 'FISHJAM'];
    // LiveKit join tokens are minted locally: only these three call the vendor to issue one.
    const JOIN_KINDS: HttpKind[] = ['OPENVIDU', 'PEXIP', 'FISHJAM'];
    const matrix = (kinds: HttpKind[]) =>
      kinds.flatMap((kind) => FAULTS.map((f) => ({ kind, ...f })));

    it.each(matrix(SESSION_KINDS))(
      'should answer $code, leave no session row or claim and audit a FAILURE on createSession when $kind: $label',
      async ({ kind, mode, code }) => {
        const credentialId = await h.freshCredential(kind);
        const key = `fault-${uniq()}`;
        const before = await sessionCounts(w.t);
        const mark = await h.auditMark();
        emulatorOf(kind).faults.set(mode);

        const r = await h.gql(CREATE_SESSION, { input: { credentialId, customSessionId: key } });
        expectError(r, code);
        expect(r.body.errors![0].message).not.toContain('127.0.0.1');
        expect(emulatorOf(kind).faults.applied).toBeGreaterThanOrEqual(1);
        expect(await sessionCounts(w.t)).toEqual(before);
        expect(await h.rowsOfCredential(credentialId)).toBe(0);
        expect(await h.creatingRows()).toBe(0);
        const events = await h.auditSince(mark, 'session.created');
        expect(events.map((e) => [e.outcome, e.error_code])).toEqual([['FAILURE', code]]);

        // Nothing was left holding the key: once the vendor is well, the same call succeeds.
        w.quiet();
        const created = await h.createSession({ credentialId, customSessionId: key });
        expect(created).toMatchObject({ status: 'ACTIVE', credentialId, customSessionId: key });
      },
    );

    it.each(matrix(JOIN_KINDS))(
      'should answer $code, store no connection and audit a FAILURE on createConnection when $kind: $label',
      async ({ kind, mode, code }) => {
        const credentialId = await h.freshCredential(kind);
        const session = await h.createSession({ credentialId });
        w.quiet();
        const before = await sessionCounts(w.t);
        const mark = await h.auditMark();
        emulatorOf(kind).faults.set(mode);

        const r = await h.gql(CREATE_CONNECTION, { input: { sessionId: session.id } });
        expectError(r, code);
        expect(emulatorOf(kind).faults.applied).toBeGreaterThanOrEqual(1);
        expect(await sessionCounts(w.t)).toEqual(before);
        expect(await h.creatingRows()).toBe(0);
        expect((await h.getSession(session.id)).status).toBe('ACTIVE');
        const events = await h.auditSince(mark, 'connection.created');
        expect(events.map((e) => [e.outcome, e.error_code])).toEqual([['FAILURE', code]]);
      },
    );

    it.each(SESSION_KINDS)(
      'should create the session when %s answers 200 ms late, within the timeout',
      async (kind) => {
        const credentialId = await h.freshCredential(kind);
        emulatorOf(kind).faults.set({ latencyMs: 200 });
        const created = await h.createSession({ credentialId, customSessionId: `slow-${uniq()}` });
        expect(created.status).toBe('ACTIVE');
        expect(emulatorOf(kind).faults.applied).toBeGreaterThanOrEqual(1);
      },
    );

    it.each(JOIN_KINDS)(
      'should issue the credential when %s answers 200 ms late, within the timeout',
      async (kind) => {
        const credentialId = await h.freshCredential(kind);
        const session = await h.createSession({ credentialId });
        w.quiet();
        emulatorOf(kind).faults.set({ latencyMs: 200 });
        const c = await h.createConnection({ sessionId: session.id });
        expect(c.status).toBe('ISSUED');
        expect(emulatorOf(kind).faults.applied).toBe(1);
      },
    );

    const sessionPosts = () =>
      w.calls('OPENVIDU').filter((c) => c.method === 'POST' && c.path === '/openvidu/api/sessions');

    it('should retry an idempotent OpenVidu createSession once and succeed when the first answer is 503', async () => {
      const credentialId = await h.freshCredential('OPENVIDU');
      const key = `retry-${uniq()}`;
      w.ov.faults.set({ status: 503, times: 1 });
      const created = await h.createSession({ credentialId, customSessionId: key });
      expect(created).toMatchObject({ status: 'ACTIVE', externalId: key });
      expect(sessionPosts()).toHaveLength(2);
      expect(
        sessionPosts().map((c) => (c.body as { customSessionId?: string }).customSessionId),
      ).toEqual([key, key]);
      expect(w.ov.session(key)).toBeDefined();
    });

    it('should retry an idempotent OpenVidu createSession at most once when the vendor answers 503 twice', async () => {
      const credentialId = await h.freshCredential('OPENVIDU');
      w.ov.faults.set({ status: 503, times: 2 });
      const r = await h.gql(CREATE_SESSION, {
        input: { credentialId, customSessionId: `retry2-${uniq()}` },
      });
      expectError(r, 'PROVIDER_UNAVAILABLE');
      expect(sessionPosts()).toHaveLength(2);
      expect(await h.rowsOfCredential(credentialId)).toBe(0);
    });

    it('should never retry adding a Fishjam peer when the vendor answers 503 once', async () => {
      const credentialId = await h.freshCredential('FISHJAM');
      const session = await h.createSession({ credentialId });
      w.quiet();
      const before = await sessionCounts(w.t);
      const isPeerPost = (m: string, p: string) => m === 'POST' && /\/room\/[^/]+\/peer$/.test(p);
      w.fj.faults.set({ status: 503, times: 1, match: isPeerPost });
      const r = await h.gql(CREATE_CONNECTION, { input: { sessionId: session.id } });
      expectError(r, 'PROVIDER_UNAVAILABLE');
      expect(w.calls('FISHJAM').filter((c) => isPeerPost(c.method, c.path))).toHaveLength(1);
      expect(w.fj.rooms().find((x) => x.id === session.externalId)?.peers).toEqual([]);
      expect(await sessionCounts(w.t)).toEqual(before);
    });

    it('should never retry creating an OpenVidu connection when the vendor answers 503 once', async () => {
      const credentialId = await h.freshCredential('OPENVIDU');
      const session = await h.createSession({ credentialId });
      w.quiet();
      w.ov.faults.set({ status: 503, times: 1 });
      expectError(
        await h.gql(CREATE_CONNECTION, { input: { sessionId: session.id } }),
        'PROVIDER_UNAVAILABLE',
      );
      expect(w.calls('OPENVIDU').filter((c) => c.method === 'POST')).toHaveLength(1);
      expect(w.ov.session(session.externalId)?.connections.numberOfElements).toBe(0);
    });
  });

  describe('deleting a credential with sessions (docs/decisions.md#issue-5)', () => {
    const listedAmong = async (ids: string[]) => {
      const data = await ok(
        h.gql('query { sessions(first: 100) { nodes { id status credentialId endReason } } }', {}),
      );
      const nodes = (data.sessions as { nodes: SessionJson[] }).nodes;
      return nodes.filter((n) => ids.includes(n.id));
    };
    const credentialRows = async (id: string): Promise<number> => {
      const [row] = await w.t.ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM provider_credential WHERE id = $1',
        [id],
      );
      return row.n;
    };

    it('should refuse with CONFLICT and delete nothing when the credential has open sessions', async () => {
      const credentialId = await h.freshCredential('OPENVIDU');
      const open = await h.createSession({ credentialId, customSessionId: `del-${uniq()}` });
      const before = await sessionCounts(w.t);
      w.quiet();
      const r = await h.gql(DELETE_CREDENTIAL, { id: credentialId });
      expectError(r, 'CONFLICT');
      expectError(await h.gql(DELETE_CREDENTIAL, { id: credentialId, force: false }), 'CONFLICT');
      expect(await credentialRows(credentialId)).toBe(1);
      expect(await sessionCounts(w.t)).toEqual(before);
      expect(await h.getSession(open.id)).toMatchObject({ status: 'ACTIVE', credentialId });
      expect(w.totalCalls()).toBe(0);
      // The credential still works.
      const c = await h.createConnection({ sessionId: open.id });
      expect(c.status).toBe('ISSUED');
    });

    it('should end the open sessions as credential_deleted and keep every session listed when deleted with force', async () => {
      const credentialId = await h.freshCredential('OPENVIDU');
      const open1 = await h.createSession({ credentialId, customSessionId: `f1-${uniq()}` });
      const open2 = await h.createSession({ credentialId });
      const ended = await h.createSession({ credentialId });
      await h.endSession(ended.id);
      w.quiet();

      const r = await ok(h.gql(DELETE_CREDENTIAL, { id: credentialId, force: true }));
      expect(r.deleteProviderCredential).toEqual({ id: credentialId, kind: 'OPENVIDU' });
      expect(await credentialRows(credentialId)).toBe(0);
      for (const s of [open1, open2]) {
        const now = await h.getSession(s.id);
        expect(now).toMatchObject({
          status: 'ENDED',
          endReason: 'credential_deleted',
          credentialId: null,
        });
        expect(now.endedAt).not.toBeNull();
      }
      expect(await h.getSession(ended.id)).toMatchObject({
        status: 'ENDED',
        endReason: 'ended',
        credentialId: null,
      });
      const listed = await listedAmong([open1.id, open2.id, ended.id]);
      expect(listed.map((n) => n.id).sort()).toEqual([open1.id, open2.id, ended.id].sort());
      // Nothing is closed at the vendor: the credential is gone, Roomkey only records the end.
      expect(w.totalCalls()).toBe(0);
      // A session without a credential takes no new connection.
      expectError(await h.gql(CREATE_CONNECTION, { input: { sessionId: open1.id } }), 'CONFLICT');
    });

    it('should delete the credential without force when all its sessions have ended', async () => {
      const credentialId = await h.freshCredential('LIVEKIT');
      const a = await h.createSession({ credentialId });
      const b = await h.createSession({ credentialId, customSessionId: `e-${uniq()}` });
      await h.endSession(a.id);
      await h.endSession(b.id, w.a.owner.auth);
      const r = await ok(h.gql(DELETE_CREDENTIAL, { id: credentialId }));
      expect(r.deleteProviderCredential).toEqual({ id: credentialId, kind: 'LIVEKIT' });
      expect(await credentialRows(credentialId)).toBe(0);
      expect(await h.getSession(a.id)).toMatchObject({
        status: 'ENDED',
        endReason: 'ended',
        credentialId: null,
      });
      expect(await listedAmong([a.id, b.id])).toHaveLength(2);
    });
  });
});

describe('sessions: the circuit breaker per credential', () => {
  const OPEN_MS = 2000;
  let w: VendorWorld;
  const h = worldHelpers(() => w);

  beforeAll(async () => {
    w = await startVendorWorld({
      ROOMKEY_PROVIDER_BREAKER_FAILURES: '2',
      ROOMKEY_PROVIDER_BREAKER_OPEN_MS: String(OPEN_MS),
    });
  });
  afterAll(() => w.close());
  beforeEach(() => w.quiet());

  const fishjamPosts = () =>
    w.calls('FISHJAM').filter((c) => c.method === 'POST' && c.path.endsWith('/room')).length;

  it('should fail fast without calling the vendor while open and recover after the open window when a vendor keeps failing', async () => {
    const auth = w.a.adminKey;
    const input = { credentialId: w.a.creds.FISHJAM };
    w.fj.faults.set({ status: 500 });
    for (let i = 1; i <= 2; i++) {
      expectError(await h.gql(CREATE_SESSION, { input }, auth), 'PROVIDER_UNAVAILABLE');
      expect(fishjamPosts()).toBe(i);
    }
    const mark = await h.auditMark();
    const fast = await h.gql(CREATE_SESSION, { input }, auth);
    expectError(fast, 'PROVIDER_UNAVAILABLE');
    expect(fast.body.errors![0].message).toMatch(/circuit/i);
    expect(fishjamPosts()).toBe(2);
    expect(await h.auditSince(mark, 'session.created')).toEqual([
      expect.objectContaining({ outcome: 'FAILURE', error_code: 'PROVIDER_UNAVAILABLE' }),
    ]);
    expect(await h.creatingRows()).toBe(0);

    // The breaker belongs to the credential: another one of the same vendor still reaches it.
    const other = await h.freshCredential('FISHJAM');
    expectError(
      await h.gql(CREATE_SESSION, { input: { credentialId: other } }, auth),
      'PROVIDER_UNAVAILABLE',
    );
    expect(fishjamPosts()).toBe(3);

    // Healthy again, and the open window has passed: a probe goes through and closes the breaker.
    w.fj.faults.clear();
    await sleep(OPEN_MS + 500);
    const probe = await h.createSession(input, auth);
    expect(probe.status).toBe('ACTIVE');
    expect(fishjamPosts()).toBe(4);
    const next = await h.createSession(input, auth);
    expect(next.status).toBe('ACTIVE');
    expect(fishjamPosts()).toBe(5);
  });

  it('should keep the breaker closed when the vendor refuses requests with 4xx answers', async () => {
    const auth = w.a.adminKey;
    const credentialId = await h.freshCredential('FISHJAM');
    w.fj.faults.set({ status: 401, times: 3 });
    for (let i = 1; i <= 3; i++) {
      expectError(
        await h.gql(CREATE_SESSION, { input: { credentialId } }, auth),
        'PROVIDER_REJECTED',
      );
      expect(fishjamPosts()).toBe(i);
    }
    const created = await h.createSession({ credentialId }, auth);
    expect(created.status).toBe('ACTIVE');
    expect(fishjamPosts()).toBe(4);
  });

  it('should stay open after the window when the probe call fails again', async () => {
    const auth = w.a.adminKey;
    const credentialId = await h.freshCredential('LIVEKIT');
    const room = () => ({ credentialId, customSessionId: `br-${uniq()}` });
    const twirpCalls = () => w.calls('LIVEKIT').length;
    // LiveKit CreateRoom is idempotent: one call = two attempts = two failures, the breaker opens.
    w.lk.faults.set({ status: 503 });
    expectError(await h.gql(CREATE_SESSION, { input: room() }, auth), 'PROVIDER_UNAVAILABLE');
    expect(twirpCalls()).toBe(2);
    expectError(await h.gql(CREATE_SESSION, { input: room() }, auth), 'PROVIDER_UNAVAILABLE');
    expect(twirpCalls()).toBe(2);
    await sleep(OPEN_MS + 500);
    expectError(await h.gql(CREATE_SESSION, { input: room() }, auth), 'PROVIDER_UNAVAILABLE');
    const afterProbe = twirpCalls();
    expect(afterProbe).toBeGreaterThan(2);
    expectError(await h.gql(CREATE_SESSION, { input: room() }, auth), 'PROVIDER_UNAVAILABLE');
    expect(twirpCalls()).toBe(afterProbe);
    expect(await h.rowsOfCredential(credentialId)).toBe(0);
  });
});
