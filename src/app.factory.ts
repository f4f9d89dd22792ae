import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module';
import { Red5Admission } from './rate-limits/red5-admission';
import { answerParserErrors, inputHygiene } from './common/http/input-hygiene';
import { rawBodyFor } from './common/http/raw-body';
import { type AppConfig } from './common/config';
import { requestIdFrom } from './common/context/request-meta';
import { type NextFunction, type Request, type Response } from 'express';

/** Routes whose body is read raw: Red5 round-trip auth and vendor webhooks. */
const VENDOR_CALLBACK =
  /^\/t\/[^/]+\/(red5\/(validate|invalidate)Credentials|webhooks\/[^/]+\/[^/]+)\/?$/i;

/** Builds the HTTP application (not yet listening). Used by main.ts and the e2e tests alike. */
export async function createApp(
  config: AppConfig,
  options: AppModuleOptions = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, options), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.flushLogs(); // bufferLogs only flushes on listen(); tests never listen
  app.set('trust proxy', config.app.trustProxy);
  app.disable('x-powered-by');
  // First of all: a refused Red5 flood costs nothing else (no id, no log line, no body read).
  app.use(app.get(Red5Admission).middleware);
  // Before the body parsers, so even a request they reject carries an id.
  app.use((req: Request, res: Response, next: NextFunction) => {
    req.id = requestIdFrom(req.headers['x-request-id']);
    res.setHeader('X-Request-Id', req.id);
    next();
  });
  app.use(inputHygiene(VENDOR_CALLBACK));
  answerParserErrors(app.getHttpServer());
  // Vendor callbacks get their exact bytes (webhook signatures) and their own small cap (Red5
  // always answers 200, even to a body no parser would take).
  app.use(rawBodyFor(VENDOR_CALLBACK, { limitBytes: 64 * 1024, dropAfterBytes: 16 * 1024 * 1024 }));
  app.useBodyParser('json', { limit: config.app.bodyLimitBytes });
  app.useBodyParser('urlencoded', { limit: config.app.bodyLimitBytes, extended: false });
  await app.init();
  return app;
}
