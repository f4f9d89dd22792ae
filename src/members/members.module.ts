import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { Membership } from './membership.entity';
import { MembersResolver } from './members.resolver';
import { MembersService } from './members.service';

@Module({
  imports: [TypeOrmModule.forFeature([Membership]), UsersModule],
  providers: [MembersService, MembersResolver],
  exports: [MembersService],
})
export class MembersModule {}
