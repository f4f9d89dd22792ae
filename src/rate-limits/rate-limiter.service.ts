import { createHash } from 'node:crypto';
import { isIPv6 } from 'node:net';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig, type RateLimitsSection } from '../common/config';
import { DomainException } from '../common/errors';
import { type Rejection, RateLimitAudit } from './rate-limit-audit.service';
import { RateLimitStorage } from './rate-limit.storage';

/** A fixed budget: `limit` requests per `windowMs`; past it the key is blocked until the window ends. */
export interface Rule {
  name: string;
  limit: number;
  windowMs: number;
}

/** A credential-failure lock: `threshold` failures of one `kind` and `id` in the failure window. */
export interface LockScope {
  kind: 'account' | 'email' | 'api_key' | 'ip_failures';
  id: string;
  threshold: number;
}

/** Where a refusal happened, for its audit summary. */
export type RejectionContext = Omit<Rejection, 'scope' | 'source'>;

const MINUTE_MS = 60_000;

/**
 * The client an IP budget belongs to: an IPv4 address as is (IPv4-mapped IPv6 too), an IPv6
 * address by its /64 — one subscriber or host usually holds a whole /64, and counting each of its
 * 2^64 addresses apart would make per-IP limits meaningless.
 */
export function clientKey(ip: string | null | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip;
  const [head, tail = ''] = ip.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
/** Larger than any real count: "never block on this call". */
const UNLIMITED = 1e12;
/** Remembered key digests; past this many the memo starts over (ids can come from clients). */
const MAX_DIGESTS = 10_000;
/** How long a lock's growth is remembered: a lock within a day of the previous one doubles it. */
const STRIKE_MEMORY_MS = 86_400_000;

/**
 * Counts requests and credential failures in the throttler storage (in memory, or Redis shared by
 * every instance) and decides refusals. Every check happens before any database work; a refusal
 * is noted for a per-minute audit summary, never audited one by one.
 */
@Injectable()
export class RateLimiter {
  private readonly limits: RateLimitsSection;
  /** Key digests of ids seen lately (a digest never changes; the hot path counts 2-4 keys). */
  private readonly digests = new Map<string, string>();

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly storage: RateLimitStorage,
    private readonly audit: RateLimitAudit,
  ) {
    this.limits = config.rateLimits;
  }

  /** A per-minute rule with the configured limit. */
  perMinute(name: string, limit: number): Rule {
    return { name, limit, windowMs: MINUTE_MS };
  }

  /**
   * Counts one request against `rule` for `id`. Returns 0 when allowed, else the seconds until a
   * retry may succeed (and notes the refusal for the audit summary).
   */
  async consume(rule: Rule, id: string, where: RejectionContext, source = id): Promise<number> {
    const r = await this.storage.increment(
      this.key(rule.name, id),
      rule.windowMs,
      rule.limit,
      rule.windowMs,
      rule.name,
    );
    if (!r.isBlocked) return 0;
    this.audit.note({ ...where, scope: rule.name, source });
    return Math.max(1, r.timeToBlockExpire);
  }

  /** Notes a refusal decided elsewhere (e.g. a full per-tenant gate) for the audit summary. */
  noteRejection(scope: string, source: string, where: RejectionContext): void {
    this.audit.note({ ...where, scope, source });
  }

  /** `consume`, throwing RATE_LIMITED with `retryAfter` when refused. */
  async enforce(rule: Rule, id: string, where: RejectionContext, source = id): Promise<void> {
    const retryAfter = await this.consume(rule, id, where, source);
    if (retryAfter > 0) throw DomainException.rateLimited(retryAfter, `${rule.name}_limit`);
  }

  /**
   * Throws RATE_LIMITED when any scope is locked — before the credential is even looked at, so a
   * locked account refuses the right password too, and a flood against it costs no hashing.
   */
  async assertUnlocked(scopes: LockScope[], where: RejectionContext): Promise<void> {
    const probes = await Promise.all(
      scopes.map((s) =>
        // A huge limit never blocks: this reads the block set by `lock()` without creating one.
        this.storage.increment(this.key('lock', s.kind, s.id), 1000, UNLIMITED, 1000, 'lock'),
      ),
    );
    let retryAfter = 0;
    probes.forEach((p, i) => {
      if (!p.isBlocked) return;
      retryAfter = Math.max(retryAfter, p.timeToBlockExpire, 1);
      this.audit.note({ ...where, scope: `${scopes[i].kind}_locked`, source: scopes[i].id });
    });
    if (retryAfter > 0) throw DomainException.rateLimited(retryAfter, 'locked');
  }

  /**
   * Counts a failed credential in each scope. Reaching the threshold within the failure window
   * locks the scope for `ROOMKEY_RATE_LIMIT_LOCK_SECONDS`; every further failure past the
   * threshold (once the lock is over, while the window still remembers them) locks it again for
   * twice as long as the previous lock of the day, up to `ROOMKEY_RATE_LIMIT_LOCK_MAX_SECONDS`.
   */
  async recordFailure(scopes: LockScope[]): Promise<void> {
    const windowMs = this.limits.failureWindowSeconds * 1000;
    await Promise.all(
      scopes.map(async (s) => {
        const failures = await this.storage.increment(
          this.key('fail', s.kind, s.id),
          windowMs,
          UNLIMITED,
          windowMs,
          'fail',
        );
        if (failures.totalHits < s.threshold) return;
        const strikes = await this.storage.increment(
          this.key('strike', s.kind, s.id),
          STRIKE_MEMORY_MS,
          UNLIMITED,
          STRIKE_MEMORY_MS,
          'strike',
        );
        const seconds = Math.min(
          this.limits.lockSeconds * 2 ** Math.min(strikes.totalHits - 1, 30),
          this.limits.lockMaxSeconds,
        );
        await this.lock(s, seconds * 1000);
      }),
    );
  }

  /** A limit of 0 blocks on the first hit: the lock key is blocked for `ms`. */
  private async lock(s: LockScope, ms: number): Promise<void> {
    const key = this.key('lock', s.kind, s.id);
    await this.storage.increment(key, ms, 0, ms, 'lock');
  }

  /** Identifiers (emails, IPs) are hashed: the counter store never holds them in clear. */
  private key(...parts: string[]): string {
    const id = parts.pop() as string;
    let digest = this.digests.get(id);
    if (digest === undefined) {
      digest = createHash('sha256').update(id).digest('base64url').slice(0, 22);
      if (this.digests.size >= MAX_DIGESTS) this.digests.clear();
      this.digests.set(id, digest);
    }
    return `${this.limits.prefix}:${parts.join(':')}:${digest}`;
  }
}
