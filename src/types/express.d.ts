import { type AuthenticatedPrincipal } from '../common/auth/principal';

declare global {
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AuthenticatedPrincipal {}
    interface Request {
      /** The unparsed body of vendor callbacks (Red5, webhooks); see common/http/raw-body. */
      rawBody?: Buffer;
      /** True when that body was larger than its route allows (it was read and discarded). */
      rawBodyTooLarge?: boolean;
      /**
       * Red5 routes: frees the tenant's admission slot once the decision is made (rate-limits/
       * red5-admission), so waiting for the audit commit does not hold it.
       */
      red5Decided?: () => void;
    }
  }
}
export {};
