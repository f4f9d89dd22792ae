import * as path from 'node:path';
import { type DataSourceOptions } from 'typeorm';
import { type DatabaseSection } from '../common/config';
import { ENTITIES } from './entities';
import { SnakeNamingStrategy } from './naming.strategy';
import { READ_TIMEOUT_MARGIN_MS, RoomkeyPgClient } from './pg-client';
import { inMemoryDatabaseSource, openPGlite, pgliteDriver } from './pglite-pool';

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
    return { ...common, url: db.url, extra: pgPoolOptions(db) };
  }
  const source = db.inMemory ? inMemoryDatabaseSource() : undefined;
  if (source) {
    return {
      ...common,
      driver: pgliteDriver(() => source.open(), {
        acquireTimeoutMs: db.acquireTimeoutMs,
        dispose: (pg) => source.dispose(pg),
      }),
    };
  }
  const dataDir = db.inMemory ? undefined : path.join(db.dataDir, 'pgdata');
  // Opened lazily, on the first connection: only after openDatabase() holds the folder lock.
  return {
    ...common,
    driver: pgliteDriver(() => openPGlite(dataDir, { buffersMb: db.embeddedBuffersMb }), {
      acquireTimeoutMs: db.acquireTimeoutMs,
    }),
  };
}

/**
 * pg-pool and pg.Client options: every wait on the database is bounded, so an outage or a network
 * partition answers SERVICE_UNAVAILABLE within seconds instead of hanging the request.
 */
export function pgPoolOptions(db: DatabaseSection): Record<string, unknown> {
  return {
    max: db.poolSize,
    application_name: 'roomkey',
    Client: RoomkeyPgClient,
    // pg-pool: the wait for a free connection, and for opening a new one.
    connectionTimeoutMillis: db.acquireTimeoutMs,
    // pg.Client (RoomkeyPgClient): the TCP connect and startup of one connection.
    clientConnectTimeoutMillis: db.connectTimeoutMs,
    // Server side: a slow statement is cancelled (57014) and the connection stays usable.
    statement_timeout: db.statementTimeoutMs,
    idle_in_transaction_session_timeout: db.idleInTransactionTimeoutMs,
    // Client side: a silent server (partition) is given up on a little later.
    query_timeout: db.statementTimeoutMs + READ_TIMEOUT_MARGIN_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  };
}
