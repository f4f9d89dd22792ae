import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsArray,
  IsBoolean,
  IsInt,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import GraphQLJSON from 'graphql-type-json';
import { ProviderKind } from '../provider-kind';

@InputType({ description: 'OpenVidu 2 deployment.' })
export class OpenViduCredentialInput {
  @Field(() => String, {
    nullable: true,
    description: 'Base URL, e.g. https://openvidu.example.com (no credentials).',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  url?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'OPENVIDU_SECRET (write-only). Optional on update = keep.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  secret?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Webhook secret (write-only, 16-500 characters): configure OpenVidu with OPENVIDU_WEBHOOK_HEADERS=["Authorization: Bearer <webhookSecret>"] and the endpoint /t/:slug/webhooks/openvidu/:credentialId. Optional; without it OpenVidu webhooks are refused.',
  })
  @IsOptional()
  @IsString()
  @Length(16, 500)
  webhookSecret?: string | null;
}

@InputType({ description: 'OpenVidu 3 / LiveKit deployment.' })
export class LiveKitCredentialInput {
  @Field(() => String, { nullable: true, description: 'Server URL (http(s) or ws(s)).' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  url?: string | null;

  @Field(() => String, { nullable: true, description: 'API key.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  apiKey?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'API secret (write-only). Optional on update = keep.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 500)
  apiSecret?: string | null;
}

@InputType({ description: 'Pexip VPaaS client.' })
export class PexipCredentialInput {
  @Field(() => String, {
    nullable: true,
    description: 'API address, e.g. https://crud.pexip.rocks.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  apiAddress?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Client id issued by Pexip for your public key.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  clientId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'RSA private key (≥ 2048 bits, unencrypted PEM; write-only). Optional on update = keep.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(20_000)
  privateKeyPem?: string | null;
}

@InputType({ description: 'Agora project.' })
export class AgoraCredentialInput {
  @Field(() => String, { nullable: true, description: 'App id (32 hex characters).' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  appId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'App certificate (32 hex; write-only). Optional on update = keep.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  appCertificate?: string | null;
}

@InputType({ description: 'Fishjam (Cloud or self-hosted).' })
export class FishjamCredentialInput {
  @Field(() => String, {
    nullable: true,
    description: 'Fishjam URL, e.g. https://fishjam.io/api/v1/connect/<id>.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  fishjamUrl?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Management token (write-only). Optional on update = keep.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 1000)
  managementToken?: string | null;
}

@InputType({
  description: 'Red5 Pro round-trip authentication (Roomkey is the authority Red5 asks).',
})
export class Red5CredentialInput {
  @Field(() => Int, {
    nullable: true,
    description: 'Lifetime of issued stream credentials (60..86400 s; default 3600).',
  })
  @IsOptional()
  @IsInt()
  @Min(60)
  @Max(86_400)
  tokenTtlSeconds?: number | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Addresses/CIDRs allowed to call validateCredentials (empty = any).',
  })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(50)
  @IsString({ each: true })
  allowedIps?: string[] | null;
}

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

  @Field(() => OpenViduCredentialInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => OpenViduCredentialInput)
  openvidu?: OpenViduCredentialInput | null;

  @Field(() => LiveKitCredentialInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => LiveKitCredentialInput)
  livekit?: LiveKitCredentialInput | null;

  @Field(() => PexipCredentialInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => PexipCredentialInput)
  pexip?: PexipCredentialInput | null;

  @Field(() => AgoraCredentialInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => AgoraCredentialInput)
  agora?: AgoraCredentialInput | null;

  @Field(() => FishjamCredentialInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => FishjamCredentialInput)
  fishjam?: FishjamCredentialInput | null;

  @Field(() => Red5CredentialInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  @Type(() => Red5CredentialInput)
  red5?: Red5CredentialInput | null;
}

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
