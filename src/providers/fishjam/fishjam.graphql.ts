import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsBoolean, IsIn, IsInt, IsOptional, Max, Min } from 'class-validator';

@ObjectType('FishjamCredential', {
  description: 'Fishjam: a peer token for one room and peer (valid 24 h).',
})
export class FishjamCredentialModel {
  @Field({ description: 'Peer token.' })
  peerToken!: string;

  @Field(() => String, { nullable: true, description: 'WebSocket URL the peer connects to.' })
  peerWebsocketUrl!: string | null;

  @Field({ description: 'Peer id.' })
  peerId!: string;

  @Field({ description: 'Room id.' })
  roomId!: string;
}

@ObjectType('FishjamLivestreamCredential', {
  description:
    'Fishjam: a livestream token for one room — a viewer token (WHEP) for a SUBSCRIBER, a streamer token (WHIP) for a PUBLISHER. Fishjam gives it no id to revoke.',
})
export class FishjamLivestreamCredentialModel {
  @Field({ description: 'Viewer or streamer token.' })
  token!: string;

  @Field({ description: 'Room id.' })
  roomId!: string;

  @Field({ description: '`viewer` or `streamer`.' })
  livestream!: string;
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
