/**
 * The baseline of `npm run bench`: a replica of the Agora token service sample
 * (AgoraIO-Community/agora-token-service) on the stack the issue names — plain Express 5 and the
 * official `agora-token` — with the sample's RTC contract and nothing more: no authentication, no
 * record, no logging, no database.
 *
 *   GET /ping                                          -> {"message":"pong"}
 *   GET /rtc/:channelName/:role/:tokenType/:uid/?expiry -> {"rtcToken":"007…"}
 *
 * Like the sample: `publisher` is a publisher and anything else a subscriber; `expiry` is seconds
 * (default 3600, digits only); tokenType `uid` (a number, truncated to 32 bits as the sample's Go
 * code does) or `userAccount`; no-cache headers on every answer; the sample's two 400 shapes.
 * Expiries are passed to `agora-token` as seconds from now, as Roomkey's adapter does, so both mint
 * the same token.
 *
 * Run as its own process (`node dist/bench/agora-sample.js`, APP_ID and APP_CERTIFICATE in the
 * environment): it listens on 127.0.0.1, on PORT or an ephemeral port, and reports the port to its
 * parent over IPC (or prints it when started by hand).
 */
import { type AddressInfo } from 'node:net';
import { RtcRole, RtcTokenBuilder } from 'agora-token';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { answerUsage } from './bench-processes';

const NO_CACHE = {
  'Cache-Control': 'private, no-cache, no-store, must-revalidate',
  Expires: '-1',
  Pragma: 'no-cache',
};

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
    const p = req.params as Record<'channelName' | 'role' | 'tokenType' | 'uid', string>;
    const { channelName, role, tokenType } = p;
    const uid = p.uid || '0';
    const rtcRole = role === 'publisher' ? RtcRole.PUBLISHER : RtcRole.SUBSCRIBER;
    const expiryText = typeof req.query.expiry === 'string' ? req.query.expiry : '3600';
    if (!/^\d{1,19}$/.test(expiryText)) {
      res.status(400).json({
        message: `Error Generating RTC token: failed to parse expireTime: ${expiryText}`,
        status: 400,
      });
      return;
    }
    const expiry = Number(expiryText);
    let token: string;
    if (tokenType === 'userAccount') {
      token = RtcTokenBuilder.buildTokenWithUserAccount(
        appId,
        appCertificate,
        channelName,
        uid,
        rtcRole,
        expiry,
        expiry,
      );
    } else if (tokenType === 'uid' && /^\d{1,19}$/.test(uid)) {
      token = RtcTokenBuilder.buildTokenWithUid(
        appId,
        appCertificate,
        channelName,
        Number(BigInt(uid) & 0xffffffffn),
        rtcRole,
        expiry,
        expiry,
      );
    } else {
      const why =
        tokenType === 'uid'
          ? `failed to parse uidStr: ${uid}, to uint`
          : `failed to generate RTC token for Unknown Tokentype: ${tokenType}`;
      res.status(400).json({ status: 400, error: `Error Generating RTC token - ${why}` });
      return;
    }
    res.json({ rtcToken: token });
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
    () => {
      const { port } = server.address() as AddressInfo;
      if (process.send) {
        answerUsage();
        process.send({ port });
      } else process.stdout.write(`Agora token service sample on http://127.0.0.1:${port}\n`);
    },
  );
  const stop = (): void => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('disconnect', stop);
}
