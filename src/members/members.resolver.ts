import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { ParseUUIDPipe } from '@nestjs/common';
import { Audit } from '../audit/audit.decorator';
import { Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { Connection, PageArgs } from '../common/graphql/pagination';
import { AddMemberInput } from './dto/add-member.input';
import { MemberModel } from './dto/member.model';
import { UpdateMemberRoleInput } from './dto/update-member-role.input';
import { MembersService } from './members.service';

const MemberConnection = Connection(MemberModel, 'Member');
type MemberConnection = InstanceType<typeof MemberConnection>;

@Resolver(() => MemberModel)
export class MembersResolver {
  constructor(private readonly membersService: MembersService) {}

  @Query(() => MemberConnection, { description: "Members of the caller's tenant, newest first." })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  members(@Ctx() ctx: RequestContext, @Args() page: PageArgs): Promise<MemberConnection> {
    return this.membersService.list(ctx, page, (m) => MemberModel.from(m));
  }

  @Mutation(() => MemberModel, {
    description: 'Adds a member. OWNER or ADMIN; only an OWNER can grant OWNER.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'member.added', targetType: 'member' })
  async addMember(
    @Ctx() ctx: RequestContext,
    @Args('input') input: AddMemberInput,
  ): Promise<MemberModel> {
    return MemberModel.from(await this.membersService.add(ctx, input));
  }

  @Mutation(() => MemberModel, {
    description: "Changes a member's role. The last OWNER cannot be demoted.",
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'member.role_changed', targetType: 'member', targetIdArg: 'memberId' })
  async updateMemberRole(
    @Ctx() ctx: RequestContext,
    @Args('input') input: UpdateMemberRoleInput,
  ): Promise<MemberModel> {
    return MemberModel.from(await this.membersService.updateRole(ctx, input.memberId, input.role));
  }

  @Mutation(() => MemberModel, {
    description: 'Removes a member. The last OWNER cannot be removed.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'member.removed', targetType: 'member', targetIdArg: 'memberId' })
  async removeMember(
    @Ctx() ctx: RequestContext,
    @Args('memberId', { type: () => ID }, new ParseUUIDPipe({ version: '4' })) memberId: string,
  ): Promise<MemberModel> {
    return MemberModel.from(await this.membersService.remove(ctx, memberId));
  }
}
