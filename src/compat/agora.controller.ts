import { Body, Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { agoraRtmUser, agoraUid } from '../providers/agora/agora-limits';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { AgoraUserTokens } from '../providers/agora/agora-user-tokens';
import { JoinRoom } from '../sessions/join-room';
import {
  CompatReply,
  type CompatRoute,
  type Failure,
  type Reply,
  credentialParam,
  inSampleTerms,
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
 * that cannot be built (unknown tokenType, bad uid) `{error: "<what> - <why>"}` (its Chat routes
 * write `"<what>: <why>"` there too); both with status.
 */
const onError =
  (what: string, builderSeparator = ' - ') =>
  (e: Failure): Reply => {
    const builder = e.field === 'tokenType' || e.field === 'uid';
    const why = inSampleTerms(e, { customSessionId: 'channelName' });
    const json =
      e.code === ErrorCode.BAD_USER_INPUT && !builder
        ? { message: `${what}: ${why}`, status: e.status }
        : { error: `${what}${builderSeparator}${why}`, status: e.status };
    return { status: e.status, json, headers: AGORA_NO_CACHE };
  };
const onChatError = onError('Error Generating Chat token', ': ');

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

/** A getToken body's optional string field: absent, null and '' are none. */
function optionalString(b: Record<string, unknown>, name: string): string | null {
  const v = b[name];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw DomainException.badInput(name, `${name} must be a string`);
  return v;
}

/**
 * The Agora token service (AgoraIO-Community/agora-token-service): `/ping`, `/rtc/…`, `/rtm/…`,
 * `/rte/…`, `/chat/app/`, `/chat/account/:chatid/` and `POST /getToken`, with its JSON bodies,
 * 400 errors and no-cache headers. Routes match with or without the trailing slash. RTC tokens go
 * through Roomkey's session (one per channel) and connection records; RTM tokens carry the
 * service's stream-channel privileges wherever it adds them (`/rte/…`, getToken with a channel).
 */
@Controller('t/:tenantSlug/agora')
@UseGuards(CompatTenantGuard)
export class AgoraCompatController {
  constructor(
    private readonly joinRoom: JoinRoom,
    private readonly userTokens: AgoraUserTokens,
  ) {}

  @Get('ping')
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.ping', onError('Error'))
  ping(): Promise<Reply> {
    return Promise.resolve({ status: 200, json: { message: 'pong' }, headers: AGORA_NO_CACHE });
  }

  // `…/:tokenType//` is the token service's empty uid segment (uid 0); the Agora lane leaves it
  // here. Written `/{/}` because Express drops a pattern's trailing slashes.
  @Get([
    'rtc/:channelName/:role/:tokenType/:uid',
    'rtc/:channelName/:role/:tokenType',
    'rtc/:channelName/:role/:tokenType/{/}',
  ])
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
    const { token } = await this.userTokens.rtm(
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
    // an empty rtc uid segment is uid 0, as on the rtc route
    'rte/:channelName/:role/:tokenType//:rtmuid',
    'rte/:channelName/:role/:tokenType/{/}',
  ])
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.rte', onError('Error Generating RTC and RTM token'))
  async rte(
    @Ctx() ctx: RequestContext,
    @Param()
    p: { channelName: string; role: string; tokenType: string; rtcuid?: string; rtmuid?: string },
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
      p.rtcuid ?? '', // absent on the empty-segment routes: uid 0
      seconds,
      q.credential,
    );
    const { token } = await this.userTokens.rtm(
      ctx,
      credentialParam(q.credential),
      rtmUser,
      seconds,
      { via: VIA, route: 'agora.rte' },
      p.channelName, // the RTM token may join the channel as a stream channel
    );
    return { status: 200, json: { rtcToken, rtmToken: token }, headers: AGORA_NO_CACHE };
  }

  @Get('chat/app')
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.chat', onChatError)
  async chatApp(@Ctx() ctx: RequestContext, @Query() q: Record<string, unknown>): Promise<Reply> {
    const seconds = expiry(q.expiry);
    const origin = { via: VIA, route: 'agora.chat' };
    const { token } = await this.userTokens.chat(
      ctx,
      credentialParam(q.credential),
      null,
      seconds,
      origin,
    );
    return { status: 200, json: { chatToken: token }, headers: AGORA_NO_CACHE };
  }

  @Get('chat/account/:chatid')
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.chat', onChatError)
  async chatAccount(
    @Ctx() ctx: RequestContext,
    @Param('chatid') chatid: string,
    @Query() q: Record<string, unknown>,
  ): Promise<Reply> {
    const seconds = expiry(q.expiry);
    const origin = { via: VIA, route: 'agora.chat' };
    const credential = credentialParam(q.credential);
    const { token } = await this.userTokens.chat(
      ctx,
      credential,
      chatid,
      seconds,
      origin,
      'chatid',
    );
    return { status: 200, json: { chatToken: token }, headers: AGORA_NO_CACHE };
  }

  @Post('getToken')
  @Roles(...ANY_MEMBER)
  @CompatReply('agora.getToken', (e): Reply => ({
    status: e.status,
    json: { error: inSampleTerms(e, { customSessionId: 'channel' }), status: e.status },
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
      // A channel (or `*`) gives the token stream-channel privileges, as the token service does.
      const channel = optionalString(b, 'channel');
      const origin = { via: VIA, route: 'agora.getToken' };
      const cred = credentialParam(credential);
      token = (await this.userTokens.rtm(ctx, cred, uid, seconds, origin, channel)).token;
    } else if (b.tokenType === 'chat') {
      // No uid: the Chat app token (OWNER or ADMIN only); a uid: that Chat user's token.
      const origin = { via: VIA, route: 'agora.getToken' };
      const cred = credentialParam(credential);
      token = (await this.userTokens.chat(ctx, cred, uid || null, seconds, origin)).token;
    } else {
      throw DomainException.badInput('tokenType', 'Unsupported tokenType (use rtc, rtm or chat)');
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
