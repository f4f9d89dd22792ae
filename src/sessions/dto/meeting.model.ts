import { Field, ID, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsEnum, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { ParticipantRole } from '../../providers/provider-kind';

@InputType({ description: 'Creates a Pexip VPaaS meeting (a PEXIP session).' })
export class CreateMeetingInput {
  @Field(() => ID, {
    nullable: true,
    description: "Pexip credential; default: the tenant's default.",
  })
  @IsOptional()
  @IsUUID()
  credentialId?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Idempotency key: returns the open meeting created with the same key.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  customSessionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Display name.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string | null;
}

@InputType({ description: 'Creates a one-time participant credential for a Pexip meeting.' })
export class CreateParticipantInput {
  @Field({ description: 'Pexip meeting id (as returned by createMeeting).' })
  @IsString()
  @Length(1, 200)
  meetingId!: string;

  @Field(() => ID, {
    nullable: true,
    description: "Pexip credential of the meeting; default: the tenant's default.",
  })
  @IsOptional()
  @IsUUID()
  credentialId?: string | null;

  @Field(() => ParticipantRole, { nullable: true, description: 'Default PUBLISHER.' })
  @IsOptional()
  @IsEnum(ParticipantRole)
  role?: ParticipantRole | null;

  @Field(() => String, { nullable: true, description: 'Display name.' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  displayName?: string | null;

  @Field(() => Int, { nullable: true, description: 'Recorded lifetime (Pexip sets none).' })
  @IsOptional()
  ttlSeconds?: number | null;
}

@ObjectType('Meeting', { description: 'A Pexip VPaaS meeting (the VPaaS tutorial shape).' })
export class MeetingModel {
  @Field(() => ID, { description: 'Roomkey session id.' })
  sessionId!: string;

  @Field({ description: 'VPaaS API address clients connect to.' })
  apiAddress!: string;

  @Field({ description: 'Pexip meeting id.' })
  meetingId!: string;

  @Field(() => String, { nullable: true, description: 'Pexip status, e.g. `ready`.' })
  status!: string | null;

  @Field(() => String, { nullable: true, description: "Pexip's created_at." })
  createdAt!: string | null;
}

@ObjectType('Participant', { description: 'A Pexip VPaaS participant (one-time credential).' })
export class ParticipantModel {
  @Field(() => ID, { description: 'Roomkey connection id (for revokeConnection).' })
  connectionId!: string;

  @Field({ description: 'VPaaS API address.' })
  apiAddress!: string;

  @Field({ description: 'Pexip meeting id.' })
  meetingId!: string;

  @Field({ description: 'Pexip participant id.' })
  participantId!: string;

  @Field({ description: 'Participant secret: the join credential.' })
  participantSecret!: string;
}
