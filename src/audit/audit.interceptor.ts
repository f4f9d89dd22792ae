import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { type Observable, catchError, from, mergeMap, throwError } from 'rxjs';
import { RequestContext, metaOf, requestOf } from '../common/context';
import { ErrorCode, toClientError } from '../common/errors';
import { AUDIT_KEY, type AuditSpec } from './audit-spec';
import { AuditOutcome } from './audit-event.entity';
import { AuditService } from './audit.service';

/**
 * Records failed and denied attempts of `@Audit()` operations. The business transaction has
 * rolled back by then; this event is written in its own transaction, so the attempt stays on record.
 */
@Injectable()
export class AuditFailureInterceptor implements NestInterceptor {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const spec = this.reflector.get<AuditSpec | undefined>(AUDIT_KEY, context.getHandler());
    if (!spec) return next.handle();
    return next
      .handle()
      .pipe(
        catchError((err: unknown) =>
          from(this.recordFailure(context, spec, err)).pipe(mergeMap(() => throwError(() => err))),
        ),
      );
  }

  private async recordFailure(
    context: ExecutionContext,
    spec: AuditSpec,
    err: unknown,
  ): Promise<void> {
    const req = requestOf(context);
    if (!req.user) return;
    const ctx = RequestContext.fromPrincipal(req.user, metaOf(req));
    const { code } = toClientError(err, false);
    // An unreachable database cannot take the event either; the error is logged where it is answered.
    if (code === ErrorCode.SERVICE_UNAVAILABLE) return;
    await this.audit.recordQuietly(ctx, {
      action: spec.action,
      outcome: code === ErrorCode.FORBIDDEN ? AuditOutcome.DENIED : AuditOutcome.FAILURE,
      errorCode: code,
      targetType: spec.targetType ?? null,
      targetId: spec.targetIdArg ? targetIdFrom(context, spec.targetIdArg) : null,
    });
  }
}

function targetIdFrom(context: ExecutionContext, name: string): string | null {
  const args: Record<string, unknown> =
    context.getType<string>() === 'graphql'
      ? GqlExecutionContext.create(context).getArgs<Record<string, unknown>>()
      : (context.switchToHttp().getRequest<{ params: Record<string, unknown> }>().params ?? {});
  const input = args.input as Record<string, unknown> | undefined;
  const value = args[name] ?? input?.[name];
  return typeof value === 'string' ? value.slice(0, 128) : null;
}
