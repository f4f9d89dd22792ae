import { Body, Controller, Param, Post, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
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
 * OpenVidu's REST bodies. A customSessionId that exists is the same session (idempotent).
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
    const options: Record<string, unknown> = {
      mediaMode: oneOf(b, 'mediaMode', ['ROUTED']),
      recordingMode: oneOf(b, 'recordingMode', ['MANUAL', 'ALWAYS']),
      forcedVideoCodec: oneOf(b, 'forcedVideoCodec', [
        'MEDIA_SERVER_PREFERRED',
        'NONE',
        'VP8',
        'VP9',
        'H264',
      ]),
      allowTranscoding: field(b, 'allowTranscoding', 'boolean'),
      defaultRecordingProperties: field(b, 'defaultRecordingProperties', 'object'),
      mediaNode: field(b, 'mediaNode', 'object'),
    };
    const session = await this.sessions.create(
      ctx,
      {
        provider: ProviderKind.OPENVIDU,
        credentialId: credentialParam(credential),
        customSessionId: field(b, 'customSessionId', 'string'),
        options: { [ProviderKind.OPENVIDU]: options },
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
    if ((oneOf(b, 'type', ['WEBRTC', 'IPCAM']) ?? 'WEBRTC') === 'IPCAM') {
      throw DomainException.badInput('type', 'IPCAM connections are not supported: use WEBRTC');
    }
    const role = oneOf(b, 'role', Object.values(ParticipantRole)) as ParticipantRole | undefined;
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
      join: { role, data },
      // OpenVidu closes a session when its last participant leaves; the sample's front ends
      // reuse the id, so it is created again under the same id (as the sample server would).
      recreateIfGone: (gone) => ({
        provider: ProviderKind.OPENVIDU,
        credentialId: gone.credentialId,
        customSessionId: sessionId,
        options: { [ProviderKind.OPENVIDU]: gone.options },
      }),
    });
    return { status: 200, text: String(issued.credential.token) };
  }
}
