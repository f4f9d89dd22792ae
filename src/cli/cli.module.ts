import { type DynamicModule, Module } from '@nestjs/common';
import { FEATURE_MODULES } from '../app.module';
import { type AppConfig, ConfigModule } from '../common/config';
import { DatabaseModule } from '../database/database.module';
import { CacheModule } from '../common/cache/cache.module';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { KeysModule } from '../common/keys/keys.module';
import { CryptoModule } from '../common/crypto/crypto.module';
import { MetricsModule } from '../common/metrics/metrics.module';
import { RateLimitsModule } from '../rate-limits/rate-limits.module';

/** The domain modules on the configured database, without HTTP or GraphQL. */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        ConfigModule.forRoot(config),
        DatabaseModule.forRoot(config),
        // Publishes what its commands change; never serves from the caches (no listener).
        CacheModule.forRoot(config, { listen: false }),
        // The services count what they do; a command's counts are simply never scraped.
        MetricsModule,
        KeysModule,
        CryptoModule,
        AuditModule,
        RateLimitsModule, // AuthModule's guards and Basic auth depend on it
        ...FEATURE_MODULES,
        AuthModule,
      ],
    };
  }
}
