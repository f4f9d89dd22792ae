/** Latest instant PostgreSQL and JavaScript both handle comfortably (year 9999). */
const MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/**
 * Parses an ISO-8601 date (`2026-11-22` or `2026-11-22T10:00:00Z`) between 1970 and 9999; null
 * for anything else, so it never reaches the database as an out-of-range timestamp.
 */
export function parseIsoDate(value: string): Date | null {
  if (!ISO.test(value)) return null;
  const d = new Date(value);
  const t = d.getTime();
  return Number.isNaN(t) || t < 0 || t > MAX_MS ? null : d;
}
