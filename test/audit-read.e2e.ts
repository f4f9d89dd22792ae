import { randomBytes, randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { systemActor } from '../src/audit/audit-actor';
import { type ChainedEvent, chainHash } from '../src/audit/audit-chain';
import { CSV_COLUMNS } from '../src/audit/audit-export';
import { AuditService, type rowToEvent } from '../src/audit/audit.service';
import { runCli } from '../src/cli/main';
import { ActorType, AuthMethod, MemberRole } from '../src/common/auth/roles';
import { KeyStore } from '../src/common/keys/key-store';
import { seedMember, seedTenant, type SeededTenant, type SeededUser } from './factories/tenancy';
import {
  TEST_AUDIT_KEYS,
  TEST_MASTER_KEYS,
  errorCode,
  type GqlResult,
  startTestApp,
  type TestApp,
} from './helpers/test-app';

/**
 * docs/security.md S11 / docs/decisions.md#issue-3, read side: paging and filters of `auditEvents`, `verifyAuditLog`,
 * the streaming export (NDJSON re-verified offline by the CLI, RFC 4180 CSV) and tenant isolation
 * on every read path.
 */

type EventRow = Parameters<typeof rowToEvent>[0];
interface Node {
  id: string;
  seq: string;
  action: string;
  actorId: string | null;
  targetType: string | null;
  targetId: string | null;
  outcome: string;
  occurredAt: string;
}
interface EventsData {
  auditEvents: {
    edges: Array<{ cursor: string; node: Node }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}
interface Download {
  status: number;
  text: string;
  headers: Record<string, string>;
}

const EVENTS = `query($filter: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id seq action actorId targetType targetId outcome occurredAt } }
    pageInfo { hasNextPage endCursor } } }`;
const VERIFY = '{ verifyAuditLog { ok checkedCount firstInvalidEventId reason } }';
const CREATE_KEY = `mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { apiKey { id name } } }`;

const uniq = (): string => randomBytes(4).toString('hex');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const b64url = (s: string): string => Buffer.from(s, 'utf8').toString('base64url');

/**
 * Strict RFC 4180 reader: records end with CRLF; a field is either plain (no quote, comma, CR or
 * LF) or quoted with doubled inner quotes. Anything else throws, so sloppy output fails the test.
 */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let i = 0;
  while (i < text.length) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) throw new Error('unterminated quoted field');
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += text[i++];
      }
    } else {
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
        if (text[i] === '"') throw new Error(`quote inside a plain field at ${i}`);
        field += text[i++];
      }
    }
    row.push(field);
    if (text[i] === ',') {
      i++;
    } else if (text[i] === '\r' && text[i + 1] === '\n') {
      rows.push(row);
      row = [];
      i += 2;
    } else if (i >= text.length) {
      rows.push(row);
      row = [];
    } else {
      throw new Error(`unexpected character ${JSON.stringify(text[i])} at ${i}`);
    }
  }
  if (row.length > 0) rows.push(row);
  return rows;
}

function ndjson(text: string): ChainedEvent[] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as ChainedEvent);
}

