import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

/** A person. Global (not tenant-scoped): one user may belong to several tenants. */
@Entity('app_user')
export class User extends BaseEntity {
  /** Stored trimmed and lower-cased, so uniqueness is case-insensitive. */
  @Index('uq_user_email', { unique: true })
  @Column({ type: 'varchar', length: 320 })
  email!: string;

  @Column({ type: 'varchar', length: 200 })
  displayName!: string;

  /** Argon2id PHC string; null for users who only sign in through an identity provider. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  passwordHash!: string | null;

  @Column({ type: 'boolean', default: false })
  isPlatformAdmin!: boolean;
}
