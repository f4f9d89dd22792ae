import { Controller, Get, Param, Query, Req, Res, UseGuards } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { ProviderKind } from '../providers/provider-kind';
import { ConnectionsService } from '../sessions/connections.service';
import { SessionsService } from '../sessions/sessions.service';
import { type VideoSession } from '../sessions/video-session.entity';
import { CompatResponder, type Failure, type Reply, credentialParam } from './compat-responder';
import { CompatTenantGuard } from './compat-tenant.guard';

const VIA = 'compat.fishjam';
const ROOM_TYPES = ['conference', 'audio_only', 'livestream'];

/** Query problems are answered as the sample's Fastify schema answers them. */
const onError = (e: Failure): Reply =>
  e.field === 'roomName' || e.field === 'peerName' || e.field === 'roomType'
    ? {
        status: 400,
        json: {
          statusCode: 400,
          code: 'FST_ERR_VALIDATION',
          error: 'Bad Request',
          message: e.message,
        },
      }
    : { status: e.status, json: { error: e.message } };

function required(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw DomainException.badInput(name, `querystring must have required property '${name}'`);
  }
  return value;
}

/**
 * Fishjam's room manager sample: `GET …/room-manager?roomName=&peerName=[&roomType=]` (and the
 * older `/room-manager/:roomName/users/:peerName`) → `{peerToken, url, room:{id,name},
 * peer:{id,name}}`. The room is created once per name (Roomkey's session for that name); each
 * call adds and records a new peer.
 */
@Controller('t/:tenantSlug/fishjam/room-manager')
@UseGuards(CompatTenantGuard)
export class FishjamCompatController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly connections: ConnectionsService,
    private readonly responder: CompatResponder,
  ) {}

  @Get()
  @Roles(...ANY_MEMBER)
  async byQuery(
    @Ctx() ctx: RequestContext,
    @Query() q: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.run(
      req,
      res,
      'fishjam.room-manager',
      () => this.access(ctx, q.roomName, q.peerName, q),
      onError,
    );
  }

  @Get(':roomName/users/:peerName')
  @Roles(...ANY_MEMBER)
  async byPath(
    @Ctx() ctx: RequestContext,
    @Param('roomName') roomName: string,
    @Param('peerName') peerName: string,
    @Query() q: Record<string, unknown>,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.run(
      req,
      res,
      'fishjam.room-manager',
      () => this.access(ctx, roomName, peerName, q),
      onError,
    );
  }

  private async access(
    ctx: RequestContext,
    room: unknown,
    peer: unknown,
    q: Record<string, unknown>,
  ): Promise<Reply> {
    const roomName = required(room, 'roomName');
    const peerName = required(peer, 'peerName');
    const roomType = q.roomType === undefined ? 'conference' : q.roomType;
    if (typeof roomType !== 'string' || !ROOM_TYPES.includes(roomType)) {
      throw DomainException.badInput(
        'roomType',
        `querystring/roomType must be equal to one of the allowed values (${ROOM_TYPES.join(', ')})`,
      );
    }
    const credentialId = credentialParam(q.credential);
    const join = { identity: peerName, displayName: peerName };
    this.connections.checkJoin(ProviderKind.FISHJAM, join);
    // Get-or-create by name; a room Fishjam has since purged is made again.
    const getOrCreate = (): Promise<VideoSession> =>
      this.sessions.create(
        ctx,
        {
          provider: ProviderKind.FISHJAM,
          credentialId,
          customSessionId: roomName,
          options: { [ProviderKind.FISHJAM]: { roomType } },
        },
        VIA,
      );
    const session = await getOrCreate();
    const issued = await this.connections.issueOrRecreate(ctx, session, join, VIA, getOrCreate);
    const c = issued.credential;
    const cred = await this.sessions.credentialOf(ctx, session);
    const url =
      typeof c.peerWebsocketUrl === 'string' && c.peerWebsocketUrl
        ? c.peerWebsocketUrl
        : String(cred.config.fishjamUrl).replace(/^http/, 'ws');
    return {
      status: 200,
      json: {
        peerToken: c.peerToken,
        url,
        room: { id: c.roomId, name: roomName },
        peer: { id: c.peerId, name: peerName },
      },
    };
  }
}
