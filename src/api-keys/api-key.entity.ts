import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { MemberRole } from '../common/auth/roles';
import { TenantScopedEntity } from '../database/base.entity';
import { Tenant } from '../tenants/tenant.entity';

/** A machine credential. The secret is shown once; only its SHA-256 is kept. */
@Entity('api_key')
export class ApiKey extends TenantScopedEntity {
  /** Public identifier, the Basic user name (`rk_…`). */
  @Index('uq_api_key_key_id', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  keyId!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  @Column({ type: 'enum', enum: MemberRole, enumName: 'api_key_role' })
  role!: MemberRole;

  /** SHA-256 of the secret (the secret has 256 bits of entropy, so a slow hash adds nothing). */
  @Column({ type: 'bytea' })
  secretHash!: Buffer;

  @Column({ type: 'uuid', nullable: true })
  createdByUserId!: string | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  lastUsedAt!: Date | null;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;
}
