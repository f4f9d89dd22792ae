import { Column, CreateDateColumn, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

/**
 * Primary key and timestamps shared by every table. Ids default to PostgreSQL's built-in
 * `gen_random_uuid()` (PGlite has no uuid-ossp; see `uuidExtension` in the data source options). Timestamps keep millisecond precision so that
 * pagination cursors built from JavaScript dates compare exactly.
 */
export abstract class BaseEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz', precision: 3 })
  updatedAt!: Date;
}

/**
 * Base of every tenant-owned row. Services always filter on `{ id, tenantId: ctx.tenantId }`;
 * the tenant never comes from an argument.
 */
export abstract class TenantScopedEntity extends BaseEntity {
  @Index()
  @Column({ type: 'uuid' })
  tenantId!: string;
}
