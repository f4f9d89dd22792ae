import { Injectable, type NestMiddleware } from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';
import { TenantDirectory } from '../tenants/tenant-directory';
import { BROWSER_ROUTE } from './browser-vendors';
import { answerCors } from './compat-cors-headers';
import { linkRequestOf } from '../join-links/join-link-paths';

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
    // A join link's request got its own CORS (only the link's origins) in joinLinkPaths.
    if (!route || !origin || linkRequestOf(req)) {
      next();
      return;
    }
    this.tenants.corsOrigins(route[1]).then(
      (origins) => answerCors(origins, req, res, next),
      (err: unknown) => next(err),
    );
  }
}
