import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProvidersModule } from '../providers/providers.module';
import { JoinLink } from './join-link.entity';
import { JoinLinksResolver } from './join-links.resolver';
import { JoinLinksService } from './join-links.service';

@Module({
  imports: [TypeOrmModule.forFeature([JoinLink]), ProvidersModule],
  providers: [JoinLinksService, JoinLinksResolver],
  exports: [JoinLinksService],
})
export class JoinLinksModule {}
