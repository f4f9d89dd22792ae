import { Field, InputType } from '@nestjs/graphql';
import { IsEmail, IsEnum, IsOptional, IsString, Length } from 'class-validator';
import { MemberRole } from '../../common/auth/roles';

@InputType({ description: "Adds a user (created if new) to the caller's tenant." })
export class AddMemberInput {
  @Field({ description: 'Email of the user; created if no account exists.' })
  @IsEmail()
  email!: string;

  @Field(() => MemberRole, { description: 'Role to grant. Only an OWNER can grant OWNER.' })
  @IsEnum(MemberRole)
  role!: MemberRole;

  @Field(() => String, { nullable: true, description: 'Display name for a new account.' })
  @IsOptional()
  @IsString()
  @Length(0, 200)
  displayName?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Initial password for a new account (12-1024 characters). Refused for existing accounts.',
  })
  @IsOptional()
  @IsString()
  password?: string | null;
}
