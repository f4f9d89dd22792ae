import { type ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { type Response } from 'express';
import { IS_PUBLIC_KEY } from '../common/auth/decorators';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { requestOf } from '../common/context';
import { DomainException } from '../common/errors';

/** Strategies tried in order for every non-public route and operation. */
export const AUTH_STRATEGIES = ['basic'];

/**
 * Global guard: everything needs an authenticated principal unless marked `@Public()`.
 * Works for GraphQL and HTTP alike.
 */
@Injectable()
export class AuthenticationGuard extends AuthGuard(AUTH_STRATEGIES) {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic) return true;
    return super.canActivate(context) as Promise<boolean>;
  }

  override getRequest(context: ExecutionContext) {
    return requestOf(context);
  }

  getResponse(context: ExecutionContext): Response | undefined {
    const req = requestOf(context);
    return req.res;
  }

  override handleRequest<T = AuthenticatedPrincipal>(err: unknown, user: T | false): T {
    if (err instanceof DomainException) throw err;
    if (err) throw DomainException.unauthenticated('strategy_error');
    if (!user) throw DomainException.unauthenticated('missing_credentials');
    return user;
  }
}
