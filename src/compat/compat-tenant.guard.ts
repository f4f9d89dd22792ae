import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { type Request } from 'express';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { RequestContext, type RequestMeta, metaOf } from '../common/context';
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
    const slug = req.params.tenantSlug;
    await checkCompatTenant(this.audit, principal, typeof slug === 'string' ? slug : undefined, {
      meta: metaOf(req),
      operation: `${req.method} ${req.path}`,
    });
    return true;
  }
}

/**
 * The check itself, for the guard and the lanes in front of Express: `slug` (percent-decoded, as
 * a route parameter) must be the principal's tenant, else an audited FORBIDDEN.
 */
export async function checkCompatTenant(
  audit: AuditService,
  principal: AuthenticatedPrincipal,
  slug: string | undefined,
  at: { meta: RequestMeta; operation: string },
): Promise<void> {
  if (slug === principal.tenantSlug) return;
  const denial = DomainException.forbidden(
    'This route belongs to another tenant',
    'tenant_slug_mismatch',
  );
  await audit.recordQuietly(RequestContext.fromPrincipal(principal, at.meta), {
    action: 'authz.denied',
    outcome: AuditOutcome.DENIED,
    errorCode: denial.code,
    metadata: { operation: at.operation.slice(0, 200), reason: 'tenant_slug_mismatch' },
  });
  throw denial;
}
