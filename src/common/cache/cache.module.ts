import { type DynamicModule, Global, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { type DataSource } from 'typeorm';
import { type AppConfig } from '../config';
import { Caches } from './caches';
import { InvalidationBus, LocalInvalidationBus, PgInvalidationBus } from './invalidation-bus';

export interface CacheModuleOptions {
  /** False: publish invalidations but never listen or serve from the caches (the CLI). */
  listen?: boolean;
}

/**
 * The hot path's caches and their invalidation bus: PostgreSQL LISTEN/NOTIFY when DATABASE_URL
 * names a server (several instances), in-process delivery on the embedded database (one).
 */
@Global()
@Module({})
export class CacheModule {
  static forRoot(config: AppConfig, options: CacheModuleOptions = {}): DynamicModule {
    const listen = options.listen ?? true;
    return {
      module: CacheModule,
      providers: [
        {
          provide: InvalidationBus,
          inject: [getDataSourceToken()],
          useFactory: (ds: DataSource): InvalidationBus =>
            config.database.url
              ? new PgInvalidationBus(ds, {
                  url: config.database.url,
                  connectTimeoutMs: config.database.connectTimeoutMs,
                  heartbeatMs: config.cache.busHeartbeatMs,
                  listen,
                })
              : new LocalInvalidationBus(ds, listen),
        },
        Caches,
      ],
      exports: [InvalidationBus, Caches],
    };
  }
}
