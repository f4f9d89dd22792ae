import { Column, Entity, Index, JoinColumn, ManyToOne } from 'typeorm';
import { ActorType } from '../common/auth/roles';
import { TenantScopedEntity } from '../database/base.entity';
import { ParticipantRole } from '../providers/provider-kind';
import { ConnectionStatus } from './session-status';
import { VideoSession } from './video-session.entity';

/**
 * One join credential issued for a session. The credential itself (token, secret) is returned once
 * and never stored; for Red5 — where Roomkey is the authority — only SHA-256 hashes of the token
 * and password are kept, plus the random user name, for the round-trip validation lookup.
 */
@Entity('session_connection')
@Index('ix_session_connection_session_created', ['sessionId', 'createdAt'])
@Index('ix_session_connection_session_external', ['sessionId', 'externalId'])
@Index('uq_session_connection_token_hash', ['tokenHash'], {
  unique: true,
  where: '"token_hash" IS NOT NULL',
})
@Index('uq_session_connection_username', ['username'], {
  unique: true,
  where: '"username" IS NOT NULL',
})
export class SessionConnection extends TenantScopedEntity {
  @Column({ type: 'uuid' })
  sessionId!: string;

  @ManyToOne(() => VideoSession, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'session_id' })
  session?: VideoSession;

  @Column({ type: 'enum', enum: ParticipantRole, enumName: 'participant_role' })
  role!: ParticipantRole;

  /** The participant identity given to the vendor (LiveKit identity, Agora uid/account…). */
  @Column({ type: 'varchar', length: 255 })
  identity!: string;

  @Column({ type: 'varchar', length: 200, nullable: true })
  displayName!: string | null;

  /** The vendor's id of what was issued (OpenVidu connection, Pexip participant, Fishjam peer). */
  @Column({ type: 'varchar', length: 200, nullable: true })
  externalId!: string | null;

  @Column({
    type: 'enum',
    enum: ConnectionStatus,
    enumName: 'connection_status',
    default: ConnectionStatus.ISSUED,
  })
  status!: ConnectionStatus;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  expiresAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  revokedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  joinedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  leftAt!: Date | null;

  /** Red5: SHA-256 of the 256-bit token. */
  @Column({ type: 'bytea', nullable: true, select: false })
  tokenHash!: Buffer | null;

  /** Red5: the random user name (not a secret on its own). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  username!: string | null;

  /** Red5: SHA-256 of the random 192-bit password. */
  @Column({ type: 'bytea', nullable: true, select: false })
  passwordHash!: Buffer | null;

  @Column({ type: 'varchar', length: 16 })
  createdByType!: ActorType;

  @Column({ type: 'uuid', nullable: true })
  createdById!: string | null;

  @Column({ type: 'varchar', length: 320 })
  createdByLabel!: string;
}
