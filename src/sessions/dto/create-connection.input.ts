import { Field, Float, ID, InputType, Int } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsEnum,
  IsInt,
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

/*
 * The OpenVidu inputs carry their JSON types only; their values are checked by OpenVidu's rules in
 * providers/openvidu/openvidu-options.ts, the code the compatibility route uses too.
 */

@InputType({
  description:
    'OpenVidu 2 Kurento options of a WEBRTC connection (`kurentoOptions`). Bandwidths in Kbps, 0 = unconstrained.',
})
export class OpenViduKurentoOptionsInput {
  @Field(() => Int, { nullable: true, description: 'Most Kbps received per subscribed stream.' })
  @IsOptional()
  @IsInt()
  videoMaxRecvBandwidth?: number | null;

  @Field(() => Int, { nullable: true, description: 'Least Kbps received per subscribed stream.' })
  @IsOptional()
  @IsInt()
  videoMinRecvBandwidth?: number | null;

  @Field(() => Int, { nullable: true, description: 'Most Kbps sent per published stream.' })
  @IsOptional()
  @IsInt()
  videoMaxSendBandwidth?: number | null;

  @Field(() => Int, { nullable: true, description: 'Least Kbps sent per published stream.' })
  @IsOptional()
  @IsInt()
  videoMinSendBandwidth?: number | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Filters the connection may apply (e.g. `GStreamerFilter`, `ZBarFilter`).',
  })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  allowedFilters?: string[] | null;
}

@InputType({
  description:
    'A STUN or TURN server for an OpenVidu 2 WEBRTC connection (`customIceServers`): TURN needs username and credential, or staticAuthSecret; STUN takes neither.',
})
export class OpenViduIceServerInput {
  @Field(() => String, {
    description: '`stun[s]:host[:port]` or `turn[s]:host[:port][?transport=udp|tcp]`.',
  })
  @IsString()
  url!: string;

  @Field(() => String, { nullable: true, description: 'TURN user name.' })
  @IsOptional()
  @IsString()
  username?: string | null;

  @Field(() => String, { nullable: true, description: 'TURN password.' })
  @IsOptional()
  @IsString()
  credential?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'TURN REST API secret: OpenVidu derives a 24 h username and credential from it. Sent to OpenVidu only; never stored or logged.',
  })
  @IsOptional()
  @IsString()
  staticAuthSecret?: string | null;
}

@InputType({
  description:
    "OpenVidu 2 connection properties (POST /openvidu/api/sessions/{id}/connection) besides role and data, which are the input's own.",
})
export class OpenViduConnectionOptionsInput {
  @Field(() => String, {
    nullable: true,
    description:
      '`WEBRTC` (default: a user, with a token) or `IPCAM` (an IP camera published at once: no token, role PUBLISHER).',
  })
  @IsOptional()
  @IsString()
  type?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Record the streams of this connection in INDIVIDUAL recordings (default true).',
  })
  @IsOptional()
  @IsBoolean()
  record?: boolean | null;

  @Field(() => OpenViduKurentoOptionsInput, { nullable: true, description: 'WEBRTC only.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => OpenViduKurentoOptionsInput)
  kurentoOptions?: OpenViduKurentoOptionsInput | null;

  @Field(() => [OpenViduIceServerInput], {
    nullable: true,
    description: "WEBRTC only: STUN/TURN servers instead of the deployment's own.",
  })
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => OpenViduIceServerInput)
  customIceServers?: OpenViduIceServerInput[] | null;

  @Field(() => String, {
    nullable: true,
    description:
      'IPCAM only, required: the camera URI (`rtsp`, `rtsps`, `http` or `https`; `file` is refused). IPCAM needs ADMIN or OWNER.',
  })
  @IsOptional()
  @IsString()
  rtspUri?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'IPCAM only: adaptive bitrate (default true).',
  })
  @IsOptional()
  @IsBoolean()
  adaptativeBitrate?: boolean | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'IPCAM only: play the camera only while someone subscribes (default true).',
  })
  @IsOptional()
  @IsBoolean()
  onlyPlayWithSubscribers?: boolean | null;

  @Field(() => Int, {
    nullable: true,
    description: 'IPCAM only: receive buffer in milliseconds (default 2000).',
  })
  @IsOptional()
  @IsInt()
  networkCache?: number | null;
}

@InputType('FishjamConnectionOptionsInput', { description: 'Fishjam join options.' })
export class FishjamConnectionOptionsInput {
  @Field(() => Boolean, {
    nullable: true,
    description:
      'A livestream token instead of a peer (the session must be a `livestream` room): a viewer token for a SUBSCRIBER, a streamer token for a PUBLISHER. Answered as `FishjamLivestreamCredential`.',
  })
  @IsOptional()
  @IsBoolean()
  livestream?: boolean | null;
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

  @Field(() => OpenViduConnectionOptionsInput, {
    nullable: true,
    description: 'OpenVidu 2 options.',
  })
  @IsOptional()
  @ValidateNested()
  @Type(() => OpenViduConnectionOptionsInput)
  openvidu?: OpenViduConnectionOptionsInput | null;

  @Field(() => FishjamConnectionOptionsInput, { nullable: true, description: 'Fishjam options.' })
  @IsOptional()
  @ValidateNested()
  @Type(() => FishjamConnectionOptionsInput)
  fishjam?: FishjamConnectionOptionsInput | null;
}
