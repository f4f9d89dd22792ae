import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { agoraRtmUser, agoraUid } from '../providers/adapters/agora-limits';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { AgoraRtmService } from '../sessions/agora-rtm.service';
import { JoinRoom } from '../sessions/join-room';
import {
  CompatReply,
  type CompatRoute,
  type Failure,
  type Reply,
  credentialParam,
} from './compat-reply';
import { CompatTenantGuard } from './compat-tenant.guard';
import { objectBody } from './compat-input';

const VIA = 'compat.agora';
const DEFAULT_EXPIRY = 3600;
const MAX_EXPIRY = 86_400;
/** The token service's headers, on every answer. */
export const AGORA_NO_CACHE = {
  'Cache-Control': 'private, no-cache, no-store, must-revalidate',
  Expires: '-1',
  Pragma: 'no-cache',
};
export const AGORA_ROLES = 'publisher, 1, subscriber, 2';

/**
 * The token service's two error shapes: a bad parameter is `{message: "<what>: <why>"}`, a token
 * that cannot be built (unknown tokenType, bad uid) `{error: "<what> - <why>"}`; both with status.
 */
const onError =
  (what: string) =>
  (e: Failure): Reply => {
    const builder = e.field === 'tokenType' || e.field === 'uid';
    const json =
      e.code === ErrorCode.BAD_USER_INPUT && !builder
        ? { message: `${what}: ${e.message}`, status: e.status }
        : { error: `${what} - ${e.message}`, status: e.status };
    return { status: e.status, json, headers: AGORA_NO_CACHE };
  };

/** The RTC token route: its name (audit, logs) and its error shape. */
export const AGORA_RTC: CompatRoute = {
  route: 'agora.rtc',
  onError: onError('Error Generating RTC token'),
};

/** `publisher`/`1` or `subscriber`/`2` (the upstream service silently made anything else a subscriber). */
function role(value: unknown, absent?: ParticipantRole): ParticipantRole {
  if ((value === undefined || value === '') && absent) return absent;
  const v = String(value).toLowerCase();
  if (v === 'publisher' || v === '1') return ParticipantRole.PUBLISHER;
  if (v === 'subscriber' || v === '2') return ParticipantRole.SUBSCRIBER;
  throw DomainException.badInput('role', `role must be one of ${AGORA_ROLES}`);
}

/** Seconds from now, 1..86400; default 3600. */
function expiry(value: unknown): number {
  if (value === undefined || value === '' || value === 0) return DEFAULT_EXPIRY;
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^\d{1,6}$/.test(value)
        ? Number(value)
        : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_EXPIRY) {
    throw DomainException.badInput(
      'expiry',
      `expiry must be a whole number of seconds from 1 to ${MAX_EXPIRY}`,
    );
  }
  return n;
}

/** `uid` (uint32, 0 = any user) or `userAccount` (a string account). */
function rtcUser(tokenType: string, value: string): { uid?: number; userAccount?: string } {
  if (tokenType === 'uid') return { uid: agoraUid(value === '' ? '0' : value) ?? 0 };
  if (tokenType === 'userAccount') {
    if (!value || value === '0')
      throw DomainException.badInput('uid', 'userAccount must not be empty or 0');
    return { userAccount: value };
  }
  throw DomainException.badInput('tokenType', 'tokenType must be uid or userAccount');
}

/**
 * The Agora token service (AgoraIO-Community/agora-token-service): `/ping`, `/rtc/…`, `/rtm/…`,
 * `/rte/…` and `POST /getToken`, with its JSON bodies, 400 errors and no-cache headers. Routes
 * match with or without the trailing slash. RTC tokens go through Roomkey's session (one per
 * channel) and connection records.
 */
@Controller('t/:tenantSlug/agora')
@UseGuards(CompatTenantGuard)
export class AgoraCompatController {
  constructor(
    private readonly joinRoom: JoinRoom,
    private readonly rtm: AgoraRtmService,
  ) {}

  @Get('ping')
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.ping', onError('Error'))
  ping(): Promise<Reply> {
    return Promise.resolve({ status: 200, json: { message: 'pong' }, headers: AGORA_NO_CACHE });
  }

  @Get(['rtc/:channelName/:role/:tokenType/:uid', 'rtc/:channelName/:role/:tokenType'])
  @Roles(...ANY_MEMBER)
  @CompatReply(AGORA_RTC.route, AGORA_RTC.onError)
  rtc(
    @Ctx() ctx: RequestContext,
    @Param() p: Record<string, string>,
    @Query() q: Record<string, unknown>,
  ): Promise<Reply> {
    return agoraRtc(this.joinRoom, ctx, p, q);
  }

