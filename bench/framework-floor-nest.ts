/**
 * The NestJS 11 servers of `npm run bench:floor`: a minimal module with one controller (no guard,
 * pipe, interceptor or middleware of its own) serving the Agora sample's RTC handler
 * (bench/agora-rtc.ts), on the Express adapter or on `@nestjs/platform-fastify` (Fastify 5).
 * Nest's defaults otherwise (its body parsers included; Express's weak ETag on every answer, as in
 * the sample, none on Fastify), logger off, `x-powered-by` off on Express as in the sample;
 * Fastify ignores a trailing slash as Express does (the bench's path ends in one).
 */
import {
  Controller,
  Get,
  Header,
  HttpException,
  Inject,
  type INestApplication,
  Module,
  Param,
  Query,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type NestExpressApplication } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NO_CACHE, type RtcParams, rtcAnswer } from './agora-rtc';

const AGORA_APP = Symbol('AGORA_APP');

interface AgoraApp {
  appId: string;
  appCertificate: string;
}

@Controller()
class RtcController {
  constructor(@Inject(AGORA_APP) private readonly agora: AgoraApp) {}

  @Get('rtc/:channelName/:role/:tokenType/:uid')
  @Header('Cache-Control', NO_CACHE['Cache-Control'])
  @Header('Expires', NO_CACHE.Expires)
  @Header('Pragma', NO_CACHE.Pragma)
  rtc(@Param() params: RtcParams, @Query('expiry') expiry: unknown): Record<string, unknown> {
    const answer = rtcAnswer(this.agora.appId, this.agora.appCertificate, params, expiry);
    // The sample's 400 bodies, through Nest's exception layer (the @Header headers are already
    // set by then); the bench measures the 200 path.
    if (answer.status !== 200) throw new HttpException(answer.body, answer.status);
    return answer.body;
  }
}

export type NestFloor = 'nest-express' | 'nest-fastify';

/** Builds the app on the given platform and listens on 127.0.0.1 (ephemeral port). */
export async function startNest(
  platform: NestFloor,
  appId: string,
  appCertificate: string,
): Promise<INestApplication> {
  @Module({
    controllers: [RtcController],
    providers: [{ provide: AGORA_APP, useValue: { appId, appCertificate } }],
  })
  class FloorModule {}

  let app: INestApplication;
  if (platform === 'nest-express') {
    const express = await NestFactory.create<NestExpressApplication>(FloorModule, {
      logger: false,
    });
    express.disable('x-powered-by');
    app = express;
  } else {
    app = await NestFactory.create<NestFastifyApplication>(
      FloorModule,
      new FastifyAdapter({ routerOptions: { ignoreTrailingSlash: true } }),
      { logger: false },
    );
  }
  await app.listen(0, '127.0.0.1');
  return app;
}
