import { Injectable, type NestMiddleware } from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';
import { MetricsService } from './metrics.service';

/**
 * Counts and times every HTTP request. Routes are labelled by their pattern (`/t/:tenantSlug/…`),
 * never the raw path, so label cardinality stays bounded.
 */
@Injectable()
export class MetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    const end = process.hrtime.bigint();
    const path = req.originalUrl.split('?')[0]; // req.path changes under mounted middleware
    res.on('finish', () => {
      // Nest mounts middleware as catch-all routes (`/*path`); those are not the route served.
      const routePath = (req.route as { path?: string } | undefined)?.path;
      const matched =
        routePath && !routePath.includes('*') ? `${req.baseUrl}${routePath}` : undefined;
      const route = matched ?? (path === '/graphql' ? '/graphql' : 'unmatched');
      const seconds = Number(process.hrtime.bigint() - end) / 1e9;
      this.metrics.httpRequests.inc({ method: req.method, route, status: String(res.statusCode) });
      this.metrics.httpDuration.observe({ method: req.method, route }, seconds);
    });
    next();
  }
}
