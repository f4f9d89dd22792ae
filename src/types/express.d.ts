import { type AuthenticatedPrincipal } from '../common/auth/principal';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface User extends AuthenticatedPrincipal {}
  }
}
export {};
