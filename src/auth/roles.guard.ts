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
import { RequestContext, metaOf, requestOf } from '../common/context';
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
    let denial: DomainException;
    if (decision === undefined) {
      this.logger.error(`No roles decision on ${operation}`);
      denial = DomainException.forbidden('Operation not available', 'no_roles_decision');
    } else if (decision === PLATFORM_ADMIN) {
      if (principal.isPlatformAdmin) return true;
      denial = DomainException.forbidden(
        'Only platform administrators can do this',
        'platform_admin_required',
      );
    } else {
      if (decision.includes(principal.role)) return true;
      denial = DomainException.forbidden(
        `Role ${principal.role} cannot do this`,
        'role_not_allowed',
      );
    }
    await this.audit.recordQuietly(RequestContext.fromPrincipal(principal, metaOf(req)), {
      action: 'authz.denied',
      outcome: AuditOutcome.DENIED,
      errorCode: denial.code,
      metadata: { operation, reason: denial.reason ?? 'forbidden' },
    });
    throw denial;
  }
}
