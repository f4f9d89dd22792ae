import { Field, ID, ObjectType } from '@nestjs/graphql';
import { type Tenant } from '../tenant.entity';

@ObjectType('Tenant', { description: 'An organisation: the boundary of every other record.' })
export class TenantModel {
  @Field(() => ID, { description: 'Tenant id.' })
  id!: string;

  @Field({ description: 'URL-safe unique name, used in compatibility routes (/t/:slug/…).' })
  slug!: string;

  @Field({ description: 'Display name.' })
  name!: string;

  @Field({ description: 'When the tenant was created.' })
  createdAt!: Date;

  @Field(() => [String], {
    description:
      'Browser origins allowed to call the compatibility routes (/t/:slug/…) cross-origin; empty = CORS off.',
  })
  compatCorsOrigins!: string[];

  static from(t: Tenant): TenantModel {
    return Object.assign(new TenantModel(), {
      id: t.id,
      slug: t.slug,
      name: t.name,
      createdAt: t.createdAt,
      compatCorsOrigins: t.compatCorsOrigins,
    });
  }
}
