import { Field, ObjectType } from '@nestjs/graphql';

@ObjectType('PexipCredential', {
  description: 'Pexip VPaaS: a one-time participant credential for a meeting.',
})
export class PexipCredentialModel {
  @Field({ description: 'VPaaS API address the client connects to.' })
  apiAddress!: string;

  @Field({ description: 'Meeting id.' })
  meetingId!: string;

  @Field({ description: 'Participant id.' })
  participantId!: string;

  @Field({ description: 'Participant secret (one-time join credential).' })
  participantSecret!: string;
}