  @Get('rtm/:uid')
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.rtm', onError('Error Generating RTM token'))
  async rtmRoute(
    @Ctx() ctx: RequestContext,
    @Param('uid') uid: string,
    @Query() q: Record<string, unknown>,
  ): Promise<Reply> {
    const { token } = await this.rtm.issue(
      ctx,
      credentialParam(q.credential),
      uid,
      expiry(q.expiry),
      { via: VIA, route: 'agora.rtm' },
    );
    return { status: 200, json: { rtmToken: token }, headers: AGORA_NO_CACHE };
  }

  @Get([
    'rte/:channelName/:role/:tokenType/:rtcuid/:rtmuid',
    'rte/:channelName/:role/:tokenType/:rtcuid',
  ])
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.rte', onError('Error Generating RTC and RTM token'))
  async rte(
    @Ctx() ctx: RequestContext,
    @Param() p: Record<string, string>,
    @Query() q: Record<string, unknown>,
  ): Promise<Reply> {
    const r = role(p.role);
    const seconds = expiry(q.expiry);
    const rtmUser = p.rtmuid || (p.rtcuid && p.rtcuid !== '0' ? p.rtcuid : '');
    if (!rtmUser)
      throw DomainException.badInput('rtmuid', 'The RTM user id cannot be empty or "0"');
    agoraRtmUser(rtmUser); // both halves are checked before either is minted
    const rtcToken = await issueRtc(
      this.joinRoom,
      ctx,
      'agora.rte',
      p.channelName,
      r,
      p.tokenType,
      p.rtcuid,
      seconds,
      q.credential,
    );
    const { token } = await this.rtm.issue(ctx, credentialParam(q.credential), rtmUser, seconds, {
      via: VIA,
      route: 'agora.rte',
    });
    return { status: 200, json: { rtcToken, rtmToken: token }, headers: AGORA_NO_CACHE };
  }

  @Post('getToken')
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.getToken', (e): Reply => ({
    status: e.status,
    json: { error: e.message, status: e.status },
    headers: AGORA_NO_CACHE,
  }))
  async getToken(
    @Ctx() ctx: RequestContext,
    @Body() body: unknown,
    @Query('credential') credential: unknown,
  ): Promise<Reply> {
    const b = objectBody(body);
    const uid = typeof b.uid === 'number' ? String(b.uid) : b.uid;
    if (uid !== undefined && typeof uid !== 'string')
      throw DomainException.badInput('uid', 'uid must be a string');
    const seconds = expiry(b.expire);
    let token: string;
    if (b.tokenType === 'rtc') {
      if (typeof b.channel !== 'string' || !b.channel)
        throw DomainException.badInput('channel', 'missing channel name');
      if (!uid) throw DomainException.badInput('uid', 'missing user ID or account');
      token = await issueRtc(
        this.joinRoom,
        ctx,
        'agora.getToken',
        b.channel,
        role(b.role, ParticipantRole.SUBSCRIBER),
        /^\d+$/.test(uid) ? 'uid' : 'userAccount',
        uid,
        seconds,
        credential,
      );
    } else if (b.tokenType === 'rtm') {
      if (!uid) throw DomainException.badInput('uid', 'missing user ID or account');
      const origin = { via: VIA, route: 'agora.getToken' };
      token = (await this.rtm.issue(ctx, credentialParam(credential), uid, seconds, origin)).token;
    } else {
      throw DomainException.badInput('tokenType', 'Unsupported tokenType (use rtc or rtm)');
    }
    return { status: 200, json: { token }, headers: AGORA_NO_CACHE };
  }
}

/** The RTC route's answer (the controller's, and the Agora lane's in front of Express). */
export async function agoraRtc(
  joinRoom: JoinRoom,
  ctx: RequestContext,
  p: Record<string, string | undefined>,
  q: Record<string, unknown>,
): Promise<Reply> {
  const token = await issueRtc(
    joinRoom,
    ctx,
    AGORA_RTC.route,
    p.channelName ?? '',
    role(p.role),
    p.tokenType ?? '',
    p.uid ?? '',
    expiry(q.expiry),
    q.credential,
  );
  return { status: 200, json: { rtcToken: token }, headers: AGORA_NO_CACHE };
}

/** The channel's session (created once), then a recorded connection with the token. */
async function issueRtc(
  joinRoom: JoinRoom,
  ctx: RequestContext,
  route: string,
  channel: string,
  r: ParticipantRole,
  tokenType: string,
  uid: string,
  seconds: number,
  credential: unknown,
): Promise<string> {
  const join = { role: r, ttlSeconds: seconds, agora: rtcUser(tokenType, uid) };
  const issued = await joinRoom.execute(ctx, {
    origin: { via: VIA, route },
    room: {
      request: {
        provider: ProviderKind.AGORA,
        credentialId: credentialParam(credential),
        customSessionId: channel,
      },
    },
    join,
  });
  return String(issued.credential.token);
}
