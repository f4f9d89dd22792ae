import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { type Request, type Response } from 'express';
import { systemActor } from '../audit/audit-actor';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { IS_PUBLIC_KEY } from '../common/auth/decorators';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { ActorType, AuthMethod } from '../common/auth/roles';
import { RequestContext, metaOf, requestOf } from '../common/context';
import { DomainException } from '../common/errors';
import { AuthenticationFailed } from './authentication-failed';

/** Strategies tried in order for every non-public route and operation. */
export const AUTH_STRATEGIES = ['basic'];

/**
 * Per-request memo of the authentication attempt. GraphQL runs guards once per root field, and
 * query fields resolve in parallel, so the in-flight attempt itself is shared: one strategy run,
 * one audit event per request.
 */
const attempts = new WeakMap<Request, Promise<DomainException | null>>();

@Injectable()
export class AuthenticationGuard extends AuthGuard(AUTH_STRATEGIES) {
  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {
    super();
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const req = requestOf(context);
    let attempt = attempts.get(req);
    if (!attempt) {
      attempt = this.authenticate(context, req);
      attempts.set(req, attempt);
    }
    const error = await attempt;
    if (error) throw error;
    return true;
  }

  private async authenticate(
    context: ExecutionContext,
    req: Request,
  ): Promise<DomainException | null> {
    try {
      await super.canActivate(context);
    } catch (err) {
      const error =
        err instanceof DomainException ? err : DomainException.unauthenticated('strategy_error');
      await this.recordFailure(req, error);
      return error;
    }
    const principal = req.user as AuthenticatedPrincipal;
    await this.audit.record(null, RequestContext.fromPrincipal(principal, metaOf(req)), {
      action: 'auth.login.succeeded',
      metadata: { method: principal.authMethod },
    });
    return null;
  }

  override getRequest(context: ExecutionContext): Request {
    return requestOf(context);
  }

  getResponse(context: ExecutionContext): Response | undefined {
    return requestOf(context).res;
  }

  override handleRequest<T = AuthenticatedPrincipal>(err: unknown, user: T | false): T {
    if (err instanceof DomainException) throw err;
    if (err) throw DomainException.unauthenticated('strategy_error');
    if (!user) throw DomainException.unauthenticated('missing_credentials');
    return user;
  }

  private async recordFailure(req: Request, error: DomainException): Promise<void> {
    const failed = error instanceof AuthenticationFailed ? error : null;
    await this.audit.recordQuietly(
      {
        ...systemActor(),
        ...metaOf(req),
        tenantId: failed?.tenantId ?? null,
        actorType: ActorType.ANONYMOUS,
        actorLabel: failed?.attemptedLabel ?? 'anonymous',
        authMethod: failed?.method ?? AuthMethod.NONE,
      },
      {
        action: 'auth.login.failed',
        outcome: AuditOutcome.FAILURE,
        errorCode: error.code,
        metadata: { method: failed?.method ?? AuthMethod.NONE, reason: error.reason ?? 'unknown' },
      },
    );
  }
}
