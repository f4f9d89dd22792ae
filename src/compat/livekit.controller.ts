import { Body, Controller, Post, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { ProviderKind } from '../providers/provider-kind';
import { JoinRoom } from '../sessions/join-room';
import {
  CompatReply,
  type Failure,
  type Reply,
  credentialParam,
  inSampleTerms,
} from './compat-reply';
import { CompatTenantGuard } from './compat-tenant.guard';
import { objectBody } from './compat-input';

const VIA = 'compat.livekit';
/** The sample's token lifetime (livekit-server-sdk's default, 6 h). */
const SAMPLE_TTL_SECONDS = 6 * 3600;
export const LIVEKIT_MISSING_FIELDS = 'roomName and participantName are required';

/** Our request fields under the sample's names: the room is `roomName`, the identity `participantName`. */
const SAMPLE_FIELDS: Record<string, string> = {
  customSessionId: 'roomName',
  identity: 'participantName',
};

/** The sample's `{errorMessage}`, naming the field the caller sent. */
const onError = (e: Failure): Reply => ({
  status: e.status,
  json: { errorMessage: inSampleTerms(e, SAMPLE_FIELDS) },
});

/**
 * The OpenVidu 3 / LiveKit sample application server: `POST /token {roomName, participantName}`
 * → `{token}`; 400 `{errorMessage}` when a field is missing. The room is Roomkey's session for that
 * name (created once), and every call issues and records a new connection.
 */
@Controller('t/:tenantSlug/livekit')
@UseGuards(CompatTenantGuard)
export class LiveKitCompatController {
  constructor(private readonly joinRoom: JoinRoom) {}

  @Post('token')
  @Roles(...ANY_MEMBER)
  @CompatReply('livekit.token', onError)
  async token(
    @Ctx() ctx: RequestContext,
    @Body() body: unknown,
    @Query('credential') credential: unknown,
  ): Promise<Reply> {
    const b = objectBody(body);
    const { roomName, participantName } = b;
    if (!roomName || !participantName)
      throw DomainException.badInput('roomName', LIVEKIT_MISSING_FIELDS);
    if (typeof roomName !== 'string' || typeof participantName !== 'string') {
      throw DomainException.badInput('roomName', 'roomName and participantName must be strings');
    }
    const issued = await this.joinRoom.execute(ctx, {
      origin: { via: VIA, route: 'livekit.token' },
      room: {
        request: {
          provider: ProviderKind.LIVEKIT,
          credentialId: credentialParam(credential),
          customSessionId: roomName,
        },
      },
      join: { identity: participantName, ttlSeconds: SAMPLE_TTL_SECONDS },
    });
    return { status: 200, json: { token: issued.credential.token } };
  }
}
