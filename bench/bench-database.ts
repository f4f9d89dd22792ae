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
  await createIfMissing(url);
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  } finally {
    await c.end();
  }
}

/** A fresh machine has no bench database yet: create it through the server's `postgres` database. */
export async function createIfMissing(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const c = new Client({ connectionString: admin.toString() });
  await c.connect();
  try {
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await c.end();
  }
}
