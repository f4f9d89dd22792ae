import { SetMetadata, UseInterceptors, applyDecorators } from '@nestjs/common';
import { AUDIT_KEY, type AuditSpec } from './audit-spec';
import { AuditFailureInterceptor } from './audit.interceptor';

export { AUDIT_KEY, type AuditSpec } from './audit-spec';

/**
 * Declares what an operation does for the audit log. Services record the success inside their
 * transaction; the audit interceptor, attached here (and so to audited operations only: the others
 * pay for no interceptor), records a failure or denial (after the rollback) from this.
 */
export const Audit = (spec: AuditSpec): MethodDecorator =>
  applyDecorators(SetMetadata(AUDIT_KEY, spec), UseInterceptors(AuditFailureInterceptor));
