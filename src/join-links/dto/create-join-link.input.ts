import { Field, InputType, Int } from '@nestjs/graphql';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsDate,
  IsEnum,
  IsInt,
  IsOptional,
  IsString,
  Length,
  Max,
  Min,
} from 'class-validator';
import { ParticipantRole, ProviderKind } from '../../providers/provider-kind';
import { MAX_LINK_RATE } from '../join-links.service';

@InputType({ description: 'A new scoped join link.' })
export class CreateJoinLinkInput {
  @Field({ description: 'Human-readable name (1-200 characters).' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @Field(() => ProviderKind, {
    description: 'The vendor whose compatibility routes it opens (not RED5).',
  })
  @IsEnum(ProviderKind)
  provider!: ProviderKind;

  @Field({
    description:
      'Room names it may create or join (the Agora channel, the LiveKit/Fishjam room name, the OpenVidu customSessionId); `*` matches any run of characters. Rooms without a chosen name (Pexip meetings, OpenVidu sessions with no customSessionId) need `*`.',
  })
  @IsString()
  @Length(1, 200)
  roomPattern!: string;

  @Field(() => ParticipantRole, {
    description: 'The highest role it issues: SUBSCRIBER or PUBLISHER.',
  })
  @IsEnum(ParticipantRole)
  maxRole!: ParticipantRole;

  @Field(() => [String], {
    description: 'Exact browser origins allowed to use it (1-20), e.g. `https://app.example.com`.',
  })
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(20)
  @IsString({ each: true })
  @Length(1, 300, { each: true })
  origins!: string[];

  @Field(() => Int, {
    nullable: true,
    description: `Requests per minute through this link (1-${MAX_LINK_RATE}, default 60).`,
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_LINK_RATE)
  ratePerMinute?: number | null;

  @Field(() => Date, { description: 'When the link stops working: in the future, within a year.' })
  @IsDate()
  expiresAt!: Date;
}
