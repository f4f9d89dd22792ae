import * as path from 'node:path';
import { type DataSourceOptions } from 'typeorm';
import { type DatabaseSection } from '../common/config';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './naming.strategy';
import { openPGlite, pgliteDriver } from './pglite-pool';

/** Migrations live at the repository root; this path works from `src/` (ts) and `dist/src/` (js). */
export const MIGRATIONS_GLOB = path.join(__dirname, '..', '..', 'migrations', '*.{js,ts}');

/**
 * TypeORM options for either database: PostgreSQL when a URL is configured, otherwise the embedded
 * PGlite (persisted in the data folder, or in memory for tests). `synchronize` is always off.
 */
export function dataSourceOptions(db: DatabaseSection): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTableName: 'migrations',
    synchronize: false,
    migrationsRun: false,
    namingStrategy: new SnakeNamingStrategy(),
    logging: false,
    // gen_random_uuid() is built into PostgreSQL 13+ and PGlite: no extension to install.
    uuidExtension: 'pgcrypto' as const,
    installExtensions: false,
  };
  if (db.url) {
    return { ...common, url: db.url, extra: { max: db.poolSize, application_name: 'roomkey' } };
  }
  const dataDir = db.inMemory ? undefined : path.join(db.dataDir, 'pgdata');
  // Opened lazily, on the first connection: only after openDatabase() holds the folder lock.
  return { ...common, driver: pgliteDriver(() => openPGlite(dataDir)) };
}
