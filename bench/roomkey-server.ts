/**
 * Roomkey for `npm run bench`, in its own process (the parent pins it to one core): the demo setup
 * of scripts/demo.ts — the compiled app on the embedded database in memory, or on the PostgreSQL
 * database in BENCH_DATABASE_URL, a `demo` tenant with a credential for every vendor and an admin
 * API key. ROOMKEY_RATE_LIMIT_* from the environment are passed to the app's configuration.
 *
 * Reports `{url, apiKey}` to its parent over IPC, answers `'rss'` and `'cpu'` with its memory and CPU time, and
 * stops when the parent disconnects or on SIGTERM.
 */
import { runDemo } from '../scripts/demo';
import { answerUsage } from './bench-processes';

async function main(): Promise<void> {
  if (!process.send) throw new Error('start roomkey-server from npm run bench (it needs IPC)');
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      (e): e is [string, string] => e[0].startsWith('ROOMKEY_RATE_LIMIT_') && e[1] !== undefined,
    ),
  );
  const demo = await runDemo({
    quiet: true,
    databaseUrl: process.env.BENCH_DATABASE_URL || undefined,
    env,
  });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void demo.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('disconnect', stop);
  answerUsage();
  process.send({ url: demo.url, apiKey: demo.apiKey });
}

main().catch((err: unknown) => {
  process.stderr.write(
    `roomkey-server failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
