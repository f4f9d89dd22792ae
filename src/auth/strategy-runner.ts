import { type Request } from 'express';
import { type Strategy } from 'passport';
import { type AuthenticatedPrincipal } from '../common/auth/principal';

export type StrategyOutcome =
  | { kind: 'success'; principal: AuthenticatedPrincipal }
  | { kind: 'fail'; info: unknown }
  | { kind: 'error'; error: unknown };

interface StrategyActions {
  success(user: unknown): void;
  fail(challenge?: unknown, status?: unknown): void;
  error(err: unknown): void;
  redirect(url: string): void;
  pass(): void;
}

/**
 * Runs one passport strategy instance on a request, as `passport.authenticate` does, but on the
 * instance itself rather than one looked up by name in passport's process-wide registry (where a
 * second application in the same process would replace the first one's strategies).
 */
export function runStrategy(strategy: Strategy, req: Request): Promise<StrategyOutcome> {
  return new Promise((resolve) => {
    const s = Object.create(strategy) as Strategy & StrategyActions;
    s.success = (user) => resolve({ kind: 'success', principal: user as AuthenticatedPrincipal });
    s.fail = (challenge) => resolve({ kind: 'fail', info: challenge });
    s.error = (err) => resolve({ kind: 'error', error: err });
    s.redirect = () => resolve({ kind: 'fail', info: 'redirect' });
    s.pass = () => resolve({ kind: 'fail', info: 'pass' });
    try {
      (s.authenticate as (this: unknown, r: Request, o: object) => void).call(s, req, {
        session: false,
      });
    } catch (err) {
      resolve({ kind: 'error', error: err });
    }
  });
}
