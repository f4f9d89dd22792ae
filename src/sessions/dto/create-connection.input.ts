import { Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsEnum,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  MaxLength,
  ValidateNested,
} from 'class-validator';
import { ParticipantRole } from '../../providers/provider-kind';

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
}

@InputType({ description: 'Issues a join credential for a session.' })
export class CreateConnectionInput {
  @Field(() => ID, { description: 'Session id (Roomkey id).' })
  @IsUUID()
  sessionId!: string;

  @Field(() => ParticipantRole, {
    nullable: true,
    description:
      'Default PUBLISHER. MEMBERs may issue SUBSCRIBER or PUBLISHER; MODERATOR needs ADMIN or OWNER.',
  })
  @IsOptional()
  @IsEnum(ParticipantRole)
  role?: ParticipantRole | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Participant identity for the vendor (LiveKit identity, Fishjam peer name). Default: a new unique id.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 128)
  identity?: string | null;

  @Field(() => String, { nullable: true, description: 'Display name (up to 200 characters).' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  displayName?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Application data for the vendor (OpenVidu serverData, LiveKit metadata, Fishjam peer metadata), up to 4000 characters.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  data?: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "Lifetime in seconds: default 3600, at most 86400 (Red5: default and maximum the credential's tokenTtlSeconds). OpenVidu and Pexip credentials do not expire.",
  })
  @IsOptional()
  ttlSeconds?: number | null;

  @Field(() => AgoraConnectionOptionsInput, { nullable: true, description: 'Agora options.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => AgoraConnectionOptionsInput)
  agora?: AgoraConnectionOptionsInput | null;
}
