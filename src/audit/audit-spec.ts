import { type AuditAction } from './audit-actions';

export const AUDIT_KEY = 'roomkey:audit';

/** What an `@Audit()` operation does, for the event its failure writes. */
export interface AuditSpec {
  action: AuditAction;
  targetType?: string;
  /** Name of the GraphQL/HTTP argument holding the target id (top-level or inside `input`). */
  targetIdArg?: string;
}
