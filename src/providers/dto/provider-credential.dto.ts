import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsBoolean, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import GraphQLJSON from 'graphql-type-json';
import { ProviderKind } from '../provider-kind';
import { addVendorBlocks } from '../vendor-definition';
import { VENDORS } from '../vendors';

@InputType({
  description: "A vendor account for the caller's tenant: name plus exactly one vendor block.",
})
export class CreateProviderCredentialInput {
  @Field({ description: 'Unique name within the tenant.' })
  @IsString()
  @Length(1, 100)
  name!: string;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Use when no credential is named (one default per vendor).',
  })
  @IsOptional()
  @IsBoolean()
  isDefault?: boolean | null;

  /** One block per vendor (`openvidu`, `livekit`…), added from VENDORS below. */
  [block: string]: unknown;
}

addVendorBlocks(CreateProviderCredentialInput, VENDORS, (v) => v.credentialInput);

@InputType({
  description:
    'Changes a credential. Omitted secrets are kept; a vendor block must match its kind.',
})
export class UpdateProviderCredentialInput extends CreateProviderCredentialInput {
  @Field(() => ID, { description: 'Credential id.' })
  @IsUUID()
  id!: string;

  @Field(() => String, { nullable: true, description: 'New name.' })
  @IsOptional()
  @IsString()
  @Length(1, 100)
  declare name: string;
}

@ObjectType('ProviderCredential', {
  description: 'A vendor account. Secrets are write-only and never returned.',
})
export class ProviderCredentialModel {
  @Field(() => ID, { description: 'Id.' })
  id!: string;

  @Field(() => ProviderKind, { description: 'Vendor.' })
  kind!: ProviderKind;

  @Field({ description: 'Name, unique within the tenant.' })
  name!: string;

  @Field({ description: 'Default credential for its vendor.' })
  isDefault!: boolean;

  @Field(() => GraphQLJSON, { description: 'Non-secret settings (URLs, ids, limits).' })
  config!: Record<string, unknown>;

  @Field(() => String, {
    nullable: true,
    description: 'Keyed fingerprint of the secret: compare, never reverse.',
  })
  secretFingerprint!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Master key id the secret is encrypted under.',
  })
  keyVersion!: string | null;

  @Field({ description: 'Created.' })
  createdAt!: Date;

  @Field({ description: 'Last change.' })
  updatedAt!: Date;
}

@ObjectType('ProviderCredentialTest', { description: 'Result of testProviderCredential.' })
export class ProviderCredentialTestModel {
  @Field({
    description:
      'True when the vendor accepted an authenticated call (or the local self-check passed).',
  })
  ok!: boolean;

  @Field(() => Int, { description: 'Round-trip time in milliseconds.' })
  latencyMs!: number;

  @Field({ description: 'What happened, without secrets.' })
  message!: string;
}
