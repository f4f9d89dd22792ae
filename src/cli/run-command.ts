import { DomainException } from '../common/errors';
import { VerificationFailed } from './audit-commands';
import { type CliEnv, type CliIo, UsageError } from './cli-types';
import { COMMANDS } from './commands';
import { USAGE } from './usage';

/**
 * Runs one command and maps its expected failures to exit codes (0 ok, 1 failed, 2 usage).
 * Shared by the CLI process and the server's local socket, so both answer alike. Anything
 * unexpected is thrown to the caller, which decides how much of it to show.
 */
export async function executeCommand(argv: string[], env: CliEnv, io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help') {
    io.out(USAGE);
    return name ? 0 : 2;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.err(`Unknown command "${name}".\n${USAGE}`);
    return 2;
  }
  try {
    await command(env, args, io);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof VerificationFailed) return 1;
    if (err instanceof DomainException) {
      io.err(`${err.code}: ${err.message}${err.field ? ` (${err.field})` : ''}`);
      return 1;
    }
    throw err;
  }
}
