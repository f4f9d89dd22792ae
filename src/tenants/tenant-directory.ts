import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { type BusCache, Caches } from '../common/cache';
import { SLUG_PATTERN } from './slug';
import { Tenant } from './tenant.entity';

interface Entry {
  /** Null: no tenant has this slug (remembered too, so unknown slugs do not reach the database). */
  tenant: Pick<Tenant, 'id' | 'compatCorsOrigins'> | null;
}

/**
 * Slug lookups for unauthenticated paths (CORS preflights, Red5 and webhook callbacks) and the
 * tenant a password sign-in names. Cached; a tenant created or changed anywhere (a `tenant`
 * invalidation) is seen at once in every instance.
 */
@Injectable()
export class TenantDirectory {
  private readonly cache: BusCache<Entry>;

  constructor(
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    caches: Caches,
  ) {
    this.cache = caches.create<Entry>((lru, e) => {
      if (e.kind === 'tenant')
        lru.deleteWhere((v, slug) => slug === e.slug || v.tenant?.id === e.id);
    });
  }

  async idOf(slug: string): Promise<string | null> {
    return (await this.lookup(slug))?.id ?? null;
  }

  async corsOrigins(slug: string): Promise<string[]> {
    return (await this.lookup(slug))?.compatCorsOrigins ?? [];
  }

  private async lookup(slug: string): Promise<Entry['tenant']> {
    if (!SLUG_PATTERN.test(slug)) return null;
    const entry = await this.cache.getOrLoad(slug, async () => ({
      tenant: await this.tenants.findOne({
        where: { slug },
        select: { id: true, compatCorsOrigins: true },
      }),
    }));
    return entry?.tenant ?? null;
  }
}
