import { type CanActivate, type ExecutionContext, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  IS_PUBLIC_KEY,
  PLATFORM_ADMIN,
  ROLES_KEY,
  type RolesDecision,
} from '../common/auth/decorators';
import { requestOf } from '../common/context';
import { DomainException } from '../common/errors';

/**
 * Enforces `@Roles()`. Fails closed: an authenticated operation with no roles decision is refused
 * (and a test walks every resolver so that never ships).
 */
@Injectable()
export class RolesGuard implements CanActivate {
  private readonly logger = new Logger(RolesGuard.name);

  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets)) return true;
    const decision = this.reflector.getAllAndOverride<RolesDecision | undefined>(
      ROLES_KEY,
      targets,
    );
    const principal = requestOf(context).user;
    if (!principal) throw DomainException.unauthenticated('no_principal');
    if (decision === undefined) {
      this.logger.error(
        `No roles decision on ${context.getClass().name}.${context.getHandler().name}`,
      );
      throw DomainException.forbidden('Operation not available', 'no_roles_decision');
    }
    if (decision === PLATFORM_ADMIN) {
      if (principal.isPlatformAdmin) return true;
      throw DomainException.forbidden(
        'Only platform administrators can do this',
        'platform_admin_required',
      );
    }
    if (decision.includes(principal.role)) return true;
    throw DomainException.forbidden(`Role ${principal.role} cannot do this`, 'role_not_allowed');
  }
}
