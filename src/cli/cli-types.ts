import { type Writable } from 'node:stream';
import { type INestApplicationContext } from '@nestjs/common';
import { type AppConfig } from '../common/config/config.types';

export interface CliIo {
  out: (line: string) => void;
  err: (line: string) => void;
  /** Raw output (an audit export without --out); process.stdout when not given. */
  stdout?: Writable;
}

/** What a command gets: its arguments, output, configuration and a lazily started app context. */
export interface CliEnv {
  config: AppConfig;
  app: () => Promise<INestApplicationContext>;
  /** Where relative file options (--file, --out) are resolved: the caller's folder. */
  cwd?: string;
}

/** Bad command-line usage: exit code 2 with the usage text. */
export class UsageError extends Error {}
