import { Field, InputType } from '@nestjs/graphql';
import { IsDate, IsEnum, IsOptional, IsString, Length } from 'class-validator';
import { MemberRole } from '../../common/auth/roles';

@InputType({ description: 'A new API key.' })
export class CreateApiKeyInput {
  @Field({ description: 'Human-readable name (1-200 characters).' })
  @IsString()
  @Length(1, 200)
  name!: string;

  @Field(() => MemberRole, {
    description: "Role the key acts with; at most the caller's own role.",
  })
  @IsEnum(MemberRole)
  role!: MemberRole;

  @Field(() => Date, {
    nullable: true,
    description: 'Expiry; must be in the future. Null for no expiry.',
  })
  @IsOptional()
  @IsDate()
  expiresAt?: Date | null;
}
