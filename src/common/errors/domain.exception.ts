import { ErrorCode } from './error-code';

export interface DomainExceptionOptions {
  /** The input field at fault, for BAD_USER_INPUT. */
  field?: string;
  /** A short machine-readable reason (audited, safe to show). */
  reason?: string;
  /** Seconds after which a retry may succeed (RATE_LIMITED, SERVICE_UNAVAILABLE). */
  retryAfter?: number;
  cause?: unknown;
}

/**
 * The one exception type services throw for expected failures. Transport-neutral: the GraphQL
 * formatter and the HTTP filter map `code` to `extensions.code` or a status.
 */
export class DomainException extends Error {
  readonly field?: string;
  readonly reason?: string;
  readonly retryAfter?: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainExceptionOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainException';
    this.field = options.field;
    this.reason = options.reason;
    this.retryAfter = options.retryAfter;
  }

  static unauthenticated(
    reason = 'invalid_credentials',
    message = 'Authentication required or failed',
  ): DomainException {
    return new DomainException(ErrorCode.UNAUTHENTICATED, message, { reason });
  }
  static forbidden(message = 'Not allowed', reason = 'forbidden'): DomainException {
    return new DomainException(ErrorCode.FORBIDDEN, message, { reason });
  }
  static notFound(what: string): DomainException {
    return new DomainException(ErrorCode.NOT_FOUND, `${what} not found`, { reason: 'not_found' });
  }
  static badInput(field: string, message: string): DomainException {
    return new DomainException(ErrorCode.BAD_USER_INPUT, message, {
      field,
      reason: 'invalid_input',
    });
  }
  static rateLimited(retryAfter: number, reason = 'rate_limited'): DomainException {
    return new DomainException(ErrorCode.RATE_LIMITED, 'Too many requests: retry later', {
      reason,
      retryAfter: Math.max(1, Math.ceil(retryAfter)),
    });
  }
  static serviceUnavailable(reason = 'database_unavailable', retryAfter = 5): DomainException {
    return new DomainException(
      ErrorCode.SERVICE_UNAVAILABLE,
      'The service is temporarily unavailable: retry later',
      { reason, retryAfter },
    );
  }
  static conflict(message: string, field?: string): DomainException {
    return new DomainException(ErrorCode.CONFLICT, message, { field, reason: 'conflict' });
  }
}

/** PostgreSQL unique_violation, whatever the driver (pg or PGlite) wrapped it in. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.code === '23505' || e?.driverError?.code === '23505';
}
