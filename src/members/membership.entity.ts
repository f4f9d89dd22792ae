import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { MemberRole } from '../common/auth/roles';
import { TenantScopedEntity } from '../database/base.entity';
import { Tenant } from '../tenants/tenant.entity';
import { User } from '../users/user.entity';

/** A user's role in one tenant. */
@Entity('membership')
@Index('uq_membership_tenant_user', ['tenantId', 'userId'], { unique: true })
export class Membership extends TenantScopedEntity {
  @Index()
  @Column({ type: 'uuid' })
  userId!: string;

  @Column({ type: 'enum', enum: MemberRole, enumName: 'membership_role' })
  role!: MemberRole;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;

  @ManyToOne(() => User, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: User;
}
