import { Column, Entity, Index, PrimaryGeneratedColumn, CreateDateColumn } from 'typeorm';
import { TenantScopedEntity } from '../../database/base.entity';

export enum IdentityProviderKind {
  OIDC = 'OIDC',
  SAML = 'SAML',
}

/** `claim value → role` pairs; the highest matching role wins, MEMBER when none matches. */
export interface RoleMappingEntry {
  value: string;
  role: 'OWNER' | 'ADMIN' | 'MEMBER';
}

export interface OidcConfig {
  issuer: string;
  clientId: string;
  scopes: string[];
  redirectUris: string[];
  rolesClaim: string;
  roleMapping: RoleMappingEntry[];
  allowedEmailDomains: string[];
}

export interface SamlConfig {
  idpEntityId: string;
  ssoUrl: string;
  idpCertificates: string[];
  attributeMapping: { email: string; displayName: string; roles: string };
  roleMapping: RoleMappingEntry[];
  redirectUris: string[];
  allowUnsolicited: boolean;
}

/** One OIDC and/or one SAML sign-in per tenant. The OIDC client secret is sealed, write-only. */
@Entity('identity_provider')
@Index('uq_identity_provider_tenant_kind', ['tenantId', 'kind'], { unique: true })
export class IdentityProvider extends TenantScopedEntity {
  @Column({ type: 'enum', enum: IdentityProviderKind, enumName: 'identity_provider_kind' })
  kind!: IdentityProviderKind;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ type: 'jsonb' })
  config!: OidcConfig | SamlConfig;

  @Column({ type: 'text', nullable: true })
  secretSealed!: string | null;

  @Column({ type: 'varchar', length: 32, nullable: true })
  secretFingerprint!: string | null;
}

/** A trusted external JWT issuer of one tenant; (issuer, audience) is unique across tenants. */
@Entity('jwt_issuer')
@Index('uq_jwt_issuer_issuer_audience', ['issuer', 'audience'], { unique: true })
export class JwtIssuer extends TenantScopedEntity {
  @Column({ type: 'varchar', length: 500 })
  issuer!: string;

  @Column({ type: 'varchar', length: 500 })
  jwksUri!: string;

  @Column({ type: 'varchar', length: 500 })
  audience!: string;

  @Column({ type: 'jsonb' })
  algorithms!: string[];

  @Column({ type: 'jsonb' })
  claimMapping!: { email: string; name: string; roles: string };

  @Column({ type: 'jsonb' })
  roleMapping!: RoleMappingEntry[];

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;
}

/** Links an external identity — (issuer, subject), never the email — to a user. */
@Entity('external_identity')
@Index('uq_external_identity', ['tenantId', 'issuer', 'subject'], { unique: true })
export class ExternalIdentity extends TenantScopedEntity {
  @Column({ type: 'varchar', length: 500 })
  issuer!: string;

  @Column({ type: 'varchar', length: 500 })
  subject!: string;

  @Index()
  @Column({ type: 'uuid' })
  userId!: string;
}

/**
 * Short-lived server-side state of a browser sign-in (OIDC state/nonce/PKCE, SAML request id) and
 * the replay record of unsolicited SAML assertions. Looked up by a hash, used once.
 */
@Entity('login_attempt')
export class LoginAttempt {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid' })
  tenantId!: string;

  @Column({ type: 'varchar', length: 24 })
  kind!: string;

  @Index('uq_login_attempt_lookup', { unique: true })
  @Column({ type: 'varchar', length: 128 })
  lookup!: string;

  @Column({ type: 'jsonb' })
  data!: Record<string, string>;

  @Column({ type: 'timestamptz', precision: 3 })
  expiresAt!: Date;

  @Column({ type: 'timestamptz', precision: 3, nullable: true })
  usedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz', precision: 3 })
  createdAt!: Date;
}
