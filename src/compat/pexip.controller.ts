import { Controller, Get, Param, Post, Query, UseGuards } from '@nestjs/common';
import { Roles } from '../common/auth/decorators';
import { ANY_MEMBER } from '../common/auth/roles';
import { Ctx, type RequestContext } from '../common/context';
import { ErrorCode } from '../common/errors';
import { CredentialVault } from '../providers/vault/credential-vault';
import { ProviderKind } from '../providers/provider-kind';
import { JoinRoom } from '../sessions/join-room';
import { SessionsService } from '../sessions/sessions.service';
import { CompatReply, type Failure, type Reply, credentialParam } from './compat-reply';
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
    private readonly joinRoom: JoinRoom,
    private readonly vault: CredentialVault,
  ) {}

  @Get('api-address')
  @Roles(...ANY_MEMBER)
  @CompatReply('pexip.api-address', (e): Reply => ({ status: e.status, text: e.message }))
  async apiAddress(
    @Ctx() ctx: RequestContext,
    @Query('credential') credential: unknown,
  ): Promise<Reply> {
    const cred = await this.vault.resolve(ctx, credentialParam(credential), ProviderKind.PEXIP);
    return { status: 200, text: String(cred.config.apiAddress) };
  }

  @Post('meetings')
  @Roles(...ANY_MEMBER)
  @CompatReply('pexip.meetings', failure(PEXIP_MEETING_FAILED))
  async meetings(
    @Ctx() ctx: RequestContext,
    @Query('credential') credential: unknown,
  ): Promise<Reply> {
    const s = await this.sessions.create(
      ctx,
      { provider: ProviderKind.PEXIP, credentialId: credentialParam(credential) },
      VIA,
    );
    return { status: 200, json: s.details };
  }

  @Post('meetings/:meetingId/participants')
  @Roles(...ANY_MEMBER)
  @CompatReply('pexip.participants', failure(PEXIP_PARTICIPANT_FAILED))
  async participants(
    @Ctx() ctx: RequestContext,
    @Param('meetingId') meetingId: string,
    @Query('credential') credential: unknown,
  ): Promise<Reply> {
    const issued = await this.joinRoom.execute(ctx, {
      origin: { via: VIA, route: 'pexip.participants' },
      room: {
        open: {
          kind: ProviderKind.PEXIP,
          credentialId: credentialParam(credential),
          externalId: meetingId,
          what: 'Meeting',
        },
      },
      join: {},
    });
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
  }
}
