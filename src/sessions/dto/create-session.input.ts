import { Field, ID, InputType } from '@nestjs/graphql';
import { IsEnum, IsOptional, IsString, IsUUID, Length } from 'class-validator';
import { ProviderKind } from '../../providers/provider-kind';
import { addVendorBlocks } from '../../providers/vendor-definition';
import { VENDORS } from '../../providers/vendors';

/*
 * The OpenVidu inputs below carry their JSON types only; their values are checked by OpenVidu's
 * rules in providers/openvidu/openvidu-options.ts, the same code the compatibility route uses, so
 * both answer a bad value with the same message and field (`defaultRecordingProperties.frameRate`).
 */

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

  /** Vendor options (`openvidu`, `livekit`, `fishjam`…), added from VENDORS below. */
  [block: string]: unknown;
}

addVendorBlocks(CreateSessionInput, VENDORS, (v) => v.sessionOptions);
