import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('Red5Credential', {
  description:
    'Red5 Pro: pass username, password and token in the connection params; Red5 asks Roomkey to validate them.',
})
export class Red5CredentialModel {
  @Field({ description: 'Stream name the credential is bound to.' })
  streamId!: string;

  @Field({ description: '`publisher` or `subscriber`.' })
  type!: string;

  @Field({ description: 'Random user name.' })
  username!: string;

  @Field({ description: 'Random password (stored only as a hash).' })
  password!: string;

  @Field({ description: '256-bit token (stored only as a hash).' })
  token!: string;
}
