import 'reflect-metadata';
import { type INestApplicationContext } from '@nestjs/common';
import { type AppConfig } from '../common/config';
import { ConfigError, loadConfig, processEnv, type RawEnv } from '../common/config/load-config';
import { DomainException } from '../common/errors/domain.exception';
import { type CliIo, UsageError } from './cli-types';

/** Runs one CLI command; returns the exit code (0 ok, 1 failed, 2 usage, 78 configuration). */
export async function runCli(argv: string[], env: RawEnv, io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  const help = !name || name === 'help' || name === '--help';
  // The environment is checked before the commands and the application graph load (seconds).
  let config: AppConfig | undefined;
  try {
    if (!help) config = loadConfig({ LOG_LEVEL: 'warn', ...env });
  } catch (err) {
    if (err instanceof ConfigError) {
      io.err(err.message);
      return 78;
    }
    throw err;
  }
  const { COMMANDS, USAGE } = await import('./commands');
  if (!config) {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`Unknown command "${name}".\n${USAGE}`);
    return 2;
  }
  const cfg = config;
  let app: INestApplicationContext | undefined;
  const start = async (): Promise<INestApplicationContext> => {
    const { NestFactory } = await import('@nestjs/core');
    const { CliModule } = await import('./cli.module');
    app ??= await NestFactory.createApplicationContext(CliModule.forRoot(cfg), {
      logger: ['error', 'warn'],
      abortOnError: false,
    });
    return app;
  };
  try {
    await command({ config: cfg, app: start }, args, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof (await import('./audit-commands')).VerificationFailed) return 1;
    if (err instanceof DomainException) {
      io.err(`${err.code}: ${err.message}${err.field ? ` (${err.field})` : ''}`);
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
