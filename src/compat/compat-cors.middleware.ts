import { Injectable, type NestMiddleware } from '@nestjs/common';
import cors, { type CorsOptions } from 'cors';
import { type NextFunction, type Request, type Response } from 'express';
import { TenantDirectory } from '../tenants/tenant-directory';

/** Compatibility routes that browsers call (Red5 and webhook callbacks are server to server). */
const BROWSER_ROUTE = /^\/t\/([^/]+)\/(openvidu|livekit|pexip|agora|fishjam)(\/|$)/;

/**
 * Per-tenant CORS for the compatibility routes, off by default: only the origins a tenant admin
 * listed (`setCompatCorsOrigins`) get CORS headers, echoed exactly, never `*`. Preflights are
 * answered here, before authentication, since browsers send them without credentials.
 */
@Injectable()
export class CompatCorsMiddleware implements NestMiddleware {
  private readonly handler;

  constructor(private readonly tenants: TenantDirectory) {
    this.handler = cors((req, callback) => {
      void this.options(req as Request).then(
        (options) => callback(null, options),
        (err: Error) => callback(err),
      );
    });
  }

  use(req: Request, res: Response, next: NextFunction): void {
    if (!BROWSER_ROUTE.test(req.path) || !req.headers.origin) {
      next();
      return;
    }
    this.handler(req, res, next);
  }

  private async options(req: Request): Promise<CorsOptions> {
    const slug = BROWSER_ROUTE.exec(req.path)?.[1] ?? '';
    const origin = req.headers.origin;
    const allowed = !!origin && (await this.tenants.corsOrigins(slug)).includes(origin);
    return {
      origin: allowed ? origin : false,
      methods: ['GET', 'POST'],
      allowedHeaders: ['Authorization', 'Content-Type', 'X-Roomkey-Tenant', 'X-Request-Id'],
      exposedHeaders: ['X-Request-Id', 'X-Roomkey-Error-Code'],
      maxAge: 600,
      // Disallowed preflights end here too (no CORS headers: the browser refuses the call).
      preflightContinue: false,
      optionsSuccessStatus: 204,
    };
  }
}
