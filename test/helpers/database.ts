import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';

/**
 * With DATABASE_URL set, every test app gets its own throw-away database on that server, so test
 * files can run in parallel and never see each other's rows. Without it, tests use in-memory PGlite.
 */
export async function createScratchDatabase(
  baseUrl: string,
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `rk_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const c = new Client({ connectionString: baseUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * A database that several apps, CLI runs or server processes open in turn (the in-memory default
 * lives and dies with one app): a scratch database on DATABASE_URL's server, else an embedded data
 * folder. `env` names it; `drop` removes it.
 */
export async function durableDatabase(
  name: string,
): Promise<{ env: Record<string, string>; drop: () => Promise<void> }> {
  if (process.env.DATABASE_URL) {
    const db = await createScratchDatabase(process.env.DATABASE_URL);
    return { env: { DATABASE_URL: db.url }, drop: db.drop };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `roomkey-${name}-`));
  return {
    env: { ROOMKEY_DATA_DIR: dir },
    drop: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })),
  };
}
