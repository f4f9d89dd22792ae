import { type IncomingMessage } from 'node:http';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import proxyAddr from 'proxy-addr';
import { AppModule, type AppModuleOptions } from './app.module';
import { FirstStartService, type FirstStartResult } from './bootstrap/first-start.service';
import { AppLogger, loggerParams, stdoutLog } from './common/logging/logging.module';
import { LifecycleState } from './health/health.controller';
import { AgoraLane } from './compat/agora-lane';
import { Red5Lane } from './compat/red5-lane';
import { GraphqlLane, type GraphqlLaneParts, jsonBodyOptions } from './common/http/graphql-lane';
import { attachLanes } from './common/http/lane';
import { MetricsService } from './common/metrics/metrics.service';
import { joinLinkPaths } from './join-links/join-link-paths';
import { JoinLinksService } from './join-links/join-links.service';
import { answerParserErrors, inputHygiene } from './common/http/input-hygiene';
import { rawBodyFor } from './common/http/raw-body';
import { type AppConfig } from './common/config';
import { requestIdFrom } from './common/context/request-meta';
import { type NextFunction, type Request, type Response } from 'express';
import { type ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GRAPHQL_MODULE_OPTIONS, GraphQLModule } from '@nestjs/graphql';

/** Routes whose body is read raw: vendor webhooks (signatures are over the exact bytes). */
const VENDOR_CALLBACK = /^\/t\/[^/]+\/webhooks\/[^/]+\/[^/]+\/?$/i;

/**
 * Builds the HTTP application: database open and migrated, routes wired, not listening, and not
 * yet ready (no administrator created, readiness 503). main.ts binds the port, then calls
 * `finishStart`. A failure is thrown to the caller, logged by Nest at debug only.
 */
export async function buildApp(
  config: AppConfig,
  options: AppModuleOptions = {},
): Promise<INestApplication> {
  // One log stream for Nest's logger (from the first line on) and the logging module.
  const opts = { ...options, logDestination: options.logDestination ?? stdoutLog() };
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, opts), {
    bodyParser: false,
    logger: AppLogger.create(loggerParams(config, opts.logDestination)),
    abortOnError: false,
  });
  app.set('trust proxy', config.app.trustProxy);
  app.disable('x-powered-by');
  // Before the body parsers, so even a request they reject carries an id.
  app.use((req: Request, res: Response, next: NextFunction) => {
    req.id = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', req.id);
    next();
  });
  app.use(inputHygiene(VENDOR_CALLBACK));
  // Join links in the path reach their vendor's compatibility routes (and get the link's CORS).
  app.use(joinLinkPaths(app.get(JoinLinksService)));
  answerParserErrors(app.getHttpServer());
  // Vendor webhooks get their exact bytes (signatures) and their own small cap.
  app.use(rawBodyFor(VENDOR_CALLBACK, { limitBytes: 64 * 1024, dropAfterBytes: 16 * 1024 * 1024 }));
  app.useBodyParser('json', jsonBodyOptions(config.app.bodyLimitBytes));
  app.useBodyParser('urlencoded', { limit: config.app.bodyLimitBytes, extended: false });
  await app.init();
  // Red5 round-trip auth is answered before Express sees the request (its admission first, so a
  // refused flood costs nothing else); everything else reaches Express unchanged.
  const express = app.getHttpAdapter().getInstance() as { get(name: string): unknown };
  const trust = express.get('trust proxy fn') as (addr: string, i: number) => boolean;
  const clientIp = (req: IncomingMessage): string => proxyAddr(req, trust);
  const graphql = app.get<GraphQLModule<ApolloDriver>>(GraphQLModule);
  const graphqlOptions = app.get<ApolloDriverConfig>(GRAPHQL_MODULE_OPTIONS);
  attachLanes(app.getHttpServer(), [
    app.get(Red5Lane).lane(clientIp),
    app.get(AgoraLane).lane(clientIp),
    new GraphqlLane({
      apollo: graphql.graphQlAdapter.instance,
      context: graphqlOptions.context as GraphqlLaneParts['context'],
      express: app.getHttpAdapter().getInstance(),
      metrics: app.get(MetricsService),
      bodyLimitBytes: config.app.bodyLimitBytes,
      development: config.app.env === 'development',
    }).lane(),
  ]);
  return app;
}

/**
 * The last step of a start: creates the platform administrator when the database is empty, then
 * lets readiness pass. Returns what was created (for the sign-in banner), or null.
 */
export async function finishStart(app: INestApplication): Promise<FirstStartResult | null> {
  const created = await app.get(FirstStartService).ensureAdmin();
  app.get(LifecycleState).started = true;
  return created;
}

/**
 * Builds the application and finishes its start without listening, printing the first-start
 * banner when an administrator was created. For tests and scripts that serve through supertest or
 * listen on their own.
 */
export async function createApp(
  config: AppConfig,
  options: AppModuleOptions = {},
): Promise<INestApplication> {
  const app = await buildApp(config, options);
  try {
    const created = await finishStart(app);
    if (created) app.get(FirstStartService).printBanner(created);
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}
