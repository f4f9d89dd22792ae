/**
 * The hot path's caches (API-key principals, decrypted credentials, open sessions) are emptied at
 * once in every instance when what they hold changes (README "Caches").
 *
 * With DATABASE_URL: two Roomkey instances on one PostgreSQL database; every cache is warmed on
 * B, the change is made through A, and B must see it within one second (LISTEN/NOTIFY). The
 * embedded database (PGlite) lives inside one process, so a second instance cannot share it:
 * there the same cases run with A and B being one instance, which proves the local invalidation
 * after commit. CI runs the suite on both databases.
 */
import { randomBytes } from 'node:crypto';
import { MemberRole } from '../src/common/auth/roles';
import { InvalidationBus } from '../src/common/cache';
import { seedApiKey, seedTenant, type SeededTenant } from './factories/tenancy';
import { createScratchDatabase } from './helpers/database';
import { basic, type GqlResult, startTestApp, type TestApp } from './helpers/test-app';
import { decodeAgoraToken, verifyAgoraSignature } from './support/agora-token-decoder';

const onPostgres = Boolean(process.env.DATABASE_URL);
const DEADLINE_MS = 1000;
const uniq = (): string => randomBytes(4).toString('hex');
const hex32 = (): string => randomBytes(16).toString('hex');

