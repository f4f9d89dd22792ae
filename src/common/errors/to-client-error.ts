import { HttpException } from '@nestjs/common';
import { isDatabaseUnavailable } from './database-unavailable';
import { DomainException } from './domain.exception';
import { ErrorCode } from './error-code';

export interface ClientError {
  code: ErrorCode;
  message: string;
  /** HTTP status when it is more precise than the code's default (e.g. 413 for a large body). */
  status?: number;
  field?: string;
  /** Seconds to wait before retrying (RATE_LIMITED, SERVICE_UNAVAILABLE). */
  retryAfter?: number;
  /** Only in development: the internal message of an unexpected error. */
  debug?: string;
}

const BY_HTTP_STATUS: Record<number, ErrorCode> = {
  400: ErrorCode.BAD_USER_INPUT,
  401: ErrorCode.UNAUTHENTICATED,
  403: ErrorCode.FORBIDDEN,
  404: ErrorCode.NOT_FOUND,
  409: ErrorCode.CONFLICT,
  413: ErrorCode.BAD_USER_INPUT,
  429: ErrorCode.RATE_LIMITED,
  503: ErrorCode.SERVICE_UNAVAILABLE,
};

/** SQLSTATE 22021 character_not_in_repertoire, 22P05 untranslatable_character. */
const CHARACTER_REJECTED = new Set(['22021', '22P05']);

function isCharacterRejected(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return (
    CHARACTER_REJECTED.has(String(e?.code)) || CHARACTER_REJECTED.has(String(e?.driverError?.code))
  );
}

/**
 * Maps anything thrown to the closed client-facing shape. Unexpected errors become
 * INTERNAL_SERVER_ERROR with a generic message; their detail is exposed only in development.
 */
export function toClientError(err: unknown, development: boolean): ClientError {
  if (err instanceof DomainException) {
    return {
      code: err.code,
      message: err.message,
      ...(err.field ? { field: err.field } : {}),
      ...(err.retryAfter !== undefined ? { retryAfter: err.retryAfter } : {}),
    };
  }
  // A database outage, partition or timeout: the caller should retry, never see a 500 or a 401.
  if (isDatabaseUnavailable(err)) return toClientError(DomainException.serviceUnavailable(), false);
  if (err instanceof HttpException) {
    const status = err.getStatus();
    const code = BY_HTTP_STATUS[status];
    if (code) {
      const resp = err.getResponse();
      const message =
        typeof resp === 'object' && resp !== null && 'message' in resp
          ? ([] as unknown[]).concat(resp.message).map(String).join('; ')
          : err.message;
      return { code, message };
    }
  }
  // Last line of defence: PostgreSQL refusing a character of a bound value (a NUL in text, an
  // invalid escape in jsonb) is the caller's input, not our fault. The value is never echoed.
  if (isCharacterRejected(err)) {
    return {
      code: ErrorCode.BAD_USER_INPUT,
      message: 'The input contains characters that are not allowed',
    };
  }
  // Errors from Express middleware (body-parser: 400 malformed JSON, 413 too large, 415 charset)
  // carry their own client status and a safe, `expose`d message.
  const mw = err as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (
    mw &&
    typeof mw.status === 'number' &&
    mw.status >= 400 &&
    mw.status < 500 &&
    mw.expose === true
  ) {
    return {
      code: BY_HTTP_STATUS[mw.status] ?? ErrorCode.BAD_USER_INPUT,
      message: String(mw.message),
      status: mw.status,
    };
  }
  const internal: ClientError = {
    code: ErrorCode.INTERNAL_SERVER_ERROR,
    message: 'Internal server error',
  };
  if (development && err instanceof Error) internal.debug = err.message;
  return internal;
}
