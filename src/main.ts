import 'reflect-metadata';
import { type Server } from 'node:http';
import { ConfigError, loadConfig, processEnv } from './common/config/load-config';
import { probePort, reportStartupFailure } from './startup-failure';

/** Time kept, inside the hard cap, for closing the database after the HTTP side is done. */
const CLOSE_RESERVE_MS = 1000;

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(processEnv());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  // Order matters: nothing is written before the port is known to be ours, and the application
  // graph (seconds to load) is loaded only once the configuration is known to be good.
  await probePort(config.app.host, config.app.port);
  const { Logger } = await import('@nestjs/common');
  const { buildApp, finishStart } = await import('./app.factory');
  const { FirstStartService } = await import('./bootstrap/first-start.service');
  const { LifecycleState } = await import('./health/health.controller');
  const { HttpDrain } = await import('./health/http-drain');
  const app = await buildApp(config);
  const logger = new Logger('Roomkey');
  await app.listen(config.app.port, config.app.host);
  logger.log(
    `Roomkey listening on http://${config.app.host}:${config.app.port} (${config.database.url ? 'PostgreSQL' : 'embedded PGlite'})`,
  );
  // Only now, with the port bound: create the first administrator and pass readiness; the banner
  // is the last line of the start.
  const started = await finishStart(app);
  // CLI commands while this process holds the embedded data folder (null on PostgreSQL).
  const cliSocket = await (await import('./cli/cli-socket.server')).serveCliSocket(app, config);
  app.get(FirstStartService).printReady(started);

  const drain = new HttpDrain(app.getHttpServer() as Server);
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const started = Date.now();
    const { drainMs, shutdownTimeoutMs } = config.app;
    logger.log(`${signal} received: draining for ${drainMs} ms`);
    // Readiness fails first, so the load balancer stops sending; whatever still arrives is served.
    app.get(LifecycleState).draining = true;
    drain.begin();
    const force = setTimeout(() => {
      logger.error('Shutdown timed out; exiting');
      process.exit(1);
    }, shutdownTimeoutMs);
    force.unref();
    const stop = async (): Promise<void> => {
      await new Promise((resolve) => setTimeout(resolve, drainMs));
      const deadline = started + Math.max(drainMs, shutdownTimeoutMs - CLOSE_RESERVE_MS);
      if (!(await drain.close(deadline)))
        logger.warn('Requests still running at the shutdown deadline were cut');
      await cliSocket?.close(); // a running CLI command finishes; the socket file goes
      await app.close(); // database last: nothing in flight needs it any more
    };
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'Error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  reportStartupFailure(err);
  process.exit(1);
});
