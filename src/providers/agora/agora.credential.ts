import { Field, InputType } from '@nestjs/graphql';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import { DomainException } from '../../common/errors';
import { type CredentialRules } from '../credential-rules';

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

const HEX32 = /^[0-9a-fA-F]{32}$/;

/** Agora: app id and app certificate, both 32 hex characters; the certificate never leaves Roomkey. */
export const AGORA_CREDENTIAL: CredentialRules = {
  endpoint: null,
  split: (f) => {
    const appId = f.text('appId');
    if (!HEX32.test(appId))
      throw DomainException.badInput('appId', 'appId must be 32 hexadecimal characters');
    const cert = f.secret('appCertificate');
    if (cert !== undefined && !HEX32.test(cert)) {
      throw DomainException.badInput(
        'appCertificate',
        'appCertificate must be 32 hexadecimal characters',
      );
    }
    return { config: { appId }, secrets: { appCertificate: cert } };
  },
};
