import { Field, ID, InputType } from '@nestjs/graphql';
import { IsEnum, IsUUID } from 'class-validator';
import { MemberRole } from '../../common/auth/roles';

@InputType({ description: "Changes a member's role." })
export class UpdateMemberRoleInput {
  @Field(() => ID, { description: 'Membership id.' })
  @IsUUID()
  memberId!: string;

  @Field(() => MemberRole, { description: 'The new role.' })
  @IsEnum(MemberRole)
  role!: MemberRole;
}
