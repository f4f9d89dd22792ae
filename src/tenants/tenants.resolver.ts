import { Args, Mutation, Query, Resolver } from '@nestjs/graphql';
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
