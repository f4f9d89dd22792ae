import { type DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type AppConfig } from '../common/config';
import { isDatabaseUnavailable } from '../common/errors/database-unavailable';
import { lockDataDir } from './data-dir.lock';
import { dataSourceOptions } from './data-source.options';
import { runMigrationsLocked } from './migrate';
import { DatabasePoolMetrics } from './pool-metrics';

/** Opens the database and brings its schema up to date before anything else can use it. */
export async function openDatabase(
  config: AppConfig,
  options?: DataSourceOptions,
): Promise<DataSource> {
  const logger = new Logger('Database');
  const embedded = !config.database.url;
  const unlock =
    embedded && !config.database.inMemory ? lockDataDir(config.database.dataDir) : () => undefined;
  try {
    const ds = await new DataSource(options ?? dataSourceOptions(config.database)).initialize();
    // Closing the data source releases the folder, whoever closes it (Nest, a script, a test).
    const destroy = ds.destroy.bind(ds);
    ds.destroy = async () => {
      try {
        await destroy();
      } finally {
        unlock();
      }
    };
    const ran = await runMigrationsLocked(ds, embedded, config.database.maintenanceTimeoutMs);
    if (ran.length > 0)
      logger.log(`Applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}`);
    return ds;
  } catch (err) {
    unlock();
    throw err;
  }
}

/** The application's one data source: embedded PGlite by default, PostgreSQL with DATABASE_URL. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            ...dataSourceOptions(config.database),
            // Only a database that is unreachable or still starting may get better by waiting. A
            // refusal (wrong password, no such database, locked data folder, failed migration)
            // will not: the start fails at once and main.ts reports it in one line.
            retryAttempts: 5,
            retryDelay: 2000,
            verboseRetryLog: true,
            toRetry: (err: unknown) => isDatabaseUnavailable(err),
          }),
          dataSourceFactory: (options) => openDatabase(config, options),
        }),
      ],
      // The pool's wait and counts on /metrics (MetricsModule is global).
      providers: [DatabasePoolMetrics],
    };
  }
}
