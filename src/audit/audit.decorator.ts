import { SetMetadata } from '@nestjs/common';
import { type AuditAction } from './audit-actions';

export const AUDIT_KEY = 'roomkey:audit';

export interface AuditSpec {
  action: AuditAction;
  targetType?: string;
  /** Name of the GraphQL/HTTP argument holding the target id (top-level or inside `input`). */
  targetIdArg?: string;
}

/**
 * Declares what an operation does for the audit log. Services record the success inside their
 * transaction; the audit interceptor records a failure or denial (after the rollback) from this.
 */
export const Audit = (spec: AuditSpec): MethodDecorator => SetMetadata(AUDIT_KEY, spec);
