import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { TenantScopedEntity } from '../database/base.entity';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { Tenant } from '../tenants/tenant.entity';

/**
 * A scoped join link: a key for one vendor's compatibility routes only, used as a path segment
 * (`/t/<slug>/j/<link>/<vendor>/…`) by front-end libraries that cannot send an `Authorization`
 * header. The secret is shown once; only its SHA-256 is kept.
 */
@Entity('join_link')
export class JoinLink extends TenantScopedEntity {
  /** Public identifier (`jl_…`), the first part of the link. */
  @Index('uq_join_link_key_id', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  keyId!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** The one vendor whose compatibility routes the link opens. */
  @Column({ type: 'enum', enum: ProviderKind, enumName: 'provider_kind' })
  provider!: ProviderKind;

  /** Room names the link may create or join: `*` matches any run of characters. */
  @Column({ type: 'varchar', length: 200 })
  roomPattern!: string;

  /** The highest role it issues (SUBSCRIBER or PUBLISHER; never MODERATOR). */
  @Column({ type: 'enum', enum: ParticipantRole, enumName: 'participant_role' })
  maxRole!: ParticipantRole;

  /** Exact browser origins (`https://app.example.com`) allowed to use the link. */
  @Column({ type: 'jsonb' })
  origins!: string[];

  /** Requests per minute through this link. */
  @Column({ type: 'integer' })
  ratePerMinute!: number;

  /** SHA-256 of the secret (256 bits of entropy, so a slow hash adds nothing). */
  @Column({ type: 'bytea' })
  secretHash!: Buffer;

  @Column({ type: 'uuid', nullable: true })
  createdByUserId!: string | null;

  @Column({ type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @ManyToOne(() => Tenant, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'tenant_id' })
  tenant?: Tenant;
}
