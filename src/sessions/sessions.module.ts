import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProvidersModule } from '../providers/providers.module';
import { TenantsModule } from '../tenants/tenants.module';
import { SessionConnection } from './connection.entity';
import { ConnectionsResolver } from './connections.resolver';
import { ConnectionsService } from './connections.service';
import { JoinRoom } from './join-room';
import { SessionCache } from './session-cache';
import { SessionCreator } from './session-creator';
import { SessionsResolver } from './sessions.resolver';
import { SessionsService } from './sessions.service';
import { VideoSession } from './video-session.entity';
import { WebhookReceipt } from './webhook-receipt.entity';
import { WebhooksService } from './webhooks.service';

/** Sessions and join credentials: one service layer behind GraphQL and every compatibility route. */
@Module({
  imports: [
    TypeOrmModule.forFeature([VideoSession, SessionConnection, WebhookReceipt]),
    ProvidersModule,
    TenantsModule,
  ],
  providers: [
    SessionCache,
    SessionCreator,
    SessionsService,
    ConnectionsService,
    JoinRoom,
    WebhooksService,
    SessionsResolver,
    ConnectionsResolver,
  ],
  exports: [SessionsService, ConnectionsService, JoinRoom, WebhooksService],
})
export class SessionsModule {}
