/**
 * The one place that decides whether an error means "Roomkey's database is unreachable or too
 * slow" (answered as SERVICE_UNAVAILABLE, retry later) rather than a bug or a bad request.
 *
 * Errors arrive raw from pg / pg-pool, wrapped by TypeORM (`QueryFailedError` copies the driver's
 * fields and keeps it as `driverError`), or as a `cause`; all three are looked through.
 */

/** Socket-level failures: the server is gone, refused us, or the network dropped the connection. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs: 57014 query_canceled (our statement_timeout), 57P01-57P03 (admin/crash shutdown,
 * cannot connect now), 53300 too_many_connections, 25P03 idle_in_transaction_session_timeout.
 * Class 08 (connection exception) is matched by prefix.
 */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '57P04',
  '53300',
  '25P03',
]);

/** Messages pg, pg-pool and our pools use for the same conditions (they carry no code). */
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // unexpectedly, or due to connection timeout
  /^Query read timeout$/, // query_timeout: the server went silent
  /^timeout exceeded when trying to connect$/, // pool acquire timeout
  /^timeout expired$/, // client connect timeout
  /not queryable/, // a client whose connection already failed
  /^Cannot use a pool after calling end on the pool$/,
  /^Pool has ended$/,
];

/** Our own pools' code for "no connection became free in time". */
export const ACQUIRE_TIMEOUT_CODE = 'ROOMKEY_DB_ACQUIRE_TIMEOUT';

interface Inspectable {
  code?: unknown;
  message?: unknown;
  driverError?: unknown;
  cause?: unknown;
  /** graphql-js wraps a thrown value that is not an `Error` of its realm as NonErrorThrown. */
  thrownValue?: unknown;
}

function layers(err: unknown): Inspectable[] {
  const out: Inspectable[] = [];
  let queue: unknown[] = [err];
  // Bounded: a cause chain is short, and a cyclic one must not loop.
  for (let depth = 0; depth < 4 && queue.length > 0; depth++) {
    const next: unknown[] = [];
    for (const e of queue) {
      if (!e || typeof e !== 'object' || out.includes(e)) continue;
      const i = e as Inspectable;
      out.push(i);
      next.push(i.driverError, i.cause, i.thrownValue);
    }
    queue = next;
  }
  return out;
}

/** Is this error the database being unreachable, partitioned, shutting down or timing out? */
export function isDatabaseUnavailable(err: unknown): boolean {
  return layers(err).some((e) => {
    const code = typeof e.code === 'string' ? e.code : '';
    if (NETWORK_CODES.has(code) || code === ACQUIRE_TIMEOUT_CODE) return true;
    if (/^[0-9A-Z]{5}$/.test(code) && (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code)))
      return true;
    const message = typeof e.message === 'string' ? e.message : '';
    return UNAVAILABLE_MESSAGES.some((m) => m.test(message));
  });
}

/**
 * What may be logged about such an error: codes and the driver's first line only. Never the
 * error object itself, whose `query` and `parameters` (copied by TypeORM) can hold credentials.
 */
export function describeDatabaseError(err: unknown): {
  errorCode: string | null;
  message: string;
} {
  const all = layers(err);
  const code = all.map((e) => e.code).find((c): c is string => typeof c === 'string') ?? null;
  const deepest = all[all.length - 1];
  const raw = typeof deepest?.message === 'string' ? deepest.message : 'unknown';
  // `errorCode`, not `code`: the log redaction hides every `code` (OAuth one-time codes).
  return { errorCode: code, message: raw.split('\n')[0].slice(0, 200) };
}
