import { FixedWindowStore } from './fixed-window-store';

describe('FixedWindowStore', () => {
  let now: number;
  let store: FixedWindowStore;

  beforeEach(() => {
    now = 1_000_000;
    store = new FixedWindowStore(() => now);
  });

  afterEach(() => store.close());

  const hit = (limit = 3, ttl = 60_000, block = 60_000, key = 'k') =>
    store.increment(key, ttl, limit, block, 'rule');

  it('should count hits in a window that opens at the first hit and start again after it', () => {
    expect(hit()).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
    now += 30_000;
    expect(hit()).toMatchObject({ totalHits: 2, timeToExpire: 30, isBlocked: false });
    now += 30_000; // the window opened 60 s ago is over
    expect(hit()).toMatchObject({ totalHits: 1, timeToExpire: 60, isBlocked: false });
  });

  it('should block the hit past the limit and every hit until the block ends', () => {
    hit();
    hit();
    expect(hit()).toMatchObject({ totalHits: 3, isBlocked: false });
    expect(hit()).toMatchObject({ totalHits: 4, isBlocked: true, timeToBlockExpire: 60 });
    now += 45_000;
    expect(hit()).toMatchObject({ isBlocked: true, timeToBlockExpire: 15 });
    now += 15_000; // block and window are both over
    expect(hit()).toEqual({
      totalHits: 1,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('should block at the first hit when the limit is 0 (a lock), for the block duration', () => {
    expect(hit(0, 5_000, 5_000)).toMatchObject({ isBlocked: true, timeToBlockExpire: 5 });
    now += 4_000;
    // Probing the lock with a huge limit reads the block without changing it.
    expect(hit(Number.MAX_SAFE_INTEGER, 1_000, 1_000)).toMatchObject({
      isBlocked: true,
      timeToBlockExpire: 1,
    });
    now += 1_000;
    expect(hit(Number.MAX_SAFE_INTEGER, 1_000, 1_000)).toMatchObject({ isBlocked: false });
  });

  it('should block again at once when a short block ends while the window is still past the limit', () => {
    for (let i = 0; i < 4; i++) hit(3, 60_000, 10_000);
    now += 10_000; // the block is over, the window (4 hits, limit 3) is not
    expect(hit(3, 60_000, 10_000)).toMatchObject({
      totalHits: 5,
      isBlocked: true,
      timeToBlockExpire: 10,
    });
  });

  it('should keep keys and rules apart', () => {
    for (let i = 0; i < 4; i++) hit(3, 60_000, 60_000, 'a');
    expect(hit(3, 60_000, 60_000, 'b')).toMatchObject({ totalHits: 1, isBlocked: false });
    expect(store.increment('a', 60_000, 3, 60_000, 'other')).toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('should sweep out counters whose window and block are over, and keep the others', () => {
    hit(3, 1_000, 1_000, 'short');
    for (let i = 0; i < 4; i++) hit(3, 1_000, 120_000, 'blocked');
    hit(3, 60_000, 60_000, 'long');
    now += 2_000;
    store.sweep();
    expect(store.size).toBe(2);
    now += 120_000;
    store.sweep();
    expect(store.size).toBe(0);
  });
});
