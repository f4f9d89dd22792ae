import { Inject, Injectable } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '../config';
import { type Invalidation } from './invalidation';
import { InvalidationBus } from './invalidation-bus';
import { TtlLru } from './ttl-lru';

/** Decides which entries of one cache an invalidation removes. */
export type Invalidator<V> = (
  cache: TtlLru<V>,
  event: Exclude<Invalidation, { kind: 'all' }>,
) => void;

/**
 * One cache of the hot path: a `TtlLru` that is read and filled only while the invalidation bus
 * is connected, and that the bus empties as the data behind it changes.
 */
export class BusCache<V> {
  constructor(
    private readonly lru: TtlLru<V>,
    private readonly bus: InvalidationBus,
  ) {}

  get size(): number {
    return this.lru.size;
  }

  /** Read before the load whose result `fill` may keep. */
  get epoch(): number {
    return this.lru.epoch;
  }

  get(key: string): V | undefined {
    return this.bus.connected ? this.lru.get(key) : undefined;
  }

  /** Keeps a value loaded after `epoch` was read, unless something was invalidated meanwhile. */
  fill(key: string, value: V, epoch: number): void {
    if (this.bus.connected) this.lru.setIfCurrent(key, value, epoch);
  }

  /** The cached value, or `load()`'s, kept when it is not null. */
  async getOrLoad(key: string, load: () => Promise<V | null>): Promise<V | null> {
    const hit = this.get(key);
    if (hit !== undefined) return hit;
    const epoch = this.lru.epoch;
    const value = await load();
    if (value !== null) this.fill(key, value, epoch);
    return value;
  }
}

/** Creates the hot path's caches and publishes the changes that empty them. */
@Injectable()
export class Caches {
  constructor(
    private readonly bus: InvalidationBus,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  create<V>(invalidate: Invalidator<V>): BusCache<V> {
    const lru = new TtlLru<V>({
      maxEntries: this.config.cache.maxEntries,
      ttlMs: this.config.cache.ttlMs,
    });
    this.bus.subscribe((events) => {
      for (const e of events) {
        if (e.kind === 'all') lru.clear();
        else invalidate(lru, e);
      }
    });
    return new BusCache(lru, this.bus);
  }

  /**
   * Tells every instance (this one included) what changed. Pass the transaction that makes the
   * change: the message commits with it, and this instance drops its entries right after COMMIT.
   */
  publish(m: EntityManager | null, ...events: Invalidation[]): Promise<void> {
    return this.bus.publish(m, ...events);
  }
}
