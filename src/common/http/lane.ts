import {
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
} from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import { graphqlOperationOf } from '../logging/graphql-operation';
import { type MetricsService } from '../metrics/metrics.service';

/**
 * A lane answers some requests on the HTTP server's own request event, in front of Express and
 * Nest. `take` decides synchronously: true means the lane owns the request from then on (it
 * answers it, always), false means Express gets it unchanged, before anything was read or sent.
 */
export type Lane = (req: IncomingMessage, res: ServerResponse) => boolean;

/** Puts lanes in front of the server's request listeners (the Express application), in order. */
export function attachLanes(server: Server, lanes: Lane[]): void {
  const next = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    for (const take of lanes) if (take(req, res)) return;
    for (const listener of next) listener.call(server, req, res);
  });
}

/** The request as the access log and the audit read it: Express's `req.id`, `req.ip`, `req.user`. */
export type LaneRequest = IncomingMessage & { ip?: string; user?: unknown };

/**
 * What the general path writes once a request is answered, written by a lane: the HTTP metrics
 * (labelled by route pattern) and pino-http's access log line, with the same fields, level and
 * message (`request completed`; `request errored` with the error for a 5xx).
 */
export function laneAnswered(
  metrics: MetricsService,
  req: LaneRequest,
  res: ServerResponse,
  route: string,
  started: bigint,
): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const method = req.method ?? 'GET';
  const status = res.statusCode;
  metrics.httpRequests.inc({ method, route, status: String(status) });
  metrics.httpDuration.observe({ method, route }, seconds);
  const log = PinoLogger.root;
  if (!log?.isLevelEnabled('info')) return;
  const user = req.user as { tenantId?: string } | undefined;
  const graphql = graphqlOperationOf(req);
  const fields = {
    req,
    res,
    responseTime: Math.round(seconds * 1000),
    ...(user?.tenantId ? { tenantId: user.tenantId } : {}),
    ...(graphql ? { graphql } : {}),
  };
  if (status >= 500) {
    log.info({ ...fields, err: new Error(`failed with status code ${status}`) }, 'request errored');
  } else {
    log.info(fields, 'request completed');
  }
}

/** Writes a whole JSON answer (Express's `res.json` content type), with extra headers first. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  for (const k in headers) res.setHeader(k, headers[k]);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}
