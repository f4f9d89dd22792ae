import { randomUUID } from 'node:crypto';
import { type BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { type RequestContext } from '../common/context';
import { MetricsService } from '../common/metrics/metrics.service';
import { DomainException } from '../common/errors';
import { wellFormed } from '../common/text';
import { KeyStore } from '../common/keys/key-store';
import { prepared, withStatementTimeout } from '../database/pg-client';
import { type AuditAction, type AuditActionMetadata } from './audit-actions';
import { type AuditActor } from './audit-actor';
import {
  type ChainedEvent,
  ChainVerifier,
  type ChainStart,
  GENESIS_HASH,
  PLATFORM_TENANT_ID,
  type VerifyResult,
  chainHash,
  checkpointSignature,
} from './audit-chain';
import { AuditCheckpoint, AuditEvent, AuditOutcome } from './audit-event.entity';
import { GroupCommit } from './group-commit';
import { boundMetadata } from './metadata';

export interface AuditEntry<A extends AuditAction> {
  action: A;
  metadata: AuditActionMetadata[A];
  outcome?: AuditOutcome;
  targetType?: string | null;
  targetId?: string | null;
  errorCode?: string | null;
  /** The chain to write to, when not the actor's tenant (e.g. a newly created tenant). */
  tenantId?: string;
}

/** A failed or denied attempt: metadata is whatever was known when it failed. */
export type AuditFailureEntry<A extends AuditAction> = Omit<
  AuditEntry<A>,
  'metadata' | 'outcome'
> & {
  outcome: AuditOutcome.FAILURE | AuditOutcome.DENIED;
  metadata?: Partial<AuditActionMetadata[A]>;
};

type AnyEntry = Omit<AuditEntry<AuditAction>, 'metadata'> & { metadata?: object };

/** An event of the actor's own chain, built from what the business work returned. */
export type EntryFor<T, A extends AuditAction> = (result: T) => Omit<AuditEntry<A>, 'tenantId'>;

/**
 * A business row that commits with its event, inserted by the batch's single statement: no round
 * trip of its own. `table` and `columns` are code constants (they become SQL identifiers).
 */
export interface BatchRow {
  table: string;
  columns: readonly string[];
  values: readonly unknown[];
}

/** One append waiting for its batch: the event, and the business rows that commit with it. */
interface AppendJob {
  actor: AuditActor;
  entry: AnyEntry | ((result: unknown) => AnyEntry);
  work?: (m: EntityManager) => Promise<unknown>;
  rows?: readonly BatchRow[];
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

interface Appended {
  event: AuditEvent;
  result: unknown;
}

const BATCH = 1000;
/** A chain's head: the last event's seq and hash. */
interface ChainHead {
  last_seq: string;
  last_hash: string;
}
/** After a batch found its known head moved (another instance), batches lock it for this long. */
const RACED_BACKOFF_MS = 1000;
/** Events per group-commit batch (the rows travel as one JSON parameter per table). */
const MAX_APPEND_BATCH = 500;
/** Every column of `audit_event`, in table order (the e2e helpers in test/ select from it too). */
export const EVENT_COLUMNS = [
  'id',
  'tenant_id',
  'seq',
  'occurred_at',
  'actor_type',
  'actor_id',
  'actor_label',
  'auth_method',
  'action',
  'target_type',
  'target_id',
  'outcome',
  'error_code',
  'client_ip',
  'user_agent',
  'request_id',
  'metadata',
  'prev_hash',
  'hash',
  'key_id',
] as const;

function eventValues(e: AuditEvent): unknown[] {
  return [
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
    e.metadata,
    e.prevHash,
    e.hash,
    e.keyId,
  ];
}

/**
 * One value of a batch row as JSON, for `jsonb_populate_recordset` to read with the column's own
 * input function: bytes as `\x` hex (bytea), times as ISO strings, objects as nested JSON (jsonb).
 */
function jsonReady(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`;
  if (typeof v === 'bigint') return v.toString();
  return v;
}

/** How JSON.stringify writes a lone UTF-16 surrogate (a pair is written as itself). */
const SURROGATE_ESCAPE = /\\ud[89a-f]/i;

/**
 * Rows of one table as a JSON array of objects keyed by column name. A lone surrogate becomes
 * U+FFFD, as the driver's UTF-8 encoding of a text parameter makes it (PostgreSQL refuses the
 * escape JSON would carry).
 */
function jsonRows(columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const objects = rows.map((values) => {
    const o: Record<string, unknown> = {};
    for (let i = 0; i < columns.length; i++) o[columns[i]] = jsonReady(values[i]);
    return o;
  });
  const text = JSON.stringify(objects);
  if (!SURROGATE_ESCAPE.test(text)) return text;
  return JSON.stringify(objects, (_k, x: unknown) => (typeof x === 'string' ? wellFormed(x) : x));
}

/** The INSERT of a table's batch rows, passed as one JSON parameter (`$n`). */
function insertFromJson(table: string, columns: readonly string[], n: number): string {
  const list = columns.join(', ');
  return `INSERT INTO ${table} (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::${table}, $${n}::jsonb)`;
}

/** Raw row shape (snake_case) read for verification and export. */
interface EventRow {
  id: string;
  tenant_id: string;
  seq: string;
  occurred_at: Date;
  actor_type: string;
  actor_id: string | null;
  actor_label: string;
  auth_method: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  outcome: string;
  error_code: string | null;
  client_ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  metadata: Record<string, unknown>;
  prev_hash: string;
  hash: string;
  key_id: string;
}

/** The chain an entry belongs to: its explicit tenant, else the actor's, else the platform's. */
function chainOf(actor: AuditActor, entry: { tenantId?: string }): string {
  return entry.tenantId ?? actor.tenantId ?? PLATFORM_TENANT_ID;
}

function buildEvent(
  tenantId: string,
  seq: string,
  occurredAt: Date,
  prevHash: string,
  actor: AuditActor,
  entry: AnyEntry,
  key: { id: string; key: Buffer },
): AuditEvent {
  // Every text field as the database will keep it, so the stored event matches its hash.
  const text = (v: string | null | undefined): string | null =>
    v === null || v === undefined ? null : wellFormed(v);
  const event = Object.assign(new AuditEvent(), {
    id: randomUUID(),
    tenantId,
    seq,
    occurredAt,
    actorType: actor.actorType,
    actorId: text(actor.actorId),
    actorLabel: wellFormed(actor.actorLabel.slice(0, 320)),
    authMethod: actor.authMethod,
    action: entry.action,
    targetType: text(entry.targetType),
    targetId: text(entry.targetId),
    outcome: entry.outcome ?? AuditOutcome.SUCCESS,
    errorCode: text(entry.errorCode),
    clientIp: text(actor.clientIp),
    userAgent: text(actor.userAgent?.slice(0, 512)),
    requestId: text(actor.requestId),
    metadata: boundMetadata(entry.metadata ?? {}),
    prevHash,
    keyId: key.id,
  });
  event.hash = chainHash(key.key, prevHash, {
    ...event,
    occurredAt: occurredAt.toISOString(),
  });
  return event;
}

/**
 * One INSERT per table and column list for the batch rows of all jobs, in job order; each takes
 * its rows as one JSON parameter, pushed by `param`.
 */
function businessInserts(jobs: AppendJob[], param: (json: string) => number): string[] {
  const byShape = new Map<
    string,
    { table: string; columns: readonly string[]; rows: (readonly unknown[])[] }
  >();
  for (const job of jobs) {
    for (const row of job.rows ?? []) {
      const shape = `${row.table}(${row.columns.join(',')})`;
      let group = byShape.get(shape);
      if (!group)
        byShape.set(shape, (group = { table: row.table, columns: row.columns, rows: [] }));
      group.rows.push(row.values);
    }
  }
  return [...byShape.values()].map((g) =>
    insertFromJson(g.table, g.columns, param(jsonRows(g.columns, g.rows))),
  );
}

export function rowToEvent(r: EventRow): ChainedEvent {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    seq: String(r.seq),
    occurredAt: new Date(r.occurred_at).toISOString(),
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorLabel: r.actor_label,
    authMethod: r.auth_method,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    outcome: r.outcome,
    errorCode: r.error_code,
    clientIp: r.client_ip,
    userAgent: r.user_agent,
    requestId: r.request_id,
    metadata: r.metadata,
    prevHash: r.prev_hash,
    hash: r.hash,
    keyId: r.key_id,
  };
}

/**
 * The one way anything records an audit event: one linear, hash-chained log per tenant.
 *
 * Appends without a business transaction are group-committed per tenant: events (and the
 * business rows that must commit with them, see `commit`) that arrive while the tenant's previous
 * batch is being written join the next batch — one transaction, one lock of the chain head, one
 * multi-row insert and one head update — and each caller resumes only once its batch has
 * committed. Several instances on one PostgreSQL still extend a single chain: the head row lock
 * serialises their batches. An event passed a business transaction's manager (`record(m, …)`)
 * takes the head lock inside that transaction instead.
 */
@Injectable()
export class AuditService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  /** Per chain, the head this instance's last batch wrote (see writeBatch). */
  private readonly heads = new Map<string, ChainHead>();
  /** Per chain, until when batches take the lock after a known head was found moved. */
  private readonly raced = new Map<string, number>();
  private readonly appends: GroupCommit<AppendJob, Appended>;

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly keys: KeyStore,
    private readonly metrics: MetricsService,
  ) {
    const appended = metrics.auditAppendDuration.of('group_commit', 'ok');
    const failed = metrics.auditAppendDuration.of('group_commit', 'error');
    this.appends = new GroupCommit<AppendJob, Appended>(
      (tenantId, jobs) => this.writeBatch(tenantId, jobs),
      MAX_APPEND_BATCH,
      {
        batch: (size) => metrics.auditBatchSize.observe(size),
        settled: (seconds, ok) => (ok ? appended : failed).observe(seconds),
      },
    );
  }

  async record<A extends AuditAction>(
    m: EntityManager | null,
    actor: AuditActor,
    entry: AuditEntry<A>,
  ): Promise<AuditEvent> {
    if (m) return this.append(m, actor, entry);
    const { event } = await this.appends.submit(chainOf(actor, entry), { actor, entry });
    return event;
  }

  /**
   * Runs `work` (the business rows: insert a connection, activate a session…) and appends the
   * event `entry` builds from its result, in one transaction shared with the tenant's other
   * appends of the moment. Both commit or neither does. `work` may run twice (alone, after a
   * batch it shared failed), so it must only write through `m`.
   */
  async commit<T, A extends AuditAction>(
    actor: AuditActor,
    work: (m: EntityManager) => Promise<T>,
    entry: EntryFor<T, A>,
  ): Promise<T> {
    const { result } = await this.appends.submit(chainOf(actor, {}), {
      actor,
      work,
      entry: entry as (result: unknown) => AnyEntry,
    });
    return result as T;
  }

  /**
   * Appends `entry` and inserts `rows` with it, all in the one statement that writes the batch's
   * events: the rows and their event commit together or not at all, and the rows cost no round
   * trip of their own. For plain inserts whose values are known up front (ids made here).
   */
  async insert<A extends AuditAction>(
    actor: AuditActor,
    rows: readonly BatchRow[],
    entry: Omit<AuditEntry<A>, 'tenantId'>,
  ): Promise<AuditEvent> {
    for (const r of rows) {
      if (!IDENTIFIER.test(r.table) || !r.columns.every((c) => IDENTIFIER.test(c)))
        throw new Error(`not a plain table or column name in a batch row of ${r.table}`);
      if (r.columns.length !== r.values.length)
        throw new Error(
          `batch row of ${r.table}: ${r.columns.length} columns, ${r.values.length} values`,
        );
    }
    const { event } = await this.appends.submit(chainOf(actor, {}), { actor, entry, rows });
    return event;
  }

  /** For failures and denials: never lets an audit problem replace the caller's real error. */
  async recordQuietly<A extends AuditAction>(
    actor: AuditActor,
    entry: AuditFailureEntry<A>,
  ): Promise<void> {
    try {
      await this.appends.submit(chainOf(actor, entry), { actor, entry });
    } catch (err) {
      this.logger.error({ err, action: entry.action }, 'could not write audit event');
    }
  }

  /** Appends still waiting for their batch are written before the database closes. */
  beforeApplicationShutdown(): Promise<void> {
    return this.appends.idle();
  }

  /**
   * One batch of a tenant's appends. When this instance wrote the chain's last batch it knows the
   * head, and a batch of plain appends (no business work to run first) is one statement, its own
   * transaction: the head moves only if it is still the one known, and otherwise the statement
   * fails whole (nothing of it stays) and the batch is written the locked way. Else (or then),
   * business work first, then the head lock, events, head, in one transaction.
   */
  private async writeBatch(tenantId: string, jobs: AppendJob[]): Promise<Appended[]> {
    const known = this.heads.get(tenantId);
    if (known && !jobs.some((j) => j.work) && Date.now() >= (this.raced.get(tenantId) ?? 0)) {
      try {
        return await this.writeOnKnownHead(tenantId, jobs, known);
      } catch {
        // Another instance moved the head (or the batch itself fails, and fails again below).
        this.raced.set(tenantId, Date.now() + RACED_BACKOFF_MS);
      }
    }
    this.heads.delete(tenantId);
    const { appended, head } = await this.ds.transaction(async (m) => {
      const results: unknown[] = [];
      for (const job of jobs) results.push(job.work ? await job.work(m) : undefined);
      // The head is locked only now, so the lock is held for the inserts alone.
      const locked = await this.lockHead(m, tenantId);
      // Taken under the lock: time never runs backwards along a chain.
      const batch = this.batchStatement(tenantId, jobs, results, locked, new Date());
      await m.query(
        prepared(`${batch.with}
         UPDATE audit_chain_head SET last_seq = $2, last_hash = $3 WHERE tenant_id = $1`),
        batch.params,
      );
      return { appended: batch.appended, head: batch.head };
    });
    this.heads.set(tenantId, head);
    return appended;
  }

  /**
   * The batch as one statement on the head this instance last wrote. The time is taken before the
   * statement but after that head's batch committed, so it still never runs backwards.
   */
  private async writeOnKnownHead(
    tenantId: string,
    jobs: AppendJob[],
    known: ChainHead,
  ): Promise<Appended[]> {
    const batch = this.batchStatement(tenantId, jobs, [], known, new Date());
    const k = batch.params.length;
    batch.params.push(known.last_seq, known.last_hash);
    // 1 / 0 when the head was not the known one: the statement fails, nothing of it stays.
    await this.ds.query(
      prepared(`${batch.with.replace(
        'WITH ',
        `WITH head AS (
           UPDATE audit_chain_head SET last_seq = $2, last_hash = $3
           WHERE tenant_id = $1 AND last_seq = $${k + 1} AND last_hash = $${k + 2}
           RETURNING 1
         ), `,
      )}
       SELECT 1 / (SELECT count(*)::int FROM head) AS moved`),
      batch.params,
    );
    this.heads.set(tenantId, batch.head);
    return batch.appended;
  }

  /**
   * The events of a batch chained from `head`, and the `WITH` clause that inserts them with their
   * business rows: parameters $1..$3 are the tenant and the new head's seq and hash. The text
   * depends only on the tables of the batch rows, never on the batch size, so the statements
   * built on it are prepared once per connection (`prepared`).
   */
  private batchStatement(
    tenantId: string,
    jobs: AppendJob[],
    results: unknown[],
    head: ChainHead,
    occurredAt: Date,
  ): { with: string; params: unknown[]; appended: Appended[]; head: ChainHead } {
    const key = this.keys.ring('audit').current;
    let prevHash = head.last_hash;
    let seq = BigInt(head.last_seq);
    const appended = jobs.map((job, i) => {
      const entry = typeof job.entry === 'function' ? job.entry(results[i]) : job.entry;
      seq += 1n;
      const event = buildEvent(
        tenantId,
        seq.toString(),
        occurredAt,
        prevHash,
        job.actor,
        entry,
        key,
      );
      prevHash = event.hash;
      return { event, result: results[i] };
    });
    const params: unknown[] = [tenantId, seq.toString(), prevHash];
    const param = (json: string): number => params.push(json);
    const inserts = businessInserts(jobs, param);
    const events = param(
      jsonRows(
        EVENT_COLUMNS,
        appended.map((a) => eventValues(a.event)),
      ),
    );
    return {
      with: `WITH ${inserts.map((sql, i) => `business_${i} AS (${sql}), `).join('')}appended AS (
           ${insertFromJson('audit_event', EVENT_COLUMNS, events)}
         )`,
      params,
      appended,
      head: { last_seq: seq.toString(), last_hash: prevHash },
    };
  }

  /** The tenant's chain head, locked for this transaction (created at the genesis if missing). */
  private async lockHead(m: EntityManager, tenantId: string): Promise<ChainHead> {
    const select =
      'SELECT last_seq, last_hash FROM audit_chain_head WHERE tenant_id = $1 FOR UPDATE';
    const [head] = await m.query<ChainHead[]>(select, [tenantId]);
    if (head) return head;
    await m.query(
      'INSERT INTO audit_chain_head (tenant_id, last_seq, last_hash) VALUES ($1, 0, $2) ON CONFLICT (tenant_id) DO NOTHING',
      [tenantId, GENESIS_HASH],
    );
    const [created] = await m.query<ChainHead[]>(select, [tenantId]);
    return created;
  }

  private async append(m: EntityManager, actor: AuditActor, entry: AnyEntry): Promise<AuditEvent> {
    const started = performance.now();
    const tenantId = chainOf(actor, entry);
    this.heads.delete(tenantId); // moved outside the batches: the next batch locks and reads it
    const head = await this.lockHead(m, tenantId);
    const seq = (BigInt(head.last_seq) + 1n).toString();
    const key = this.keys.ring('audit').current;
    const event = buildEvent(tenantId, seq, new Date(), head.last_hash, actor, entry, key);
    await m.query(
      `WITH appended AS (
         INSERT INTO audit_event (${EVENT_COLUMNS.join(', ')})
         VALUES (${EVENT_COLUMNS.map((_, c) => `$${c + 4}`).join(', ')})
       )
       UPDATE audit_chain_head SET last_seq = $2, last_hash = $3 WHERE tenant_id = $1`,
      [tenantId, seq, event.hash, ...eventValues(event)],
    );
    this.metrics.auditAppendDuration
      .of('transaction', 'ok')
      .observe((performance.now() - started) / 1000);
    return event;
  }

  /** Verifies the platform chain (events of no tenant): platform administrators only. */
  verifyPlatform(ctx: RequestContext): Promise<VerifyResult> {
    if (!ctx.isPlatformAdmin)
      throw DomainException.forbidden(
        'Only platform administrators can do this',
        'platform_admin_required',
      );
    return this.verify(PLATFORM_TENANT_ID);
  }

  /**
   * Re-computes a tenant's chain from its latest retention checkpoint (or the genesis) in batches,
   * and checks that it reaches the recorded head (so a truncated tail is found too).
   */
  async verify(tenantId: string): Promise<VerifyResult> {
    const fail = (reason: string): VerifyResult => ({
      ok: false,
      checkedCount: 0,
      firstInvalidEventId: null,
      reason,
    });
    // The head is read first: events appended while we verify lie beyond it and are not judged.
    const [head] = await this.ds.query<Array<{ last_seq: string }>>(
      'SELECT last_seq FROM audit_chain_head WHERE tenant_id = $1',
      [tenantId],
    );
    if (!head) {
      // Every tenant's log starts with its creation: no head for an existing tenant means removal.
      const [tenant] = await this.ds.query<unknown[]>('SELECT 1 FROM tenant WHERE id = $1', [
        tenantId,
      ]);
      return tenant
        ? fail('chain_head_missing')
        : { ok: true, checkedCount: 0, firstInvalidEventId: null, reason: null };
    }
    const headSeq = BigInt(head.last_seq);
    const start = await this.chainStart(tenantId);
    if ('error' in start) return fail(start.error);
    const ring = this.keys.ring('audit');
    const verifier = new ChainVerifier((kid) => ring.get(kid), start.start);
    let lastSeq = start.start?.seq ?? 0n;
    for await (const batch of this.batches(tenantId, { afterSeq: lastSeq, uptoSeq: headSeq })) {
      for (const row of batch) {
        if (!verifier.add(rowToEvent(row))) return verifier.result();
        lastSeq = BigInt(row.seq);
      }
    }
    // Rows past the head (read in one snapshot with it) were not appended by Roomkey, which moves the
    // head in the same transaction: verify them, and if they somehow verify, still refuse them.
    const beyond = await this.ds.query<EventRow[]>(
      `SELECT e.* FROM audit_event e JOIN audit_chain_head h ON h.tenant_id = e.tenant_id
        WHERE e.tenant_id = $1 AND e.seq > h.last_seq ORDER BY e.seq LIMIT 1`,
      [tenantId],
    );
    if (lastSeq !== headSeq)
      return { ...verifier.result(), ok: false, reason: 'events_missing_at_end' };
    if (beyond[0]) {
      if (!verifier.add(rowToEvent(beyond[0]))) return verifier.result();
      return {
        ...verifier.result(),
        ok: false,
        firstInvalidEventId: beyond[0].id,
        reason: 'event_beyond_head',
      };
    }
    return verifier.result();
  }

  /** Event rows in seq order, a batch at a time (constant memory for any range). */
  async *batches(
    tenantId: string,
    opts: {
      afterSeq?: bigint;
      uptoSeq?: bigint;
      from?: Date | null;
      to?: Date | null;
      batchSize?: number;
    } = {},
  ): AsyncGenerator<EventRow[]> {
    let after = opts.afterSeq ?? 0n;
    const size = opts.batchSize ?? BATCH;
    for (;;) {
      const params: unknown[] = [tenantId, after.toString(), size];
      let where = 'tenant_id = $1 AND seq > $2';
      if (opts.uptoSeq !== undefined)
        where += ` AND seq <= $${params.push(opts.uptoSeq.toString())}`;
      if (opts.from) where += ` AND occurred_at >= $${params.push(opts.from)}`;
      if (opts.to) where += ` AND occurred_at < $${params.push(opts.to)}`;
      const rows = await this.ds.query<EventRow[]>(
        `SELECT * FROM audit_event WHERE ${where} ORDER BY seq ASC LIMIT $3`,
        params,
      );
      if (rows.length === 0) return;
      yield rows;
      if (rows.length < size) return;
      after = BigInt(rows[rows.length - 1].seq);
    }
  }

  private async chainStart(
    tenantId: string,
  ): Promise<{ start: ChainStart | null } | { error: string }> {
    const cp = await this.ds
      .getRepository(AuditCheckpoint)
      .findOne({ where: { tenantId }, order: { lastSeq: 'DESC' } });
    if (!cp) return { start: null };
    const key = this.keys.ring('audit').get(cp.keyId);
    const expected = key
      ? checkpointSignature(key, {
          tenantId,
          lastSeq: String(cp.lastSeq),
          lastHash: cp.lastHash,
          prunedBefore: cp.prunedBefore.toISOString(),
        })
      : null;
    if (expected !== cp.signature) return { error: 'checkpoint_signature_invalid' };
    return { start: { seq: BigInt(cp.lastSeq), hash: cp.lastHash } };
  }

  /**
   * Retention: removes a tenant's events older than `before`, after verifying them, and leaves a
   * signed checkpoint at the last removed event so the remaining chain still verifies. The only
   * path that deletes audit rows (the trigger admits it through a transaction-local setting).
   */
  async prune(
    tenantId: string,
    before: Date,
    actor: AuditActor,
    /** The DELETE can be long (years of events): a statement timeout for it; 0 = none. */
    opts: { statementTimeoutMs?: number } = {},
  ): Promise<{ removed: number; lastSeq: string | null }> {
    const verdict = await this.verify(tenantId);
    if (!verdict.ok)
      throw new Error(
        `Refusing to prune an invalid chain: ${verdict.reason} at ${verdict.firstInvalidEventId}`,
      );
    return this.ds.transaction(async (m) => {
      await m.query('SELECT 1 FROM audit_chain_head WHERE tenant_id = $1 FOR UPDATE', [tenantId]);
      const [last] = await m.query<Array<{ seq: string; hash: string }>>(
        `SELECT seq, hash FROM audit_event WHERE tenant_id = $1 AND seq <= (
           SELECT max(seq) FROM audit_event WHERE tenant_id = $1 AND occurred_at < $2
         ) ORDER BY seq DESC LIMIT 1`,
        [tenantId, before],
      );
      if (!last) return { removed: 0, lastSeq: null };
      await m.query(`SELECT set_config('roomkey.audit_prune', 'on', true)`);
      const deleted = await withStatementTimeout(
        m.queryRunner!,
        opts.statementTimeoutMs,
        () =>
          m.query<[unknown, number]>('DELETE FROM audit_event WHERE tenant_id = $1 AND seq <= $2', [
            tenantId,
            last.seq,
          ]),
        { local: true },
      );
      const key = this.keys.ring('audit').current;
      const cp = {
        tenantId,
        lastSeq: String(last.seq),
        lastHash: last.hash,
        prunedBefore: before.toISOString(),
      };
      await m.insert(AuditCheckpoint, {
        tenantId,
        lastSeq: cp.lastSeq,
        lastHash: cp.lastHash,
        prunedBefore: before,
        keyId: key.id,
        signature: checkpointSignature(key.key, cp),
      });
      const removed = Array.isArray(deleted) ? Number(deleted[1]) : 0;
      await this.append(
        m,
        { ...actor, tenantId },
        {
          action: 'audit.pruned',
          metadata: { before: cp.prunedBefore, lastSeq: cp.lastSeq, removed },
        },
      );
      return { removed, lastSeq: cp.lastSeq };
    });
  }
}
