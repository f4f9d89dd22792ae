import { Injectable } from '@nestjs/common';
import { type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { checkLinkJoin, checkLinkRoom, linkRole } from '../join-links/join-link-scope';
import { type ProviderKind } from '../providers/provider-kind';
import {
  ConnectionsService,
  type IssuedConnection,
  type JoinInput,
  type JoinOrigin,
  SESSION_GONE,
} from './connections.service';
import { type SessionRequest, SessionsService } from './sessions.service';
import { type VideoSession } from './video-session.entity';

/**
 * The room to join: by its Roomkey id, open under a vendor id or a customSessionId, or
 * got-or-created by request.
 */
export type RoomRef =
  | { sessionId: string }
  | {
      open: {
        kind: ProviderKind;
        credentialId: string | null;
        /** What the NOT_FOUND names when no such room is open (`Session`, `Meeting`). */
        what: string;
      } & ({ externalId: string } | { customId: string });
    }
  | { request: SessionRequest };

export interface JoinRoomCommand {
  origin: JoinOrigin;
  room: RoomRef;
  join: JoinInput;
  /**
   * When the vendor has dropped the room (SESSION_GONE): the request that makes it again under
   * the same key; the join is then issued there, once. Without it the CONFLICT is the answer.
   */
  recreateIfGone?: (gone: VideoSession) => SessionRequest;
}

/**
 * Joining a room, the one use case behind GraphQL's createConnection and every compatibility
 * route that mints: check what the join asks for (before any vendor call), get or create the
 * room, issue at the vendor, and record the connection with its one audit event.
 */
@Injectable()
export class JoinRoom {
  constructor(
    private readonly sessions: SessionsService,
    private readonly connections: ConnectionsService,
  ) {}

  async execute(ctx: RequestContext, cmd: JoinRoomCommand): Promise<IssuedConnection> {
    const { origin } = cmd;
    // A join link issues at most its role (its maximum when the route asks for none).
    const join = ctx.joinLink
      ? { ...cmd.join, role: linkRole(ctx.joinLink, cmd.join.role) }
      : cmd.join;
    const kind = kindOf(cmd.room);
    if (kind) {
      this.connections.checkJoin(kind, join);
      checkLinkJoin(ctx.joinLink, kind, join.role, this.connections.receiveOnly(kind, join));
    }
    const session = await this.room(ctx, cmd.room, origin);
    checkLinkRoom(ctx.joinLink, session.provider, session.customId);
    const receiveOnly = this.connections.receiveOnly(session.provider, join);
    checkLinkJoin(ctx.joinLink, session.provider, join.role, receiveOnly);
    try {
      return await this.connections.issueFor(ctx, session, join, origin);
    } catch (err) {
      const gone = err instanceof DomainException && err.reason === SESSION_GONE;
      if (!gone || !cmd.recreateIfGone) throw err;
      const again = await this.sessions.create(ctx, cmd.recreateIfGone(session), origin.via);
      return this.connections.issueFor(ctx, again, join, origin);
    }
  }

  private async room(
    ctx: RequestContext,
    room: RoomRef,
    origin: JoinOrigin,
  ): Promise<VideoSession> {
    if ('sessionId' in room) return this.sessions.get(ctx, room.sessionId);
    if ('request' in room) return this.sessions.create(ctx, room.request, origin.via);
    const { kind, credentialId, what } = room.open;
    // Through a link, a name outside its pattern is refused before the lookup, so whether such a
    // room exists is not told (the room's own name is checked again once found).
    checkLinkRoom(
      ctx.joinLink,
      kind,
      'customId' in room.open ? room.open.customId : room.open.externalId,
    );
    const session =
      'customId' in room.open
        ? await this.sessions.findOpenByCustomId(ctx, kind, credentialId, room.open.customId)
        : await this.sessions.findOpenForKind(ctx, kind, credentialId, room.open.externalId);
    if (!session) throw DomainException.notFound(what);
    return session;
  }
}

/**
 * The vendor of a room that may be created, so the join is checked before the vendor is called
 * to create it. Existing rooms are found first (no vendor call), as the routes always did.
 */
function kindOf(room: RoomRef): ProviderKind | null {
  return 'request' in room ? (room.request.provider ?? null) : null;
}
