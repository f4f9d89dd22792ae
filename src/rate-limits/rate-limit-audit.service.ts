import {
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import { AuditOutcome } from '../audit/audit-event.entity';
import { AuditService } from '../audit/audit.service';
import { MinuteSummaries, type MinuteSummary } from '../audit/minute-summaries';
import { ActorType, AuthMethod } from '../common/auth/roles';
import { ErrorCode } from '../common/errors';
import { codeName, rateLimitLane } from '../common/metrics/labels';
import { MetricsService } from '../common/metrics/metrics.service';
import { TenantDirectory } from '../tenants/tenant-directory';

/** One refused request, as the limiter saw it. Nothing here is a secret. */
export interface Rejection {
  /** Which limit: `ip`, `account`, `api_key`, `ip_failures`, `principal`, `tenant`, `red5_ip`… */
  scope: string;
  /** What was limited: an IP, an email, an API key id, a principal label, a tenant slug. */
  source: string;
  /** GraphQL root field (`graphql:login`) or HTTP route (`POST /t/:tenantSlug/red5/…`). */
  route: string;
  clientIp: string | null;
  /** The chain to write to: a tenant id, a slug resolved at flush time, or neither (platform). */
  tenantId?: string | null;
  tenantSlug?: string | null;
  actorType?: ActorType;
}

/** Distinct (source, route, minute) windows kept; past it new sources share one overflow window. */
const MAX_WINDOWS = 10_000;
const OVERFLOW = '*overflow*';

/**
 * Audits refused requests as summaries, never one event per refusal (a flood must not become a
 * flood of audit appends, which would slow every tenant sharing the database).
 *
 * Design: `note()` only counts in memory. Each (chain, scope, source, route, minute) window becomes
 * ONE `rate_limit.exceeded` event, appended when its minute has closed (a sweep every 10 s) or when
 * the application shuts down, with the number of refusals in `metadata.count`. The chain is
 * append-only, so the count is written once, complete, rather than updated. Costs: a summary shows
 * up to ~70 s after its first refusal, and a crash loses the open windows; with several instances
 * each writes its own summaries. Past 10,000 open windows (an IP-rotating flood) new sources are
 * folded into one `*overflow*` window per chain, scope and route, so memory stays bounded.
 */
@Injectable()
export class RateLimitAudit implements OnModuleInit, BeforeApplicationShutdown {
  private readonly summaries = new MinuteSummaries<Rejection>({
    write: (w) => this.append(w),
    maxWindows: MAX_WINDOWS,
    overflow: (_key, r) => ({
      key: `${chainOf(r)}|${r.scope}|${r.route}|${OVERFLOW}`,
      item: { ...r, source: OVERFLOW, clientIp: null },
    }),
    logger: new Logger('RateLimits'),
    failureMessage: 'could not write a rate-limit summary',
  });

  constructor(
    private readonly audit: AuditService,
    private readonly slugs: TenantDirectory,
    private readonly metrics: MetricsService,
  ) {}

  onModuleInit(): void {
    this.summaries.start();
  }

  beforeApplicationShutdown(): Promise<void> {
    return this.summaries.stop();
  }

  /**
   * Counts one refusal (every refusal of the limiter passes here, also for the metrics).
   * Synchronous and I/O-free: safe on the hot path of a flood.
   */
  note(r: Rejection): void {
    this.metrics.rateLimitRejections.of(codeName(r.scope), rateLimitLane(r.route)).inc();
    this.summaries.note(`${chainOf(r)}|${r.scope}|${r.route}|${r.source}`, r);
  }

  /** Writes the closed windows (every window with `all`). Serialised: one flush at a time. */
  flush(all = true): Promise<void> {
    return this.summaries.flush(all);
  }

  private async append(w: MinuteSummary<Rejection>): Promise<void> {
    const r = w.first;
    const tenantId = r.tenantId ?? (r.tenantSlug ? await this.slugs.idOf(r.tenantSlug) : null);
    await this.audit.recordQuietly(
      {
        tenantId,
        actorType: r.actorType ?? ActorType.ANONYMOUS,
        actorId: null,
        actorLabel: r.source,
        authMethod: AuthMethod.NONE,
        requestId: null,
        clientIp: r.clientIp,
        userAgent: null,
      },
      {
        action: 'rate_limit.exceeded',
        outcome: AuditOutcome.DENIED,
        errorCode: ErrorCode.RATE_LIMITED,
        metadata: {
          scope: r.scope,
          route: r.route,
          windowStart: new Date(w.from).toISOString(),
          windowSeconds: (w.to - w.from) / 1000,
          count: w.count,
        },
      },
    );
  }
}

/** The chain a refusal is summarised in: a tenant id, a slug still to resolve, or the platform. */
function chainOf(r: Rejection): string {
  return r.tenantId ?? (r.tenantSlug ? `slug:${r.tenantSlug}` : '-');
}
