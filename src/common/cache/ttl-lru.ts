/** Options of a `TtlLru`. */
export interface TtlLruOptions {
  /** Entries kept; past it the least recently used one is dropped. */
  maxEntries: number;
  /** How long an entry may be served after it was stored; 0 stores nothing. */
  ttlMs: number;
  /** Clock in milliseconds (tests). */
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

/**
 * A bounded least-recently-used map whose entries expire, with an epoch against stale fills.
 *
 * A value read from the database before an invalidation and stored after it would undo that
 * invalidation until its TTL ends. So every removal (delete, deleteWhere, clear) advances the
 * epoch, and a fill stores only when the epoch it read before its load is still current
 * (`setIfCurrent`): a load that overlapped any removal is served once and not kept. The epoch is
 * per cache, not per key — coarse, but a removal is rare next to a read.
 *
 * A JavaScript `Map` iterates in insertion order, so re-inserting on each hit keeps the least
 * recently used entry first.
 */
export class TtlLru<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private currentEpoch = 0;

  constructor(options: TtlLruOptions) {
    if (!Number.isInteger(options.maxEntries) || options.maxEntries < 1)
      throw new RangeError('maxEntries must be a positive integer');
    if (!Number.isFinite(options.ttlMs) || options.ttlMs < 0)
      throw new RangeError('ttlMs must be zero or more');
    this.maxEntries = options.maxEntries;
    this.ttlMs = options.ttlMs;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Advances on every removal; read it before a load, pass it to `setIfCurrent` after. */
  get epoch(): number {
    return this.currentEpoch;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (this.now() >= entry.expiresAt) {
      this.entries.delete(key); // expiry is not an invalidation: the epoch stays
      return undefined;
    }
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Stores `value` unless something was removed since `epoch` was read. Returns whether it did. */
  setIfCurrent(key: string, value: V, epoch: number): boolean {
    if (epoch !== this.currentEpoch || this.ttlMs === 0) return false;
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return true;
  }

  delete(key: string): void {
    this.currentEpoch++;
    this.entries.delete(key);
  }

  /** Removes every entry for which `match` is true (a linear scan: invalidations are rare). */
  deleteWhere(match: (value: V, key: string) => boolean): number {
    this.currentEpoch++;
    let n = 0;
    for (const [key, entry] of this.entries) {
      if (match(entry.value, key)) {
        this.entries.delete(key);
        n++;
      }
    }
    return n;
  }

  clear(): void {
    this.currentEpoch++;
    this.entries.clear();
  }
}
