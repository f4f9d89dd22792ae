import { type IncomingMessage, type Server } from 'node:http';
import { type Duplex } from 'node:stream';
import { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { DomainException } from '../errors/domain.exception';
import { ErrorCode } from '../errors/error-code';
import { hasControlChars } from '../text';

/** A percent-encoded control character: C0 (%00–%1F), DEL (%7F) or C1 in UTF-8 (%C2%80–%C2%9F). */
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f|c2%[89][0-9a-f])/i;

/**
 * Headers whose values reach the database, the audit log or a response. X-Request-Id is not one:
 * one that is not short and plain is replaced by a fresh id (operations contract), never used.
 */
const CHECKED_HEADERS = ['x-roomkey-tenant'] as const;

/** The name of the first query parameter carrying a control character, else `query`. */
function queryField(query: string): string {
  for (const [name, value] of new URLSearchParams(query)) {
    if (hasControlChars(name) || hasControlChars(value)) return name.slice(0, 64);
  }
  return 'query';
}

/** A control character, raw or percent-encoded (what the hygiene middleware refuses). */
export const unsafe = (s: string): boolean => hasControlChars(s) || ENCODED_CONTROL.test(s);

/**
 * Refuses control characters (NUL above all: PostgreSQL cannot store it in text) in the path, the
 * query string and the headers Roomkey reads, as BAD_USER_INPUT before any route sees them.
 * `exempt` paths keep their own contract (Red5 answers 200 `{"result":false}`, webhooks 401).
 * Authorization is judged by the strategies, which answer UNAUTHENTICATED to a malformed one.
 */
export function inputHygiene(exempt: RegExp): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (exempt.test(req.path)) {
      next();
      return;
    }
    const url = req.originalUrl ?? req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (unsafe(path)) {
      next(DomainException.badInput('path', 'The path contains a control character'));
      return;
    }
    if (q !== -1 && unsafe(url.slice(q + 1))) {
      next(
        DomainException.badInput(
          queryField(url.slice(q + 1)),
          'The query string contains a control character',
        ),
      );
      return;
    }
    const header = refusedHeader(req);
    if (header !== null) {
      next(DomainException.badInput(header, `The ${header} header contains a control character`));
      return;
    }
    next();
  };
}

/** The first header Roomkey reads whose value carries a control character, else null. */
export function refusedHeader(req: IncomingMessage): string | null {
  for (const name of CHECKED_HEADERS) {
    const value = req.headers[name];
    if (value !== undefined && ([] as string[]).concat(value).some(hasControlChars)) return name;
  }
  return null;
}

/**
 * Requests Node's HTTP parser refuses outright (a raw NUL or other control byte in the request
 * line or a header) never reach Express: answer them in the same JSON shape as any other bad
 * input, instead of Node's bare 400. Other parser outcomes keep Node's own answers.
 */
export function answerParserErrors(server: Server): void {
  server.on('clientError', (err: Error & { code?: string }, socket: Duplex) => {
    const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (!socket.writable || pending?.headersSent) {
      socket.destroy(err);
      return;
    }
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      socket.end('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n');
      return;
    }
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
      return;
    }
    if (err.code === 'ECONNRESET') {
      socket.destroy(err);
      return;
    }
    if (!err.code?.startsWith('HPE_')) {
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      return;
    }
    const body = JSON.stringify({
      error: {
        code: ErrorCode.BAD_USER_INPUT,
        message: 'Malformed HTTP request (control characters are not allowed)',
      },
    });
    socket.end(
      [
        'HTTP/1.1 400 Bad Request',
        'Content-Type: application/json; charset=utf-8',
        `Content-Length: ${Buffer.byteLength(body)}`,
        `X-Roomkey-Error-Code: ${ErrorCode.BAD_USER_INPUT}`,
        'Connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  });
}