/** Calls `attempt` until `done` accepts its answer; fails with the last answer past the deadline. */
async function within<T>(
  ms: number,
  attempt: () => Promise<T>,
  done: (r: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const r = await attempt();
    if (done(r)) return r;
    if (Date.now() > deadline) {
      throw new Error(`not within ${ms} ms; last answer: ${JSON.stringify(r).slice(0, 300)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10)); // pacing, not a wait for the answer
  }
}

/** The SQL statements `t` runs while `work` does. */
async function statementsDuring(t: TestApp, work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const logger = t.ds.logger;
  const original = logger.logQuery.bind(logger);
  logger.logQuery = (query, parameters, runner) => {
    seen.push(query);
    return original(query, parameters, runner);
  };
  try {
    await work();
  } finally {
    logger.logQuery = original;
  }
  return seen;
}

const CACHED_TABLES = /FROM "(api_key|provider_credential|video_session|tenant)"/;

describe(
  onPostgres
    ? 'Cache invalidation across two instances sharing one PostgreSQL database'
    : 'Cache invalidation in one instance on the embedded database (PGlite is in-process, so two instances cannot share it; the two-instance case runs with DATABASE_URL)',
  () => {
    let a: TestApp;
    let b: TestApp;
    let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | null = null;
    let tenant: SeededTenant;
    /** An ADMIN key: makes the changes, through A. */
    let admin: string;
    let credentialId: string;
    /** The Agora credential's certificate (changed by one test). */
    let certificate: string;

    beforeAll(async () => {
      const env: Record<string, string> = { ROOMKEY_RATE_LIMIT_API_KEY_FAILURES: '3' };
      if (onPostgres) {
        scratch = await createScratchDatabase(process.env.DATABASE_URL!);
        env.DATABASE_URL = scratch.url;
      }
      a = await startTestApp(env);
      b = onPostgres ? await startTestApp(env) : a;
      tenant = await seedTenant(a);
      admin = (await seedApiKey(a, tenant, MemberRole.ADMIN)).auth;
      certificate = hex32();
      const r = await a.gql<{ createProviderCredential: { id: string } }>(
        'mutation ($input: CreateProviderCredentialInput!) { createProviderCredential(input: $input) { id } }',
        {
          input: {
            name: 'agora',
            isDefault: true,
            agora: { appId: hex32(), appCertificate: certificate },
          },
        },
        { auth: admin },
      );
      expect(r.body.errors).toBeUndefined();
      credentialId = r.body.data!.createProviderCredential.id;
    }, 180_000);

    afterAll(async () => {
      if (b !== a) await b?.close();
      await a?.close();
      await scratch?.drop();
    });

    /** An Agora RTC token for `channel`, minted through `t` (the compat route, default credential). */
    const mint = (t: TestApp, auth: string, channel: string, uid = 1) =>
      t
        .http()
        .get(`/t/${tenant.slug}/agora/rtc/${channel}/publisher/uid/${uid}`)
        .set('authorization', auth)
        .then((res) => ({
          status: res.status,
          token: (res.body as { rtcToken?: string }).rtcToken,
        }));

    const createConnection = (t: TestApp, auth: string, sessionId: string): Promise<GqlResult> =>
      t.gql(
        'mutation ($i: CreateConnectionInput!) { createConnection(input: $i) { id } }',
        { i: { sessionId, agora: { uid: 7 } } },
        { auth },
      );

    const openSession = async (channel: string): Promise<string | undefined> => {
      const rows = await a.ds.query<Array<{ id: string }>>(
        `SELECT id FROM video_session WHERE tenant_id = $1 AND custom_id = $2 AND status = 'ACTIVE'`,
        [tenant.id, channel],
      );
      return rows[0]?.id;
    };

    /**
     * Mints through B until its caches hold the key, the credential and the channel's session
     * (the first mint creates the session, the second caches it), then proves that a mint reads
     * none of the cached tables: the invalidation each test makes is then the only way out.
     */
    async function warm(auth: string, channel: string): Promise<void> {
      for (const uid of [1, 2]) expect((await mint(b, auth, channel, uid)).status).toBe(200);
      const statements = await statementsDuring(b, async () => {
        expect((await mint(b, auth, channel, 3)).status).toBe(200);
      });
      expect(statements.filter((s) => CACHED_TABLES.test(s))).toEqual([]);
    }

    it('should refuse a revoked API key on B within 1 s when it is revoked through A', async () => {
      const key = await seedApiKey(a, tenant, MemberRole.MEMBER);
      const channel = `revoke-${uniq()}`;
      await warm(key.auth, channel);

      const r = await a.gql(
        'mutation ($id: ID!) { revokeApiKey(id: $id) { status } }',
        { id: key.id },
        { auth: admin },
      );
      expect(r.body.errors).toBeUndefined();
      // The instance that revoked it refuses it as soon as the mutation has answered.
      expect((await mint(a, key.auth, channel)).status).toBe(401);
      await within(
        DEADLINE_MS,
        () => mint(b, key.auth, channel),
        (m) => m.status === 401,
      );
      // Refused, never cached again: the right secret keeps failing on both.
      for (const t of [a, b, b]) expect((await mint(t, key.auth, channel)).status).toBe(401);
    });

    it('should refuse a revoked join link on B within 1 s when it is revoked through A', async () => {
      const origin = 'https://app.example.test';
      const created = await a.gql<{
        createJoinLink: { joinLink: { id: string }; basePath: string };
      }>(
        'mutation ($input: CreateJoinLinkInput!) { createJoinLink(input: $input) { joinLink { id } basePath } }',
        {
          input: {
            name: 'revoke-me',
            provider: 'AGORA',
            roomPattern: '*',
            maxRole: 'PUBLISHER',
            origins: [origin],
            expiresAt: new Date(Date.now() + 3600_000).toISOString(),
          },
        },
        { auth: admin },
      );
      expect(created.body.errors).toBeUndefined();
      const { joinLink, basePath } = created.body.data!.createJoinLink;
      const channel = `link-${uniq()}`;
      const viaLink = (t: TestApp) =>
        t
          .http()
          .get(`${basePath}/rtc/${channel}/publisher/uid/9`)
          .set('origin', origin)
          .then((res) => res.status);
      // Twice on B: the second answer comes from B's cache of the verified link.
      for (const t of [b, b]) expect(await viaLink(t)).toBe(200);

      const r = await a.gql(
        'mutation ($id: ID!) { revokeJoinLink(id: $id) { status } }',
        { id: joinLink.id },
        { auth: admin },
      );
      expect(r.body.errors).toBeUndefined();
      expect(await viaLink(a)).toBe(401);
      await within(
        DEADLINE_MS,
        () => viaLink(b),
        (status) => status === 401,
      );
      for (const t of [a, b, b]) expect(await viaLink(t)).toBe(401);
    });

    it("should mint with the new secret on B within 1 s when the credential's secret is changed through A", async () => {
      const key = await seedApiKey(a, tenant, MemberRole.MEMBER);
      const channel = `rotate-${uniq()}`;
      await warm(key.auth, channel);
      const before = await mint(b, key.auth, channel, 3);
      expect(verifyAgoraSignature(decodeAgoraToken(before.token!), certificate)).toBe(true);

      const next = hex32();
      const r = await a.gql(
        'mutation ($input: UpdateProviderCredentialInput!) { updateProviderCredential(input: $input) { id } }',
        { input: { id: credentialId, agora: { appCertificate: next } } },
        { auth: admin },
      );
      expect(r.body.errors).toBeUndefined();
      const after = await within(
        DEADLINE_MS,
        () => mint(b, key.auth, channel, 4),
        (m) => m.status === 200 && verifyAgoraSignature(decodeAgoraToken(m.token!), next),
      );
      expect(verifyAgoraSignature(decodeAgoraToken(after.token!), certificate)).toBe(false);
      certificate = next;
    });

    it('should issue no join into a session on B within 1 s when it is ended through A', async () => {
      const key = await seedApiKey(a, tenant, MemberRole.MEMBER);
      const channel = `end-${uniq()}`;
      await warm(key.auth, channel);
      const ended = (await openSession(channel))!;
      expect((await createConnection(b, key.auth, ended)).body.errors).toBeUndefined(); // cached by id

      const r = await a.gql<{ endSession: { status: string } }>(
        'mutation ($id: ID!) { endSession(id: $id) { status } }',
        { id: ended },
        { auth: admin },
      );
      expect(r.body.data?.endSession.status).toBe('ENDED');

      const refused = await within(
        DEADLINE_MS,
        () => createConnection(b, key.auth, ended),
        (c) => c.body.errors !== undefined,
      );
      expect(refused.body.errors?.[0].extensions?.code).toBe('CONFLICT');
      // The compat get-or-create makes a new session for the channel instead of joining the old.
      expect((await mint(b, key.auth, channel, 5)).status).toBe(200);
      const current = await openSession(channel);
      expect(current).toBeDefined();
      expect(current).not.toBe(ended);
      const [{ n }] = await a.ds.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM session_connection c JOIN video_session s ON s.id = c.session_id
          WHERE c.session_id = $1 AND c.created_at > s.ended_at`,
        [ended],
      );
      expect(n).toBe(0);
    });

    it('should refuse a wrong secret for a cached key id on B, and count it towards the key lock', async () => {
      const key = await seedApiKey(a, tenant, MemberRole.MEMBER);
      const channel = `poison-${uniq()}`;
      await warm(key.auth, channel);
      const failures = (): Promise<Array<{ n: number }>> =>
        a.ds.query(
          `SELECT count(*)::int AS n FROM audit_event
            WHERE tenant_id = $1 AND action = 'auth.login.failed' AND actor_label = $2
              AND metadata->>'reason' = 'bad_secret'`,
          [tenant.id, key.keyId],
        );
      const wrongs = [`${key.secret}x`, key.secret.slice(0, -1), key.secret.toUpperCase()];
      for (const wrong of wrongs) {
        expect((await mint(b, basic(key.keyId, wrong), channel)).status).toBe(401);
      }
      expect((await failures())[0].n).toBe(3);
      // Three wrong secrets lock the key id (ROOMKEY_RATE_LIMIT_API_KEY_FAILURES=3): the cached
      // right secret is refused too until the lock ends.
      expect((await mint(b, key.auth, channel)).status).toBe(429);
    });

    // The embedded database has no listener connection to lose: this case needs PostgreSQL.
    (onPostgres ? it : it.skip)(
      `should serve nothing cached on B from before its listener connection was lost${onPostgres ? '' : ' (PostgreSQL only: skipped on the embedded database)'}`,
      async () => {
        const key = await seedApiKey(a, tenant, MemberRole.MEMBER);
        const channel = `deaf-${uniq()}`;
        await warm(key.auth, channel);
        // Revoked behind Roomkey's back: nothing is published, and B's cache still has the key.
        await a.ds.query('UPDATE api_key SET revoked_at = now() WHERE id = $1', [key.id]);
        expect((await mint(b, key.auth, channel, 4)).status).toBe(200);
        // Messages sent while B's listener is gone would be lost: when it is back, B starts empty.
        await a.ds.query(
          `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
            WHERE application_name = 'roomkey-cache-bus' AND datname = current_database()`,
        );
        await within(
          DEADLINE_MS,
          () => mint(b, key.auth, channel, 5),
          (m) => m.status === 401,
        );
        // Refused while the listener is down (nothing served from the cache) and after it is
        // back (the cache was emptied on reconnecting). Both listeners were cut: the next cases
        // need them back too.
        const buses = [a, b].map((t) => t.app.get(InvalidationBus));
        await within(5000, () => Promise.resolve(buses.every((bus) => bus.connected)), Boolean);
        expect((await mint(b, key.auth, channel, 6)).status).toBe(401);
      },
    );

    it('should stop minting on B within 1 s when the credential is deleted through A with its sessions', async () => {
      const key = await seedApiKey(a, tenant, MemberRole.MEMBER);
      const channel = `delete-${uniq()}`;
      await warm(key.auth, channel);
      const session = (await openSession(channel))!;

      const r = await a.gql(
        'mutation ($id: ID!) { deleteProviderCredential(id: $id, force: true) { id } }',
        { id: credentialId },
        { auth: admin },
      );
      expect(r.body.errors).toBeUndefined();
      const refused = await within(
        DEADLINE_MS,
        () => mint(b, key.auth, channel, 6),
        (m) => m.status !== 200,
      );
      expect(refused.status).toBe(400); // no default Agora credential any more
      expect((await createConnection(b, key.auth, session)).body.errors?.[0].extensions?.code).toBe(
        'CONFLICT',
      );
    });
  },
);
