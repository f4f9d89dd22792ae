import { Field, ID, ObjectType, registerEnumType } from '@nestjs/graphql';
import { MemberRole } from '../../common/auth/roles';
import { type ApiKey } from '../api-key.entity';

export enum ApiKeyStatus {
  ACTIVE = 'ACTIVE',
  REVOKED = 'REVOKED',
  EXPIRED = 'EXPIRED',
}
registerEnumType(ApiKeyStatus, {
  name: 'ApiKeyStatus',
  description: 'Whether an API key can still be used.',
});

@ObjectType('ApiKey', {
  description: 'A machine credential. Its secret is shown only once, at creation.',
})
export class ApiKeyModel {
  @Field(() => ID, { description: 'Record id (use it with revokeApiKey).' })
  id!: string;

  @Field({
    description: 'Public key id: the user name in `Authorization: Basic base64(keyId:secret)`.',
  })
  keyId!: string;

  @Field({ description: 'Human-readable name.' })
  name!: string;

  @Field(() => MemberRole, { description: 'Role the key acts with.' })
  role!: MemberRole;

  @Field(() => ApiKeyStatus, { description: 'Active, revoked or expired.' })
  status!: ApiKeyStatus;

  @Field(() => Date, { nullable: true, description: 'When the key stops working; null for never.' })
  expiresAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'When the key was revoked.' })
  revokedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: 'Last use, to within about a minute.' })
  lastUsedAt!: Date | null;

  @Field(() => ID, { nullable: true, description: 'User who created the key.' })
  createdByUserId!: string | null;

  @Field({ description: 'When the key was created.' })
  createdAt!: Date;

  static from(k: ApiKey, now = Date.now()): ApiKeyModel {
    const status = k.revokedAt
      ? ApiKeyStatus.REVOKED
      : k.expiresAt && k.expiresAt.getTime() <= now
        ? ApiKeyStatus.EXPIRED
        : ApiKeyStatus.ACTIVE;
    return Object.assign(new ApiKeyModel(), {
      id: k.id,
      keyId: k.keyId,
      name: k.name,
      role: k.role,
      status,
      expiresAt: k.expiresAt,
      revokedAt: k.revokedAt,
      lastUsedAt: k.lastUsedAt,
      createdByUserId: k.createdByUserId,
      createdAt: k.createdAt,
    });
  }
}

@ObjectType('CreateApiKeyPayload', { description: 'A new API key and its secret.' })
export class CreateApiKeyPayload {
  @Field(() => ApiKeyModel, { description: 'The stored key.' })
  apiKey!: ApiKeyModel;

  @Field({
    description:
      'The secret, shown only this once. Authenticate with `Authorization: Basic base64(keyId:secret)`.',
  })
  secret!: string;
}
