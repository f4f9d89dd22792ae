import 'reflect-metadata';
import { type INestApplicationContext } from '@nestjs/common';
import { type AppConfig } from '../common/config/config.types';
import { ConfigError, loadConfig, processEnv, type RawEnv } from '../common/config/load-config';
import { DataDirLockedError, dataDirHolder } from '../database/data-dir.lock';
import { cliSocketPath } from './cli-socket';
import { CliSocketError, runOverSocket } from './cli-socket.client';
import { type CliIo } from './cli-types';
import { USAGE, isCommandName } from './usage';

/**
 * Runs one CLI command; returns the exit code (0 ok, 1 failed, 2 usage). On an embedded data
 * folder that a running server holds, the command runs inside that server (its local socket);
 * otherwise this process opens the database itself. The app is loaded only in the second case.
 */
export async function runCli(argv: string[], env: RawEnv, io: CliIo): Promise<number> {
  const [name] = argv;
  if (!name || name === 'help' || name === '--help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  if (!isCommandName(name)) {
    io.err(`Unknown command "${name}".\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig({ LOG_LEVEL: 'warn', ...env });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 78;
    }
    throw err;
  }
  const db = config.database;
  if (!db.url && !db.inMemory) {
    const socket = cliSocketPath(db);
    if (socket) {
      try {
        const code = await runOverSocket(socket, db.dataDir, argv, io);
        if (code !== null) return code;
      } catch (err) {
        if (!(err instanceof CliSocketError)) throw err;
        io.err(err.message);
        return 1;
      }
    }
    const holder = dataDirHolder(db.dataDir);
    if (holder !== null) {
      io.err(
        `The data folder ${db.dataDir} is held by process ${holder}` +
          (socket ? `, which does not answer on ${socket}` : '') +
          ' (a Roomkey still starting, or one without the CLI socket). Try again once it is ready, or stop it.',
      );
      return 1;
    }
  }
  return runInProcess(argv, config, io);
}

async function runInProcess(argv: string[], config: AppConfig, io: CliIo): Promise<number> {
  const [{ NestFactory }, { CliModule }, { executeCommand }] = await Promise.all([
    import('@nestjs/core'),
    import('./cli.module'),
    import('./run-command'),
  ]);
  let app: INestApplicationContext | undefined;
  const start = async (): Promise<INestApplicationContext> => {
    app ??= await NestFactory.createApplicationContext(CliModule.forRoot(config), {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    return app;
  };
  try {
    return await executeCommand(argv, { config, app: start }, io);
  } catch (err) {
    if (err instanceof DataDirLockedError) {
      io.err(err.message); // another process took the folder just now
      return 1;
    }
    throw err;
  } finally {
    await app?.close();
  }
}

if (require.main === module) {
  runCli(process.argv.slice(2), processEnv(), {
    out: (l) => process.stdout.write(`${l}\n`),
    err: (l) => process.stderr.write(`${l}\n`),
  }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
