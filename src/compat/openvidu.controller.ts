import { Body, Controller, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException } from '../common/errors';
import { ParticipantRole, ProviderKind } from '../providers/provider-kind';
import { ConnectionsService } from '../sessions/connections.service';
import { SessionsService } from '../sessions/sessions.service';
import { CompatResponder, type Failure, type Reply, credentialParam } from './compat-responder';
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
    private readonly connections: ConnectionsService,
    private readonly responder: CompatResponder,
  ) {}

  @Post()
  @Roles(...ANY_MEMBER)
  async createSession(
    @Ctx() ctx: RequestContext,
    @Body() body: unknown,
    @Query('credential') credential: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.run(
      req,
      res,
      'openvidu.sessions',
      async () => {
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
      },
      onError,
    );
  }

  @Post(':sessionId/connections')
  @Roles(...ANY_MEMBER)
  async createConnection(
    @Ctx() ctx: RequestContext,
    @Param('sessionId') sessionId: string,
    @Body() body: unknown,
    @Query('credential') credential: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.run(
      req,
      res,
      'openvidu.connections',
      async () => {
        const b = objectBody(body);
        if ((oneOf(b, 'type', ['WEBRTC', 'IPCAM']) ?? 'WEBRTC') === 'IPCAM') {
          throw DomainException.badInput('type', 'IPCAM connections are not supported: use WEBRTC');
        }
        const role = oneOf(b, 'role', Object.values(ParticipantRole)) as
          ParticipantRole | undefined;
        const data = field(b, 'data', 'string');
        const session = await this.sessions.findOpenForKind(
          ctx,
          ProviderKind.OPENVIDU,
          credentialParam(credential),
          sessionId,
        );
        if (!session) throw DomainException.notFound('Session');
        // OpenVidu closes a session when its last participant leaves; the sample's front ends
        // reuse the id, so it is created again under the same id (as the sample server would).
        const issued = await this.connections.issueOrRecreate(
          ctx,
          session,
          { role, data },
          VIA,
          () =>
            this.sessions.create(
              ctx,
              {
                provider: ProviderKind.OPENVIDU,
                credentialId: session.credentialId,
                customSessionId: sessionId,
                options: { [ProviderKind.OPENVIDU]: session.options },
              },
              VIA,
            ),
        );
        return { status: 200, text: String(issued.credential.token) };
      },
      onError,
    );
  }
}
