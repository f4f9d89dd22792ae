import { Field, ObjectType } from '@nestjs/graphql';
import { ApiKeyModel } from '../../api-keys/dto/api-key.model';
import { ActorType, AuthMethod, MemberRole } from '../../common/auth/roles';
import { TenantModel } from '../../tenants/dto/tenant.model';
import { UserModel } from '../../users/dto/user.model';

@ObjectType('Me', { description: 'The authenticated caller.' })
export class MeModel {
  @Field(() => ActorType, { description: 'USER or API_KEY.' })
  actorType!: ActorType;

  @Field(() => UserModel, { nullable: true, description: 'The user, when a person is signed in.' })
  user!: UserModel | null;

  @Field(() => ApiKeyModel, {
    nullable: true,
    description: 'The API key, when a machine is calling.',
  })
  apiKey!: ApiKeyModel | null;

  @Field(() => TenantModel, { description: 'The tenant this request acts in.' })
  tenant!: TenantModel;

  @Field(() => MemberRole, { description: 'Role in that tenant.' })
  role!: MemberRole;

  @Field(() => AuthMethod, { description: 'How the caller authenticated.' })
  authMethod!: AuthMethod;

  @Field({ description: 'True for platform administrators.' })
  isPlatformAdmin!: boolean;
}
