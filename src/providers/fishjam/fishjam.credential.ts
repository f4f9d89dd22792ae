import { Field, InputType } from '@nestjs/graphql';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { type CredentialRules } from '../credential-rules';

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

/** Fishjam: the instance URL and its management token. */
export const FISHJAM_CREDENTIAL: CredentialRules = {
  endpoint: { field: 'fishjamUrl', secret: 'managementToken' },
  split: (f) => ({
    config: { fishjamUrl: f.url('fishjamUrl') },
    secrets: { managementToken: f.secret('managementToken') },
  }),
};
