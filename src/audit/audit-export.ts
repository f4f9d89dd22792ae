import { type Writable } from 'node:stream';
import { writeOrWait } from '../common/stream';
import { type AuditService, rowToEvent } from './audit.service';

type ExportRow = ReturnType<typeof rowToEvent>;

export const CSV_COLUMNS: Array<keyof ExportRow> = [
  'id',
  'tenantId',
  'seq',
  'occurredAt',
  'actorType',
  'actorId',
  'actorLabel',
  'authMethod',
  'action',
  'targetType',
  'targetId',
  'outcome',
  'errorCode',
  'clientIp',
  'userAgent',
  'requestId',
  'metadata',
  'prevHash',
  'hash',
  'keyId',
];

/**
 * RFC 4180 field: quoted when it holds a comma, quote, CR or LF (quotes doubled). A leading = + - @
 * gets a single-quote prefix so spreadsheets do not run it as a formula; NDJSON is the exact format.
 */
export function csvField(value: unknown): string {
  let s: string;
  if (value === null || value === undefined) s = '';
  else if (typeof value === 'object') s = JSON.stringify(value);
  else if (typeof value === 'string') s = value;
  else s = JSON.stringify(value) ?? '';
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvHeader(): string {
  return CSV_COLUMNS.join(',') + '\r\n';
}

export function csvLine(e: ExportRow): string {
  return CSV_COLUMNS.map((c) => csvField(e[c])).join(',') + '\r\n';
}

export function ndjsonLine(e: ExportRow): string {
  return JSON.stringify(e) + '\n';
}

export type ExportFormat = 'ndjson' | 'csv';

/**
 * Streams a tenant's events in chain order to `out` (constant memory: batches from the database,
 * back-pressure on the way out). Stops early if `out` closes. Returns the number of events written.
 */
export async function streamExport(
  audit: Pick<AuditService, 'batches'>,
  out: Writable,
  tenantId: string,
  opts: { format: ExportFormat; from: Date | null; to: Date | null },
): Promise<number> {
  let n = 0;
  if (opts.format === 'csv' && !(await writeOrWait(out, csvHeader()))) return n;
  for await (const batch of audit.batches(tenantId, {
    from: opts.from,
    to: opts.to,
    batchSize: 500,
  })) {
    for (const row of batch) {
      const e = rowToEvent(row);
      if (!(await writeOrWait(out, opts.format === 'csv' ? csvLine(e) : ndjsonLine(e)))) return n;
      n++;
    }
  }
  return n;
}
