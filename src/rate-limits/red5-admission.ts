import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { RateLimiter, type Rule, clientKey } from './rate-limiter.service';
import { TenantGate } from './tenant-gate';

/**
 * Admission for the public Red5 routes, the first step of the Red5 lane (compat/red5-lane): before
 * the request id, the access log and the body read. Red5 floods are the cheapest possible work
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

  /**
   * An over-budget answer is held back a little: a client that floods in a loop then spends its
   * connections waiting instead of making this process answer refusals as fast as it can (which
   * alone would saturate the event loop and slow every other tenant). Bounded, so a flood from
   * many connections cannot pile up timers: past the cap, answers go at once.
   */
  private refuseLater(res: ServerResponse): void {
    if (this.refusalDelayMs === 0 || this.held >= MAX_HELD) return answerRed5(res, false);
    this.held++;
    const timer = setTimeout(() => {
      res.off('close', gone);
      this.held--;
      answerRed5(res, false);
    }, this.refusalDelayMs);
    const gone = (): void => {
      clearTimeout(timer);
      this.held--;
    };
    res.once('close', gone);
  }

  /**
   * Runs `decide` for a request within its budgets and its tenant's gate; answers any other itself.
   * `decide` gets the callback that frees the slot once the decision is made (the lookup: what the
   * gate protects); the slot is otherwise freed when the answer is out or the client is gone.
   * Waiting for the audit batch to commit holds no database connection, so it holds no slot.
   */
  async admit(
    req: IncomingMessage,
    res: ServerResponse,
    route: { slug: string; verb: string; ip: string | null },
    decide: (decided: () => void) => void,
  ): Promise<void> {
    const where = {
      route: `POST /t/:tenantSlug/red5/${route.verb}Credentials`,
      clientIp: route.ip,
      tenantSlug: route.slug,
    };
    const [byIp, byTenant] = await Promise.all([
      this.limiter.consume(this.perIp, clientKey(route.ip), where),
      this.limiter.consume(this.perTenant, route.slug, where),
    ]);
    if (byIp > 0 || byTenant > 0) return this.refuseLater(res);
    const admitted = await this.gate.run(
      route.slug,
      () =>
        new Promise<true>((resolve) => {
          // A client that left while it waited in the queue: nothing to answer, the slot passes on
          // (waiting for its 'close', which has already fired, would hold the slot forever).
          if (res.closed || req.socket.destroyed) return resolve(true);
          res.once('close', () => resolve(true));
          decide(() => resolve(true));
        }),
      false,
    );
    if (!admitted) {
      this.limiter.noteRejection('red5_concurrency', route.slug, where);
      answerRed5(res, false);
    }
  }
}

const MAX_HELD = 10_000;

const ANSWERS = { true: Buffer.from('{"result":true}'), false: Buffer.from('{"result":false}') };

/** Red5's only answers: HTTP 200 with `{"result": …}` (nothing once the answer has started). */
export function answerRed5(res: ServerResponse, result: boolean): void {
  if (res.headersSent) return;
  const body = ANSWERS[result ? 'true' : 'false'];
  // The unread body of a refused request is discarded by Node once the answer is finished
  // (keep-alive stays usable).
  res.writeHead(200, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': body.length,
  });
  res.end(body);
}
