import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ApiKey } from '../api-keys/api-key.entity';
import { ApiKeysModule } from '../api-keys/api-keys.module';
import { MembersModule } from '../members/members.module';
import { TenantsModule } from '../tenants/tenants.module';
import { UsersModule } from '../users/users.module';
import { AuthenticationGuard } from './authentication.guard';
import { BasicAuthService } from './basic-auth.service';
import { MeResolver } from './me.resolver';
import { RolesGuard } from './roles.guard';
import { BasicStrategy } from './strategies/basic.strategy';

/** Authentication strategies and the two global guards (authentication, then roles). */
@Module({
  imports: [
    PassportModule.register({ session: false }),
    TypeOrmModule.forFeature([ApiKey]),
    ApiKeysModule,
    UsersModule,
    MembersModule,
    TenantsModule,
  ],
  providers: [
    BasicAuthService,
    BasicStrategy,
    MeResolver,
    { provide: APP_GUARD, useClass: AuthenticationGuard },
    { provide: APP_GUARD, useClass: RolesGuard },
  ],
  exports: [BasicAuthService],
})
export class AuthModule {}
