/**
 * Red5 admission (README "Rate limits"): within its budget, a tenant's Red5 validations pass a
 * per-tenant gate — a few at once, a bounded queue, the rest refused at once with Red5's own
 * HTTP 200 `{"result":false}` — so one tenant's burst never holds the pool ahead of another's.
 * Here the gate admits one validation per tenant and queues none.
 */
import { request as httpRequest, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { systemActor } from '../src/audit/audit-actor';
import { AuditService } from '../src/audit/audit.service';
import { RateLimitAudit } from '../src/rate-limits/rate-limit-audit.service';
import { Red5Admission } from '../src/rate-limits/red5-admission';
import { seedRed5Tenant, validateRed5 } from './helpers/red5';
import { startTestApp, type TestApp } from './helpers/test-app';

/** A test app listening on a loopback port, for requests written by hand. */
async function listeningApp(env: Record<string, string>): Promise<TestApp> {
  const t = await startTestApp(env);
  await new Promise<void>((resolve) =>
    (t.app.getHttpServer() as Server).listen(0, '127.0.0.1', resolve),
  );
  return t;
}

/**
 * Starts a validation for a tenant whose body arrives only when `finish` is called: admitted on
 * its headers, it holds the tenant's one slot until it is answered.
 */
function startValidation(t: TestApp, slug: string, body: unknown) {
  const { port } = (t.app.getHttpServer() as Server).address() as AddressInfo;
  const payload = Buffer.from(JSON.stringify(body));
  const req = httpRequest({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path: `/t/${slug}/red5/validateCredentials`,
    headers: { 'content-type': 'application/json', 'content-length': payload.length },
  });
  const answer = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
  });
  req.write(payload.subarray(0, 1));
  return {
    answer,
    finish: () => req.end(payload.subarray(1)),
    /** The client gives up: the connection is closed before any answer. */
    abandon: () => {
      answer.catch(() => undefined);
      req.destroy();
    },
  };
}

describe('Red5 admission per tenant', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await listeningApp({
      ROOMKEY_RATE_LIMIT_RED5_CONCURRENCY: '1',
      ROOMKEY_RATE_LIMIT_RED5_QUEUE: '0',
    });
  });
  afterAll(() => t?.close());

  const slowValidation = (slug: string, body: unknown) => startValidation(t, slug, body);

  it("should refuse tenant A's next validation with 200 {result:false} while its slot is taken, audit it as one summary, and still pass tenant B", async () => {
    const [a, b] = [await seedRed5Tenant(t), await seedRed5Tenant(t)];
    const holder = slowValidation(a.tenant.slug, a.body);
    await new Promise((r) => setTimeout(r, 200)); // its headers are in: it holds A's slot

    const refused = await Promise.all(
      Array.from({ length: 5 }, () => validateRed5(t, a.tenant.slug, a.body)),
    );
    expect(refused.map((r) => [r.status, r.text])).toEqual(
      Array(5).fill([200, '{"result":false}']),
    );
    const fromB = await validateRed5(t, b.tenant.slug, b.body);
    expect([fromB.status, fromB.text]).toEqual([200, '{"result":true}']);

    holder.finish();
    expect(await holder.answer).toBe('{"result":true}');
    const after = await validateRed5(t, a.tenant.slug, a.body);
    expect(after.text).toBe('{"result":true}');

    // Only admitted validations were audited; the refusals became one per-minute summary.
    await t.app.get(RateLimitAudit).flush();
    const rows = await t.ds.query<Array<{ action: string; metadata: Record<string, unknown> }>>(
      `SELECT action, metadata FROM audit_event
        WHERE tenant_id = $1 AND action IN ('red5.validated', 'rate_limit.exceeded') ORDER BY seq`,
      [a.tenant.id],
    );
    expect(rows.filter((r) => r.action === 'red5.validated')).toHaveLength(2);
    const summaries = rows.filter((r) => r.action === 'rate_limit.exceeded');
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.every((s) => s.metadata.scope === 'red5_concurrency')).toBe(true);
    expect(summaries.reduce((n, s) => n + Number(s.metadata.count), 0)).toBe(5);
  });

  it('should admit the next validation of a tenant once its running one has answered', async () => {
    const a = await seedRed5Tenant(t);
    for (let i = 0; i < 5; i++) {
      const r = await validateRed5(t, a.tenant.slug, a.body);
      expect(r.text).toBe('{"result":true}');
    }
  });

  it('should answer a refused request without reading its body and keep serving the tenant', async () => {
    const a = await seedRed5Tenant(t);
    const holder = slowValidation(a.tenant.slug, a.body);
    await new Promise((r) => setTimeout(r, 200));
    const big = { ...a.body, padding: 'x'.repeat(32 * 1024) };
    const refused = await validateRed5(t, a.tenant.slug, big);
    expect([refused.status, refused.text]).toEqual([200, '{"result":false}']);
    holder.finish();
    expect(await holder.answer).toBe('{"result":true}');
    const after = await validateRed5(t, a.tenant.slug, a.body);
    expect(after.text).toBe('{"result":true}');
  });
});

