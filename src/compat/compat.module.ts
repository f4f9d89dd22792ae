import { type MiddlewareConsumer, Module, type NestModule, RequestMethod } from '@nestjs/common';
import { ProvidersModule } from '../providers/providers.module';
import { SessionsModule } from '../sessions/sessions.module';
import { TenantsModule } from '../tenants/tenants.module';
import { AuthModule } from '../auth/auth.module';
import { AgoraLane } from './agora-lane';
import { AgoraCompatController } from './agora.controller';
import { CompatCorsMiddleware } from './compat-cors.middleware';
import { CompatOutcomes, CompatReplyInterceptor } from './compat-reply';
import { CompatTenantGuard } from './compat-tenant.guard';
import { FishjamCompatController } from './fishjam.controller';
import { LiveKitCompatController } from './livekit.controller';
import { OpenViduCompatController } from './openvidu.controller';
import { PexipCompatController } from './pexip.controller';
import { Red5AuthService } from './red5-auth.service';
import { Red5Lane } from './red5-lane';
import { WebhooksController } from './webhooks.controller';

/**
 * Vendor-compatible REST routes under /t/:tenantSlug/: each vendor sample's exact contract, backed
 * by the same session services as GraphQL. Also vendor webhooks. Red5 round-trip auth and the Agora RTC
 * route are served by lanes in front of Express (Red5Lane, AgoraLane; see app.factory).
 */
@Module({
  imports: [SessionsModule, ProvidersModule, TenantsModule, AuthModule],
  controllers: [
    OpenViduCompatController,
    LiveKitCompatController,
    PexipCompatController,
    AgoraCompatController,
    FishjamCompatController,
    WebhooksController,
  ],
  providers: [
    CompatReplyInterceptor,
    CompatOutcomes,
    CompatTenantGuard,
    CompatCorsMiddleware,
    Red5AuthService,
    Red5Lane,
    AgoraLane,
  ],
})
export class CompatModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CompatCorsMiddleware).forRoutes({ path: 't/*path', method: RequestMethod.ALL });
  }
}
