import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditCheckpoint, AuditChainHead, AuditEvent } from './audit-event.entity';
import { AuditExportController } from './audit-export.controller';
import { AuditQueryService } from './audit-query.service';
import { AuditResolver } from './audit.resolver';
import { AuditService } from './audit.service';

/** Global: every module records through AuditService. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent, AuditChainHead, AuditCheckpoint])],
  controllers: [AuditExportController],
  providers: [AuditService, AuditQueryService, AuditResolver],
  exports: [AuditService],
})
export class AuditModule {}
