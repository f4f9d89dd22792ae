import { TtlLru } from './ttl-lru';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe('TtlLru', () => {
  it('should serve a stored value until its TTL ends, then forget it', () => {
    const c = clock();
    const lru = new TtlLru<string>({ maxEntries: 10, ttlMs: 1000, now: c.now });
    expect(lru.setIfCurrent('a', 'A', lru.epoch)).toBe(true);
    c.advance(999);
    expect(lru.get('a')).toBe('A');
    c.advance(1);
    expect(lru.get('a')).toBeUndefined();
    expect(lru.size).toBe(0);
  });

  it('should drop the least recently used entry when a fill goes past maxEntries', () => {
    const lru = new TtlLru<number>({ maxEntries: 3, ttlMs: 60_000 });
    for (const k of ['a', 'b', 'c']) lru.setIfCurrent(k, 1, lru.epoch);
    expect(lru.get('a')).toBe(1); // a is now the most recently used; b the least
    lru.setIfCurrent('d', 1, lru.epoch);
    expect(lru.size).toBe(3);
    expect(lru.get('b')).toBeUndefined();
    expect(['a', 'c', 'd'].map((k) => lru.get(k))).toEqual([1, 1, 1]);
  });

  it('should not keep a fill when an entry was removed while its value was loading', () => {
    const lru = new TtlLru<string>({ maxEntries: 10, ttlMs: 60_000 });
    const before = lru.epoch; // read before the (database) load
    lru.delete('other-key'); // an invalidation lands while the load runs
    expect(lru.setIfCurrent('k', 'stale', before)).toBe(false);
    expect(lru.get('k')).toBeUndefined();
    expect(lru.setIfCurrent('k', 'fresh', lru.epoch)).toBe(true);
    expect(lru.get('k')).toBe('fresh');
  });

  it('should advance the epoch on deleteWhere and clear, but not when an entry merely expires', () => {
    const c = clock();
    const lru = new TtlLru<{ tenant: string }>({ maxEntries: 10, ttlMs: 100, now: c.now });
    lru.setIfCurrent('x', { tenant: 't1' }, lru.epoch);
    lru.setIfCurrent('y', { tenant: 't2' }, lru.epoch);
    lru.setIfCurrent('z', { tenant: 't1' }, lru.epoch);
    let e = lru.epoch;
    expect(lru.deleteWhere((v) => v.tenant === 't1')).toBe(2);
    expect(lru.epoch).toBeGreaterThan(e);
    expect(lru.get('y')).toEqual({ tenant: 't2' });
    e = lru.epoch;
    c.advance(100);
    expect(lru.get('y')).toBeUndefined();
    expect(lru.epoch).toBe(e);
    lru.clear();
    expect(lru.epoch).toBeGreaterThan(e);
  });

  it('should match deleteWhere on the key as well as the value', () => {
    const lru = new TtlLru<number>({ maxEntries: 10, ttlMs: 60_000 });
    lru.setIfCurrent('d|t1|AGORA', 1, lru.epoch);
    lru.setIfCurrent('i|t1|c1', 2, lru.epoch);
    lru.setIfCurrent('d|t2|AGORA', 3, lru.epoch);
    lru.deleteWhere((_, key) => key.startsWith('d|t1|'));
    expect([lru.get('d|t1|AGORA'), lru.get('i|t1|c1'), lru.get('d|t2|AGORA')]).toEqual([
      undefined,
      2,
      3,
    ]);
  });

  it('should store nothing when ttlMs is 0', () => {
    const lru = new TtlLru<number>({ maxEntries: 10, ttlMs: 0 });
    expect(lru.setIfCurrent('a', 1, lru.epoch)).toBe(false);
    expect(lru.get('a')).toBeUndefined();
  });

  it('should refuse a size below one or a negative TTL', () => {
    expect(() => new TtlLru({ maxEntries: 0, ttlMs: 1 })).toThrow(RangeError);
    expect(() => new TtlLru({ maxEntries: 1, ttlMs: -1 })).toThrow(RangeError);
  });
});
