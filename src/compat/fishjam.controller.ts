import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { ProviderKind } from '../providers/provider-kind';
import { JoinRoom } from '../sessions/join-room';
import { type SessionRequest, SessionsService } from '../sessions/sessions.service';
import { CompatReply, type Failure, type Reply, credentialParam } from './compat-reply';
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
    private readonly joinRoom: JoinRoom,
  ) {}

  @Get()
  @Roles(...ANY_MEMBER)
  @CompatReply('fishjam.room-manager', onError)
  byQuery(@Ctx() ctx: RequestContext, @Query() q: Record<string, unknown>): Promise<Reply> {
    return this.access(ctx, q.roomName, q.peerName, q);
  }

  @Get(':roomName/users/:peerName')
  @Roles(...ANY_MEMBER)
  @CompatReply('fishjam.room-manager', onError)
  byPath(
    @Ctx() ctx: RequestContext,
    @Param('roomName') roomName: string,
    @Param('peerName') peerName: string,
    @Query() q: Record<string, unknown>,
  ): Promise<Reply> {
    return this.access(ctx, roomName, peerName, q);
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
    // Get-or-create by name; a room Fishjam has since purged is made again.
    const request: SessionRequest = {
      provider: ProviderKind.FISHJAM,
      credentialId: credentialParam(q.credential),
      customSessionId: roomName,
      options: { [ProviderKind.FISHJAM]: { roomType } },
    };
    const issued = await this.joinRoom.execute(ctx, {
      origin: { via: VIA, route: 'fishjam.room-manager' },
      room: { request },
      join: { identity: peerName, displayName: peerName },
      recreateIfGone: () => request,
    });
    const c = issued.credential;
    const cred = await this.sessions.credentialOf(ctx, issued.session);
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
