import { loadConfig } from '../common/config';
import { DomainException, ErrorCode } from '../common/errors';
import { type RateLimitAudit } from './rate-limit-audit.service';
import { RateLimitStorage } from './rate-limit.storage';
import { type LockScope, RateLimiter, clientKey } from './rate-limiter.service';

/** Seconds until the scope unlocks (0 when it is not locked). */
async function lockedFor(limiter: RateLimiter, scope: LockScope): Promise<number> {
  try {
    await limiter.assertUnlocked([scope], { route: 'test', clientIp: null });
    return 0;
  } catch (err) {
    expect(err).toBeInstanceOf(DomainException);
    expect((err as DomainException).code).toBe(ErrorCode.RATE_LIMITED);
    return (err as DomainException).retryAfter ?? -1;
  }
}

describe('RateLimiter', () => {
  let storage: RateLimitStorage;
  let limiter: RateLimiter;
  const notes: unknown[] = [];

  beforeEach(() => {
    jest.useFakeTimers({ now: new Date('2026-01-01T00:00:00Z') });
    const config = loadConfig({
      ROOMKEY_RATE_LIMIT_LOCK_SECONDS: '60',
      ROOMKEY_RATE_LIMIT_LOCK_MAX_SECONDS: '200',
      ROOMKEY_RATE_LIMIT_FAILURE_WINDOW_SECONDS: '3600',
    });
    storage = new RateLimitStorage(config);
    notes.length = 0;
    const audit = { note: (r: unknown) => notes.push(r) } as unknown as RateLimitAudit;
    limiter = new RateLimiter(config, storage, audit);
  });
  afterEach(() => {
    storage.onApplicationShutdown();
    jest.useRealTimers();
  });

  it('should lock at the threshold and double each further lock up to the maximum when failures go on', async () => {
    const scope: LockScope = { kind: 'account', id: 'demo:alice@example.test', threshold: 3 };
    await limiter.recordFailure([scope]);
    await limiter.recordFailure([scope]);
    expect(await lockedFor(limiter, scope)).toBe(0);
    await limiter.recordFailure([scope]);
    expect(await lockedFor(limiter, scope)).toBe(60);

    const seen: number[] = [];
    for (const wait of [61, 121, 201, 201]) {
      jest.advanceTimersByTime(wait * 1000);
      expect(await lockedFor(limiter, scope)).toBe(0);
      await limiter.recordFailure([scope]); // one more failure, still inside the window
      seen.push(await lockedFor(limiter, scope));
    }
    expect(seen).toEqual([120, 200, 200, 200]);
    expect(notes.length).toBeGreaterThan(0);
  });

  it('should not lock another scope when one scope is locked', async () => {
    const a: LockScope = { kind: 'api_key', id: 'rk_a', threshold: 1 };
    const b: LockScope = { kind: 'api_key', id: 'rk_b', threshold: 1 };
    await limiter.recordFailure([a]);
    expect(await lockedFor(limiter, a)).toBe(60);
    expect(await lockedFor(limiter, b)).toBe(0);
  });

  it('should refuse past the budget with the seconds left when a per-minute rule is exceeded', async () => {
    const rule = limiter.perMinute('ip_login', 2);
    const where = { route: 'graphql:login', clientIp: '192.0.2.1' };
    expect(await limiter.consume(rule, '192.0.2.1', where)).toBe(0);
    expect(await limiter.consume(rule, '192.0.2.1', where)).toBe(0);
    expect(await limiter.consume(rule, '192.0.2.1', where)).toBe(60);
    expect(await limiter.consume(rule, '192.0.2.2', where)).toBe(0);
    expect(notes).toEqual([{ ...where, scope: 'ip_login', source: '192.0.2.1' }]);
  });

  it('should keep counting an id as one key after more distinct ids than the digest memo holds', async () => {
    const rule = limiter.perMinute('principal', 2);
    const where = { route: 'test', clientIp: null };
    expect(await limiter.consume(rule, 'key-under-test', where)).toBe(0);
    // Past the memo's size it starts over: the id's digest is computed again, and must match.
    for (let i = 0; i < 10_050; i++) await limiter.consume(rule, `other-${i}`, where);
    expect(await limiter.consume(rule, 'key-under-test', where)).toBe(0);
    expect(await limiter.consume(rule, 'key-under-test', where)).toBe(60);
  });
});

describe('clientKey', () => {
  it.each([
    ['192.0.2.7', '192.0.2.7'],
    ['::ffff:192.0.2.7', '192.0.2.7'],
    ['2001:db8:1:2:aaaa:bbbb:cccc:dddd', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::1', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:0:0:0:9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [null, 'unknown'],
  ])('should map %s to %s when keying a per-IP budget', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});
