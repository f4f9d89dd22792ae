import { type ServerResponse } from 'node:http';
import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  Logger,
  type NestInterceptor,
  SetMetadata,
  UseInterceptors,
  applyDecorators,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { type Request, type Response } from 'express';
import { type Observable, from, lastValueFrom } from 'rxjs';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { RequestContext, type RequestMeta, metaOf } from '../common/context';
import { sendJson } from '../common/http/lane';
import {
  type ClientError,
  DomainException,
  ErrorCode,
  HTTP_STATUS_BY_CODE,
  toClientError,
} from '../common/errors';
import { UUID } from '../common/text';

/** A complete HTTP answer in a vendor sample's shape. */
export interface Reply {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** A mapped failure: the closed code, a safe message and the HTTP status that code means. */
export type Failure = ClientError & { status: number };

/** A compatibility route: its name (audit, logs) and how it answers a failure. */
export interface CompatRoute {
  route: string;
  onError: (e: Failure) => Reply;
}

const COMPAT_REPLY_KEY = 'roomkey:compat-reply';

/**
 * A failure's message naming the field as the sample's client sent it (`names` maps Roomkey's
 * request fields, e.g. `customSessionId`, to the sample's, e.g. `roomName`). Roomkey's messages
 * start with the field's name; others are kept as they are.
 */
export function inSampleTerms(e: Failure, names: Record<string, string>): string {
  const name = e.field === undefined ? undefined : names[e.field];
  return name !== undefined && e.message.startsWith(`${e.field} `)
    ? `${name}${e.message.slice(e.field!.length)}`
    : e.message;
}

/** `?credential=<id>` picks a credential other than the tenant's default. */
export function credentialParam(value: unknown): string | null {
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw DomainException.badInput('credential', 'credential must be a credential id (UUID)');
  }
  return value;
}

/**
 * Marks a compatibility route handler: it returns its `Reply`, or throws, and
 * CompatReplyInterceptor answers in the vendor's shape (`onError` shapes a failure).
 */
export const CompatReply = (route: string, onError: (e: Failure) => Reply): MethodDecorator =>
  applyDecorators(
    SetMetadata(COMPAT_REPLY_KEY, { route, onError } satisfies CompatRoute),
    UseInterceptors(CompatReplyInterceptor),
  );

/**
 * How a compatibility route's work ends, wherever it is served (the interceptor above, or a lane
 * in front of Express): its `Reply`, or its error through the route's `onError` with an
 * `X-Roomkey-Error-Code` header (and `Retry-After` when the code has one), so operators see the
 * typed code behind a vendor-shaped error. A failure or refusal is audited as one `compat.called`
 * event; a success is audited by what it did (the issuance, the session it created), not here.
 */
@Injectable()
export class CompatOutcomes {
  private readonly logger = new Logger('Compat');

  constructor(
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async settle(
    caller: { principal: AuthenticatedPrincipal; meta: RequestMeta },
    spec: CompatRoute,
    work: () => Promise<Reply>,
  ): Promise<Reply> {
    try {
      return await work();
    } catch (err) {
      const e = toClientError(err, this.config.app.env === 'development');
      if (e.code === ErrorCode.INTERNAL_SERVER_ERROR) {
        this.logger.error(
          { err, requestId: caller.meta.requestId, route: spec.route },
          'unhandled error on a compatibility route',
        );
      }
      const reply = spec.onError({ ...e, status: e.status ?? HTTP_STATUS_BY_CODE[e.code] });
      reply.headers = { ...reply.headers, 'X-Roomkey-Error-Code': e.code };
      if (e.retryAfter !== undefined)
        reply.headers = { ...reply.headers, 'Retry-After': String(e.retryAfter) };
      await this.recordFailure(caller, spec.route, reply.status, e.code);
      return reply;
    }
  }

  private async recordFailure(
    caller: { principal: AuthenticatedPrincipal; meta: RequestMeta },
    route: string,
    status: number,
    code: ErrorCode,
  ): Promise<void> {
    if (code === ErrorCode.SERVICE_UNAVAILABLE) {
      // The audit write would wait out the same outage: log (codes only) instead.
      this.logger.warn(
        { requestId: caller.meta.requestId, route },
        'database unavailable on a compatibility route',
      );
      return;
    }
    await this.audit.recordQuietly(RequestContext.fromPrincipal(caller.principal, caller.meta), {
      action: 'compat.called',
      outcome: code === ErrorCode.FORBIDDEN ? AuditOutcome.DENIED : AuditOutcome.FAILURE,
      errorCode: code,
      metadata: { route, status },
    });
  }
}

/**
 * Answers a compatibility route: the handler's `Reply`, or its error through the route's
 * `onError` (CompatOutcomes). Guards run before this, so their refusals keep the global
 * exception filter.
 */
@Injectable()
export class CompatReplyInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly outcomes: CompatOutcomes,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler<Reply>): Observable<unknown> {
    const spec = this.reflector.get<CompatRoute | undefined>(
      COMPAT_REPLY_KEY,
      context.getHandler(),
    );
    if (!spec) return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const caller = { principal: req.user!, meta: metaOf(req) };
    return from(
      this.outcomes
        .settle(caller, spec, () => lastValueFrom(next.handle()))
        .then((reply) => answer(res, reply)),
    );
  }
}

/** Writes a `Reply` on a bare `node:http` response (a lane), as `answer` below has Nest send it. */
export function sendReply(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  if (reply.json !== undefined) {
    sendJson(res, reply.status, reply.json, reply.headers);
    return;
  }
  for (const k in reply.headers) res.setHeader(k, reply.headers[k]);
  res.statusCode = reply.status;
  if (reply.text === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(reply.text));
  res.end(reply.text);
}

/**
 * Status and headers on `res`; the body is handed back for Nest to send (JSON for an object,
 * plain text otherwise — the status Nest set before the handler is the one written here).
 */
function answer(res: Response, reply: Reply): unknown {
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  res.status(reply.status);
  if (reply.json !== undefined) {
    if (typeof reply.json === 'object' && reply.json !== null) return reply.json;
    res.type('application/json');
    return JSON.stringify(reply.json);
  }
  if (reply.text !== undefined) {
    res.type('text/plain; charset=utf-8');
    return reply.text;
  }
  return undefined;
}
