import { rowToEvent } from './audit.service';

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
  let s =
    value === null || value === undefined
      ? ''
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
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
