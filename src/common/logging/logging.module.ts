import { createHash } from 'node:crypto';
import { type IncomingMessage, type ServerResponse } from 'node:http';
import { type DynamicModule, Module } from '@nestjs/common';
import { Logger, LoggerModule, type Params, PinoLogger } from 'nestjs-pino';
import { type DestinationStream, destination as pinoDestination } from 'pino';
import { type AppConfig } from '../config';
import { requestIdFrom } from '../context/request-meta';
import { graphqlOperationOf } from './graphql-operation';

/**
 * Paths removed from every log line. Request headers are never logged at all (the request
 * serializer keeps only id, method and path), so these cover objects passed to the logger.
 */
const SECRET_KEYS = [
  'password',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'cookie',
  'apiSecret',
  'appCertificate',
  'privateKeyPem',
  'managementToken',
  'clientSecret',
  'secretHash',
  'passwordHash',
  'participantSecret',
  'peerToken',
  'code',
  'parameters',
  'driverError',
  'query',
];
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]).concat([
  'req.headers',
  'res.headers',
  'headers',
]);

interface ErrorLike {
  type?: unknown;
  name?: unknown;
  message?: unknown;
  stack?: unknown;
  code?: unknown;
  severity?: unknown;
  query?: unknown;
  driverError?: { code?: unknown } | null;
}

/** A PostgreSQL error, raw (pg, PGlite) or wrapped by TypeORM (QueryFailedError). */
function isDatabaseError(e: ErrorLike, type: string): boolean {
  return (
    type === 'QueryFailedError' ||
    (e.driverError !== undefined && e.driverError !== null) ||
    (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && e.severity !== undefined)
  );
}

/**
 * Errors keep type, message, code and stack. A database error keeps only its SQLSTATE, a hash of
 * the statement and the stack frames: PostgreSQL quotes bound values in its messages (`invalid
 * input syntax for type uuid: "…"`, `RAISE … %`), and those values can be secrets, emails or
 * tokens — so neither the message, the parameters, the detail nor the driver's copy is logged.
 * pino-http hands this the standard serializer's plain-object copy, not the Error itself.
 */
export function serializeError(err: unknown): unknown {
  if (err === null || typeof err !== 'object') return err;
  const e = err as ErrorLike;
  const type = typeof e.type === 'string' ? e.type : typeof e.name === 'string' ? e.name : 'Error';
  const stack = typeof e.stack === 'string' ? e.stack : '';
  if (!isDatabaseError(e, type)) return { type, message: e.message, code: e.code, stack };
  const raw = e.driverError?.code ?? e.code;
  const sqlState = typeof raw === 'string' ? raw : 'unknown';
  const frames = stack.split('\n').filter((l) => /^\s+at /.test(l));
  return {
    type,
    message: `database query failed (SQLSTATE ${sqlState})`,
    sqlState,
    ...(typeof e.query === 'string'
      ? { queryHash: createHash('sha256').update(e.query).digest('hex').slice(0, 16) }
      : {}),
    stack: [`${type}: SQLSTATE ${sqlState}`, ...frames].join('\n'),
  };
}

type Req = IncomingMessage & { id?: string | number; originalUrl?: string };

/**
 * Nest's own start-up chatter: one line per module and per route (about eighty). Kept at debug so
 * that a start logs a few lines at info; the route table is also in the GraphQL schema and code.
 */
const STARTUP_CONTEXTS = new Set([
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestFactory',
  'NestApplication',
  'GraphQLModule',
]);

/**
 * Nest's logger for the whole life of the app, from before the module graph is built: JSON from
 * the first line, each line written when it happens (no buffering, so timestamps are true), and
 * Nest's start-up chatter at debug. `ExceptionHandler` reports an error that Nest also rethrows
 * (abortOnError: false); whoever catches it reports it once, so Nest's copy is debug too.
 */
export class AppLogger extends Logger {
  static create(params: Params): AppLogger {
    return new AppLogger(new PinoLogger(params), params);
  }

  override log(message: unknown, ...optionalParams: unknown[]): void {
    if (STARTUP_CONTEXTS.has(String(optionalParams.at(-1))))
      super.debug(message, ...optionalParams);
    else super.log(message, ...optionalParams);
  }

  override error(message: unknown, ...optionalParams: unknown[]): void {
    if (optionalParams.at(-1) === 'ExceptionHandler') super.debug(message, ...optionalParams);
    else super.error(message, ...optionalParams);
  }
}

/**
 * Synchronous stdout: each line is out when it is logged, in order with the banners written to
 * stdout, and nothing is lost to an exit.
 */
export function stdoutLog(): DestinationStream {
  return pinoDestination({ dest: 1, sync: true });
}

/** pino and pino-http settings: one JSON line per event, a request id on each, secrets redacted. */
export function loggerParams(
  config: AppConfig,
  destination: DestinationStream = stdoutLog(),
): Params {
  return {
    pinoHttp: [
      {
        level: config.app.logLevel,
        // The id is assigned (and echoed) by the first middleware; reuse it.
        genReqId: (req: Req, res: ServerResponse) => {
          if (typeof req.id === 'string') return req.id;
          const id = requestIdFrom(req.headers['x-request-id']);
          res.setHeader('X-Request-Id', id);
          return id;
        },
        redact: { paths: REDACT_PATHS, censor: '[redacted]' },
        serializers: {
          // Path only: query strings can carry one-time codes and tokens.
          req: (req: Req) => ({
            id: req.id,
            method: req.method,
            path: (req.originalUrl ?? req.url ?? '').split('?')[0],
          }),
          res: (res: ServerResponse) => ({ statusCode: res.statusCode }),
          err: serializeError,
        },
        // Called again when the answer is logged: by then a GraphQL request names its operation.
        customProps: (req: IncomingMessage) => {
          const user = (req as IncomingMessage & { user?: { tenantId?: string } }).user;
          const graphql = graphqlOperationOf(req);
          return {
            ...(user?.tenantId ? { tenantId: user.tenantId } : {}),
            ...(graphql ? { graphql } : {}),
          };
        },
        autoLogging: {
          ignore: (req: IncomingMessage) => /^\/(health\/live|metrics)(\?|$)/.test(req.url ?? ''),
        },
      },
      destination,
    ] as never,
  };
}

/** Structured JSON logs (pino) with a request id on every line and secrets redacted. */
@Module({})
export class LoggingModule {
  static forRoot(config: AppConfig, destination?: DestinationStream): DynamicModule {
    return {
      module: LoggingModule,
      imports: [LoggerModule.forRoot(loggerParams(config, destination))],
    };
  }
}
