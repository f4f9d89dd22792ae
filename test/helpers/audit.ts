import { EVENT_COLUMNS, type rowToEvent } from '../../src/audit/audit.service';
import { type TestApp } from './test-app';

/**
 * Reading the `audit_event` table from e2e specs: the rows a request, tenant, action, actor or
 * target wrote, counts of them, per-tenant high-water marks, and one text dump of the whole table
 * for "this secret appears nowhere" checks. Values always travel as query parameters; column names
 * come only from the service's own column list and the filter table below.
 */

/**
 * One `audit_event` row as both drivers return it (migrations/1795345461488-AuditLog.ts): `seq` is
 * a bigint and arrives as a string, `metadata` as a parsed object, `occurred_at` as a Date. The
 * same shape the service reads for verification and export.
 */
export type AuditRow = Parameters<typeof rowToEvent>[0];

export type AuditColumn = keyof AuditRow;

const COLUMNS: readonly AuditColumn[] = EVENT_COLUMNS;

/** Which rows: every given field must match (AND). An empty filter means the whole table. */
export interface AuditFilter {
  tenantId?: string;
  requestId?: string;
  action?: string;
  actorId?: string;
  targetId?: string;
  /** Only rows with `seq` above this (meaningful together with `tenantId`; see `auditSince`). */
  afterSeq?: number;
}

const CONDITIONS: Record<keyof AuditFilter, string> = {
  tenantId: 'tenant_id =',
  requestId: 'request_id =',
  action: 'action =',
  actorId: 'actor_id =',
  targetId: 'target_id =',
  afterSeq: 'seq >',
};

type Db = Pick<TestApp, 'ds'>;

/**
 * The WHERE clause (with a leading space, or empty) and its parameters. A key present with an
 * `undefined` or `null` value is refused: dropping it silently would widen the query to rows the
 * test never meant to look at (a tenant's check turning into a whole-table check).
 */
export function auditWhere(filter: AuditFilter): { where: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const [key, value] of Object.entries(filter) as Array<[keyof AuditFilter, unknown]>) {
    if (!Object.hasOwn(CONDITIONS, key)) throw new TypeError(`unknown audit filter field: ${key}`);
    if (value === undefined || value === null) {
      throw new TypeError(`audit filter field ${key} is ${String(value)}; leave it out instead`);
    }
    params.push(value);
    parts.push(`${CONDITIONS[key]} $${params.length}`);
  }
  return { where: parts.length ? ` WHERE ${parts.join(' AND ')}` : '', params };
}

/** The SELECT behind `auditRows`: the named columns (all by default), in chain order. */
export function auditRowsQuery(
  filter: AuditFilter,
  columns: readonly AuditColumn[] = COLUMNS,
): { sql: string; params: unknown[] } {
  if (columns.length === 0) throw new TypeError('auditRows needs at least one column');
  for (const c of columns) {
    if (!COLUMNS.includes(c)) throw new TypeError(`unknown audit_event column: ${String(c)}`);
  }
  const { where, params } = auditWhere(filter);
  return {
    sql: `SELECT ${columns.join(', ')} FROM audit_event${where} ORDER BY tenant_id, seq`,
    params,
  };
}

/** The matching rows, ordered by tenant and then chain position. */
export function auditRows(t: Db, filter?: AuditFilter): Promise<AuditRow[]>;
/** Only the named columns of the matching rows, for assertions that compare whole rows. */
export function auditRows<K extends AuditColumn>(
  t: Db,
  filter: AuditFilter,
  columns: readonly K[],
): Promise<Array<Pick<AuditRow, K>>>;
export function auditRows(
  t: Db,
  filter: AuditFilter = {},
  columns?: readonly AuditColumn[],
): Promise<Array<Partial<AuditRow>>> {
  const { sql, params } = auditRowsQuery(filter, columns);
  return t.ds.query<Array<Partial<AuditRow>>>(sql, params);
}

/** How many rows match. */
export async function auditCount(t: Db, filter: AuditFilter = {}): Promise<number> {
  const { where, params } = auditWhere(filter);
  const [row] = await t.ds.query<Array<{ n: number }>>(
    `SELECT count(*)::int AS n FROM audit_event${where}`,
    params,
  );
  return row.n;
}

/** The tenant's newest `seq`, 0 before its first event: a mark for `auditSince`. */
export async function auditHighWater(t: Db, tenantId: string): Promise<number> {
  const [row] = await t.ds.query<Array<{ seq: string }>>(
    'SELECT coalesce(max(seq), 0)::text AS seq FROM audit_event WHERE tenant_id = $1',
    [tenantId],
  );
  return Number(row.seq);
}

/** The tenant's rows written after the mark `auditHighWater` returned, in chain order. */
export function auditSince(
  t: Db,
  tenantId: string,
  seq: number,
  filter?: Omit<AuditFilter, 'tenantId' | 'afterSeq'>,
): Promise<AuditRow[]>;
export function auditSince<K extends AuditColumn>(
  t: Db,
  tenantId: string,
  seq: number,
  filter: Omit<AuditFilter, 'tenantId' | 'afterSeq'>,
  columns: readonly K[],
): Promise<Array<Pick<AuditRow, K>>>;
export function auditSince(
  t: Db,
  tenantId: string,
  seq: number,
  filter: Omit<AuditFilter, 'tenantId' | 'afterSeq'> = {},
  columns: readonly AuditColumn[] = COLUMNS,
): Promise<Array<Partial<AuditRow>>> {
  return auditRows(t, { ...filter, tenantId, afterSeq: seq }, columns);
}

/**
 * Every row of every tenant as JSON text, one row a line ('' for an empty table): search it for a
 * secret that must appear nowhere in the audit log (docs/security.md S10).
 */
export async function auditDump(t: Db): Promise<string> {
  const [row] = await t.ds.query<Array<{ dump: string | null }>>(
    `SELECT string_agg(row_to_json(e)::text, E'\\n') AS dump FROM audit_event e`,
  );
  return row.dump ?? '';
}
