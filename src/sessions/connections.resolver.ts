import { ParseUUIDPipe } from '@nestjs/common';
import { Args, ID, Mutation, Resolver } from '@nestjs/graphql';
import { Audit } from '../audit/audit.decorator';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { ProviderKind } from '../providers/provider-kind';
import { ConnectionsService } from './connections.service';
import { ConnectionModel } from './dto/connection.model';
import { CreateConnectionInput } from './dto/create-connection.input';
import { joinCredentialModel } from './dto/join-credential.model';
import {
  CreateMeetingInput,
  CreateParticipantInput,
  MeetingModel,
  ParticipantModel,
} from './dto/meeting.model';
import { JoinRoom } from './join-room';
import { SessionsService } from './sessions.service';

@Resolver(() => ConnectionModel)
export class ConnectionsResolver {
  constructor(
    private readonly sessions: SessionsService,
    private readonly connections: ConnectionsService,
    private readonly joinRoom: JoinRoom,
  ) {}

  @Mutation(() => ConnectionModel, {
    description:
      'Issues a join credential for a session; `credential` holds it (returned only here). MODERATOR needs ADMIN or OWNER.',
  })
  @Roles(...ANY_MEMBER)
  @Audit({ action: 'connection.created', targetType: 'connection' })
  async createConnection(
    @Ctx() ctx: RequestContext,
    @Args('input') input: CreateConnectionInput,
  ): Promise<ConnectionModel> {
    const { sessionId, ...join } = input;
    const issued = await this.joinRoom.execute(ctx, {
      origin: { via: 'graphql', route: 'graphql:createConnection' },
      room: { sessionId },
      join,
    });
    const kind = issued.session.provider;
    return ConnectionModel.from(
      issued.connection,
      kind,
      joinCredentialModel(kind, issued.credential),
    );
  }

  @Mutation(() => ConnectionModel, {
    description:
      'Revokes a join credential: deletes the OpenVidu connection, Pexip participant or Fishjam peer, disconnects the LiveKit participant, and makes a Red5 credential fail validation. Agora and LiveKit tokens are signed, not stored: they stay valid until they expire. MEMBERs may revoke only what they issued.',
  })
  @Roles(...ANY_MEMBER)
  @Audit({ action: 'connection.revoked', targetType: 'connection', targetIdArg: 'id' })
  async revokeConnection(
    @Ctx() ctx: RequestContext,
    @Args('id', { type: () => ID }, new ParseUUIDPipe({ version: '4' })) id: string,
  ): Promise<ConnectionModel> {
    const conn = await this.connections.revoke(ctx, id);
    const session = await this.sessions.get(ctx, conn.sessionId);
    return ConnectionModel.from(conn, session.provider);
  }

  @Mutation(() => MeetingModel, {
    description:
      'Creates a Pexip VPaaS meeting (the VPaaS tutorial `POST /meetings`, which takes no body: every input field, and the input itself, is optional).',
  })
  @Roles(...ANY_MEMBER)
  @Audit({ action: 'session.created', targetType: 'video_session' })
  async createMeeting(
    @Ctx() ctx: RequestContext,
    @Args('input', { type: () => CreateMeetingInput, nullable: true })
    input?: CreateMeetingInput | null,
  ): Promise<MeetingModel> {
    const s = await this.sessions.create(ctx, {
      provider: ProviderKind.PEXIP,
      credentialId: input?.credentialId,
      customSessionId: input?.customSessionId,
      name: input?.name,
    });
    const cred = await this.sessions.credentialOf(ctx, s);
    return Object.assign(new MeetingModel(), {
      sessionId: s.id,
      apiAddress: String(cred.config.apiAddress),
      meetingId: s.externalId,
      status: typeof s.details.status === 'string' ? s.details.status : null,
      createdAt: typeof s.details.created_at === 'string' ? s.details.created_at : null,
    });
  }

  @Mutation(() => ParticipantModel, {
    description:
      'Creates a one-time participant for a Pexip meeting (the VPaaS tutorial `POST /meetings/:id/participants`).',
  })
  @Roles(...ANY_MEMBER)
  @Audit({ action: 'connection.created', targetType: 'connection' })
  async createParticipant(
    @Ctx() ctx: RequestContext,
    @Args('input') input: CreateParticipantInput,
  ): Promise<ParticipantModel> {
    const issued = await this.joinRoom.execute(ctx, {
      origin: { via: 'graphql', route: 'graphql:createParticipant' },
      room: {
        open: {
          kind: ProviderKind.PEXIP,
          credentialId: input.credentialId ?? null,
          externalId: input.meetingId,
          what: 'Meeting',
        },
      },
      join: { role: input.role, displayName: input.displayName, ttlSeconds: input.ttlSeconds },
    });
    const c = issued.credential;
    return Object.assign(new ParticipantModel(), {
      connectionId: issued.connection.id,
      apiAddress: String(c.apiAddress),
      meetingId: String(c.meetingId),
      participantId: String(c.participantId),
      participantSecret: String(c.participantSecret),
    });
  }
}
