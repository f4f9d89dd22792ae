import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type ApolloServer, type BaseContext } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { Logger } from '@nestjs/common';
import { type Express, type NextFunction, type Request, type Response, json } from 'express';
import { PinoLogger } from 'nestjs-pino';
import { Store, storage } from 'nestjs-pino/storage';
import { requestIdFrom } from '../context/request-meta';
import { httpErrorAnswer } from '../errors';
import { type MetricsService } from '../metrics/metrics.service';
import { refusedHeader } from './input-hygiene';
import { type Lane, type LaneRequest, laneAnswered } from './lane';

/** The body parser options of the general path (app.factory) and of this lane alike. */
export const jsonBodyOptions = (limitBytes: number): { limit: number } => ({ limit: limitBytes });

/** The integration's handler answers every request itself; it never calls `next`. */
const NO_NEXT: NextFunction = () => undefined;

/** `application/json`, with or without parameters (the JSON parser reads only these). */
const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

export interface GraphqlLaneParts {
  apollo: ApolloServer<BaseContext>;
  /** The GraphQL module's `context` option, called as the Express integration calls it. */
  context: (args: { req: Request; res: Response }) => unknown;
  /** The Express application: its request and response prototypes, its settings. */
  express: Express;
  metrics: MetricsService;
  bodyLimitBytes: number;
  development: boolean;
}

/**
 * `POST /graphql` with a JSON body, answered on the server's request event instead of through
 * Express's router, its middleware stack and pino-http: those cost more than Apollo and the
 * resolver together for a small mutation (bench: `{ __typename }` ran at about 440 µs of CPU per
 * request through them). Everything that decides or shapes an answer is the same code as there:
 *
 * - the request and response get Express's own prototypes, as Express's `app.handle` gives them
 *   (so `req.ip` under `trust proxy`, `res.send` with its ETag, `res.json` behave identically);
 * - the body is read by the same JSON parser with the same options (`express.json`), and a body
 *   it refuses is answered by the global exception filter's code (httpErrorAnswer) in its shape;
 * - Apollo runs through `@as-integrations/express5`'s own handler with the module's context
 *   function, as the module mounts it, so every plugin and limit applies: CSRF prevention, the
 *   cost and depth limits, error formatting, the GraphQL metrics; guards, pipes and interceptors
 *   run in the resolvers as always;
 * - the request id (`X-Request-Id`, echoed), the HTTP metrics under the route `/graphql`, pino's
 *   request-bound logger for whatever the resolvers log, and the access log line.
 *
 * It takes a request only when that decision is free of doubt and synchronous: `POST` to exactly
 * `/graphql` (no query string, no other spelling), a JSON content type, no `Origin` (browsers
 * keep the general path), a declared length within the body limit, no transfer or content
 * encoding, and an `X-Roomkey-Tenant` the hygiene middleware would pass. Everything else reaches
 * Express unchanged.
 */
export class GraphqlLane {
  private readonly parse: ReturnType<typeof json>;
  /** The Express integration's own handler, as the GraphQL module mounts it on `/graphql`. */
  private readonly apollo: ReturnType<typeof expressMiddleware>;
  // The global exception filter's logger: a refused body is answered by its code, logged as it logs.
  private readonly logger = new Logger('HttpExceptionFilter');

  constructor(private readonly parts: GraphqlLaneParts) {
    this.parse = json(jsonBodyOptions(parts.bodyLimitBytes));
    this.apollo = expressMiddleware(parts.apollo, {
      context: ({ req, res }) => Promise.resolve(parts.context({ req, res }) as BaseContext),
    });
  }

  /** The lane (common/http/lane). */
  lane(): Lane {
    return (req, res) => this.take(req, res);
  }

  private take(req: IncomingMessage, res: ServerResponse): boolean {
    const h = req.headers;
    if (req.method !== 'POST' || req.url !== '/graphql' || h.origin !== undefined) return false;
    if (!JSON_TYPE.test(h['content-type'] ?? '') || h['transfer-encoding'] !== undefined)
      return false;
    if (h['content-encoding'] !== undefined || refusedHeader(req) !== null) return false;
    const length = h['content-length'];
    if (length === undefined || !/^\d{1,12}$/.test(length)) return false;
    if (Number(length) === 0 || Number(length) > this.parts.bodyLimitBytes) return false;
    // The id first: the request-bound logger below serializes the request as it is bound.
    (req as LaneRequest & { id?: string }).id = requestIdFrom(req.headers['x-request-id']);
    const log = PinoLogger.root;
    // pino-http's request-bound logger, only when something can be logged at all.
    if (log?.isLevelEnabled('fatal')) {
      storage.run(new Store(log.child({ req })), () => void this.serve(req, res));
    } else {
      void this.serve(req, res);
    }
    return true;
  }

  private async serve(raw: IncomingMessage, rawRes: ServerResponse): Promise<void> {
    const started = process.hrtime.bigint();
    // What Express's app.handle does before its router.
    const req = Object.setPrototypeOf(raw, this.parts.express.request as object) as Request;
    const res = Object.setPrototypeOf(rawRes, this.parts.express.response as object) as Response;
    req.res = res;
    res.req = req;
    res.locals ??= Object.create(null) as Record<string, unknown>;
    res.setHeader('X-Request-Id', req.id as string);
    try {
      const refused = await new Promise<unknown>((resolve) => {
        const next: NextFunction = (err?: unknown) => resolve(err);
        this.parse(req, res, next);
      });
      if (refused) {
        this.refuse(req, res, refused);
      } else {
        req.body ??= {}; // as the GraphQL module's own middleware before the integration
        await this.apollo(req, res, NO_NEXT);
      }
    } catch (err) {
      this.refuse(req, res, err);
    }
    laneAnswered(this.parts.metrics, req, res, '/graphql', started);
  }

  /** As the global exception filter answers (a body the JSON parser refuses, mostly). */
  private refuse(req: Request, res: Response, err: unknown): void {
    const answer = httpErrorAnswer(err, req.id as string, this.parts.development, this.logger);
    if (!res.headersSent) res.set(answer.headers).status(answer.status).json(answer.body);
    else res.end();
  }
}
