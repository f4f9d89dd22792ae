import { type IncomingMessage, type ServerResponse } from 'node:http';
import { Injectable, Logger } from '@nestjs/common';
import { type RequestMeta } from '../common/context';
import { requestIdFrom, userAgentOf } from '../common/context/request-meta';
import { type Lane, laneAnswered } from '../common/http/lane';
import { readRawBody } from '../common/http/raw-body';
import { MetricsService } from '../common/metrics/metrics.service';
import { Red5Admission, answerRed5 } from '../rate-limits/red5-admission';
import { Red5AuthService } from './red5-auth.service';

/** Red5 round-trip auth routes: `POST /t/:tenantSlug/red5/(validate|invalidate)Credentials`. */
const RED5_ROUTE = /^\/t\/([^/]+)\/red5\/(validate|invalidate)Credentials\/?$/i;

/** What Red5 sends is a few hundred bytes; past 64 KiB it is refused, past 16 MiB dropped. */
const BODY = { limitBytes: 64 * 1024, dropAfterBytes: 16 * 1024 * 1024 };

const ROUTE_LABEL = {
  validate: '/t/:tenantSlug/red5/validateCredentials',
  invalidate: '/t/:tenantSlug/red5/invalidateCredentials',
} as const;

type Verb = keyof typeof ROUTE_LABEL;

/**
 * Red5 Pro round-trip authentication (Red5's RoundTripAuthValidator calls these), served in front of
 * Express and Nest, on the server's own request event. The route is public, its contract is one
 * JSON body in and `{"result": …}` out with HTTP 200, and it is the hottest path of a Red5 media
 * server: each published or played stream asks once. Nest's router, guards, interceptors and
 * exception filters have nothing to contribute here, and cost most of the time of an answer.
 *
 * What the lane keeps from the general path, in order: admission (rate limits and the per-tenant
 * gate, rate-limits/red5-admission), the request id (`X-Request-Id`, echoed), the client address
 * under the configured `trust proxy`, the raw body read (capped), the access log line and the HTTP
 * metrics. Red5 sends no credential of its own: what it validates is the issued credential itself
 * (compat/red5-auth.service, which audits every answer). Any failure (the database, say) is a
 * denial, still with HTTP 200 — Red5 denies on anything else anyway. The body is never logged.
 * Every other request, including other methods on these paths, goes to Express unchanged.
 */
@Injectable()
export class Red5Lane {
  private readonly logger = new Logger('Red5');

  constructor(
    private readonly admission: Red5Admission,
    private readonly red5: Red5AuthService,
    private readonly metrics: MetricsService,
  ) {}

  /** The lane (common/http/lane); `clientIp` is the address Express would give as `req.ip`. */
  lane(clientIp: (req: IncomingMessage) => string | null): Lane {
    return (req, res) => this.handles(req, res, clientIp);
  }

  /** Takes the request when it is a Red5 call (true), else leaves it alone (false). */
  private handles(
    req: IncomingMessage,
    res: ServerResponse,
    clientIp: (req: IncomingMessage) => string | null,
  ): boolean {
    if (req.method !== 'POST' || !req.url) return false;
    const q = req.url.indexOf('?');
    const path = q === -1 ? req.url : req.url.slice(0, q);
    const m = RED5_ROUTE.exec(path);
    if (!m) return false;
    const verb = m[2].toLowerCase() as Verb;
    const ip = clientIp(req);
    const key = m[1].toLowerCase().slice(0, 64);
    this.admission
      .admit(req, res, { slug: key, verb, ip }, (decided) =>
        this.serve(req, res, { rawSlug: m[1], verb, ip }, decided),
      )
      .catch(() => answerRed5(res, false));
    return true;
  }

  /** An admitted request: id, body, decision, answer, access log and metrics. */
  private serve(
    req: IncomingMessage,
    res: ServerResponse,
    route: { rawSlug: string; verb: Verb; ip: string | null },
    decided: () => void,
  ): void {
    const started = process.hrtime.bigint();
    const requestId = requestIdFrom(req.headers['x-request-id']);
    (req as IncomingMessage & { id?: string }).id = requestId; // as Express's req.id, for the log
    res.setHeader('X-Request-Id', requestId);
    readRawBody(req, res, BODY, (body) => {
      const meta: RequestMeta = {
        requestId,
        clientIp: route.ip,
        userAgent: userAgentOf(req.headers['user-agent']),
      };
      this.decide(route, body.raw, body.tooLarge, meta, decided).then(
        (result) => {
          answerRed5(res, result);
          laneAnswered(this.metrics, req, res, ROUTE_LABEL[route.verb], started);
        },
        () => undefined, // decide never rejects
      );
    });
  }

  private async decide(
    route: { rawSlug: string; verb: Verb },
    raw: Buffer | undefined,
    tooLarge: boolean,
    meta: RequestMeta,
    decided: () => void,
  ): Promise<boolean> {
    try {
      // As Express would give the route parameter: percent-decoded. Undecodable names no tenant.
      const slug = decodeURIComponent(route.rawSlug);
      return route.verb === 'validate'
        ? await this.red5.validate(slug, raw, tooLarge, meta, decided)
        : await this.red5.invalidate(slug, raw, tooLarge, meta, decided);
    } catch (err) {
      decided();
      this.logger.error(
        { err: err instanceof Error ? err.name : 'error', requestId: meta.requestId },
        'Red5 validation failed',
      );
      return false;
    }
  }
}
