import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
} from 'typeorm';
import { TenantScopedEntity } from '../../database/base.entity';

/**
 * A Roomkey token-signing key (ES256). The private half is sealed with the master key; the public
 * half is published at /.well-known/jwks.json until every token it signed has expired.
 */
@Entity('signing_key')
export class SigningKey {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  kid!: string;

  @Column({ type: 'varchar', length: 16 })
  alg!: string;

  @Column({ type: 'jsonb' })
  publicJwk!: Record<string, unknown>;

  @Column({ type: 'text' })
  privateKeySealed!: string;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;

  /** From this moment the key no longer signs; it still verifies for one token lifetime. */
  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  retiredAt!: Date | null;
}

/**
 * An opaque refresh token (only its SHA-256 is stored). Every use rotates it; presenting a used
 * one again means it was stolen or replayed, and the whole family is revoked.
 */
@Entity('refresh_token')
@Index('ix_refresh_token_family', ['familyId'])
export class RefreshToken extends TenantScopedEntity {
  @Index('uq_refresh_token_hash', { unique: true })
  @Column({ type: 'bytea' })
  tokenHash!: Buffer;

  @Column({ type: 'uuid' })
  familyId!: string;

  @Column({ type: 'uuid' })
  userId!: string;

  @Column({ type: 'varchar', length: 32 })
  authMethod!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  usedAt!: Date | null;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  revokedAt!: Date | null;
}

/** A one-time, 60-second code handed to the browser after an OIDC or SAML login. */
@Entity('login_code')
export class LoginCode {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Index('uq_login_code_hash', { unique: true })
  @Column({ type: 'bytea' })
  codeHash!: Buffer;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'uuid' })
  userId!: string;

  @Column({ type: 'varchar', length: 32 })
  authMethod!: string;

  @Column({ type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  usedAt!: Date | null;
}
