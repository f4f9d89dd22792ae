import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { loadConfig } from '../../src/common/config';
import { openDatabase } from '../../src/database/database.module';
import { dataSourceOptions } from '../../src/database/data-source.options';
import { openPGlite, pgliteDriver } from '../../src/database/pglite-pool';
import {
  MIGRATED_FOLDER_ENV,
  MIGRATED_SNAPSHOT_ENV,
  MIGRATED_TEMPLATE_ENV,
  SMALL_EMBEDDED_BUFFERS,
} from '../helpers/database';
import { RUN_ID_ENV } from '../helpers/server-process';

/**
 * Migrates once per suite run instead of once per app: an in-memory PGlite snapshot (a
 * `dumpDataDir` archive), a migrated PGlite data folder to copy, and, with DATABASE_URL, a
 * PostgreSQL template database. All are named by a hash of the migrations, the PGlite version and
 * this file, so a changed migration or recipe builds new ones and an unchanged tree reuses them.
 * Workers find them (and this run's id, test/helpers/server-process.ts) through environment
 * variables set here, before the workers start. `migrations.e2e-spec.ts` still migrates empty
 * databases itself.
 */
export default async function globalSetup(): Promise<void> {
  Logger.overrideLogger(['error']); // "Applied N migration(s)" is the apps' news, not the suite's
  const root = path.join(__dirname, '..', '..');
  const key = schemaKey(root);
  process.env[RUN_ID_ENV] = `${process.pid}-${Date.now()}`;
  // Inherited by the server and CLI processes specs spawn (unless the shell set its own).
  for (const [name, value] of Object.entries(SMALL_EMBEDDED_BUFFERS)) process.env[name] ??= value;
  const cache = path.join(root, 'node_modules', '.cache', 'roomkey-test');
  fs.mkdirSync(cache, { recursive: true });
  const snapshot = await pgliteSnapshot(cache, key);
  process.env[MIGRATED_SNAPSHOT_ENV] = snapshot;
  process.env[MIGRATED_FOLDER_ENV] = await pgliteFolder(cache, key, snapshot);
  if (process.env.DATABASE_URL) {
    process.env[MIGRATED_TEMPLATE_ENV] = await templateDatabase(process.env.DATABASE_URL, key);
  }
}

function schemaKey(root: string): string {
  const hash = createHash('sha256');
  const dir = path.join(root, 'migrations');
  for (const name of fs.readdirSync(dir).sort()) {
    hash
      .update(name)
      .update('\0')
      .update(fs.readFileSync(path.join(dir, name)))
      .update('\0');
  }
  const pglite = path.join(root, 'node_modules', '@electric-sql', 'pglite', 'package.json');
  hash.update((JSON.parse(fs.readFileSync(pglite, 'utf8')) as { version: string }).version);
  hash.update(fs.readFileSync(path.join(root, 'test', 'support', 'global-setup.ts'))); // the recipe
  return hash.digest('hex').slice(0, 16);
}

function testConfig(env: Record<string, string>) {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env });
}

/** Keeps only this key's entries of a kind in the cache folder. */
function dropStale(dir: string, prefix: string, keep: string): void {
  for (const old of fs.readdirSync(dir)) {
    if (old.startsWith(prefix) && old !== keep)
      fs.rmSync(path.join(dir, old), { recursive: true, force: true });
  }
}

async function pgliteSnapshot(dir: string, key: string): Promise<string> {
  const file = path.join(dir, `pglite-${key}.tar`);
  if (fs.existsSync(file)) return file;
  const config = testConfig({ ROOMKEY_DATA_DIR: 'memory://' });
  // Every test app unpacks this archive, so it is kept small: 1 MB WAL segments instead of 16, and
  // without the template databases (Roomkey lives in `postgres` and never creates a database):
  // 15 MB instead of 41, which halves the time to open it.
  const pg = await openPGlite(undefined, { initDbStartParams: ['--wal-segsize=1'] });
  const ds = await openDatabase(config, {
    ...dataSourceOptions(config.database),
    driver: pgliteDriver(() => Promise.resolve(pg)),
  });
  await pg.exec(
    "UPDATE pg_database SET datistemplate = false WHERE datname IN ('template0', 'template1')",
  );
  await pg.exec('DROP DATABASE template0');
  await pg.exec('DROP DATABASE template1');
  await pg.exec('CHECKPOINT');
  const archive = await pg.dumpDataDir('none');
  await ds.destroy();
  // Written aside and renamed: a reader never sees half an archive.
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, Buffer.from(await archive.arrayBuffer()));
  fs.renameSync(partial, file);
  dropStale(dir, 'pglite-', path.basename(file));
  return file;
}

/** A migrated on-disk PGlite folder, copied by durableDatabase() for apps that reopen a folder. */
async function pgliteFolder(dir: string, key: string, snapshot: string): Promise<string> {
  const folder = path.join(dir, `pgdata-${key}`);
  if (fs.existsSync(folder)) return folder;
  const partial = `${folder}.${process.pid}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  const pg = await PGlite.create({
    dataDir: partial,
    loadDataDir: new Blob([fs.readFileSync(snapshot)]),
  });
  await pg.close();
  fs.renameSync(partial, folder);
  dropStale(dir, 'pgdata-', path.basename(folder));
  return folder;
}

async function templateDatabase(baseUrl: string, key: string): Promise<string> {
  const name = `rk_template_${key}`;
  const admin = new Client({ connectionString: baseUrl });
  await admin.connect();
  try {
    const found = await admin.query<{ datname: string }>(
      "SELECT datname FROM pg_database WHERE datname LIKE 'rk\\_template\\_%'",
    );
    const names = found.rows.map((r) => r.datname);
    for (const old of names.filter((n) => n !== name)) {
      await admin.query(`DROP DATABASE IF EXISTS "${old}" WITH (FORCE)`);
    }
    if (names.includes(name)) return name;
    // Built under a scratch name and renamed: a half-migrated template is never used.
    const building = `rk_building_${key}_${process.pid}`;
    await admin.query(`CREATE DATABASE "${building}"`);
    const url = new URL(baseUrl);
    url.pathname = `/${building}`;
    const ds = await openDatabase(testConfig({ DATABASE_URL: url.toString() }));
    await ds.destroy();
    await admin.query(`ALTER DATABASE "${building}" RENAME TO "${name}"`);
    return name;
  } finally {
    await admin.end();
  }
}
