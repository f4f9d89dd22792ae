import { Body, Controller, Param, Post, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import {
  openViduConnectionOptions,
  openViduSessionOptions,
} from '../providers/openvidu/openvidu-options';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { JoinRoom } from '../sessions/join-room';
import { SessionsService } from '../sessions/sessions.service';
import { CompatReply, type Failure, type Reply, credentialParam } from './compat-reply';
import { CompatTenantGuard } from './compat-tenant.guard';
import { field, objectBody, oneOf } from './compat-input';

const VIA = 'compat.openvidu';

/** Our error shape with the status our code means; a 404 is empty, as the samples send it. */
const onError = (e: Failure): Reply =>
  e.status === 404
    ? { status: 404, text: '' }
    : {
        status: e.status,
        json: {
          error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) },
        },
      };

/**
 * The OpenVidu 2 sample application server (openvidu-basic-node/java): `POST /api/sessions`
 * answers the session id as plain text, `POST /api/sessions/:id/connections` a token. Bodies are
 * OpenVidu's REST bodies, as openvidu-node-client sends them (unset properties as null, an unset
 * customSessionId as ""): every session and connection property is checked by OpenVidu's rules
 * and forwarded. A customSessionId that exists is the same session (idempotent); "" is none, and
 * the session gets a generated id, as on OpenVidu.
 */
@Controller('t/:tenantSlug/openvidu/api/sessions')
@UseGuards(CompatTenantGuard)
export class OpenViduCompatController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly joinRoom: JoinRoom,
  ) {}

  @Post()
  @Roles(...ANY_MEMBER)
  @CompatReply('openvidu.sessions', onError)
  async createSession(
    @Ctx() ctx: RequestContext,
    @Body() body: unknown,
    @Query('credential') credential: unknown,
  ): Promise<Reply> {
    const b = objectBody(body);
    const customSessionId = field(b, 'customSessionId', 'string');
    const options = openViduSessionOptions(b);
    const session = await this.sessions.create(
      ctx,
      {
        provider: ProviderKind.OPENVIDU,
        credentialId: credentialParam(credential),
        customSessionId: customSessionId === '' ? null : customSessionId,
        options: { [ProviderKind.OPENVIDU]: { ...options } },
      },
      VIA,
    );
    return { status: 200, text: session.externalId ?? '' };
  }

  @Post(':sessionId/connections')
  @Roles(...ANY_MEMBER)
  @CompatReply('openvidu.connections', onError)
  async createConnection(
    @Ctx() ctx: RequestContext,
    @Param('sessionId') sessionId: string,
    @Body() body: unknown,
    @Query('credential') credential: unknown,
  ): Promise<Reply> {
    const b = objectBody(body);
    const openvidu = openViduConnectionOptions(b);
    // OpenVidu reads a role only for WEBRTC: an IP camera publishes.
    const role =
      openvidu.type === 'WEBRTC'
        ? (oneOf(b, 'role', Object.values(ParticipantRole)) as ParticipantRole | undefined)
        : undefined;
    const data = field(b, 'data', 'string');
    const issued = await this.joinRoom.execute(ctx, {
      origin: { via: VIA, route: 'openvidu.connections' },
      room: {
        open: {
          kind: ProviderKind.OPENVIDU,
          credentialId: credentialParam(credential),
          externalId: sessionId,
          what: 'Session',
        },
      },
      join: { role, data, openvidu },
      // OpenVidu closes a session when its last participant leaves; the sample's front ends
      // reuse the id, so it is created again under the same id (as the sample server would).
      recreateIfGone: (gone) => ({
        provider: ProviderKind.OPENVIDU,
        credentialId: gone.credentialId,
        customSessionId: sessionId,
        options: { [ProviderKind.OPENVIDU]: gone.options },
      }),
    });
    // An IP camera connection has no token: the sample server then answers an empty body.
    const { token } = issued.credential;
    return { status: 200, text: typeof token === 'string' ? token : '' };
  }
}
