import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { type Request } from 'express';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { RequestContext, metaOf } from '../common/context';
import { DomainException } from '../common/errors';

/**
 * Compatibility routes name a tenant in the path (`/t/:tenantSlug/…`); it must be the caller's.
 * Runs after authentication, so the principal is known. Another tenant's slug is FORBIDDEN.
 */
@Injectable()
export class CompatTenantGuard implements CanActivate {
  constructor(private readonly audit: AuditService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const principal = req.user;
    if (!principal) throw DomainException.unauthenticated('no_principal');
    if (req.params.tenantSlug === principal.tenantSlug) return true;
    const denial = DomainException.forbidden(
      'This route belongs to another tenant',
      'tenant_slug_mismatch',
    );
    await this.audit.recordQuietly(RequestContext.fromPrincipal(principal, metaOf(req)), {
      action: 'authz.denied',
      outcome: AuditOutcome.DENIED,
      errorCode: denial.code,
      metadata: {
        operation: `${req.method} ${req.path}`.slice(0, 200),
        reason: 'tenant_slug_mismatch',
      },
    });
    throw denial;
  }
}
