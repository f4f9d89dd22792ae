import { Field, ID, ObjectType } from '@nestjs/graphql';
import { MemberRole } from '../../common/auth/roles';
import { UserModel } from '../../users/dto/user.model';
import { type Membership } from '../membership.entity';

@ObjectType('Member', { description: "A user's membership of the caller's tenant." })
export class MemberModel {
  @Field(() => ID, {
    description: 'Membership id (use it with updateMemberRole and removeMember).',
  })
  id!: string;

  @Field(() => UserModel, { description: 'The member.' })
  user!: UserModel;

  @Field(() => MemberRole, { description: 'Role in this tenant.' })
  role!: MemberRole;

  @Field({ description: 'When the user joined the tenant.' })
  createdAt!: Date;

  static from(m: Membership): MemberModel {
    if (!m.user) throw new Error('Membership loaded without its user');
    return Object.assign(new MemberModel(), {
      id: m.id,
      user: UserModel.from(m.user),
      role: m.role,
      createdAt: m.createdAt,
    });
  }
}
