import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { type ThrottlerStorage } from '@nestjs/throttler';
import Redis from 'ioredis';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { FixedWindowStore, type StorageRecord } from './fixed-window-store';

export { type StorageRecord } from './fixed-window-store';

/** How long a warning about Redis is held back after the previous one. */
const WARN_EVERY_MS = 30_000;

/**
 * The counter store behind every rate limit. Without `REDIS_URL`, this instance's
 * `FixedWindowStore` (the Redis script's rules in memory, O(1) per hit). With it,
 * `ThrottlerStorageRedisService` from `@nest-lab/throttler-storage-redis`, shared by every instance.
 *
 * Redis down or slow: we **fail over to this instance's in-memory counters**, never open and never
 * closed. Each command is bounded by `ROOMKEY_RATE_LIMIT_REDIS_TIMEOUT_MS` (no offline queue, no
 * retries), so a dead Redis costs at most that per check and the answer is still a typed one:
 * limits keep holding per instance (an attacker spread over N instances gets at most N times the
 * budget until Redis is back) instead of vanishing (fail open) or refusing everyone (fail closed).
 */
@Injectable()
export class RateLimitStorage implements ThrottlerStorage, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('RateLimits');
  private readonly memory = new FixedWindowStore();
  private readonly redis: Redis | null;
  private readonly shared: ThrottlerStorageRedisService | null;
  private readonly timeoutMs: number;
  private lastWarning = 0;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const { redisUrl, redisTimeoutMs } = config.rateLimits;
    this.timeoutMs = redisTimeoutMs;
    if (!redisUrl) {
      this.redis = null;
      this.shared = null;
      return;
    }
    this.redis = new Redis(redisUrl, {
      lazyConnect: true,
      enableOfflineQueue: false, // a command while disconnected fails at once instead of waiting
      maxRetriesPerRequest: 0,
      commandTimeout: redisTimeoutMs,
      connectTimeout: Math.max(1000, redisTimeoutMs),
      retryStrategy: (times) => Math.min(200 * times, 2000), // keep reconnecting in the background
    });
    this.redis.on('error', (err: Error) => this.warn(err, 'Redis connection error'));
    this.shared = new ThrottlerStorageRedisService(this.redis);
  }

  /** True when counters are meant to be shared through Redis (whether or not it answers now). */
  get usesRedis(): boolean {
    return this.shared !== null;
  }

  /** Connects before the first request, so counters are shared from the start; never blocks boot. */
  async onModuleInit(): Promise<void> {
    if (!this.redis) return;
    try {
      await withTimeout(this.redis.connect(), Math.max(1000, this.timeoutMs * 4));
    } catch (err) {
      this.warn(err, 'Redis unreachable at start: rate limits use per-instance counters for now');
    }
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<StorageRecord> {
    if (this.shared) {
      try {
        return await withTimeout(
          this.shared.increment(key, ttl, limit, blockDuration, throttlerName),
          this.timeoutMs,
        );
      } catch (err) {
        this.warn(err, 'Redis rate-limit command failed: using per-instance counters');
      }
    }
    return this.memory.increment(key, ttl, limit, blockDuration, throttlerName);
  }

  onApplicationShutdown(): void {
    this.memory.close();
    this.redis?.disconnect(false);
  }

  private warn(err: unknown, message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_EVERY_MS) return;
    this.lastWarning = now;
    this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, message);
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
