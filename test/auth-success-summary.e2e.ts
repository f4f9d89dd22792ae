import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuditService } from '../src/audit/audit.service';
import { AuthSuccessSummary } from '../src/auth/auth-success-summary';
import { runCli } from '../src/cli/main';
import { MemberRole } from '../src/common/auth/roles';
import { seedApiKey, seedMember, seedTenant, type SeededTenant } from './factories/tenancy';
import { type AuditRow, auditCount, auditRows } from './helpers/audit';
import { durableDatabase } from './helpers/database';
import {
  TEST_AUDIT_KEYS,
  TEST_MASTER_KEYS,
  basic,
  errorCode,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

/**
 * Issue "Hot path at line rate": a request that only authenticates (Basic, Roomkey bearer,
 * external JWT) appends nothing itself; each principal gets one `auth.succeeded.summary` per
 * minute with the count, in its own tenant's chain, written when the minute closes or on
 * shutdown. Interactive sign-ins and failures keep one event each.
 */

const ME = '{ me { role authMethod } }';
const VERIFY = '{ verifyAuditLog { ok checkedCount firstInvalidEventId reason } }';
const LOGIN = `mutation($input: LoginInput!) { login(input: $input) { accessToken } }`;
const SUMMARY = 'auth.succeeded.summary';
const MINUTE = 60_000;

const uniq = (): string => randomBytes(4).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A burst must not straddle a minute boundary (it would rightly become two summaries): start it
 * at least 15 s before the next minute.
 */
async function awayFromMinuteEdge(): Promise<void> {
  const into = Date.now() % MINUTE;
  if (into > MINUTE - 15_000) await sleep(MINUTE - into + 200);
}

function byRequest(t: TestApp, requestIds: string[]): Promise<AuditRow[]> {
  return t.ds.query<AuditRow[]>(
    'SELECT * FROM audit_event WHERE request_id = ANY($1) ORDER BY seq',
    [requestIds],
  );
}

/** Sends `n` authenticated `me` queries one after another; returns their request ids. */
async function burst(t: TestApp, auth: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `summary-${uniq()}`;
    const r = await t.gql(ME, {}, { auth, headers: { 'x-request-id': id } });
    expect(r.body.errors).toBeUndefined();
    ids.push(id);
  }
  return ids;
}

function expectMinuteWindow(row: AuditRow, startedAt: number, endedAt: number): void {
  const from = Date.parse(row.metadata.from as string);
  const to = Date.parse(row.metadata.to as string);
  expect(new Date(from).toISOString()).toBe(row.metadata.from);
  expect(to - from).toBe(MINUTE);
  expect(from % MINUTE).toBe(0);
  expect(from).toBeLessThanOrEqual(startedAt);
  expect(to).toBeGreaterThan(endedAt);
}

