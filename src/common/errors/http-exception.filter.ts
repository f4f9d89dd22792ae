import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { describeDatabaseError, isDatabaseUnavailable } from './database-unavailable';
import { HTTP_STATUS_BY_CODE, ErrorCode } from './error-code';
import { type ClientError, toClientError } from './to-client-error';

/** Maps exceptions on plain HTTP routes to `{ error: { code, message } }` with a matching status. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly development: boolean) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception; // GraphQL errors go through formatError.
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const requestId = typeof req.id === 'string' ? req.id : undefined;
    const answer = httpErrorAnswer(exception, requestId, this.development, this.logger);
    if (res.headersSent) return;
    res.set(answer.headers).status(answer.status).json(answer.body);
  }
}

/** The answer of a plain HTTP route to an exception: status, headers and `{ error }` body. */
export interface HttpErrorAnswer {
  status: number;
  headers: Record<string, string>;
  body: { error: Omit<ClientError, 'status'> & { requestId: string | undefined } };
}

/**
 * Maps an exception to the answer every plain HTTP route gives (the filter above, and the lanes in
 * front of Express): the closed code and safe message, `X-Roomkey-Error-Code`, `Retry-After` when
 * the code has one. Unexpected errors are logged with their detail; outages as a warning.
 */
export function httpErrorAnswer(
  exception: unknown,
  requestId: string | undefined,
  development: boolean,
  logger: Logger,
): HttpErrorAnswer {
  const body = toClientError(exception, development);
  if (body.code === ErrorCode.INTERNAL_SERVER_ERROR) {
    logger.error({ err: exception, requestId }, 'unhandled error on HTTP route');
  } else if (isDatabaseUnavailable(exception)) {
    logger.warn(
      { db: describeDatabaseError(exception), requestId },
      'database unavailable: answered 503',
    );
  }
  const { status, ...error } = body;
  const headers: Record<string, string> = { 'X-Roomkey-Error-Code': body.code };
  if (body.retryAfter !== undefined) headers['Retry-After'] = String(body.retryAfter);
  return {
    status: status ?? HTTP_STATUS_BY_CODE[body.code],
    headers,
    body: { error: { ...error, requestId } },
  };
}
