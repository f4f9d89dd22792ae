import { Injectable, type NestMiddleware } from '@nestjs/common';
import cors from 'cors';
import { type NextFunction, type Request, type Response } from 'express';
import { TenantDirectory } from '../tenants/tenant-directory';

/** Compatibility routes that browsers call (Red5 and webhook callbacks are server to server). */
const BROWSER_ROUTE = /^\/t\/([^/]+)\/(openvidu|livekit|pexip|agora|fishjam)(\/|$)/i;

/** CORS headers for an origin the tenant allowed (echoed exactly, never `*`). */
const allowedCors = cors({
  origin: true,
  methods: ['GET', 'POST'],
  allowedHeaders: ['Authorization', 'Content-Type', 'X-Roomkey-Tenant', 'X-Request-Id'],
  exposedHeaders: ['X-Request-Id', 'X-Roomkey-Error-Code'],
  maxAge: 600,
  optionsSuccessStatus: 204,
});

/**
 * Per-tenant CORS for the compatibility routes, off by default: only the origins a tenant admin
 * listed (`setCompatCorsOrigins`) get CORS headers. Preflights are answered here, before
 * authentication, since browsers send them without credentials; another origin's preflight gets
 * a bare 204, which the browser treats as a refusal.
 */
@Injectable()
export class CompatCorsMiddleware implements NestMiddleware {
  constructor(private readonly tenants: TenantDirectory) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const route = BROWSER_ROUTE.exec(req.path);
    const origin = req.headers.origin;
    if (!route || !origin) {
      next();
      return;
    }
    this.tenants.corsOrigins(route[1]).then(
      (origins) => {
        if (origins.includes(origin)) {
          allowedCors(req, res, next);
          return;
        }
        res.vary('Origin');
        if (req.method === 'OPTIONS') res.status(204).end();
        else next();
      },
      (err: unknown) => next(err),
    );
  }
}
