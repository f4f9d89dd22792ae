import { Inject, Injectable } from '@nestjs/common';
import { type NextFunction, type Request, type Response } from 'express';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { RateLimiter, type Rule, clientKey } from './rate-limiter.service';
import { TenantGate } from './tenant-gate';

/** Red5 round-trip auth routes: `/t/:slug/red5/(validate|invalidate)Credentials`. */
const RED5_ROUTE = /^\/t\/([^/]+)\/red5\/(validate|invalidate)Credentials\/?$/i;

const REFUSED = '{"result":false}';

/**
 * Admission for the public Red5 routes, run as the first Express middleware: before the request id,
 * the access log, the body reader and Nest's routing. Red5 floods are the cheapest possible work
 * here, so one tenant's flood costs another tenant's validations almost nothing.
 * - Budgets per client IP and per tenant slug (the rate limiter; refusals are summarised per minute).
 * - Within its budget, a per-tenant gate: a few validations of a tenant decide at once (body read
 *   and lookup; the slot is freed when the decision is made, before its audit event commits), a
 *   bounded number wait, the rest are refused at once — so one tenant never fills the database
 *   pool or the event loop ahead of another.
 * A refusal is HTTP 200 `{"result":false}`, the only other answer Red5 knows; over budget it comes
 * after `ROOMKEY_RATE_LIMIT_RED5_REFUSAL_DELAY_MS`, so a looping flood cannot saturate the process.
 */
@Injectable()
export class Red5Admission {
  private readonly perIp: Rule;
  private readonly perTenant: Rule;
  private readonly gate: TenantGate;
  private readonly refusalDelayMs: number;
  /** Over-budget answers being held back right now (bounded: past the cap they go at once). */
  private held = 0;

  constructor(
    private readonly limiter: RateLimiter,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    const limits = config.rateLimits;
    this.perIp = limiter.perMinute('red5_ip', limits.red5PerIp);
    this.perTenant = limiter.perMinute('red5_tenant', limits.red5PerTenant);
    this.gate = new TenantGate(limits.red5Concurrency, limits.red5Queue);
    this.refusalDelayMs = limits.red5RefusalDelayMs;
  }

  /** Over-budget answers held back right now (for tests and metrics). */
  heldBack(): number {
    return this.held;
  }

  /** The Express middleware (a bound function, for `app.use`). */
  readonly middleware = (req: Request, res: Response, next: NextFunction): void => {
    const m = req.method === 'POST' ? RED5_ROUTE.exec(req.path) : null;
    if (!m) return next();
    this.admit(req, res, next, m[1].toLowerCase().slice(0, 64), m[2].toLowerCase()).catch(() =>
      refuse(res),
    );
  };

  /**
   * An over-budget answer is held back a little: a client that floods in a loop then spends its
   * connections waiting instead of making this process answer refusals as fast as it can (which
   * alone would saturate the event loop and slow every other tenant). Bounded, so a flood from
   * many connections cannot pile up timers: past the cap, answers go at once.
   */
  private refuseLater(res: Response): void {
    if (this.refusalDelayMs === 0 || this.held >= MAX_HELD) return refuse(res);
    this.held++;
    const timer = setTimeout(() => {
      res.off('close', gone);
      this.held--;
      refuse(res);
    }, this.refusalDelayMs);
    const gone = (): void => {
      clearTimeout(timer);
      this.held--;
    };
    res.once('close', gone);
  }

  private async admit(
    req: Request,
    res: Response,
    next: NextFunction,
    slug: string,
    verb: string,
  ): Promise<void> {
    const ip = req.ip ?? null;
    const where = {
      route: `POST /t/:tenantSlug/red5/${verb}Credentials`,
      clientIp: ip,
      tenantSlug: slug,
    };
    const [byIp, byTenant] = await Promise.all([
      this.limiter.consume(this.perIp, clientKey(ip), where),
      this.limiter.consume(this.perTenant, slug, where),
    ]);
    if (byIp > 0 || byTenant > 0) return this.refuseLater(res);
    const admitted = await this.gate.run(
      slug,
      () =>
        new Promise<true>((resolve) => {
          // A client that left while it waited in the queue: nothing to answer, the slot passes on
          // (waiting for its 'close', which has already fired, would hold the slot forever).
          if (res.closed || req.socket.destroyed) return resolve(true);
          // The slot is held until the decision is made (the lookup: what the gate protects),
          // else until the answer is out or the client is gone. Waiting for the audit batch to
          // commit holds no database connection, so it need not hold a slot either.
          req.red5Decided = () => resolve(true);
          res.once('close', () => resolve(true));
          next();
        }),
      false,
    );
    if (!admitted) {
      this.limiter.noteRejection('red5_concurrency', slug, where);
      refuse(res);
    }
  }
}

const MAX_HELD = 10_000;

function refuse(res: Response): void {
  if (res.headersSent) return;
  // The unread body is discarded by Node once the answer is finished (keep-alive stays usable).
  res.status(200).type('application/json').send(REFUSED);
}
