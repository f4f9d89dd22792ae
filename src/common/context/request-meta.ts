import { randomUUID } from 'node:crypto';
import { type ExecutionContext } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import { type Request } from 'express';
import { type RequestMeta } from './request-context';

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Accepts a caller-supplied X-Request-Id only when it is short and plain; otherwise makes one. */
export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && REQUEST_ID.test(value) ? value : randomUUID();
}

/** The HTTP request behind an execution context, for GraphQL and plain HTTP alike. */
export function requestOf(context: ExecutionContext): Request {
  if (context.getType<string>() === 'graphql') {
    return GqlExecutionContext.create(context).getContext<{ req: Request }>().req;
  }
  return context.switchToHttp().getRequest<Request>();
}

/** The User-Agent header as Roomkey records it: at most 512 characters, null when absent. */
export function userAgentOf(header: string | undefined): string | null {
  return header ? header.slice(0, 512) : null;
}

/** `req.ip` honours the configured trusted-proxy setting (Express `trust proxy`). */
export function metaOf(req: Request): RequestMeta {
  return {
    requestId: typeof req.id === 'string' ? req.id : requestIdFrom(req.headers['x-request-id']),
    clientIp: req.ip ?? null,
    userAgent: userAgentOf(req.headers['user-agent']),
  };
}
