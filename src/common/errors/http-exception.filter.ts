import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { describeDatabaseError, isDatabaseUnavailable } from './database-unavailable';
import { HTTP_STATUS_BY_CODE, ErrorCode } from './error-code';
import { toClientError } from './to-client-error';

/** Maps exceptions on plain HTTP routes to `{ error: { code, message } }` with a matching status. */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly development: boolean) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception; // GraphQL errors go through formatError.
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const body = toClientError(exception, this.development);
    if (body.code === ErrorCode.INTERNAL_SERVER_ERROR) {
      this.logger.error({ err: exception, requestId: req.id }, 'unhandled error on HTTP route');
    } else if (isDatabaseUnavailable(exception)) {
      this.logger.warn(
        { db: describeDatabaseError(exception), requestId: req.id },
        'database unavailable: answered 503',
      );
    }
    if (res.headersSent) return;
    const { status, ...error } = body;
    if (body.retryAfter !== undefined) res.setHeader('Retry-After', String(body.retryAfter));
    res
      .setHeader('X-Roomkey-Error-Code', body.code)
      .status(status ?? HTTP_STATUS_BY_CODE[body.code])
      .json({ error: { ...error, requestId: req.id } });
  }
}
