import {
  type DynamicModule,
  Global,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type AppConfig } from '../common/config';
import { lockDataDir } from './data-dir.lock';
import { dataSourceOptions } from './data-source.options';
import { runMigrationsLocked } from './migrate';

const unlocks = new WeakMap<DataSource, () => void>();

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
    unlocks.set(ds, unlock);
    const ran = await runMigrationsLocked(ds, embedded);
    if (ran.length > 0)
      logger.log(`Applied ${ran.length} migration(s): ${ran.map((m) => m.name).join(', ')}`);
    return ds;
  } catch (err) {
    unlock();
    throw err;
  }
}

@Injectable()
class DatabaseLifecycle implements OnApplicationShutdown {
  constructor(private readonly ds: DataSource) {}
  onApplicationShutdown(): void {
    // TypeOrmModule destroys the data source; the folder lock goes with it.
    unlocks.get(this.ds)?.();
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
          useFactory: () => dataSourceOptions(config.database),
          dataSourceFactory: (options) => openDatabase(config, options),
        }),
      ],
      providers: [DatabaseLifecycle],
    };
  }
}
