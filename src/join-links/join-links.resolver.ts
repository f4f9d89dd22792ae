import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Query, Resolver } from '@nestjs/graphql';
import { Audit } from '../audit/audit.decorator';
import { Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { Connection, PageArgs } from '../common/graphql/pagination';
import { CreateJoinLinkInput } from './dto/create-join-link.input';
import { CreateJoinLinkPayload, JoinLinkModel } from './dto/join-link.model';
import { BROWSER_VENDORS } from '../compat/browser-vendors';
import { JoinLinksService } from './join-links.service';

const JoinLinkConnection = Connection(JoinLinkModel, 'JoinLink');
type JoinLinkConnection = InstanceType<typeof JoinLinkConnection>;

const VENDOR_SEGMENT = Object.fromEntries(Object.entries(BROWSER_VENDORS).map(([k, v]) => [v, k]));

@Resolver(() => JoinLinkModel)
export class JoinLinksResolver {
  constructor(private readonly links: JoinLinksService) {}

  @Query(() => JoinLinkConnection, {
    description: "Join links of the caller's tenant, newest first. Never secrets.",
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  joinLinks(@Ctx() ctx: RequestContext, @Args() page: PageArgs): Promise<JoinLinkConnection> {
    return this.links.list(ctx, page, (l) => JoinLinkModel.from(l));
  }

  @Mutation(() => CreateJoinLinkPayload, {
    description: 'Creates a scoped join link; the link itself is returned only here.',
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'join_link.created', targetType: 'join_link' })
  async createJoinLink(
    @Ctx() ctx: RequestContext,
    @Args('input') input: CreateJoinLinkInput,
  ): Promise<CreateJoinLinkPayload> {
    const { joinLink, link } = await this.links.create(ctx, input);
    return Object.assign(new CreateJoinLinkPayload(), {
      joinLink: JoinLinkModel.from(joinLink),
      link,
      basePath: `/t/${ctx.tenantSlug}/j/${link}/${VENDOR_SEGMENT[joinLink.provider]}`,
    });
  }

  @Mutation(() => JoinLinkModel, { description: 'Revokes a join link at once, in every instance.' })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  @Audit({ action: 'join_link.revoked', targetType: 'join_link', targetIdArg: 'id' })
  async revokeJoinLink(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }, new ParseUUIDPipe({ version: '4' })) id: string,
  ): Promise<JoinLinkModel> {
    return JoinLinkModel.from(await this.links.revoke(ctx, id));
  }
}
