import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { DomainException } from '../errors';
import { RequestContext, type RequestMeta } from './request-context';
import { metaOf, requestOf } from './request-meta';

/** The authenticated caller's `RequestContext`. Fails closed if no principal is attached. */
export const Ctx = createParamDecorator((_: unknown, context: ExecutionContext): RequestContext => {
  const req = requestOf(context);
  const principal = req.user;
  if (!principal) throw DomainException.unauthenticated('no_principal');
  return RequestContext.fromPrincipal(principal, metaOf(req));
});

/** Request id, client IP and user agent, for public operations that have no principal. */
export const Meta = createParamDecorator((_: unknown, context: ExecutionContext): RequestMeta =>
  metaOf(requestOf(context)),
);
