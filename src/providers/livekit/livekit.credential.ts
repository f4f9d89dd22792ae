import { Field, InputType } from '@nestjs/graphql';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { type CredentialRules } from '../credential-rules';

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

/** LiveKit (OpenVidu 3): server URL, API key and API secret. */
export const LIVEKIT_CREDENTIAL: CredentialRules = {
  endpoint: { field: 'url', secret: 'apiSecret' },
  split: (f) => ({
    config: { url: f.url('url', ['http:', 'https:', 'ws:', 'wss:']), apiKey: f.text('apiKey') },
    secrets: { apiSecret: f.secret('apiSecret') },
  }),
};
