import { Field, InputType } from '@nestjs/graphql';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { type CredentialRules } from '../credential-rules';

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

/** OpenVidu 2: the deployment URL and its secret; an optional webhook secret. */
export const OPENVIDU_CREDENTIAL: CredentialRules = {
  endpoint: { field: 'url', secret: 'secret' },
  split: (f) => ({
    config: { url: f.url('url') },
    // The webhook secret is optional: absent keeps the stored one (or none).
    secrets: { secret: f.secret('secret'), webhookSecret: f.optionalSecret('webhookSecret') },
  }),
};
