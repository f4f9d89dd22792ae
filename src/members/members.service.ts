import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, type EntityManager, Repository } from 'typeorm';
import { MemberRole, roleAtLeast } from '../common/auth/roles';
import { type RequestContext } from '../common/context';
import { DomainException, ErrorCode, isUniqueViolation } from '../common/errors';
import { paginate, type Page, type PageArgs } from '../common/graphql/pagination';
import { Tenant } from '../tenants/tenant.entity';
import { UsersService, normaliseEmail } from '../users/users.service';
import { AuditService } from '../audit/audit.service';
import { Membership } from './membership.entity';

export interface AddMemberData {
  email: string;
  role: MemberRole;
  displayName?: string | null;
  /** Only for users that do not exist yet; an existing account's password is never set here. */
  password?: string | null;
}

/**
 * Who may do what to memberships:
 * - OWNER and ADMIN manage members; MEMBER cannot (enforced by @Roles on the resolver, and here).
 * - Only an OWNER may grant OWNER, or change or remove an existing OWNER.
 * - The last OWNER of a tenant can be neither demoted nor removed.
 * Changes take a row lock on the tenant, so two concurrent demotions cannot both pass the
 * last-owner check.
 */
@Injectable()
export class MembersService {
  constructor(
    @InjectRepository(Membership) private readonly memberships: Repository<Membership>,
    @InjectDataSource() private readonly ds: DataSource,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {}

  list<N>(ctx: RequestContext, args: PageArgs, toNode: (m: Membership) => N): Promise<Page<N>> {
    const qb = this.memberships
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.user', 'u')
      .where('m.tenantId = :tenantId', { tenantId: ctx.tenantId });
    return paginate(qb, args, 'createdAt', toNode);
  }

  async add(ctx: RequestContext, data: AddMemberData): Promise<Membership> {
    this.assertManager(ctx);
    this.assertCanAssign(ctx, data.role);
    const email = normaliseEmail(data.email);
    return this.ds.transaction(async (m) => {
      await this.lockTenant(m, ctx.tenantId);
      let user = await this.users.findByEmail(email, m);
      const newUser = !user;
      if (user) {
        if (data.password != null) {
          throw DomainException.conflict(
            'This user already has an account; a password cannot be set here',
            'password',
          );
        }
        if (await m.exists(Membership, { where: { tenantId: ctx.tenantId, userId: user.id } })) {
          throw DomainException.conflict('This user is already a member', 'email');
        }
      } else {
        user = await this.users.create(
          { email, displayName: data.displayName, password: data.password },
          m,
        );
      }
      try {
        const saved = await m.save(
          m.create(Membership, { tenantId: ctx.tenantId, userId: user.id, role: data.role }),
        );
        saved.user = user;
        await this.audit.record(m, ctx, {
          action: 'member.added',
          targetType: 'member',
          targetId: saved.id,
          metadata: { userId: user.id, role: saved.role, newUser },
        });
        return saved;
      } catch (err) {
        if (isUniqueViolation(err))
          throw DomainException.conflict('This user is already a member', 'email');
        throw err;
      }
    });
  }

  async updateRole(ctx: RequestContext, memberId: string, role: MemberRole): Promise<Membership> {
    this.assertManager(ctx);
    this.assertCanAssign(ctx, role);
    return this.ds.transaction(async (m) => {
      await this.lockTenant(m, ctx.tenantId);
      const member = await this.findInTenant(m, ctx, memberId);
      if (member.role === role) return member;
      if (member.role === MemberRole.OWNER) {
        this.assertOwner(ctx, 'Only an OWNER can change an OWNER');
        await this.assertNotLastOwner(m, ctx.tenantId, 'The last OWNER cannot be demoted');
      }
      const from = member.role;
      member.role = role;
      const saved = await m.save(member);
      await this.audit.record(m, ctx, {
        action: 'member.role_changed',
        targetType: 'member',
        targetId: member.id,
        metadata: { userId: member.userId, from, to: role },
      });
      return saved;
    });
  }

  async remove(ctx: RequestContext, memberId: string): Promise<Membership> {
    this.assertManager(ctx);
    return this.ds.transaction(async (m) => {
      await this.lockTenant(m, ctx.tenantId);
      const member = await this.findInTenant(m, ctx, memberId);
      if (member.role === MemberRole.OWNER) {
        this.assertOwner(ctx, 'Only an OWNER can remove an OWNER');
        await this.assertNotLastOwner(m, ctx.tenantId, 'The last OWNER cannot be removed');
      }
      await m.delete(Membership, { id: member.id, tenantId: ctx.tenantId });
      await this.audit.record(m, ctx, {
        action: 'member.removed',
        targetType: 'member',
        targetId: member.id,
        metadata: { userId: member.userId, role: member.role },
      });
      return member;
    });
  }

  /** The membership that authorises a user in a tenant, with the tenant, or null. */
  findForUser(userId: string, tenantSlug?: string): Promise<Membership[]> {
    const qb = this.memberships
      .createQueryBuilder('m')
      .innerJoinAndSelect('m.tenant', 't')
      .where('m.userId = :userId', { userId });
    if (tenantSlug !== undefined) qb.andWhere('t.slug = :slug', { slug: tenantSlug });
    return qb.orderBy('m.createdAt', 'ASC').take(50).getMany();
  }

  private async findInTenant(
    m: EntityManager,
    ctx: RequestContext,
    memberId: string,
  ): Promise<Membership> {
    const member = await m.findOne(Membership, {
      where: { id: memberId, tenantId: ctx.tenantId },
      relations: { user: true },
    });
    if (!member) throw DomainException.notFound('Member');
    return member;
  }

  private async lockTenant(m: EntityManager, tenantId: string): Promise<void> {
    await m
      .createQueryBuilder(Tenant, 't')
      .setLock('pessimistic_write')
      .where('t.id = :tenantId', { tenantId })
      .getOne();
  }

  private async assertNotLastOwner(
    m: EntityManager,
    tenantId: string,
    message: string,
  ): Promise<void> {
    const owners = await m.count(Membership, { where: { tenantId, role: MemberRole.OWNER } });
    if (owners <= 1)
      throw new DomainException(ErrorCode.CONFLICT, message, { reason: 'last_owner' });
  }

  private assertManager(ctx: RequestContext): void {
    if (!roleAtLeast(ctx.role, MemberRole.ADMIN))
      throw DomainException.forbidden('Only OWNER or ADMIN can manage members');
  }

  private assertOwner(ctx: RequestContext, message: string): void {
    if (ctx.role !== MemberRole.OWNER) throw DomainException.forbidden(message, 'owner_required');
  }

  /** Nobody grants a role above their own; only an OWNER grants OWNER. */
  private assertCanAssign(ctx: RequestContext, role: MemberRole): void {
    if (!roleAtLeast(ctx.role, role))
      throw DomainException.forbidden(`A ${ctx.role} cannot grant ${role}`, 'role_too_high');
  }
}
