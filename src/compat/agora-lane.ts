import { type IncomingMessage, type ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuditService } from '../audit/audit.service';
import { AuthenticationGuard } from '../auth/authentication.guard';
import { RolesGuard } from '../auth/roles.guard';
import { ROLES_KEY, type RolesDecision } from '../common/auth/decorators';
import { APP_CONFIG, type AppConfig } from '../common/config';
import { RequestContext, type RequestMeta } from '../common/context';
import { requestIdFrom, userAgentOf } from '../common/context/request-meta';
import { httpErrorAnswer, shapedErrorAnswer } from '../common/errors';
import { refusedHeader, unsafe } from '../common/http/input-hygiene';
import { type Lane, type LaneRequest, laneAnswered } from '../common/http/lane';
import { MetricsService } from '../common/metrics/metrics.service';
import { JoinRoom } from '../sessions/join-room';
import { AGORA_RTC, AgoraCompatController, agoraRtc } from './agora.controller';
import { CompatOutcomes, sendReply } from './compat-reply';
import { compatRefusal } from './compat-refusals';
import { checkCompatTenant } from './compat-tenant.guard';

/** `GET /t/:tenantSlug/agora/rtc/:channelName/:role/:tokenType[/:uid][/]`, as Express matches it. */
const RTC_ROUTE = /^\/t\/([^/]+)\/agora\/rtc\/([^/]+)\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/i;

const PATTERN = '/t/:tenantSlug/agora/rtc/:channelName/:role/:tokenType';
/** The route patterns the metrics, the access log and the rate-limit summaries name. */
const LABEL = { withUid: `${PATTERN}/:uid`, withoutUid: PATTERN } as const;

/** What Nest's RolesGuard names the operation in an `authz.denied` event. */
const OPERATION = 'AgoraCompatController.rtc';

/** Percent-decoded as Express decodes route parameters; undefined when one does not decode. */
function decodeAll(parts: (string | undefined)[]): (string | undefined)[] | undefined {
  try {
    return parts.map((p) => (p === undefined ? undefined : decodeURIComponent(p)));
  } catch {
    return undefined;
  }
}

/**
 * The Agora token service's RTC route, the hottest mint of all (one per participant and channel
 * join), served in front of Express and Nest on the server's request event. Express's router, the
 * middleware chain and Nest's guard and interceptor plumbing cost several times the mint itself
 * (bench:floor), and none of them decides anything here that the lane does not decide the same
 * way, through the same code:
 *
 * - authentication, the principal's and tenant's rate limits and the success count or failure
 *   event: AuthenticationGuard.authenticate; the roles decision: RolesGuard.check; the path's
 *   tenant: checkCompatTenant; the mint and its one audit event: agoraRtc → JoinRoom; a failure's
 *   vendor-shaped answer and its `compat.called` event: CompatOutcomes;
 * - a refusal before the route (authentication, roles, tenant) answers in the global exception
 *   filter's shape (httpErrorAnswer), as it would behind Express;
 * - the request id (`X-Request-Id`, echoed), the client address under `trust proxy`, the access
 *   log line and the HTTP metrics.
 *
 * The lane takes a request only when the decision to take it is free of doubt and synchronous:
 * `GET`, no `Origin` (browser calls keep the per-tenant CORS middleware), no `Cookie` (cookie
 * sessions are read with Express's view of the request), no control character in
 * the path, the query or `X-Roomkey-Tenant` (the hygiene middleware answers those), parameters
 * that percent-decode.
 * Everything else — HEAD, preflights, the other Agora routes — reaches Express unchanged.
 */
@Injectable()
export class AgoraLane {
  private readonly logger = new Logger('Compat');
  private readonly development: boolean;
  /** The controller route's own `@Roles()` decision, so the two cannot drift apart. */
  private readonly decision: RolesDecision | undefined;

  constructor(
    reflector: Reflector,
    private readonly authentication: AuthenticationGuard,
    private readonly roles: RolesGuard,
    private readonly audit: AuditService,
    private readonly outcomes: CompatOutcomes,
    private readonly joinRoom: JoinRoom,
    private readonly metrics: MetricsService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.development = config.app.env === 'development';
    // Read for its metadata, never called.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    const handler = AgoraCompatController.prototype.rtc;
    this.decision = reflector.getAllAndOverride<RolesDecision | undefined>(ROLES_KEY, [
      handler,
      AgoraCompatController,
    ]);
  }

  /** The lane (common/http/lane); `clientIp` is the address Express would give as `req.ip`. */
  lane(clientIp: (req: IncomingMessage) => string | null): Lane {
    return (req, res) => this.take(req, res, clientIp);
  }

  private take(
    req: IncomingMessage,
    res: ServerResponse,
    clientIp: (req: IncomingMessage) => string | null,
  ): boolean {
    if (req.method !== 'GET' || !req.url || req.headers.origin !== undefined) return false;
    // A browser's own calls (cookie sessions need Express's view of the request: secure, host).
    if (req.headers.cookie !== undefined) return false;
    const url = req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const m = RTC_ROUTE.exec(path);
    if (!m || unsafe(path) || (q !== -1 && unsafe(url.slice(q + 1)))) return false;
    if (refusedHeader(req) !== null) return false;
    const decoded = decodeAll(m.slice(1));
    if (!decoded) return false;
    const [slug, channelName, role, tokenType, uid] = decoded;
    const r = req as LaneRequest;
    r.ip = clientIp(req) ?? undefined;
    void this.serve(r, res, {
      path,
      slug,
      params: { channelName, role, tokenType, uid },
      query: q === -1 ? {} : parseQuery(url.slice(q + 1)),
      label: uid === undefined ? LABEL.withoutUid : LABEL.withUid,
    });
    return true;
  }

  private async serve(
    req: LaneRequest,
    res: ServerResponse,
    call: {
      path: string;
      slug: string | undefined;
      params: Record<string, string | undefined>;
      query: Record<string, unknown>;
      label: string;
    },
  ): Promise<void> {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    req.id = requestId; // as the request-id middleware sets it, for the log and the audit
    res.setHeader('X-Request-Id', requestId);
    const meta: RequestMeta = {
      requestId,
      clientIp: req.ip ?? null,
      userAgent: userAgentOf(req.headers['user-agent']),
    };
    try {
      const refused = await this.authentication.authenticate(req as never, `GET ${call.label}`);
      if (refused) throw refused;
      const principal = req.user as NonNullable<Express.Request['user']>;
      await this.roles.check(principal, this.decision, { meta, operation: OPERATION });
      await checkCompatTenant(this.audit, principal, call.slug, {
        meta,
        operation: `GET ${call.path}`,
      });
      const ctx = RequestContext.fromPrincipal(principal, meta);
      const reply = await this.outcomes.settle({ principal, meta }, AGORA_RTC, () =>
        agoraRtc(this.joinRoom, ctx, call.params, call.query),
      );
      sendReply(res, reply);
    } catch (err) {
      const answer = httpErrorAnswer(err, requestId, this.development, this.logger);
      sendReply(res, shapedErrorAnswer(compatRefusal, call.path, answer));
    }
    laneAnswered(this.metrics, req, res, call.label, started);
  }
}
