import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Audit } from '../audit/audit.decorator';
import { Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import {
  CreateProviderCredentialInput,
  ProviderCredentialModel,
  ProviderCredentialTestModel,
  UpdateProviderCredentialInput,
} from './dto/provider-credential.dto';
import { type ProviderCredential } from './provider-credential.entity';
import { ProviderCredentialsService } from './provider-credentials.service';

function toModel(c: ProviderCredential): ProviderCredentialModel {
  return Object.assign(new ProviderCredentialModel(), {
    id: c.id,
    kind: c.kind,
    name: c.name,
    isDefault: c.isDefault,
    config: c.config,
    secretFingerprint: c.secretFingerprint,
    keyVersion: c.keyVersion,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  });
}

@Resolver(() => ProviderCredentialModel)
export class ProviderCredentialsResolver {
  constructor(private readonly service: ProviderCredentialsService) {}

  @Query(() => [ProviderCredentialModel], {
    description: "The tenant's vendor credentials (never their secrets).",
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  async providerCredentials(@Ctx() ctx: RequestContext): Promise<ProviderCredentialModel[]> {
    return (await this.service.list(ctx)).map(toModel);
  }

  @Mutation(() => ProviderCredentialModel, {
    description: 'Stores a vendor credential (exactly one vendor block).',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'provider_credential.created', targetType: 'provider_credential' })
  async createProviderCredential(
    @Ctx() ctx: RequestContext,
    @Args('input') input: CreateProviderCredentialInput,
  ): Promise<ProviderCredentialModel> {
    return toModel(await this.service.create(ctx, input));
  }

  @Mutation(() => ProviderCredentialModel, {
    description: 'Changes a vendor credential; omitted secrets are kept.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({
    action: 'provider_credential.updated',
    targetType: 'provider_credential',
    targetIdArg: 'id',
  })
  async updateProviderCredential(
    @Ctx() ctx: RequestContext,
    @Args('input') input: UpdateProviderCredentialInput,
  ): Promise<ProviderCredentialModel> {
    return toModel(await this.service.update(ctx, input));
  }

  @Mutation(() => ProviderCredentialModel, {
    description: 'Deletes a credential; refused while it has open sessions unless force.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({
    action: 'provider_credential.deleted',
    targetType: 'provider_credential',
    targetIdArg: 'id',
  })
  async deleteProviderCredential(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }, new ParseUUIDPipe({ version: '4' })) id: string,
    @Args('force', { type: () => Boolean, nullable: true, defaultValue: false }) force: boolean,
  ): Promise<ProviderCredentialModel> {
    return toModel(await this.service.delete(ctx, id, force));
  }

  @Mutation(() => ProviderCredentialTestModel, {
    description: 'Makes a cheap authenticated vendor call and times it.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({
    action: 'provider_credential.tested',
    targetType: 'provider_credential',
    targetIdArg: 'id',
  })
  async testProviderCredential(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }, new ParseUUIDPipe({ version: '4' })) id: string,
  ): Promise<ProviderCredentialTestModel> {
    return Object.assign(new ProviderCredentialTestModel(), await this.service.test(ctx, id));
  }
}
