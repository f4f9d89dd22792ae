import { type AuthenticatedPrincipal } from '../common/auth/principal';

declare global {
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AuthenticatedPrincipal {}
  }
}
export {};
