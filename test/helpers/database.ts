import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { provideInMemoryDatabases, seedInMemoryDatabases } from '../../src/database/pglite-pool';
import { RECYCLED_DATABASES, RecycledDatabases } from './recycled-databases';

/** Set by test/support/global-setup.ts: the migrated in-memory PGlite archive (a file path). */
export const MIGRATED_SNAPSHOT_ENV = 'ROOMKEY_TEST_PGLITE_SNAPSHOT';
/** Set by test/support/global-setup.ts with DATABASE_URL: the migrated template database's name. */
export const MIGRATED_TEMPLATE_ENV = 'ROOMKEY_TEST_PG_TEMPLATE';

/** Set by test/support/global-setup.ts: a migrated on-disk PGlite folder to copy. */
export const MIGRATED_FOLDER_ENV = 'ROOMKEY_TEST_PGDATA_TEMPLATE';

/**
 * The buffer pool of the suite's data folders, as small as an in-memory database's: each open
 * costs about 0.3 s of CPU instead of 1.0 with PostgreSQL's 128 MB, and a run opens data folders
 * about 44 times. Test apps, durable databases and (through global-setup) every spawned server
 * and CLI process get it; specs that build their own configuration (migrations.e2e-spec.ts) keep
 * the default.
 */
export const SMALL_EMBEDDED_BUFFERS = { ROOMKEY_DB_EMBEDDED_BUFFERS_MB: '16' } as const;

let snapshot: Blob | undefined;
let recycled: RecycledDatabases | undefined;

/**
 * Makes in-memory databases opened from now on in this test file start as a copy of the suite's
 * migrated PGlite archive (read once per file), reused from app to app (test/helpers/
 * recycled-databases.ts); without `npm test`'s global setup they start empty and are not reused.
 */
export function seedMigratedInMemoryDatabases(): void {
  const file = process.env[MIGRATED_SNAPSHOT_ENV];
  if (!snapshot && file) snapshot = new Blob([fs.readFileSync(file)]);
  seedInMemoryDatabases(snapshot);
  if (snapshot && !recycled) {
    recycled = new RecycledDatabases();
    // test/support/after-env.ts closes what is left at the end of the file.
    (globalThis as Record<symbol, unknown>)[RECYCLED_DATABASES] = recycled;
  }
  provideInMemoryDatabases(snapshot ? recycled : undefined);
}

/**
 * With DATABASE_URL set, every test app gets its own throw-away database on that server, so test
 * files can run in parallel and never see each other's rows. Without it, tests use in-memory PGlite.
 * The database is a copy of the suite's migrated template (the app finds nothing to migrate), or
 * empty when `empty` is asked for or no template was built.
 */
export async function createScratchDatabase(
  baseUrl: string,
  { empty = false }: { empty?: boolean } = {},
): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `rk_test_${randomBytes(6).toString('hex')}`;
  const template = empty ? undefined : process.env[MIGRATED_TEMPLATE_ENV];
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"${template ? ` TEMPLATE "${template}"` : ''}`);
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
  const dir = migratedDataFolder(name);
  return {
    env: { ROOMKEY_DATA_DIR: dir, ...SMALL_EMBEDDED_BUFFERS },
    drop: () => Promise.resolve(fs.rmSync(dir, { recursive: true, force: true })),
  };
}

/**
 * A new embedded data folder whose database starts migrated, as a copy of the suite's migrated
 * folder (test/support/global-setup.ts): for servers whose first start is not what is tested.
 */
export function migratedDataFolder(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `roomkey-${name}-`));
  const template = process.env[MIGRATED_FOLDER_ENV];
  if (template) fs.cpSync(template, path.join(dir, 'pgdata'), { recursive: true });
  return dir;
}
