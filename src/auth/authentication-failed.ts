import { AuditOutcome } from '../audit/audit-event.entity';
import { type AuditService } from '../audit/audit.service';
import { ActorType, AuthMethod } from '../common/auth/roles';
import { type RequestMeta } from '../common/context/request-context';
import { DomainException, ErrorCode } from '../common/errors';
import { authReasonClass } from '../common/metrics/labels';
import { type MetricsService } from '../common/metrics/metrics.service';

/** How an authentication was attempted, as `roomkey_auth_attempts_total` names it. */
export type AuthMetricMethod = AuthMethod | 'refresh' | 'login_code';

/**
 * Counts one authentication outcome: `failureReason` null for a success, else the reason code
 * (counted by its class, see `authReasonClass`).
 */
export function countAuthOutcome(
  metrics: MetricsService,
  method: AuthMetricMethod,
  failureReason: string | null,
): void {
  metrics.authAttempts
    .of(
      method.toLowerCase(),
      failureReason === null ? 'success' : 'failure',
      failureReason === null ? 'none' : authReasonClass(failureReason),
    )
    .inc();
}

/**
 * An authentication failure, with what the audit log needs: the reason code, the method, and the
 * tenant when the credential identified one. The caller only ever sees the generic message.
 */
export class AuthenticationFailed extends DomainException {
  /** A wrong secret was presented (counts towards credential locks whatever the reason says). */
  guess = false;

  constructor(
    reason: string,
    readonly method: AuthMethod,
    readonly tenantId: string | null = null,
    /** A public identifier of what was presented (key id, email), never the secret part. */
    readonly attemptedLabel: string | null = null,
    message = 'Authentication required or failed',
    /** FORBIDDEN for a valid credential refused where it was presented (a cookie's origin). */
    code: ErrorCode.UNAUTHENTICATED | ErrorCode.FORBIDDEN = ErrorCode.UNAUTHENTICATED,
  ) {
    super(code, message, { reason });
  }
}

/**
 * Records (audit) and counts (metrics) a failed authentication: reason code and public identifier
 * only, never the credential.
 */
export async function recordAuthFailure(
  audit: AuditService,
  metrics: MetricsService,
  meta: RequestMeta,
  error: DomainException,
): Promise<void> {
  // The database is what failed: writing to it now would only wait for the same timeout again.
  if (error.code === ErrorCode.SERVICE_UNAVAILABLE) return;
  const failed = error instanceof AuthenticationFailed ? error : null;
  const method = failed?.method ?? AuthMethod.NONE;
  countAuthOutcome(metrics, method, error.reason ?? 'unknown');
  await audit.recordQuietly(
    {
      ...meta,
      tenantId: failed?.tenantId ?? null,
      actorType: ActorType.ANONYMOUS,
      actorId: null,
      actorLabel: failed?.attemptedLabel ?? 'anonymous',
      authMethod: method,
    },
    {
      action: 'auth.login.failed',
      outcome: AuditOutcome.FAILURE,
      errorCode: error.code,
      metadata: { method, reason: error.reason ?? 'unknown' },
    },
  );
}
