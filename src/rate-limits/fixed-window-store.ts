import { type ThrottlerStorage } from '@nestjs/throttler';

export type StorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

interface Counter {
  hits: number;
  /** When the current window ends (ms since the epoch). */
  windowEnds: number;
  /** When the current block ends; 0 = not blocked. */
  blockEnds: number;
}

/** How often expired counters are swept out. */
const SWEEP_EVERY_MS = 10_000;

/**
 * This instance's rate-limit counters: a fixed window per key that opens at its first hit, and a
 * block once the window's hits pass the limit — the same rules, step for step, as the Redis script
 * of `@nest-lab/throttler-storage-redis`, so limits behave alike with and without Redis (and
 * across a failover between them). O(1) per hit: `@nestjs/throttler`'s own in-memory store keeps
 * one timestamp per hit and filters the whole list on every hit, which at a limit of 10,000 a
 * minute costs each request tens of thousands of copies and most of the garbage collector's time.
 */
export class FixedWindowStore {
  private readonly counters = new Map<string, Counter>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  increment(
    key: string,
    ttlMs: number,
    limit: number,
    blockDurationMs: number,
    throttlerName: string,
  ): StorageRecord {
    this.ensureSweeper();
    const now = this.now();
    const id = `${key}\u0000${throttlerName}`;
    let c = this.counters.get(id);
    if (!c) this.counters.set(id, (c = { hits: 0, windowEnds: 0, blockEnds: 0 }));
    if (c.windowEnds <= now) {
      c.hits = 0;
      c.windowEnds = now + ttlMs;
    }
    c.hits++;
    // An expired block is gone (its Redis key has expired); past the limit, a new block starts.
    if (c.blockEnds !== 0 && c.blockEnds <= now) c.blockEnds = 0;
    if (c.blockEnds === 0 && c.hits > limit) c.blockEnds = now + blockDurationMs;
    const blocked = c.blockEnds !== 0;
    return {
      totalHits: c.hits,
      timeToExpire: Math.ceil((c.windowEnds - now) / 1000),
      isBlocked: blocked,
      timeToBlockExpire: blocked ? Math.ceil((c.blockEnds - now) / 1000) : 0,
    };
  }

  /** Counters kept right now (for tests). */
  get size(): number {
    return this.counters.size;
  }

  /** Drops counters whose window and block are both over. */
  sweep(): void {
    const now = this.now();
    for (const [id, c] of this.counters) {
      if (c.windowEnds <= now && c.blockEnds <= now) this.counters.delete(id);
    }
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
    this.counters.clear();
  }

  private ensureSweeper(): void {
    if (this.sweeper) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_EVERY_MS);
    this.sweeper.unref();
  }
}
