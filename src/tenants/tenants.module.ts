import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { UsersModule } from '../users/users.module';
import { TenantDirectory } from './tenant-directory';
import { Tenant } from './tenant.entity';
import { TenantsResolver } from './tenants.resolver';
import { TenantsService } from './tenants.service';

@Module({
  imports: [TypeOrmModule.forFeature([Tenant]), UsersModule],
  providers: [TenantsService, TenantsResolver, TenantDirectory],
  exports: [TenantsService, TenantDirectory],
})
export class TenantsModule {}