describe('audit read side', () => {
  let t: TestApp;
  let a: SeededTenant;
  let aAdmin: SeededUser;
  let aMember: SeededUser;
  let b: SeededTenant;
  /** Splits tenant A's log: phase 1 < mid1 <= phase 2 < mid2 <= everything later. */
  let mid1: Date;
  let mid2: Date;
  let tmp: string;
  const cliEnv = {
    NODE_ENV: 'test',
    ROOMKEY_DATA_DIR: 'memory://',
    ROOMKEY_AUDIT_KEYS: TEST_AUDIT_KEYS,
    ROOMKEY_MASTER_KEYS: TEST_MASTER_KEYS,
  };

  const audit = (): AuditService => t.app.get(AuditService);
  const append = (tenantId: string, i: number) =>
    audit().record(
      null,
      { ...systemActor('audit-read-test'), tenantId },
      {
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: `target-${i}`,
        metadata: { keyId: `rk_${String(i).padStart(24, '0')}` },
      },
    );

  async function events(
    auth: string,
    vars: { filter?: Record<string, unknown>; first?: number; after?: string } = {},
  ): Promise<GqlResult<EventsData>> {
    return t.gql<EventsData>(EVENTS, vars, { auth });
  }

  async function nodes(auth: string, filter: Record<string, unknown>): Promise<Node[]> {
    const r = await events(auth, { filter, first: 100 });
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data!.auditEvents.pageInfo.hasNextPage).toBe(false);
    return r.body.data!.auditEvents.edges.map((e) => e.node);
  }

  async function idsOf(tenantId: string): Promise<Set<string>> {
    const rows = await t.ds.query<Array<{ id: string }>>(
      'SELECT id FROM audit_event WHERE tenant_id = $1',
      [tenantId],
    );
    return new Set(rows.map((r) => r.id));
  }

  async function count(tenantId: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
    const [r] = await t.ds.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM audit_event WHERE tenant_id = $1 AND ${where}`,
      [tenantId, ...params],
    );
    return r.n;
  }

  async function download(url: string, auth?: string): Promise<Download> {
    const req = t.http().get(url);
    if (auth) req.set('authorization', auth);
    // NDJSON and CSV are not parsed by superagent: collect any body as text.
    const res = await req.buffer(true).parse((r, cb) => {
      let body = '';
      r.setEncoding('utf8');
      r.on('data', (chunk: string) => (body += chunk));
      r.on('end', () => cb(null, body));
    });
    return { status: res.status, text: res.body as string, headers: res.headers };
  }

  async function cli(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(argv, cliEnv, {
      out: (l) => out.push(l),
      err: (l) => err.push(l),
    });
    return { code, out, err };
  }

  function writeTmp(name: string, text: string): string {
    const file = path.join(tmp, name);
    fs.writeFileSync(file, text);
    return file;
  }

  beforeAll(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-audit-read-'));
    t = await startTestApp();
    a = await seedTenant(t);
    aAdmin = await seedMember(t, a, MemberRole.ADMIN);
    aMember = await seedMember(t, a, MemberRole.MEMBER);
    b = await seedTenant(t);

    // Phase 1 in A: a denial, two keys created over GraphQL, service appends.
    expect(errorCode(await t.gql('{ members { nodes { id } } }', {}, { auth: aMember.auth }))).toBe(
      'FORBIDDEN',
    );
    for (const name of ['first key', 'second key']) {
      const r = await t.gql(CREATE_KEY, { input: { name, role: 'MEMBER' } }, { auth: aAdmin.auth });
      expect(r.body.errors).toBeUndefined();
    }
    for (let i = 0; i < 5; i++) await append(a.id, i);
    await sleep(40);
    mid1 = new Date();
    await sleep(40);
    // Phase 2 in A: exactly ten events.
    for (let i = 5; i < 15; i++) await append(a.id, i);
    await sleep(40);
    mid2 = new Date();
    await sleep(40);
    // Tenant B: its own sign-in, a denial and events whose target ids collide with A's.
    expect(
      (await t.gql('{ me { role } }', {}, { auth: b.owner.auth })).body.errors,
    ).toBeUndefined();
    for (let i = 0; i < 5; i++) await append(b.id, i);
  });

  afterAll(async () => {
    await t?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('auditEvents', () => {
    it('should page newest first with strictly decreasing seq and no duplicates when following endCursor', async () => {
      const seen: Node[] = [];
      let after: string | undefined;
      let pages = 0;
      for (;;) {
        const r = await events(aAdmin.auth, { first: 7, after });
        expect(r.body.errors).toBeUndefined();
        const page = r.body.data!.auditEvents;
        expect(page.edges.length).toBeLessThanOrEqual(7);
        seen.push(...page.edges.map((e) => e.node));
        pages++;
        if (!page.pageInfo.hasNextPage) break;
        expect(page.edges).toHaveLength(7);
        expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)!.cursor);
        after = page.pageInfo.endCursor!;
        expect(pages).toBeLessThan(50);
      }
      const seqs = seen.map((n) => Number(n.seq));
      expect(pages).toBeGreaterThan(2);
      expect(seqs.slice(1).every((s, i) => s < seqs[i])).toBe(true);
      expect(new Set(seen.map((n) => n.id)).size).toBe(seen.length);
      expect(seqs.at(-1)).toBe(1);
      // Every event up to the newest on the first page, none skipped.
      expect(seen).toHaveLength(seqs[0]);
      expect(await count(a.id, 'seq <= $2', [seqs[0]])).toBe(seen.length);
      const aIds = await idsOf(a.id);
      expect(seen.filter((n) => !aIds.has(n.id))).toEqual([]);
    });

    const filters: Array<[string, () => unknown, (n: Node, v: unknown) => boolean, string]> = [
      ['action', () => 'api_key.created', (n, v) => n.action === v, 'action = $2'],
      ['actorId', () => aMember.id, (n, v) => n.actorId === v, 'actor_id = $2'],
      ['targetType', () => 'member', (n, v) => n.targetType === v, 'target_type = $2'],
      ['targetId', () => 'target-3', (n, v) => n.targetId === v, 'target_id = $2'],
      ['outcome', () => 'DENIED', (n, v) => n.outcome === v, 'outcome = $2'],
      [
        'from',
        () => mid1.toISOString(),
        (n, v) => new Date(n.occurredAt) >= new Date(v as string),
        'occurred_at >= $2',
      ],
      [
        'to',
        () => mid1.toISOString(),
        (n, v) => new Date(n.occurredAt) < new Date(v as string),
        'occurred_at < $2',
      ],
    ];

    it.each(filters)(
      'should return only and all matching events of the tenant when filtering by %s',
      async (key, value, matches, where) => {
        const v = value();
        const found = await nodes(aAdmin.auth, { [key]: v });
        const total = await count(a.id);
        const expected = await count(a.id, where, [
          key === 'from' || key === 'to' ? new Date(v as string) : v,
        ]);
        expect(found.length).toBeGreaterThan(0);
        expect(found.length).toBeLessThan(total);
        expect(found.filter((n) => !matches(n, v))).toEqual([]);
        expect(found).toHaveLength(expected);
        const aIds = await idsOf(a.id);
        expect(found.filter((n) => !aIds.has(n.id))).toEqual([]);
      },
    );

    it('should combine filters with AND when several are given', async () => {
      const found = await nodes(aAdmin.auth, {
        action: 'api_key.revoked',
        targetId: 'target-7',
        from: mid1.toISOString(),
        to: mid2.toISOString(),
      });
      expect(found.map((n) => [n.action, n.targetId])).toEqual([['api_key.revoked', 'target-7']]);
      expect(await nodes(aAdmin.auth, { targetId: 'target-7', to: mid1.toISOString() })).toEqual(
        [],
      );
    });

    it.each([
      ['an unknown action', { filter: { action: 'no.such_action' } }],
      ['a malformed action', { filter: { action: 'Not An Action' } }],
      [
        'from after to',
        { filter: { from: '2030-01-02T00:00:00.000Z', to: '2030-01-01T00:00:00.000Z' } },
      ],
      ['a garbage cursor', { after: 'garbage!!' }],
      ['a cursor with a non-numeric seq', { after: b64url('seq:abc') }],
      ['a cursor with a 25-digit seq', { after: b64url(`seq:${'9'.repeat(25)}`) }],
      ['a cursor with a seq beyond the bigint range', { after: b64url(`seq:${'9'.repeat(19)}`) }],
    ])('should answer BAD_USER_INPUT when given %s', async (_label, vars) => {
      const r = await events(aAdmin.auth, vars);
      expect(errorCode(r)).toBe('BAD_USER_INPUT');
      expect(r.body.data ?? null).toBeNull();
    });

    it('should answer FORBIDDEN when a MEMBER reads the audit log or verifies it', async () => {
      const r = await events(aMember.auth);
      expect(errorCode(r)).toBe('FORBIDDEN');
      expect(r.body.data ?? null).toBeNull();
      expect(errorCode(await t.gql(VERIFY, {}, { auth: aMember.auth }))).toBe('FORBIDDEN');
    });

    it('should answer UNAUTHENTICATED when no credentials are sent', async () => {
      expect(errorCode(await t.gql(EVENTS, {}))).toBe('UNAUTHENTICATED');
      expect(errorCode(await t.gql(VERIFY, {}))).toBe('UNAUTHENTICATED');
    });
  });

  describe('tenant isolation', () => {
    it("should never return another tenant's events when an admin pages or filters the log", async () => {
      const bIds = await idsOf(b.id);
      expect(bIds.size).toBeGreaterThan(0);
      const seen: Node[] = [];
      let after: string | undefined;
      for (let i = 0; i < 20; i++) {
        const r = await events(aAdmin.auth, { first: 100, after });
        seen.push(...r.body.data!.auditEvents.edges.map((e) => e.node));
        if (!r.body.data!.auditEvents.pageInfo.hasNextPage) break;
        after = r.body.data!.auditEvents.pageInfo.endCursor!;
      }
      expect(seen.length).toBeGreaterThan(10);
      expect(seen.filter((n) => bIds.has(n.id))).toEqual([]);
      expect(await nodes(aAdmin.auth, { actorId: b.owner.id })).toEqual([]);
      expect(await nodes(aAdmin.auth, { targetId: b.id })).toEqual([]);
      const collided = await nodes(aAdmin.auth, { targetId: 'target-2' });
      expect(collided).toHaveLength(1);
      expect(bIds.has(collided[0].id)).toBe(false);
    });

    it("should count only the caller's tenant when an admin verifies the log", async () => {
      const r = await t.gql<{ verifyAuditLog: Record<string, unknown> }>(
        VERIFY,
        {},
        { auth: aAdmin.auth },
      );
      const own = await count(a.id);
      expect(await count(b.id)).toBeGreaterThan(0);
      expect(r.body.data?.verifyAuditLog).toEqual({
        ok: true,
        checkedCount: own,
        firstInvalidEventId: null,
        reason: null,
      });
    });

    it("should export only the caller's tenant when an admin downloads NDJSON or CSV", async () => {
      const bIds = [...(await idsOf(b.id))];
      const json = await download('/audit/export?format=ndjson', aAdmin.auth);
      expect(json.status).toBe(200);
      const lines = ndjson(json.text);
      expect(lines.length).toBeGreaterThan(10);
      expect(lines.filter((e) => e.tenantId !== a.id)).toEqual([]);
      expect(json.text).not.toContain(b.id);
      const csv = await download('/audit/export?format=csv', aAdmin.auth);
      expect(csv.status).toBe(200);
      expect(csv.text).not.toContain(b.id);
      for (const id of bIds) {
        expect(json.text).not.toContain(id);
        expect(csv.text).not.toContain(id);
      }
    });
  });

  describe('export', () => {
    it('should stream NDJSON that the CLI verifies offline when the whole log is exported', async () => {
      const res = await download('/audit/export?format=ndjson', aAdmin.auth);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      expect(res.headers['content-disposition']).toMatch(
        new RegExp(`^attachment; filename="audit-${a.slug}-.+\\.ndjson"$`),
      );
      const lines = ndjson(res.text);
      const n = await count(a.id);
      expect(lines).toHaveLength(n);
      expect(lines.map((e) => Number(e.seq))).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      expect(lines.at(-1)).toMatchObject({ action: 'audit.exported', actorId: aAdmin.id });
      const r = await cli('audit:verify', '--file', writeTmp('full.ndjson', res.text));
      expect(r.err).toEqual([]);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out[0])).toEqual({
        ok: true,
        checkedCount: n,
        firstInvalidEventId: null,
        reason: null,
      });
    });

    it("should make the CLI report the edited event and exit 1 when one line's metadata was edited", async () => {
      const res = await download('/audit/export?format=ndjson', aAdmin.auth);
      const lines = res.text.split('\n').filter((l) => l !== '');
      const victim = JSON.parse(lines[4]) as ChainedEvent;
      lines[4] = JSON.stringify({ ...victim, metadata: { ...victim.metadata, forged: true } });
      const r = await cli('audit:verify', '--file', writeTmp('edited.ndjson', lines.join('\n')));
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out[0])).toEqual({
        ok: false,
        checkedCount: 4,
        firstInvalidEventId: victim.id,
        reason: 'hash_mismatch',
      });
    });

    it('should make the CLI report a gap and exit 1 when a line was removed from the file', async () => {
      const res = await download('/audit/export?format=ndjson', aAdmin.auth);
      const lines = res.text.split('\n').filter((l) => l !== '');
      const next = JSON.parse(lines[6]) as ChainedEvent;
      lines.splice(5, 1);
      const r = await cli('audit:verify', '--file', writeTmp('gap.ndjson', lines.join('\n')));
      expect(r.code).toBe(1);
      expect(JSON.parse(r.out[0])).toMatchObject({
        ok: false,
        firstInvalidEventId: next.id,
        reason: 'sequence_gap',
      });
    });

    it('should make the CLI refuse the export when it holds a different audit key', async () => {
      const res = await download('/audit/export?format=ndjson', aAdmin.auth);
      const file = writeTmp('other-key.ndjson', res.text);
      const out: string[] = [];
      const code = await runCli(
        ['audit:verify', '--file', file],
        { ...cliEnv, ROOMKEY_AUDIT_KEYS: `audit-test-1:${Buffer.alloc(32, 8).toString('base64')}` },
        { out: (l) => out.push(l), err: () => undefined },
      );
      expect(code).toBe(1);
      expect(JSON.parse(out[0])).toMatchObject({
        ok: false,
        checkedCount: 0,
        firstInvalidEventId: ndjson(res.text)[0].id,
        reason: 'hash_mismatch',
      });
    });

    it('should export exactly the range and verify it offline when from and to are given', async () => {
      const res = await download(
        `/audit/export?format=ndjson&from=${encodeURIComponent(mid1.toISOString())}&to=${encodeURIComponent(mid2.toISOString())}`,
        aAdmin.auth,
      );
      expect(res.status).toBe(200);
      const lines = ndjson(res.text);
      expect(lines).toHaveLength(10);
      expect(lines.map((e) => e.targetId)).toEqual(
        Array.from({ length: 10 }, (_, i) => `target-${i + 5}`),
      );
      expect(
        lines.filter((e) => new Date(e.occurredAt) < mid1 || new Date(e.occurredAt) >= mid2),
      ).toEqual([]);
      expect(lines[0].seq).not.toBe('1');
      const r = await cli('audit:verify', '--file', writeTmp('range.ndjson', res.text));
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out[0])).toEqual({
        ok: true,
        checkedCount: 10,
        firstInvalidEventId: null,
        reason: null,
      });
    });

    it('should write RFC 4180 CSV that parses back to the stored values when fields hold commas, quotes and line breaks', async () => {
      // Key names with control characters are refused, so no line break can travel there …
      const refused = await t.gql(
        CREATE_KEY,
        { input: { name: 'a,b "c"\nd', role: 'MEMBER' } },
        { auth: aAdmin.auth },
      );
      expect(errorCode(refused)).toBe('BAD_USER_INPUT');
      // … but the user agent (commas, quotes) and an actor label (line breaks) reach the log.
      const agent = `Agent, "quoted" ${uniq()}`;
      // (through an audited request: a plain sign-in is only counted into a summary, agentless)
      const earlier = await t
        .http()
        .get('/audit/export?format=csv')
        .set('authorization', aAdmin.auth)
        .set('user-agent', agent);
      expect(earlier.status).toBe(200);
      const label = `label, with "quotes"\r\nand a CRLF\nand a LF ${uniq()}`;
      const formula = '=HYPERLINK("http://evil.test","x")';
      const actor = { ...systemActor('csv-test'), tenantId: a.id };
      const multiLine = await audit().record(
        null,
        { ...actor, actorLabel: label },
        {
          action: 'api_key.revoked',
          metadata: { keyId: 'rk_with,comma "and quotes"' },
        },
      );
      const spreadsheet = await audit().record(
        null,
        { ...actor, actorLabel: formula },
        {
          action: 'api_key.revoked',
          metadata: { keyId: 'rk_formula' },
        },
      );

      const res = await download('/audit/export?format=csv', aAdmin.auth);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/csv/);
      const rows = parseCsv(res.text);
      expect(rows[0]).toEqual(CSV_COLUMNS);
      expect(rows[0]).toHaveLength(20);
      const records = rows.slice(1);
      expect(records.filter((r) => r.length !== 20)).toEqual([]);
      expect(records).toHaveLength(await count(a.id));
      const byId = new Map(
        records.map((r) => [r[0], Object.fromEntries(CSV_COLUMNS.map((c, i) => [c, r[i]]))]),
      );

      const stored = await t.ds.query<EventRow[]>('SELECT * FROM audit_event WHERE id = ANY($1)', [
        [multiLine.id, spreadsheet.id],
      ]);
      const storedMulti = stored.find((r) => r.id === multiLine.id)!;
      expect(storedMulti.actor_label).toBe(label);
      const multi = byId.get(multiLine.id)!;
      expect(multi.actorLabel).toBe(label);
      expect(JSON.parse(multi.metadata)).toEqual(storedMulti.metadata);
      expect(multi.seq).toBe(String(storedMulti.seq));
      expect(multi.hash).toBe(storedMulti.hash);
      expect(multi.errorCode).toBe('');
      expect(byId.get(spreadsheet.id)!.actorLabel).toBe(`'${formula}`);

      const [exported] = await t.ds.query<Array<{ id: string }>>(
        `SELECT id FROM audit_event WHERE tenant_id = $1 AND user_agent = $2`,
        [a.id, agent],
      );
      expect(byId.get(exported.id)!.userAgent).toBe(agent);
    });

    it.each([
      ['an unknown format', '/audit/export?format=xml'],
      ['an invalid from', '/audit/export?format=ndjson&from=yesterday'],
      ['an invalid to', '/audit/export?format=csv&to=2030-13-45'],
      [
        'a from outside the storable range',
        '/audit/export?format=ndjson&from=-100000-01-01T00:00:00.000Z',
      ],
    ])('should answer 400 BAD_USER_INPUT when the export is given %s', async (_label, url) => {
      const res = await download(url, aAdmin.auth);
      expect(res.status).toBe(400);
      expect((JSON.parse(res.text) as { error: { code: string } }).error.code).toBe(
        'BAD_USER_INPUT',
      );
    });

    it('should answer 401 when the export is called without credentials', async () => {
      const res = await download('/audit/export?format=ndjson');
      expect(res.status).toBe(401);
      expect((JSON.parse(res.text) as { error: { code: string } }).error.code).toBe(
        'UNAUTHENTICATED',
      );
    });

    it('should answer 403 and export nothing when a MEMBER calls the export', async () => {
      const res = await download('/audit/export?format=ndjson', aMember.auth);
      expect(res.status).toBe(403);
      expect((JSON.parse(res.text) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      expect(res.text).not.toContain(a.id);
    });

    it('should stream 5,000 events that verify offline when a large log is exported', async () => {
      const c = await seedTenant(t);
      // Fast arrange: rows chained exactly as AuditService does it, with the app's own key,
      // inserted 500 at a time; then the service appends after them to prove they fit the chain.
      const key = t.app.get(KeyStore).ring('audit').current;
      const [head] = await t.ds.query<Array<{ last_seq: string; last_hash: string }>>(
        'SELECT last_seq::text AS last_seq, last_hash FROM audit_chain_head WHERE tenant_id = $1',
        [c.id],
      );
      let seq = Number(head.last_seq);
      let prev = head.last_hash;
      const cols = 20;
      for (let batch = 0; batch < 10; batch++) {
        const values: unknown[] = [];
        const tuples: string[] = [];
        for (let i = 0; i < 500; i++) {
          seq++;
          const e = {
            id: randomUUID(),
            tenantId: c.id,
            seq: String(seq),
            occurredAt: new Date().toISOString(),
            actorType: ActorType.SYSTEM,
            actorId: null,
            actorLabel: 'system',
            authMethod: AuthMethod.SYSTEM,
            action: 'api_key.revoked',
            targetType: 'api_key',
            targetId: `bulk-${seq}`,
            outcome: 'SUCCESS',
            errorCode: null,
            clientIp: null,
            userAgent: null,
            requestId: 'bulk',
            metadata: { keyId: `rk_${String(seq).padStart(24, '0')}` },
            keyId: key.id,
          };
          const hash = chainHash(key.key, prev, e);
          const base = tuples.length * cols;
          tuples.push(`(${Array.from({ length: cols }, (_, k) => `$${base + k + 1}`).join(',')})`);
          values.push(
            e.id,
            e.tenantId,
            e.seq,
            e.occurredAt,
            e.actorType,
            e.actorId,
            e.actorLabel,
            e.authMethod,
            e.action,
            e.targetType,
            e.targetId,
            e.outcome,
            e.errorCode,
            e.clientIp,
            e.userAgent,
            e.requestId,
            JSON.stringify(e.metadata),
            prev,
            hash,
            e.keyId,
          );
          prev = hash;
        }
        await t.ds.query(
          `INSERT INTO audit_event (id, tenant_id, seq, occurred_at, actor_type, actor_id,
             actor_label, auth_method, action, target_type, target_id, outcome, error_code,
             client_ip, user_agent, request_id, metadata, prev_hash, hash, key_id)
           VALUES ${tuples.join(',')}`,
          values,
        );
      }
      await t.ds.query(
        'UPDATE audit_chain_head SET last_seq = $2, last_hash = $3 WHERE tenant_id = $1',
        [c.id, String(seq), prev],
      );
      await Promise.all(Array.from({ length: 20 }, (_, i) => append(c.id, i)));

      const res = await download('/audit/export?format=ndjson', c.owner.auth);
      expect(res.status).toBe(200);
      const lines = res.text.split('\n').filter((l) => l !== '');
      expect(lines.length).toBeGreaterThanOrEqual(5000);
      expect(lines).toHaveLength(await count(c.id));
      const r = await cli('audit:verify', '--file', writeTmp('large.ndjson', res.text));
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out[0])).toEqual({
        ok: true,
        checkedCount: lines.length,
        firstInvalidEventId: null,
        reason: null,
      });
    });
  });
});
