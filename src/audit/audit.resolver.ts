import { Args, Int, Query, Resolver } from '@nestjs/graphql';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, MaxLength, ValidateNested } from 'class-validator';
import { ArgsType, Field } from '@nestjs/graphql';
import { PLATFORM_ADMIN, Roles } from '../common/auth/decorators';
import { MemberRole } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { Connection } from '../common/graphql/pagination';
import { AuditQueryService } from './audit-query.service';
import { AuditService } from './audit.service';
import { AuditEventFilter, AuditEventModel, AuditVerificationModel } from './dto/audit-event.model';

const AuditEventConnection = Connection(AuditEventModel, 'AuditEvent');
type AuditEventConnection = InstanceType<typeof AuditEventConnection>;

@ArgsType()
class AuditEventsArgs {
  @Field(() => AuditEventFilter, { nullable: true, description: 'Filters (AND).' })
  @IsOptional()
  @ValidateNested()
  @Type(() => AuditEventFilter)
  filter?: AuditEventFilter | null;

  @Field(() => Int, { nullable: true, description: 'Page size (default 20, clamped to 1..100).' })
  @IsOptional()
  @IsInt()
  first?: number | null;

  @Field(() => String, {
    nullable: true,
    description: 'Cursor of the last event of the previous page.',
  })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  after?: string | null;
}

@Resolver(() => AuditEventModel)
export class AuditResolver {
  constructor(
    private readonly query: AuditQueryService,
    private readonly audit: AuditService,
  ) {}

  @Query(() => AuditEventConnection, { description: "The tenant's audit log, newest first." })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  auditEvents(
    @Ctx() ctx: RequestContext,
    @Args() args: AuditEventsArgs,
  ): Promise<AuditEventConnection> {
    return this.query.list(ctx, args.filter, args, (e) => AuditEventModel.from(e));
  }

  @Query(() => AuditEventConnection, {
    description:
      'The platform audit chain, newest first: events that belong to no tenant (e.g. a failed sign-in naming no tenant or an unknown one). Platform administrators only.',
  })
  @Roles(PLATFORM_ADMIN)
  platformAuditEvents(
    @Ctx() ctx: RequestContext,
    @Args() args: AuditEventsArgs,
  ): Promise<AuditEventConnection> {
    return this.query.listPlatform(ctx, args.filter, args, (e) => AuditEventModel.from(e));
  }

  @Query(() => AuditVerificationModel, {
    description: "Re-computes the tenant's audit chain and reports the first bad event.",
  })
  @Roles(MemberRole.OWNER, MemberRole.ADMIN)
  async verifyAuditLog(@Ctx() ctx: RequestContext): Promise<AuditVerificationModel> {
    return Object.assign(new AuditVerificationModel(), await this.audit.verify(ctx.tenantId));
  }

  @Query(() => AuditVerificationModel, {
    description:
      'Re-computes the platform audit chain and reports the first bad event. Platform administrators only.',
  })
  @Roles(PLATFORM_ADMIN)
  async verifyPlatformAuditLog(@Ctx() ctx: RequestContext): Promise<AuditVerificationModel> {
    return Object.assign(new AuditVerificationModel(), await this.audit.verifyPlatform(ctx));
  }
}
