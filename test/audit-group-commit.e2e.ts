/**
 * Audit by group commit (README "Audit log"): a tenant's concurrent appends share one
 * transaction, and each caller resumes only once its batch has committed.
 * - 500 concurrent appends, split over two instances on one PostgreSQL database (one instance on
 *   the embedded database, which is in-process), make one gap-free chain that verifies, with every
 *   caller's event exactly once.
 * - A server process killed while it mints under load leaves no connection row without its event
 *   and no event without its row, and every token it answered with is recorded.
 */
import { randomUUID } from 'node:crypto';
import { systemActor } from '../src/audit/audit-actor';
import { AuditService } from '../src/audit/audit.service';
import { seedApiKey, seedTenant, type SeededTenant } from './factories/tenancy';
import { auditRows } from './helpers/audit';
import { durableDatabase } from './helpers/database';
import {
  buildServer,
  killServer,
  type ServerProcess,
  spawnServer,
  waitReady,
} from './helpers/server-process';
import {
  ADMIN_EMAIL,
  ADMIN_PASSWORD,
  ADMIN_TENANT,
  TEST_AUDIT_KEYS,
  TEST_MASTER_KEYS,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

const onPostgres = Boolean(process.env.DATABASE_URL);
const UNLIMITED = {
  ROOMKEY_RATE_LIMIT_PRINCIPAL_PER_MINUTE: '10000000',
  ROOMKEY_RATE_LIMIT_TENANT_PER_MINUTE: '10000000',
};

describe(
  onPostgres
    ? 'Audit group commit across two instances on one PostgreSQL database'
    : 'Audit group commit in one instance (the embedded database is in-process: the two-instance case runs with DATABASE_URL)',
  () => {
    let a: TestApp;
    let b: TestApp;
    let drop: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      const db = await durableDatabase('group-commit');
      drop = db.drop;
      a = await startTestApp(db.env);
      b = onPostgres ? await startTestApp(db.env) : a;
    });

    afterAll(async () => {
      if (b !== a) await b?.close();
      await a?.close();
      await drop?.();
    });

    it('should make one gap-free chain that verifies from 500 concurrent appends, each event exactly once', async () => {
      const tenant = await seedTenant(a);
      const before = await auditRows(a, { tenantId: tenant.id });
      const actor = { ...systemActor('group-commit-test'), tenantId: tenant.id };
      const appended = await Promise.all(
        Array.from({ length: 500 }, (_, i) =>
          (i % 2 ? b : a).app.get(AuditService).record(null, actor, {
            action: 'api_key.revoked',
            targetType: 'api_key',
            targetId: `append-${i}`,
            metadata: { keyId: `rk_${String(i).padStart(24, '0')}` },
          }),
        ),
      );

      const rows = await auditRows(a, { tenantId: tenant.id });
      expect(rows).toHaveLength(before.length + 500);
      // Gap-free: seq runs 1..n with no hole and no repeat.
      expect(rows.map((r) => Number(r.seq))).toEqual(rows.map((_, i) => i + 1));
      const targets = rows.slice(before.length).map((r) => r.target_id);
      expect(new Set(targets).size).toBe(500);
      expect([...targets].sort()).toEqual(
        Array.from({ length: 500 }, (_, i) => `append-${i}`).sort(),
      );
      // Each caller got back the event that was stored, at its position in the chain.
      const bySeq = new Map(rows.map((r) => [r.seq, r.target_id]));
      for (const e of appended) expect(bySeq.get(String(e.seq))).toBe(e.targetId);
      // Either instance verifies the whole chain.
      for (const t of [a, b]) {
        expect(await t.app.get(AuditService).verify(tenant.id)).toEqual({
          ok: true,
          checkedCount: rows.length,
          firstInvalidEventId: null,
          reason: null,
        });
      }
    });

    it('should commit each batch row with its event in one statement, and fail only the job whose row is refused', async () => {
      const tenant = await seedTenant(a);
      await a.ds.query(
        'CREATE TABLE IF NOT EXISTS batch_row_probe (id uuid PRIMARY KEY, note text)',
      );
      const actor = { ...systemActor('batch-rows-test'), tenantId: tenant.id };
      const ids = Array.from({ length: 200 }, () => randomUUID());
      // Job 100 repeats job 0's id: the batch holding it fails, and its jobs are retried alone.
      ids[100] = ids[0];
      const settled = await Promise.allSettled(
        ids.map((id, i) =>
          (i % 2 ? b : a).app
            .get(AuditService)
            .insert(
              actor,
              [{ table: 'batch_row_probe', columns: ['id', 'note'], values: [id, `job-${i}`] }],
              {
                action: 'api_key.revoked',
                targetType: 'api_key',
                targetId: `job-${i}`,
                metadata: { keyId: `rk_${String(i).padStart(24, '0')}` },
              },
            ),
        ),
      );

      const failed = settled.flatMap((r, i) => (r.status === 'rejected' ? [i] : []));
      // Exactly one of the two jobs with the same id lost (whichever committed second).
      expect(failed).toHaveLength(1);
      expect([0, 100]).toContain(failed[0]);
      const notes = await a.ds.query<Array<{ note: string }>>(
        'SELECT note FROM batch_row_probe ORDER BY note',
      );
      const events = await auditRows(a, { tenantId: tenant.id, action: 'api_key.revoked' });
      // Rows and events pair up exactly: no row without its event, no event without its row.
      expect(notes.map((n) => n.note).sort()).toEqual(events.map((e) => e.target_id).sort());
      expect(notes).toHaveLength(199);
      expect(await a.app.get(AuditService).verify(tenant.id)).toMatchObject({ ok: true });
      await a.ds.query('DROP TABLE batch_row_probe');
    });

    it('should refuse a batch row whose table or column is not a plain name, writing nothing', async () => {
      const tenant = await seedTenant(a);
      const actor = { ...systemActor('batch-rows-test'), tenantId: tenant.id };
      const before = await auditRows(a, { tenantId: tenant.id });
      await expect(
        a.app
          .get(AuditService)
          .insert(
            actor,
            [{ table: 'tenant; DROP TABLE tenant', columns: ['id'], values: [randomUUID()] }],
            { action: 'api_key.revoked', metadata: { keyId: 'rk_x' } },
          ),
      ).rejects.toThrow(/not a plain table or column name/);
      expect(await auditRows(a, { tenantId: tenant.id })).toEqual(before);
    });

    describe('on the head the instance last wrote', () => {
      const revoke = (t: TestApp, tenantId: string, targetId: string) =>
        t.app.get(AuditService).record(
          null,
          { ...systemActor('known-head'), tenantId },
          {
            action: 'api_key.revoked',
            targetType: 'api_key',
            targetId,
            metadata: { keyId: 'rk_known_head' },
          },
        );
      /** The statements the instance sends while `work` runs (transaction control included). */
      async function statements(t: TestApp, work: () => Promise<unknown>): Promise<string[]> {
        const seen: string[] = [];
        const runner = t.ds.createQueryRunner;
        const spy = jest.spyOn(t.ds, 'createQueryRunner').mockImplementation((...args) => {
          const qr = runner.apply(t.ds, args);
          const query = qr.query.bind(qr);
          qr.query = ((sql: string, ...rest: unknown[]) => {
            seen.push(sql.replace(/\s+/g, ' ').trim());
            return (query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
          }) as typeof qr.query;
          return qr;
        });
        try {
          await work();
        } finally {
          spy.mockRestore();
        }
        return seen;
      }

      it('should write a batch of plain appends as one statement, no lock, once it knows the head', async () => {
        const tenant = await seedTenant(a);
        const seeded = (await auditRows(a, { tenantId: tenant.id })).length;
        await revoke(a, tenant.id, 'first'); // locks and reads the head: now it is known
        const sent = await statements(a, () =>
          Promise.all([1, 2, 3].map((i) => revoke(a, tenant.id, `known-${i}`))),
        );
        expect(sent).toHaveLength(1);
        expect(sent[0]).toMatch(/^WITH head AS \( UPDATE audit_chain_head .* AND last_hash = /);
        expect(sent.join('\n')).not.toMatch(/FOR UPDATE|START TRANSACTION|BEGIN/i);
        const rows = (await auditRows(a, { tenantId: tenant.id })).slice(seeded);
        expect(rows.map((r) => r.target_id)).toEqual(['first', 'known-1', 'known-2', 'known-3']);
        expect(await a.app.get(AuditService).verify(tenant.id)).toMatchObject({ ok: true });
      });

      it('should leave nothing of the statement and write the batch under the lock when the head moved elsewhere', async () => {
        const tenant = await seedTenant(a);
        const seeded = (await auditRows(a, { tenantId: tenant.id })).length;
        await revoke(a, tenant.id, 'first');
        // Another writer moves the head: an append inside a transaction of its own, as another
        // instance's batch would, behind this instance's back (its known head is put back).
        const audit = a.app.get(AuditService);
        const heads = (audit as unknown as { heads: Map<string, unknown> }).heads;
        const known = heads.get(tenant.id);
        expect(known).toBeDefined();
        await a.ds.transaction((m) =>
          audit.record(
            m,
            { ...systemActor('elsewhere'), tenantId: tenant.id },
            {
              action: 'api_key.revoked',
              targetType: 'api_key',
              targetId: 'elsewhere',
              metadata: { keyId: 'rk_elsewhere' },
            },
          ),
        );
        heads.set(tenant.id, known);
        const sent = await statements(a, () => revoke(a, tenant.id, 'after'));
        // The known-head statement failed whole, then the lock, the batch, the commit.
        expect(sent[0]).toMatch(/^WITH head AS/);
        expect(sent.some((q) => /FOR UPDATE/.test(q))).toBe(true);
        const rows = (await auditRows(a, { tenantId: tenant.id })).slice(seeded);
        expect(rows.map((r) => r.target_id)).toEqual(['first', 'elsewhere', 'after']);
        expect(rows.map((r) => Number(r.seq))).toEqual([1, 2, 3].map((i) => seeded + i));
        expect(await audit.verify(tenant.id)).toMatchObject({
          ok: true,
          checkedCount: seeded + 3,
        });
      });
    });
  },
);

describe('Audit group commit when the server process is killed while it mints', () => {
  let drop: (() => Promise<void>) | undefined;
  let env: Record<string, string>;
  let server: ServerProcess | undefined;
  let t: TestApp | undefined;

  beforeAll(() => buildServer(), 300_000);

  afterAll(async () => {
    await killServer(server);
    await t?.close();
    await drop?.();
  });

  it('should leave no connection without its event, no event without its connection, and every answered token recorded', async () => {
    const db = await durableDatabase('group-commit');
    drop = db.drop;
    env = {
      ...db.env,
      ...UNLIMITED,
      ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
      ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
      ROOMKEY_BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL,
      ROOMKEY_BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD,
      ROOMKEY_BOOTSTRAP_TENANT: ADMIN_TENANT,
    };
    // Arrange with a test app, then let the server process have the database.
    t = await startTestApp(env);
    const tenant: SeededTenant = await seedTenant(t);
    const key = await seedApiKey(t, tenant);
    const cred = await t.gql(
      `mutation { createProviderCredential(input: {name: "agora", isDefault: true, agora: {appId: "${'a'.repeat(32)}", appCertificate: "${'c'.repeat(32)}"}}) { id } }`,
      {},
      { auth: tenant.owner.auth },
    );
    expect(cred.body.errors).toBeUndefined();
    await t.close();
    t = undefined;

    server = await spawnServer(env);
    await waitReady(server);
    const base = `http://127.0.0.1:${server.port}/t/${tenant.slug}/agora/rtc/crash-room/publisher/uid`;
    const answered: number[] = [];
    // What went wrong before the kill, for the failure message: refusals and transport errors.
    const trouble: string[] = [];
    let killed = false;
    let cut = 0;
    let nextUid = 1;
    let stop = false;
    const loops = Array.from({ length: 40 }, async () => {
      while (!stop) {
        const uid = nextUid++;
        try {
          const res = await fetch(`${base}/${uid}/`, { headers: { authorization: key.auth } });
          const body = (await res.json()) as { rtcToken?: string };
          if (res.status === 200 && body.rtcToken) answered.push(uid);
          else trouble.push(`${res.status} ${JSON.stringify(body).slice(0, 300)}`);
        } catch (err) {
          if (killed) {
            cut++; // the process died with this request in flight
            return;
          }
          // Not the kill: noted for the failure message, and the loop goes on.
          trouble.push(`uid ${uid}: ${String((err as Error).cause ?? err)}`);
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    });
    // Kill it with mints in flight, once batches are flowing.
    const started = Date.now();
    while (answered.length < 200 && Date.now() - started < 60_000)
      await new Promise((r) => setTimeout(r, 20));
    const beforeKill = {
      alive: server.proc.exitCode === null && server.proc.signalCode === null,
      answered: answered.length,
      ms: Date.now() - started,
      trouble: [...trouble],
    };
    killed = true;
    server.proc.kill('SIGKILL');
    await server.exited;
    stop = true;
    await Promise.all(loops);
    if (beforeKill.answered < 200) {
      throw new Error(
        `${beforeKill.answered} tokens in ${beforeKill.ms} ms before the kill` +
          ` (the server ${beforeKill.alive ? 'still running' : 'had already exited'}); ` +
          `${beforeKill.trouble.length} other outcomes, the first: ${beforeKill.trouble.slice(0, 3).join(' | ')}\n` +
          `server output, without its routine request lines:\n${server
            .output()
            .split('\n')
            .filter((l) => !/"level":30,.*"msg":"request completed"/.test(l))
            .slice(-40)
            .join('\n')}`,
      );
    }
    expect(answered.length).toBeGreaterThanOrEqual(200);
    expect(cut).toBeGreaterThan(0);

    t = await startTestApp(env);
    const rows = await t.ds.query<Array<{ id: string; identity: string }>>(
      'SELECT id, identity FROM session_connection WHERE tenant_id = $1',
      [tenant.id],
    );
    const events = await auditRows(t, { tenantId: tenant.id, action: 'connection.created' });
    const eventTargets = events.map((e) => e.target_id);
    expect(new Set(eventTargets).size).toBe(eventTargets.length);
    expect([...eventTargets].sort()).toEqual(rows.map((r) => r.id).sort());
    // Durable before answering: every uid that got a token has its connection row (and event).
    const recorded = new Set(rows.map((r) => Number(r.identity)));
    expect(answered.filter((uid) => !recorded.has(uid))).toEqual([]);
    expect(await t.app.get(AuditService).verify(tenant.id)).toMatchObject({ ok: true });
  });
});
