/**
 * The baseline of `npm run bench`: a replica of the Agora token service sample
 * (AgoraIO-Community/agora-token-service) on the stack the issue names — plain Express 5 and the
 * official `agora-token` — with the sample's RTC contract and nothing more: no authentication, no
 * record, no logging, no database.
 *
 *   GET /ping                                          -> {"message":"pong"}
 *   GET /rtc/:channelName/:role/:tokenType/:uid/?expiry -> {"rtcToken":"007…"}
 *
 * The handler itself (the sample's contract: roles, expiry, token types, its two 400 shapes) is
 * bench/agora-rtc.ts, shared with `npm run bench:floor`; here Express routes to it and sets the
 * no-cache headers on every answer.
 *
 * Run as its own process (`node dist/bench/agora-sample.js`, APP_ID and APP_CERTIFICATE in the
 * environment): it listens on 127.0.0.1, on PORT or an ephemeral port, and reports the port to its
 * parent over IPC (or prints it when started by hand).
 */
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { NO_CACHE, type RtcParams, rtcAnswer } from './agora-rtc';
import { serveForParent } from './bench-processes';

function nocache(_req: Request, res: Response, next: NextFunction): void {
  res.set(NO_CACHE);
  next();
}

export function createAgoraSample(appId: string, appCertificate: string): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/ping', nocache, (_req, res) => {
    res.json({ message: 'pong' });
  });
  app.get('/rtc/:channelName/:role/:tokenType/:uid', nocache, (req, res) => {
    // Named segments only: each is one string (Express types allow arrays for wildcards).
    const answer = rtcAnswer(
      appId,
      appCertificate,
      req.params as Record<keyof RtcParams, string>,
      req.query.expiry,
    );
    if (answer.status !== 200) res.status(answer.status);
    res.json(answer.body);
  });
  return app;
}

if (require.main === module) {
  const appId = process.env.APP_ID;
  const appCertificate = process.env.APP_CERTIFICATE;
  if (!appId || !appCertificate) {
    process.stderr.write('agora-sample: set APP_ID and APP_CERTIFICATE\n');
    process.exit(1);
  }
  const server = createAgoraSample(appId, appCertificate).listen(
    Number(process.env.PORT ?? 0),
    '127.0.0.1',
    () => serveForParent('Agora token service sample', server),
  );
}
