import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { type DataSource, type Repository } from 'typeorm';
import { type AuditService } from '../audit/audit.service';
import { MemberRole } from '../common/auth/roles';
import { Caches } from '../common/cache/caches';
import { LocalInvalidationBus } from '../common/cache/invalidation-bus';
import { type AppConfig } from '../common/config';
import { type ApiKey } from './api-key.entity';
import { ApiKeysService } from './api-keys.service';

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** One stored key, and the service over a repository that holds only it. */
function world(opts: { serve?: boolean; expiresAt?: Date | null } = {}) {
  const secret = randomBytes(32).toString('base64url');
  const row = {
    id: '11111111-1111-4111-8111-111111111111',
    keyId: `rk_${randomBytes(12).toString('hex')}`,
    tenantId: '22222222-2222-4222-8222-222222222222',
    tenant: { slug: 'acme' },
    role: MemberRole.MEMBER,
    secretHash: sha256(secret),
    expiresAt: opts.expiresAt ?? null,
    revokedAt: null as Date | null,
    lastUsedAt: new Date(), // recent: no lastUsedAt write in these tests
  };
  const findOne = jest.fn(({ where }: { where: { keyId: string } }) =>
    Promise.resolve(where.keyId === row.keyId ? { ...row } : null),
  );
  const repo = { findOne, update: jest.fn() } as unknown as Repository<ApiKey>;
  const ds = { subscribers: [], query: jest.fn() };
  const bus = new LocalInvalidationBus(ds, opts.serve ?? true);
  const config = { cache: { ttlMs: 30_000, maxEntries: 100, busHeartbeatMs: 5000 } } as AppConfig;
  const caches = new Caches(bus, config);
  const service = new ApiKeysService(repo, ds as unknown as DataSource, {} as AuditService, caches);
  return { service, row, secret, findOne, caches };
}

describe('ApiKeysService.check with the principal cache', () => {
  afterEach(() => jest.useRealTimers());

  it('should look the key up once when the same id and secret are presented twice', async () => {
    const { service, row, secret, findOne } = world();
    const first = await service.check(row.keyId, secret);
    const second = await service.check(row.keyId, secret);
    expect(first).toMatchObject({ ok: true, key: { id: row.id, tenantSlug: 'acme' } });
    expect(second).toEqual(first);
    expect(findOne).toHaveBeenCalledTimes(1);
  });

  it('should check a wrong secret against the stored hash and fail it when the key id is cached', async () => {
    const { service, row, secret, findOne } = world();
    await service.check(row.keyId, secret);
    for (const wrong of [`${secret}x`, secret.slice(0, -1), '', `${secret}:${secret}`]) {
      expect(await service.check(row.keyId, wrong)).toEqual({
        ok: false,
        reason: 'bad_secret',
        tenantId: row.tenantId,
        keyId: row.keyId,
      });
    }
    expect(findOne).toHaveBeenCalledTimes(5);
  });

  it('should not serve a key from the cache once its revocation is published', async () => {
    const { service, row, secret, findOne, caches } = world();
    await service.check(row.keyId, secret);
    row.revokedAt = new Date();
    await caches.publish(null, { kind: 'api_key', id: row.id });
    expect(await service.check(row.keyId, secret)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(await service.check(row.keyId, secret)).toMatchObject({ ok: false, reason: 'revoked' });
    expect(findOne).toHaveBeenCalledTimes(3); // a refusal is never cached
  });

  it('should refuse a cached key once its expiry passes', async () => {
    jest.useFakeTimers({ now: new Date('2030-01-01T00:00:00Z') });
    const { service, row, secret, findOne } = world({
      expiresAt: new Date('2030-01-01T00:00:01Z'),
    });
    expect(await service.check(row.keyId, secret)).toMatchObject({ ok: true });
    jest.setSystemTime(new Date('2030-01-01T00:00:01Z'));
    expect(await service.check(row.keyId, secret)).toEqual({
      ok: false,
      reason: 'expired',
      tenantId: row.tenantId,
      keyId: row.keyId,
    });
    expect(findOne).toHaveBeenCalledTimes(1); // refused from the cached expiry itself
  });

  it('should go to the database every time while the invalidation bus is down', async () => {
    const { service, row, secret, findOne } = world({ serve: false });
    await service.check(row.keyId, secret);
    await service.check(row.keyId, secret);
    expect(findOne).toHaveBeenCalledTimes(2);
  });

  it('should keep neither the secret nor its SHA-256 in the cache', async () => {
    const { service, row, secret } = world();
    await service.check(row.keyId, secret);
    const held = inspect((service as unknown as { verified: unknown }).verified, {
      depth: 10,
      showHidden: true,
    });
    expect(held).toContain(row.id); // the cache really is what was inspected
    for (const form of [secret, sha256(secret).toString('hex'), sha256(secret).toString('base64')])
      expect(held).not.toContain(form);
  });
});
