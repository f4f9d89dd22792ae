import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { Logger } from 'nestjs-pino';
import { AppModule, type AppModuleOptions } from './app.module';
import { type AppConfig } from './common/config';

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
  app.set('trust proxy', config.app.trustProxy);
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: config.app.bodyLimitBytes });
  app.useBodyParser('urlencoded', { limit: config.app.bodyLimitBytes, extended: false });
  await app.init();
  return app;
}
