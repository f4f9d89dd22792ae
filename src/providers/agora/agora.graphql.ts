import { Field, Float, InputType, ObjectType } from '@nestjs/graphql';
import { IsBoolean, IsNumber, IsOptional, IsString, Length } from 'class-validator';

@ObjectType('AgoraCredential', {
  description: 'Agora: an AccessToken2 ("007…") for one channel, uid or user account, and role.',
})
export class AgoraCredentialModel {
  @Field({ description: 'RTC token.' })
  token!: string;

  @Field({ description: 'Agora app id (public).' })
  appId!: string;

  @Field({ description: 'Channel name.' })
  channel!: string;

  @Field(() => Float, {
    nullable: true,
    description:
      'Integer uid 0..4294967295 the token is bound to (0 = any); null with userAccount.',
  })
  uid!: number | null;

  @Field(() => String, { nullable: true, description: 'String user account, when used.' })
  userAccount!: string | null;

  @Field(() => String, { nullable: true, description: 'RTM token, when requested (`agora.rtm`).' })
  rtmToken!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'Agora Chat user token, when requested (`agora.chat`).',
  })
  chatToken!: string | null;
}

@InputType({ description: 'Agora join options.' })
export class AgoraConnectionOptionsInput {
  @Field(() => Float, {
    nullable: true,
    description: 'Integer uid 0..4294967295 (0 = any user). Ignored when userAccount is set.',
  })
  @IsOptional()
  @IsNumber()
  uid?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'String user account (printable ASCII, up to 255 bytes) instead of a uid.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 255)
  userAccount?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Also mint an RTM token for the same user (needs a non-zero uid or a userAccount).',
  })
  @IsOptional()
  @IsBoolean()
  rtm?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      "With rtm: the RTM token may also join this session's channel as a stream channel and publish data in it (the Agora token service's stream-channel privileges).",
  })
  @IsOptional()
  @IsBoolean()
  rtmStreamChannel?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description:
      'Also mint an Agora Chat user token for the same user (needs a non-zero uid or a userAccount from a-z A-Z 0-9 _ - ., at most 64 bytes).',
  })
  @IsOptional()
  @IsBoolean()
  chat?: boolean | null;
}
