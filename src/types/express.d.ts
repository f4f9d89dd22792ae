import { type AuthenticatedPrincipal } from '../common/auth/principal';

declare global {
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AuthenticatedPrincipal {}
    interface Request {
      /** The unparsed body of vendor webhooks; see common/http/raw-body. */
      rawBody?: Buffer;
      /** True when that body was larger than its route allows (it was read and discarded). */
      rawBodyTooLarge?: boolean;
    }
  }
}
export {};
