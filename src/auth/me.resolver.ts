import { Query, Resolver } from '@nestjs/graphql';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import { ApiKeyModel } from '../api-keys/dto/api-key.model';
import { Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { TenantModel } from '../tenants/dto/tenant.model';
import { TenantsService } from '../tenants/tenants.service';
import { UserModel } from '../users/dto/user.model';
import { UsersService } from '../users/users.service';
import { MeModel } from './dto/me.model';

@Resolver(() => MeModel)
export class MeResolver {
  constructor(
    private readonly tenants: TenantsService,
    private readonly users: UsersService,
    @InjectRepository(ApiKey) private readonly apiKeys: Repository<ApiKey>,
  ) {}

  @Query(() => MeModel, { description: 'Who is calling, in which tenant, with which role.' })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN, MemberRole.MEMBER)
  async me(@Ctx() ctx: RequestContext): Promise<MeModel> {
    const [tenant, user, apiKey] = await Promise.all([
      this.tenants.current(ctx),
      ctx.userId ? this.users.findById(ctx.userId) : null,
      ctx.apiKeyId
        ? this.apiKeys.findOne({ where: { id: ctx.apiKeyId, tenantId: ctx.tenantId } })
        : null,
    ]);
    return Object.assign(new MeModel(), {
      actorType: ctx.actorType,
      user: user ? UserModel.from(user) : null,
      apiKey: apiKey ? ApiKeyModel.from(apiKey) : null,
      tenant: TenantModel.from(tenant),
      role: ctx.role,
      authMethod: ctx.authMethod,
      isPlatformAdmin: ctx.isPlatformAdmin,
    });
  }
}
