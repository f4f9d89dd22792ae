import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  type DynamicModule,
  Inject,
  Logger,
  type MiddlewareConsumer,
  Module,
  type NestModule,
  RequestMethod,
} from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { GraphQLModule } from '@nestjs/graphql';
import { type DestinationStream } from 'pino';
import { ApiKeysModule } from './api-keys/api-keys.module';
import { JoinLinksModule } from './join-links/join-links.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { CacheModule } from './common/cache/cache.module';
import { KeysModule } from './common/keys/keys.module';
import { CryptoModule } from './common/crypto/crypto.module';
import { FirstStartModule } from './bootstrap/first-start.module';
import { type BannerOut } from './bootstrap/first-start.service';
import { APP_CONFIG, type AppConfig, ConfigModule } from './common/config';
import { HttpExceptionFilter, describeDatabaseError } from './common/errors';
import { DomainValidationPipe } from './common/errors/validation.pipe';
import { formatGraphQLError } from './common/graphql/format-error';
import { GraphqlIdeAssetsController, GraphqlIdeMiddleware } from './common/graphql/graphql-ide';
import { graphqlLimits } from './common/graphql/limits';
import { LoggingModule } from './common/logging/logging.module';
import { graphqlMetricsPlugin } from './common/metrics/graphql-metrics.plugin';
import { MetricsMiddleware } from './common/metrics/metrics.middleware';
import { MetricsModule } from './common/metrics/metrics.module';
import { MetricsService } from './common/metrics/metrics.service';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { MembersModule } from './members/members.module';
import { CompatModule } from './compat/compat.module';
import { compatRefusal } from './compat/compat-refusals';
import { ProvidersModule } from './providers/providers.module';
import { RateLimitsModule } from './rate-limits/rate-limits.module';
import { SessionsModule } from './sessions/sessions.module';
import { TenantsModule } from './tenants/tenants.module';
import { UsersModule } from './users/users.module';

export interface AppModuleOptions {
  /** Where JSON logs go (stdout by default). */
  logDestination?: DestinationStream;
  /** Where the first-start sign-in banner goes (stdout by default). */
  bannerOut?: BannerOut;
}

/** Feature modules: the domain, without infrastructure. Shared with the CLI. */
export const FEATURE_MODULES = [
  UsersModule,
  TenantsModule,
  MembersModule,
  ApiKeysModule,
  JoinLinksModule,
  ProvidersModule,
  SessionsModule,
];

@Module({})
export class AppModule implements NestModule {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  static forRoot(config: AppConfig, options: AppModuleOptions = {}): DynamicModule {
    const development = config.app.env === 'development';
    const errorLogger = new Logger('GraphQL');
    const limits = graphqlLimits(config.graphql);
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggingModule.forRoot(config, options.logDestination),
        DatabaseModule.forRoot(config),
        CacheModule.forRoot(config),
        MetricsModule,
        HealthModule,
        KeysModule,
        CryptoModule,
        AuditModule,
        RateLimitsModule,
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [MetricsService],
          useFactory: (metrics: MetricsService) => ({
            path: '/graphql',
            autoSchemaFile: true,
            sortSchema: true,
            playground: false,
            introspection: config.app.introspection,
            csrfPrevention: true,
            allowBatchedHttpRequests: false,
            // Depth, alias, directive, cost and token limits: refused before anything executes.
            parseOptions: limits.parseOptions,
            validationRules: limits.validationRules,
            includeStacktraceInErrorResponses: false,
            autoTransformHttpErrors: false,
            preserveHttpStatusForExecutionErrors: false,
            context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }),
            formatError: (formatted, error) =>
              formatGraphQLError(formatted, error, {
                development,
                hideSuggestions: !config.app.introspection,
                onInternalError: (err) => errorLogger.error({ err }, 'unhandled GraphQL error'),
                onDatabaseUnavailable: (err) =>
                  errorLogger.warn(
                    { db: describeDatabaseError(err) },
                    'database unavailable: answered SERVICE_UNAVAILABLE',
                  ),
              }),
            plugins: [graphqlMetricsPlugin(metrics)],
          }),
        }),
        ...FEATURE_MODULES,
        AuthModule,
        CompatModule,
        FirstStartModule.forRoot(options.bannerOut),
      ],
      controllers: config.app.graphqlIde ? [GraphqlIdeAssetsController] : [],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new DomainValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
            forbidUnknownValues: true,
            stopAtFirstError: false,
          }),
        },
        { provide: APP_FILTER, useValue: new HttpExceptionFilter(development, compatRefusal) },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(MetricsMiddleware).forRoutes({ path: '*path', method: RequestMethod.ALL });
    if (this.config.app.graphqlIde) {
      consumer
        .apply(GraphqlIdeMiddleware)
        .forRoutes({ path: 'graphql', method: RequestMethod.GET });
    }
  }
}
