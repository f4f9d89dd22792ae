import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import { type AuditActor } from '../audit/audit-actor';
import { AuditService } from '../audit/audit.service';
import { MinuteSummaries, type MinuteSummary } from '../audit/minute-summaries';
import { type AuthenticatedPrincipal } from '../common/auth/principal';
import { MetricsService } from '../common/metrics/metrics.service';
import { countAuthOutcome } from './authentication-failed';

/** Distinct principals counted per minute and instance; past it, new ones share an overflow. */
const MAX_WINDOWS = 10_000;
const OVERFLOW = '*overflow*';

/**
 * Audits the authentication of ordinary requests (Basic, Roomkey bearer, external JWT) as one
 * `auth.succeeded.summary` per principal and minute, never one event per request: the guard runs
 * on every call, and an append per call would put the audit log on the hot path of every tenant.
 *
 * `note()` only counts in memory. Each (tenant, actor type, actor id, method, minute) window
 * becomes ONE event in the principal's tenant chain, actor = the principal, with
 * `{ method, count, from, to }`, appended once the minute has closed (a sweep every 10 s) or when
 * the application shuts down. Interactive sign-ins are not counted here: a login or SSO callback
 * keeps its `auth.login.succeeded`, a refresh its `auth.token.refreshed`, a code exchange its
 * `auth.code.exchanged` (public operations: the guard does not run for them). Costs: a crash loses the
 * open minute's counts of this instance; several instances each write their own summaries. Past
 * 10,000 open windows, new principals are folded into one `*overflow*` window per tenant, actor
 * type and method (no actor id), so memory stays bounded.
 */
@Injectable()
export class AuthSuccessSummary implements OnModuleInit, BeforeApplicationShutdown {
  private readonly summaries = new MinuteSummaries<AuditActor>({
    write: (w) => this.append(w),
    maxWindows: MAX_WINDOWS,
    overflow: (_key, a) => ({
      key: `${a.tenantId}|${a.actorType}|${OVERFLOW}|${a.authMethod}`,
      item: { ...a, actorId: null, actorLabel: OVERFLOW },
    }),
    logger: new Logger('Authentication'),
    failureMessage: 'could not write an authentication summary',
  });

  constructor(
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.summaries.start();
  }

  /**
   * Writes every open window and waits for the appends. Nest runs all `beforeApplicationShutdown`
   * hooks before any `onApplicationShutdown` (where TypeORM closes the database), so these appends
   * land whether or not AuditService has already waited for its own queue.
   */
  beforeApplicationShutdown(): Promise<void> {
    return this.summaries.stop();
  }

  /**
   * Counts one authenticated request (here and in the metrics). Synchronous and I/O-free: the
   * guard's hot path.
   */
  note(p: AuthenticatedPrincipal): void {
    countAuthOutcome(this.metrics, p.authMethod, null);
    this.summaries.note(`${p.tenantId}|${p.actorType}|${p.actorId}|${p.authMethod}`, {
      tenantId: p.tenantId,
      actorType: p.actorType,
      actorId: p.actorId,
      actorLabel: p.actorLabel,
      authMethod: p.authMethod,
      // A summary spans many requests: none of their ids, addresses or agents speaks for it.
      requestId: null,
      clientIp: null,
      userAgent: null,
    });
  }

  /** Writes the closed windows (every window with `all`). For tests and shutdown. */
  flush(all = true): Promise<void> {
    return this.summaries.flush(all);
  }

  private async append(w: MinuteSummary<AuditActor>): Promise<void> {
    await this.audit.record(null, w.first, {
      action: 'auth.succeeded.summary',
      metadata: {
        method: w.first.authMethod,
        count: w.count,
        from: new Date(w.from).toISOString(),
        to: new Date(w.to).toISOString(),
      },
    });
  }
}
