import { Field, ID, InputType, Int } from '@nestjs/graphql';
import { IsEnum, IsOptional, IsString, IsUUID, Length, MaxLength } from 'class-validator';
import { ParticipantRole } from '../../providers/provider-kind';
import { addVendorBlocks } from '../../providers/vendor-definition';
import { VENDORS } from '../../providers/vendors';

/*
 * The OpenVidu inputs carry their JSON types only; their values are checked by OpenVidu's rules in
 * providers/openvidu/openvidu-options.ts, the code the compatibility route uses too.
 */

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

  /** Vendor options (`agora`, `openvidu`, `fishjam`…), added from VENDORS below. */
  [block: string]: unknown;
}

addVendorBlocks(CreateConnectionInput, VENDORS, (v) => v.joinOptions);
