import { ParseArrayPipe } from '@nestjs/common';
import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
import { DomainException } from '../common/errors';
import { Audit } from '../audit/audit.decorator';
import { PLATFORM_ADMIN, Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { CreateTenantInput } from './dto/create-tenant.input';
import { TenantModel } from './dto/tenant.model';
import { TenantsService } from './tenants.service';

@Resolver(() => TenantModel)
export class TenantsResolver {
  constructor(private readonly tenants: TenantsService) {}

  @Query(() => TenantModel, { description: "The caller's tenant." })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER)
  async tenant(@Ctx() ctx: RequestContext): Promise<TenantModel> {
    return TenantModel.from(await this.tenants.current(ctx));
  }

  @Mutation(() => TenantModel, {
    description:
      'Sets the browser origins allowed to call the compatibility routes (/t/:slug/…); an empty list turns CORS off. Exact origins only.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'tenant.cors_updated', targetType: 'tenant' })
  async setCompatCorsOrigins(
    @Ctx() ctx: RequestContext,
    @Args(
      'origins',
      { type: () => [String] },
      new ParseArrayPipe({ items: String, optional: false }),
    )
    origins: string[],
  ): Promise<TenantModel> {
    if (origins.length > 50) throw DomainException.badInput('origins', 'At most 50 origins');
    return TenantModel.from(await this.tenants.setCompatCorsOrigins(ctx, origins));
  }

  @Mutation(() => TenantModel, {
    description: 'Creates a tenant with one OWNER. Platform administrators only.',
  })
  @Roles(PLATFORM_ADMIN)
  @Audit({ action: 'tenant.created', targetType: 'tenant' })
  async createTenant(
    @Ctx() ctx: RequestContext,
    @Args('input') input: CreateTenantInput,
  ): Promise<TenantModel> {
    return TenantModel.from(await this.tenants.create(ctx, input));
  }
}