describe('Red5 admission while the audit commit waits', () => {
  const onPostgres = Boolean(process.env.DATABASE_URL);
  let t: TestApp;

  beforeAll(async () => {
    t = await listeningApp({
      ROOMKEY_RATE_LIMIT_RED5_CONCURRENCY: '1',
      ROOMKEY_RATE_LIMIT_RED5_QUEUE: '0',
    });
  });
  afterAll(() => t?.close());

  // On the embedded database the batch held open below holds its only session, so no lookup
  // could run at all: the case needs a connection pool.
  (onPostgres ? it : it.skip)(
    `should free the tenant's slot once a validation has decided, not when its audit event has committed${onPostgres ? '' : ' (PostgreSQL only: skipped on the embedded database)'}`,
    async () => {
      const a = await seedRed5Tenant(t);
      // A batch of tenant A that does not finish until we say so: A's next batch (with the
      // validations' events) waits behind it, as behind a slow commit.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const actor = { ...systemActor('red5-admission-test'), tenantId: a.tenant.id };
      const blocker = t.app.get(AuditService).commit(
        actor,
        () => held,
        () => ({ action: 'api_key.revoked' as const, metadata: { keyId: 'rk_blocker' } }),
      );
      // `.then` sends the request now (supertest sends lazily).
      const first = validateRed5(t, a.tenant.slug, a.body).then((r) => r.text);
      await new Promise((r) => setTimeout(r, 300)); // decided; its event waits for the batch
      const second = validateRed5(t, a.tenant.slug, a.body).then((r) => r.text);
      const early = await Promise.race([
        second,
        new Promise((r) => setTimeout(() => r('still waiting'), 500)),
      ]);
      // Had the first validation kept the one slot until its event committed, the second would
      // have been refused at once ({"result":false}) instead of waiting for its own commit.
      expect(early).toBe('still waiting');
      release();
      await blocker;
      expect(await first).toBe('{"result":true}');
      expect(await second).toBe('{"result":true}');
      const [row] = await t.ds.query<Array<{ n: number }>>(
        `SELECT count(*)::int AS n FROM audit_event WHERE tenant_id = $1 AND action = 'red5.validated'`,
        [a.tenant.id],
      );
      expect(row.n).toBe(2);
    },
  );
});

describe('Red5 admission queue', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await listeningApp({
      ROOMKEY_RATE_LIMIT_RED5_CONCURRENCY: '1',
      ROOMKEY_RATE_LIMIT_RED5_QUEUE: '1',
    });
  });
  afterAll(() => t?.close());

  it('should pass the slot on when a queued client leaves before its turn, so the tenant keeps being served', async () => {
    const a = await seedRed5Tenant(t);
    const holder = startValidation(t, a.tenant.slug, a.body);
    await new Promise((r) => setTimeout(r, 200)); // it holds A's one slot
    const queued = startValidation(t, a.tenant.slug, a.body);
    await new Promise((r) => setTimeout(r, 200)); // it waits in A's queue
    queued.abandon();
    await new Promise((r) => setTimeout(r, 100));
    holder.finish();
    expect(await holder.answer).toBe('{"result":true}');
    // Had the departed client kept the slot, these would wait (queued) or be refused for ever.
    for (let i = 0; i < 3; i++) {
      const r = await validateRed5(t, a.tenant.slug, a.body);
      expect(r.text).toBe('{"result":true}');
    }
  });
});

describe('Red5 over-budget answers held back', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await listeningApp({
      ROOMKEY_RATE_LIMIT_RED5_PER_TENANT: '1',
      ROOMKEY_RATE_LIMIT_RED5_REFUSAL_DELAY_MS: '30000',
    });
  });
  afterAll(() => t?.close());

  it('should hold an over-budget answer back, and let it go when the client leaves', async () => {
    const a = await seedRed5Tenant(t);
    expect((await validateRed5(t, a.tenant.slug, a.body)).text).toBe('{"result":true}');
    const admission = t.app.get(Red5Admission);
    expect(admission.heldBack()).toBe(0);

    const { port } = (t.app.getHttpServer() as Server).address() as AddressInfo;
    const payload = JSON.stringify(a.body);
    let answered = false;
    const req = httpRequest({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: `/t/${a.tenant.slug}/red5/validateCredentials`,
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
    });
    req.on('response', () => (answered = true));
    req.on('error', () => undefined); // destroyed below
    req.end(payload);
    // Without the hold-back this answer takes milliseconds; it is still pending with it.
    for (let i = 0; i < 50 && admission.heldBack() === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(admission.heldBack()).toBe(1);
    expect(answered).toBe(false);

    req.destroy();
    for (let i = 0; i < 50 && admission.heldBack() > 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(admission.heldBack()).toBe(0);
    expect(answered).toBe(false);
  });
});
