import proxyAddr from 'proxy-addr';
import { Field, InputType, Int } from '@nestjs/graphql';
import { ArrayMaxSize, IsArray, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { DomainException } from '../../common/errors';
import { type CredentialRules } from '../credential-rules';

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

/** Red5 Pro: no secret (Roomkey is the authority); a token lifetime and the callers allowed. */
export const RED5_CREDENTIAL: CredentialRules = {
  endpoint: null,
  split: (f) => {
    const ttl = f.valueOr('tokenTtlSeconds', 3600);
    const ips = f.valueOr('allowedIps', []) as string[];
    try {
      if (ips.length) proxyAddr.compile(ips);
    } catch {
      throw DomainException.badInput(
        'allowedIps',
        'allowedIps must be IP addresses or CIDR ranges',
      );
    }
    return { config: { tokenTtlSeconds: ttl, allowedIps: ips }, secrets: {} };
  },
};
