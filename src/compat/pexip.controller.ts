import { Controller, Get, Param, Post, Query, Req, Res, UseGuards } from '@nestjs/common';
import { type Request, type Response } from 'express';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { DomainException, ErrorCode } from '../common/errors';
import { ProviderCredentialsService } from '../providers/provider-credentials.service';
import { ProviderKind } from '../providers/provider-kind';
import { ConnectionsService } from '../sessions/connections.service';
import { SessionsService } from '../sessions/sessions.service';
import { CompatResponder, type Failure, type Reply, credentialParam } from './compat-responder';
import { CompatTenantGuard } from './compat-tenant.guard';

const VIA = 'compat.pexip';
export const PEXIP_MEETING_FAILED = 'Cannot create the meeting';
export const PEXIP_PARTICIPANT_FAILED = 'Cannot get participants from the meeting';

/** The tutorial answers every failure with 500 and a fixed text; a refusal by role stays 403. */
const failure =
  (text: string) =>
  (e: Failure): Reply =>
    e.code === ErrorCode.FORBIDDEN ? { status: 403, text: e.message } : { status: 500, text };

/**
 * The Pexip VPaaS tutorial server: `GET /api-address` (text), `POST /meetings` and
 * `POST /meetings/:meetingId/participants` answer VPaaS's own JSON.
 */
@Controller('t/:tenantSlug/pexip')
@UseGuards(CompatTenantGuard)
export class PexipCompatController {
  constructor(
    private readonly sessions: SessionsService,
    private readonly connections: ConnectionsService,
    private readonly credentials: ProviderCredentialsService,
    private readonly responder: CompatResponder,
  ) {}

  @Get('api-address')
  @Roles(...ANY_MEMBER)
  async apiAddress(
    @Ctx() ctx: RequestContext,
    @Query('credential') credential: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.run(
      req,
      res,
      'pexip.api-address',
      async () => {
        const cred = await this.credentials.resolve(
          ctx,
          credentialParam(credential),
          ProviderKind.PEXIP,
        );
        return { status: 200, text: String(cred.config.apiAddress) };
      },
      (e) => ({ status: e.status, text: e.message }),
    );
  }

  @Post('meetings')
  @Roles(...ANY_MEMBER)
  async meetings(
    @Ctx() ctx: RequestContext,
    @Query('credential') credential: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.run(
      req,
      res,
      'pexip.meetings',
      async () => {
        const s = await this.sessions.create(
          ctx,
          { provider: ProviderKind.PEXIP, credentialId: credentialParam(credential) },
          VIA,
        );
        return { status: 200, json: s.details };
      },
      failure(PEXIP_MEETING_FAILED),
    );
  }

  @Post('meetings/:meetingId/participants')
  @Roles(...ANY_MEMBER)
  async participants(
    @Ctx() ctx: RequestContext,
    @Param('meetingId') meetingId: string,
    @Query('credential') credential: unknown,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.responder.run(
      req,
      res,
      'pexip.participants',
      async () => {
        const session = await this.sessions.findOpenForKind(
          ctx,
          ProviderKind.PEXIP,
          credentialParam(credential),
          meetingId,
        );
        if (!session) throw DomainException.notFound('Meeting');
        const issued = await this.connections.issueFor(ctx, session, {}, VIA);
        const c = issued.credential;
        return {
          status: 200,
          json: {
            meeting_id: c.meetingId,
            id: c.participantId,
            participant_secret: c.participantSecret,
            ...issued.details,
          },
        };
      },
      failure(PEXIP_PARTICIPANT_FAILED),
    );
  }
}
