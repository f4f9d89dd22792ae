import { createPrivateKey } from 'node:crypto';
import { Field, InputType } from '@nestjs/graphql';
import { IsOptional, IsString, Length, MaxLength } from 'class-validator';
import { DomainException } from '../../common/errors';
import { type CredentialRules } from '../credential-rules';

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

/** Pexip VPaaS: API address, client id and the RSA key its tokens are signed with. */
export const PEXIP_CREDENTIAL: CredentialRules = {
  endpoint: { field: 'apiAddress', secret: 'privateKeyPem' },
  split: (f) => {
    const pem = f.secret('privateKeyPem');
    if (pem !== undefined) checkRsaKey(pem);
    return {
      config: { apiAddress: f.url('apiAddress'), clientId: f.text('clientId') },
      secrets: { privateKeyPem: pem },
    };
  },
};

/** Pexip keys: unencrypted PEM, RSA, at least 2048 bits. */
function checkRsaKey(pem: string): void {
  if (/ENCRYPTED/.test(pem)) {
    throw DomainException.badInput(
      'privateKeyPem',
      'privateKeyPem is encrypted: provide the key without a passphrase',
    );
  }
  let key;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw DomainException.badInput('privateKeyPem', 'privateKeyPem is not a valid PEM private key');
  }
  if (key.asymmetricKeyType !== 'rsa')
    throw DomainException.badInput('privateKeyPem', 'privateKeyPem must be an RSA key');
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 2048)
    throw DomainException.badInput(
      'privateKeyPem',
      `privateKeyPem is ${bits} bits; at least 2048 are required`,
    );
}
