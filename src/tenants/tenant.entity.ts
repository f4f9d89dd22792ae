import { Column, Entity, Index } from 'typeorm';
import { BaseEntity } from '../database/base.entity';

/** One organisation. Every other row except User belongs to exactly one tenant. */
@Entity('tenant')
export class Tenant extends BaseEntity {
  @Index('uq_tenant_slug', { unique: true })
  @Column({ type: 'varchar', length: 40 })
  slug!: string;

  @Column({ type: 'varchar', length: 200 })
  name!: string;

  /** Browser origins allowed to call the compatibility routes (/t/:slug/…); empty = CORS off. */
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  compatCorsOrigins!: string[];
}
