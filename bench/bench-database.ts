import { Client } from 'pg';

/**
 * Benches create their own tenants (the demo its first-start one), so a bench database must start
 * empty — which is why this refuses any database whose name does not say it is a bench database.
 */
export async function emptyDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  if (!/bench/i.test(name)) {
    throw new Error(
      `BENCH_DATABASE_URL names "${name}": the bench empties it, so its name must contain "bench"`,
    );
  }
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  } finally {
    await c.end();
  }
}
