import { Field, Float, InputType, Int, ObjectType } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  ValidateNested,
} from 'class-validator';

@ObjectType('OpenViduCredential', {
  description:
    'OpenVidu 2: pass `token` to `session.connect()`. Single use: reconnects need a new one.',
})
export class OpenViduCredentialModel {
  @Field({ description: 'Connection token (wss://…?sessionId=…&token=tok_…).' })
  token!: string;

  @Field({ description: 'OpenVidu connection id (con_…).' })
  connectionId!: string;
}

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
