import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Audit } from '../audit/audit.decorator';
import { Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { Connection, PageArgs } from '../common/graphql/pagination';
import { ApiKeysService } from './api-keys.service';
import { ApiKeyModel, CreateApiKeyPayload } from './dto/api-key.model';
import { CreateApiKeyInput } from './dto/create-api-key.input';

const ApiKeyConnection = Connection(ApiKeyModel, 'ApiKey');
type ApiKeyConnection = InstanceType<typeof ApiKeyConnection>;

@Resolver(() => ApiKeyModel)
export class ApiKeysResolver {
  constructor(private readonly keys: ApiKeysService) {}

  @Query(() => ApiKeyConnection, {
    description: "API keys of the caller's tenant, newest first. Never secrets.",
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  apiKeys(@Ctx() ctx: RequestContext, @Args() page: PageArgs): Promise<ApiKeyConnection> {
    return this.keys.list(ctx, page, (k) => ApiKeyModel.from(k));
  }

  @Mutation(() => CreateApiKeyPayload, {
    description: 'Creates an API key; the secret is returned only here.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'api_key.created', targetType: 'api_key' })
  async createApiKey(
    @Ctx() ctx: RequestContext,
    @Args('input') input: CreateApiKeyInput,
  ): Promise<CreateApiKeyPayload> {
    const { apiKey, secret } = await this.keys.create(ctx, input);
    return Object.assign(new CreateApiKeyPayload(), { apiKey: ApiKeyModel.from(apiKey), secret });
  }

  @Mutation(() => ApiKeyModel, { description: 'Revokes an API key at once.' })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'api_key.revoked', targetType: 'api_key', targetIdArg: 'id' })
  async revokeApiKey(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }, new ParseUUIDPipe({ version: '4' })) id: string,
  ): Promise<ApiKeyModel> {
    return ApiKeyModel.from(await this.keys.revoke(ctx, id));
  }
}
