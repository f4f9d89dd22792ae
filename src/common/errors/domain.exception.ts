import { ErrorCode } from './error-code';

export interface DomainExceptionOptions {
  /** The input field at fault, for BAD_USER_INPUT. */
  field?: string;
  /** A short machine-readable reason (audited, safe to show). */
  reason?: string;
  cause?: unknown;
}

/**
 * The one exception type services throw for expected failures. Transport-neutral: the GraphQL
 * formatter and the HTTP filter map `code` to `extensions.code` or a status.
 */
export class DomainException extends Error {
  readonly field?: string;
  readonly reason?: string;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: DomainExceptionOptions = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainException';
    this.field = options.field;
    this.reason = options.reason;
  }

  static unauthenticated(reason = 'invalid_credentials'): DomainException {
    return new DomainException(ErrorCode.UNAUTHENTICATED, 'Authentication required or failed', {
      reason,
    });
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
  static conflict(message: string, field?: string): DomainException {
    return new DomainException(ErrorCode.CONFLICT, message, { field, reason: 'conflict' });
  }
}

/** PostgreSQL unique_violation, whatever the driver (pg or PGlite) wrapped it in. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.code === '23505' || e?.driverError?.code === '23505';
}
