import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import request from 'supertest';
import { systemActor } from '../src/audit/audit-actor';
import { GENESIS_HASH, canonicalJson, pickChained } from '../src/audit/audit-chain';
import { AuditService, rowToEvent } from '../src/audit/audit.service';
import { AuthSuccessSummary } from '../src/auth/auth-success-summary';
import { runCli } from '../src/cli/main';
import { MemberRole } from '../src/common/auth/roles';
import { seedApiKey, seedTenant, type SeededTenant } from './factories/tenancy';
import { type AuditRow, auditCount, auditDump, auditRows } from './helpers/audit';
import { durableDatabase } from './helpers/database';
import {
  TEST_AUDIT_KEYS,
  TEST_MASTER_KEYS,
  errorCode,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

/**
 * docs/security.md S11 / docs/decisions.md#issue-3: concurrent appends never fork a tenant's chain, tampering is found
 * with the first bad event's id, SQL cannot edit or delete rows, and retention leaves a signed
 * checkpoint behind which the remaining chain still verifies.
 */

type LinkRow = Pick<AuditRow, 'id' | 'seq' | 'prev_hash' | 'hash'>;

const uniq = (): string => randomBytes(4).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const VERIFY = '{ verifyAuditLog { ok checkedCount firstInvalidEventId reason } }';
const CANARY = 'CANARY-7f3a9c-SECRET';

describe('audit chain', () => {
  /** Shared by the app and the CLI: a data folder (PGlite) or one scratch database (PostgreSQL). */
  let env: Record<string, string>;
  let dropDatabase: () => Promise<void>;
  let t: TestApp | null = null;

  const app = (): TestApp => {
    if (!t) throw new Error('the test app is closed');
    return t;
  };
  const audit = (): AuditService => app().app.get(AuditService);

  beforeAll(async () => {
    const common = {
      NODE_ENV: 'test',
      ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
      ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
    };
    const db = await durableDatabase('audit-chain');
    env = { ...common, ...db.env };
    dropDatabase = db.drop;
    t = await startTestApp(env);
  });

  afterAll(async () => {
    await t?.close();
    await dropDatabase?.();
  });

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, env, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  const actorFor = (tenantId: string) => ({ ...systemActor('audit-chain-test'), tenantId });

  function append(tenantId: string, i: number) {
    return audit().record(null, actorFor(tenantId), {
      action: 'api_key.revoked',
      targetType: 'api_key',
      targetId: `target-${i}`,
      metadata: { keyId: `rk_${String(i).padStart(24, '0')}` },
    });
  }

  /** Appends one after another (a deterministic order). */
  async function appendSequentially(tenantId: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++) await append(tenantId, i);
  }

  const links = (tenantId: string): Promise<LinkRow[]> =>
    auditRows(app(), { tenantId }, ['id', 'seq', 'prev_hash', 'hash']);

  /** seq 1..N without gaps, the first linked to the genesis and each to its predecessor. */
  function expectLinearChain(rows: LinkRow[], n: number): void {
    expect(rows.map((r) => Number(r.seq))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    expect(rows[0].prev_hash).toBe(GENESIS_HASH);
    const broken = rows.filter((r, i) => i > 0 && r.prev_hash !== rows[i - 1].hash);
    expect(broken.map((r) => r.seq)).toEqual([]);
    expect(new Set(rows.map((r) => r.hash)).size).toBe(n);
  }

  async function expectHead(tenantId: string, last: LinkRow): Promise<void> {
    expect(
      await app().ds.query(
        'SELECT last_seq::text AS last_seq, last_hash FROM audit_chain_head WHERE tenant_id = $1',
        [tenantId],
      ),
    ).toEqual([{ last_seq: last.seq, last_hash: last.hash }]);
  }

  /** Tampering needs the append-only trigger out of the way, as a database owner could do. */
  async function withTriggerDisabled(fn: () => Promise<void>): Promise<void> {
    await app().ds.query('ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only');
    try {
      await fn();
    } finally {
      await app().ds.query('ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only');
    }
  }

  /** A fresh tenant whose chain holds exactly 10 events (tenant.created + 9). */
  async function tenantWithTenEvents(): Promise<{ tenant: SeededTenant; rows: LinkRow[] }> {
    const tenant = await seedTenant(app());
    await appendSequentially(tenant.id, 9);
    const rows = await links(tenant.id);
    expect(rows).toHaveLength(10);
    return { tenant, rows };
  }

  describe('concurrent appends', () => {
    it('should extend one gap-free linear chain when 200 appends for one tenant run concurrently through the service', async () => {
      const tenant = await seedTenant(app());
      await Promise.all(Array.from({ length: 200 }, (_, i) => append(tenant.id, i)));
      const rows = await links(tenant.id);
      expectLinearChain(rows, 201);
      await expectHead(tenant.id, rows[200]);
      expect(await audit().verify(tenant.id)).toEqual({
        ok: true,
        checkedCount: 201,
        firstInvalidEventId: null,
        reason: null,
      });
    });

    it('should extend one gap-free linear chain when 200 audited GraphQL requests for one tenant run concurrently', async () => {
      const tenant = await seedTenant(app());
      // A MEMBER listing members: each request appends its own authz.denied (a request that only
      // authenticates appends nothing; it is counted into a per-minute summary).
      const key = await seedApiKey(app(), tenant, MemberRole.MEMBER);
      const summaries = app().app.get(AuthSuccessSummary);
      await summaries.flush();
      // One listening socket for all requests (supertest would otherwise listen and close per request).
      const server = app().app.getHttpServer() as Server;
      if (!server.listening) await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const responses = await Promise.all(
        Array.from({ length: 200 }, () =>
          request(base)
            .post('/graphql')
            .set('authorization', key.auth)
            .send({ query: '{ members { nodes { id } } }' }),
        ),
      );
      const unexpected = responses.filter((r) => r.status !== 200 || errorCode(r) !== 'FORBIDDEN');
      expect(unexpected.map((r) => [r.status, errorCode(r)])).toEqual([]);
      const rows = await links(tenant.id);
      expectLinearChain(rows, 202); // tenant.created, api_key.created, 200 denials
      expect(await auditCount(app(), { tenantId: tenant.id, action: 'authz.denied' })).toBe(200);

      // The 200 authentications become one summary (two if a minute turned meanwhile).
      await summaries.flush();
      const summarised = await app().ds.query<Array<{ count: number }>>(
        `SELECT (metadata->>'count')::int AS count FROM audit_event
          WHERE tenant_id = $1 AND action = 'auth.succeeded.summary' AND actor_id = $2`,
        [tenant.id, key.id],
      );
      expect(summarised.length).toBeGreaterThanOrEqual(1);
      expect(summarised.length).toBeLessThanOrEqual(2);
      expect(summarised.reduce((sum, r) => sum + r.count, 0)).toBe(200);

      const total = 202 + summarised.length;
      const verified = await app().gql(VERIFY, {}, { auth: tenant.owner.auth });
      expect(verified.body.data).toEqual({
        verifyAuditLog: { ok: true, checkedCount: total, firstInvalidEventId: null, reason: null },
      });
      expect(await auditCount(app(), { tenantId: tenant.id })).toBe(total);
    });

    it('should keep two independent chains when appends to two tenants interleave concurrently', async () => {
      const a = await seedTenant(app());
      const b = await seedTenant(app());
      await Promise.all(
        Array.from({ length: 240 }, (_, i) => append(i % 2 === 0 ? a.id : b.id, i)),
      );
      const rowsA = await links(a.id);
      const rowsB = await links(b.id);
      expectLinearChain(rowsA, 121);
      expectLinearChain(rowsB, 121);
      const hashesA = new Set(rowsA.map((r) => r.hash));
      expect(rowsB.filter((r) => hashesA.has(r.hash) || hashesA.has(r.prev_hash))).toEqual([]);
      await expectHead(a.id, rowsA[120]);
      await expectHead(b.id, rowsB[120]);
      expect(await audit().verify(a.id)).toMatchObject({ ok: true, checkedCount: 121 });
      expect(await audit().verify(b.id)).toMatchObject({ ok: true, checkedCount: 121 });
    });
  });

  describe('verification under load', () => {
    it('should report an intact chain when events are appended while it is being verified', async () => {
      const tenant = await seedTenant(app());
      await appendSequentially(tenant.id, 20);
      // Two writers that keep appending while verification runs, as a busy tenant would.
      let stop = false;
      let appended = 0;
      const writer = Promise.all(
        [0, 1].map(async () => {
          while (!stop) await append(tenant.id, appended++);
        }),
      );
      const verdicts: Array<Awaited<ReturnType<AuditService['verify']>>> = [];
      try {
        for (let i = 0; i < 30; i++) verdicts.push(await audit().verify(tenant.id));
      } finally {
        stop = true;
        await writer;
      }
      expect(appended).toBeGreaterThan(0);
      expect(verdicts.filter((v) => !v.ok)).toEqual([]);
      expect(await audit().verify(tenant.id)).toMatchObject({
        ok: true,
        checkedCount: 21 + appended,
      });
    });
  });

  describe('append-only trigger', () => {
    let tenant: SeededTenant;
    let before: AuditRow[];

    beforeAll(async () => {
      tenant = await seedTenant(app());
      await appendSequentially(tenant.id, 3);
      before = await auditRows(app(), { tenantId: tenant.id });
    });

    afterEach(async () => {
      expect(await auditRows(app(), { tenantId: tenant.id })).toEqual(before);
    });

    it('should refuse an UPDATE with an append-only error when the trigger is enabled', async () => {
      await expect(
        app().ds.query(`UPDATE audit_event SET action = 'x' WHERE tenant_id = $1`, [tenant.id]),
      ).rejects.toThrow(/append-only/);
    });

    it('should refuse a DELETE with an append-only error when the trigger is enabled', async () => {
      await expect(
        app().ds.query('DELETE FROM audit_event WHERE tenant_id = $1', [tenant.id]),
      ).rejects.toThrow(/append-only/);
    });

    it('should refuse a TRUNCATE with an append-only error when the trigger is enabled', async () => {
      await expect(app().ds.query('TRUNCATE audit_event')).rejects.toThrow(/append-only/);
    });

    it('should refuse an UPDATE when the retention setting is on for the transaction', async () => {
      await expect(
        app().ds.transaction(async (m) => {
          await m.query(`SELECT set_config('roomkey.audit_prune', 'on', true)`);
          await m.query(`UPDATE audit_event SET metadata = '{}' WHERE tenant_id = $1`, [tenant.id]);
        }),
      ).rejects.toThrow(/append-only/);
    });
  });

  describe('tamper detection', () => {
    it("should report hash_mismatch at the edited row when one row's metadata was edited", async () => {
      const { tenant, rows } = await tenantWithTenEvents();
      const victim = rows[4];
      await withTriggerDisabled(async () => {
        await app().ds.query(
          `UPDATE audit_event SET metadata = jsonb_set(metadata, '{keyId}', '"rk_forged"') WHERE id = $1`,
          [victim.id],
        );
      });
      expect(await audit().verify(tenant.id)).toEqual({
        ok: false,
        checkedCount: 4,
        firstInvalidEventId: victim.id,
        reason: 'hash_mismatch',
      });
      const viaApi = await app().gql(VERIFY, {}, { auth: tenant.owner.auth });
      expect(viaApi.body.data).toEqual({
        verifyAuditLog: {
          ok: false,
          checkedCount: 4,
          firstInvalidEventId: victim.id,
          reason: 'hash_mismatch',
        },
      });
    });

    it('should report sequence_gap at the following row when a middle row was deleted', async () => {
      const { tenant, rows } = await tenantWithTenEvents();
      await withTriggerDisabled(async () => {
        await app().ds.query('DELETE FROM audit_event WHERE id = $1', [rows[4].id]);
      });
      expect(await audit().verify(tenant.id)).toEqual({
        ok: false,
        checkedCount: 4,
        firstInvalidEventId: rows[5].id,
        reason: 'sequence_gap',
      });
    });

    it('should report the row now at the lower position when the seq numbers of two rows were swapped', async () => {
      const { tenant, rows } = await tenantWithTenEvents();
      const [third, fourth] = [rows[2], rows[3]];
      await withTriggerDisabled(async () => {
        await app().ds.query('UPDATE audit_event SET seq = -1 WHERE id = $1', [third.id]);
        await app().ds.query('UPDATE audit_event SET seq = 3 WHERE id = $1', [fourth.id]);
        await app().ds.query('UPDATE audit_event SET seq = 4 WHERE id = $1', [third.id]);
      });
      const after = await links(tenant.id);
      expect(after.map((r) => r.id).slice(2, 4)).toEqual([fourth.id, third.id]);
      expect(await audit().verify(tenant.id)).toMatchObject({
        ok: false,
        checkedCount: 2,
        firstInvalidEventId: fourth.id,
        reason: 'previous_hash_mismatch',
      });
    });

    it('should report hash_mismatch at the first event when the whole chain was recomputed with plain SHA-256', async () => {
      const { tenant } = await tenantWithTenEvents();
      const rows = await auditRows(app(), { tenantId: tenant.id });
      let prev = GENESIS_HASH;
      const forged: Array<{ id: string; prev: string; hash: string }> = [];
      for (const row of rows) {
        const hash = createHash('sha256')
          .update(prev)
          .update(canonicalJson(pickChained(rowToEvent(row))))
          .digest('hex');
        forged.push({ id: row.id, prev, hash });
        prev = hash;
      }
      await withTriggerDisabled(async () => {
        for (const f of forged) {
          await app().ds.query('UPDATE audit_event SET prev_hash = $2, hash = $3 WHERE id = $1', [
            f.id,
            f.prev,
            f.hash,
          ]);
        }
      });
      await app().ds.query('UPDATE audit_chain_head SET last_hash = $2 WHERE tenant_id = $1', [
        tenant.id,
        prev,
      ]);
      // The forged chain is consistent with itself: only the missing key gives it away.
      const relinked = await links(tenant.id);
      expect(relinked.filter((r, i) => i > 0 && r.prev_hash !== relinked[i - 1].hash)).toEqual([]);
      expect(relinked.map((r) => r.hash)).toEqual(forged.map((f) => f.hash));
      expect(await audit().verify(tenant.id)).toEqual({
        ok: false,
        checkedCount: 0,
        firstInvalidEventId: rows[0].id,
        reason: 'hash_mismatch',
      });
    });

    it('should report events_missing_at_end when the last row was deleted and the head left as it was', async () => {
      const { tenant, rows } = await tenantWithTenEvents();
      await withTriggerDisabled(async () => {
        await app().ds.query('DELETE FROM audit_event WHERE id = $1', [rows[9].id]);
      });
      expect(await audit().verify(tenant.id)).toMatchObject({
        ok: false,
        checkedCount: 9,
        reason: 'events_missing_at_end',
      });
    });

    it('should report the forged row when a row is appended with SQL without the key', async () => {
      const { tenant } = await tenantWithTenEvents();
      const [last] = (await auditRows(app(), { tenantId: tenant.id })).slice(-1);
      const forged = rowToEvent({
        ...last,
        id: randomUUID(),
        seq: '11',
        prev_hash: last.hash,
        occurred_at: new Date(),
      });
      const hash = createHash('sha256')
        .update(forged.prevHash)
        .update(canonicalJson(pickChained(forged)))
        .digest('hex');
      // INSERT is not refused: only verification can tell.
      await app().ds.query(
        `INSERT INTO audit_event (id, tenant_id, seq, occurred_at, actor_type, actor_id, actor_label,
           auth_method, action, target_type, target_id, outcome, error_code, client_ip, user_agent,
           request_id, metadata, prev_hash, hash, key_id)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20)`,
        [
          forged.id,
          forged.tenantId,
          forged.seq,
          forged.occurredAt,
          forged.actorType,
          forged.actorId,
          forged.actorLabel,
          forged.authMethod,
          forged.action,
          forged.targetType,
          forged.targetId,
          forged.outcome,
          forged.errorCode,
          forged.clientIp,
          forged.userAgent,
          forged.requestId,
          JSON.stringify(forged.metadata),
          forged.prevHash,
          hash,
          forged.keyId,
        ],
      );
      expect(await audit().verify(tenant.id)).toMatchObject({
        ok: false,
        checkedCount: 10,
        firstInvalidEventId: forged.id,
        reason: 'hash_mismatch',
      });
    });

    it('should refuse to prune and delete nothing when the chain does not verify', async () => {
      const { tenant, rows } = await tenantWithTenEvents();
      await withTriggerDisabled(async () => {
        await app().ds.query(`UPDATE audit_event SET actor_label = 'mallory' WHERE id = $1`, [
          rows[2].id,
        ]);
      });
      await expect(
        audit().prune(tenant.id, new Date(), systemActor('audit-chain-test')),
      ).rejects.toThrow(/Refusing to prune/);
      expect(await auditCount(app(), { tenantId: tenant.id })).toBe(10);
      expect(
        await app().ds.query('SELECT id FROM audit_checkpoint WHERE tenant_id = $1', [tenant.id]),
      ).toEqual([]);
    });
  });

  describe('retention', () => {
    let tenant: SeededTenant;
    let other: SeededTenant;
    let cut: Date;
    let beforeCut: LinkRow[];
    let afterCut: LinkRow[];
    let otherRows: LinkRow[];
    let userCreate: Awaited<ReturnType<typeof cli>>;
    let prune: Awaited<ReturnType<typeof cli>>;
    let cliVerify: Awaited<ReturnType<typeof cli>>;
    const cliPassword = `${CANARY}-cli`;
    const cliEmail = `cli-${uniq()}@retention.test`;

    beforeAll(async () => {
      tenant = await seedTenant(app());
      await appendSequentially(tenant.id, 5); // seq 2..6
      await sleep(50);
      cut = new Date();
      await sleep(50);
      await appendSequentially(tenant.id, 5); // seq 7..11
      other = await seedTenant(app());
      await appendSequentially(other.id, 3);
      const all = await links(tenant.id);
      beforeCut = all.slice(0, 6);
      afterCut = all.slice(6);
      otherRows = await links(other.id);

      // One process per PGlite folder: the CLI opens the database only once the app has closed.
      await app().close();
      t = null;
      userCreate = await cli(
        'user:create',
        '--email',
        cliEmail,
        '--password',
        cliPassword,
        '--tenant',
        tenant.slug,
        '--role',
        'MEMBER',
      );
      prune = await cli('audit:prune', '--before', cut.toISOString(), '--tenant', tenant.slug);
      cliVerify = await cli('audit:verify', '--tenant', tenant.slug);
      t = await startTestApp(env);
    });

    it('should remove the events before the cut and report them when audit:prune runs', async () => {
      expect(userCreate.code).toBe(0);
      expect(prune.err).toEqual([]);
      expect(prune.code).toBe(0);
      expect(JSON.parse(prune.out[0])).toEqual({ tenantId: tenant.id, removed: 6, lastSeq: '6' });
      const remaining = await links(tenant.id);
      expect(remaining.filter((r) => beforeCut.some((b) => b.id === r.id))).toEqual([]);
      expect(remaining.slice(0, 5)).toEqual(afterCut);
      expect(Number(remaining[0].seq)).toBe(7);
      const [{ n }] = await app().ds.query<Array<{ n: number }>>(
        'SELECT count(*)::int AS n FROM audit_event WHERE tenant_id = $1 AND occurred_at < $2',
        [tenant.id, cut],
      );
      expect(n).toBe(0);
    });

    it('should leave a signed checkpoint at the last removed event when audit:prune runs', async () => {
      const cps = await app().ds.query<
        Array<{ last_seq: string; last_hash: string; pruned_before: Date; signature: string }>
      >(
        `SELECT last_seq::text AS last_seq, last_hash, pruned_before, signature, key_id
           FROM audit_checkpoint WHERE tenant_id = $1`,
        [tenant.id],
      );
      expect(cps).toHaveLength(1);
      expect(cps[0]).toMatchObject({
        last_seq: '6',
        last_hash: beforeCut[5].hash,
        key_id: 'audit-test-1',
        signature: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
      expect(new Date(cps[0].pruned_before).toISOString()).toBe(cut.toISOString());
    });

    it('should record one audit.pruned event and keep the rest of the chain verifiable when audit:prune runs', async () => {
      const pruned = await auditRows(app(), { tenantId: tenant.id, action: 'audit.pruned' });
      expect(pruned).toHaveLength(1);
      expect(pruned[0]).toMatchObject({
        actor_type: 'SYSTEM',
        outcome: 'SUCCESS',
        metadata: { before: cut.toISOString(), lastSeq: '6', removed: 6 },
      });
      expect(cliVerify.code).toBe(0);
      expect(JSON.parse(cliVerify.out[0])).toMatchObject({ ok: true, reason: null });
      const remaining = await auditCount(app(), { tenantId: tenant.id });
      expect(await audit().verify(tenant.id)).toEqual({
        ok: true,
        checkedCount: remaining,
        firstInvalidEventId: null,
        reason: null,
      });
      const viaApi = await app().gql(VERIFY, {}, { auth: tenant.owner.auth });
      expect(errorCode(viaApi)).toBeUndefined();
      // The verifying request's own authentication is only counted (summarised later).
      expect(viaApi.body.data).toEqual({
        verifyAuditLog: {
          ok: true,
          checkedCount: remaining,
          firstInvalidEventId: null,
          reason: null,
        },
      });
    });

    it("should leave another tenant's chain untouched when audit:prune names one tenant", async () => {
      expect(await links(other.id)).toEqual(otherRows);
      expect(await audit().verify(other.id)).toMatchObject({ ok: true, checkedCount: 4 });
    });

    it('should keep a password given to the CLI out of the audit log when user:create runs with --password', async () => {
      const [user] = await app().ds.query<Array<{ id: string }>>(
        'SELECT id FROM app_user WHERE email = $1',
        [cliEmail],
      );
      const added = await auditRows(app(), { tenantId: tenant.id, action: 'member.added' });
      expect(added.map((r) => r.metadata.userId)).toContain(user.id);
      const dump = await auditDump(app());
      expect(dump.toLowerCase()).not.toContain(CANARY.toLowerCase());
      expect(dump).not.toContain(cliPassword);
    });

    it('should report checkpoint_signature_invalid when the checkpoint was forged', async () => {
      const [cp] = await app().ds.query<Array<{ id: string; last_hash: string }>>(
        'SELECT id, last_hash FROM audit_checkpoint WHERE tenant_id = $1',
        [tenant.id],
      );
      await app().ds.query(`UPDATE audit_checkpoint SET last_hash = $2 WHERE id = $1`, [
        cp.id,
        'f'.repeat(64),
      ]);
      try {
        expect(await audit().verify(tenant.id)).toEqual({
          ok: false,
          checkedCount: 0,
          firstInvalidEventId: null,
          reason: 'checkpoint_signature_invalid',
        });
        await app().ds.query(`UPDATE audit_checkpoint SET last_seq = 5 WHERE id = $1`, [cp.id]);
        expect(await audit().verify(tenant.id)).toMatchObject({
          ok: false,
          reason: 'checkpoint_signature_invalid',
        });
      } finally {
        await app().ds.query(
          `UPDATE audit_checkpoint SET last_hash = $2, last_seq = 6 WHERE id = $1`,
          [cp.id, cp.last_hash],
        );
      }
      expect(await audit().verify(tenant.id)).toMatchObject({ ok: true });
    });

    it('should report a sequence gap at the first remaining event when the checkpoint was deleted', async () => {
      await app().ds.query('DELETE FROM audit_checkpoint WHERE tenant_id = $1', [tenant.id]);
      expect(await audit().verify(tenant.id)).toEqual({
        ok: false,
        checkedCount: 0,
        firstInvalidEventId: afterCut[0].id,
        reason: 'sequence_gap',
      });
    });
  });
});
