import { Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsEnum,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  IsUUID,
  Length,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { ProviderKind } from '../../providers/provider-kind';

/*
 * The OpenVidu inputs below carry their JSON types only; their values are checked by OpenVidu's
 * rules in providers/openvidu/openvidu-options.ts, the same code the compatibility route uses, so
 * both answer a bad value with the same message and field (`defaultRecordingProperties.frameRate`).
 */

@InputType({ description: 'An OpenVidu Media Node selector (OpenVidu PRO): `{id}`.' })
export class OpenViduMediaNodeInput {
  @Field(() => String, { description: 'Media Node id (e.g. `media_i-0c58bcdd26l11d0sd`).' })
  @IsString()
  id!: string;
}

@InputType({
  description:
    'OpenVidu 2 default recording properties of a session (`defaultRecordingProperties`); the recording defaults apply to what is left out.',
})
export class OpenViduRecordingPropertiesInput {
  @Field(() => String, { nullable: true, description: 'Recording file name.' })
  @IsOptional()
  @IsString()
  name?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Record audio (default true).' })
  @IsOptional()
  @IsBoolean()
  hasAudio?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Record video (default true); not false together with hasAudio.',
  })
  @IsOptional()
  @IsBoolean()
  hasVideo?: boolean | null;

  @Field(() => String, {
    nullable: true,
    description: '`COMPOSED` (default), `INDIVIDUAL` or `COMPOSED_QUICK_START`.',
  })
  @IsOptional()
  @IsString()
  outputMode?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      '`BEST_FIT` (default), `CUSTOM`, `PICTURE_IN_PICTURE`, `VERTICAL_PRESENTATION` or `HORIZONTAL_PRESENTATION`.',
  })
  @IsOptional()
  @IsString()
  recordingLayout?: string | null;

  @Field(() => String, { nullable: true, description: 'Custom layout path (layout `CUSTOM`).' })
  @IsOptional()
  @IsString()
  customLayout?: string | null;

  @Field(() => String, {
    nullable: true,
    description: '`WIDTHxHEIGHT`, each 100..1999 (default `1280x720`).',
  })
  @IsOptional()
  @IsString()
  resolution?: string | null;

  @Field(() => Int, { nullable: true, description: 'Frames per second, 1..120 (default 25).' })
  @IsOptional()
  @IsInt()
  frameRate?: number | null;

  @Field(() => Float, {
    nullable: true,
    description: 'Shared memory in bytes, a whole number ≥ 134217728 (default 536870912).',
  })
  @IsOptional()
  @IsNumber()
  shmSize?: number | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'INDIVIDUAL recordings: ignore streams that fail (default false).',
  })
  @IsOptional()
  @IsBoolean()
  ignoreFailedStreams?: boolean | null;

  @Field(() => OpenViduMediaNodeInput, {
    nullable: true,
    description: 'Media Node of the recording (OpenVidu PRO).',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => OpenViduMediaNodeInput)
  mediaNode?: OpenViduMediaNodeInput | null;
}

@InputType({ description: 'OpenVidu 2 session properties (POST /openvidu/api/sessions).' })
export class OpenViduSessionOptionsInput {
  @Field(() => String, { nullable: true, description: '`ROUTED` (the only mode OpenVidu 2 has).' })
  @IsOptional()
  @IsIn(['ROUTED'])
  mediaMode?: string | null;

  @Field(() => String, { nullable: true, description: '`MANUAL` or `ALWAYS`.' })
  @IsOptional()
  @IsIn(['MANUAL', 'ALWAYS'])
  recordingMode?: string | null;

  @Field(() => String, {
    nullable: true,
    description: '`MEDIA_SERVER_PREFERRED`, `NONE`, `VP8`, `VP9` or `H264`.',
  })
  @IsOptional()
  @IsIn(['MEDIA_SERVER_PREFERRED', 'NONE', 'VP8', 'VP9', 'H264'])
  forcedVideoCodec?: string | null;

  @Field(() => Boolean, { nullable: true, description: 'Allow transcoding for the forced codec.' })
  @IsOptional()
  @IsBoolean()
  allowTranscoding?: boolean | null;

  @Field(() => OpenViduRecordingPropertiesInput, {
    nullable: true,
    description: 'Recording properties applied by default to the recordings of this session.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => OpenViduRecordingPropertiesInput)
  defaultRecordingProperties?: OpenViduRecordingPropertiesInput | null;

  @Field(() => OpenViduMediaNodeInput, {
    nullable: true,
    description: 'Media Node to host the session (OpenVidu PRO).',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => OpenViduMediaNodeInput)
  mediaNode?: OpenViduMediaNodeInput | null;
}

@InputType({ description: 'LiveKit room options (Twirp CreateRoom).' })
export class LiveKitRoomOptionsInput {
  @Field(() => Int, { nullable: true, description: 'Seconds an empty room is kept (0..86400).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(86_400)
  emptyTimeout?: number | null;

  @Field(() => Int, { nullable: true, description: 'Participant limit (0 = none, up to 10000).' })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(10_000)
  maxParticipants?: number | null;

  @Field(() => String, { nullable: true, description: 'Room metadata (up to 4000 characters).' })
  @IsOptional()
  @IsString()
  @MaxLength(4000)
  metadata?: string | null;
}

@InputType({ description: 'Fishjam room options (POST /room).' })
export class FishjamRoomOptionsInput {
  @Field(() => Int, { nullable: true, description: 'Peer limit (1..1000).' })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1000)
  maxPeers?: number | null;

  @Field(() => String, { nullable: true, description: '`h264` or `vp8`.' })
  @IsOptional()
  @IsIn(['h264', 'vp8'])
  videoCodec?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      '`conference`, `audio_only`, `livestream`, `full_feature`, `broadcaster` or `audio_only_livestream`.',
  })
  @IsOptional()
  @IsIn([
    'conference',
    'audio_only',
    'livestream',
    'full_feature',
    'broadcaster',
    'audio_only_livestream',
  ])
  roomType?: string | null;
}

@InputType({
  description:
    "Creates a session with a vendor. The credential is `credentialId`, or the tenant's default for `provider`.",
})
export class CreateSessionInput {
  @Field(() => ProviderKind, {
    nullable: true,
    description: 'Vendor; the default credential of this kind is used unless credentialId is set.',
  })
  @IsOptional()
  @IsEnum(ProviderKind)
  provider?: ProviderKind | null;

  @Field(() => ID, { nullable: true, description: 'A specific vendor credential.' })
  @IsOptional()
  @IsUUID()
  credentialId?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Idempotency key: while a session with this key is open, creating it again returns that session. OpenVidu, LiveKit, Agora and Red5 also use it as the vendor id.',
  })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  customSessionId?: string | null;

  @Field(() => String, { nullable: true, description: 'Display name (up to 200 characters).' })
  @IsOptional()
  @IsString()
  @Length(1, 200)
  name?: string | null;

  @Field(() => OpenViduSessionOptionsInput, { nullable: true, description: 'OpenVidu 2 options.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => OpenViduSessionOptionsInput)
  openvidu?: OpenViduSessionOptionsInput | null;

  @Field(() => LiveKitRoomOptionsInput, { nullable: true, description: 'LiveKit options.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => LiveKitRoomOptionsInput)
  livekit?: LiveKitRoomOptionsInput | null;

  @Field(() => FishjamRoomOptionsInput, { nullable: true, description: 'Fishjam options.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => FishjamRoomOptionsInput)
  fishjam?: FishjamRoomOptionsInput | null;
}
