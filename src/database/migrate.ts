import { type DataSource, type Migration, MigrationExecutor } from 'typeorm';
import { withStatementTimeout } from './pg-client';

/** Arbitrary constant key for the migration advisory lock ("roomkey" in ASCII, truncated). */
export const MIGRATION_LOCK_KEY = 0x726f6f6d;

/**
 * Runs pending migrations while holding a session advisory lock, so two instances starting at once
 * against one PostgreSQL do not race: the second waits, then finds nothing left to do.
 */
export async function runMigrationsLocked(
  ds: DataSource,
  embedded: boolean,
  /** Statement timeout while migrating (0 = none): the lock wait and a migration may be long. */
  timeoutMs = 0,
): Promise<Migration[]> {
  // PGlite is a single session owned by this process (the data-folder lock keeps others out), and
  // a lease held for the lock would block the migrations themselves.
  if (embedded) return ds.runMigrations({ transaction: 'each' });
  // The migrations run on the very connection that holds the lock: a pool of one cannot deadlock.
  const runner = ds.createQueryRunner();
  await runner.connect();
  try {
    return await withStatementTimeout(runner, timeoutMs, async () => {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
      try {
        const executor = new MigrationExecutor(ds, runner);
        executor.transaction = 'each';
        return await executor.executePendingMigrations();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
      }
    });
  } finally {
    await runner.release();
  }
}
