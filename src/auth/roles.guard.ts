import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  IS_PUBLIC_KEY,
  PLATFORM_ADMIN,
  ROLES_KEY,
  type RolesDecision,
} from '../common/auth/decorators';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { RequestContext, type RequestMeta, metaOf, requestOf } from '../common/context';
import { DomainException } from '../common/errors';

/**
 * Enforces `@Roles()`. Fails closed: an authenticated operation with no roles decision is refused
 * (and a test walks every resolver so that never ships).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly logger = new Logger(RolesGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly audit: AuditService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const decision = this.reflector.getAllAndOverride<RolesDecision | undefined>(
      ROLES_KEY,
      targets,
    );
    const req = requestOf(context);
    const principal = req.user;
    if (!principal) throw DomainException.unauthenticated('no_principal');
    const operation = `${context.getClass().name}.${context.getHandler().name}`;
    await this.check(principal, decision, { meta: metaOf(req), operation });
    return true;
  }

  /**
   * The decision applied to a principal (also by the lanes in front of Express): returns when
   * allowed, else records `authz.denied` and throws FORBIDDEN.
   */
  async check(
    principal: AuthenticatedPrincipal,
    decision: RolesDecision | undefined,
    at: { meta: RequestMeta; operation: string },
  ): Promise<void> {
    const { operation } = at;
    let denial: DomainException;
    if (decision === undefined) {
      this.logger.error(`No roles decision on ${operation}`);
      denial = DomainException.forbidden('Operation not available', 'no_roles_decision');
    } else if (decision === PLATFORM_ADMIN) {
      if (principal.isPlatformAdmin) return;
      denial = DomainException.forbidden(
        'Only platform administrators can do this',
        'platform_admin_required',
      );
    } else {
      if (decision.includes(principal.role)) return;
      denial = DomainException.forbidden(
        `Role ${principal.role} cannot do this`,
        'role_not_allowed',
      );
    }
    await this.audit.recordQuietly(RequestContext.fromPrincipal(principal, at.meta), {
      action: 'authz.denied',
      outcome: AuditOutcome.DENIED,
      errorCode: denial.code,
      metadata: { operation, reason: denial.reason ?? 'forbidden' },
    });
    throw denial;
  }
}
