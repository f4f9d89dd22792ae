import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SLUG_PATTERN } from './slug';
import { Tenant } from './tenant.entity';

const TTL_MS = 30_000;
const MAX_ENTRIES = 10_000;

interface Entry {
  at: number;
  tenant: Pick<Tenant, 'id' | 'compatCorsOrigins'> | null;
}

/**
 * Slug lookups for unauthenticated paths (CORS preflights, Red5 and webhook callbacks), cached for
 * 30 s per instance. A change made here is seen at once here; other instances see it within 30 s.
 */
@Injectable()
export class TenantDirectory {
  private readonly cache = new Map<string, Entry>();

  constructor(@InjectRepository(Tenant) private readonly tenants: Repository<Tenant>) {}

  async idOf(slug: string): Promise<string | null> {
    return (await this.lookup(slug))?.id ?? null;
  }

  async corsOrigins(slug: string): Promise<string[]> {
    return (await this.lookup(slug))?.compatCorsOrigins ?? [];
  }

  forget(slug: string): void {
    this.cache.delete(slug);
  }

  private async lookup(slug: string): Promise<Entry['tenant']> {
    if (!SLUG_PATTERN.test(slug)) return null;
    const hit = this.cache.get(slug);
    if (hit && Date.now() - hit.at < TTL_MS) return hit.tenant;
    const tenant = await this.tenants.findOne({
      where: { slug },
      select: { id: true, compatCorsOrigins: true },
    });
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    this.cache.set(slug, { at: Date.now(), tenant });
    return tenant;
  }
}
