import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditCheckpoint, AuditChainHead, AuditEvent } from './audit-event.entity';
import { AuditExportController } from './audit-export.controller';
import { AuditFailureInterceptor } from './audit.interceptor';
import { AuditQueryService } from './audit-query.service';
import { AuditResolver } from './audit.resolver';
import { AuditService } from './audit.service';

/** Global: every module records through AuditService. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditChainHead, AuditCheckpoint])],
  controllers: [AuditExportController],
  providers: [
    AuditService,
    AuditQueryService,
    AuditResolver,
    { provide: APP_INTERCEPTOR, useClass: AuditFailureInterceptor },
  ],
  exports: [AuditService],
})
export class AuditModule {}
