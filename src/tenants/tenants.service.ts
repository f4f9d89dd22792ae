import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { Caches } from '../common/cache';
import { type RequestContext } from '../common/context';
import { exactOrigin } from '../common/http/origin';
import { DomainException, isUniqueViolation } from '../common/errors';
import { Membership } from '../members/membership.entity';
import { User } from '../users/user.entity';
import { UsersService, normaliseEmail } from '../users/users.service';
import { validateName, validateSlug } from './slug';
import { Tenant } from './tenant.entity';
import { type AuditActor } from '../audit/audit-actor';
import { AuditService } from '../audit/audit.service';

export interface CreateTenantData {
  slug: string;
  name: string;
  /** Owner of the new tenant; defaults to the calling user. Created (without password) if new. */
  ownerEmail?: string | null;
}

@Injectable()
export class TenantsService {
  constructor(
    @InjectRepository(Tenant) private readonly tenants: Repository<Tenant>,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly caches: Caches,
  ) {}

  async current(ctx: RequestContext): Promise<Tenant> {
    const t = await this.tenants.findOne({ where: { id: ctx.tenantId } });
    if (!t) throw DomainException.notFound('Tenant');
    return t;
  }

  /**
   * Sets the browser origins allowed on the compatibility routes. Each must be an exact
   * `scheme://host[:port]` origin (http or https); wildcards are refused. OWNER/ADMIN only.
   */
  async setCompatCorsOrigins(ctx: RequestContext, origins: string[]): Promise<Tenant> {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN)) {
      throw DomainException.forbidden('Only OWNER or ADMIN can change CORS origins');
    }
    const clean = [...new Set(origins.map((o, i) => exactOrigin(o, i)))].sort();
    return this.ds.transaction(async (m) => {
      await m.update(Tenant, { id: ctx.tenantId }, { compatCorsOrigins: clean });
      await this.audit.record(m, ctx, {
        action: 'tenant.cors_updated',
        targetType: 'tenant',
        targetId: ctx.tenantId,
        metadata: { origins: clean },
      });
      const tenant = await m.findOneByOrFail(Tenant, { id: ctx.tenantId });
      await this.caches.publish(m, { kind: 'tenant', id: tenant.id, slug: tenant.slug });
      return tenant;
    });
  }

  findBySlug(slug: string): Promise<Tenant | null> {
    return this.tenants.findOne({ where: { slug } });
  }

  /** Platform administrators only. The new tenant gets exactly one OWNER. */
  async create(ctx: RequestContext, data: CreateTenantData): Promise<Tenant> {
    if (!ctx.isPlatformAdmin)
      throw DomainException.forbidden('Only platform administrators can create tenants');
    const ownerEmail = data.ownerEmail ? normaliseEmail(data.ownerEmail, 'ownerEmail') : null;
    if (!ownerEmail && !ctx.userId) {
      throw DomainException.badInput(
        'ownerEmail',
        'ownerEmail is required when the caller is not a user',
      );
    }
    if (ownerEmail) return this.createOwnedBy(data.slug, data.name, ownerEmail, ctx);
    return this.ds.transaction((m) =>
      this.insertWithOwner(m, data.slug, data.name, ctx.userId as string, ctx),
    );
  }

  /** Creates a tenant whose OWNER is the user with this email (created, without password, if new). */
  createOwnedBy(
    slug: string,
    name: string,
    ownerEmail: string,
    actor: AuditActor,
  ): Promise<Tenant> {
    const email = normaliseEmail(ownerEmail, 'ownerEmail');
    return this.ds.transaction(async (m) => {
      const owner =
        (await this.users.findByEmail(email, m)) ?? (await this.users.create({ email }, m));
      return this.insertWithOwner(m, slug, name, owner.id, actor);
    });
  }

  /** Inserts a tenant and its first OWNER inside the caller's transaction. */
  async insertWithOwner(
    m: EntityManager,
    slug: string,
    name: string,
    ownerUserId: string,
    actor: AuditActor,
  ): Promise<Tenant> {
    validateSlug(slug);
    const cleanName = validateName(name);
    if (await m.exists(Tenant, { where: { slug } }))
      throw DomainException.conflict('Slug is already taken', 'slug');
    if (!(await m.exists(User, { where: { id: ownerUserId } })))
      throw DomainException.notFound('Owner');
    let tenant: Tenant;
    try {
      tenant = await m.save(m.create(Tenant, { slug, name: cleanName }));
    } catch (err) {
      if (isUniqueViolation(err)) throw DomainException.conflict('Slug is already taken', 'slug');
      throw err;
    }
    await m.save(
      m.create(Membership, { tenantId: tenant.id, userId: ownerUserId, role: MemberRole.OWNER }),
    );
    // A lookup made before it existed ("no such slug") must not linger in any instance.
    await this.caches.publish(m, { kind: 'tenant', id: tenant.id, slug });
    // Recorded in the new tenant's own chain: its log starts with its creation.
    await this.audit.record(m, actor, {
      action: 'tenant.created',
      tenantId: tenant.id,
      targetType: 'tenant',
      targetId: tenant.id,
      metadata: { slug, ownerUserId },
    });
    return tenant;
  }
}
