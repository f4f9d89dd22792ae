import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

export enum AuditOutcome {
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  DENIED = 'DENIED',
}

/**
 * One append-only audit record, chained per tenant by HMAC. A database trigger refuses UPDATE and
 * DELETE (retention is the only path that removes rows, behind a signed checkpoint). No foreign
 * key to tenant: the record outlives what it describes.
 */
@Entity('audit_event')
@Index('uq_audit_event_tenant_seq', ['tenantId', 'seq'], { unique: true })
@Index('ix_audit_event_tenant_time', ['tenantId', 'occurredAt'])
@Index('ix_audit_event_tenant_action', ['tenantId', 'action', 'seq'])
@Index('ix_audit_event_tenant_actor', ['tenantId', 'actorId', 'seq'])
@Index('ix_audit_event_tenant_target', ['tenantId', 'targetType', 'targetId', 'seq'])
@Index('ix_audit_event_tenant_outcome', ['tenantId', 'outcome', 'seq'])
export class AuditEvent {
  /** Assigned by the application (it is part of the hashed content). */
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  /** 1, 2, 3… per tenant, without gaps. */
  @Column({ type: 'bigint' })
  seq!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  occurredAt!: Date;

  @Column({ type: 'varchar', length: 16 })
  actorType!: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  actorId!: string | null;

  @Column({ type: 'varchar', length: 320 })
  actorLabel!: string;

  @Column({ type: 'varchar', length: 32 })
  authMethod!: string;

  @Column({ type: 'varchar', length: 64 })
  action!: string;

  @Column({ type: 'varchar', length: 40, nullable: true })
  targetType!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  targetId!: string | null;

  @Column({ type: 'enum', enum: AuditOutcome, enumName: 'audit_outcome' })
  outcome!: AuditOutcome;

  @Column({ type: 'varchar', length: 40, nullable: true })
  errorCode!: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  clientIp!: string | null;

  @Column({ type: 'varchar', length: 512, nullable: true })
  userAgent!: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  requestId!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata!: Record<string, unknown>;

  @Column({ type: 'varchar', length: 64 })
  prevHash!: string;

  @Column({ type: 'varchar', length: 64 })
  hash!: string;

  /** Id of the HMAC key (from configuration) that produced `hash`. */
  @Column({ type: 'varchar', length: 32 })
  keyId!: string;
}

/** The last link of each tenant's chain; its row lock serialises appends per tenant. */
@Entity('audit_chain_head')
export class AuditChainHead {
  @PrimaryColumn({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'bigint' })
  lastSeq!: string;

  @Column({ type: 'varchar', length: 64 })
  lastHash!: string;
}

/**
 * Left by retention: the chain up to `lastSeq` was verified and removed; verification of what
 * remains starts here. Signed with the audit key so it cannot be forged in the database.
 */
@Entity('audit_checkpoint')
@Index('ix_audit_checkpoint_tenant_seq', ['tenantId', 'lastSeq'])
export class AuditCheckpoint {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'bigint' })
  lastSeq!: string;

  @Column({ type: 'varchar', length: 64 })
  lastHash!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  prunedBefore!: Date;

  @Column({ type: 'varchar', length: 32 })
  keyId!: string;

  @Column({ type: 'varchar', length: 64 })
  signature!: string;

  @Column({ type: 'timestamptz', precision: 3, default: () => 'now()' })
  createdAt!: Date;
}
