import { type AuthMethod } from '../common/auth/roles';
import { DomainException, ErrorCode } from '../common/errors';

/**
 * An authentication failure, with what the audit log needs: the reason code, the method, and the
 * tenant when the credential identified one. The caller only ever sees the generic message.
 */
export class AuthenticationFailed extends DomainException {
  constructor(
    reason: string,
    readonly method: AuthMethod,
    readonly tenantId: string | null = null,
    /** A public identifier of what was presented (key id, email), never the secret part. */
    readonly attemptedLabel: string | null = null,
    message = 'Authentication required or failed',
  ) {
    super(ErrorCode.UNAUTHENTICATED, message, { reason });
  }
}
