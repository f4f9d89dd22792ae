import { Inject, Injectable, Logger } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { RequestContext, metaOf } from '../common/context';
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

/** `?credential=<id>` picks a credential other than the tenant's default. */
export function credentialParam(value: unknown): string | null {
  if (value === undefined || value === '') return null;
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw DomainException.badInput('credential', 'credential must be a credential id (UUID)');
  }
  return value;
}

/**
 * Runs a compatibility route: the work, then the answer in the vendor's shape (`onError` turns a
 * failure into the vendor sample's error reply), one `compat.called` audit event with the final
 * status, and an `X-Roomkey-Error-Code` header on failures so operators see the typed code behind
 * a vendor-shaped error.
 */
@Injectable()
export class CompatResponder {
  private readonly logger = new Logger('Compat');

  constructor(
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async run(
    req: Request,
    res: Response,
    route: string,
    work: () => Promise<Reply>,
    onError: (e: Failure) => Reply,
  ): Promise<void> {
    let reply: Reply;
    let code: ErrorCode | null = null;
    try {
      reply = await work();
    } catch (err) {
      const e = toClientError(err, this.config.app.env === 'development');
      if (e.code === ErrorCode.INTERNAL_SERVER_ERROR) {
        this.logger.error(
          { err, requestId: req.id, route },
          'unhandled error on a compatibility route',
        );
      }
      code = e.code;
      reply = onError({ ...e, status: e.status ?? HTTP_STATUS_BY_CODE[e.code] });
      reply.headers = { ...reply.headers, 'X-Roomkey-Error-Code': e.code };
      if (e.retryAfter !== undefined)
        reply.headers = { ...reply.headers, 'Retry-After': String(e.retryAfter) };
    }
    if (code === ErrorCode.SERVICE_UNAVAILABLE) {
      // The audit write would wait out the same outage: log (codes only) instead.
      this.logger.warn(
        { requestId: req.id, route },
        'database unavailable on a compatibility route',
      );
    } else {
      await this.record(req, route, reply.status, code);
    }
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    res.status(reply.status);
    if (reply.json !== undefined) res.json(reply.json);
    else if (reply.text !== undefined) res.type('text/plain; charset=utf-8').send(reply.text);
    else res.end();
  }

  private async record(
    req: Request,
    route: string,
    status: number,
    code: ErrorCode | null,
  ): Promise<void> {
    const ctx = RequestContext.fromPrincipal(req.user!, metaOf(req));
    const metadata = { route, status };
    if (code === null) {
      try {
        await this.audit.record(null, ctx, { action: 'compat.called', metadata });
      } catch (err) {
        this.logger.error({ err, route }, 'could not write audit event');
      }
      return;
    }
    await this.audit.recordQuietly(ctx, {
      action: 'compat.called',
      outcome: code === ErrorCode.FORBIDDEN ? AuditOutcome.DENIED : AuditOutcome.FAILURE,
      errorCode: code,
      metadata,
    });
  }
}