describe('authentication success summaries', () => {
  let t: TestApp;
  let a: SeededTenant;
  let b: SeededTenant;
  let summary: AuthSuccessSummary;

  beforeAll(async () => {
    t = await startTestApp();
    a = await seedTenant(t);
    b = await seedTenant(t);
    summary = t.app.get(AuthSuccessSummary);
  });
  afterAll(() => t?.close());

  beforeEach(async () => {
    // Whatever earlier tests left open is written now, so each test sees only its own counts.
    await summary.flush();
  });

  it('should append no event per request and one summary with the count after the window when one principal makes N requests', async () => {
    const key = await seedApiKey(t, a, MemberRole.ADMIN);
    await awayFromMinuteEdge();
    const startedAt = Date.now();
    const ids = await burst(t, key.auth, 7);
    const endedAt = Date.now();

    expect(await byRequest(t, ids)).toEqual([]);
    expect(await auditRows(t, { tenantId: a.id, action: 'auth.login.succeeded' })).toEqual([]);
    expect(await auditRows(t, { tenantId: a.id, action: SUMMARY })).toEqual([]); // the minute is still open

    await summary.flush();
    const rows = await auditRows(t, { tenantId: a.id, action: SUMMARY });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      tenant_id: a.id,
      actor_type: 'API_KEY',
      actor_id: key.id,
      actor_label: key.keyId,
      auth_method: 'BASIC_API_KEY',
      outcome: 'SUCCESS',
      request_id: null,
      client_ip: null,
      user_agent: null,
      metadata: { method: 'BASIC_API_KEY', count: 7 },
    });
    expectMinuteWindow(rows[0], startedAt, endedAt);
  });

  it('should write one summary per principal, each in its own tenant chain, and both chains should verify when several principals of two tenants make requests', async () => {
    const user = await seedMember(t, a, MemberRole.ADMIN);
    const other = await seedMember(t, a, MemberRole.MEMBER); // same tenant, same method
    const key = await seedApiKey(t, b, MemberRole.ADMIN);
    await awayFromMinuteEdge();
    const aBefore = (await auditRows(t, { tenantId: a.id, action: SUMMARY })).length;
    const bBefore = (await auditRows(t, { tenantId: b.id, action: SUMMARY })).length;
    await Promise.all([burst(t, user.auth, 3), burst(t, other.auth, 2), burst(t, key.auth, 4)]);
    await summary.flush();

    const inA = (await auditRows(t, { tenantId: a.id, action: SUMMARY })).slice(aBefore);
    const inB = (await auditRows(t, { tenantId: b.id, action: SUMMARY })).slice(bBefore);
    const summarised = (rows: AuditRow[]) =>
      rows.map((r) => [r.actor_id, r.auth_method, r.metadata.count]);
    expect(summarised(inA)).toEqual(
      expect.arrayContaining([
        [user.id, 'BASIC_PASSWORD', 3],
        [other.id, 'BASIC_PASSWORD', 2],
      ]),
    );
    expect(inA).toHaveLength(2);
    expect(summarised(inB)).toEqual([[key.id, 'BASIC_API_KEY', 4]]);

    for (const [tenant, auth] of [
      [a, a.owner.auth],
      [b, b.owner.auth],
    ] as const) {
      const v = await t.gql(VERIFY, {}, { auth });
      expect(v.body.data).toMatchObject({
        verifyAuditLog: { ok: true, firstInvalidEventId: null, reason: null },
      });
      const n = await auditCount(t, { tenantId: tenant.id });
      // Every event of the chain was checked, the summaries included.
      const checked = (v.body.data as { verifyAuditLog: { checkedCount: number } }).verifyAuditLog;
      expect(checked.checkedCount).toBe(n);
    }
  });

  it('should keep one auth.login.succeeded for the login and summarise the bearer requests when a user logs in then calls with the token', async () => {
    const user = await seedMember(t, b, MemberRole.MEMBER);
    await awayFromMinuteEdge();
    const loginId = `login-${uniq()}`;
    const login = await t.gql<{ login: { accessToken: string } }>(
      LOGIN,
      { input: { email: user.email, password: user.password, tenantSlug: b.slug } },
      { headers: { 'x-request-id': loginId } },
    );
    expect(login.body.errors).toBeUndefined();
    const bearer = `Bearer ${login.body.data!.login.accessToken}`;
    const ids = await burst(t, bearer, 5);

    expect((await byRequest(t, [loginId])).map((r) => r.action)).toEqual(['auth.login.succeeded']);
    expect(await byRequest(t, ids)).toEqual([]);
    await summary.flush();
    const mine = (await auditRows(t, { tenantId: b.id, action: SUMMARY })).filter(
      (r) => r.actor_id === user.id,
    );
    expect(mine.map((r) => [r.auth_method, r.metadata.count])).toEqual([['JWT', 5]]);
  });

  it('should still write one auth.login.failed per request and no summary when credentials are wrong', async () => {
    const before = (await auditRows(t, { tenantId: a.id, action: SUMMARY })).length;
    const ids: string[] = [];
    for (const auth of [
      basic(a.owner.email, 'not-the-password'),
      basic(a.owner.email, 'still-not-the-password'),
      'Bearer not.a.token',
    ]) {
      const id = `failed-${uniq()}`;
      const r = await t.gql(
        ME,
        {},
        { auth, headers: { 'x-request-id': id, 'x-roomkey-tenant': a.slug } },
      );
      expect(errorCode(r)).toBe('UNAUTHENTICATED');
      ids.push(id);
    }
    // Two chains (the bad token names no tenant): compare in request order, not seq order.
    const rows = await byRequest(t, ids);
    const seen = ids.map((id) => rows.filter((r) => r.request_id === id).map((r) => r.action));
    expect(seen).toEqual(ids.map(() => ['auth.login.failed']));
    expect(rows.every((r) => r.outcome === 'FAILURE')).toBe(true);
    await summary.flush();
    expect(await auditRows(t, { tenantId: a.id, action: SUMMARY })).toHaveLength(before);
  });

  it('should not call the audit log on the request path when a request authenticates', async () => {
    const key = await seedApiKey(t, a, MemberRole.MEMBER);
    const audit = t.app.get(AuditService);
    const spies = [
      jest.spyOn(audit, 'record'),
      jest.spyOn(audit, 'recordQuietly'),
      jest.spyOn(audit, 'commit'),
    ];
    try {
      await burst(t, key.auth, 2);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

// Runs after the app above has closed: Passport strategies are registered process-wide.
describe('authentication success summaries at shutdown', () => {
  let env: Record<string, string>;
  let dropDatabase: () => Promise<void>;

  beforeAll(async () => {
    const common = {
      NODE_ENV: 'test',
      ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
      ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
    };
    const db = await durableDatabase('auth-summary');
    env = { ...common, ...db.env };
    dropDatabase = db.drop;
  });
  afterAll(() => dropDatabase?.());

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('should write the open minute before the audit log drains when the application closes, and the CLI should verify and export it', async () => {
    const t = await startTestApp(env);
    const tenant = await seedTenant(t);
    const key = await seedApiKey(t, tenant, MemberRole.ADMIN);
    await awayFromMinuteEdge();
    await burst(t, key.auth, 6);
    expect(await auditRows(t, { tenantId: tenant.id, action: SUMMARY })).toEqual([]);
    await t.close(); // no explicit flush: only the shutdown hook can write the summary

    // One process per PGlite folder: the CLI opens the database only once the app has closed.
    const verified = await cli('audit:verify', '--tenant', tenant.slug);
    expect(verified.err).toEqual([]);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.out[0])).toMatchObject({ ok: true });
    const file = path.join(os.tmpdir(), `roomkey-auth-summary-${uniq()}.ndjson`);
    try {
      const exported = await cli('audit:export', '--tenant', tenant.slug, '--out', file);
      expect(exported.code).toBe(0);
      const events = fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { action: string; actorId: string; metadata: object });
      const summaries = events.filter((e) => e.action === SUMMARY);
      expect(summaries).toHaveLength(1);
      expect(summaries[0]).toMatchObject({
        actorId: key.id,
        metadata: { method: 'BASIC_API_KEY', count: 6 },
      });
      const offline = await cli('audit:verify', '--file', file);
      expect(offline.err).toEqual([]);
      expect(offline.code).toBe(0);
      expect(JSON.parse(offline.out[0])).toMatchObject({ ok: true });
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
