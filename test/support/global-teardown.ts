import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RUN_ID_ENV } from '../helpers/server-process';

/** Removes this run's "server already built" marker (test/helpers/server-process.ts). */
export default function globalTeardown(): void {
  const runId = process.env[RUN_ID_ENV];
  if (runId) fs.rmSync(path.join(os.tmpdir(), `roomkey-built-${runId}`), { force: true });
}
