import { Column, Entity, Index } from 'typeorm';
import { TenantScopedEntity } from '../database/base.entity';
import { ProviderKind } from './provider-kind';

/**
 * A tenant's account with one video vendor. Non-secret settings in `config`; each secret field
 * sealed separately (AES-256-GCM envelope, AAD = tenant, credential, field and, for secrets sent
 * to a vendor, the endpoint they are sent to: see secret-binding.ts) in `secrets`.
 */
@Entity('provider_credential')
@Index('uq_provider_credential_tenant_name', ['tenantId', 'name'], { unique: true })
@Index('uq_provider_credential_default', ['tenantId', 'kind'], {
  unique: true,
  where: '"is_default"',
})
export class ProviderCredential extends TenantScopedEntity {
  @Column({ type: 'enum', enum: ProviderKind, enumName: 'provider_kind' })
  kind!: ProviderKind;

  @Column({ type: 'varchar', length: 100 })
  name!: string;

  @Column({ type: 'boolean', default: false })
  isDefault!: boolean;

  @Column({ type: 'jsonb' })
  config!: Record<string, unknown>;

  /** Field name → sealed value. */
  @Column({ type: 'jsonb' })
  secrets!: Record<string, string>;

  @Column({ type: 'varchar', length: 32, nullable: true })
  secretFingerprint!: string | null;

  /** Master key id the secrets are wrapped under (changes on keys:rotate). */
  @Column({ type: 'varchar', length: 32, nullable: true })
  keyVersion!: string | null;
}
