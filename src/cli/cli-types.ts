import { type INestApplicationContext } from '@nestjs/common';
import { type AppConfig } from '../common/config';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** What a command gets: its arguments, output, configuration and a lazily started app context. */
export interface CliEnv {
  config: AppConfig;
  app: () => Promise<INestApplicationContext>;
}

/** Bad command-line usage: exit code 2 with the usage text. */
export class UsageError extends Error {}
