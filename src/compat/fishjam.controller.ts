import { Controller, Get, Param, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { NOT_LIVESTREAM } from '../providers/fishjam/fishjam-limits';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { SESSION_GONE } from '../sessions/connections.service';
import { JoinRoom } from '../sessions/join-room';
import { type SessionRequest, SessionsService } from '../sessions/sessions.service';
import {
  CompatReply,
  type Failure,
  type Reply,
  credentialParam,
  inSampleTerms,
} from './compat-reply';
import { CompatTenantGuard } from './compat-tenant.guard';

const VIA = 'compat.fishjam';
const ROOM_TYPES = ['conference', 'audio_only', 'livestream'];
const ROOM_MANAGER = 'fishjam.room-manager';
const LIVESTREAM = 'fishjam.livestream';
const VIEWER_TOKEN = 'fishjam.livestream-viewer-token';

/** What the sample's Fastify schema checks: refused in Fastify's validation shape. */
const SCHEMA_FIELDS = new Set(['roomName', 'peerName', 'roomType', 'public']);
/** Roomkey's request fields under the sample's names, for the messages of Roomkey's own checks. */
const SAMPLE_FIELDS: Record<string, string> = {
  customSessionId: 'roomName',
  identity: 'peerName',
  displayName: 'peerName',
};

/**
 * Query problems are answered as the sample's Fastify schema answers them; anything else as the
 * sample's `{error}`, naming the sample's fields.
 */
const onError = (e: Failure): Reply => {
  if (e.field !== undefined && SCHEMA_FIELDS.has(e.field)) {
    return {
      status: 400,
      json: {
        statusCode: 400,
        code: 'FST_ERR_VALIDATION',
        error: 'Bad Request',
        message: e.message,
      },
    };
  }
  return { status: e.status, json: { error: inSampleTerms(e, SAMPLE_FIELDS) } };
};

function required(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw DomainException.badInput(name, `querystring must have required property '${name}'`);
  }
  return value;
}

/** `public`: the schema's boolean, which Fastify coerces from `true` / `false`; absent is undefined. */
function publicParam(value: unknown): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw DomainException.badInput('public', 'querystring/public must be boolean');
}

/** The room options asked for: `public` only when the query gives it (Fishjam's default is false). */
function roomOptions(roomType: string, isPublic: boolean | undefined): SessionRequest['options'] {
  return {
    [ProviderKind.FISHJAM]: { roomType, ...(isPublic === undefined ? {} : { public: isPublic }) },
  };
}

/**
 * The sample answers 404 when it has no livestream under the name (its front ends say "a
 * livestream room of name … does not exist"): also when Fishjam has since dropped the room, or
 * the room under the name is not a livestream room.
 */
async function asRoomManager<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof DomainException && err.reason === SESSION_GONE) {
      throw DomainException.notFound('Room');
    }
    if (err instanceof DomainException && err.reason === NOT_LIVESTREAM) {
      throw new DomainException(ErrorCode.NOT_FOUND, 'The room is not a livestream room', {
        reason: NOT_LIVESTREAM,
      });
    }
    throw err;
  }
}

/**
 * Fishjam's room manager sample (the backend of Fishjam's front-end examples and its hosted
 * Sandbox API), as `GET …/room-manager…`:
 *   - `?roomName=&peerName=[&roomType=][&public=]` (and the older `/:roomName/users/:peerName`)
 *     → `{peerToken, url, room:{id,name}, peer:{id,name}}`: the room is created once per name
 *     (Roomkey's session for that name); each call adds and records a new peer;
 *   - `/livestream?roomName=[&public=]` → `{streamerToken, room:{id,name}}`: the livestream room
 *     for that name, got or created, and a streamer token for it;
 *   - `/:roomName/livestream-viewer-token` (and the older `/:roomName/broadcast-viewer-token`) →
 *     `{token}`: a viewer token for the existing livestream room of that name, 404 when none.
 * Every token is recorded as a connection with its one `connection.created` event.
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
  @CompatReply(ROOM_MANAGER, onError)
  byQuery(@Ctx() ctx: RequestContext, @Query() q: Record<string, unknown>): Promise<Reply> {
    return this.access(ctx, q.roomName, q.peerName, q);
  }

  @Get('livestream')
  @Roles(...ANY_MEMBER)
  @CompatReply(LIVESTREAM, onError)
  async livestream(
    @Ctx() ctx: RequestContext,
    @Query() q: Record<string, unknown>,
  ): Promise<Reply> {
    const roomName = required(q.roomName, 'roomName');
    const request: SessionRequest = {
      provider: ProviderKind.FISHJAM,
      credentialId: credentialParam(q.credential),
      customSessionId: roomName,
      options: roomOptions('livestream', publicParam(q.public)),
    };
    const issued = await asRoomManager(
      this.joinRoom.execute(ctx, {
        origin: { via: VIA, route: LIVESTREAM },
        room: { request },
        join: { role: ParticipantRole.PUBLISHER, fishjam: { livestream: true } },
        recreateIfGone: () => request,
      }),
    );
    const c = issued.credential;
    return {
      status: 200,
      json: { streamerToken: c.token, room: { id: c.roomId, name: roomName } },
    };
  }

  @Get([':roomName/livestream-viewer-token', ':roomName/broadcast-viewer-token'])
  @Roles(...ANY_MEMBER)
  @CompatReply(VIEWER_TOKEN, onError)
  viewerToken(
    @Ctx() ctx: RequestContext,
    @Param('roomName') roomName: string,
    @Query() q: Record<string, unknown>,
  ): Promise<Reply> {
    return this.viewer(ctx, roomName, q);
  }

  @Get(':roomName/users/:peerName')
  @Roles(...ANY_MEMBER)
  @CompatReply(ROOM_MANAGER, onError)
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
      options: roomOptions(roomType, publicParam(q.public)),
    };
    const issued = await this.joinRoom.execute(ctx, {
      origin: { via: VIA, route: ROOM_MANAGER },
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

  /** A viewer token for the open livestream room of that name (never creates one). */
  private async viewer(
    ctx: RequestContext,
    roomName: string,
    q: Record<string, unknown>,
  ): Promise<Reply> {
    const issued = await asRoomManager(
      this.joinRoom.execute(ctx, {
        origin: { via: VIA, route: VIEWER_TOKEN },
        room: {
          open: {
            kind: ProviderKind.FISHJAM,
            credentialId: credentialParam(q.credential),
            customId: roomName,
            what: 'Room',
          },
        },
        join: { role: ParticipantRole.SUBSCRIBER, fishjam: { livestream: true } },
      }),
    );
    return { status: 200, json: { token: issued.credential.token } };
  }
}
