import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, IsNull, Repository } from 'typeorm';
import { AuditService } from '../audit/audit.service';
import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { type BusCache, Caches } from '../common/cache';
import { type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { paginate, type Page, type PageArgs } from '../common/graphql/pagination';
import { validateName } from '../tenants/slug';
import { ApiKey } from './api-key.entity';

export const API_KEY_PREFIX = 'rk_';
const KEY_ID = /^rk_[0-9a-f]{24}$/;
/** `lastUsedAt` is written at most this often per key, not on every request. */
const LAST_USED_RESOLUTION_MS = 60_000;
const DUMMY_HASH = createHash('sha256').update('roomkey-dummy').digest();

export interface CreateApiKeyData {
  name: string;
  role: MemberRole;
  expiresAt?: Date | null;
}

/** A key whose secret was verified: what a principal is built from (no secret, no hash). */
export interface VerifiedApiKey {
  id: string;
  keyId: string;
  tenantId: string;
  tenantSlug: string;
  role: MemberRole;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export type ApiKeyCheck =
  | { ok: true; key: VerifiedApiKey }
  | {
      ok: false;
      reason: 'unknown_key' | 'bad_secret' | 'revoked' | 'expired';
      /** Set when the key id exists, so the failure is audited in that tenant's log. */
      tenantId: string | null;
      keyId: string | null;
    };

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();
const expired = (k: { expiresAt: Date | null }): boolean =>
  k.expiresAt !== null && k.expiresAt.getTime() <= Date.now();

@Injectable()
export class ApiKeysService {
  private readonly logger = new Logger(ApiKeysService.name);
  private readonly lastTouched = new Map<string, number>();
  /**
   * Keys whose secret was verified, by HMAC (under a key made at start and never kept) of the
   * exact id and secret presented. Only a successful check fills it, so a hit proves that this
   * very secret was verified against the stored hash moments ago; any other secret misses and
   * is checked, and counted, as before. Revoking a key drops it in every instance.
   */
  private readonly verified: BusCache<VerifiedApiKey>;
  private readonly cacheKeyKey = randomBytes(32);

  constructor(
    @InjectRepository(ApiKey) private readonly keys: Repository<ApiKey>,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly audit: AuditService,
    private readonly caches: Caches,
  ) {
    this.verified = caches.create<VerifiedApiKey>((lru, e) => {
      if (e.kind === 'api_key') lru.deleteWhere((k) => k.id === e.id);
      if (e.kind === 'tenant')
        lru.deleteWhere((k) => k.tenantId === e.id || k.tenantSlug === e.slug);
    });
  }

  list<N>(ctx: RequestContext, args: PageArgs, toNode: (k: ApiKey) => N): Promise<Page<N>> {
    const qb = this.keys
      .createQueryBuilder('k')
      .where('k.tenantId = :tenantId', { tenantId: ctx.tenantId });
    return paginate(qb, args, 'createdAt', toNode);
  }

  /** Creates a key and returns its secret, which is never retrievable again. */
  async create(
    ctx: RequestContext,
    data: CreateApiKeyData,
  ): Promise<{ apiKey: ApiKey; secret: string }> {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN))
      throw DomainException.forbidden('Only OWNER or ADMIN can create API keys');
    if (!roleAtLeast(ctx.role, data.role)) {
      throw DomainException.forbidden(
        `A ${ctx.role} cannot create a ${data.role} key`,
        'role_too_high',
      );
    }
    if (data.expiresAt && data.expiresAt.getTime() <= Date.now()) {
      throw DomainException.badInput('expiresAt', 'expiresAt must be in the future');
    }
    const secret = randomBytes(32).toString('base64url');
    return this.ds.transaction(async (m) => {
      const apiKey = await m.save(
        m.create(ApiKey, {
          tenantId: ctx.tenantId,
          keyId: API_KEY_PREFIX + randomBytes(12).toString('hex'),
          name: validateName(data.name),
          role: data.role,
          secretHash: sha256(secret),
          createdByUserId: ctx.userId,
          expiresAt: data.expiresAt ?? null,
          revokedAt: null,
          lastUsedAt: null,
        }),
      );
      await this.audit.record(m, ctx, {
        action: 'api_key.created',
        targetType: 'api_key',
        targetId: apiKey.id,
        metadata: {
          keyId: apiKey.keyId,
          role: apiKey.role,
          expiresAt: apiKey.expiresAt?.toISOString() ?? null,
        },
      });
      return { apiKey, secret };
    });
  }

  /** Revokes a key of the caller's tenant. Revoking twice keeps the first revocation time. */
  async revoke(ctx: RequestContext, id: string): Promise<ApiKey> {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN))
      throw DomainException.forbidden('Only OWNER or ADMIN can revoke API keys');
    const key = await this.keys.findOne({ where: { id, tenantId: ctx.tenantId } });
    if (!key) throw DomainException.notFound('API key');
    if (!roleAtLeast(ctx.role, key.role))
      throw DomainException.forbidden(`A ${ctx.role} cannot revoke a ${key.role} key`);
    if (key.revokedAt) return key; // already revoked: nothing changes, nothing to record
    return this.ds.transaction(async (m) => {
      await m.update(
        ApiKey,
        { id: key.id, tenantId: ctx.tenantId, revokedAt: IsNull() },
        { revokedAt: new Date() },
      );
      await this.audit.record(m, ctx, {
        action: 'api_key.revoked',
        targetType: 'api_key',
        targetId: key.id,
        metadata: { keyId: key.keyId },
      });
      await this.caches.publish(m, { kind: 'api_key', id: key.id });
      return m.findOneOrFail(ApiKey, { where: { id: key.id, tenantId: ctx.tenantId } });
    });
  }

  /**
   * Checks `keyId:secret`. The secret's hash is always computed and compared in constant time,
   * whether or not the key exists. A verified pair is remembered (see `verified`); a remembered
   * key is still refused once it expires.
   */
  async check(keyId: string, secret: string): Promise<ApiKeyCheck> {
    const wellFormed = KEY_ID.test(keyId);
    const token = wellFormed ? this.cacheKey(keyId, secret) : null;
    const hit = token ? this.verified.get(token) : undefined;
    if (hit) return this.accept(hit);
    const epoch = this.verified.epoch;
    const presented = sha256(secret);
    const key = wellFormed
      ? await this.keys.findOne({ where: { keyId }, relations: { tenant: true } })
      : null;
    const matches = timingSafeEqual(presented, key ? key.secretHash : DUMMY_HASH);
    if (!key || !key.tenant)
      return { ok: false, reason: 'unknown_key', tenantId: null, keyId: null };
    const fail = (reason: 'bad_secret' | 'revoked'): ApiKeyCheck => ({
      ok: false,
      reason,
      tenantId: key.tenantId,
      keyId: key.keyId,
    });
    if (!matches) return fail('bad_secret');
    if (key.revokedAt) return fail('revoked');
    const verified: VerifiedApiKey = Object.freeze({
      id: key.id,
      keyId: key.keyId,
      tenantId: key.tenantId,
      tenantSlug: key.tenant.slug,
      role: key.role,
      expiresAt: key.expiresAt,
      lastUsedAt: key.lastUsedAt,
    });
    if (!expired(verified) && token) this.verified.fill(token, verified, epoch);
    return this.accept(verified);
  }

  private async accept(key: VerifiedApiKey): Promise<ApiKeyCheck> {
    if (expired(key))
      return { ok: false, reason: 'expired', tenantId: key.tenantId, keyId: key.keyId };
    await this.touch(key);
    return { ok: true, key };
  }

  /** Length-prefixed, so no other (id, secret) split of the same characters collides. */
  private cacheKey(keyId: string, secret: string): string {
    return createHmac('sha256', this.cacheKeyKey)
      .update(`${keyId.length}:${keyId}:${secret}`, 'utf8')
      .digest('base64url');
  }

  /** Records use at most once a minute per key (per instance), so reads do not become writes. */
  private async touch(key: VerifiedApiKey): Promise<void> {
    const now = Date.now();
    const last = Math.max(this.lastTouched.get(key.id) ?? 0, key.lastUsedAt?.getTime() ?? 0);
    if (now - last < LAST_USED_RESOLUTION_MS) return;
    this.lastTouched.set(key.id, now);
    if (this.lastTouched.size > 10_000) this.lastTouched.clear();
    try {
      await this.keys.update({ id: key.id }, { lastUsedAt: new Date(now) });
    } catch (err) {
      this.logger.warn({ err, apiKeyId: key.id }, 'could not record API key use');
    }
  }
}
