import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { describeDatabaseError, isDatabaseUnavailable } from './database-unavailable';
import { HTTP_STATUS_BY_CODE, ErrorCode } from './error-code';
import { type ClientError, toClientError } from './to-client-error';

/** A complete HTTP answer in another shape than `{ error }` (a vendor sample's). */
export interface ShapedAnswer {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/**
 * Answers a refusal on a path in its own shape, or `undefined` for the plain `{ error }` answer:
 * how the compatibility routes answer what is refused before their handler runs (authentication,
 * roles, an unknown tenant or path), each in its vendor sample's shape (src/compat).
 */
export type RefusalShaper = (
  path: string,
  failure: Omit<ClientError, 'status'> & { status: number },
  plain: ShapedAnswer,
) => ShapedAnswer | undefined;

/**
 * Maps exceptions on plain HTTP routes to `{ error: { code, message } }` with a matching status,
 * or to the shape `reshape` gives for the request's path.
 */
@Catch()
export class HttpExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(
    private readonly development: boolean,
    private readonly reshape?: RefusalShaper,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception; // GraphQL errors go through formatError.
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    const requestId = typeof req.id === 'string' ? req.id : undefined;
    const answer = httpErrorAnswer(exception, requestId, this.development, this.logger);
    if (res.headersSent) return;
    const shaped = shapedErrorAnswer(this.reshape, req.path, answer);
    res.set(shaped.headers ?? {}).status(shaped.status);
    if (shaped.json !== undefined) res.json(shaped.json);
    else if (shaped.text !== undefined) res.type('text/plain; charset=utf-8').send(shaped.text);
    else res.end();
  }
}

/**
 * `answer` as the path's refusal shape gives it (with the answer's own `X-Roomkey-Error-Code` and
 * `Retry-After` kept), or as `{ error }` JSON when the path has none.
 */
export function shapedErrorAnswer(
  reshape: RefusalShaper | undefined,
  path: string,
  answer: HttpErrorAnswer,
): ShapedAnswer {
  const plain: ShapedAnswer = { status: answer.status, json: answer.body, headers: answer.headers };
  if (!reshape) return plain;
  const { requestId: _, ...error } = answer.body.error;
  const shaped = reshape(path, { ...error, status: answer.status }, plain);
  return shaped ? { ...shaped, headers: { ...shaped.headers, ...answer.headers } } : plain;
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
