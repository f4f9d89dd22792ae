import { ParseUUIDPipe } from '@nestjs/common';
import {
  Args,
  Context,
  ID,
  Int,
  Mutation,
  Parent,
  Query,
  ResolveField,
  Resolver,
} from '@nestjs/graphql';
import DataLoader from 'dataloader';
import { Audit } from '../audit/audit.decorator';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { type Page } from '../common/graphql/pagination';
import { ProviderRegistry } from '../providers/provider-registry';
import { type SessionConnection } from './connection.entity';
import { ConnectionsService } from './connections.service';
import { ConnectionModel } from './dto/connection.model';
import { CreateSessionInput } from './dto/create-session.input';
import { SessionsArgs } from './dto/sessions.args';
import { VideoSessionModel, VideoSessionPage } from './dto/video-session.model';
import { SessionsService } from './sessions.service';

const uuid = new ParseUUIDPipe({ version: '4' });

@Resolver(() => VideoSessionModel)
export class SessionsResolver {
  /** Per request: its connection loaders, by `first`. Dropped with the request. */
  private readonly loaders = new WeakMap<
    object,
    Map<number, DataLoader<string, SessionConnection[]>>
  >();

  constructor(
    private readonly service: SessionsService,
    private readonly connectionsService: ConnectionsService,
    private readonly registry: ProviderRegistry,
  ) {}

  @Query(() => VideoSessionPage, { description: "The tenant's sessions, newest first." })
  @Roles(...ANY_MEMBER)
  sessions(
    @Ctx() ctx: RequestContext,
    @Args() args: SessionsArgs,
  ): Promise<Page<VideoSessionModel>> {
    return this.service.list(ctx, args.filter, args, (s) => VideoSessionModel.from(s)) as Promise<
      Page<VideoSessionModel>
    >;
  }

  @Query(() => VideoSessionModel, {
    description: 'One session of the tenant, with its connections.',
  })
  @Roles(...ANY_MEMBER)
  async session(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }, uuid) id: string,
  ): Promise<VideoSessionModel> {
    return VideoSessionModel.from(await this.service.get(ctx, id));
  }

  @Mutation(() => VideoSessionModel, {
    description:
      "Creates a session with a vendor (credentialId, or the tenant's default for provider). With customSessionId it is idempotent: the open session with that key is returned.",
  })
  @Roles(...ANY_MEMBER)
  @Audit({ action: 'session.created', targetType: 'video_session' })
  async createSession(
    @Ctx() ctx: RequestContext,
    @Args('input') input: CreateSessionInput,
  ): Promise<VideoSessionModel> {
    const session = await this.service.create(ctx, {
      provider: input.provider,
      credentialId: input.credentialId,
      customSessionId: input.customSessionId,
      name: input.name,
      options: Object.fromEntries(
        this.registry.all().map((v) => [v.kind, plain(input[v.block] as object | null)]),
      ),
    });
    return VideoSessionModel.from(session);
  }

  @Mutation(() => VideoSessionModel, {
    description:
      'Closes the session at the vendor and records its end. MEMBERs may end only sessions they created.',
  })
  @Roles(...ANY_MEMBER)
  @Audit({ action: 'session.ended', targetType: 'video_session', targetIdArg: 'id' })
  async endSession(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }, uuid) id: string,
  ): Promise<VideoSessionModel> {
    return VideoSessionModel.from(await this.service.end(ctx, id));
  }

  @ResolveField(() => [ConnectionModel], {
    description: 'Join credentials issued for this session, newest first (without the secrets).',
  })
  async connections(
    @Ctx() ctx: RequestContext,
    @Parent() session: VideoSessionModel,
    @Args('first', {
      type: () => Int,
      nullable: true,
      defaultValue: 100,
      description: 'How many (1..100, default 100).',
    })
    first: number,
    @Context('req') req: object,
  ): Promise<ConnectionModel[]> {
    const rows = await this.connectionLoader(req, ctx, first).load(session.id);
    return rows.map((c) => ConnectionModel.from(c, session.provider));
  }

  /** One batched query per request (and `first`) for a page of sessions with their connections. */
  private connectionLoader(
    req: object,
    ctx: RequestContext,
    first: number,
  ): DataLoader<string, SessionConnection[]> {
    let perFirst = this.loaders.get(req);
    if (!perFirst) {
      perFirst = new Map();
      this.loaders.set(req, perFirst);
    }
    let loader = perFirst.get(first);
    if (!loader) {
      loader = new DataLoader((ids) => this.connectionsService.listForSessions(ctx, ids, first));
      perFirst.set(first, loader);
    }
    return loader;
  }
}

/** A validated input block as plain options (null when absent). */
function plain(block: object | null | undefined): Record<string, unknown> | null {
  return block ? { ...block } : null;
}
