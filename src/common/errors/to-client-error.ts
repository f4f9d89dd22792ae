import { HttpException } from '@nestjs/common';
import { DomainException } from './domain.exception';
import { ErrorCode } from './error-code';

export interface ClientError {
  code: ErrorCode;
  message: string;
  field?: string;
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
};

/**
 * Maps anything thrown to the closed client-facing shape. Unexpected errors become
 * INTERNAL_SERVER_ERROR with a generic message; their detail is exposed only in development.
 */
export function toClientError(err: unknown, development: boolean): ClientError {
  if (err instanceof DomainException) {
    return { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) };
  }
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
  const internal: ClientError = {
    code: ErrorCode.INTERNAL_SERVER_ERROR,
    message: 'Internal server error',
  };
  if (development && err instanceof Error) internal.debug = err.message;
  return internal;
}
