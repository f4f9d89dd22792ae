import { Field, InputType, Int, ObjectType } from '@nestjs/graphql';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';

@ObjectType('LiveKitCredential', {
  description: 'OpenVidu 3 / LiveKit: connect to `serverUrl` with `token` (a JWT signed locally).',
})
export class LiveKitCredentialModel {
  @Field({ description: 'Access token (HS256 JWT with a room grant for the role).' })
  token!: string;

  @Field({ description: 'WebSocket URL of the LiveKit server.' })
  serverUrl!: string;

  @Field({ description: 'Participant identity inside the token.' })
  identity!: string;

  @Field({ description: 'Room the token admits to.' })
  room!: string;
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
