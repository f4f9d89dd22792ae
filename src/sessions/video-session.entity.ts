import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { ActorType } from '../common/auth/roles';
import { TenantScopedEntity } from '../database/base.entity';
import { ProviderCredential } from '../providers/provider-credential.entity';
import { ProviderKind } from '../providers/provider-kind';
import { SessionStatus } from './session-status';

/**
 * A room, session, meeting, channel or stream created through Roomkey. While its vendor call is in
 * flight the row is CREATING: it holds the customSessionId, so concurrent identical calls wait for
 * it instead of creating a second one. External ids are unique per credential among open sessions.
 */
@Entity('video_session')
@Index('ix_video_session_tenant_created', ['tenantId', 'createdAt', 'id'])
@Index('ix_video_session_tenant_status_created', ['tenantId', 'status', 'createdAt'])
@Index('ix_video_session_tenant_provider_created', ['tenantId', 'provider', 'createdAt'])
@Index('uq_video_session_open_external', ['credentialId', 'externalId'], {
  unique: true,
  where: `"status" <> 'ENDED' AND "external_id" IS NOT NULL`,
})
@Index('uq_video_session_open_custom', ['tenantId', 'credentialId', 'customId'], {
  unique: true,
  where: `"status" <> 'ENDED' AND "custom_id" IS NOT NULL`,
})
export class VideoSession extends TenantScopedEntity {
  @Column({ type: 'enum', enum: ProviderKind, enumName: 'provider_kind' })
  provider!: ProviderKind;

  /** Null once the credential was deleted (with force); the session stays on record. */
  @Column({ type: 'uuid', nullable: true })
  credentialId!: string | null;

  @ManyToOne(() => ProviderCredential, { onDelete: 'SET NULL' })
  @JoinColumn({ name: 'credential_id' })
  credential?: ProviderCredential;

  /** The vendor's id (OpenVidu session, LiveKit room, Pexip meeting, Agora channel…). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  externalId!: string | null;

  /** The caller's idempotency key (customSessionId). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  customId!: string | null;

  @Column({ type: 'varchar', length: 200, nullable: true })
  name!: string | null;

  @Column({
    type: 'enum',
    enum: SessionStatus,
    enumName: 'video_session_status',
    default: SessionStatus.ACTIVE,
  })
  status!: SessionStatus;

  /** Non-secret vendor options the session was created with. */
  @Column({ type: 'jsonb', default: {} })
  options!: Record<string, unknown>;

  /** The vendor's non-secret answer (Pexip meeting JSON, Fishjam room config…). */
  @Column({ type: 'jsonb', default: {} })
  details!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 16 })
  createdByType!: ActorType;

  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Column({ type: 'varchar', length: 320 })
  createdByLabel!: string;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  endedAt!: Date | null;

  /** Why it ended: `ended` (endSession), `vendor:<event>` (webhook), `credential_deleted`. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  endReason!: string | null;
}
